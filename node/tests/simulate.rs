//! `maillage simulate` hands the scenario to the simulator program installed next to it, or
//! says precisely how to build it.
#![allow(clippy::unwrap_used)]

use std::path::Path;

mod common;

use common::maillage;

#[test]
fn simulate_runs_the_simulator_next_to_the_node_or_says_how_to_build_it() {
    let work = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../simulations/scenarios/partition-5.toml")
        .canonicalize()
        .unwrap();
    let simulator = Path::new(env!("CARGO_BIN_EXE_maillage"))
        .with_file_name(format!("maillage-simulate{}", std::env::consts::EXE_SUFFIX));
    let out = maillage(
        work.path(),
        &["simulate", scenario.to_str().unwrap(), "--seed", "7"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if simulator.is_file() {
        // `cargo test --workspace` builds the simulator beside the node.
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(stdout.contains("seed 7: "), "{stdout}");
        assert!(stdout.contains("converged"), "{stdout}");
        // Its exit code comes back: a missing scenario is an error.
        let missing = maillage(work.path(), &["simulate", "nowhere.toml", "--seed", "1"]);
        assert!(!missing.status.success());
    } else {
        assert!(!out.status.success());
        assert!(
            stderr.contains("cargo build --release -p maillage-simulations"),
            "{stderr}"
        );
    }
}

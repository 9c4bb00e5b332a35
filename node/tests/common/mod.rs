//! Helpers shared by the CLI tests: run the real `maillage` binary in a directory.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `maillage args` in `dir` (no inherited data dir or language: French, quiet logs).
pub fn maillage(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maillage"))
        .current_dir(dir)
        .env_remove("MAILLAGE_DATA_DIR")
        .env_remove("MAILLAGE_LANG")
        .env("RUST_LOG", "warn")
        .args(args)
        .output()
        .unwrap()
}

/// Runs `maillage args` in `dir`, asserts success and returns stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = maillage(dir, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "maillage {args:?} failed: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `node` runs `args` on its data dir (sent to its daemon when one serves it); asserts success.
pub fn on(dir: &Path, node: &str, args: &[&str]) -> String {
    let mut all = vec!["--data-dir", node];
    all.extend_from_slice(args);
    ok(dir, &all)
}

/// `from` exports its log to a portable file, `to` imports it; returns the import's report.
pub fn exchange(dir: &Path, from: &str, to: &str) -> String {
    let file = format!("{from}.mlog");
    on(dir, from, &["log", "export", &file]);
    on(dir, to, &["log", "import", &file])
}

/// Parses a command's JSON output.
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A real venue export of `tests/data/venues/`.
pub fn venues_file(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/venues")
        .join(name)
}

/// A SIRET (SIREN + NIC) passing the Luhn checksum: the last digit is computed.
pub fn luhn_siret(first13: &str) -> String {
    (0..10)
        .map(|last| format!("{first13}{last}"))
        .find(|candidate| {
            let sum: u32 = candidate
                .bytes()
                .rev()
                .enumerate()
                .map(|(i, b)| {
                    let d = u32::from(b - b'0');
                    if i % 2 == 1 {
                        let d2 = d * 2;
                        if d2 > 9 { d2 - 9 } else { d2 }
                    } else {
                        d
                    }
                })
                .sum();
            sum.is_multiple_of(10)
        })
        .unwrap()
}

/// `federation create` from `members.toml` in `dir` into `charter.pb`; returns its output.
pub fn create_charter(dir: &Path, members: &str) -> String {
    std::fs::write(dir.join("members.toml"), members).unwrap();
    ok(
        dir,
        &[
            "federation",
            "create",
            "members.toml",
            "--out",
            "charter.pb",
        ],
    )
}

/// `node` issues `batch`: `count` vouchers funded by the CAF des Bouches-du-Rhône, valid in
/// 2026, redeemable until the end of January 2027.
pub fn issue_caf_batch(dir: &Path, node: &str, batch: &str, count: &str) -> String {
    issue_batch(dir, node, batch, "CAF des Bouches-du-Rhône", count)
}

/// The command line by which `node` issues `batch`: `count` vouchers funded by `funder`, valid
/// in 2026, redeemable until the end of January 2027.
pub fn issue_batch_args(node: &str, batch: &str, funder: &str, count: &str) -> Vec<String> {
    [
        "--data-dir",
        node,
        "voucher",
        "issue",
        "--batch",
        batch,
        "--funder",
        funder,
        "--funder-siret",
        "53418890200012",
        "--count",
        count,
        "--valid-from",
        "2026-01-01",
        "--valid-until",
        "2026-12-31",
        "--redeem-deadline",
        "2027-01-31",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// `node` issues `batch` (see [`issue_batch_args`]); asserts success.
pub fn issue_batch(dir: &Path, node: &str, batch: &str, funder: &str, count: &str) -> String {
    let args = issue_batch_args(node, batch, funder, count);
    ok(dir, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// `node` hands `carnet` (`BATCH:FIRST-LAST`) to `person` at the CAF desk of Martigues on
/// 2026-03-02.
pub fn hand_out(dir: &Path, node: &str, carnet: &str, person: &str) -> String {
    on(
        dir,
        node,
        &[
            "voucher",
            "hand-out",
            "--carnet",
            carnet,
            "--person",
            person,
            "--prescriber-kind",
            "CAF",
            "--prescriber",
            "CAF des Bouches-du-Rhône, Martigues",
            "--date",
            "2026-03-02",
        ],
    )
}

/// `node`'s `status --json`, polled until `count` of its peer links are live (a link turns
/// live when its own catch-up ends, which may come after another link brought every event).
pub fn wait_live(dir: &Path, node: &str, count: usize) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let status = json(&on(dir, node, &["status", "--json"]));
        let live = status["peers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["state"] == "live")
            .count();
        if live >= count {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{node}: {live} links live, not {count}, after 30 s: {status}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

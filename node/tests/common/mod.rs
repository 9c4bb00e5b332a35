//! Helpers shared by the CLI tests: run the real `maillage` binary in a directory.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `maillage args` in `dir` (no inherited data dir, quiet logs).
pub fn maillage(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maillage"))
        .current_dir(dir)
        .env_remove("MAILLAGE_DATA_DIR")
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

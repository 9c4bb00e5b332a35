//! Runs `vectors/check_vectors.py`, an independent implementation of the envelope rules
//! (Python `hashlib`, a hand-written protobuf reader and PyNaCl, i.e. libsodium's strict
//! Ed25519), over the committed vectors, in a virtualenv cached under `CARGO_TARGET_TMPDIR`.
//!
//! Without `python3` or without network access to install PyNaCl the test prints
//! `SKIPPED: …` to stderr and returns, unless the `CI` variable is set: then it fails.
//! `MAILLAGE_PYTHON` names another interpreter than `python3`.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use maillage_integration_tests::{envelope_vectors_path, in_ci, python_checker_path};

/// Skips (prints why) outside CI; fails in CI.
fn skip(why: &str) {
    if in_ci() {
        panic!("the Python vector check cannot run and CI is set: {why}");
    }
    // Straight to the process's stderr: the test harness captures `eprintln!` of passing tests.
    let _ = writeln!(
        std::io::stderr().lock(),
        "SKIPPED: the independent Python check of the vectors did not run: {why}"
    );
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

fn describe(output: &Output) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout).trim_end(),
        String::from_utf8_lossy(&output.stderr).trim_end()
    )
}

fn run(command: &mut Command) -> Result<Output, String> {
    command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))
}

fn nacl_imports(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import nacl.signing, nacl.exceptions"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A virtualenv with PyNaCl, created once and reused; `Err` says why there is none.
fn prepare_venv() -> Result<PathBuf, String> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("maillage-vectors-venv");
    let python = venv_python(&venv);
    if python.exists() && nacl_imports(&python) {
        return Ok(python);
    }
    let system = std::env::var("MAILLAGE_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    if !python.exists() {
        let out = run(Command::new(&system).args(["-m", "venv"]).arg(&venv))?;
        if !out.status.success() {
            return Err(format!(
                "`{system} -m venv {}` failed: {}",
                venv.display(),
                describe(&out)
            ));
        }
    }
    let out = run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "pynacl",
    ]))?;
    if !out.status.success() {
        return Err(format!(
            "`pip install pynacl` failed (offline?): {}",
            describe(&out)
        ));
    }
    if !nacl_imports(&python) {
        return Err("PyNaCl installed but `import nacl.signing` fails".into());
    }
    Ok(python)
}

#[test]
fn python_and_libsodium_reach_every_expected_verdict() {
    let python = match prepare_venv() {
        Ok(python) => python,
        Err(why) => return skip(&why),
    };
    let output = Command::new(&python)
        .arg(python_checker_path())
        .arg(envelope_vectors_path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}");
    if !stderr.trim().is_empty() {
        eprintln!("stderr:\n{stderr}");
    }
    assert!(
        output.status.success(),
        "check_vectors.py failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let counts: Vec<&str> = last.split(' ').collect();
    let passed: usize = match counts.as_slice() {
        [passed, "passed,", "0", "failed"] => passed.parse().unwrap(),
        _ => panic!("expected a last line `N passed, 0 failed`, found {last:?}"),
    };
    assert!(passed > 0, "no vector was checked");
}

//! Shared helpers of the maillage integration tests.
//!
//! The tests themselves are the `[[test]]` targets of this package:
//! - `vectors`: regenerates `vectors/envelope.json` with maillage-core, checks it is identical
//!   to the committed file and that maillage-core reaches every expected verdict;
//! - `speccheck`: the twelve edge cases of ed25519-speccheck get the v2 signature rule's
//!   verdicts, one at a time and inside batches;
//! - `vectors_python`: runs `vectors/check_vectors.py`, an independent implementation (Python
//!   `hashlib` and PyNaCl/libsodium), over the same file.

use std::path::PathBuf;

/// Environment variable that makes the `vectors` test rewrite the committed file.
pub const UPDATE_VECTORS_ENV: &str = "MAILLAGE_UPDATE_VECTORS";

/// The directory of this package (`tests/` in the workspace).
pub fn package_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding the committed vectors and the Python checker.
pub fn vectors_dir() -> PathBuf {
    package_dir().join("vectors")
}

/// `tests/vectors/envelope.json`.
pub fn envelope_vectors_path() -> PathBuf {
    vectors_dir().join("envelope.json")
}

/// `tests/vectors/speccheck.json`: the "Taming the many EdDSAs" cases with the v2 verdicts.
pub fn speccheck_vectors_path() -> PathBuf {
    vectors_dir().join("speccheck.json")
}

/// `tests/vectors/check_vectors.py`.
pub fn python_checker_path() -> PathBuf {
    vectors_dir().join("check_vectors.py")
}

/// Whether the caller asked for the vectors to be rewritten (`MAILLAGE_UPDATE_VECTORS=1`).
pub fn update_requested() -> bool {
    std::env::var(UPDATE_VECTORS_ENV).is_ok_and(|v| v == "1")
}

/// Whether we run under continuous integration (`CI` set): skipping is then a failure.
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Index of the first differing line of two texts (1-based) with both lines, for messages.
pub fn first_difference(expected: &str, found: &str) -> Option<(usize, String, String)> {
    let mut left = expected.lines();
    let mut right = found.lines();
    let mut line = 0;
    loop {
        line += 1;
        match (left.next(), right.next()) {
            (None, None) => return None,
            (a, b) if a == b => {}
            (a, b) => {
                let show = |s: Option<&str>| match s {
                    None => "<end of file>".to_owned(),
                    Some(s) if s.chars().count() > 160 => {
                        let head: String = s.chars().take(160).collect();
                        format!("{head}… ({} chars)", s.chars().count())
                    }
                    Some(s) => s.to_owned(),
                };
                return Some((line, show(a), show(b)));
            }
        }
    }
}

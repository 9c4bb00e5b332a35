//! Protocol versions (docs/protocol.md §0): which version this build signs with, which ones
//! it implements, and the words a node uses when it meets another.
//!
//! One number names the whole contract: the envelope's `version` field, the charter's
//! `protocol_version`, and the version two nodes agree on in the handshake are the same
//! number. A node never folds an event of a version it does not implement by the rules of
//! another: it refuses it and says so.

/// The version this build signs its events with and founds charters with.
pub const PROTOCOL_VERSION: u32 = 2;

/// Every version this build implements (verifies, folds, speaks in a handshake), ascending.
pub const SUPPORTED_VERSIONS: &[u32] = &[PROTOCOL_VERSION];

/// How many versions a peer may offer in a handshake, at most.
pub const VERSIONS_OFFERED_MAX: usize = 16;

/// Whether this build implements `version`.
pub fn implements(version: u32) -> bool {
    SUPPORTED_VERSIONS.contains(&version)
}

/// `v2`, `v2, v3`, or `none` (a peer of a release before versions were named offers none).
pub fn list(versions: &[u32]) -> String {
    if versions.is_empty() {
        return "none".into();
    }
    versions
        .iter()
        .map(|v| format!("v{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What an operator does about `found`, a version this build does not implement.
pub fn advice(found: u32) -> String {
    let newest = SUPPORTED_VERSIONS.iter().max().copied().unwrap_or(0);
    if found > newest {
        format!("upgrade maillage to a release that implements v{found}")
    } else {
        "it comes from an earlier release: there is no migration; rebuild that data with this \
         release (`maillage init` a fresh data dir and re-import)"
            .into()
    }
}

/// The highest version in both lists, if any.
pub fn highest_common(ours: &[u32], theirs: &[u32]) -> Option<u32> {
    ours.iter().filter(|v| theirs.contains(v)).max().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_listed_and_matched() {
        assert!(implements(PROTOCOL_VERSION));
        assert!(!implements(PROTOCOL_VERSION + 1));
        assert!(!implements(0));
        assert_eq!(list(&[2]), "v2");
        assert_eq!(list(&[2, 3]), "v2, v3");
        assert_eq!(list(&[]), "none");
        assert_eq!(highest_common(&[2, 3], &[1, 2, 3]), Some(3));
        assert_eq!(highest_common(&[2], &[3]), None);
        assert!(advice(PROTOCOL_VERSION + 1).contains("upgrade maillage"));
        assert!(advice(1).contains("maillage init"));
    }
}

//! Checked conversions of wire fields a peer controls.

use std::collections::BTreeMap;

use maillage_core::{Charter, EventId, Head, HubId, pb};
use thiserror::Error;

/// The highest seq a peer may name in a frontier head or a pull range (2^48): a feed of one
/// event a millisecond would take nine thousand years to reach it. A larger seq names no event
/// any node can hold; trusting it would turn a peer's word into an absurd lag.
pub const SEQ_MAX: u64 = 1 << 48;

/// A field a peer sent that cannot be used.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// Wrong length.
    #[error("{field}: expected {expected} bytes, found {found}")]
    Length {
        /// The field.
        field: &'static str,
        /// Expected.
        expected: usize,
        /// Found.
        found: usize,
    },
    /// Not a member.
    #[error("{field}: {key} is not a member of this federation")]
    NotMember {
        /// The field.
        field: &'static str,
        /// The key.
        key: HubId,
    },
    /// A seq of 0 names no event.
    #[error("{field}: seq must be at least 1")]
    ZeroSeq {
        /// The field.
        field: &'static str,
    },
    /// A seq above [`SEQ_MAX`].
    #[error("{field}: seq {seq} is above the protocol bound {SEQ_MAX} (2^48)")]
    SeqTooLarge {
        /// The field.
        field: &'static str,
        /// The seq found.
        seq: u64,
    },
    /// An author named twice.
    #[error("{field}: author {key} named twice")]
    Duplicate {
        /// The field.
        field: &'static str,
        /// The key.
        key: HubId,
    },
}

fn bytes32(field: &'static str, bytes: &[u8]) -> Result<[u8; 32], WireError> {
    bytes.try_into().map_err(|_| WireError::Length {
        field,
        expected: 32,
        found: bytes.len(),
    })
}

/// A member's key.
pub fn member(charter: &Charter, field: &'static str, bytes: &[u8]) -> Result<HubId, WireError> {
    let key = HubId(bytes32(field, bytes)?);
    if charter.member(&key).is_none() {
        return Err(WireError::NotMember { field, key });
    }
    Ok(key)
}

/// A seq a peer names: at most [`SEQ_MAX`].
pub fn seq(field: &'static str, seq: u64) -> Result<u64, WireError> {
    if seq > SEQ_MAX {
        return Err(WireError::SeqTooLarge { field, seq });
    }
    Ok(seq)
}

/// A frontier's heads, as far as this node can use them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Heads {
    /// The heads of the keys this node knows (founding members and keys its folded amendments
    /// admitted).
    pub known: BTreeMap<HubId, Head>,
    /// Well-formed heads of keys this node does not know yet: a peer that folded an admission
    /// this node has not folded names the new key's feed. They are skipped, not refused: the
    /// admission itself is in a known member's feed, which this node must still be able to pull.
    pub unknown: usize,
}

/// A frontier's heads: each checked for form; a key this node does not know is skipped
/// (counted in [`Heads::unknown`]), a malformed head refuses the frontier.
pub fn heads(charter: &Charter, heads: &[pb::FeedHead]) -> Result<Heads, WireError> {
    let mut out = Heads::default();
    let mut named = std::collections::BTreeSet::new();
    for head in heads {
        let author = HubId(bytes32("frontier author", &head.author)?);
        if head.seq == 0 {
            return Err(WireError::ZeroSeq {
                field: "frontier head",
            });
        }
        let seq = seq("frontier head", head.seq)?;
        let id = EventId(bytes32("frontier head id", &head.id)?);
        if !named.insert(author) {
            return Err(WireError::Duplicate {
                field: "frontier",
                key: author,
            });
        }
        if charter.member(&author).is_none() {
            out.unknown += 1;
            continue;
        }
        out.known.insert(author, Head { seq, id });
    }
    Ok(out)
}

/// The `heard` heads of a batch this node can use: a key it knows, a seq within the
/// protocol's bound, a 32-byte id. Anything else is dropped (a hint, never a reason to end
/// the stream), so a peer cannot make this node track strangers or absurd seqs.
pub fn heard(charter: &Charter, heard: &[pb::HeardHead]) -> Vec<(HubId, u64, EventId)> {
    heard
        .iter()
        .filter_map(|h| {
            let author = HubId(bytes32("heard author", &h.author).ok()?);
            let seq = seq("heard seq", h.seq).ok().filter(|s| *s > 0)?;
            let id = EventId(bytes32("heard id", &h.id).ok()?);
            charter.member(&author).map(|_| (author, seq, id))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use maillage_core::{MemberSpec, Role, SecretKey};

    /// A federation of one hub, `key`.
    fn one_hub(key: HubId) -> Charter {
        Charter::found(
            "T",
            1,
            vec![MemberSpec {
                key,
                name: "a".into(),
                role: Role::Hub,
                territories: vec!["13".into()],
            }],
        )
        .expect("charter")
    }

    #[test]
    fn heard_heads_keep_only_known_keys_and_bounded_seqs() {
        let key = SecretKey::from_seed(&[1; 32]).hub_id();
        let stranger = SecretKey::from_seed(&[2; 32]).hub_id();
        let charter = one_hub(key);
        let head = |author: HubId, seq: u64, id: Vec<u8>| pb::HeardHead {
            author: author.0.to_vec(),
            seq,
            id,
        };
        let kept = heard(
            &charter,
            &[
                head(key, 4, vec![7; 32]),
                head(stranger, 4, vec![7; 32]),
                head(key, SEQ_MAX + 1, vec![7; 32]),
                head(key, 0, vec![7; 32]),
                head(key, 5, vec![7; 31]),
            ],
        );
        assert_eq!(kept, vec![(key, 4, EventId([7; 32]))]);
    }

    #[test]
    fn frontier_fields_are_checked() {
        let key = SecretKey::from_seed(&[1; 32]).hub_id();
        let charter = one_hub(key);
        let good = pb::FeedHead {
            author: key.0.to_vec(),
            seq: 3,
            id: vec![7; 32],
        };
        assert_eq!(
            heads(&charter, std::slice::from_ref(&good)).map(|h| h.known.len()),
            Ok(1)
        );
        let mut short = good.clone();
        short.id.pop();
        assert!(matches!(
            heads(&charter, &[short]),
            Err(WireError::Length {
                field: "frontier head id",
                expected: 32,
                found: 31
            })
        ));
        let mut zero = good.clone();
        zero.seq = 0;
        assert!(matches!(
            heads(&charter, &[zero]),
            Err(WireError::ZeroSeq { .. })
        ));
        // A head no node can hold (the probe's u64::MAX showed a lag of 1.8e19): refused.
        let mut absurd = good.clone();
        absurd.seq = u64::MAX;
        let refused = heads(&charter, &[absurd]);
        assert!(
            matches!(
                refused,
                Err(WireError::SeqTooLarge {
                    field: "frontier head",
                    seq: u64::MAX
                })
            ),
            "{refused:?}"
        );
        let mut above = good.clone();
        above.seq = SEQ_MAX + 1;
        assert!(matches!(
            heads(&charter, &[above]),
            Err(WireError::SeqTooLarge { .. })
        ));
        let mut bound = good.clone();
        bound.seq = SEQ_MAX;
        assert_eq!(heads(&charter, &[bound]).map(|h| h.known.len()), Ok(1));
        let mut stranger = good.clone();
        stranger.author = vec![9; 32];
        // A key this node has not admitted (yet): skipped, the rest of the frontier used.
        let both = heads(&charter, &[stranger.clone(), good.clone()]).expect("frontier");
        assert_eq!((both.known.len(), both.unknown), (1, 1));
        assert!(matches!(
            heads(&charter, &[good.clone(), good]),
            Err(WireError::Duplicate { .. })
        ));
        assert!(matches!(
            heads(&charter, &[stranger.clone(), stranger]),
            Err(WireError::Duplicate { .. })
        ));
    }
}

//! Fork proofs (protocol section 3, "Forks"): two validly signed events of one author that
//! cannot both belong to one feed. Either
//! - both have the same `seq` and different ids, or
//! - one is at `seq` and the other at `seq + 1` with a `prev` that is not the first's id
//!   (the author signed another event at `seq`).
//!
//! A proof is self-contained: anyone holding the charter can check it. The pair is kept in a
//! canonical order (by event id) so every node stores the same proof bytes.

use maillage_proto::v1 as pb;
use thiserror::Error;

use crate::charter::Charter;
use crate::envelope::{EnvelopeError, VerifiedEvent, verify_event};
use crate::ids::{EventId, HubId};

/// Evidence that an author signed two incompatible histories.
#[derive(Debug, Clone, PartialEq)]
pub struct ForkProof {
    /// The event with the smaller id.
    pub first: pb::SignedEvent,
    /// The other event.
    pub second: pb::SignedEvent,
}

/// What a checked proof establishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Fork {
    /// The equivocating author.
    pub author: HubId,
    /// The first seq at which two versions exist: the feed stays valid up to `seq - 1`.
    pub seq: u64,
    /// One version's id at `seq` (or the stored one).
    pub first: EventId,
    /// The other (or the `prev` a later event claims).
    pub second: EventId,
}

/// A proof that proves nothing.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForkProofError {
    /// One half does not verify.
    #[error("fork proof half does not verify: {0}")]
    Envelope(#[from] EnvelopeError),
    /// The halves are by different authors.
    #[error("fork proof: expected one author, found {0} and {1}")]
    Authors(HubId, HubId),
    /// A half is missing.
    #[error("fork proof: expected two events, found fewer")]
    Incomplete,
    /// The halves are compatible.
    #[error("fork proof: events at seq {0} and {1} are compatible")]
    Compatible(u64, u64),
}

impl ForkProof {
    /// The wire/storage form.
    pub fn to_wire(&self) -> pb::ForkProof {
        pb::ForkProof {
            first: Some(self.first.clone()),
            second: Some(self.second.clone()),
        }
    }

    /// From the wire/storage form (still to be [`ForkProof::check`]ed).
    pub fn from_wire(wire: pb::ForkProof) -> Result<Self, ForkProofError> {
        match (wire.first, wire.second) {
            (Some(first), Some(second)) => Ok(Self { first, second }),
            _ => Err(ForkProofError::Incomplete),
        }
    }

    /// Builds a proof from two verified events, in canonical order. `None` if they are
    /// compatible (same event, or a valid succession, or unrelated positions).
    pub fn from_pair(a: &VerifiedEvent, b: &VerifiedEvent) -> Option<(ForkProof, Fork)> {
        let fork = conflict(a, b)?;
        let (first, second) = if a.id <= b.id { (a, b) } else { (b, a) };
        Some((
            ForkProof {
                first: first.signed.clone(),
                second: second.signed.clone(),
            },
            fork,
        ))
    }

    /// Re-verifies both halves and the conflict.
    pub fn check(&self, charter: &Charter) -> Result<Fork, ForkProofError> {
        self.verified(charter).map(|(_, _, fork)| fork)
    }

    /// [`ForkProof::check`], also giving the two verified halves (first, second).
    pub fn verified(
        &self,
        charter: &Charter,
    ) -> Result<(VerifiedEvent, VerifiedEvent, Fork), ForkProofError> {
        let a = verify_event(self.first.clone(), charter)?;
        let b = verify_event(self.second.clone(), charter)?;
        if a.author != b.author {
            return Err(ForkProofError::Authors(a.author, b.author));
        }
        let fork = conflict(&a, &b).ok_or(ForkProofError::Compatible(a.seq, b.seq))?;
        Ok((a, b, fork))
    }
}

fn conflict(a: &VerifiedEvent, b: &VerifiedEvent) -> Option<Fork> {
    if a.author != b.author || a.id == b.id {
        return None;
    }
    if a.seq == b.seq {
        let (first, second) = if a.id <= b.id {
            (a.id, b.id)
        } else {
            (b.id, a.id)
        };
        return Some(Fork {
            author: a.author,
            seq: a.seq,
            first,
            second,
        });
    }
    let (low, high) = if a.seq < b.seq { (a, b) } else { (b, a) };
    match high.prev {
        Some(prev) if high.seq == low.seq + 1 && prev != low.id => Some(Fork {
            author: a.author,
            seq: low.seq,
            first: low.id,
            second: prev,
        }),
        _ => None,
    }
}

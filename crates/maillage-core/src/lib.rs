//! The pure core of maillage: identities, the signed event envelope, chain rules, the hybrid
//! logical clock, fork proofs and the deterministic domain fold.
//!
//! Nothing here reads a clock, draws randomness of its own, touches the network or the disk:
//! the node passes wall time and random generators in. Everything folded, hashed or compared
//! across nodes iterates in a deterministic order (`BTreeMap`), so that two nodes holding the
//! same events compute the same bytes.
//!
//! Wire types come from `maillage-proto`; they are turned into checked types here with
//! `TryFrom`-style functions that return errors naming what was expected and what was found.

pub mod batch;
pub mod causal;
pub mod chain;
pub mod charter;
mod chunked;
mod clocks;
pub mod conformance;
pub mod crypto;
pub mod date;
pub mod envelope;
pub mod excerpt;
pub mod feed;
pub mod fixed_base;
pub mod fork;
pub mod hlc;
pub mod ids;
pub mod lang;
pub mod ledger;
pub mod lookup;
pub mod membership;
pub mod person;
pub mod personal;
pub mod rejection;
mod rejection_fr;
pub mod seeded;
pub mod sigcorpus;
#[cfg(test)]
pub(crate) mod switches;
pub mod territory;
pub mod venues;
pub mod version;
pub mod vocab;

pub use maillage_proto::v1 as pb;

pub use chain::{ChainError, Head, Position};
pub use charter::{Charter, CharterError, Member, MemberSpec, Role};
pub use crypto::{CryptoError, PublicKey, SecretKey};
pub use date::Day;
pub use envelope::{
    EnvelopeError, EventRef, VerifiedEvent, verify_encoded, verify_event, verify_events,
    verify_stored_event,
};
pub use feed::{AuthorError, FeedWriter};
pub use fork::{Fork, ForkProof};
pub use hlc::{ClockError, HybridClock};
pub use ids::{EventId, FederationId, HubId, IdError};
pub use ledger::Ledger;
pub use person::PersonId;
pub use rejection::Rejection;

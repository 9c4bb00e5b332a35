//! The raw, durable key-value layer under [`crate::Store`]: feeds of encoded signed events
//! keyed by `(author, seq)`, fork proofs keyed by author, and a little metadata.
//!
//! A backend knows nothing of chains or signatures; the store's rules live once, above it.

use maillage_core::HubId;

use crate::StoreError;

/// The metadata key of the record of what the data holds ([`Backend::keep_sealed`]).
pub(crate) const SEALED_KEY: &str = "sealed";

/// An event to write: its feed, position and encoded `SignedEvent`.
pub type EventRow = (HubId, u64, Vec<u8>);

/// Durable storage of feeds. Every write returns only once it is durable.
pub trait Backend: Send + Sync + 'static {
    /// The encoded event at `(author, seq)`.
    fn get(&self, author: &HubId, seq: u64) -> Result<Option<Vec<u8>>, StoreError>;
    /// Up to `limit` events of `author` with `seq > after_seq`, ascending.
    fn scan(
        &self,
        author: &HubId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError>;
    /// [`Backend::scan`] handing each event's bytes to `visit`, until it returns false,
    /// instead of collecting copies (a store opening reads every event once); `buffer` is the
    /// caller's, kept from one call to the next.
    fn scan_each(
        &self,
        author: &HubId,
        after_seq: u64,
        limit: usize,
        buffer: &mut Vec<u8>,
        visit: &mut dyn FnMut(u64, &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        let _ = buffer;
        for (seq, bytes) in self.scan(author, after_seq, limit)? {
            if !visit(seq, &bytes) {
                break;
            }
        }
        Ok(())
    }
    /// The largest seq stored for a feed (its bytes may be damaged: read them to know).
    fn last_seq(&self, author: &HubId) -> Result<Option<u64>, StoreError>;
    /// Every author with at least one event, ascending.
    fn authors(&self) -> Result<Vec<HubId>, StoreError>;
    /// Writes events atomically and durably.
    fn write_events(&self, rows: &[EventRow]) -> Result<(), StoreError>;
    /// [`Backend::write_events`] of events the store checked (chains and signatures): the
    /// record [`Backend::keep_sealed`] keeps takes them in, in the same durable step. Any
    /// other write leaves that record behind, and the next open walks every chain.
    fn write_checked(&self, rows: &[EventRow]) -> Result<(), StoreError> {
        self.write_events(rows)
    }
    /// Records a fork proof for an author, durably. The record [`Backend::keep_sealed`] keeps
    /// is left behind: the store records it again after a proof it checked.
    fn write_fork(&self, author: &HubId, proof: &[u8]) -> Result<(), StoreError>;
    /// Every fork proof, by author.
    fn forks(&self) -> Result<Vec<(HubId, Vec<u8>)>, StoreError>;
    /// A metadata value.
    fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Sets a metadata value, durably.
    fn meta_put(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Bytes used on disk (0 in memory).
    fn size_on_disk(&self) -> Result<u64, StoreError>;
    /// A fingerprint of every byte the chains are read from, to tell whether they changed
    /// since they were written; `None` where there is nothing at rest to change (in memory).
    fn fingerprint(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(None)
    }
    /// With `Some(record)`: writes `record || fingerprint` under [`SEALED_KEY`] now, and
    /// again with every later write, in the same durable step as that write, so that the
    /// record always describes what is at rest. With `None`: empties the record now and writes
    /// none until called again. A no-op where there is no fingerprint (in memory).
    fn keep_sealed(&self, record: Option<Vec<u8>>) -> Result<(), StoreError> {
        let _ = record;
        Ok(())
    }
    /// Feeds whose index, when the backend was opened, covered more events than its data
    /// holds (a data file restored from an older copy): the store fetches them again.
    fn recovered(&self) -> Vec<Recovered> {
        Vec::new()
    }
}

/// A feed the backend's index knew further than its data holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    /// The feed.
    pub author: HubId,
    /// The first seq missing.
    pub from_seq: u64,
    /// The last seq the index knew.
    pub held_until: u64,
}

/// `author || seq` (big-endian): feeds sort together, in seq order.
pub(crate) fn event_key(author: &HubId, seq: u64) -> [u8; 40] {
    let mut key = [0u8; 40];
    key[..32].copy_from_slice(&author.0);
    key[32..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// Splits an event key; `None` if it is not 40 bytes.
pub(crate) fn split_key(key: &[u8]) -> Option<(HubId, u64)> {
    let author = HubId::try_from(key.get(..32)?).ok()?;
    let seq = u64::from_be_bytes(key.get(32..40)?.try_into().ok()?);
    (key.len() == 40).then_some((author, seq))
}

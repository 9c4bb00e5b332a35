//! Durable, verified storage of the federation's event feeds.
//!
//! [`Store`] holds the rules, once, over a raw [`Backend`] (on disk: an append-only data file
//! indexed by sled, see [`SledBackend`]; or memory, for simulations and tests); [`EventStore`] is the interface the node and replication use.
//!
//! - **Own events** ([`EventStore::append_own`]) must extend the node's feed; the call returns
//!   only once they are durable (flushed), so an acknowledged event survives a crash.
//! - **Peer events** ([`EventStore::insert`]) are already envelope-verified; inserting is
//!   idempotent (the same event twice is a [`Inserted::Duplicate`]), enforces the chain (a gap
//!   is reported, never stored out of order), and on equivocation records a [`ForkProof`] and
//!   freezes the author's feed at the last seq before the fork: later events of that author are
//!   neither stored nor served.
//! - **Open** re-checks every stored chain: each payload is re-hashed and must be the `prev` of
//!   its successor, and each feed's head signature is verified, so a flipped byte anywhere in a
//!   feed is found (on disk every frame also carries a checksum, which covers the signatures).
//!   A feed found damaged is cut to its longest verified prefix and recorded as [`Damage`]: the
//!   node serves only that prefix, fetches the rest again from peers (the damage heals once the
//!   feed is back where it was), and refuses to append to a damaged own feed meanwhile, so it
//!   never signs a position it signed before. [`EventStore::verify`] can re-verify every
//!   signature too.
//! - **Reads** never return bytes that fail their check: a read that meets damage found later
//!   cuts the feed the same way.
//!
//! Writers are serialised by one lock; reads go straight to the backend.
//!
//! Size: the store's rules (verification, chain, forks, damage) are kept once, over any backend;
//! half of the file is the rule set, half the EventStore interface they guard.

mod backend;
mod memory;
mod parts;
mod sled_backend;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use maillage_core::chain::{self, ChainError, Head, Position};
use maillage_core::envelope::{check_stored, check_unsigned_header};
use maillage_core::{
    Charter, EventId, Fork, ForkProof, HubId, VerifiedEvent, pb, verify_stored_event,
};
use prost::Message;
use thiserror::Error;

pub use backend::{Backend, EventRow, Recovered};
pub use memory::MemoryBackend;
pub use parts::FILE_NAME as PARTS_FILE;
pub use sled_backend::{Repair, SledBackend, repair_data_file};

/// Store failures. Domain outcomes (duplicates, gaps, forks) are not errors: see [`Inserted`].
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed.
    #[error("storage: {context}: {source}")]
    Backend {
        /// What was being done.
        context: &'static str,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A key of the wrong shape (the database was written by something else).
    #[error("storage: corrupt key: expected 40 bytes (author, seq), found {len}")]
    CorruptKey {
        /// Key length found.
        len: usize,
    },
    /// A stored event that no longer checks out.
    #[error("feed {author} seq {seq}: {reason}")]
    Corrupt {
        /// The feed.
        author: HubId,
        /// Position.
        seq: u64,
        /// What is wrong.
        reason: String,
    },
    /// Stored bytes that fail their check (a frame's checksum, or an index pointing past the
    /// data): the event must be fetched again.
    #[error("feed {author} seq {seq}: damaged on disk: {reason}")]
    Damaged {
        /// The feed.
        author: HubId,
        /// Position.
        seq: u64,
        /// What is wrong.
        reason: String,
    },
    /// An own event that does not extend the own feed.
    #[error("own feed {author}: cannot append seq {seq}: {reason}")]
    NotAppendable {
        /// The feed.
        author: HubId,
        /// The event's seq.
        seq: u64,
        /// Why.
        reason: String,
    },
    /// A stored event of a protocol version this build does not implement: the store was
    /// written by another release. Refused, never read by this version's rules.
    #[error("feed {author} seq {seq}: the store was written by another maillage release: {reason}")]
    UnsupportedVersion {
        /// The feed.
        author: HubId,
        /// Position.
        seq: u64,
        /// The envelope's verdict (both versions, and what to do).
        reason: String,
    },
    /// A lock holder panicked.
    #[error("storage: a writer panicked while holding the store lock")]
    Poisoned,
}

/// Why a fork proof from a peer was not recorded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AcceptProofError {
    /// The proof proves nothing (a half does not verify, or the halves are compatible).
    #[error(transparent)]
    Invalid(#[from] maillage_core::fork::ForkProofError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What happened to one peer event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// Stored: it extended its feed.
    Stored,
    /// Already held (same id at that seq).
    Duplicate,
    /// Not stored: the feed needs events `expected..found` first.
    Gap {
        /// Next seq the feed can take.
        expected: u64,
        /// The event's seq.
        found: u64,
    },
    /// Equivocation: a proof was recorded and the feed frozen at `fork.seq - 1`.
    Fork(Fork),
    /// Not stored: the author's feed is frozen after a fork; valid up to `valid_until`.
    Frozen {
        /// Last valid seq of the feed.
        valid_until: u64,
    },
}

/// A recorded fork: the proof and what it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedFork {
    /// What the proof establishes.
    pub fork: Fork,
    /// The proof itself (to gossip).
    pub proof: ForkProof,
    /// The feed's last valid event (None if the fork is at seq 1).
    pub valid_head: Option<Head>,
    /// A charter amendment chose the branch that stands (protocol §1b): the feed is valid up
    /// to this seq along it.
    pub resolved: Option<(u64, EventId)>,
    /// A charter amendment chose a branch this store does not hold yet: events after the fork
    /// are taken up to its seq, and the feed is resolved once the event there is the branch's.
    pub resolving: Option<(u64, EventId)>,
}

impl RecordedFork {
    /// The last seq of the feed that counts.
    pub fn valid_until(&self) -> u64 {
        self.resolved.map_or(self.fork.seq - 1, |(seq, _)| seq)
    }

    /// The last seq this store takes events of the feed for.
    fn accepts_until(&self) -> u64 {
        self.resolved
            .or(self.resolving)
            .map_or(self.fork.seq - 1, |(seq, _)| seq)
    }
}

/// `(seq, event id)` as 40 bytes, for the metadata of a fork's resolution.
fn encode_resolution(seq: u64, id: EventId) -> Vec<u8> {
    let mut value = seq.to_be_bytes().to_vec();
    value.extend_from_slice(&id.0);
    value
}

fn decode_resolution(bytes: &[u8]) -> Option<(u64, EventId)> {
    if bytes.len() != 40 {
        return None;
    }
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&bytes[..8]);
    let mut id = [0u8; 32];
    id.copy_from_slice(&bytes[8..]);
    Some((u64::from_be_bytes(seq), EventId(id)))
}

/// The metadata key of a branch chosen but not held yet.
fn resolving_key(author: &HubId) -> String {
    format!("fork-resolving:{}", author.to_hex())
}

/// The metadata key of a fork's resolution.
fn resolution_key(author: &HubId) -> String {
    format!("fork-resolution:{}", author.to_hex())
}

/// What the record of the data at rest starts with ([`Backend::keep_sealed`]): this build, so
/// that another release walks every chain once.
fn seal_prefix() -> Vec<u8> {
    concat!("maillage-store ", env!("CARGO_PKG_VERSION"), "\0")
        .as_bytes()
        .to_vec()
}

/// The record of data whose fingerprint is `fingerprint`.
fn seal_record(fingerprint: &[u8]) -> Vec<u8> {
    let mut record = seal_prefix();
    record.extend_from_slice(fingerprint);
    record
}

/// A feed cut to its verified prefix because what followed is damaged or missing on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The first seq that could not be read or verified.
    pub from_seq: u64,
    /// The last seq the store held before: the damage heals once the feed reaches it again.
    pub held_until: u64,
    /// What was found.
    pub reason: String,
}

/// The first problem found by [`EventStore::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The feed.
    pub author: HubId,
    /// The event.
    pub seq: u64,
    /// What is wrong.
    pub reason: String,
}

/// What [`EventStore::verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyReport {
    /// Feeds checked.
    pub feeds: usize,
    /// Events checked.
    pub events: u64,
    /// Signatures verified.
    pub signatures: u64,
    /// The first broken event, if any.
    pub broken: Option<Broken>,
}

/// The storage interface of a node.
pub trait EventStore: Send + Sync {
    /// The charter events are checked against.
    fn charter(&self) -> &Charter;
    /// Appends own events, which must extend their feed in order; durable on return.
    fn append_own(&self, events: &[VerifiedEvent]) -> Result<(), StoreError>;
    /// Inserts envelope-verified peer events; durable on return. One outcome per event.
    fn insert_all(&self, events: &[VerifiedEvent]) -> Result<Vec<Inserted>, StoreError>;
    /// [`EventStore::insert_all`], taking the events.
    fn insert(&self, events: Vec<VerifiedEvent>) -> Result<Vec<Inserted>, StoreError> {
        self.insert_all(&events)
    }
    /// The last valid event of a feed.
    fn head(&self, author: &HubId) -> Option<Head>;
    /// Every feed's last valid event.
    fn frontier(&self) -> BTreeMap<HubId, Head>;
    /// Recorded forks, by author.
    fn forks(&self) -> BTreeMap<HubId, RecordedFork>;
    /// A charter amendment chose the branch of a forked feed that stands: the one holding
    /// `branch` at `last_seq`. If this store holds that branch from the fork to `last_seq`
    /// (each event verified and chained), the feed is served up to `last_seq` again, and the
    /// choice is kept across restarts. Returns whether it was (a store holding the other
    /// branch, or less of it, leaves the feed as it is).
    fn resolve_fork(
        &self,
        author: &HubId,
        last_seq: u64,
        branch: EventId,
    ) -> Result<bool, StoreError>;
    /// The branch of a forked feed this store holds past the fork: its last seq chained to
    /// the valid prefix and that event's id (the branch a recovery amendment may choose).
    fn held_branch(&self, author: &HubId) -> Result<Option<(u64, EventId)>, StoreError>;
    /// Records a fork proof received from a peer (gossip): checks it against the charter and,
    /// if it is the first for that author, stores it and freezes the feed at `fork.seq - 1`.
    /// Returns the fork if it is new to this store, `None` if one was already recorded.
    fn accept_fork_proof(&self, proof: ForkProof) -> Result<Option<Fork>, AcceptProofError>;
    /// One event.
    fn get(&self, author: &HubId, seq: u64) -> Result<Option<VerifiedEvent>, StoreError>;
    /// Up to `limit` valid events of `author` after `after_seq`, in order.
    fn range(
        &self,
        author: &HubId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<VerifiedEvent>, StoreError>;
    /// Up to `limit` valid events of `author` after `after_seq`, as stored (not re-hashed nor
    /// decoded: for forwarding to a peer, which verifies them itself). `(seq, event)`.
    fn range_signed(
        &self,
        author: &HubId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, pb::SignedEvent)>, StoreError>;
    /// Erases the personal parts of these events (§2b): gone from every file of the store on
    /// return. Returns how many were held.
    fn erase_personal(&self, events: &[EventId]) -> Result<usize, StoreError>;
    /// Those of `events` whose personal part this store holds, in order, each once.
    fn held_personal(&self, events: &mut dyn Iterator<Item = &EventId>) -> Vec<EventId>;
    /// The HLC of each feed's last valid event. A node's own feed resumes after its own;
    /// the others are what its clock may observe (within its bound).
    fn head_hlcs(&self) -> BTreeMap<HubId, u64>;
    /// Feeds cut short by damage on disk and not yet fetched back (see [`Damage`]).
    fn damaged(&self) -> BTreeMap<HubId, Damage>;
    /// The deps a new event of `author` names so that the rules judge it against everything
    /// its author has seen: the heads of the other feeds that advanced since `author`'s
    /// previous event named them (what that event named is already in the new one's past
    /// through `prev`). At most [`maillage_core::envelope::DEPS_MAX`]: in a larger federation,
    /// a rotating window (by the new event's seq) picks which advanced feeds go first, and
    /// the others follow in the next events.
    fn causal_past(&self, author: &HubId) -> Vec<maillage_core::EventRef> {
        use maillage_core::envelope::DEPS_MAX;
        let own = self.head(author);
        let named: BTreeMap<HubId, u64> = own
            .and_then(|head| self.get(author, head.seq).ok().flatten())
            .map(|event| event.deps.iter().map(|d| (d.author, d.seq)).collect())
            .unwrap_or_default();
        let advanced: Vec<maillage_core::EventRef> = self
            .frontier()
            .into_iter()
            .filter(|(other, head)| {
                other != author && named.get(other).is_none_or(|seq| *seq < head.seq)
            })
            .map(|(other, head)| maillage_core::EventRef {
                author: other,
                seq: head.seq,
                id: head.id,
            })
            .collect();
        if advanced.len() <= DEPS_MAX {
            return advanced;
        }
        let next_seq = own.map_or(1, |h| h.seq + 1);
        let start = usize::try_from(next_seq)
            .unwrap_or(0)
            .wrapping_mul(DEPS_MAX)
            % advanced.len();
        let mut window: Vec<maillage_core::EventRef> = advanced
            .iter()
            .cycle()
            .skip(start)
            .take(DEPS_MAX)
            .copied()
            .collect();
        window.sort_by_key(|d| d.author);
        window
    }
    /// Total events held (valid prefixes).
    fn event_count(&self) -> u64 {
        self.frontier().values().map(|h| h.seq).sum()
    }
    /// Re-checks every chain (hashes and links) and, if `signatures`, every signature.
    fn verify(
        &self,
        signatures: bool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<VerifyReport, StoreError>;
    /// A metadata value.
    fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Sets a metadata value, durably.
    fn meta_put(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Bytes on disk.
    fn size_on_disk(&self) -> Result<u64, StoreError>;
}

#[derive(Debug, Default)]
struct State {
    heads: BTreeMap<HubId, Head>,
    /// The HLC of each head.
    head_hlc: BTreeMap<HubId, u64>,
    forks: BTreeMap<HubId, RecordedFork>,
    damaged: BTreeMap<HubId, Damage>,
}

impl State {
    fn set_head(&mut self, author: HubId, head: Head, hlc: u64) {
        self.heads.insert(author, head);
        self.head_hlc.insert(author, hlc);
        if let Some(damage) = self.damaged.get(&author)
            && head.seq >= damage.held_until
        {
            tracing::info!(author = %author.short(), seq = head.seq, "damaged feed fetched back: healed");
            self.damaged.remove(&author);
        }
    }

    fn remove_head(&mut self, author: &HubId) {
        self.heads.remove(author);
        self.head_hlc.remove(author);
    }

    /// Records damage on `author`'s feed from `from_seq`, the feed having reached `held_until`.
    fn record_damage(&mut self, author: HubId, from_seq: u64, held_until: u64, reason: String) {
        tracing::error!(
            author = %author.short(),
            from_seq,
            held_until,
            %reason,
            "store damaged: the feed is served up to seq {} and will be fetched again from peers",
            from_seq.saturating_sub(1)
        );
        let damage = self.damaged.entry(author).or_insert(Damage {
            from_seq,
            held_until,
            reason: reason.clone(),
        });
        if from_seq <= damage.from_seq {
            damage.from_seq = from_seq;
            damage.reason = reason;
        }
        damage.held_until = damage.held_until.max(held_until);
    }
}

/// What walking a feed from its first event found.
#[derive(Debug, Default)]
struct FeedWalk {
    /// The last event that extends the chain.
    last: Option<VerifiedEvent>,
    /// Events read.
    events: u64,
    /// Signatures verified.
    signatures: u64,
    /// The first problem, if any.
    broken: Option<Broken>,
}

/// The store: the rules over a backend.
#[derive(Debug)]
pub struct Store<B: Backend> {
    backend: B,
    charter: Arc<Charter>,
    state: Mutex<State>,
    /// Personal parts (§2b), apart from the log.
    parts: Mutex<parts::Parts>,
    /// The record of the data at rest found at open ([`Store::seal`]), if any.
    sealed: Option<Vec<u8>>,
    /// Whether the data still matches `sealed`: computed by the first chain check that needs
    /// it, while other threads decode the views.
    unchanged: std::sync::OnceLock<bool>,
}

/// The cores this process may use (1 if unknown).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A store on disk.
pub type SledStore = Store<SledBackend>;
/// A store in memory.
pub type MemoryStore = Store<MemoryBackend>;

/// Work run on the threads that check a store's chains as it opens, before the chains: one
/// job each (see [`SledStore::open_path_beside`]).
pub type SideJob<'a> = Box<dyn FnOnce() + Send + 'a>;

impl SledStore {
    /// Opens the sled database in `path` and checks every chain.
    pub fn open_path(path: &Path, charter: Arc<Charter>) -> Result<Self, StoreError> {
        Self::open_path_beside(path, charter, Vec::new())
    }

    /// [`SledStore::open_path`] running the `beside` jobs meanwhile (a node decodes the
    /// sections of its views there), on the threads, one per core, that read the personal
    /// parts' file and check the chains: `beside` first, as the longest jobs, then the parts,
    /// then the chains, shared by every core.
    pub fn open_path_beside(
        path: &Path,
        charter: Arc<Charter>,
        beside: Vec<SideJob<'_>>,
    ) -> Result<Self, StoreError> {
        let backend = SledBackend::open(path)?;
        let parts = Mutex::new(None);
        let read_parts: SideJob<'_> = Box::new(|| {
            if let Ok(mut slot) = parts.lock() {
                *slot = Some(parts::Parts::open(path));
            }
        });
        let side = beside.into_iter().chain([read_parts]).collect();
        let mut store = Store::open_with(backend, charter, cores(), side)?;
        let parts = parts
            .into_inner()
            .map_err(|_| StoreError::Poisoned)?
            .ok_or(StoreError::Poisoned)??;
        store.parts = Mutex::new(parts);
        Ok(store)
    }
}

impl MemoryStore {
    /// An empty store in memory.
    pub fn in_memory(charter: Arc<Charter>) -> Self {
        Store {
            backend: MemoryBackend::new(),
            charter,
            state: Mutex::new(State::default()),
            parts: Mutex::new(parts::Parts::in_memory()),
            sealed: None,
            unchanged: std::sync::OnceLock::new(),
        }
    }
}

impl<B: Backend> Store<B> {
    /// Opens a store and checks every chain (hashes, links, head signatures). A feed that
    /// breaks is cut to its longest verified prefix and recorded as [`Damage`] (logged): the
    /// store opens and serves what verifies. Only a failure to read at all, or events of a
    /// protocol version this build does not implement ([`StoreError::UnsupportedVersion`]: a
    /// store written by another release), is an error.
    pub fn open(backend: B, charter: Arc<Charter>) -> Result<Self, StoreError> {
        Self::open_with(backend, charter, cores(), Vec::new())
    }

    /// Records a fingerprint of the data at rest (its length and CRC-32), so that the next
    /// open, if the data did not change, reads and verifies each feed's head instead of walking
    /// every chain again; every later write records it again in the same durable step, so a
    /// crash leaves it true as well. The chains it covers were checked: by the open (a full
    /// walk, or the same record), then by every insert. A store with a damaged feed records
    /// nothing (its next open looks again).
    pub fn seal(&self) -> Result<(), StoreError> {
        self.seal_with(&*self.lock()?)
    }

    /// [`Store::seal`] with the state held.
    fn seal_with(&self, state: &State) -> Result<(), StoreError> {
        self.backend
            .keep_sealed(state.damaged.is_empty().then(seal_prefix))
    }

    /// Writes a fork proof this store checked, durably, and records the data at rest with it
    /// (the backend's raw `write_fork` leaves the record behind).
    fn write_fork(&self, state: &State, fork: &Fork, proof: &ForkProof) -> Result<(), StoreError> {
        self.backend
            .write_fork(&fork.author, &proof.to_wire().encode_to_vec())?;
        self.seal_with(state)
    }

    /// The events whose personal part this store holds and `pick` picks, in order. Reads
    /// every held part: for checks and tests; [`EventStore::held_personal`] asks about given
    /// events.
    pub fn personal_events(&self, pick: &dyn Fn(&EventId) -> bool) -> Vec<EventId> {
        self.parts.lock().map(|p| p.ids(pick)).unwrap_or_default()
    }

    /// Whether this store's open trusted the record of the data at rest ([`Store::seal`])
    /// instead of walking every chain.
    pub fn opened_sealed(&self) -> bool {
        self.unchanged.get().copied().unwrap_or(false)
    }

    /// Whether the data is byte for byte what the record of the data at rest describes (read
    /// once, by the first chain check that asks).
    fn unchanged_since_sealed(&self) -> bool {
        *self.unchanged.get_or_init(|| {
            let Some(record) = &self.sealed else {
                return false;
            };
            let unchanged = match self.backend.fingerprint() {
                Ok(now) => now.is_some_and(|now| *record == seal_record(&now)),
                Err(error) => {
                    tracing::warn!(%error, "the store's fingerprint cannot be read: every chain is checked");
                    false
                }
            };
            if !unchanged {
                tracing::info!("the store changed since its last write: every chain is checked");
            }
            unchanged
        })
    }

    /// [`Store::open`] checking the chains on up to `threads` threads, which run the `side`
    /// jobs first.
    fn open_with(
        backend: B,
        charter: Arc<Charter>,
        threads: usize,
        side: Vec<SideJob<'_>>,
    ) -> Result<Self, StoreError> {
        let mut state = State::default();
        for (author, bytes) in backend.forks()? {
            let wire =
                pb::ForkProof::decode(bytes.as_slice()).map_err(|e| StoreError::Corrupt {
                    author,
                    seq: 0,
                    reason: format!("stored fork proof does not decode: {e}"),
                })?;
            let proof = ForkProof::from_wire(wire).map_err(|e| StoreError::Corrupt {
                author,
                seq: 0,
                reason: e.to_string(),
            })?;
            let fork = proof.check(&charter).map_err(|e| StoreError::Corrupt {
                author,
                seq: 0,
                reason: e.to_string(),
            })?;
            let resolved = backend
                .meta_get(&resolution_key(&author))?
                .and_then(|bytes| decode_resolution(&bytes));
            let resolving = match resolved {
                Some(_) => None,
                None => backend
                    .meta_get(&resolving_key(&author))?
                    .and_then(|bytes| decode_resolution(&bytes)),
            };
            state.forks.insert(
                author,
                RecordedFork {
                    fork,
                    proof,
                    valid_head: None,
                    resolved,
                    resolving,
                },
            );
        }
        for recovered in backend.recovered() {
            state.record_damage(
                recovered.author,
                recovered.from_seq,
                recovered.held_until,
                "events.log holds less of this feed than the index recorded".into(),
            );
        }
        // Every write recorded a fingerprint of the data at rest ([`Store::seal`]): unchanged
        // since, the chains checked while it was open still hold, and each feed's head is read
        // and its signature verified instead.
        let sealed = backend
            .meta_get(backend::SEALED_KEY)?
            .filter(|record| !record.is_empty());
        let store = Self {
            backend,
            charter,
            state: Mutex::new(state),
            parts: Mutex::new(parts::Parts::in_memory()),
            sealed,
            unchanged: std::sync::OnceLock::new(),
        };
        let feeds = {
            let state = store.lock()?;
            let mut feeds = Vec::new();
            for author in store.backend.authors()? {
                let cap = state.forks.get(&author).map(RecordedFork::valid_until);
                let stored = store.backend.last_seq(&author)?.unwrap_or(0);
                // A proof learnt by gossip can name a seq beyond what is held.
                feeds.push((author, cap.map_or(stored, |cap| cap.min(stored))));
            }
            feeds
        };
        // Stored events are checked for what they are (chains, signatures by their authors'
        // keys), not for membership: the keys amendments admitted are known to the charter
        // only once the views that fold them are read, which is a side job here (or, when the
        // views are folded again, later still).
        let walks = store.check_feeds(&feeds, threads, side)?;
        for ((author, end), walk) in feeds.iter().zip(walks) {
            let mut state = store.lock()?;
            if let Some(last) = &walk.last {
                let head = Head {
                    seq: last.seq,
                    id: last.id,
                };
                state.set_head(*author, head, last.hlc);
                if let Some(recorded) = state.forks.get_mut(author) {
                    recorded.valid_head = Some(head);
                }
            }
            if let Some(broken) = walk.broken {
                state.record_damage(*author, broken.seq, *end, broken.reason);
            }
        }
        // What the open checked is recorded, and recorded again by every write. Not recorded
        // (a full disk), the next open finds the record it finds now, or walks every chain.
        if let Err(error) = store.seal() {
            tracing::warn!(%error, "the record of what the store holds could not be written: the next open may walk every chain");
        }
        Ok(store)
    }

    /// [`Self::check_feed`] for each `(author, end)`, in that order. Up to `threads` threads
    /// take the `side` jobs first, then the feeds, the longest first (each feed's chain is
    /// checked in order, but feeds are independent).
    fn check_feeds(
        &self,
        feeds: &[(HubId, u64)],
        threads: usize,
        side: Vec<SideJob<'_>>,
    ) -> Result<Vec<FeedWalk>, StoreError> {
        let mut order: Vec<usize> = (0..feeds.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(feeds[i].1));
        let jobs = side.len() + feeds.len();
        let side: Vec<Mutex<Option<SideJob<'_>>>> =
            side.into_iter().map(|job| Mutex::new(Some(job))).collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let done: Vec<Mutex<Option<Result<FeedWalk, StoreError>>>> =
            feeds.iter().map(|_| Mutex::new(None)).collect();
        let work = || {
            loop {
                let taken = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if let Some(job) = side.get(taken) {
                    if let Some(job) = job.lock().ok().and_then(|mut job| job.take()) {
                        job();
                    }
                    continue;
                }
                let Some(&i) = order.get(taken - side.len()) else {
                    break;
                };
                let (author, end) = &feeds[i];
                let walk = self.check_feed(author, *end);
                if let Ok(mut slot) = done[i].lock() {
                    *slot = Some(walk);
                }
            }
        };
        match threads.min(jobs) {
            0 | 1 => work(),
            threads => std::thread::scope(|scope| {
                for _ in 0..threads {
                    scope.spawn(work);
                }
            }),
        }
        done.into_iter()
            .map(|slot| {
                slot.into_inner()
                    .map_err(|_| StoreError::Poisoned)?
                    .ok_or(StoreError::Poisoned)?
            })
            .collect()
    }

    /// Walks `author`'s chain to `end` (hashes and links), then verifies the last event's
    /// signature, stepping back past any that fails.
    fn check_feed(&self, author: &HubId, end: u64) -> Result<FeedWalk, StoreError> {
        let head = if self.unchanged_since_sealed() {
            self.read_event(author, end)
                .ok()
                .flatten()
                .filter(|head| head.seq == end)
        } else {
            None
        };
        let mut walk = match head {
            // Sealed: only the head is read (and its signature verified below).
            Some(head) => FeedWalk {
                last: Some(head),
                events: end,
                signatures: 0,
                broken: None,
            },
            None => self.walk_feed(author, end, false, &mut |_| {})?,
        };
        // The head's id came from the same bytes: its signature seals the whole chain.
        while let Some(last) = walk.last.take() {
            match verify_stored_event(last.signed.clone(), &self.charter) {
                Ok(_) => {
                    walk.last = Some(last);
                    break;
                }
                Err(error) => {
                    walk.broken = Some(Broken {
                        author: *author,
                        seq: last.seq,
                        reason: error.to_string(),
                    });
                    walk.last = match last.seq - 1 {
                        0 => None,
                        seq => self.read_event(author, seq).ok().flatten(),
                    };
                }
            }
        }
        Ok(walk)
    }

    /// The stored chain of `author` from `from` to `last_seq` (each event verified and chained
    /// to the valid one before `from`), if it ends with `branch`: its last event.
    fn held_chain(
        &self,
        author: &HubId,
        from: u64,
        last_seq: u64,
        branch: EventId,
    ) -> Result<Option<VerifiedEvent>, StoreError> {
        let mut prev = match from - 1 {
            0 => None,
            seq => match self.read_event(author, seq)? {
                Some(event) => Some(event.id),
                None => return Ok(None),
            },
        };
        let mut last = None;
        for seq in from..=last_seq {
            let Some(event) = self.read_event(author, seq)? else {
                return Ok(None);
            };
            if event.prev != prev
                || verify_stored_event(event.signed.clone(), &self.charter).is_err()
            {
                return Ok(None);
            }
            prev = Some(event.id);
            last = Some(event);
        }
        Ok(last.filter(|e| e.id == branch))
    }

    /// Reads and decodes one stored event, whatever the feed's valid prefix.
    fn read_event(&self, author: &HubId, seq: u64) -> Result<Option<VerifiedEvent>, StoreError> {
        self.backend
            .get(author, seq)?
            .map(|bytes| self.decode(author, seq, &bytes))
            .transpose()
    }

    /// Walks `author`'s feed from seq 1 to `end`: each event must decode, belong there and
    /// extend the chain; with `signatures`, verify too. Stops at the first problem.
    fn walk_feed(
        &self,
        author: &HubId,
        end: u64,
        signatures: bool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<FeedWalk, StoreError> {
        const CHUNK: usize = 4096;
        let mut walk = FeedWalk::default();
        let mut head: Option<Head> = None;
        let mut after = 0;
        let broken = |seq: u64, reason: String| Broken {
            author: *author,
            seq,
            reason,
        };
        let mut end = end;
        let mut damaged: Option<Broken> = None;
        // Each run of events is read into one buffer, kept from one read to the next, and its
        // events checked where they lie.
        let mut buffer = Vec::new();
        let mut unsupported = None;
        while after < end && walk.broken.is_none() && unsupported.is_none() {
            let mut read = 0u64;
            let scanned = self.backend.scan_each(
                author,
                after,
                CHUNK.min((end - after) as usize),
                &mut buffer,
                &mut |seq, bytes| {
                    read += 1;
                    // The body is covered by the id, which the next event's `prev` or the
                    // head's signature pins: it need not be decoded here.
                    let event = match self.decode_with(author, seq, bytes, false) {
                        Ok(e) => e,
                        Err(e @ StoreError::UnsupportedVersion { .. }) => {
                            unsupported = Some(e);
                            return false;
                        }
                        Err(e) => {
                            walk.broken = Some(broken(seq, e.to_string()));
                            return false;
                        }
                    };
                    let position = chain::position(head, &event).and_then(|p| match p {
                        Position::Next => Ok(()),
                        Position::Known => Err(ChainError::Gap {
                            author: *author,
                            expected: head.map_or(1, |h| h.seq + 1),
                            found: seq,
                        }),
                    });
                    if let Err(e) = position {
                        walk.broken = Some(broken(seq, e.to_string()));
                        return false;
                    }
                    if signatures {
                        if let Err(e) = verify_stored_event(event.signed.clone(), &self.charter) {
                            walk.broken = Some(broken(seq, e.to_string()));
                            return false;
                        }
                        walk.signatures += 1;
                    }
                    head = Some(Head { seq, id: event.id });
                    after = seq;
                    walk.events += 1;
                    walk.last = Some(event);
                    if walk.events % 10_000 == 0 {
                        progress(walk.events);
                    }
                    true
                },
            );
            match scanned {
                Ok(()) => {}
                // Read what comes before the damage, then stop there.
                Err(StoreError::Damaged { seq, reason, .. }) if seq > after => {
                    end = seq - 1;
                    damaged = Some(broken(seq, reason));
                    continue;
                }
                Err(other) => return Err(other),
            }
            if read == 0 && walk.broken.is_none() && unsupported.is_none() {
                walk.broken = Some(broken(
                    after + 1,
                    "missing: the feed stops before its head".into(),
                ));
            }
        }
        // Not damage: another release's store. Cutting the feed would hide it.
        if let Some(version) = unsupported.take() {
            return Err(version);
        }
        // Damage found by reading cuts the feed where no event's own fault cut it before.
        if walk.broken.is_none() {
            walk.broken = damaged;
        }
        Ok(walk)
    }

    /// Damage met while reading `author` at `seq`: cuts the feed before it (to the last event
    /// that still reads) and records the damage.
    fn damage_found(&self, author: &HubId, seq: u64, reason: String) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let Some(head) = state.heads.get(author).copied() else {
            return Ok(());
        };
        if head.seq < seq {
            return Ok(());
        }
        let mut below = seq - 1;
        let last = loop {
            if below == 0 {
                break None;
            }
            match self.read_event(author, below) {
                Ok(Some(event)) => break Some(event),
                Ok(None) | Err(StoreError::Damaged { .. } | StoreError::Corrupt { .. }) => {
                    below -= 1
                }
                Err(other) => return Err(other),
            }
        };
        match last {
            Some(event) => state.set_head(
                *author,
                Head {
                    seq: event.seq,
                    id: event.id,
                },
                event.hlc,
            ),
            None => state.remove_head(author),
        }
        state.record_damage(*author, below + 1, head.seq, reason);
        drop(state);
        // The data at rest no longer holds what was checked: the next open walks every chain.
        self.backend.keep_sealed(None)
    }

    /// The raw backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Poisoned)
    }

    fn decode(&self, author: &HubId, seq: u64, bytes: &[u8]) -> Result<VerifiedEvent, StoreError> {
        self.decode_with(author, seq, bytes, true)
    }

    /// [`Self::decode`]; without `body`, the event's body is left undecoded (`None`): a walk
    /// along a chain reads only where each event belongs and its id.
    fn decode_with(
        &self,
        author: &HubId,
        seq: u64,
        bytes: &[u8],
        body: bool,
    ) -> Result<VerifiedEvent, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            author: *author,
            seq,
            reason,
        };
        let signed = pb::SignedEvent::decode(bytes)
            .map_err(|e| corrupt(format!("stored event does not decode: {e}")))?;
        // Its author's membership was checked when it came in; an admitted key the charter
        // learns only once the views are read is checked with its own key.
        let checked = check_stored(&signed, &self.charter, body);
        let header = checked.map_err(|e| {
            if e.unsupported_version().is_some() {
                StoreError::UnsupportedVersion {
                    author: *author,
                    seq,
                    reason: e.to_string(),
                }
            } else {
                corrupt(e.to_string())
            }
        })?;
        let event = header.into_verified(signed);
        if event.author != *author || event.seq != seq {
            return Err(corrupt(format!(
                "stored under ({}, {seq}) but the event says ({}, {})",
                author.short(),
                event.author.short(),
                event.seq
            )));
        }
        Ok(event)
    }

    fn valid_max(&self, state: &State, author: &HubId) -> u64 {
        state.heads.get(author).map_or(0, |h| h.seq)
    }

    /// Stored bytes of up to `limit` events of `author` after `after_seq`, within the feed's
    /// valid prefix (a frozen feed's events past the fork are never read).
    fn scan_valid(
        &self,
        author: &HubId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        loop {
            let max = self.valid_max(&*self.lock()?, author);
            if after_seq >= max {
                return Ok(Vec::new());
            }
            let limit = limit.min(usize::try_from(max - after_seq).unwrap_or(usize::MAX));
            match self.backend.scan(author, after_seq, limit) {
                // The feed is cut before `seq`: the next turn reads what is left before it.
                Err(StoreError::Damaged { seq, reason, .. }) => {
                    self.damage_found(author, seq, reason)?
                }
                other => return other,
            }
        }
    }

    /// The event at `(author, seq)`: accepted earlier in this batch, or stored.
    fn lookup(
        &self,
        batch: &BTreeMap<(HubId, u64), &VerifiedEvent>,
        author: &HubId,
        seq: u64,
    ) -> Result<Option<VerifiedEvent>, StoreError> {
        if let Some(event) = batch.get(&(*author, seq)) {
            return Ok(Some((*event).clone()));
        }
        self.backend
            .get(author, seq)?
            .map(|bytes| self.decode(author, seq, &bytes))
            .transpose()
    }

    /// A conflict found in the middle of a batch: writes what the batch accepted so far (so
    /// the frozen head exists on disk), then records the proof.
    fn fork_mid_batch(
        &self,
        state: &mut State,
        rows: &mut Vec<EventRow>,
        heads: &mut BTreeMap<HubId, (Head, u64)>,
        existing: &VerifiedEvent,
        incoming: &VerifiedEvent,
    ) -> Result<Inserted, StoreError> {
        self.backend.write_checked(rows)?;
        rows.clear();
        for (author, (head, hlc)) in std::mem::take(heads) {
            state.set_head(author, head, hlc);
        }
        Ok(match self.record_fork(state, existing, incoming)? {
            Some(fork) => Inserted::Fork(fork),
            None => Inserted::Duplicate,
        })
    }

    fn record_fork(
        &self,
        state: &mut State,
        existing: &VerifiedEvent,
        incoming: &VerifiedEvent,
    ) -> Result<Option<Fork>, StoreError> {
        let Some((proof, fork)) = ForkProof::from_pair(existing, incoming) else {
            return Ok(None);
        };
        if let Some(recorded) = state.forks.get(&fork.author) {
            if fork.seq >= recorded.fork.seq {
                return Ok(Some(fork));
            }
            return self.lower_fork(state, proof, fork);
        }
        self.write_fork(state, &fork, &proof)?;
        let valid_head = self.freeze_head(state, &fork)?;
        tracing::warn!(
            author = %fork.author,
            seq = fork.seq,
            first = %fork.first,
            second = %fork.second,
            "fork detected: the author signed two versions of its feed; feed frozen"
        );
        state.forks.insert(
            fork.author,
            RecordedFork {
                fork,
                proof,
                valid_head,
                resolved: None,
                resolving: None,
            },
        );
        Ok(Some(fork))
    }
}

impl<B: Backend> Store<B> {
    /// Moves a forked feed's head to its last valid event, `fork.seq - 1`; returns it (`None`:
    /// nothing valid is held). A proof from gossip may name a seq this store has not reached
    /// yet: then the head stays where it is.
    fn freeze_head(&self, state: &mut State, fork: &Fork) -> Result<Option<Head>, StoreError> {
        let held = state.heads.get(&fork.author).copied();
        let valid_head = match fork.seq - 1 {
            0 => None,
            seq if held.is_some_and(|head| head.seq <= seq) => held,
            seq => match self.backend.get(&fork.author, seq)? {
                Some(bytes) => {
                    let event = self.decode(&fork.author, seq, &bytes)?;
                    state.set_head(fork.author, Head { seq, id: event.id }, event.hlc);
                    Some(Head { seq, id: event.id })
                }
                None => None,
            },
        };
        if valid_head.is_none() {
            state.remove_head(&fork.author);
        }
        Ok(valid_head)
    }

    /// A proof that the feed forked at a lower seq than the recorded proof shows (protocol §3:
    /// the lowest proof stands). A proof of form (b) names the seq of the event the later
    /// one's `prev` contradicts, which may lie above the first seq with two versions: nodes
    /// that saw different pairs froze the feed at different seqs, and so disagreed on whether
    /// the events between counted. Each node keeps the lowest proof it learns and gossips it,
    /// so they all end on the same one. The feed's valid head moves down to the new
    /// `seq - 1`. A branch an amendment chose stays chosen: a resolved feed keeps its held
    /// chain (events below the old proof's seq are that chain's ancestors); a resolving one
    /// keeps taking the branch, now from the lower seq.
    fn lower_fork(
        &self,
        state: &mut State,
        proof: ForkProof,
        fork: Fork,
    ) -> Result<Option<Fork>, StoreError> {
        self.write_fork(state, &fork, &proof)?;
        let Some(recorded) = state.forks.get(&fork.author).cloned() else {
            return Ok(None);
        };
        let valid_head = match recorded.resolved {
            Some(_) => recorded.valid_head,
            None => self.freeze_head(state, &fork)?,
        };
        tracing::warn!(
            author = %fork.author,
            seq = fork.seq,
            was = recorded.fork.seq,
            "a lower fork proof: the feed is frozen from an earlier seq"
        );
        state.forks.insert(
            fork.author,
            RecordedFork {
                fork,
                proof,
                valid_head,
                ..recorded
            },
        );
        Ok(Some(fork))
    }

    /// Keeps the personal parts these events carry (durable on return).
    fn keep_parts<'a>(
        &self,
        events: impl Iterator<Item = &'a VerifiedEvent>,
    ) -> Result<(), StoreError> {
        let new: Vec<parts::NewPart> = events
            .filter_map(|e| Some((e.id, e.author, e.seq, e.personal.as_ref()?.bytes.clone())))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        self.parts
            .lock()
            .map_err(|_| StoreError::Poisoned)?
            .put(new)
    }

    /// Attaches the held part, if any.
    fn attach_part(&self, event: &mut VerifiedEvent) {
        if maillage_core::personal::committed(event.body.as_ref()).is_none() {
            return;
        }
        let part = self.parts.lock().ok().and_then(|p| p.get(&event.id));
        if let Some(part) = part {
            event.attach_personal(part);
        }
    }

    /// The held part of the event at a feed position (for forwarding: the peer checks it).
    fn part_at(&self, author: &HubId, seq: u64) -> Option<Vec<u8>> {
        self.parts.lock().ok()?.get_at(author, seq)
    }
}

impl<B: Backend> EventStore for Store<B> {
    fn charter(&self) -> &Charter {
        &self.charter
    }

    fn append_own(&self, events: &[VerifiedEvent]) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let mut heads: BTreeMap<HubId, (Head, u64)> = BTreeMap::new();
        let mut rows = Vec::with_capacity(events.len());
        for event in events {
            let not_appendable = |reason: String| StoreError::NotAppendable {
                author: event.author,
                seq: event.seq,
                reason,
            };
            if state.forks.contains_key(&event.author) {
                return Err(not_appendable("the feed is frozen after a fork".into()));
            }
            if let Some(damage) = state.damaged.get(&event.author) {
                return Err(not_appendable(format!(
                    "the feed's events {}..={} are damaged or missing on disk and must come back from peers first (the node signed them once: signing these positions again would fork the feed)",
                    damage.from_seq, damage.held_until
                )));
            }
            let head = heads
                .get(&event.author)
                .map(|(head, _)| *head)
                .or(state.heads.get(&event.author).copied());
            match chain::position(head, event) {
                Ok(Position::Next) => {}
                Ok(Position::Known) => {
                    return Err(not_appendable(format!(
                        "the feed already holds seq {}: sequence numbers are never reused",
                        head.map_or(0, |h| h.seq)
                    )));
                }
                Err(e) => return Err(not_appendable(e.to_string())),
            }
            heads.insert(
                event.author,
                (
                    Head {
                        seq: event.seq,
                        id: event.id,
                    },
                    event.hlc,
                ),
            );
            rows.push((event.author, event.seq, event.encode_signed()));
        }
        self.backend.write_checked(&rows)?;
        for (author, (head, hlc)) in heads {
            state.set_head(author, head, hlc);
        }
        self.keep_parts(events.iter())?;
        Ok(())
    }

    fn insert_all(&self, events: &[VerifiedEvent]) -> Result<Vec<Inserted>, StoreError> {
        let mut state = self.lock()?;
        let mut outcomes = Vec::with_capacity(events.len());
        let mut rows: Vec<EventRow> = Vec::new();
        // Events accepted in this batch, not yet written: (author, seq) -> event.
        let mut batch: BTreeMap<(HubId, u64), &VerifiedEvent> = BTreeMap::new();
        let mut heads: BTreeMap<HubId, (Head, u64)> = BTreeMap::new();
        for event in events {
            if let Some(recorded) = state.forks.get(&event.author) {
                let valid_until = recorded.accepts_until();
                let off_branch = recorded
                    .resolving
                    .is_some_and(|(seq, id)| event.seq == seq && event.id != id);
                if event.seq > valid_until || off_branch {
                    outcomes.push(Inserted::Frozen { valid_until });
                    continue;
                }
            }
            let head = heads
                .get(&event.author)
                .map(|(head, _)| *head)
                .or(state.heads.get(&event.author).copied());
            let outcome = match chain::position(head, event) {
                Ok(Position::Next) => {
                    heads.insert(
                        event.author,
                        (
                            Head {
                                seq: event.seq,
                                id: event.id,
                            },
                            event.hlc,
                        ),
                    );
                    rows.push((event.author, event.seq, event.encode_signed()));
                    batch.insert((event.author, event.seq), event);
                    Inserted::Stored
                }
                Ok(Position::Known) => match self.lookup(&batch, &event.author, event.seq)? {
                    Some(existing) if existing.id == event.id => Inserted::Duplicate,
                    Some(existing) => {
                        self.fork_mid_batch(&mut state, &mut rows, &mut heads, &existing, event)?
                    }
                    None => {
                        return Err(StoreError::Corrupt {
                            author: event.author,
                            seq: event.seq,
                            reason: "below the head but missing from the store".into(),
                        });
                    }
                },
                Err(ChainError::Gap {
                    expected, found, ..
                }) => Inserted::Gap { expected, found },
                Err(ChainError::PrevMismatch { .. }) => {
                    match self.lookup(&batch, &event.author, event.seq - 1)? {
                        Some(existing) => self
                            .fork_mid_batch(&mut state, &mut rows, &mut heads, &existing, event)?,
                        None => Inserted::Gap {
                            expected: event.seq - 1,
                            found: event.seq,
                        },
                    }
                }
                Err(other) => {
                    return Err(StoreError::Corrupt {
                        author: event.author,
                        seq: event.seq,
                        reason: other.to_string(),
                    });
                }
            };
            outcomes.push(outcome);
        }
        self.backend.write_checked(&rows)?;
        // Parts of the events stored now (a duplicate's part is not taken back: it may have
        // been erased).
        self.keep_parts(
            events
                .iter()
                .zip(&outcomes)
                .filter(|(_, outcome)| matches!(outcome, Inserted::Stored))
                .map(|(event, _)| event),
        )?;
        for (author, (head, hlc)) in heads {
            // A fork recorded later in the batch, or earlier by gossip, caps this feed below
            // the fork's seq (or at the branch an amendment chose).
            let cap = state.forks.get(&author).map(RecordedFork::accepts_until);
            if cap.is_none_or(|cap| head.seq <= cap) {
                state.set_head(author, head, hlc);
            }
            let reached = state
                .forks
                .get(&author)
                .and_then(|f| f.resolving)
                .filter(|(seq, id)| head.seq == *seq && head.id == *id);
            if let Some((seq, id)) = reached {
                self.backend
                    .meta_put(&resolution_key(&author), &encode_resolution(seq, id))?;
                if let Some(fork) = state.forks.get_mut(&author) {
                    fork.resolved = Some((seq, id));
                    fork.resolving = None;
                    fork.valid_head = Some(head);
                }
                tracing::info!(author = %author.short(), seq, branch = %id.short(), "fork resolved: the branch a charter amendment chose arrived");
            }
        }
        Ok(outcomes)
    }

    fn accept_fork_proof(&self, proof: ForkProof) -> Result<Option<Fork>, AcceptProofError> {
        // A proof's fork is at the lower of its two positions. One at or above the fork
        // recorded for its feed changes nothing, so it is not verified: its positions are read
        // from the two headers (no signature checked). A member replaying known proofs (256
        // to a frontier) costs this node two header decodings each, not four signatures.
        let position = |signed: &pb::SignedEvent| {
            check_unsigned_header(signed, &self.charter)
                .ok()
                .map(|header| (header.author(), header.seq()))
        };
        if let (Some((author, a)), Some((other, b))) =
            (position(&proof.first), position(&proof.second))
        {
            let known = author == other
                && self
                    .lock()?
                    .forks
                    .get(&author)
                    .is_some_and(|recorded| recorded.fork.seq <= a.min(b));
            if known {
                return Ok(None);
            }
        }
        // Each half verified once: the record is built from the same verified events.
        let (first, second, fork) = proof.verified(&self.charter)?;
        let mut state = self.lock()?;
        if state
            .forks
            .get(&fork.author)
            .is_some_and(|recorded| fork.seq >= recorded.fork.seq)
        {
            return Ok(None);
        }
        let recorded = self.record_fork(&mut state, &first, &second)?;
        Ok(recorded)
    }

    fn head(&self, author: &HubId) -> Option<Head> {
        self.lock().ok()?.heads.get(author).copied()
    }

    fn frontier(&self) -> BTreeMap<HubId, Head> {
        self.lock().map(|s| s.heads.clone()).unwrap_or_default()
    }

    fn forks(&self) -> BTreeMap<HubId, RecordedFork> {
        self.lock().map(|s| s.forks.clone()).unwrap_or_default()
    }

    fn held_branch(&self, author: &HubId) -> Result<Option<(u64, EventId)>, StoreError> {
        let Some(recorded) = self.forks().remove(author) else {
            return Ok(None);
        };
        let from = recorded.fork.seq;
        let mut prev = match from - 1 {
            0 => None,
            seq => match self.read_event(author, seq)? {
                Some(event) => Some(event.id),
                None => return Ok(None),
            },
        };
        let mut held = None;
        let mut seq = from;
        while let Some(event) = self.read_event(author, seq)? {
            if event.prev != prev {
                break;
            }
            prev = Some(event.id);
            held = Some((seq, event.id));
            seq += 1;
        }
        Ok(held)
    }

    fn resolve_fork(
        &self,
        author: &HubId,
        last_seq: u64,
        branch: EventId,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock()?;
        let Some(recorded) = state.forks.get(author).cloned() else {
            return Ok(false);
        };
        if recorded.resolved == Some((last_seq, branch)) {
            return Ok(true);
        }
        let from = recorded.fork.seq;
        if last_seq < from {
            return Ok(false);
        }
        let Some(last) = self.held_chain(author, from, last_seq, branch)? else {
            // Not held (yet): take the feed's events after the fork up to `last_seq` from
            // peers, and resolve once the event there is the branch's.
            if recorded.resolving != Some((last_seq, branch)) {
                self.backend
                    .meta_put(&resolving_key(author), &encode_resolution(last_seq, branch))?;
                if let Some(fork) = state.forks.get_mut(author) {
                    fork.resolving = Some((last_seq, branch));
                }
            }
            return Ok(false);
        };
        self.backend.meta_put(
            &resolution_key(author),
            &encode_resolution(last_seq, branch),
        )?;
        state.set_head(
            *author,
            Head {
                seq: last_seq,
                id: branch,
            },
            last.hlc,
        );
        if let Some(fork) = state.forks.get_mut(author) {
            fork.resolved = Some((last_seq, branch));
            fork.resolving = None;
            fork.valid_head = Some(Head {
                seq: last_seq,
                id: branch,
            });
        }
        tracing::info!(
            author = %author.short(),
            last_seq,
            branch = %branch.short(),
            "fork resolved by a charter amendment: the branch the federation holds stands"
        );
        Ok(true)
    }

    fn get(&self, author: &HubId, seq: u64) -> Result<Option<VerifiedEvent>, StoreError> {
        let max = self.valid_max(&*self.lock()?, author);
        if seq == 0 || seq > max {
            return Ok(None);
        }
        match self.read_event(author, seq) {
            Err(StoreError::Damaged { reason, .. }) => {
                self.damage_found(author, seq, reason)?;
                Ok(None)
            }
            Ok(Some(mut event)) => {
                self.attach_part(&mut event);
                Ok(Some(event))
            }
            other => other,
        }
    }

    fn range(
        &self,
        author: &HubId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<VerifiedEvent>, StoreError> {
        self.scan_valid(author, after_seq, limit)?
            .into_iter()
            .map(|(seq, bytes)| {
                let mut event = self.decode(author, seq, &bytes)?;
                self.attach_part(&mut event);
                Ok(event)
            })
            .collect()
    }

    fn range_signed(
        &self,
        author: &HubId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, pb::SignedEvent)>, StoreError> {
        self.scan_valid(author, after_seq, limit)?
            .into_iter()
            .map(|(seq, bytes)| {
                pb::SignedEvent::decode(bytes.as_slice())
                    .map(|mut signed| {
                        if let Some(part) = self.part_at(author, seq) {
                            signed.personal = part;
                        }
                        (seq, signed)
                    })
                    .map_err(|e| StoreError::Corrupt {
                        author: *author,
                        seq,
                        reason: format!("stored event does not decode: {e}"),
                    })
            })
            .collect()
    }

    fn head_hlcs(&self) -> BTreeMap<HubId, u64> {
        self.lock().map(|s| s.head_hlc.clone()).unwrap_or_default()
    }

    fn erase_personal(&self, events: &[EventId]) -> Result<usize, StoreError> {
        self.parts
            .lock()
            .map_err(|_| StoreError::Poisoned)?
            .erase(events)
    }

    fn held_personal(&self, events: &mut dyn Iterator<Item = &EventId>) -> Vec<EventId> {
        self.parts
            .lock()
            .map(|p| p.held(events))
            .unwrap_or_default()
    }

    fn damaged(&self) -> BTreeMap<HubId, Damage> {
        self.lock().map(|s| s.damaged.clone()).unwrap_or_default()
    }

    fn verify(
        &self,
        signatures: bool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<VerifyReport, StoreError> {
        let mut report = VerifyReport::default();
        let frontier = self.frontier();
        for author in self.backend.authors()? {
            report.feeds += 1;
            let expected_head = frontier.get(&author).copied();
            let end = expected_head.map_or(0, |h| h.seq);
            let done = report.events;
            let walk = self.walk_feed(&author, end, signatures, &mut |n| progress(done + n))?;
            report.events += walk.events;
            report.signatures += walk.signatures;
            if let Some(broken) = walk.broken {
                report.broken = Some(broken);
                break;
            }
            // The head's id came from the same bytes: its signature seals the whole chain.
            if let Some(last) = walk.last.as_ref().filter(|_| !signatures) {
                if let Err(e) = verify_stored_event(last.signed.clone(), &self.charter) {
                    report.broken = Some(Broken {
                        author,
                        seq: last.seq,
                        reason: e.to_string(),
                    });
                    break;
                }
                report.signatures += 1;
            }
            let head = walk.last.map(|last| Head {
                seq: last.seq,
                id: last.id,
            });
            if head != expected_head {
                report.broken = Some(Broken {
                    author,
                    seq: end,
                    reason: "the feed's head does not match the stored events".into(),
                });
                break;
            }
        }
        progress(report.events);
        Ok(report)
    }

    fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.backend.meta_get(key)
    }

    fn meta_put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.backend.meta_put(key, value)
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.backend.size_on_disk()
    }
}

#[cfg(test)]
mod tests;

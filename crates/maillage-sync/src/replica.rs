//! A node's replication state: its store, the sessions of peers pulling from it, what it knows
//! of each peer, and the ingest path every peer event takes.
//!
//! Ingest: every event of a batch is verified on its own (envelope, chain fields, strict
//! Ed25519), in slices spread over the machine's cores with rayon; the verdict of each event is
//! the verdict of `verify_event` on it (`verify_events` only shares the arithmetic of a slice),
//! so slicing and running in parallel change nothing but the time.
//! Events that fail are rejected alone (logged, counted, kept in a bounded list); the rest are
//! inserted in one store call, and the events the store took are handed to the [`Host`] (the
//! node folds them into its views) in store order.
//!
//! Size: the ingest path (verify, chain, fork proof, store, fold) and the session table are one
//! critical section; keeping them together keeps the locking visible.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use maillage_core::envelope::claimed_position;
use maillage_core::version::{self, SUPPORTED_VERSIONS};
use maillage_core::{
    Charter, EnvelopeError, Fork, ForkProof, Head, HubId, SecretKey, VerifiedEvent, pb,
    verify_events,
};
use maillage_store::{EventStore, Inserted, StoreError};
use rayon::prelude::*;
use tokio::sync::watch;

use crate::handshake::Sessions;
use crate::loglimit::{LogLimiter, Verdict};
use crate::sources::{Claim, Sources};

/// What the node behind a replica does with what replication brings.
pub trait Host: Send + Sync + 'static {
    /// Peer events the store just took, in store order (fold them).
    fn stored(&self, events: Vec<VerifiedEvent>);
    /// A fork proof was recorded: views that folded the author's later events are stale.
    fn forked(&self, fork: &Fork);
    /// Owner side of an online cross-territory redemption: transfer `serials` to `caller`
    /// and return the signed `VoucherTransferred` (already appended and folded).
    fn transfer(
        &self,
        caller: HubId,
        request: pb::TransferRequest,
    ) -> Result<VerifiedEvent, tonic::Status>;
}

/// Store and fold tasks of one node in progress or queued for the blocking pool, at most.
pub const BLOCKING_TASKS_MAX: usize = 64;

/// Tunables, with the defaults a node ships with.
#[derive(Debug, Clone)]
pub struct ReplicaConfig {
    /// Events per streamed batch, at most (a peer may ask for fewer).
    pub batch_events_max: usize,
    /// Encoded bytes per streamed batch, at most (an event alone may exceed it).
    pub batch_bytes_max: usize,
    /// A following stream sends an empty batch after this much silence, so that the
    /// receiver can tell a quiet peer from a stalled one.
    pub heartbeat_ms: u64,
    /// A link with no batch (not even a heartbeat) for this long is dropped and redialled.
    pub stall_timeout_ms: u64,
    /// First retry delay after a failed link; doubles up to `retry_max_ms`.
    pub retry_min_ms: u64,
    /// Longest retry delay.
    pub retry_max_ms: u64,
    /// Batches received but not yet verified and stored, per link, at most (backpressure:
    /// the stream is not read further until the ingest catches up).
    pub ingest_queue_batches: usize,
    /// Recent rejections kept for `status`.
    pub rejections_kept: usize,
    /// A link whose peer offers no protocol version this node implements retries after this
    /// long: an upgrade takes an operator, not a few seconds.
    pub incompatible_retry_ms: u64,
    /// A feed whose source link brought nothing for this long while another peer said it had
    /// more is pulled from that peer instead ([`crate::sources`]).
    pub source_fallback_ms: u64,
    /// The protocol versions this replica offers and accepts in handshakes. Always
    /// [`SUPPORTED_VERSIONS`] in a node (`node.toml` has no such setting); tests set another
    /// list to play a node of another release.
    pub protocol_versions: Vec<u32>,
}

impl Default for ReplicaConfig {
    fn default() -> Self {
        Self {
            batch_events_max: 512,
            batch_bytes_max: 1 << 20,
            heartbeat_ms: 2_000,
            stall_timeout_ms: 10_000,
            retry_min_ms: 200,
            retry_max_ms: 5_000,
            ingest_queue_batches: 4,
            rejections_kept: 100,
            incompatible_retry_ms: 60_000,
            source_fallback_ms: 5_000,
            protocol_versions: SUPPORTED_VERSIONS.to_vec(),
        }
    }
}

/// Hard ceilings on what a peer may ask for, whatever the config says.
pub const BATCH_EVENTS_CEILING: usize = 4096;
/// A gRPC message (one batch) may not exceed this on either side.
pub const MESSAGE_BYTES_MAX: usize = 4 << 20;
/// Fork proofs per gossip call or frontier, at most.
pub const PROOFS_PER_MESSAGE_MAX: usize = 256;
/// Per peer, (version, feed) pairs of refused events of unimplemented versions kept, at most.
pub const UNSUPPORTED_KEPT: usize = 16;
/// A warning about a peer link (its protocol version, a key it no longer admits) is logged at
/// most this often per peer and topic.
pub const LINK_WARNING_INTERVAL_MS: u64 = 60_000;

/// A peer event that was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The feed, if the event said (and decoded far enough to say). For an event refused before
    /// its signature was verified, or for its signature, this is what its payload names.
    pub author: Option<HubId>,
    /// The seq, likewise.
    pub seq: u64,
    /// Where it came from (the link's address or the peer's key).
    pub peer: String,
    /// Why.
    pub reason: String,
}

/// Why a peer's event or fork proof was refused, in classes an operator can watch and alert
/// on (the full reason goes to the log and to [`Replica::recent_rejections`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RejectionClass {
    /// Does not decode, exceeds a limit, wrong version or a malformed field.
    Malformed,
    /// Signed for another federation.
    WrongFederation,
    /// Authored by a key that is not a hub of the charter.
    NotAMember,
    /// The Ed25519 signature (or the author's key) does not pass strict verification.
    BadSignature,
    /// Does not extend the feed as stored (a gap: usually the rest of a feed after one
    /// refused event).
    OutOfOrder,
    /// Belongs to a feed frozen by a fork proof, past the last valid seq.
    FrozenFeed,
    /// A fork proof that does not prove a fork.
    BadForkProof,
    /// Of a protocol version this node does not implement (from a node of a later release,
    /// or an earlier one): refused, never folded by this version's rules.
    UnsupportedVersion,
}

impl RejectionClass {
    /// Every class, in a fixed order.
    pub const ALL: [Self; 8] = [
        Self::Malformed,
        Self::WrongFederation,
        Self::NotAMember,
        Self::BadSignature,
        Self::OutOfOrder,
        Self::FrozenFeed,
        Self::BadForkProof,
        Self::UnsupportedVersion,
    ];

    /// A short stable name (metric label).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::WrongFederation => "wrong_federation",
            Self::NotAMember => "not_a_member",
            Self::BadSignature => "bad_signature",
            Self::OutOfOrder => "out_of_order",
            Self::FrozenFeed => "frozen_feed",
            Self::BadForkProof => "bad_fork_proof",
            Self::UnsupportedVersion => "unsupported_version",
        }
    }

    /// The class of an envelope verdict.
    pub fn of(error: &EnvelopeError) -> Self {
        if error.unsupported_version().is_some() {
            return Self::UnsupportedVersion;
        }
        match error {
            EnvelopeError::Federation { .. } => Self::WrongFederation,
            EnvelopeError::UnknownAuthor { .. } | EnvelopeError::NotAHub { .. } => Self::NotAMember,
            EnvelopeError::Signature(_) => Self::BadSignature,
            _ => Self::Malformed,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Totals since the replica started, for metrics. Counted where replication sees the events,
/// so that they hold whichever peer (dialled or dialling in) sent them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaCounters {
    /// Events received from peers (stored, duplicate or refused).
    pub events_received: u64,
    /// Of which newly stored.
    pub events_stored: u64,
    /// Of which already held.
    pub events_duplicate: u64,
    /// Peer events whose signature was checked (events this node holds byte for byte are
    /// recognised from the store and not verified again).
    pub events_verified: u64,
    /// Refused events and fork proofs, by class.
    pub rejected: BTreeMap<RejectionClass, u64>,
    /// Forks found or learnt from a peer's proof.
    pub forks_detected: u64,
    /// Handshakes refused because the peer offers no protocol version this node implements.
    pub handshakes_incompatible: u64,
}

/// The atomic side of [`ReplicaCounters`].
#[derive(Debug, Default)]
struct Counters {
    received: AtomicU64,
    stored: AtomicU64,
    duplicate: AtomicU64,
    verified: AtomicU64,
    rejected: [AtomicU64; RejectionClass::ALL.len()],
    forks: AtomicU64,
    handshakes_incompatible: AtomicU64,
}

impl Counters {
    fn reject(&self, class: RejectionClass, count: u64) {
        self.rejected[class.index()].fetch_add(count, Ordering::Relaxed);
    }
}

/// A peer that offers no protocol version this node implements.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Incompatible {
    /// The versions the peer implements, as it said (v1 when it named none).
    pub peer: Vec<u32>,
    /// The versions this node implements.
    pub ours: Vec<u32>,
}

impl std::fmt::Display for Incompatible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::handshake::incompatible_text(&self.peer, &self.ours))
    }
}

/// Events of a protocol version this node does not implement, received from one peer and
/// refused (never stored), per version and the feed they name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedEvents {
    /// Their version.
    pub version: u32,
    /// The feed they name (as the payload says: it is not authenticated).
    pub author: Option<HubId>,
    /// The lowest seq they name.
    pub from_seq: u64,
    /// How many were refused.
    pub count: u64,
}

impl std::fmt::Display for UnsupportedEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "events of protocol v{} from seq {}",
            self.version, self.from_seq
        )?;
        if let Some(author) = self.author {
            write!(f, " of feed {}", author.short())?;
        }
        write!(
            f,
            " ({} refused, not stored); this node implements {}: {}",
            self.count,
            version::list(SUPPORTED_VERSIONS),
            version::advice(self.version)
        )
    }
}

/// What this node knows of one peer.
#[derive(Debug, Clone, Default)]
pub struct PeerState {
    /// The address dialled (empty for a peer that dials us).
    pub address: String,
    /// The peer's key, once a handshake succeeded.
    pub key: Option<HubId>,
    /// `connecting`, `catching-up`, `live`, `backing-off`, `incompatible-protocol`,
    /// `pulling-from-us`, `stopped`.
    pub state: String,
    /// The protocol version agreed at the last handshake (0 before one succeeded).
    pub protocol_version: u32,
    /// Set while the peer offers no protocol version this node implements.
    pub incompatible: Option<Incompatible>,
    /// Events of protocol versions this node does not implement received from the peer, by
    /// version and feed (at most [`UNSUPPORTED_KEPT`]).
    pub unsupported: Vec<UnsupportedEvents>,
    /// The last failure, for the operator.
    pub last_error: String,
    /// Events received from it.
    pub events_received: u64,
    /// Of which refused.
    pub events_rejected: u64,
    /// Wall time (unix ms) of the last message.
    pub last_contact_ms: u64,
    /// gRPC message bytes received from it (protobuf plus the 5-byte message header).
    pub bytes_received: u64,
    /// gRPC messages (event batches, heartbeats included) received from it.
    pub messages_received: u64,
    /// The peer's heads as far as this node knows (its frontier, then what it sent).
    pub heads: BTreeMap<HubId, u64>,
    /// Heads the peer gave (its frontier at the exchange, then `heard`) not compared yet with
    /// what this node holds: compared with the event it holds at that seq once it holds it (a
    /// fork shows there).
    pub unchecked: BTreeMap<HubId, (u64, maillage_core::EventId)>,
    /// For a peer that pulls from this node: the heads this node gave it in the last frontier
    /// exchange it asked for. Its named pull streams report every feed that moved since.
    pub told: Option<BTreeMap<HubId, u64>>,
}

/// What a link does after its peer said how far it holds the feeds ([`Replica::heard`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// It goes on following.
    Follow,
    /// It took a feed over: it plans its pull again.
    Replan,
    /// The peer holds another event of `author` at `seq` than this node: a fork, if the peer
    /// proves it; the link plans its pull again to fetch the peer's version, if
    /// [`DisputeGate::allow`] says so.
    Disputed {
        /// The feed.
        author: HubId,
        /// The seq both hold.
        seq: u64,
    },
}

/// The pace of one link's disputes. An honest peer's disagreeing head proves a fork in the
/// one pull it starts (any seq where the two versions differ is a proof). A dispute again on
/// the same link with no new fork proof is a peer whose word and events disagree: each would
/// cost a dial, a handshake and a log line, and cut the link's pull short, so it waits the
/// retry delay, doubling up to its ceiling; the link keeps following meanwhile.
#[derive(Debug, Clone, Default)]
pub struct DisputeGate {
    next_ms: u64,
    delay_ms: u64,
    forks: usize,
}

impl DisputeGate {
    /// Whether a dispute at `now_ms` may make the link plan again, this node holding `forks`
    /// fork proofs; retry delays from `min_ms` to `max_ms`.
    pub fn allow(&mut self, now_ms: u64, forks: usize, min_ms: u64, max_ms: u64) -> bool {
        if forks > self.forks || self.delay_ms == 0 {
            // The first dispute, or the last ones proved something: at once.
            self.delay_ms = min_ms.max(1);
            self.next_ms = 0;
        }
        self.forks = forks;
        if now_ms < self.next_ms {
            return false;
        }
        self.next_ms = now_ms.saturating_add(self.delay_ms);
        self.delay_ms = self.delay_ms.saturating_mul(2).min(max_ms.max(1));
        true
    }
}

/// What one ingest call did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Events newly stored.
    pub stored: usize,
    /// Events already held.
    pub duplicates: usize,
    /// Events refused (bad envelope or signature, gap, frozen feed).
    pub rejected: usize,
    /// Forks found.
    pub forks: Vec<Fork>,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// What replication takes from the world: the time, random bytes (handshake challenges and
/// session tokens), and where blocking work (store, fold) runs. A node uses
/// [`SystemEnvironment`]; a simulation passes a simulated clock, a seeded generator and runs
/// everything inline on its single thread, so that a seed replays the same run.
pub trait Environment: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    /// Fills `buffer` with random bytes.
    fn fill_random(&self, buffer: &mut [u8]);
    /// Whether store and fold work runs inline on the calling task instead of tokio's
    /// blocking pool.
    fn inline(&self) -> bool {
        false
    }
}

/// The real clock, the operating system's randomness, the blocking pool.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemEnvironment;

impl Environment for SystemEnvironment {
    fn now_ms(&self) -> u64 {
        now_ms()
    }

    fn fill_random(&self, buffer: &mut [u8]) {
        use rand::RngExt;
        rand::rng().fill(buffer);
    }
}

/// A node's replication state.
pub struct Replica {
    /// The federation.
    pub charter: Arc<Charter>,
    /// This node's key (handshakes).
    secret: SecretKey,
    /// The key this node acts under once the succession of its key is in effect, if the
    /// operator drew it (`node.key.next`): a link dials with it when a peer refuses this
    /// node's key, which the peer's views retired before this node's own fold the succession
    /// (whose endorsements may have to come from that very peer).
    successor: std::sync::OnceLock<SecretKey>,
    /// Where events live.
    pub store: Arc<dyn EventStore>,
    /// The node behind.
    host: Arc<dyn Host>,
    /// Tunables.
    pub config: ReplicaConfig,
    /// Bumped whenever the store gained events or proofs: following streams wake on it.
    changed: watch::Sender<u64>,
    /// Turns true when the node shuts down: following streams end so the server can stop.
    stopping: watch::Sender<bool>,
    /// Bumped when the links must plan their pulls afresh: an amendment chose a branch of a
    /// forked feed this node does not hold yet, which the last plans left out.
    resync: watch::Sender<u64>,
    /// Which link each feed is pulled from ([`crate::sources`]).
    sources: Mutex<Sources>,
    /// Bumped when a feed changed source or lost it: the links check whether to replan.
    sources_changed: watch::Sender<u64>,
    /// The branches being taken from peers the links were last told about.
    resolving: Mutex<BTreeMap<HubId, (u64, maillage_core::EventId)>>,
    /// How many admitted keys the links' current plans know of ([`Replica::check_admitted`]).
    admitted: std::sync::atomic::AtomicUsize,
    /// Handshakes and sessions of peers dialling in.
    pub(crate) sessions: Mutex<Sessions>,
    /// Answers `Hello`s with challenges `sessions` accepts, without taking its lock.
    pub(crate) challenger: crate::handshake::Challenger,
    /// Peers, by address for links this node dials and by key for peers dialling in.
    peers: Mutex<BTreeMap<String, PeerState>>,
    /// The last refused peer events, newest last.
    rejections: Mutex<VecDeque<Rejection>>,
    /// Serialises store insertion and folding, so the host folds in store order.
    ingest_lock: Mutex<()>,
    /// When a warning about a peer link was last logged, per peer and topic.
    link_warnings: Mutex<BTreeMap<String, u64>>,
    /// Warnings about what peers and strangers send, rate-limited per source.
    warnings: Mutex<LogLimiter>,
    /// When the replica started.
    started: Instant,
    /// Totals for metrics.
    counters: Counters,
    /// Store and fold work in progress or waiting for a thread, at most (`blocking`).
    blocking_slots: tokio::sync::Semaphore,
    /// Clock, randomness, where blocking work runs.
    environment: Arc<dyn Environment>,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("node", &self.secret.hub_id())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind: keep serving.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Events verified together by one rayon task (one batch equation): a 512-event batch is
/// eight tasks, enough to keep every core busy. 64 rather than 32 cut an observer's CPU in a
/// 1 M-event catch-up by 3 % (fewer doublings and key multiplications per event); 128 was
/// slower (too few tasks).
const VERIFY_SLICE: usize = 64;

/// Verifies every event of a batch on its own, in parallel; results in batch order.
pub fn verify_batch(
    charter: &Charter,
    batch: Vec<pb::SignedEvent>,
) -> Vec<Result<VerifiedEvent, EnvelopeError>> {
    if batch.len() <= VERIFY_SLICE {
        return verify_events(batch, charter);
    }
    batch
        .into_par_iter()
        .chunks(VERIFY_SLICE)
        .flat_map_iter(|slice| verify_events(slice, charter))
        .collect()
}

/// One event of a peer's batch, checked before storing ([`Replica::check_batch`]).
// As large as the `Result<VerifiedEvent, EnvelopeError>` the ingest stages passed before;
// boxing the verified event would add an allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Checked {
    /// Envelope and signature verified.
    Verified(VerifiedEvent),
    /// The event this node holds at that author's seq, byte for byte in its payload (so the
    /// same id): not verified again.
    Held {
        /// The feed.
        author: HubId,
        /// The seq.
        seq: u64,
    },
    /// Refused, with the author and seq its payload names when they read (unauthenticated).
    Refused {
        /// Why.
        error: EnvelopeError,
        /// The author and seq the payload names.
        position: Option<(HubId, u64)>,
    },
}

impl Replica {
    /// A replica over `store`, serving as `secret`.
    pub fn new(
        charter: Arc<Charter>,
        secret: SecretKey,
        store: Arc<dyn EventStore>,
        host: Arc<dyn Host>,
        config: ReplicaConfig,
    ) -> Arc<Self> {
        Self::with_environment(
            charter,
            secret,
            store,
            host,
            config,
            Arc::new(SystemEnvironment),
        )
    }

    /// A replica taking its clock, randomness and blocking policy from `environment`.
    pub fn with_environment(
        charter: Arc<Charter>,
        secret: SecretKey,
        store: Arc<dyn EventStore>,
        host: Arc<dyn Host>,
        config: ReplicaConfig,
        environment: Arc<dyn Environment>,
    ) -> Arc<Self> {
        // The key of the handshake challenges' MACs, for this process's life.
        let mut nonce_key = [0u8; 32];
        environment.fill_random(&mut nonce_key);
        let sessions = Sessions::new(nonce_key);
        let challenger = sessions.challenger();
        let charter_admitted = charter.admitted_count();
        let sources = Sources::new(config.source_fallback_ms);
        Arc::new(Self {
            environment,
            charter,
            secret,
            successor: std::sync::OnceLock::new(),
            store,
            host,
            config,
            changed: watch::channel(0).0,
            stopping: watch::channel(false).0,
            resync: watch::channel(0).0,
            sources: Mutex::new(sources),
            sources_changed: watch::channel(0).0,
            resolving: Mutex::new(BTreeMap::new()),
            admitted: std::sync::atomic::AtomicUsize::new(charter_admitted),
            sessions: Mutex::new(sessions),
            challenger,
            peers: Mutex::new(BTreeMap::new()),
            rejections: Mutex::new(VecDeque::new()),
            ingest_lock: Mutex::new(()),
            link_warnings: Mutex::new(BTreeMap::new()),
            warnings: Mutex::new(LogLimiter::default()),
            started: Instant::now(),
            counters: Counters::default(),
            blocking_slots: tokio::sync::Semaphore::new(BLOCKING_TASKS_MAX),
        })
    }

    /// The environment's clock (ms since the Unix epoch).
    pub fn now_ms(&self) -> u64 {
        self.environment.now_ms()
    }

    /// `N` random bytes from the environment.
    pub fn random<const N: usize>(&self) -> [u8; N] {
        let mut bytes = [0u8; N];
        self.environment.fill_random(&mut bytes);
        bytes
    }

    /// Whether blocking work runs inline (simulations).
    pub fn inline(&self) -> bool {
        self.environment.inline()
    }

    /// Runs store or fold work: on tokio's blocking pool, or inline in a simulation.
    pub async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Arc<Self>) -> T + Send + 'static,
    ) -> Result<T, String> {
        if self.inline() {
            return Ok(work(self));
        }
        // Requests of peers wait here for a slot rather than each queueing a task for the
        // blocking pool (whose queue has no bound): a flood of requests waits in the
        // per-connection limits instead of growing the node's memory.
        let _slot = self
            .blocking_slots
            .acquire()
            .await
            .map_err(|e| format!("blocking task refused: {e}"))?;
        let replica = self.clone();
        tokio::task::spawn_blocking(move || work(&replica))
            .await
            .map_err(|e| format!("blocking task failed: {e}"))
    }

    /// This node's key.
    pub fn id(&self) -> HubId {
        self.secret.hub_id()
    }

    pub(crate) fn secret(&self) -> &SecretKey {
        &self.secret
    }

    /// Gives this node the key it acts under once the succession of its key is in effect
    /// (`maillage key new` drew it): links dial with it where a peer no longer admits this
    /// node's key ([`crate::PeerClient::connect`]). It signs nothing else. Given once, at
    /// start: a second call changes nothing.
    pub fn set_successor(&self, secret: SecretKey) {
        let _ = self.successor.set(secret);
    }

    /// The successor key [`Replica::set_successor`] gave, if any.
    pub(crate) fn successor(&self) -> Option<&SecretKey> {
        self.successor.get()
    }

    pub(crate) fn host(&self) -> &Arc<dyn Host> {
        &self.host
    }

    /// Time since start.
    pub fn uptime_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Totals since start (events received, stored, refused by class, forks).
    pub fn counters(&self) -> ReplicaCounters {
        let c = &self.counters;
        ReplicaCounters {
            events_received: c.received.load(Ordering::Relaxed),
            events_stored: c.stored.load(Ordering::Relaxed),
            events_duplicate: c.duplicate.load(Ordering::Relaxed),
            events_verified: c.verified.load(Ordering::Relaxed),
            rejected: RejectionClass::ALL
                .iter()
                .map(|class| (*class, c.rejected[class.index()].load(Ordering::Relaxed)))
                .collect(),
            forks_detected: c.forks.load(Ordering::Relaxed),
            handshakes_incompatible: c.handshakes_incompatible.load(Ordering::Relaxed),
        }
    }

    /// Counts a handshake refused for want of a common protocol version.
    pub fn count_incompatible_handshake(&self) {
        self.counters
            .handshakes_incompatible
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Logs a warning about what `source` (a peer, or a stranger's address) sent with `warn`,
    /// which receives how many of its warnings were suppressed before; at most
    /// [`crate::loglimit::LINES_PER_WINDOW`] a minute per source, then one line saying the
    /// rest is suppressed. Returns whether `warn` ran.
    pub fn limited_warning(&self, source: &str, warn: impl FnOnce(u64)) -> bool {
        let verdict = lock(&self.warnings).check(source, self.now_ms());
        match verdict {
            Verdict::Log { suppressed } => {
                warn(suppressed);
                true
            }
            Verdict::Suppressing => {
                tracing::warn!(%source, "more warnings about what this source sends are suppressed for up to a minute");
                false
            }
            Verdict::Suppress => false,
        }
    }

    /// Whether a warning about `peer` on `topic` (its protocol version, a key it no longer
    /// admits) is due (at most one per [`LINK_WARNING_INTERVAL_MS`]); the others go to the
    /// debug log. Bounded: topics are per peer of the charter or per link.
    pub fn link_warning_due(&self, peer: &str, topic: &str) -> bool {
        let now = self.now_ms();
        let mut warned = lock(&self.link_warnings);
        let last = warned.entry(format!("{peer}\0{topic}")).or_insert(0);
        if *last == 0 || now.saturating_sub(*last) >= LINK_WARNING_INTERVAL_MS {
            *last = now.max(1);
            true
        } else {
            false
        }
    }

    /// Wakes following streams: call after appending own events outside replication.
    pub fn notify(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
        self.check_resolving();
        self.check_admitted();
    }

    /// Links plan their pulls again when this node folded an amendment admitting a key: the
    /// peers' frontiers named that key's feed, which the plans skipped while it was unknown.
    fn check_admitted(&self) {
        use std::sync::atomic::Ordering;
        let now = self.charter.admitted_count();
        if self.admitted.swap(now, Ordering::AcqRel) != now {
            tracing::info!(
                admitted = now,
                "an amendment admitted a key: links pull again to fetch its feed"
            );
            self.resync.send_modify(|v| *v = v.wrapping_add(1));
        }
    }

    /// Links plan their pulls again when the store started taking a branch of a forked feed
    /// (an amendment chose it) that their current plans leave out.
    fn check_resolving(&self) {
        let now: BTreeMap<HubId, (u64, maillage_core::EventId)> = self
            .store
            .forks()
            .into_iter()
            .filter_map(|(author, fork)| fork.resolving.map(|r| (author, r)))
            .collect();
        let mut seen = lock(&self.resolving);
        if now.iter().any(|(author, r)| seen.get(author) != Some(r)) {
            tracing::info!(
                feeds = now.len(),
                "an amendment chose a branch of a forked feed this node does not hold: links pull again"
            );
            self.resync.send_modify(|v| *v = v.wrapping_add(1));
        }
        *seen = now;
    }

    /// Changes when the links must plan their pulls afresh.
    pub fn resync_signal(&self) -> watch::Receiver<u64> {
        self.resync.subscribe()
    }

    /// Changes when a feed changed source or lost it ([`Replica::must_replan`] says which
    /// links act on it).
    pub fn sources_signal(&self) -> watch::Receiver<u64> {
        self.sources_changed.subscribe()
    }

    fn sources_moved(&self) {
        self.sources_changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Link `link`, to `peer`, plans a pull of `wanted`: the feeds it pulls (one source per
    /// feed, [`crate::sources`]).
    pub fn claim_sources(&self, link: &str, peer: HubId, wanted: &[HubId]) -> Claim {
        let claim = lock(&self.sources).claim(link, peer, wanted, self.now_ms());
        if claim.displaced {
            self.sources_moved();
        }
        claim
    }

    /// The feeds with a recorded fork proof. Every link pulls them from its peer (the proof's
    /// branches, the one an amendment keeps): no link is their source, nor held to a word on
    /// them (a peer still holding one past the fork would otherwise take it over again and
    /// again).
    pub fn forked_feeds(&self) -> BTreeSet<HubId> {
        self.store.forks().into_keys().collect()
    }

    /// Whether link `link` is the source of `author`'s feed.
    pub fn is_source(&self, link: &str, author: &HubId) -> bool {
        lock(&self.sources).is_source(link, author)
    }

    /// Link `link` ended: its feeds go to other links.
    pub fn release_sources(&self, link: &str) {
        if lock(&self.sources).release(link) {
            self.sources_moved();
        }
    }

    /// Whether link `link`, pulling `pulled`, must plan its pull again: it lost one of them
    /// to another link, or it is the link to take a feed nobody pulls (its peer is the live
    /// peer said to hold the most of it; ties go to the first link by name).
    pub fn must_replan(&self, link: &str, pulled: &BTreeSet<HubId>) -> bool {
        let sources = lock(&self.sources);
        if pulled.iter().any(|author| !sources.is_source(link, author)) {
            return true;
        }
        let peers = lock(&self.peers);
        let live: Vec<(&String, &PeerState)> = peers
            .iter()
            .filter(|(_, p)| p.state == "live" || p.state == "catching-up")
            .collect();
        let held = self.store.frontier();
        let now = self.now_ms();
        let forked = self.forked_feeds();
        let heard: BTreeSet<&HubId> = live
            .iter()
            .flat_map(|(_, p)| p.heads.keys())
            .filter(|author| !forked.contains(author))
            .collect();
        sources.unsourced(heard).into_iter().any(|author| {
            let have = held.get(&author).map_or(0, |h| h.seq);
            let best = live
                .iter()
                .filter(|(name, _)| !sources.barred(name, &author, now))
                .filter_map(|(name, p)| Some((p.heads.get(&author).copied()?, *name)))
                .filter(|(seq, _)| *seq > have)
                .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(a.1)));
            best.is_some_and(|(_, name)| name == link)
        })
    }

    /// Link `link`'s peer said how far it holds feeds it does not send on this link.
    /// [`Heard::Replan`] when the link took one over (its source brought nothing for the
    /// fallback delay while the peer had more, or it had none): it must plan its pull again.
    ///
    /// Called with every batch the link receives (heartbeats included), so a source that
    /// stalls is noticed even when no feed moves: every head the peer is known to hold (its
    /// frontier at the exchange, then what it said) is compared with what this node holds.
    ///
    /// [`Heard::Disputed`] when the peer holds another event than this node at a seq both
    /// hold: the link plans again, and the fresh frontier exchange makes the pull that proves
    /// the fork (at a pace [`DisputeGate`] bounds).
    pub fn heard(
        &self,
        link: &str,
        peer: HubId,
        heads: &[(HubId, u64, maillage_core::EventId)],
    ) -> Heard {
        // A key admitted since the links planned (its amendment folded after the events that
        // carried it were stored) is pulled now: a link asks only for the feeds it plans, and
        // the admitted feed may not move again to be announced.
        self.check_admitted();
        let held = self.store.frontier();
        let mut known = BTreeMap::new();
        let mut to_check = Vec::new();
        self.update_peer(link, |p| {
            for (author, seq, id) in heads {
                let entry = p.heads.entry(*author).or_insert(0);
                *entry = (*entry).max(*seq);
                p.unchecked.insert(*author, (*seq, *id));
            }
            p.unchecked.retain(|author, (seq, id)| {
                if held.get(author).is_some_and(|h| h.seq >= *seq) {
                    to_check.push((*author, *seq, *id));
                    false
                } else {
                    true
                }
            });
            known = p.heads.clone();
        });
        let disputed = to_check.iter().find(|(author, seq, id)| {
            self.store
                .get(author, *seq)
                .ok()
                .flatten()
                .is_some_and(|event| event.id != *id)
        });
        if let Some((author, seq, _)) = disputed {
            return Heard::Disputed {
                author: *author,
                seq: *seq,
            };
        }
        if known.is_empty() {
            return Heard::Follow;
        }
        let now = self.now_ms();
        let mut took = false;
        let forked = self.forked_feeds();
        {
            let mut sources = lock(&self.sources);
            for (author, seq) in known.iter().filter(|(a, _)| !forked.contains(a)) {
                let have = held.get(author).map_or(0, |h| h.seq);
                let takes = self.charter.member(author).is_some();
                took |= sources.heard(link, peer, *author, (*seq, have), now, takes);
            }
            // A source that broke its word lost its feed: every link plans again, and the
            // one whose peer holds the most of it takes it.
            if sources.take_dropped() {
                drop(sources);
                self.sources_moved();
            }
        }
        if took {
            self.sources_moved();
            return Heard::Replan;
        }
        Heard::Follow
    }

    /// Ends every following stream this node serves (shutdown).
    pub fn begin_shutdown(&self) {
        self.stopping.send_replace(true);
    }

    /// Turns true at shutdown.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// A receiver that changes whenever the store gains something.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// The frontier and fork proofs, for a peer.
    pub fn frontier_message(&self) -> pb::Frontier {
        pb::Frontier {
            heads: self
                .store
                .frontier()
                .into_iter()
                .map(|(author, head)| pb::FeedHead {
                    author: author.0.to_vec(),
                    seq: head.seq,
                    id: head.id.0.to_vec(),
                })
                .collect(),
            forks: self
                .store
                .forks()
                .values()
                .take(PROOFS_PER_MESSAGE_MAX)
                .map(|f| f.proof.to_wire())
                .collect(),
        }
    }

    /// Verifies and stores a batch from `peer`. One bad event is rejected alone.
    pub fn ingest(
        &self,
        peer: &str,
        batch: Vec<pb::SignedEvent>,
    ) -> Result<IngestReport, StoreError> {
        let checked = self.check_batch(batch);
        self.store_verified(peer, checked)
    }

    /// Checks a peer's batch, results in batch order. An event this node already holds (same
    /// author, seq and payload, hence the same id) is recognised from the store before any
    /// signature check: a peer replaying held events costs a lookup each, not a verification.
    /// The others are verified with [`verify_batch`].
    pub fn check_batch(&self, batch: Vec<pb::SignedEvent>) -> Vec<Checked> {
        let mut held: Vec<Option<Checked>> = Vec::with_capacity(batch.len());
        let mut fresh = Vec::new();
        let mut positions = Vec::new();
        for signed in batch {
            let position = claimed_position(&signed.payload);
            match position {
                Some((author, seq)) if self.holds(&author, seq, &signed.payload) => {
                    held.push(Some(Checked::Held { author, seq }));
                }
                _ => {
                    held.push(None);
                    fresh.push(signed);
                    positions.push(position);
                }
            }
        }
        self.counters
            .verified
            .fetch_add(fresh.len() as u64, Ordering::Relaxed);
        let mut verdicts = verify_batch(&self.charter, fresh)
            .into_iter()
            .zip(positions);
        held.into_iter()
            .filter_map(|slot| match slot {
                Some(known) => Some(known),
                None => verdicts.next().map(|(verdict, position)| match verdict {
                    Ok(event) => Checked::Verified(event),
                    Err(error) => Checked::Refused { error, position },
                }),
            })
            .collect()
    }

    /// Whether the store holds, at `author`'s `seq`, an event with exactly this payload.
    fn holds(&self, author: &HubId, seq: u64, payload: &[u8]) -> bool {
        self.store.head(author).is_some_and(|head| seq <= head.seq)
            && self
                .store
                .get(author, seq)
                .ok()
                .flatten()
                .is_some_and(|event| event.signed.payload == payload)
    }

    /// Stores events checked by [`Replica::check_batch`].
    pub fn store_verified(
        &self,
        peer: &str,
        checked: Vec<Checked>,
    ) -> Result<IngestReport, StoreError> {
        let mut report = IngestReport::default();
        let mut events = Vec::with_capacity(checked.len());
        let mut refused = Vec::new();
        let mut envelope_refused = 0;
        // What the peer holds, from the events it sent: only those that follow on from what
        // this node holds (a signed event far ahead of a gap, seq u64::MAX say, proves nothing
        // the peer could serve and would show an absurd lag).
        let mut heads: BTreeMap<HubId, u64> = BTreeMap::new();
        // (version, feed) -> (lowest seq, count): one report per feed, like gaps.
        let mut unsupported: BTreeMap<(u32, Option<HubId>), (u64, u64)> = BTreeMap::new();
        for result in checked {
            match result {
                Checked::Verified(event) => events.push(event),
                Checked::Held { author, seq } => {
                    report.duplicates += 1;
                    let head = heads.entry(author).or_default();
                    *head = (*head).max(seq);
                }
                Checked::Refused { error, position } => {
                    self.counters.reject(RejectionClass::of(&error), 1);
                    if let Some((version, author, seq)) = error.unsupported_version() {
                        let entry = unsupported.entry((version, author)).or_insert((seq, 0));
                        entry.0 = entry.0.min(seq);
                        entry.1 += 1;
                        continue;
                    }
                    envelope_refused += 1;
                    refused.push(Rejection {
                        author: position.map(|(author, _)| author),
                        seq: position.map_or(0, |(_, seq)| seq),
                        peer: peer.to_string(),
                        reason: error.to_string(),
                    })
                }
            }
        }
        let held = report.duplicates;
        let unsupported: Vec<UnsupportedEvents> = unsupported
            .into_iter()
            .map(|((version, author), (from_seq, count))| UnsupportedEvents {
                version,
                author,
                from_seq,
                count,
            })
            .collect();
        let unsupported_count: u64 = unsupported.iter().map(|u| u.count).sum();
        let received = (events.len() + refused.len() + held) as u64 + unsupported_count;
        self.counters
            .received
            .fetch_add(received, Ordering::Relaxed);
        {
            let _order = lock(&self.ingest_lock);
            let outcomes = if events.is_empty() {
                Vec::new()
            } else {
                self.store.insert_all(&events)?
            };
            let mut stored = Vec::with_capacity(events.len());
            // author -> (expected seq, first and last seq dropped, count)
            let mut gaps: BTreeMap<HubId, (u64, u64, u64, u64)> = BTreeMap::new();
            for (event, outcome) in events.into_iter().zip(outcomes) {
                if !matches!(outcome, Inserted::Gap { .. }) && event.seq <= crate::wire::SEQ_MAX {
                    let seq = heads.entry(event.author).or_default();
                    *seq = (*seq).max(event.seq);
                }
                match outcome {
                    Inserted::Stored => stored.push(event),
                    Inserted::Duplicate => report.duplicates += 1,
                    Inserted::Gap { expected, found } => {
                        // Usually the consequence of one rejected event: the rest of its feed
                        // in the batch follows it. One line per feed says so.
                        report.rejected += 1;
                        self.counters.reject(RejectionClass::OutOfOrder, 1);
                        let entry = gaps
                            .entry(event.author)
                            .or_insert((expected, found, found, 0));
                        entry.2 = found;
                        entry.3 += 1;
                    }
                    Inserted::Frozen { valid_until } => {
                        // Not an offence of the peer's: the author equivocated. Counted, not listed.
                        tracing::debug!(author = %event.author, seq = event.seq, valid_until, "event of a frozen feed not stored");
                        report.rejected += 1;
                        self.counters.reject(RejectionClass::FrozenFeed, 1);
                    }
                    Inserted::Fork(fork) => report.forks.push(fork),
                }
            }
            for (author, (expected, first, last, count)) in gaps {
                refused.push(Rejection {
                    author: Some(author),
                    seq: first,
                    peer: peer.to_string(),
                    reason: format!(
                        "out of order: the feed needs seq {expected} first; {count} event(s) from seq {first} to {last} not stored"
                    ),
                });
            }
            report.stored = stored.len();
            let counters = &self.counters;
            counters
                .stored
                .fetch_add(report.stored as u64, Ordering::Relaxed);
            counters
                .duplicate
                .fetch_add(report.duplicates as u64, Ordering::Relaxed);
            counters
                .forks
                .fetch_add(report.forks.len() as u64, Ordering::Relaxed);
            if !stored.is_empty() {
                self.host.stored(stored);
            }
            for fork in &report.forks {
                self.host.forked(fork);
            }
        }
        report.rejected += envelope_refused;
        report.rejected += unsupported_count as usize;
        for rejection in &refused {
            let logged = self.limited_warning(peer, |suppressed| {
                tracing::warn!(peer = %rejection.peer, author = ?rejection.author.map(|a| a.short()), seq = rejection.seq, reason = %rejection.reason, suppressed, "peer event rejected");
            });
            if !logged {
                tracing::debug!(peer = %rejection.peer, author = ?rejection.author.map(|a| a.short()), seq = rejection.seq, reason = %rejection.reason, "peer event rejected");
            }
        }
        if !unsupported.is_empty() {
            let due = self.link_warning_due(peer, "events");
            for u in &unsupported {
                if due {
                    tracing::warn!(%peer, version = u.version, author = ?u.author.map(|a| a.short()), from_seq = u.from_seq, count = u.count, "peer events of a protocol version this node does not implement: refused, not stored: {u}");
                } else {
                    tracing::debug!(%peer, version = u.version, author = ?u.author.map(|a| a.short()), from_seq = u.from_seq, count = u.count, "peer events of a protocol version this node does not implement: refused");
                }
                refused.push(Rejection {
                    author: u.author,
                    seq: u.from_seq,
                    peer: peer.to_string(),
                    reason: u.to_string(),
                });
            }
        }
        self.remember_rejections(refused);
        {
            let mut peers = lock(&self.peers);
            let state = peers.entry(peer.to_string()).or_default();
            state.events_received += received;
            state.events_rejected += report.rejected as u64;
            state.last_contact_ms = self.now_ms();
            for u in unsupported {
                let kept = &mut state.unsupported;
                match kept
                    .iter()
                    .position(|known| (known.version, known.author) == (u.version, u.author))
                {
                    Some(i) => {
                        kept[i].from_seq = kept[i].from_seq.min(u.from_seq);
                        kept[i].count += u.count;
                    }
                    None if kept.len() < UNSUPPORTED_KEPT => {
                        kept.push(u);
                        kept.sort_by_key(|u| (u.version, u.author));
                    }
                    None => {}
                }
            }
            for (author, seq) in heads {
                let known = state.heads.entry(author).or_default();
                *known = (*known).max(seq);
            }
        }
        if report.stored > 0 || !report.forks.is_empty() {
            self.notify();
        }
        Ok(report)
    }

    /// Records fork proofs from a peer; returns how many were new. Invalid proofs are
    /// rejected and logged.
    pub fn accept_proofs(&self, peer: &str, proofs: Vec<pb::ForkProof>) -> usize {
        let mut new = 0;
        for wire in proofs.into_iter().take(PROOFS_PER_MESSAGE_MAX) {
            let outcome = ForkProof::from_wire(wire)
                .map_err(|e| e.to_string())
                .and_then(|proof| {
                    let _order = lock(&self.ingest_lock);
                    let fork = self
                        .store
                        .accept_fork_proof(proof)
                        .map_err(|e| e.to_string())?;
                    if let Some(fork) = &fork {
                        self.host.forked(fork);
                    }
                    Ok(fork)
                });
            match outcome {
                Ok(Some(fork)) => {
                    tracing::warn!(%peer, author = %fork.author, seq = fork.seq, "fork proof received: feed frozen");
                    self.counters.forks.fetch_add(1, Ordering::Relaxed);
                    new += 1;
                }
                Ok(None) => {}
                Err(reason) => {
                    self.counters.reject(RejectionClass::BadForkProof, 1);
                    if !self.limited_warning(peer, |suppressed| {
                        tracing::warn!(%peer, %reason, suppressed, "fork proof rejected");
                    }) {
                        tracing::debug!(%peer, %reason, "fork proof rejected");
                    }
                    self.remember_rejections(vec![Rejection {
                        author: None,
                        seq: 0,
                        peer: peer.to_string(),
                        reason: format!("fork proof: {reason}"),
                    }]);
                }
            }
        }
        if new > 0 {
            self.notify();
        }
        new
    }

    fn remember_rejections(&self, refused: Vec<Rejection>) {
        if refused.is_empty() {
            return;
        }
        let mut kept = lock(&self.rejections);
        for rejection in refused {
            if kept.len() >= self.config.rejections_kept.max(1) {
                kept.pop_front();
            }
            kept.push_back(rejection);
        }
    }

    /// Updates what is known of a peer.
    pub fn update_peer(&self, key: &str, update: impl FnOnce(&mut PeerState)) {
        let mut peers = lock(&self.peers);
        let state = peers.entry(key.to_string()).or_default();
        update(state);
    }

    /// The heads this node gave `peer` in the last frontier exchange it asked for, if any.
    pub fn told(&self, peer: &HubId) -> Option<BTreeMap<HubId, u64>> {
        lock(&self.peers)
            .get(&peer.to_string())
            .and_then(|p| p.told.clone())
    }

    /// Every peer known.
    pub fn peers(&self) -> BTreeMap<String, PeerState> {
        lock(&self.peers).clone()
    }

    /// The last refused peer events.
    pub fn recent_rejections(&self) -> Vec<Rejection> {
        lock(&self.rejections).iter().cloned().collect()
    }

    /// Lag of this node behind a peer, per feed, from what the peer said or sent.
    pub fn lag_behind(&self, peer: &PeerState) -> BTreeMap<HubId, u64> {
        let frontier: BTreeMap<HubId, Head> = self.store.frontier();
        peer.heads
            .iter()
            .filter_map(|(author, seq)| {
                let held = frontier.get(author).map_or(0, |h| h.seq);
                (*seq > held).then(|| (*author, seq - held))
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use maillage_core::{Charter, FeedWriter, MemberSpec, Role, SecretKey, pb};
    use maillage_store::MemoryStore;
    use prost::Message;

    use super::*;

    #[test]
    fn disputes_without_a_new_proof_wait_a_doubling_delay() {
        let mut gate = DisputeGate::default();
        // The first at once; the next ones 200, 400, 800 ms later, then every 1,000 ms.
        assert!(gate.allow(10_000, 0, 200, 1_000));
        assert!(!gate.allow(10_100, 0, 200, 1_000));
        assert!(gate.allow(10_200, 0, 200, 1_000));
        assert!(!gate.allow(10_500, 0, 200, 1_000));
        assert!(gate.allow(10_600, 0, 200, 1_000));
        assert!(!gate.allow(11_300, 0, 200, 1_000));
        assert!(gate.allow(11_400, 0, 200, 1_000));
        assert!(!gate.allow(12_300, 0, 200, 1_000));
        assert!(gate.allow(12_400, 0, 200, 1_000));
        // A proof came: the next dispute is taken at once, and the delay starts over.
        assert!(gate.allow(12_500, 1, 200, 1_000));
        assert!(!gate.allow(12_600, 1, 200, 1_000));
        assert!(gate.allow(12_700, 1, 200, 1_000));
    }

    #[derive(Debug, Default)]
    struct Folded(Mutex<usize>);

    impl Host for Folded {
        fn stored(&self, events: Vec<VerifiedEvent>) {
            *lock(&self.0) += events.len();
        }
        fn forked(&self, _fork: &Fork) {}
        fn transfer(
            &self,
            _caller: HubId,
            _request: pb::TransferRequest,
        ) -> Result<VerifiedEvent, tonic::Status> {
            Err(tonic::Status::unimplemented("not in this test"))
        }
    }

    #[test]
    fn rejection_classes_index_in_declaration_order() {
        for (index, class) in RejectionClass::ALL.iter().enumerate() {
            assert_eq!(class.index(), index, "{class:?}");
        }
    }

    #[test]
    fn counters_follow_what_ingest_did() {
        let (hub, replica, host) = hub_and_observer();
        let mut writer = writer(&hub, &replica, None);
        let events: Vec<pb::SignedEvent> = (0..4)
            .map(|n| {
                let body = pb::event::Body::VoucherCancelled(pb::VoucherCancelled {
                    serials: vec![format!("13-A-{n}")],
                    reason: "test".into(),
                });
                writer.next(body, Vec::new(), 1_000 + n).unwrap().signed
            })
            .collect();

        // The first two events; then the first again (duplicate), the third with a flipped
        // signature bit (refused), and the fourth, which now has a gap before it.
        replica.ingest("peer", events[..2].to_vec()).unwrap();
        let mut forged = events[2].clone();
        forged.signature[0] ^= 1;
        let mut garbage = events[3].clone();
        garbage.payload = vec![0xFF; 3];
        let report = replica
            .ingest(
                "peer",
                vec![events[0].clone(), forged, events[3].clone(), garbage],
            )
            .unwrap();
        assert_eq!((report.stored, report.duplicates), (0, 1), "{report:?}");

        let counters = replica.counters();
        assert_eq!(counters.events_received, 6);
        assert_eq!(counters.events_stored, 2);
        assert_eq!(counters.events_duplicate, 1);
        let rejected = |class| counters.rejected.get(&class).copied().unwrap_or(0);
        assert_eq!(rejected(RejectionClass::BadSignature), 1);
        assert_eq!(rejected(RejectionClass::Malformed), 1);
        assert_eq!(rejected(RejectionClass::OutOfOrder), 1);
        assert_eq!(rejected(RejectionClass::FrozenFeed), 0);
        assert_eq!(counters.rejected.len(), RejectionClass::ALL.len());
        assert_eq!(counters.forks_detected, 0);
        assert_eq!(*lock(&host.0), 2);
        // The per-peer figures agree.
        let peer = &replica.peers()["peer"];
        assert_eq!((peer.events_received, peer.events_rejected), (6, 3));
    }

    #[test]
    fn events_of_another_protocol_version_are_refused_and_reported_per_peer() {
        let (hub, replica, host) = hub_and_observer();
        let charter = replica.charter.clone();
        let mut writer = writer(&hub, &replica, None);
        let body = || {
            pb::event::Body::VenueClosed(pb::VenueClosed {
                venue_id: "v1".into(),
                reason: "test".into(),
                ..Default::default()
            })
        };
        let first = writer.next(body(), Vec::new(), 1_000).unwrap();
        // What a node of protocol v3 would send next: seq 2 and 3, correctly signed.
        let mut prev = first.id;
        let later: Vec<pb::SignedEvent> = (2..=3u64)
            .map(|seq| {
                let payload = pb::Event {
                    version: 3,
                    federation: charter.federation_id().0.to_vec(),
                    author: hub.hub_id().0.to_vec(),
                    seq,
                    prev: prev.0.to_vec(),
                    hlc: (2_000 + seq) << 16,
                    deps: vec![],
                    body: Some(body()),
                }
                .encode_to_vec();
                prev = maillage_core::crypto::event_id(&payload);
                let signature = hub.sign_payload(&payload).to_vec();
                pb::SignedEvent {
                    payload,
                    signature,
                    personal: Vec::new(),
                }
            })
            .collect();
        let mut batch = vec![first.signed.clone()];
        batch.extend(later);
        let report = replica.ingest("peer", batch).unwrap();
        assert_eq!((report.stored, report.rejected), (1, 2), "{report:?}");
        // Never stored, never folded.
        assert_eq!(replica.store.head(&hub.hub_id()).unwrap().seq, 1);
        assert_eq!(*lock(&host.0), 1);
        let counters = replica.counters();
        assert_eq!(counters.rejected[&RejectionClass::UnsupportedVersion], 2);
        assert_eq!(counters.rejected[&RejectionClass::OutOfOrder], 0);
        assert_eq!(counters.events_received, 3);
        let peer = &replica.peers()["peer"];
        assert_eq!(
            peer.unsupported,
            vec![UnsupportedEvents {
                version: 3,
                author: Some(hub.hub_id()),
                from_seq: 2,
                count: 2
            }]
        );
        assert_eq!((peer.events_received, peer.events_rejected), (3, 2));
        let message = peer.unsupported[0].to_string();
        assert!(
            message.starts_with("events of protocol v3 from seq 2 of feed "),
            "{message}"
        );
        assert!(
            message.ends_with(
                "(2 refused, not stored); this node implements v2: upgrade maillage to a \
                 release that implements v3"
            ),
            "{message}"
        );
        let rejections = replica.recent_rejections();
        assert_eq!(rejections.len(), 1, "{rejections:?}");
        assert_eq!(
            (rejections[0].author, rejections[0].seq),
            (Some(hub.hub_id()), 2)
        );
        assert_eq!(rejections[0].reason, message);
        // The warning is logged at most once a minute per peer.
        assert!(!replica.link_warning_due("peer", "events"));
        assert!(replica.link_warning_due("another peer", "events"));
    }

    /// A hub and an observer, and the observer's replica.
    fn hub_and_observer() -> (SecretKey, Arc<Replica>, Arc<Folded>) {
        let hub = SecretKey::from_seed(&[1; 32]);
        let observer = SecretKey::from_seed(&[2; 32]);
        let charter = Arc::new(
            Charter::found(
                "Test",
                1,
                vec![
                    MemberSpec {
                        key: hub.hub_id(),
                        name: "Hub".into(),
                        role: Role::Hub,
                        territories: vec!["13".into()],
                    },
                    MemberSpec {
                        key: observer.hub_id(),
                        name: "Observer".into(),
                        role: Role::Observer,
                        territories: Vec::new(),
                    },
                ],
            )
            .unwrap(),
        );
        let host = Arc::new(Folded::default());
        let store: Arc<dyn EventStore> = Arc::new(MemoryStore::in_memory(charter.clone()));
        let replica = Replica::new(
            charter,
            observer,
            store,
            host.clone(),
            ReplicaConfig::default(),
        );
        (hub, replica, host)
    }

    /// `hub`'s events from `head` on, signed.
    fn writer(hub: &SecretKey, replica: &Replica, head: Option<Head>) -> FeedWriter {
        FeedWriter::new(
            SecretKey::from_seed(&hub.seed()),
            replica.charter.federation_id(),
            head,
            0,
            u64::MAX / 4,
        )
    }

    fn closed(n: u64) -> pb::event::Body {
        pb::event::Body::VenueClosed(pb::VenueClosed {
            venue_id: format!("v{n}"),
            reason: "test".into(),
            ..Default::default()
        })
    }

    #[test]
    fn a_signed_event_far_past_a_gap_says_nothing_of_what_the_peer_holds() {
        let (hub, replica, _) = hub_and_observer();
        // A member signs seq u64::MAX of its own feed: valid signature, no predecessors.
        let head = Head {
            seq: u64::MAX - 1,
            id: maillage_core::EventId([7; 32]),
        };
        let absurd = writer(&hub, &replica, Some(head))
            .next(closed(1), Vec::new(), 1_000)
            .unwrap();
        assert_eq!(absurd.seq, u64::MAX);
        let report = replica.ingest("peer", vec![absurd.signed]).unwrap();
        assert_eq!((report.stored, report.rejected), (0, 1), "{report:?}");
        let peer = &replica.peers()["peer"];
        assert!(peer.heads.is_empty(), "{:?}", peer.heads);
        assert!(replica.lag_behind(peer).is_empty());
        // Events that follow on do tell.
        let first = writer(&hub, &replica, None)
            .next(closed(1), Vec::new(), 1_000)
            .unwrap();
        replica.ingest("peer", vec![first.signed]).unwrap();
        assert_eq!(
            replica.peers()["peer"].heads,
            BTreeMap::from([(hub.hub_id(), 1)])
        );
    }

    #[test]
    fn a_bad_signature_is_reported_with_the_author_and_seq_the_event_names() {
        let (hub, replica, _) = hub_and_observer();
        let mut feed = writer(&hub, &replica, None);
        let first = feed.next(closed(1), Vec::new(), 1_000).unwrap();
        let second = feed.next(closed(2), Vec::new(), 1_001).unwrap();
        let mut forged = second.signed.clone();
        forged.signature[0] ^= 1;
        let report = replica.ingest("peer", vec![first.signed, forged]).unwrap();
        assert_eq!((report.stored, report.rejected), (1, 1), "{report:?}");
        let rejections = replica.recent_rejections();
        assert_eq!(rejections.len(), 1, "{rejections:?}");
        assert_eq!(
            (rejections[0].author, rejections[0].seq),
            (Some(hub.hub_id()), 2),
            "{rejections:?}"
        );
        assert!(rejections[0].reason.contains("signature"), "{rejections:?}");
        // A payload that does not decode names nothing.
        let garbage = pb::SignedEvent {
            payload: vec![0xFF; 3],
            signature: vec![0; 64],
            personal: Vec::new(),
        };
        let report = replica.ingest("peer", vec![garbage]).unwrap();
        assert_eq!(report.rejected, 1, "{report:?}");
        let last = replica.recent_rejections().pop().unwrap();
        assert_eq!((last.author, last.seq), (None, 0), "{last:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn store_and_fold_work_waits_for_a_bounded_number_of_slots() {
        let (_, replica, _) = hub_and_observer();
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..4 * BLOCKING_TASKS_MAX)
            .map(|_| {
                let (replica, running, most) = (replica.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    replica
                        .blocking(move |_| {
                            use std::sync::atomic::Ordering::SeqCst;
                            let now = running.fetch_add(1, SeqCst) + 1;
                            most.fetch_max(now, SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(5));
                            running.fetch_sub(1, SeqCst);
                        })
                        .await
                        .unwrap();
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let most = most.load(std::sync::atomic::Ordering::SeqCst);
        assert!(most <= BLOCKING_TASKS_MAX, "{most} tasks at once");
        assert!(most > 1, "the work ran one task at a time");
    }

    #[test]
    fn events_held_byte_for_byte_are_not_verified_again() {
        let (hub, replica, host) = hub_and_observer();
        let mut feed = writer(&hub, &replica, None);
        let events: Vec<pb::SignedEvent> = (1..=512)
            .map(|n| feed.next(closed(n), Vec::new(), 1_000 + n).unwrap().signed)
            .collect();
        let report = replica.ingest("peer", events.clone()).unwrap();
        assert_eq!(report.stored, 512, "{report:?}");
        assert_eq!(replica.counters().events_verified, 512);
        // A member replaying the same batch: each event is recognised from the store.
        for _ in 0..3 {
            let report = replica.ingest("peer", events.clone()).unwrap();
            assert_eq!(
                (report.stored, report.duplicates, report.rejected),
                (0, 512, 0),
                "{report:?}"
            );
        }
        let counters = replica.counters();
        assert_eq!(
            counters.events_verified, 512,
            "replayed events verified again"
        );
        assert_eq!(counters.events_duplicate, 3 * 512);
        assert_eq!(counters.events_received, 4 * 512);
        assert_eq!(*lock(&host.0), 512, "each event folded once");
        assert_eq!(replica.peers()["peer"].heads[&hub.hub_id()], 512);
        // The held payload under a garbled signature is still the held event (same id): not
        // stored again, not verified.
        let mut garbled = events[0].clone();
        garbled.signature = vec![0; 64];
        let report = replica.ingest("peer", vec![garbled]).unwrap();
        assert_eq!((report.duplicates, report.rejected), (1, 0), "{report:?}");
        assert_eq!(replica.counters().events_verified, 512);
        // Another payload at a held seq is verified (and this forgery refused).
        let mut other = events[1].clone();
        if let Some(byte) = other.payload.last_mut() {
            *byte ^= 1;
        }
        let report = replica.ingest("peer", vec![other]).unwrap();
        assert_eq!((report.duplicates, report.rejected), (0, 1), "{report:?}");
        assert_eq!(replica.counters().events_verified, 513);
        // A new event after the held ones is verified and stored.
        let next = feed.next(closed(513), Vec::new(), 2_000).unwrap();
        let report = replica.ingest("peer", vec![next.signed]).unwrap();
        assert_eq!(report.stored, 1, "{report:?}");
        assert_eq!(replica.counters().events_verified, 514);
    }
}

//! One simulated node: the real replica over an in-memory store (its "disk", which survives
//! crashes), the real fold, and — for hubs — what a hub's staff do: sign venues, batches and
//! carnets on a schedule, serve the people who present vouchers at their venues (online
//! transfer from the owner, or a claim when it is unreachable), and answer claims on their
//! own vouchers.
//!
//! Everything a hub signs is judged first, as the node's application does: the core's rules
//! against the hub's views ([`Ledger::evaluate`]), and only what they accept is signed. The
//! owner side is the node's own policy ([`maillage_app::policy`]): a transfer only for a
//! voucher this hub owns that sits in a person's carnet, a claim answered by the redemption it
//! asks for or, if the rules refuse that, a rejection carrying their reason. A misbehaving hub
//! skips the judging for the events it means to be rejected.
//!
//! Size: a simulated node is the replica's host, the hub's staff (schedule, visitors, transfers)
//! and its crash/restart bookkeeping, which share its locks and counters.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use maillage_app::policy;
use maillage_app::{AppError, ErrorKind};
use maillage_core::hlc::MAX_AHEAD_MS_DEFAULT;
use maillage_core::ledger::{Evaluation, VoucherStatus};
use maillage_core::{
    Charter, EventId, EventRef, FeedWriter, Fork, HubId, Ledger, SecretKey, VerifiedEvent, pb,
};
use maillage_store::{EventStore, MemoryStore};
use maillage_sync::replica::{Environment, Host};
use maillage_sync::{LinkError, PeerClient, PeerConfig, Replica, ReplicaConfig, run_link};
use sha2::{Digest, Sha256};

use crate::PORT;
use crate::env::{SimEnvironment, sim_now_ms};
use crate::misbehaving::{Evidence, FaceStore, Misbehaviour};
use crate::net::{SimConnector, incoming};
use crate::workload::{Visit, VisitOutcome};

/// What the runner observes of a node, once per simulated second.
#[derive(Debug, Clone)]
pub struct NodeState {
    /// Host name.
    pub name: String,
    /// Whether it follows the protocol (the invariants speak of honest nodes).
    pub honest: bool,
    /// Authors whose fork this node's store recorded, and the seq of the fork.
    pub forked: BTreeMap<HubId, u64>,
    /// Events folded.
    pub applied: u64,
    /// Events stored (valid prefixes).
    pub stored: u64,
    /// Events waiting for their causal past in the fold.
    pub pending: usize,
    /// The views' digest.
    pub digest: [u8; 32],
    /// Hash of the store's frontier (every feed's head) and of the authors found forking.
    pub frontier: [u8; 32],
    /// gRPC bytes received from peers.
    pub bytes_received: u64,
    /// gRPC messages received from peers (event batches and heartbeats).
    pub messages_received: u64,
    /// Events received from peers (duplicates included).
    pub events_received: u64,
    /// Redeemed vouchers and the event that redeemed each.
    pub redemptions: BTreeMap<String, EventId>,
    /// Claims nobody has answered yet.
    pub open_claims: usize,
    /// Work the hub's staff still have to do: scheduled events not signed, visits not served,
    /// amendments not proposed or endorsed.
    pub work_left: usize,
    /// What the lifecycle invariants compare (scenarios with amendments).
    pub life: Option<LifeState>,
}

/// A node's views as the lifecycle invariants see them.
#[derive(Debug, Clone, Default)]
pub struct LifeState {
    /// Every applied event's verdict: `accepted` or the rejection's code.
    pub verdicts: BTreeMap<EventId, String>,
    /// Keys stopped by amendments: last seq that counts, branch that stands.
    pub cuts: BTreeMap<HubId, (u64, Option<EventId>)>,
    /// Amendments in effect at the head of the views.
    pub membership: u32,
    /// Their proposals.
    pub in_effect: Vec<EventId>,
    /// Events applied, by feed.
    pub applied: BTreeMap<HubId, u64>,
    /// Stored events past a stop (never to count).
    pub stopped: BTreeSet<EventId>,
    /// The views still hold events past a stop (a fold again is due).
    pub refold_pending: bool,
}

/// Which proposals and endorsements a hub signed (indices into its [`Life`]).
#[derive(Debug, Default)]
struct Amended {
    proposed: BTreeSet<usize>,
    endorsed: BTreeSet<usize>,
}

/// A node's own copy of the charter: amendments it folds admit keys into it alone.
fn own_charter(charter: &Charter) -> Arc<Charter> {
    match Charter::from_bytes(charter.bytes().to_vec()) {
        Ok(copy) => Arc::new(copy),
        Err(error) => {
            // The bytes come from a charter that parsed: cannot happen.
            tracing::error!(%error, "the charter does not parse again");
            Arc::new(charter.clone())
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

use crate::lifecycle::{Life, fold_all, fold_new};

/// Signs own events: one writer per start of the node, shared by everything that signs.
struct Signer {
    me: HubId,
    store: Arc<MemoryStore>,
    /// A misbehaving hub's second face: its own events go there too.
    mirror: Option<Arc<MemoryStore>>,
    writer: Mutex<FeedWriter>,
    /// A misbehaving hub stops signing once it has equivocated.
    stopped: Mutex<bool>,
    /// A key that signs nothing more (its successor is on its way).
    paused: Arc<Mutex<Option<HubId>>>,
    /// Never folds again when an amendment stops a key (negative control).
    ignores_stops: bool,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("me", &self.me).finish()
    }
}

impl Signer {
    fn new(
        secret: SecretKey,
        charter: &Charter,
        store: Arc<MemoryStore>,
        mirror: Option<Arc<MemoryStore>>,
        paused: Arc<Mutex<Option<HubId>>>,
        ignores_stops: bool,
    ) -> Self {
        let me = secret.hub_id();
        let writer = FeedWriter::new(
            secret,
            charter.federation_id(),
            store.head(&me),
            store.head_hlcs().get(&me).copied().unwrap_or(0),
            MAX_AHEAD_MS_DEFAULT,
        );
        Self {
            me,
            store,
            mirror,
            writer: Mutex::new(writer),
            stopped: Mutex::new(false),
            paused,
            ignores_stops,
        }
    }

    fn stopped(&self) -> bool {
        *lock(&self.stopped)
    }

    /// Signs two different events at the next seq, the first into the store, the second into
    /// the mirror (the second face), and stops signing. Returns both.
    fn equivocate(
        &self,
        first: pb::event::Body,
        second: pb::event::Body,
    ) -> Result<(VerifiedEvent, VerifiedEvent), String> {
        let mirror = self.mirror.as_ref().ok_or("no second face")?;
        let mut writer = lock(&self.writer);
        let head = writer.head();
        let deps = self.store.causal_past(&self.me);
        let a = writer
            .next(first, deps.clone(), sim_now_ms())
            .map_err(|e| e.to_string())?;
        writer.rewind(head);
        let b = writer
            .next(second, deps, sim_now_ms())
            .map_err(|e| e.to_string())?;
        self.store
            .append_own(std::slice::from_ref(&a))
            .map_err(|e| e.to_string())?;
        mirror
            .append_own(std::slice::from_ref(&b))
            .map_err(|e| e.to_string())?;
        *lock(&self.stopped) = true;
        Ok((a, b))
    }

    /// Judges `body` with the rules against `ledger` and, if they accept it, signs it (its deps
    /// name first the heads of `relies_on`'s feeds), appends it to the store and folds it in.
    /// Refused: an [`ErrorKind::Rejected`] error with the rule's reason, nothing signed.
    fn sign(
        &self,
        ledger: &mut Ledger,
        body: pb::event::Body,
        relies_on: &[HubId],
    ) -> Result<VerifiedEvent, AppError> {
        self.may_sign()?;
        let mut writer = lock(&self.writer);
        let hlc = writer.next_hlc(sim_now_ms());
        let (deps, verdict) = ledger.plan(self.me, hlc, &body, relies_on);
        match verdict {
            Evaluation::Accepted => {}
            Evaluation::Rejected(rejection) => return Err(AppError::rule(&rejection)),
            Evaluation::Invalid(why) => return Err(AppError::invalid_field("event", why)),
            Evaluation::Waiting => {
                return Err(AppError::new(
                    ErrorKind::Pending,
                    "the event would rely on events these views have not applied",
                ));
            }
        }
        self.append(&mut writer, ledger, body, deps, hlc)
    }

    /// Signs `body` without judging it: what a misbehaving hub does for the events it means to
    /// be rejected.
    fn sign_unjudged(
        &self,
        ledger: &mut Ledger,
        body: pb::event::Body,
    ) -> Result<VerifiedEvent, AppError> {
        let mut writer = lock(&self.writer);
        let deps = ledger.deps_without_judging(&self.me, &body, &[]);
        let hlc = writer.next_hlc(sim_now_ms());
        self.append(&mut writer, ledger, body, deps, hlc)
    }

    /// Whether this key signs at all now: not after an equivocation, not once paused (its
    /// successor is on its way). Checked before the rules judge anything, so that a paused
    /// key's staff wait for the successor instead of taking the rules' refusal of a key its
    /// views already retired as a reason to drop the work.
    fn may_sign(&self) -> Result<(), AppError> {
        if self.stopped() {
            return Err(AppError::unavailable("this hub no longer signs"));
        }
        if *lock(&self.paused) == Some(self.me) {
            return Err(AppError::unavailable(
                "this key signs nothing more: its successor is on its way",
            ));
        }
        Ok(())
    }

    fn append(
        &self,
        writer: &mut FeedWriter,
        ledger: &mut Ledger,
        body: pb::event::Body,
        deps: Vec<EventRef>,
        hlc: u64,
    ) -> Result<VerifiedEvent, AppError> {
        self.may_sign()?;
        let event = writer
            .sign_at(body, deps, hlc)
            .map_err(|e| AppError::internal(e.to_string()))?;
        if let Err(error) = self.store.append_own(std::slice::from_ref(&event)) {
            writer.rewind(self.store.head(&self.me));
            return Err(AppError::internal(error.to_string()));
        }
        if let Some(mirror) = &self.mirror
            && let Err(error) = mirror.append_own(std::slice::from_ref(&event))
        {
            tracing::warn!(%error, "the second face did not take an own event");
        }
        ledger.offer(event.clone());
        // An own endorsement may put in effect a stop past events these views applied.
        if ledger.needs_refold() {
            let charter = Arc::new(ledger.charter().clone());
            fold_new(&charter, &self.store, ledger, self.ignores_stops);
        }
        Ok(event)
    }
}

/// What a hub's host counts over the whole run (kept across crashes, like the people's and
/// the staff's memory of what happened).
#[derive(Debug, Default, Clone)]
pub struct HubCounters {
    /// Transfers this hub signed as owner.
    pub transfers_signed: u64,
    /// Transfer requests this hub refused as owner, by reason.
    pub transfers_refused: BTreeMap<String, u64>,
    /// Claims this hub answered: accepted, rejected.
    pub claims_accepted: u64,
    /// Rejected.
    pub claims_rejected: u64,
}

/// Folds what replication stores; as a hub, answers claims and transfer requests.
struct SimHost {
    charter: Arc<Charter>,
    store: Arc<MemoryStore>,
    ledger: Arc<Mutex<Ledger>>,
    /// `None` for observers.
    signer: Option<Arc<Signer>>,
    /// Claims answered since this start (an answer the rules refuse is not retried).
    answered: Mutex<BTreeSet<EventId>>,
    counters: Arc<Mutex<HubCounters>>,
    /// Never folds again when an amendment stops a key (negative control).
    ignores_stops: bool,
}

impl SimHost {
    /// Answers open claims on vouchers this hub owns, with the node's own policy.
    fn answer_claims(&self, ledger: &mut Ledger) {
        let Some(signer) = &self.signer else {
            return;
        };
        let mut answered = lock(&self.answered);
        let outcomes = policy::answer_claims(ledger, &signer.me, &mut answered, &mut |l, body| {
            signer.sign(l, body, &[])
        });
        for outcome in outcomes {
            match outcome {
                Ok(answer) if answer.rejected.is_none() => {
                    lock(&self.counters).claims_accepted += 1;
                }
                Ok(_) => lock(&self.counters).claims_rejected += 1,
                Err(error) => tracing::error!(%error, "could not answer a claim"),
            }
        }
    }
}

impl Host for SimHost {
    fn stored(&self, events: Vec<VerifiedEvent>) {
        let mut ledger = lock(&self.ledger);
        for event in events {
            ledger.offer(event);
        }
        let unresolved = ledger.cuts().iter().any(|(key, cut)| {
            cut.branch.is_some()
                && self
                    .store
                    .forks()
                    .get(key)
                    .is_some_and(|f| f.resolved.is_none())
        });
        if ledger.needs_refold() || unresolved {
            fold_new(&self.charter, &self.store, &mut ledger, self.ignores_stops);
        }
        self.answer_claims(&mut ledger);
    }

    fn forked(&self, _: &Fork) {
        *lock(&self.ledger) = fold_all(&self.charter, &self.store, self.ignores_stops);
    }

    fn transfer(
        &self,
        caller: HubId,
        request: pb::TransferRequest,
    ) -> Result<VerifiedEvent, tonic::Status> {
        let Some(signer) = &self.signer else {
            return Err(self.refused(policy::TransferRefusal::Observer.into()));
        };
        let mut ledger = lock(&self.ledger);
        match policy::answer_transfer(
            &self.charter,
            &mut ledger,
            &signer.me,
            &caller,
            &request.serials,
            &request.venue_id,
            &mut |l, body| signer.sign(l, body, &[]),
        ) {
            Ok(event) => {
                lock(&self.counters).transfers_signed += 1;
                Ok(event)
            }
            Err(error) => Err(self.refused(error)),
        }
    }
}

impl SimHost {
    /// Counts a refused transfer request by reason and turns it into the caller's status.
    fn refused(&self, error: AppError) -> tonic::Status {
        *lock(&self.counters)
            .transfers_refused
            .entry(crate::reason_class(&error.message))
            .or_default() += 1;
        error.into()
    }
}

/// A hub's schedule: its venues, then `count` batches and carnets over `over_s` seconds.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The hub's index (its département is [`crate::territory`]`(index)`).
    pub index: usize,
    /// Venue events signed at the start.
    pub venues: Vec<pb::event::Body>,
    /// Batches and carnets.
    pub bodies: Vec<pb::event::Body>,
    /// When each of `bodies` is due (simulated ms).
    pub due_ms: Vec<u64>,
}

/// What the staff of a hub have done (kept across crashes: they know what they signed).
#[derive(Debug, Default)]
struct Progress {
    venues_done: bool,
    scheduled_done: usize,
    /// Visits at this hub and how each ended (`None`: not yet served).
    visits: Vec<(Visit, Option<VisitOutcome>)>,
    /// Transfers received for a visit, waiting to reach the store.
    awaiting: BTreeMap<usize, EventRef>,
}

/// A node of the simulation.
#[derive(Debug)]
pub struct SimNode {
    /// Host name (`hub-3`).
    pub name: String,
    /// The keys it may sign with: its first, then its successor.
    key_seeds: Vec<[u8; 32]>,
    /// Which of `key_seeds` it runs under.
    active_key: Mutex<usize>,
    /// Its data dir: its own copy of the charter (amendments admit keys into it) and its
    /// store, kept across crashes; replaced by a restore or a fresh data dir.
    disk: Mutex<(Arc<Charter>, Arc<MemoryStore>)>,
    /// A copy of the store, taken by a backup.
    backup: Mutex<Option<Arc<MemoryStore>>>,
    peers: Vec<String>,
    /// For hubs: what they sign on their own.
    schedule: Option<Schedule>,
    env_seed: u64,
    ledger: Arc<Mutex<Ledger>>,
    /// Its part in the amendments.
    life: Life,
    /// Which of its proposals and endorsements are signed (kept across crashes).
    amended: Arc<Mutex<Amended>>,
    /// A key of this node that signs nothing more.
    paused: Arc<Mutex<Option<HubId>>>,
    /// Visits at venues of a moving département, served by whichever hub holds it.
    desk: Option<Arc<Mutex<Vec<Visit>>>>,
    /// What a thief or a removed hub signed with a stopped key: (seq, id).
    pub stopped_signed: Arc<Mutex<Vec<(HubId, u64, EventId)>>>,
    replica: Mutex<Option<Arc<Replica>>>,
    /// Starts so far (each restart draws fresh handshake randomness).
    starts: Mutex<u64>,
    progress: Arc<Mutex<Progress>>,
    counters: Arc<Mutex<HubCounters>>,
    /// What replication counted in earlier starts (a restart begins a new replica).
    carried: Mutex<Carried>,
    /// For a misbehaving hub: what it does, its second face's store, what it did.
    misbehaviour: Option<Misbehaviour>,
    second_store: Option<Arc<MemoryStore>>,
    evidence: Arc<Mutex<Evidence>>,
}

/// Replication counters of the replicas of earlier starts.
#[derive(Debug, Default, Clone)]
struct Carried {
    bytes: u64,
    messages: u64,
    events: u64,
    rejections: BTreeMap<String, u64>,
}

impl Carried {
    fn add(&mut self, replica: &Replica) {
        for peer in replica.peers().values() {
            self.bytes += peer.bytes_received;
            self.messages += peer.messages_received;
            self.events += peer.events_received;
        }
        for rejection in replica.recent_rejections() {
            *self
                .rejections
                .entry(crate::reason_class(&rejection.reason))
                .or_default() += 1;
        }
    }
}

impl SimNode {
    /// A node; nothing runs until the simulation starts its host.
    pub fn new(
        name: String,
        key_seed: [u8; 32],
        charter: &Charter,
        peers: Vec<String>,
        schedule: Option<Schedule>,
        visits: Vec<Visit>,
        env_seed: u64,
    ) -> Self {
        let charter = own_charter(charter);
        Self {
            disk: Mutex::new((
                charter.clone(),
                Arc::new(MemoryStore::in_memory(charter.clone())),
            )),
            backup: Mutex::new(None),
            ledger: Arc::new(Mutex::new(Ledger::new(charter.clone()))),
            name,
            key_seeds: vec![key_seed],
            active_key: Mutex::new(0),
            life: Life::default(),
            amended: Arc::new(Mutex::new(Amended::default())),
            paused: Arc::new(Mutex::new(None)),
            desk: None,
            stopped_signed: Arc::new(Mutex::new(Vec::new())),
            peers,
            schedule,
            env_seed,
            replica: Mutex::new(None),
            starts: Mutex::new(0),
            progress: Arc::new(Mutex::new(Progress {
                visits: visits.into_iter().map(|v| (v, None)).collect(),
                ..Progress::default()
            })),
            counters: Arc::new(Mutex::new(HubCounters::default())),
            carried: Mutex::new(Carried::default()),
            misbehaviour: None,
            second_store: None,
            evidence: Arc::new(Mutex::new(Evidence::default())),
        }
    }

    /// Makes this hub misbehave.
    pub fn misbehaving(mut self, misbehaviour: Misbehaviour) -> Self {
        self.misbehaviour = Some(misbehaviour);
        self.second_store = Some(Arc::new(MemoryStore::in_memory(self.charter())));
        self
    }

    /// Gives this node its part in the amendments, its successor key and the desk of the
    /// visits at a moving département's venues.
    pub fn living(
        mut self,
        life: Life,
        successor: Option<[u8; 32]>,
        desk: Option<Arc<Mutex<Vec<Visit>>>>,
    ) -> Self {
        self.life = life;
        self.key_seeds.extend(successor);
        self.desk = desk;
        self
    }

    /// Whether this node follows the protocol (a thief does not; a removed hub is out).
    pub fn honest(&self) -> bool {
        self.misbehaviour.is_none() && !self.life.departed
    }

    /// Whether this hub is restored from a backup and recovered under a successor key.
    pub fn recovers(&self) -> bool {
        self.life.fresh_on_switch
    }

    /// The charter as this node knows it (amendments it folded admitted keys into it).
    pub fn charter(&self) -> Arc<Charter> {
        lock(&self.disk).0.clone()
    }

    /// The node's store.
    pub fn store(&self) -> Arc<MemoryStore> {
        lock(&self.disk).1.clone()
    }

    /// The key it runs under now.
    pub fn key(&self) -> HubId {
        SecretKey::from_seed(&self.key_seeds[*lock(&self.active_key)]).hub_id()
    }

    /// Whether the succession of the key it runs under by its successor key is in effect: the
    /// node must restart under it. A rotation is seen in the node's own views. A recovery is
    /// seen in a healthy hub's views (`recovery_seen_by`): the operator serves the fresh data
    /// dir once the amendment is endorsed (README, recovery step 4); the restored copy, which
    /// holds the other side of the fork, may never fold it.
    pub fn wants_switch(&self, others: &[std::rc::Rc<SimNode>]) -> bool {
        let Some(next) = self.successor() else {
            return false;
        };
        let me = self.key();
        if !self.life.fresh_on_switch {
            return lock(&self.ledger).membership().current_key(&me) == next;
        }
        others.iter().any(|other| {
            other.name != self.name
                && other.honest()
                && lock(&other.ledger).membership().current_key(&me) == next
        })
    }

    /// The key it switches to next, if any.
    fn successor(&self) -> Option<HubId> {
        let active = *lock(&self.active_key);
        let next = self.key_seeds.get(active + 1)?;
        Some(SecretKey::from_seed(next).hub_id())
    }

    /// Switches to the successor key (the runner restarts the node): on a fresh data dir for
    /// a recovery, else on the same one (`maillage key rotate`).
    pub fn switch_key(&self) {
        *lock(&self.active_key) += 1;
        if self.life.fresh_on_switch {
            let charter = own_charter(&self.charter());
            *lock(&self.disk) = (
                charter.clone(),
                Arc::new(MemoryStore::in_memory(charter.clone())),
            );
            *lock(&self.ledger) = Ledger::new(charter);
        }
    }

    /// Takes a copy of the store (a backup).
    pub fn take_backup(&self) {
        let (charter, store) = lock(&self.disk).clone();
        let copy = Arc::new(MemoryStore::in_memory(charter));
        for author in store.frontier().keys() {
            if let Ok(events) = store.range(author, 0, usize::MAX) {
                let _ = copy.insert_all(&events);
            }
        }
        *lock(&self.backup) = Some(copy);
    }

    /// Replaces the store by the backup (the node is down).
    pub fn restore_backup(&self) {
        if let Some(backup) = lock(&self.backup).take() {
            lock(&self.disk).1 = backup;
        }
    }

    /// A copy of `other`'s store as this node's (a thief's copy of its victim's disk).
    pub fn copy_store_of(&self, other: &SimNode) {
        other.take_backup();
        if let Some(copy) = lock(&other.backup).take() {
            lock(&self.disk).1 = copy;
        }
    }

    /// Pauses signing with the key it runs under (its key was stolen).
    pub fn pause_key(&self) {
        *lock(&self.paused) = Some(self.key());
    }

    /// What a misbehaving hub did.
    pub fn evidence(&self) -> Evidence {
        lock(&self.evidence).clone()
    }

    /// Peer events this node refused (bad signature, gap, frozen feed…), by reason, over
    /// the whole run.
    pub fn rejections(&self) -> BTreeMap<String, u64> {
        let mut carried = lock(&self.carried).clone();
        if let Some(replica) = lock(&self.replica).as_ref() {
            carried.add(replica);
        }
        carried.rejections
    }

    /// The node's software: rebuild the views from the store, dial the peers, sign on
    /// schedule and serve visitors (hubs), answer claims, serve peers.
    pub async fn serve(&self) -> turmoil::Result {
        let starts = {
            let mut starts = lock(&self.starts);
            *starts += 1;
            *starts
        };
        if let Some(previous) = lock(&self.replica).take() {
            lock(&self.carried).add(&previous);
        }
        // A joining hub's or a thief's node starts later.
        let now = turmoil::sim_elapsed().unwrap_or_default();
        let start = Duration::from_millis(self.life.starts_at_ms);
        if start > now {
            tokio::time::sleep(start - now).await;
        }
        let (charter, store) = lock(&self.disk).clone();
        let ignores_stops = self.life.ignores_stops;
        *lock(&self.ledger) = fold_all(&charter, &store, ignores_stops);
        let key_seed = self.key_seeds[*lock(&self.active_key)];
        let secret = SecretKey::from_seed(&key_seed);
        let is_hub = self.schedule.is_some() || self.life.thief.is_some();
        let signer = is_hub.then(|| {
            Arc::new(Signer::new(
                SecretKey::from_seed(&key_seed),
                &charter,
                store.clone(),
                self.second_store.clone(),
                self.paused.clone(),
                ignores_stops,
            ))
        });
        let host = Arc::new(SimHost {
            charter: charter.clone(),
            store: store.clone(),
            ledger: self.ledger.clone(),
            // A misbehaving hub answers no claim and transfers nothing.
            signer: signer.clone().filter(|_| self.honest()),
            answered: Mutex::new(BTreeSet::new()),
            counters: self.counters.clone(),
            ignores_stops,
        });
        // Claims that arrived before a crash and were not answered are answered now.
        host.answer_claims(&mut lock(&self.ledger));
        let config = ReplicaConfig {
            heartbeat_ms: 1_000,
            stall_timeout_ms: 5_000,
            retry_min_ms: 100,
            retry_max_ms: 2_000,
            rejections_kept: 100_000,
            ..ReplicaConfig::default()
        };
        let environment = |salt: u64| -> Arc<dyn Environment> {
            Arc::new(SimEnvironment::new(
                self.env_seed
                    .wrapping_mul(31)
                    .wrapping_add(starts)
                    .wrapping_add(salt << 32),
            ))
        };
        let served_store: Arc<dyn EventStore> = match &self.misbehaviour {
            Some(m) => Arc::new(FaceStore::new(
                store.clone(),
                charter.clone(),
                SecretKey::from_seed(&key_seed),
                m,
                self.evidence.clone(),
            )),
            None => store.clone(),
        };
        let replica = Replica::with_environment(
            charter.clone(),
            secret,
            served_store,
            host,
            config.clone(),
            environment(0),
        );
        // A hub with its next key drawn (`maillage key new`) dials with it where a peer no
        // longer admits its key. A recovery serves a fresh data dir under the successor
        // instead (README, recovery): the restored copy has no next key.
        let next = self.key_seeds.get(*lock(&self.active_key) + 1);
        if let Some(next) = next.filter(|_| !self.life.fresh_on_switch) {
            replica.set_successor(SecretKey::from_seed(next));
        }
        *lock(&self.replica) = Some(replica.clone());
        // Links stop with the host (a crash drops every task); the sender lives as long.
        let (_stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let dial = |replica: &Arc<Replica>, peers: &[String]| {
            for peer in peers {
                // `hub-3` on the usual port, or `hub-3:7301` (a misbehaving hub's second face).
                let address = if peer.contains(':') {
                    format!("http://{peer}")
                } else {
                    format!("http://{peer}:{PORT}")
                };
                tokio::spawn(run_link(
                    replica.clone(),
                    PeerConfig {
                        address,
                        key: None,
                        tls: None,
                    },
                    Arc::new(SimConnector),
                    stop_rx.clone(),
                ));
            }
        };
        dial(&replica, &self.peers);
        if let (Some(m), Some(second_store)) = (&self.misbehaviour, &self.second_store) {
            // The second face: a replica of its own over the second store, for the other half
            // of the peers, on the next port.
            let face = Replica::with_environment(
                charter.clone(),
                SecretKey::from_seed(&key_seed),
                second_store.clone(),
                Arc::new(SimHost {
                    charter: charter.clone(),
                    store: second_store.clone(),
                    ledger: Arc::new(Mutex::new(Ledger::new(charter.clone()))),
                    signer: None,
                    answered: Mutex::new(BTreeSet::new()),
                    counters: Arc::new(Mutex::new(HubCounters::default())),
                    ignores_stops: false,
                }),
                config,
                environment(1),
            );
            dial(&face, &m.second_face_peers);
            let listener = turmoil::net::TcpListener::bind(("0.0.0.0", PORT + 1)).await?;
            tokio::spawn(
                tonic::transport::Server::builder()
                    .add_service(maillage_sync::server::federation_server(face))
                    .serve_with_incoming(incoming(listener)),
            );
        }
        if let Some(signer) = signer {
            let staff = Staff {
                replica: replica.clone(),
                ledger: self.ledger.clone(),
                signer,
                progress: self.progress.clone(),
                store: store.clone(),
                life: Arc::new(self.life.clone()),
                amended: self.amended.clone(),
                desk: self.desk.clone(),
                stopped_signed: self.stopped_signed.clone(),
            };
            if let Some(plan) = self.life.thief.clone() {
                tokio::spawn(staff.clone().thieve(plan));
            }
            tokio::spawn(staff.clone().amend());
            let Some(schedule) = self.schedule.clone() else {
                return self.listen(replica, _stop_tx).await;
            };
            tokio::spawn(staff.clone().sign_schedule(schedule));
            match &self.misbehaviour {
                None => {
                    tokio::spawn(staff.serve_visitors());
                }
                Some(m) => {
                    tokio::spawn(staff.misbehave(m.clone(), self.evidence.clone()));
                }
            }
        }
        self.listen(replica, _stop_tx).await
    }

    /// Serves peers until the host stops.
    async fn listen(
        &self,
        replica: Arc<Replica>,
        stop: tokio::sync::watch::Sender<bool>,
    ) -> turmoil::Result {
        let listener = turmoil::net::TcpListener::bind(("0.0.0.0", PORT)).await?;
        tonic::transport::Server::builder()
            .add_service(maillage_sync::server::federation_server(replica))
            .serve_with_incoming(incoming(listener))
            .await?;
        drop(stop);
        Ok(())
    }

    /// What a failed convergence shows of this node: what its waiting events wait for (the
    /// roots of the chains) and its first visits left unserved, each with the voucher as its
    /// views hold it. Computed only then, not at every observation.
    pub fn diagnosis(&self) -> Vec<String> {
        let ledger = lock(&self.ledger);
        let mut lines: Vec<String> = Vec::new();
        for (author, seq, waiters) in ledger.waiting_for(3) {
            let author = author.map_or_else(|| "a key not admitted here".to_owned(), |a| a.short());
            lines.push(format!("{waiters} events wait for {author}#{seq}"));
        }
        lines.extend(
            lock(&self.progress)
                .visits
                .iter()
                .filter(|(_, o)| o.is_none())
                .take(3)
                .map(|(v, _)| {
                    let voucher = ledger.voucher(&v.serial).map_or_else(
                        || "unknown here".to_owned(),
                        |s| format!("{:?}, owner {}", s.status, s.owner.short()),
                    );
                    format!(
                        "visit {} ({:?}) of {} at {} ms: {voucher}",
                        v.id, v.kind, v.serial, v.at_ms
                    )
                }),
        );
        lines
    }

    /// What the runner checks.
    /// The events this node stores, all feeds: (signed bytes — payload and signature —, deps),
    /// one pair per event.
    pub fn signed_sizes(&self) -> Vec<(usize, usize)> {
        let store = self.store();
        let mut sizes = Vec::new();
        for author in store.frontier().keys() {
            let mut after = 0;
            while let Ok(events) = store.range(author, after, 512) {
                let Some(last) = events.last() else { break };
                after = last.seq;
                sizes.extend(events.iter().map(|e| {
                    (
                        e.signed.payload.len() + e.signed.signature.len(),
                        e.deps.len(),
                    )
                }));
            }
        }
        sizes
    }

    pub fn state(&self) -> NodeState {
        let store = self.store();
        let ledger = lock(&self.ledger);
        let replica = lock(&self.replica).clone();
        let peers = replica.as_ref().map(|r| r.peers()).unwrap_or_default();
        let mut frontier = Sha256::new();
        for (author, mut head) in store.frontier() {
            // Past a stop, what each node stored depends on when the stop reached it; what
            // counts is the feed up to the stop.
            if let Some(cut) = ledger.cuts().get(&author)
                && head.seq > cut.last_seq
            {
                head.seq = cut.last_seq;
                head.id = match store.get(&author, cut.last_seq) {
                    Ok(Some(event)) => event.id,
                    _ => cut.branch.unwrap_or(head.id),
                };
            }
            frontier.update(author.0);
            frontier.update(head.seq.to_be_bytes());
            frontier.update(head.id.0);
        }
        for author in store.forks().keys() {
            frontier.update(b"fork");
            frontier.update(author.0);
        }
        let work_left = {
            let progress = lock(&self.progress);
            let scheduled = self.schedule.as_ref().map_or(0, |s| {
                s.bodies.len() - progress.scheduled_done.min(s.bodies.len())
                    + usize::from(!progress.venues_done)
            });
            let amended = lock(&self.amended);
            let life = self.life.proposals.len()
                - amended.proposed.len().min(self.life.proposals.len())
                + self
                    .life
                    .endorsements
                    .iter()
                    .enumerate()
                    .filter(|(i, t)| {
                        !amended.endorsed.contains(i) && !crate::lifecycle::in_effect(t, &ledger)
                    })
                    .count();
            scheduled + life + progress.visits.iter().filter(|(_, o)| o.is_none()).count()
        };
        let life = self.life.tracked.then(|| {
            let mut stopped = BTreeSet::new();
            for (key, cut) in ledger.cuts() {
                if let Ok(events) = store.range(key, cut.last_seq, usize::MAX) {
                    stopped.extend(events.iter().map(|e| e.id));
                }
            }
            LifeState {
                verdicts: crate::lifecycle::verdicts(&ledger),
                cuts: ledger
                    .cuts()
                    .iter()
                    .map(|(k, c)| (*k, (c.last_seq, c.branch)))
                    .collect(),
                membership: ledger.membership().number,
                in_effect: ledger
                    .amendments()
                    .into_iter()
                    .filter(|a| a.in_effect)
                    .map(|a| a.proposal)
                    .collect(),
                applied: ledger.applied(),
                stopped,
                refold_pending: ledger.needs_refold(),
            }
        });
        let carried = lock(&self.carried).clone();
        NodeState {
            honest: self.honest(),
            forked: store
                .forks()
                .into_iter()
                .map(|(author, f)| (author, f.fork.seq))
                .collect(),
            name: self.name.clone(),
            applied: ledger.applied_count(),
            // Events past a stop are stored on some nodes and never applied anywhere.
            stored: store.event_count() - life.as_ref().map_or(0, |l| l.stopped.len() as u64),
            pending: ledger.pending_count(),
            digest: ledger.digest(),
            frontier: frontier.finalize().into(),
            bytes_received: carried.bytes + peers.values().map(|p| p.bytes_received).sum::<u64>(),
            messages_received: carried.messages
                + peers.values().map(|p| p.messages_received).sum::<u64>(),
            events_received: carried.events
                + peers.values().map(|p| p.events_received).sum::<u64>(),
            redemptions: ledger
                .touched_vouchers()
                .filter_map(|(serial, state)| {
                    state.redemption.as_ref().map(|r| (serial.clone(), r.event))
                })
                .collect(),
            open_claims: ledger
                .claims()
                .values()
                .filter(|c| c.accepted.is_none())
                .count(),
            work_left,
            life,
        }
    }

    /// A copy of the node's views.
    pub fn ledger(&self) -> Ledger {
        lock(&self.ledger).clone()
    }

    /// How the visits at this hub ended.
    pub fn visits(&self) -> Vec<(Visit, Option<VisitOutcome>)> {
        lock(&self.progress).visits.clone()
    }

    /// What the hub counted as an owner.
    pub fn counters(&self) -> HubCounters {
        lock(&self.counters).clone()
    }
}

/// A hub's staff: they sign on schedule and serve the people at their venues.
#[derive(Clone)]
struct Staff {
    replica: Arc<Replica>,
    ledger: Arc<Mutex<Ledger>>,
    signer: Arc<Signer>,
    progress: Arc<Mutex<Progress>>,
    store: Arc<MemoryStore>,
    life: Arc<Life>,
    amended: Arc<Mutex<Amended>>,
    desk: Option<Arc<Mutex<Vec<Visit>>>>,
    stopped_signed: Arc<Mutex<Vec<(HubId, u64, EventId)>>>,
}

fn now_ms() -> u64 {
    turmoil::sim_elapsed().unwrap_or_default().as_millis() as u64
}

/// A transfer request could not succeed.
enum TransferFailure {
    /// No answer: record a claim.
    Unreachable,
    /// The owner refused.
    Refused(String),
}

impl Staff {
    /// Judges and signs `body` (see [`Signer::sign`]) and tells the links.
    fn sign(&self, body: pb::event::Body, relies_on: &[HubId]) -> Result<VerifiedEvent, AppError> {
        let stubborn = self.life.stubborn_from_ms.is_some_and(|at| now_ms() >= at);
        let signed = if stubborn {
            // A removed hub that keeps authoring: its own views would refuse.
            let signed = self.signer.sign_unjudged(&mut lock(&self.ledger), body);
            if let Ok(event) = &signed {
                lock(&self.stopped_signed).push((event.author, event.seq, event.id));
            }
            signed
        } else {
            self.signer.sign(&mut lock(&self.ledger), body, relies_on)
        };
        if signed.is_ok() {
            self.replica.notify();
        }
        signed
    }

    /// Proposes and endorses this hub's amendments when due, every 200 ms.
    async fn amend(self) {
        let me = self.signer.me;
        loop {
            let done = {
                let amended = lock(&self.amended);
                amended.proposed.len() >= self.life.proposals.len()
                    && amended.endorsed.len() >= self.life.endorsements.len()
            };
            if done {
                return;
            }
            for (i, p) in self.life.proposals.iter().enumerate() {
                if lock(&self.amended).proposed.contains(&i) || p.at_ms > now_ms() {
                    continue;
                }
                let body = p.template.resolve(&me, &lock(&self.ledger), &self.store);
                let Some(body) = body else { continue };
                match self.sign(body, &[]) {
                    Ok(_) => {
                        lock(&self.amended).proposed.insert(i);
                        // A hub rotating its key: the proposal is the old key's last event.
                        if p.template.change.cut().is_some_and(|(key, _, _)| key == me) {
                            *lock(&self.signer.paused) = Some(me);
                        }
                    }
                    Err(error) if error.kind == ErrorKind::Rejected => {
                        tracing::error!(%error, "the rules refuse a simulated amendment");
                        lock(&self.amended).proposed.insert(i);
                    }
                    Err(_) => {}
                }
            }
            for (i, t) in self.life.endorsements.iter().enumerate() {
                if lock(&self.amended).endorsed.contains(&i) {
                    continue;
                }
                let body = {
                    let ledger = lock(&self.ledger);
                    if crate::lifecycle::in_effect(t, &ledger) {
                        lock(&self.amended).endorsed.insert(i);
                        continue;
                    }
                    crate::lifecycle::endorsement(t, &ledger)
                };
                let Some(body) = body else { continue };
                match self.sign(body, &[]) {
                    Ok(_) => {
                        lock(&self.amended).endorsed.insert(i);
                    }
                    Err(error) if error.kind == ErrorKind::Rejected => {
                        tracing::error!(%error, "the rules refuse a simulated endorsement");
                        lock(&self.amended).endorsed.insert(i);
                    }
                    Err(_) => {}
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A thief signs with the stolen key every 500 ms, unjudged, until its plan ends.
    async fn thieve(self, plan: crate::lifecycle::ThiefPlan) {
        let mut step = 0;
        while now_ms() < plan.until_ms {
            let body = crate::lifecycle::thief_body(&plan, &lock(&self.ledger), step);
            match self.signer.sign_unjudged(&mut lock(&self.ledger), body) {
                Ok(event) => {
                    lock(&self.stopped_signed).push((event.author, event.seq, event.id));
                    self.replica.notify();
                }
                Err(error) => tracing::warn!(%error, "the thief could not sign"),
            }
            step += 1;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Waits until this hub's key is a present hub's in its views (a joining hub's
    /// admission).
    async fn admitted(&self) {
        while !lock(&self.ledger)
            .membership()
            .is_current_hub(&self.signer.me)
        {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Signs one scheduled event: `false` if the staff stop (the hub no longer signs). What
    /// the rules refuse is skipped; what must wait for other events is tried again.
    async fn sign_scheduled(&self, body: &pb::event::Body) -> bool {
        loop {
            match self.sign(body.clone(), &[]) {
                Ok(_) => return true,
                Err(error) if error.kind == ErrorKind::Rejected => {
                    tracing::warn!(%error, "the rules refuse a scheduled event: skipped");
                    return true;
                }
                Err(error) if error.kind == ErrorKind::Pending => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(error) if self.signer.stopped() => {
                    tracing::error!(%error, "simulated hub could not sign");
                    return false;
                }
                Err(_) => {
                    // Paused (a successor key is on its way) or frozen after a fork (a
                    // recovery is): later.
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    /// Signs the venues at once, then each scheduled event when it is due (resuming after a
    /// restart where the staff left off).
    async fn sign_schedule(self, schedule: Schedule) {
        self.admitted().await;
        if !lock(&self.progress).venues_done {
            for body in &schedule.venues {
                if !self.sign_scheduled(body).await {
                    return;
                }
            }
            lock(&self.progress).venues_done = true;
        }
        loop {
            let k = lock(&self.progress).scheduled_done;
            let (Some(body), Some(due)) = (schedule.bodies.get(k), schedule.due_ms.get(k)) else {
                return;
            };
            let due = Duration::from_millis(*due);
            let now = turmoil::sim_elapsed().unwrap_or_default();
            if due > now {
                tokio::time::sleep(due - now).await;
            }
            if self.signer.stopped() {
                // A hub that equivocated signs nothing more: its schedule ends there.
                lock(&self.progress).scheduled_done = schedule.bodies.len();
                return;
            }
            if !self.sign_scheduled(body).await {
                return;
            }
            lock(&self.progress).scheduled_done = k + 1;
        }
    }

    /// A misbehaving hub's own plan: events outside its authority, then the equivocation (the
    /// forgeries are its first face's store's doing).
    async fn misbehave(self, m: Misbehaviour, evidence: Arc<Mutex<Evidence>>) {
        let until = |ms: u64| async move {
            let now = turmoil::sim_elapsed().unwrap_or_default();
            let due = Duration::from_millis(ms);
            if due > now {
                tokio::time::sleep(due - now).await;
            }
        };
        if let Some(at) = m.out_of_territory_at_ms
            && lock(&evidence).intrusions.is_empty()
        {
            until(at).await;
            for body in crate::misbehaving::intrusions(&self.signer.me, &m) {
                match self.signer.sign_unjudged(&mut lock(&self.ledger), body) {
                    Ok(event) => {
                        self.replica.notify();
                        lock(&evidence).intrusions.push(event.id);
                    }
                    Err(error) => tracing::error!(%error, "could not sign an intrusion"),
                }
            }
        }
        if let Some(at) = m.equivocate_at_ms
            && lock(&evidence).equivocation.is_none()
        {
            until(at).await;
            let departement = self
                .replica
                .charter
                .member(&self.signer.me)
                .and_then(|m| m.territories.iter().next().cloned())
                .unwrap_or_default();
            let (first, second) = crate::misbehaving::equivocation(&departement);
            match self.signer.equivocate(first, second) {
                Ok((a, b)) => {
                    let mut evidence = lock(&evidence);
                    evidence.equivocation = Some((a.seq, a.id, b.id));
                    evidence.equivocated_at_ms =
                        turmoil::sim_elapsed().unwrap_or_default().as_millis() as u64;
                    self.replica.notify();
                }
                Err(error) => tracing::error!(%error, "could not equivocate"),
            }
        }
    }

    /// Serves the people at this hub's venues when they come, one at a time.
    async fn serve_visitors(self) {
        self.admitted().await;
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now_ms = now_ms();
            if !lock(&self.progress).venues_done {
                continue;
            }
            self.take_from_desk(now_ms);
            let due: Vec<Visit> = lock(&self.progress)
                .visits
                .iter()
                .filter(|(v, o)| o.is_none() && v.at_ms <= now_ms)
                .map(|(v, _)| v.clone())
                .collect();
            for visit in due {
                if let Some(outcome) = self.serve(&visit).await {
                    let mut progress = lock(&self.progress);
                    progress.awaiting.remove(&visit.id);
                    if let Some(slot) = progress.visits.iter_mut().find(|(v, _)| v.id == visit.id) {
                        slot.1 = Some(outcome);
                    }
                }
            }
        }
    }

    /// Takes the due visits at venues of a moving département this hub holds in its views,
    /// and puts back those at venues it no longer holds.
    fn take_from_desk(&self, now_ms: u64) {
        let Some(desk) = &self.desk else { return };
        let me = self.signer.me;
        let membership = lock(&self.ledger).membership();
        let holds = |v: &Visit| {
            v.departement
                .as_ref()
                .is_some_and(|d| membership.holds(&me, d))
        };
        let mut desk = lock(desk);
        let mut progress = lock(&self.progress);
        let awaiting: BTreeSet<usize> = progress.awaiting.keys().copied().collect();
        let mut given_back = Vec::new();
        progress.visits.retain(|(v, o)| {
            let back =
                o.is_none() && v.departement.is_some() && !holds(v) && !awaiting.contains(&v.id);
            if back {
                given_back.push(v.clone());
            }
            !back
        });
        desk.extend(given_back);
        let mut taken = Vec::new();
        desk.retain(|v| {
            let take = v.at_ms <= now_ms && holds(v);
            if take {
                taken.push(v.clone());
            }
            !take
        });
        progress.visits.extend(taken.into_iter().map(|v| (v, None)));
    }

    /// One step of serving a visit: `Some` once it ended, `None` to come back later (the
    /// voucher is not known here yet, or a transfer is on its way).
    async fn serve(&self, visit: &Visit) -> Option<VisitOutcome> {
        let me = self.signer.me;
        let awaiting = lock(&self.progress).awaiting.get(&visit.id).copied();
        let (state, transfer_applied, transfer_lost) = {
            let ledger = lock(&self.ledger);
            let applied = awaiting
                .is_some_and(|t| ledger.applied().get(&t.author).copied().unwrap_or(0) >= t.seq);
            // A transfer that can never count: signed past its key's last counted seq, or
            // on the branch of a fork a recovery did not keep (the owner signed it as a
            // restored copy before it learnt of the fork).
            let lost = awaiting.is_some_and(|t| {
                ledger
                    .cuts()
                    .get(&t.author)
                    .is_some_and(|c| c.last_seq < t.seq)
                    || ledger
                        .applied_id(&t.author, t.seq)
                        .is_some_and(|id| id != t.id)
            });
            // The owner answers under the key it signs with now (after a rotation or recovery).
            let state = ledger.voucher(&visit.serial).map(|mut v| {
                v.owner = ledger.membership().current_key(&v.owner);
                v
            });
            (state, applied, lost)
        };
        if transfer_lost {
            // The staff ask the voucher's owner (under its current key) again.
            lock(&self.progress).awaiting.remove(&visit.id);
            return None;
        }
        let state = state?;
        match state.status {
            VoucherStatus::Issued => return None,
            VoucherStatus::Redeemed => {
                return Some(VisitOutcome::RefusedLocally(
                    "already redeemed in this hub's views".into(),
                ));
            }
            VoucherStatus::Cancelled => {
                return Some(VisitOutcome::RefusedLocally("cancelled".into()));
            }
            VoucherStatus::HandedOut => {}
        }
        if state.owner == me {
            return self.redeem(visit, awaiting);
        }
        if awaiting.is_some() {
            if transfer_applied {
                return Some(VisitOutcome::RefusedLocally(
                    "transferred on to another hub before this one redeemed it".into(),
                ));
            }
            return None;
        }
        match self.request_transfer(visit, state.owner).await {
            Ok(transfer) => {
                lock(&self.progress)
                    .awaiting
                    .insert(visit.id, transfer.as_ref());
                None
            }
            Err(TransferFailure::Refused(reason)) => Some(VisitOutcome::RefusedOnline(reason)),
            Err(TransferFailure::Unreachable) => {
                // The views may have moved while the call waited.
                let state = {
                    let ledger = lock(&self.ledger);
                    let mut state = ledger.voucher(&visit.serial)?;
                    state.owner = ledger.membership().current_key(&state.owner);
                    state
                };
                if state.status != VoucherStatus::HandedOut || state.owner == me {
                    return None;
                }
                let claim = pb::event::Body::VoucherClaimed(pb::VoucherClaimed {
                    serial: visit.serial.clone(),
                    venue_id: visit.venue_id.clone(),
                    service: visit.service.clone(),
                    date: "2026-03-16".into(),
                });
                match self.sign(claim, &[]) {
                    Ok(_) => Some(VisitOutcome::Claimed),
                    Err(error) if error.kind == ErrorKind::Rejected => {
                        Some(VisitOutcome::RefusedByRules(error.message))
                    }
                    Err(_) => None,
                }
            }
        }
    }

    fn redeem(&self, visit: &Visit, transfer: Option<EventRef>) -> Option<VisitOutcome> {
        let body = pb::event::Body::VoucherRedeemed(pb::VoucherRedeemed {
            serial: visit.serial.clone(),
            venue_id: visit.venue_id.clone(),
            service: visit.service.clone(),
            date: "2026-03-16".into(),
            claim: None,
        });
        let relies_on: Vec<HubId> = transfer.iter().map(|t| t.author).collect();
        match self.sign(body, &relies_on) {
            Ok(_) => Some(VisitOutcome::Redeemed {
                transferred: transfer.is_some(),
            }),
            Err(error) if error.kind == ErrorKind::Rejected => {
                Some(VisitOutcome::RefusedByRules(error.message))
            }
            // Not signing now (paused, frozen): later.
            Err(_) => None,
        }
    }

    /// Asks the owner, directly, to transfer the voucher to this hub (as the node's daemon
    /// does), within 3 s.
    async fn request_transfer(
        &self,
        visit: &Visit,
        owner: HubId,
    ) -> Result<VerifiedEvent, TransferFailure> {
        let Some(name) = self.replica.charter.member(&owner).map(|m| m.name.clone()) else {
            return Err(TransferFailure::Refused("unknown owner".into()));
        };
        let peer = PeerConfig {
            address: format!("http://{name}:{PORT}"),
            key: Some(owner),
            tls: None,
        };
        let call = async {
            let mut client = PeerClient::connect(&self.replica, &peer, &SimConnector).await?;
            client
                .request_transfer(
                    &self.replica.charter,
                    vec![visit.serial.clone()],
                    visit.venue_id.clone(),
                )
                .await
        };
        match tokio::time::timeout(Duration::from_secs(3), call).await {
            Ok(Ok(event)) => Ok(event),
            Ok(Err(LinkError::Rpc(status)))
                if matches!(
                    status.code(),
                    tonic::Code::FailedPrecondition
                        | tonic::Code::NotFound
                        | tonic::Code::InvalidArgument
                        | tonic::Code::PermissionDenied
                ) =>
            {
                Err(TransferFailure::Refused(status.message().to_string()))
            }
            Ok(Err(_)) | Err(_) => Err(TransferFailure::Unreachable),
        }
    }
}

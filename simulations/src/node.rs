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
    Charter, EventId, EventRef, FeedWriter, Fork, HubId, Ledger, Role, SecretKey, VerifiedEvent, pb,
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
    /// Work the hub's staff still have to do: scheduled events not signed, visits not served.
    pub work_left: usize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Every stored event folded from scratch (a restart, or a fork found).
fn fold_all(charter: &Arc<Charter>, store: &MemoryStore) -> Ledger {
    let mut ledger = Ledger::new(charter.clone());
    for (author, recorded) in store.forks() {
        ledger.freeze(author, recorded.fork.seq - 1);
    }
    for author in store.frontier().keys() {
        if let Ok(events) = store.range(author, 0, usize::MAX) {
            for event in events {
                ledger.offer(event);
            }
        }
    }
    ledger
}

/// Signs own events: one writer per start of the node, shared by everything that signs.
struct Signer {
    me: HubId,
    store: Arc<MemoryStore>,
    /// A misbehaving hub's second face: its own events go there too.
    mirror: Option<Arc<MemoryStore>>,
    writer: Mutex<FeedWriter>,
    /// A misbehaving hub stops signing once it has equivocated.
    stopped: Mutex<bool>,
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
        let mut writer = lock(&self.writer);
        let deps = ledger.next_deps_for(&self.me, &body, relies_on);
        let hlc = writer.next_hlc(sim_now_ms());
        match ledger.evaluate(self.me, hlc, &deps, &body) {
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
        let deps = ledger.next_deps(&self.me);
        let hlc = writer.next_hlc(sim_now_ms());
        self.append(&mut writer, ledger, body, deps, hlc)
    }

    fn append(
        &self,
        writer: &mut FeedWriter,
        ledger: &mut Ledger,
        body: pb::event::Body,
        deps: Vec<EventRef>,
        hlc: u64,
    ) -> Result<VerifiedEvent, AppError> {
        if self.stopped() {
            return Err(AppError::unavailable("this hub no longer signs"));
        }
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
        self.answer_claims(&mut ledger);
    }

    fn forked(&self, _: &Fork) {
        *lock(&self.ledger) = fold_all(&self.charter, &self.store);
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
    key_seed: [u8; 32],
    charter: Arc<Charter>,
    peers: Vec<String>,
    /// For hubs: what they sign on their own.
    schedule: Option<Schedule>,
    env_seed: u64,
    /// The node's durable state: kept across crashes.
    pub store: Arc<MemoryStore>,
    ledger: Arc<Mutex<Ledger>>,
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
        charter: Arc<Charter>,
        peers: Vec<String>,
        schedule: Option<Schedule>,
        visits: Vec<Visit>,
        env_seed: u64,
    ) -> Self {
        Self {
            store: Arc::new(MemoryStore::in_memory(charter.clone())),
            ledger: Arc::new(Mutex::new(Ledger::new(charter.clone()))),
            name,
            key_seed,
            charter,
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
        self.second_store = Some(Arc::new(MemoryStore::in_memory(self.charter.clone())));
        self
    }

    /// Whether this node follows the protocol.
    pub fn honest(&self) -> bool {
        self.misbehaviour.is_none()
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
        *lock(&self.ledger) = fold_all(&self.charter, &self.store);
        let secret = SecretKey::from_seed(&self.key_seed);
        let is_hub = self
            .charter
            .member(&secret.hub_id())
            .is_some_and(|m| m.role == Role::Hub);
        let signer = is_hub.then(|| {
            Arc::new(Signer::new(
                SecretKey::from_seed(&self.key_seed),
                &self.charter,
                self.store.clone(),
                self.second_store.clone(),
            ))
        });
        let host = Arc::new(SimHost {
            charter: self.charter.clone(),
            store: self.store.clone(),
            ledger: self.ledger.clone(),
            // A misbehaving hub answers no claim and transfers nothing.
            signer: signer.clone().filter(|_| self.honest()),
            answered: Mutex::new(BTreeSet::new()),
            counters: self.counters.clone(),
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
                self.store.clone(),
                self.charter.clone(),
                SecretKey::from_seed(&self.key_seed),
                m,
                self.evidence.clone(),
            )),
            None => self.store.clone(),
        };
        let replica = Replica::with_environment(
            self.charter.clone(),
            secret,
            served_store,
            host,
            config.clone(),
            environment(0),
        );
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
                self.charter.clone(),
                SecretKey::from_seed(&self.key_seed),
                second_store.clone(),
                Arc::new(SimHost {
                    charter: self.charter.clone(),
                    store: second_store.clone(),
                    ledger: Arc::new(Mutex::new(Ledger::new(self.charter.clone()))),
                    signer: None,
                    answered: Mutex::new(BTreeSet::new()),
                    counters: Arc::new(Mutex::new(HubCounters::default())),
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
        if let (Some(schedule), Some(signer)) = (self.schedule.clone(), signer) {
            let staff = Staff {
                replica: replica.clone(),
                ledger: self.ledger.clone(),
                signer,
                progress: self.progress.clone(),
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
        let listener = turmoil::net::TcpListener::bind(("0.0.0.0", PORT)).await?;
        tonic::transport::Server::builder()
            .add_service(maillage_sync::server::federation_server(replica))
            .serve_with_incoming(incoming(listener))
            .await?;
        drop(_stop_tx);
        Ok(())
    }

    /// What the runner checks.
    pub fn state(&self) -> NodeState {
        let ledger = lock(&self.ledger);
        let replica = lock(&self.replica).clone();
        let peers = replica.as_ref().map(|r| r.peers()).unwrap_or_default();
        let mut frontier = Sha256::new();
        for (author, head) in self.store.frontier() {
            frontier.update(author.0);
            frontier.update(head.seq.to_be_bytes());
            frontier.update(head.id.0);
        }
        for author in self.store.forks().keys() {
            frontier.update(b"fork");
            frontier.update(author.0);
        }
        let work_left = {
            let progress = lock(&self.progress);
            let scheduled = self.schedule.as_ref().map_or(0, |s| {
                s.bodies.len() - progress.scheduled_done.min(s.bodies.len())
                    + usize::from(!progress.venues_done)
            });
            scheduled + progress.visits.iter().filter(|(_, o)| o.is_none()).count()
        };
        let carried = lock(&self.carried).clone();
        NodeState {
            honest: self.honest(),
            forked: self
                .store
                .forks()
                .into_iter()
                .map(|(author, f)| (author, f.fork.seq))
                .collect(),
            name: self.name.clone(),
            applied: ledger.applied_count(),
            stored: self.store.event_count(),
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
        let signed = self.signer.sign(&mut lock(&self.ledger), body, relies_on);
        if signed.is_ok() {
            self.replica.notify();
        }
        signed
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
                Err(error) => {
                    tracing::error!(%error, "simulated hub could not sign");
                    return false;
                }
            }
        }
    }

    /// Signs the venues at once, then each scheduled event when it is due (resuming after a
    /// restart where the staff left off).
    async fn sign_schedule(self, schedule: Schedule) {
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
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now_ms = turmoil::sim_elapsed().unwrap_or_default().as_millis() as u64;
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

    /// One step of serving a visit: `Some` once it ended, `None` to come back later (the
    /// voucher is not known here yet, or a transfer is on its way).
    async fn serve(&self, visit: &Visit) -> Option<VisitOutcome> {
        let me = self.signer.me;
        let awaiting = lock(&self.progress).awaiting.get(&visit.id).copied();
        let (state, transfer_applied) = {
            let ledger = lock(&self.ledger);
            let applied = awaiting
                .is_some_and(|t| ledger.applied().get(&t.author).copied().unwrap_or(0) >= t.seq);
            // The owner answers under the key it signs with now (after a rotation or recovery).
            let state = ledger.voucher(&visit.serial).map(|mut v| {
                v.owner = ledger.membership().current_key(&v.owner);
                v
            });
            (state, applied)
        };
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
            return Some(self.redeem(visit, awaiting));
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

    fn redeem(&self, visit: &Visit, transfer: Option<EventRef>) -> VisitOutcome {
        let body = pb::event::Body::VoucherRedeemed(pb::VoucherRedeemed {
            serial: visit.serial.clone(),
            venue_id: visit.venue_id.clone(),
            service: visit.service.clone(),
            date: "2026-03-16".into(),
            claim: None,
        });
        let relies_on: Vec<HubId> = transfer.iter().map(|t| t.author).collect();
        match self.sign(body, &relies_on) {
            Ok(_) => VisitOutcome::Redeemed {
                transferred: transfer.is_some(),
            },
            Err(error) => VisitOutcome::RefusedByRules(error.message),
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

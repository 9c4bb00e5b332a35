//! One simulated node: the real replica over an in-memory store (its "disk", which survives
//! crashes), the real fold, and — for hubs — what a hub's staff do: sign venues, batches and
//! carnets on a schedule, serve the people who present vouchers at their venues (online
//! transfer from the owner, or a claim when it is unreachable), and answer claims on their
//! own vouchers.
//!
//! The owner side mirrors the node's daemon (`node/src/serve.rs`, `NodeHost`): a transfer is
//! signed only for a voucher this hub owns that sits in a person's carnet, and a claim is
//! answered by signing the redemption and, if the rules reject it, a rejection carrying the
//! rules' reason. The rules themselves are only ever the core's (`Ledger`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use maillage_core::envelope::DEPS_MAX;
use maillage_core::hlc::MAX_AHEAD_MS_DEFAULT;
use maillage_core::ledger::VoucherStatus;
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

/// The deps of a new own event: the store's causal past, plus the current heads of the feeds
/// of `must` (events the new one must have in its past: the claim it answers, the transfer it
/// relies on), within [`DEPS_MAX`].
fn deps_with(store: &MemoryStore, me: &HubId, must: &[EventRef]) -> Vec<EventRef> {
    let mut deps = store.causal_past(me);
    for needed in must.iter().filter(|m| m.author != *me) {
        let Some(head) = store.head(&needed.author).filter(|h| h.seq >= needed.seq) else {
            continue;
        };
        let current = EventRef {
            author: needed.author,
            seq: head.seq,
            id: head.id,
        };
        match deps.iter().position(|d| d.author == needed.author) {
            Some(i) if deps[i].seq >= needed.seq => {}
            Some(i) => deps[i] = current,
            None => {
                if deps.len() >= DEPS_MAX {
                    // Drop a feed no one requires: the next event names it (it is still
                    // "advanced" for `causal_past`).
                    if let Some(i) = deps
                        .iter()
                        .rposition(|d| !must.iter().any(|m| m.author == d.author))
                    {
                        deps.remove(i);
                    }
                }
                deps.push(current);
            }
        }
    }
    deps.sort_by_key(|d| d.author);
    deps
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
        let deps = deps_with(&self.store, &self.me, &[]);
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

    /// Signs `body`, appends it to the store, folds it into `ledger`. Returns the event and,
    /// if the rules rejected it, their reason.
    fn sign(
        &self,
        ledger: &mut Ledger,
        body: pb::event::Body,
        must: &[EventRef],
    ) -> Result<(VerifiedEvent, Option<String>), String> {
        if self.stopped() {
            return Err("this hub no longer signs".into());
        }
        let mut writer = lock(&self.writer);
        let deps = deps_with(&self.store, &self.me, must);
        let event = writer
            .next(body, deps, sim_now_ms())
            .map_err(|e| e.to_string())?;
        if let Err(error) = self.store.append_own(std::slice::from_ref(&event)) {
            writer.rewind(self.store.head(&self.me));
            return Err(error.to_string());
        }
        if let Some(mirror) = &self.mirror
            && let Err(error) = mirror.append_own(std::slice::from_ref(&event))
        {
            tracing::warn!(%error, "the second face did not take an own event");
        }
        ledger.offer(event.clone());
        let rejected = ledger.rejections().get(&event.id).map(|r| r.reason.clone());
        Ok((event, rejected))
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
    /// Answers open claims on vouchers this hub owns, as the node's daemon does: redeem as
    /// claimed (the rules check the voucher is still redeemable); if the rules refuse, reject
    /// the claim with their reason.
    fn answer_claims(&self, ledger: &mut Ledger) {
        let Some(signer) = &self.signer else {
            return;
        };
        let open: Vec<_> = ledger
            .claims()
            .values()
            .filter(|c| c.accepted.is_none())
            .filter(|c| {
                ledger
                    .voucher(&c.serial)
                    .is_some_and(|v| v.owner == signer.me)
            })
            .cloned()
            .collect();
        for claim in open {
            if !lock(&self.answered).insert(claim.event) {
                continue;
            }
            let redeem = pb::event::Body::VoucherRedeemed(pb::VoucherRedeemed {
                serial: claim.serial.clone(),
                venue_id: claim.venue_id.clone(),
                service: claim.service.clone(),
                date: claim.date.clone(),
                claim: Some(claim.at.into()),
            });
            match signer.sign(ledger, redeem, &[claim.at]) {
                Ok((_, None)) => lock(&self.counters).claims_accepted += 1,
                Ok((_, Some(reason))) => {
                    let reject = pb::event::Body::VoucherClaimRejected(pb::VoucherClaimRejected {
                        claim: Some(claim.at.into()),
                        reason,
                    });
                    match signer.sign(ledger, reject, &[claim.at]) {
                        Ok(_) => lock(&self.counters).claims_rejected += 1,
                        Err(error) => tracing::error!(%error, "could not reject a claim"),
                    }
                }
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
        let refuse = |status: tonic::Status| {
            *lock(&self.counters)
                .transfers_refused
                .entry(crate::reason_class(status.message()))
                .or_default() += 1;
            Err(status)
        };
        let Some(signer) = &self.signer else {
            return refuse(tonic::Status::failed_precondition(
                "this node is an observer: it owns no vouchers",
            ));
        };
        if self.charter.member(&caller).map(|m| m.role) != Some(Role::Hub) {
            return refuse(tonic::Status::permission_denied(
                "only hubs receive vouchers",
            ));
        }
        let mut ledger = lock(&self.ledger);
        for serial in &request.serials {
            let Some(state) = ledger.voucher(serial) else {
                return refuse(tonic::Status::not_found(format!(
                    "voucher {serial}: unknown to its supposed owner"
                )));
            };
            if state.owner != signer.me {
                return refuse(tonic::Status::failed_precondition(format!(
                    "voucher {serial} is owned by hub {}, not by this hub",
                    state.owner.short()
                )));
            }
            if state.status != VoucherStatus::HandedOut {
                return refuse(tonic::Status::failed_precondition(format!(
                    "voucher {serial} is {:?}, not in a person's carnet: it cannot be redeemed",
                    state.status
                )));
            }
        }
        let body = pb::event::Body::VoucherTransferred(pb::VoucherTransferred {
            serials: request.serials.clone(),
            to_hub: caller.0.to_vec(),
            reason: format!("online redemption at venue {}", request.venue_id),
        });
        match signer.sign(&mut ledger, body, &[]) {
            Ok((_, Some(reason))) => refuse(tonic::Status::failed_precondition(reason)),
            Ok((event, None)) => {
                lock(&self.counters).transfers_signed += 1;
                Ok(event)
            }
            Err(error) => Err(tonic::Status::internal(format!(
                "signing the transfer: {error}"
            ))),
        }
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
    fn sign(
        &self,
        body: pb::event::Body,
        must: &[EventRef],
    ) -> Option<(VerifiedEvent, Option<String>)> {
        let signed = self.signer.sign(&mut lock(&self.ledger), body, must);
        self.replica.notify();
        match signed {
            Ok(signed) => Some(signed),
            Err(error) => {
                tracing::error!(%error, "simulated hub could not sign");
                None
            }
        }
    }

    /// Signs the venues at once, then each scheduled event when it is due (resuming after a
    /// restart where the staff left off).
    async fn sign_schedule(self, schedule: Schedule) {
        if !lock(&self.progress).venues_done {
            for body in schedule.venues.clone() {
                if self.sign(body, &[]).is_none() {
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
            if self.sign(body.clone(), &[]).is_none() {
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
                if let Some((event, _)) = self.sign(body, &[]) {
                    lock(&evidence).intrusions.push(event.id);
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
            (ledger.voucher(&visit.serial), applied)
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
                let state = lock(&self.ledger).voucher(&visit.serial)?;
                if state.status != VoucherStatus::HandedOut || state.owner == me {
                    return None;
                }
                let claim = pb::event::Body::VoucherClaimed(pb::VoucherClaimed {
                    serial: visit.serial.clone(),
                    venue_id: visit.venue_id.clone(),
                    service: visit.service.clone(),
                    date: "2026-03-16".into(),
                });
                let (_, rejected) = self.sign(claim, &[])?;
                Some(match rejected {
                    None => VisitOutcome::Claimed,
                    Some(reason) => VisitOutcome::RejectedByRules(reason),
                })
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
        let must: Vec<EventRef> = transfer.into_iter().collect();
        match self.sign(body, &must) {
            Some((_, None)) => VisitOutcome::Redeemed {
                transferred: transfer.is_some(),
            },
            Some((_, Some(reason))) => VisitOutcome::RejectedByRules(reason),
            None => VisitOutcome::RejectedByRules("could not sign".into()),
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

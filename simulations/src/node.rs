//! One simulated node: the real replica over an in-memory store (its "disk", which survives
//! crashes), the real fold, and — for hubs — a schedule of domain events to author.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use maillage_core::hlc::MAX_AHEAD_MS_DEFAULT;
use maillage_core::{Charter, FeedWriter, Fork, HubId, Ledger, SecretKey, VerifiedEvent, pb};
use maillage_store::{EventStore, MemoryStore};
use maillage_sync::replica::{Environment, Host};
use maillage_sync::{PeerConfig, Replica, ReplicaConfig, run_link};
use sha2::{Digest, Sha256};

use crate::PORT;
use crate::env::{SimEnvironment, sim_now_ms};
use crate::net::{SimConnector, incoming};

/// What the runner observes of a node, once per simulated second.
#[derive(Debug, Clone)]
pub struct NodeState {
    /// Host name.
    pub name: String,
    /// Events folded.
    pub applied: u64,
    /// The views' digest.
    pub digest: [u8; 32],
    /// gRPC bytes received from peers.
    pub bytes_received: u64,
    /// Events received from peers (duplicates included).
    pub events_received: u64,
    /// Redeemed vouchers and the event that redeemed each.
    pub redemptions: BTreeMap<String, maillage_core::EventId>,
}

/// Folds what replication stores.
struct SimHost {
    charter: Arc<Charter>,
    store: Arc<MemoryStore>,
    ledger: Arc<Mutex<Ledger>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Every stored event folded from scratch (a restart, or a fork found).
fn fold_all(charter: &Arc<Charter>, store: &MemoryStore) -> Ledger {
    let mut ledger = Ledger::new(charter.clone());
    for author in store.frontier().keys() {
        if let Ok(events) = store.range(author, 0, usize::MAX) {
            for event in events {
                ledger.offer(event);
            }
        }
    }
    ledger
}

impl Host for SimHost {
    fn stored(&self, events: Vec<VerifiedEvent>) {
        let mut ledger = lock(&self.ledger);
        for event in events {
            ledger.offer(event);
        }
    }

    fn forked(&self, _: &Fork) {
        *lock(&self.ledger) = fold_all(&self.charter, &self.store);
    }

    fn transfer(&self, _: HubId, _: pb::TransferRequest) -> Result<VerifiedEvent, tonic::Status> {
        Err(tonic::Status::unimplemented(
            "transfers are not simulated yet",
        ))
    }
}

/// A node of the simulation.
#[derive(Debug)]
pub struct SimNode {
    /// Host name (`hub-3`).
    pub name: String,
    key_seed: [u8; 32],
    charter: Arc<Charter>,
    peers: Vec<String>,
    /// For hubs: (index, events to author, over how many simulated seconds).
    authoring: Option<(usize, usize, u64)>,
    env_seed: u64,
    /// The node's durable state: kept across crashes.
    pub store: Arc<MemoryStore>,
    ledger: Arc<Mutex<Ledger>>,
    replica: Mutex<Option<Arc<Replica>>>,
    /// Starts so far (each restart draws fresh handshake randomness).
    starts: Mutex<u64>,
}

impl SimNode {
    /// A node; nothing runs until the simulation starts its host.
    pub fn new(
        name: String,
        key_seed: [u8; 32],
        charter: Arc<Charter>,
        peers: Vec<String>,
        authoring: Option<(usize, usize, u64)>,
        env_seed: u64,
    ) -> Self {
        Self {
            store: Arc::new(MemoryStore::in_memory(charter.clone())),
            ledger: Arc::new(Mutex::new(Ledger::new(charter.clone()))),
            name,
            key_seed,
            charter,
            peers,
            authoring,
            env_seed,
            replica: Mutex::new(None),
            starts: Mutex::new(0),
        }
    }

    /// The node's software: rebuild the views from the store, dial the peers, author (hubs),
    /// serve.
    pub async fn serve(&self) -> turmoil::Result {
        let starts = {
            let mut starts = lock(&self.starts);
            *starts += 1;
            *starts
        };
        *lock(&self.ledger) = fold_all(&self.charter, &self.store);
        let host = Arc::new(SimHost {
            charter: self.charter.clone(),
            store: self.store.clone(),
            ledger: self.ledger.clone(),
        });
        let environment: Arc<dyn Environment> = Arc::new(SimEnvironment::new(
            self.env_seed.wrapping_mul(31).wrapping_add(starts),
        ));
        let replica = Replica::with_environment(
            self.charter.clone(),
            SecretKey::from_seed(&self.key_seed),
            self.store.clone() as Arc<dyn EventStore>,
            host,
            ReplicaConfig {
                heartbeat_ms: 1_000,
                stall_timeout_ms: 5_000,
                retry_min_ms: 100,
                retry_max_ms: 2_000,
                ..ReplicaConfig::default()
            },
            environment,
        );
        *lock(&self.replica) = Some(replica.clone());
        // Links stop with the host (a crash drops every task); the sender lives as long.
        let (_stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        for peer in &self.peers {
            tokio::spawn(run_link(
                replica.clone(),
                PeerConfig {
                    address: format!("http://{peer}:{PORT}"),
                    key: None,
                    tls: None,
                },
                Arc::new(SimConnector),
                stop_rx.clone(),
            ));
        }
        if let Some((index, count, over_s)) = self.authoring {
            tokio::spawn(author(
                replica.clone(),
                self.store.clone(),
                self.ledger.clone(),
                SecretKey::from_seed(&self.key_seed),
                index,
                count,
                over_s,
            ));
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
        let bytes_received = lock(&self.replica)
            .as_ref()
            .map(|r| r.peers().values().map(|p| p.bytes_received).sum())
            .unwrap_or(0);
        let events_received = lock(&self.replica)
            .as_ref()
            .map(|r| r.peers().values().map(|p| p.events_received).sum())
            .unwrap_or(0);
        NodeState {
            events_received,
            name: self.name.clone(),
            applied: ledger.applied_count(),
            digest: ledger.digest(),
            bytes_received,
            redemptions: ledger
                .touched_vouchers()
                .filter_map(|(serial, state)| {
                    state.redemption.as_ref().map(|r| (serial.clone(), r.event))
                })
                .collect(),
        }
    }
}

/// The domain event number `k` of hub `index`: every fifth a batch of 10 vouchers, the others
/// hand one voucher of the latest batch to a new person.
fn body(index: usize, k: usize) -> pb::event::Body {
    let departement = crate::territory(index);
    let batch_id = format!("{departement}-2026-SIM-{}", k / 5 + 1);
    if k.is_multiple_of(5) {
        return pb::event::Body::VoucherBatchIssued(pb::VoucherBatchIssued {
            batch_id,
            funder: Some(pb::Funder {
                name: "Conseil départemental".into(),
                siret: "53418890200012".into(),
            }),
            face_value_cents: 1000,
            count: 10,
            valid_from: "2026-01-01".into(),
            valid_until: "2026-12-31".into(),
            redeem_deadline: "2027-01-31".into(),
            ..Default::default()
        });
    }
    let person: [u8; 16] = Sha256::new()
        .chain_update(b"simulated person\0")
        .chain_update((index as u64).to_be_bytes())
        .chain_update((k as u64).to_be_bytes())
        .finalize()[..16]
        .try_into()
        .unwrap_or([0; 16]);
    pb::event::Body::VouchersHandedOut(pb::VouchersHandedOut {
        serials: vec![format!("{batch_id}-{}", k % 5)],
        person: person.to_vec(),
        prescriber: Some(pb::Prescriber {
            kind: "CAF".into(),
            name: "CAF, accueil".into(),
        }),
        date: "2026-03-02".into(),
        ..Default::default()
    })
}

/// Authors `count` events evenly over `over_s` simulated seconds (resuming after a restart
/// from what the store holds), each naming the heads of every other feed as its causal past.
async fn author(
    replica: Arc<Replica>,
    store: Arc<MemoryStore>,
    ledger: Arc<Mutex<Ledger>>,
    secret: SecretKey,
    index: usize,
    count: usize,
    over_s: u64,
) {
    let me = secret.hub_id();
    let interval_ms = (over_s * 1000 / count.max(1) as u64).max(1);
    let mut writer = FeedWriter::new(
        secret,
        replica.charter.federation_id(),
        store.head(&me),
        store.max_hlc(),
        MAX_AHEAD_MS_DEFAULT,
    );
    let done = store.head(&me).map_or(0, |h| h.seq as usize);
    for k in done..count {
        let due = Duration::from_millis(k as u64 * interval_ms);
        let now = turmoil::sim_elapsed().unwrap_or_default();
        if due > now {
            tokio::time::sleep(due - now).await;
        }
        let deps = store.causal_past(&me);
        let event = match writer.next(body(index, k), deps, sim_now_ms()) {
            Ok(event) => event,
            Err(error) => {
                tracing::error!(%error, "simulated hub could not sign");
                return;
            }
        };
        if let Err(error) = store.append_own(std::slice::from_ref(&event)) {
            tracing::error!(%error, "simulated hub could not append");
            return;
        }
        lock(&ledger).offer(event);
        replica.notify();
    }
}

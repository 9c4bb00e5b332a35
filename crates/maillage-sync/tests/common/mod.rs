//! What the gRPC tests share: a federation of test members, their feeds, replicas on
//! in-memory stores, a server on 127.0.0.1, and waiting for a state.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use maillage_core::hlc::MAX_AHEAD_MS_DEFAULT;
use maillage_core::{
    Charter, FeedWriter, Fork, HubId, MemberSpec, Role, SecretKey, VerifiedEvent, pb,
};
use maillage_store::{EventStore, MemoryStore};
use maillage_sync::{Host, PeerConfig, Replica, ReplicaConfig};

/// Counts what it is given to fold.
#[derive(Default)]
pub struct Counting {
    pub folded: Mutex<u64>,
}

impl Host for Counting {
    fn stored(&self, events: Vec<VerifiedEvent>) {
        *self.folded.lock().unwrap() += events.len() as u64;
    }
    fn forked(&self, _: &Fork) {}
    fn transfer(&self, _: HubId, _: pb::TransferRequest) -> Result<VerifiedEvent, tonic::Status> {
        Err(tonic::Status::unimplemented("test"))
    }
}

/// A federation and its members' keys.
pub struct Fixture {
    pub charter: Arc<Charter>,
    pub keys: Vec<SecretKey>,
}

/// Two hubs (départements 13 and 69) and an observer, in that order.
pub fn fixture() -> Fixture {
    fixture_of(&["13", "69", ""])
}

/// A member per entry: a hub of that département, or an observer for "".
pub fn fixture_of(territories: &[&str]) -> Fixture {
    let keys: Vec<SecretKey> = (1..=territories.len() as u8)
        .map(|n| SecretKey::from_seed(&[n; 32]))
        .collect();
    let members = keys
        .iter()
        .zip(territories.iter().copied())
        .map(|(k, t)| MemberSpec {
            key: k.hub_id(),
            name: format!("member {t}"),
            role: if t.is_empty() {
                Role::Observer
            } else {
                Role::Hub
            },
            territories: if t.is_empty() { vec![] } else { vec![t.into()] },
        })
        .collect();
    Fixture {
        charter: Arc::new(Charter::found("Loopback", 1, members).unwrap()),
        keys,
    }
}

pub fn feed(f: &Fixture, key: usize, count: u64) -> Vec<VerifiedEvent> {
    signed_by(&f.keys[key], f, count, "v")
}

/// `count` events signed by `secret` from seq 1, closing venues `{prefix}1`, `{prefix}2`…: two
/// prefixes give two versions of one feed.
pub fn signed_by(secret: &SecretKey, f: &Fixture, count: u64, prefix: &str) -> Vec<VerifiedEvent> {
    let mut writer = FeedWriter::new(
        SecretKey::from_seed(&secret.seed()),
        f.charter.federation_id(),
        None,
        0,
        MAX_AHEAD_MS_DEFAULT,
    );
    (1..=count)
        .map(|n| {
            writer
                .next(
                    pb::event::Body::VenueClosed(pb::VenueClosed {
                        venue_id: format!("{prefix}{n}"),
                        reason: "test".into(),
                        ..Default::default()
                    }),
                    vec![],
                    1_000_000 + n,
                )
                .unwrap()
        })
        .collect()
}

/// Another event of member `key`'s feed after `after` than the one its feed holds there:
/// the second half of a fork.
pub fn other_version(f: &Fixture, key: usize, after: &VerifiedEvent) -> VerifiedEvent {
    let mut writer = FeedWriter::new(
        SecretKey::from_seed(&f.keys[key].seed()),
        f.charter.federation_id(),
        Some(maillage_core::Head {
            seq: after.seq,
            id: after.id,
        }),
        after.hlc,
        MAX_AHEAD_MS_DEFAULT,
    );
    writer
        .next(
            pb::event::Body::VenueClosed(pb::VenueClosed {
                venue_id: "elsewhere".into(),
                reason: "test".into(),
                ..Default::default()
            }),
            vec![],
            2_000_000,
        )
        .unwrap()
}

pub fn replica(f: &Fixture, key: usize) -> (Arc<Replica>, Arc<Counting>) {
    replica_speaking(f, key, maillage_core::version::SUPPORTED_VERSIONS)
}

/// A replica offering and accepting `versions` in handshakes: with another list than this
/// build's, it plays a node of another release.
pub fn replica_speaking(
    f: &Fixture,
    key: usize,
    versions: &[u32],
) -> (Arc<Replica>, Arc<Counting>) {
    replica_on(
        f,
        key,
        Arc::new(MemoryStore::in_memory(f.charter.clone())),
        ReplicaConfig {
            protocol_versions: versions.to_vec(),
            ..quick()
        },
    )
}

/// Heartbeats every 200 ms, a link silent for 2 s is stalled.
pub fn quick() -> ReplicaConfig {
    ReplicaConfig {
        heartbeat_ms: 200,
        stall_timeout_ms: 2_000,
        ..ReplicaConfig::default()
    }
}

/// Member `key`'s replica on `store`.
pub fn replica_on(
    f: &Fixture,
    key: usize,
    store: Arc<dyn EventStore>,
    config: ReplicaConfig,
) -> (Arc<Replica>, Arc<Counting>) {
    let host = Arc::new(Counting::default());
    let replica = Replica::new(
        f.charter.clone(),
        SecretKey::from_seed(&f.keys[key].seed()),
        store,
        host.clone(),
        config,
    );
    (replica, host)
}

/// Member `key`'s replica on an empty store in memory.
pub fn replica_with(f: &Fixture, key: usize, config: ReplicaConfig) -> Arc<Replica> {
    let store = Arc::new(MemoryStore::in_memory(f.charter.clone()));
    replica_on(f, key, store, config).0
}

/// Starts links of `replica` to the addresses it is given, until `stop` turns true.
pub fn dialler(
    replica: &Arc<Replica>,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> impl Fn(&str) -> tokio::task::JoinHandle<()> {
    let (replica, stop) = (replica.clone(), stop.clone());
    move |address: &str| {
        tokio::spawn(maillage_sync::run_link(
            replica.clone(),
            peer(address),
            Arc::new(maillage_sync::TcpConnector::default()),
            stop.clone(),
        ))
    }
}

/// A client of `replica`, handshake done, to the server at `address`.
pub async fn connected(replica: &Replica, address: &str) -> maillage_sync::PeerClient {
    let connector = maillage_sync::TcpConnector::default();
    maillage_sync::PeerClient::connect(replica, &peer(address), &connector)
        .await
        .unwrap()
}

/// Waits up to 20 s for `done`, showing `state()` if it never comes.
pub async fn until<S: std::fmt::Debug>(
    what: &str,
    state: impl Fn() -> S,
    done: impl Fn(&S) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = state();
        if done(&now) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {now:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn serve(replica: Arc<Replica>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(maillage_sync::server::federation_server(replica))
            .serve_with_incoming(maillage_sync::server::incoming(listener))
            .await
            .unwrap();
    });
    format!("http://{addr}")
}

pub fn peer(address: &str) -> PeerConfig {
    PeerConfig {
        address: address.to_string(),
        key: None,
        tls: None,
    }
}

/// Asks `links` to stop and waits for each (a link that does not stop within 5 s fails).
pub async fn stop_links(
    stop: &tokio::sync::watch::Sender<bool>,
    links: Vec<tokio::task::JoinHandle<()>>,
) {
    stop.send(true).unwrap();
    for link in links {
        tokio::time::timeout(Duration::from_secs(5), link)
            .await
            .expect("links stop on shutdown")
            .unwrap();
    }
}

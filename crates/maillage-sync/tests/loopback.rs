//! The Federation service and links over real gRPC on 127.0.0.1, with in-memory stores:
//! two replicas converge through a link; a bad event is rejected alone; a stranger's key is
//! refused at the handshake; an oversized message is refused and the node keeps serving.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use maillage_core::hlc::MAX_AHEAD_MS_DEFAULT;
use maillage_core::{
    Charter, FeedWriter, Fork, HubId, MemberSpec, Role, SecretKey, VerifiedEvent, pb,
};
use maillage_proto::v1::federation_client::FederationClient;
use maillage_store::{EventStore, MemoryStore};
use maillage_sync::{
    Host, LinkError, PeerClient, PeerConfig, Replica, ReplicaConfig, TcpConnector, run_link,
};

/// Counts what it is given to fold.
#[derive(Default)]
struct Counting {
    folded: Mutex<u64>,
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

struct Fixture {
    charter: Arc<Charter>,
    keys: Vec<SecretKey>,
}

fn fixture() -> Fixture {
    let keys: Vec<SecretKey> = (1..=3u8).map(|n| SecretKey::from_seed(&[n; 32])).collect();
    let members = keys
        .iter()
        .zip(["13", "69", ""])
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

fn feed(f: &Fixture, key: usize, count: u64) -> Vec<VerifiedEvent> {
    let mut writer = FeedWriter::new(
        SecretKey::from_seed(&f.keys[key].seed()),
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
                        venue_id: format!("v{n}"),
                        reason: "test".into(),
                    }),
                    vec![],
                    1_000_000 + n,
                )
                .unwrap()
        })
        .collect()
}

fn replica(f: &Fixture, key: usize) -> (Arc<Replica>, Arc<Counting>) {
    let host = Arc::new(Counting::default());
    let replica = Replica::new(
        f.charter.clone(),
        SecretKey::from_seed(&f.keys[key].seed()),
        Arc::new(MemoryStore::in_memory(f.charter.clone())) as Arc<dyn EventStore>,
        host.clone(),
        ReplicaConfig {
            heartbeat_ms: 200,
            stall_timeout_ms: 2_000,
            ..ReplicaConfig::default()
        },
    );
    (replica, host)
}

async fn serve(replica: Arc<Replica>) -> String {
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

fn peer(address: &str) -> PeerConfig {
    PeerConfig {
        address: address.to_string(),
        key: None,
        tls: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_pulls_everything_then_follows_live() {
    let f = fixture();
    let (hub, _) = replica(&f, 0);
    let (observer, folded) = replica(&f, 2);
    let events = feed(&f, 0, 1500);
    hub.store.append_own(&events[..1000]).unwrap();
    let address = serve(hub.clone()).await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let link = tokio::spawn(run_link(
        observer.clone(),
        peer(&address),
        Arc::new(TcpConnector::default()),
        stop_rx,
    ));
    let wait = |n: u64| {
        let observer = observer.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            while observer.store.event_count() < n {
                assert!(
                    Instant::now() < deadline,
                    "stuck at {}",
                    observer.store.event_count()
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    wait(1000).await;
    // Live: appended later, pushed without a new pull.
    hub.store.append_own(&events[1000..]).unwrap();
    hub.notify();
    wait(1500).await;
    // The store takes a batch before the host folds it: wait for the fold too.
    let deadline = Instant::now() + Duration::from_secs(10);
    while *folded.folded.lock().unwrap() < 1500 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        *folded.folded.lock().unwrap(),
        1500,
        "each event folded once"
    );
    assert_eq!(observer.store.frontier(), hub.store.frontier());
    let peers = observer.peers();
    let state = &peers[&address];
    assert_eq!(state.key, Some(f.keys[0].hub_id()));
    assert_eq!(state.state, "live");
    stop_tx.send(true).unwrap();
    link.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_event_is_rejected_alone() {
    let f = fixture();
    let (observer, _) = replica(&f, 2);
    let a = feed(&f, 0, 20);
    let b = feed(&f, 1, 20);
    let mut batch: Vec<pb::SignedEvent> = Vec::new();
    for i in 0..20 {
        let mut event = a[i].signed.clone();
        if i == 9 {
            event.signature[5] ^= 0x40;
        }
        batch.push(event);
        batch.push(b[i].signed.clone());
    }
    let report = observer.ingest("test", batch).unwrap();
    assert_eq!(report.stored, 29, "{report:?}");
    assert_eq!(report.rejected, 11, "{report:?}");
    assert_eq!(observer.store.head(&f.keys[0].hub_id()).unwrap().seq, 9);
    assert_eq!(observer.store.head(&f.keys[1].hub_id()).unwrap().seq, 20);
    let rejections = observer.recent_rejections();
    assert_eq!(rejections.len(), 2, "{rejections:?}");
    assert!(rejections[0].reason.contains("signature"), "{rejections:?}");
    assert!(
        rejections[1]
            .reason
            .contains("10 event(s) from seq 11 to 20"),
        "{rejections:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_and_oversized_messages_are_refused_and_the_node_keeps_serving() {
    let f = fixture();
    let (hub, _) = replica(&f, 0);
    hub.store.append_own(&feed(&f, 0, 5)).unwrap();
    let address = serve(hub.clone()).await;

    // A key outside the charter, presenting the right federation.
    let stranger = Fixture {
        charter: f.charter.clone(),
        keys: vec![SecretKey::from_seed(&[77; 32])],
    };
    let outsider = Replica::new(
        stranger.charter.clone(),
        SecretKey::from_seed(&[77; 32]),
        Arc::new(MemoryStore::in_memory(f.charter.clone())) as Arc<dyn EventStore>,
        Arc::new(Counting::default()),
        ReplicaConfig::default(),
    );
    match PeerClient::connect(&outsider, &peer(&address), &TcpConnector::default()).await {
        Err(LinkError::Rpc(status)) => {
            assert_eq!(status.code(), tonic::Code::Unauthenticated);
            assert!(status.message().contains("not a member"), "{status:?}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    // No session: refused.
    let mut raw = FederationClient::connect(address.clone()).await.unwrap();
    let status = raw
        .exchange_frontier(pb::Frontier::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);

    // A 5 MiB message: refused by the size limit, before any handler runs.
    let huge = pb::ForkProofs {
        proofs: vec![pb::ForkProof {
            first: Some(pb::SignedEvent {
                payload: vec![0; 5 << 20],
                signature: vec![0; 64],
            }),
            second: None,
        }],
    };
    let mut raw = FederationClient::connect(address.clone())
        .await
        .unwrap()
        .max_encoding_message_size(64 << 20);
    let status = raw.announce_forks(huge).await.unwrap_err();
    assert!(
        matches!(
            status.code(),
            tonic::Code::OutOfRange | tonic::Code::ResourceExhausted
        ),
        "{status:?}"
    );

    // The node still serves a member.
    let (observer, _) = replica(&f, 2);
    let mut client = PeerClient::connect(&observer, &peer(&address), &TcpConnector::default())
        .await
        .unwrap();
    let frontier = client
        .exchange_frontier(observer.frontier_message())
        .await
        .unwrap();
    assert_eq!(frontier.heads.len(), 1);
    assert_eq!(frontier.heads[0].seq, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_peer_stalls_and_another_peer_serves_the_feeds() {
    let f = fixture();
    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_address = format!("http://{}", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let (hub, _) = replica(&f, 0);
    hub.store.append_own(&feed(&f, 0, 300)).unwrap();
    let good_address = serve(hub.clone()).await;

    let host = Arc::new(Counting::default());
    let observer = Replica::new(
        f.charter.clone(),
        SecretKey::from_seed(&f.keys[2].seed()),
        Arc::new(MemoryStore::in_memory(f.charter.clone())) as Arc<dyn EventStore>,
        host,
        ReplicaConfig {
            stall_timeout_ms: 300,
            retry_min_ms: 50,
            retry_max_ms: 100,
            ..ReplicaConfig::default()
        },
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut links = Vec::new();
    for address in [&silent_address, &good_address] {
        links.push(tokio::spawn(run_link(
            observer.clone(),
            peer(address),
            Arc::new(TcpConnector::default()),
            stop_rx.clone(),
        )));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let peers = observer.peers();
        let stalled = peers
            .get(&silent_address)
            .is_some_and(|p| p.last_error.contains("stalled"));
        if stalled && observer.store.event_count() == 300 {
            break;
        }
        assert!(Instant::now() < deadline, "{peers:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop_tx.send(true).unwrap();
    for link in links {
        tokio::time::timeout(Duration::from_secs(5), link)
            .await
            .expect("links stop on shutdown")
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fork_proof_learnt_later_reaches_a_node_that_only_pulls() {
    let f = fixture();
    let (hub, _) = replica(&f, 1);
    let (observer, _) = replica(&f, 2);
    // Hub 0's feed, then a second version of its last event.
    let events = feed(&f, 0, 5);
    let mut writer = FeedWriter::new(
        SecretKey::from_seed(&f.keys[0].seed()),
        f.charter.federation_id(),
        Some(maillage_core::Head {
            seq: 4,
            id: events[3].id,
        }),
        events[3].hlc,
        MAX_AHEAD_MS_DEFAULT,
    );
    let other = writer
        .next(
            pb::event::Body::VenueClosed(pb::VenueClosed {
                venue_id: "elsewhere".into(),
                reason: "test".into(),
            }),
            vec![],
            2_000_000,
        )
        .unwrap();
    hub.store.insert(events.clone()).unwrap();
    let address = serve(hub.clone()).await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let link = tokio::spawn(run_link(
        observer.clone(),
        peer(&address),
        Arc::new(TcpConnector::default()),
        stop_rx,
    ));
    let deadline = Instant::now() + Duration::from_secs(10);
    while observer.store.head(&f.keys[0].hub_id()).map(|h| h.seq) != Some(5) {
        assert!(Instant::now() < deadline, "the observer never caught up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The hub learns the fork from someone else; the observer pulls from it only.
    let (proof, _) = maillage_core::ForkProof::from_pair(&events[4], &other).unwrap();
    assert_eq!(hub.accept_proofs("gossip", vec![proof.to_wire()]), 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !observer.store.forks().contains_key(&f.keys[0].hub_id()) {
        assert!(
            Instant::now() < deadline,
            "a node that only pulls never learnt the fork proof"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        observer.store.head(&f.keys[0].hub_id()).map(|h| h.seq),
        Some(4)
    );
    stop_tx.send(true).unwrap();
    link.await.unwrap();
}

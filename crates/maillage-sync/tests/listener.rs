//! The federation listener under a stranger's connections, over real TCP on loopback: silent
//! connections beyond the bounds are closed at once, a silent connection is closed after the
//! silent timeout, and a member is still served meanwhile; a following pull outlives the
//! server's request timeout.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use maillage_core::hlc::MAX_AHEAD_MS_DEFAULT;
use maillage_core::{
    Charter, FeedWriter, Fork, HubId, MemberSpec, Role, SecretKey, VerifiedEvent, pb,
};
use maillage_proto::v1::federation_client::FederationClient;
use maillage_store::{EventStore, MemoryStore};
use maillage_sync::server::{ConnectionLimits, ListenerLimits};
use maillage_sync::{PeerClient, PeerConfig, Replica, ReplicaConfig, TcpConnector};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tonic::transport::Endpoint;

struct Nothing;

impl maillage_sync::Host for Nothing {
    fn stored(&self, _: Vec<VerifiedEvent>) {}
    fn forked(&self, _: &Fork) {}
    fn transfer(&self, _: HubId, _: pb::TransferRequest) -> Result<VerifiedEvent, tonic::Status> {
        Err(tonic::Status::unimplemented("test"))
    }
}

fn members() -> (Arc<Charter>, Vec<SecretKey>) {
    let keys: Vec<SecretKey> = (1..=2u8).map(|n| SecretKey::from_seed(&[n; 32])).collect();
    let charter = Charter::found(
        "Listener",
        1,
        vec![
            MemberSpec {
                key: keys[0].hub_id(),
                name: "hub".into(),
                role: Role::Hub,
                territories: vec!["13".into()],
            },
            MemberSpec {
                key: keys[1].hub_id(),
                name: "observer".into(),
                role: Role::Observer,
                territories: vec![],
            },
        ],
    )
    .unwrap();
    (Arc::new(charter), keys)
}

fn replica(charter: &Arc<Charter>, key: &SecretKey) -> Arc<Replica> {
    Replica::new(
        charter.clone(),
        SecretKey::from_seed(&key.seed()),
        Arc::new(MemoryStore::in_memory(charter.clone())) as Arc<dyn EventStore>,
        Arc::new(Nothing),
        ReplicaConfig::default(),
    )
}

async fn serve(
    replica: Arc<Replica>,
    connection: ConnectionLimits,
    limits: ListenerLimits,
) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        maillage_sync::server::builder(&connection)
            .add_service(maillage_sync::server::federation_server(replica))
            .serve_with_incoming(maillage_sync::server::incoming_limited(listener, limits))
            .await
            .unwrap();
    });
    format!("http://{addr}")
}

/// Reads until the peer closes the connection or `within` passes; whether it closed.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    let mut buffer = [0u8; 256];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_beyond_the_bounds_are_closed_and_a_member_is_still_served() {
    let (charter, keys) = members();
    let hub = replica(&charter, &keys[0]);
    let silent_timeout = Duration::from_millis(1_500);
    let limits = ListenerLimits {
        connections_max: 8,
        connections_per_address: 4,
        silent_timeout,
        ..ListenerLimits::default()
    };
    let address = serve(hub, ConnectionLimits::default(), limits).await;
    let target = address.trim_start_matches("http://").to_owned();

    // A stranger opens 20 connections and says nothing.
    let opened = Instant::now();
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(&target).await.unwrap());
    }
    // All watched at once, for less than the silent timeout.
    let watched: Vec<_> = silent
        .into_iter()
        .map(|mut stream| {
            tokio::spawn(async move {
                let closed = closed_within(&mut stream, Duration::from_millis(300)).await;
                (stream, closed)
            })
        })
        .collect();
    let mut closed_at_once = 0;
    let mut held = Vec::new();
    for watch in watched {
        match watch.await.unwrap() {
            (_, true) => closed_at_once += 1,
            (stream, false) => held.push(stream),
        }
    }
    assert!(opened.elapsed() < silent_timeout);
    assert_eq!(
        (held.len(), closed_at_once),
        (4, 16),
        "the first 4 from that address are held, the rest closed at once"
    );

    // Meanwhile a member from another address is served.
    let other: IpAddr = "127.0.0.2".parse().unwrap();
    let channel = Endpoint::from_shared(address.clone())
        .unwrap()
        .local_address(Some(other))
        .connect()
        .await
        .unwrap();
    let status = FederationClient::new(channel)
        .hello(pb::HelloRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");

    // The silent connections are closed after the silent timeout, not before.
    for mut stream in held {
        assert!(closed_within(&mut stream, silent_timeout * 3).await);
    }
    let elapsed = opened.elapsed();
    assert!(elapsed >= silent_timeout, "closed after {elapsed:?}");

    // Their places are free again: a member from the stranger's address completes a
    // handshake and a frontier exchange.
    let observer = replica(&charter, &keys[1]);
    let peer = PeerConfig {
        address: address.clone(),
        key: None,
        tls: None,
    };
    let mut client = PeerClient::connect(&observer, &peer, &TcpConnector::default())
        .await
        .unwrap();
    let frontier = client
        .exchange_frontier(observer.frontier_message())
        .await
        .unwrap();
    assert!(frontier.heads.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_following_pull_outlives_the_request_timeout() {
    let (charter, keys) = members();
    let hub = replica(&charter, &keys[0]);
    let observer = replica(&charter, &keys[1]);
    let connection = ConnectionLimits {
        request_timeout: Duration::from_millis(300),
        ..ConnectionLimits::default()
    };
    let address = serve(hub.clone(), connection, ListenerLimits::default()).await;
    let mut writer = FeedWriter::new(
        SecretKey::from_seed(&keys[0].seed()),
        charter.federation_id(),
        None,
        0,
        MAX_AHEAD_MS_DEFAULT,
    );
    let mut event = |n: u64| {
        writer
            .next(
                pb::event::Body::VenueClosed(pb::VenueClosed {
                    venue_id: format!("v{n}"),
                    reason: "test".into(),
                    ..Default::default()
                }),
                Vec::new(),
                1_000 + n,
            )
            .unwrap()
    };
    hub.store.append_own(&[event(1)]).unwrap();
    let peer = PeerConfig {
        address,
        key: None,
        tls: None,
    };
    let mut client = PeerClient::connect(&observer, &peer, &TcpConnector::default())
        .await
        .unwrap();
    let mut stream = client
        .pull(pb::PullRequest {
            ranges: vec![pb::PullRange {
                author: keys[0].hub_id().0.to_vec(),
                after_seq: 0,
            }],
            batch_events_max: 0,
            follow: true,
            named_only: false,
        })
        .await
        .unwrap();
    let first = stream.message().await.unwrap().unwrap();
    assert_eq!(first.events.len(), 1);
    // Well past the request timeout (and a heartbeat), the same stream still carries what the
    // hub stores.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    hub.store.append_own(&[event(2)]).unwrap();
    hub.notify();
    let deadline = Duration::from_secs(10);
    loop {
        let batch = tokio::time::timeout(deadline, stream.message())
            .await
            .expect("no batch")
            .expect("the stream failed")
            .expect("the stream ended");
        if !batch.events.is_empty() {
            assert_eq!(batch.events, vec![event_two_signed(&hub, &keys[0])]);
            break;
        }
    }
}

fn event_two_signed(hub: &Replica, key: &SecretKey) -> pb::SignedEvent {
    hub.store.get(&key.hub_id(), 2).unwrap().unwrap().signed
}

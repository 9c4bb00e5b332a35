//! The Federation service and links over real gRPC on 127.0.0.1, with in-memory stores:
//! two replicas converge through a link; a bad event is rejected alone; a stranger's key is
//! refused at the handshake; an oversized message is refused and the node keeps serving;
//! nodes of different protocol versions refuse each other clearly and keep serving their
//! other peers; a frontier naming a key not admitted yet still syncs the known feeds; nodes
//! that saw different halves of a fork end on the lowest proof.
//!
//! Size: every case runs real gRPC links between replicas built by the fixtures at the top;
//! splitting them would copy those fixtures into each file.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use maillage_core::{Role, SecretKey, VerifiedEvent, pb};
use maillage_proto::v1::federation_client::FederationClient;
use maillage_store::{EventStore, MemoryStore};
use maillage_sync::{
    Incompatible, LinkError, PeerClient, RejectionClass, Replica, ReplicaConfig, TcpConnector,
    UnsupportedEvents, run_link,
};
use prost::Message;

use common::{
    Counting, Fixture, connected, feed, fixture, other_version, peer, replica, replica_speaking,
    serve, signed_by, stop_links, until,
};

/// `count` events of `key`'s feed after `after`, as a node of protocol `version` signs them:
/// correctly signed and chained, of a version this build does not implement.
fn events_of_version(
    f: &Fixture,
    key: usize,
    after: &VerifiedEvent,
    count: u64,
    version: u32,
) -> Vec<VerifiedEvent> {
    let secret = &f.keys[key];
    let mut prev = after.id;
    (after.seq + 1..=after.seq + count)
        .map(|seq| {
            let hlc = (2_000_000 + seq) << 16;
            let body = pb::event::Body::VenueClosed(pb::VenueClosed {
                venue_id: format!("v{seq}"),
                reason: "signed by a later release".into(),
                ..Default::default()
            });
            let payload = pb::Event {
                version,
                federation: f.charter.federation_id().0.to_vec(),
                author: secret.hub_id().0.to_vec(),
                seq,
                prev: prev.0.to_vec(),
                hlc,
                deps: vec![],
                body: Some(body.clone()),
            }
            .encode_to_vec();
            let id = maillage_core::crypto::event_id(&payload);
            let event = VerifiedEvent {
                id,
                author: secret.hub_id(),
                seq,
                version,
                prev: Some(prev),
                hlc,
                deps: vec![],
                body: Some(body),
                signed: pb::SignedEvent {
                    signature: secret.sign_payload(&payload).to_vec(),
                    payload,
                    personal: Vec::new(),
                },
                personal: None,
            };
            prev = id;
            event
        })
        .collect()
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
                personal: Vec::new(),
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
    let mut client = connected(&observer, &address).await;
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
    stop_links(&stop_tx, links).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fork_proof_learnt_later_reaches_a_node_that_only_pulls() {
    let f = fixture();
    let (hub, _) = replica(&f, 1);
    let (observer, _) = replica(&f, 2);
    // Hub 0's feed, then a second version of its last event.
    let events = feed(&f, 0, 5);
    let other = other_version(&f, 0, &events[3]);
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

/// A(v2) – B(v2) – C(v3): A and B replicate both ways; B and C refuse each other, each link
/// saying which versions each side implements, retrying slowly; B keeps serving A; the events
/// a later release signed in A's feed reach B, which refuses them and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_of_different_protocol_versions_refuse_each_other_and_keep_serving_their_peers() {
    let f = fixture();
    let (a, _) = replica(&f, 0);
    let (b, _) = replica(&f, 1);
    let (c, _) = replica_speaking(&f, 2, &[3]);
    let a_key = f.keys[0].hub_id();
    let b_key = f.keys[1].hub_id();
    // A's feed: five events of v2, then two a node of protocol v3 signed (as if A's operator
    // had run a later release for a while).
    let a_events = feed(&f, 0, 5);
    a.store.append_own(&a_events).unwrap();
    a.store
        .append_own(&events_of_version(&f, 0, &a_events[4], 2, 3))
        .unwrap();
    let b_events = feed(&f, 1, 7);
    b.store.append_own(&b_events[..3]).unwrap();
    let (a_address, b_address, c_address) = (
        serve(a.clone()).await,
        serve(b.clone()).await,
        serve(c.clone()).await,
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut links = Vec::new();
    for (from, to) in [
        (&a, &b_address),
        (&b, &a_address),
        (&b, &c_address),
        (&c, &b_address),
    ] {
        links.push(tokio::spawn(run_link(
            (*from).clone(),
            peer(to),
            Arc::new(TcpConnector::default()),
            stop_rx.clone(),
        )));
    }

    // A and B replicate; B stores A's v2 events only and says why it refused the rest.
    until(
        "A has B's feed",
        || a.store.head(&b_key).map(|h| h.seq),
        |seq| *seq == Some(3),
    )
    .await;
    until(
        "B refuses A's v3 events",
        || b.peers().get(&a_address).cloned().unwrap_or_default(),
        |p| !p.unsupported.is_empty() && p.state == "live",
    )
    .await;
    assert_eq!(b.store.head(&a_key).map(|h| h.seq), Some(5));
    let from_a = &b.peers()[&a_address];
    assert_eq!(from_a.protocol_version, 2);
    let UnsupportedEvents {
        version,
        author,
        from_seq,
        count,
    } = from_a.unsupported[0].clone();
    assert_eq!((version, author, from_seq), (3, Some(a_key), 6));
    assert!(count >= 2, "{from_a:?}");
    assert!(
        from_a.unsupported[0]
            .to_string()
            .starts_with("events of protocol v3 from seq 6 of feed "),
        "{from_a:?}"
    );
    assert!(b.counters().rejected[&RejectionClass::UnsupportedVersion] >= 2);
    assert!(
        b.recent_rejections()
            .iter()
            .any(|r| r.seq == 6 && r.reason.contains("upgrade maillage")),
        "{:?}",
        b.recent_rejections()
    );

    // B and C refuse each other, both ways, naming both sides' versions.
    until(
        "B's link to C is refused",
        || b.peers().get(&c_address).cloned().unwrap_or_default(),
        |p| p.incompatible.is_some(),
    )
    .await;
    until(
        "C's link to B is refused",
        || c.peers().get(&b_address).cloned().unwrap_or_default(),
        |p| p.incompatible.is_some(),
    )
    .await;
    let b_to_c = &b.peers()[&c_address];
    assert_eq!(
        b_to_c.incompatible,
        Some(Incompatible {
            peer: vec![3],
            ours: vec![2]
        })
    );
    assert_eq!(b_to_c.state, "incompatible-protocol");
    assert_eq!(
        b_to_c.last_error,
        "incompatible protocol (peer: v3, this node: v2): this node must upgrade maillage to \
         speak with it (the peer refused the handshake)"
    );
    let c_to_b = &c.peers()[&b_address];
    assert_eq!(
        c_to_b.incompatible.as_ref().map(ToString::to_string),
        Some("incompatible protocol (peer: v2, this node: v3)".to_owned())
    );
    assert_eq!(c_to_b.protocol_version, 0);
    assert_eq!(c.store.event_count(), 0);

    // Slowly: over three seconds, neither link dials again (a failing link would, from 200 ms).
    let refused_by = |r: &Replica| r.counters().handshakes_incompatible;
    assert_eq!((refused_by(&b), refused_by(&c)), (1, 1));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!((refused_by(&b), refused_by(&c)), (1, 1));
    assert_eq!(b.peers()[&c_address].state, "incompatible-protocol");

    // Meanwhile B keeps serving A, live.
    b.store.append_own(&b_events[3..]).unwrap();
    b.notify();
    until(
        "A follows B",
        || a.store.head(&b_key).map(|h| h.seq),
        |seq| *seq == Some(7),
    )
    .await;
    assert_eq!(a.peers()[&b_address].state, "live");

    // A directly: the handshake refusal a client of another release gets.
    match PeerClient::connect(&c, &peer(&a_address), &TcpConnector::default()).await {
        Err(error @ LinkError::Incompatible { .. }) => {
            let text = error.to_string();
            assert_eq!(
                text,
                "incompatible protocol (peer: v2, this node: v3): the peer must upgrade \
                 maillage to speak with this node (the peer refused the handshake)"
            );
        }
        other => panic!("expected an incompatibility, got {other:?}"),
    }

    stop_links(&stop_tx, links).await;
}

/// A member that opens pull streams and never reads them pinned the server's memory for each
/// (1,000 of them: 3.5 GB): it may hold `PULLS_PER_MEMBER` open, the next is refused with
/// RESOURCE_EXHAUSTED, and closing one frees its place. Another member is served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_holds_a_bounded_number_of_pull_streams() {
    let f = fixture();
    let (server, _) = replica(&f, 0);
    server.store.append_own(&feed(&f, 0, 50)).unwrap();
    let address = serve(server).await;
    let (reader, _) = replica(&f, 1);
    let mut client = connected(&reader, &address).await;
    let request = || pb::PullRequest {
        ranges: Vec::new(),
        batch_events_max: 0,
        follow: true,
        named_only: false,
    };
    let mut open = Vec::new();
    for _ in 0..maillage_sync::service::PULLS_PER_MEMBER {
        open.push(client.pull(request()).await.unwrap());
    }
    let refused = client.pull(request()).await.unwrap_err();
    assert!(
        matches!(&refused, LinkError::Rpc(status) if status.code() == tonic::Code::ResourceExhausted),
        "{refused:?}"
    );
    // Another member is served meanwhile.
    let (other, _) = replica(&f, 2);
    let mut observer = connected(&other, &address).await;
    let mut stream = observer.pull(request()).await.unwrap();
    let first = stream.message().await.unwrap().unwrap();
    assert!(!first.events.is_empty());
    // A stream closed frees its place (once the server notices, at its next send).
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match client.pull(request()).await {
            Ok(stream) => {
                open.push(stream);
                break;
            }
            Err(error) => {
                assert!(Instant::now() < deadline, "never freed: {error:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// A peer that folded an amendment admitting a key names that key's feed in its frontier. A
/// node that has not folded the amendment yet skips that one head and pulls every feed it
/// knows (the amendment is in one of them), instead of refusing the whole frontier and so never
/// learning of the admission (a node that missed a key rotation during a partition stayed
/// behind for ever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frontier_naming_a_key_not_yet_admitted_here_still_syncs_the_known_feeds() {
    let f = fixture();
    // The hub's own charter instance: it has folded an admission the observer has not.
    let ahead = fixture();
    let newcomer = SecretKey::from_seed(&[9; 32]);
    ahead
        .charter
        .admit(newcomer.hub_id(), "newcomer", Role::Hub)
        .unwrap();
    let (hub, _) = replica(&ahead, 0);
    hub.store.append_own(&feed(&f, 0, 5)).unwrap();
    let theirs = signed_by(&newcomer, &ahead, 3, "n");
    hub.store.insert(theirs).unwrap();
    assert_eq!(hub.store.frontier().len(), 2);
    let address = serve(hub.clone()).await;

    let (observer, _) = replica(&f, 2);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let link = tokio::spawn(run_link(
        observer.clone(),
        peer(&address),
        Arc::new(TcpConnector::default()),
        stop_rx,
    ));
    until(
        "the observer pulls the feed it knows",
        || (observer.store.event_count(), observer.peers()),
        |(count, _)| *count == 5,
    )
    .await;
    let frontier = observer.store.frontier();
    assert_eq!(frontier.len(), 1, "{frontier:?}");
    assert_eq!(frontier[&f.keys[0].hub_id()].seq, 5);
    // Once the observer folds the admission too (its node then calls `notify`), its link
    // plans again and pulls the newcomer's feed.
    f.charter
        .admit(newcomer.hub_id(), "newcomer", Role::Hub)
        .unwrap();
    observer.notify();
    until(
        "the observer pulls the newcomer's feed once admitted",
        || (observer.store.event_count(), observer.peers()),
        |(count, _)| *count == 8,
    )
    .await;
    stop_tx.send(true).unwrap();
    link.await.unwrap();
}

/// A hub restored from a backup signs its positions again: two versions of its feed that
/// differ from seq 1. One node holds the first version to seq 4 and then the second's seq 5:
/// it proves a fork at 4 and counts the first version's seqs 1 to 3. Another holds the second
/// version only: from the first node's proof alone it would count the second version's seqs 1
/// to 3, and the two would disagree for ever on which events count. Linked, they compare
/// their valid heads, find the first seq with two versions and both keep that lowest proof:
/// nothing of the feed counts on either (protocol §3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_that_saw_different_halves_of_a_fork_end_on_the_lowest_proof() {
    let f = fixture();
    let author = f.keys[0].hub_id();
    let one = feed(&f, 0, 4);
    let two = signed_by(&f.keys[0], &f, 5, "w");
    let (first, _) = replica(&f, 1);
    first.store.insert(one.clone()).unwrap();
    first.store.insert(vec![two[4].clone()]).unwrap();
    assert_eq!(first.store.forks()[&author].fork.seq, 4);
    let (second, _) = replica(&f, 2);
    second.store.insert(two.clone()).unwrap();
    let address = serve(first.clone()).await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let link = tokio::spawn(run_link(
        second.clone(),
        peer(&address),
        Arc::new(TcpConnector::default()),
        stop_rx,
    ));
    let fork_seqs = || {
        (
            first.store.forks().get(&author).map(|f| f.fork.seq),
            second.store.forks().get(&author).map(|f| f.fork.seq),
            first.store.head(&author),
            second.store.head(&author),
        )
    };
    until("both nodes keep the proof at seq 1", fork_seqs, |s| {
        *s == (Some(1), Some(1), None, None)
    })
    .await;
    stop_tx.send(true).unwrap();
    link.await.unwrap();
}

/// A feed that moves between the frontier exchange and the pull that follows it is reported
/// in the named stream's `heard`: the peer was told the head at the exchange, and compares
/// every head it is told with the event it holds there (a fork shows there). Before, the
/// stream reported moves from its own start only: a branch stored in between was never
/// reported, and a node holding the other branch stayed unaware of the fork.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_stream_reports_what_moved_since_the_exchange() {
    let f = fixture();
    let author = f.keys[0].hub_id();
    let events = feed(&f, 0, 3);
    let (server, _) = replica(&f, 1);
    server.store.insert(events[..1].to_vec()).unwrap();
    let address = serve(server.clone()).await;
    let (reader, _) = replica(&f, 2);
    let mut client = connected(&reader, &address).await;
    let told = client
        .exchange_frontier(reader.frontier_message())
        .await
        .unwrap();
    assert_eq!(told.heads.len(), 1);
    assert_eq!(told.heads[0].seq, 1);
    // Between the exchange and the pull, the feed moves.
    server.store.insert(events[1..2].to_vec()).unwrap();
    let mut stream = client
        .pull(pb::PullRequest {
            ranges: Vec::new(),
            batch_events_max: 0,
            follow: true,
            named_only: true,
        })
        .await
        .unwrap();
    let heard = next_heard(&mut stream, "the move since the exchange").await;
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(heard[0].author, author.0.to_vec());
    assert_eq!(heard[0].seq, 2);
    assert_eq!(heard[0].id, events[1].id.0.to_vec());
    // Later moves are reported once each.
    server.store.insert(events[2..].to_vec()).unwrap();
    server.notify();
    let heard = next_heard(&mut stream, "the next move").await;
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(heard[0].seq, 3);
}

/// The `heard` heads of the next batch that has some (within 10 s), no events coming first.
async fn next_heard(
    stream: &mut tonic::Streaming<pb::EventBatch>,
    what: &str,
) -> Vec<pb::HeardHead> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let batch = tokio::time::timeout(Duration::from_secs(5), stream.message())
            .await
            .expect("the stream answers")
            .unwrap()
            .unwrap();
        assert!(batch.events.is_empty(), "no feed was asked for");
        if !batch.heard.is_empty() {
            return batch.heard;
        }
        assert!(Instant::now() < deadline, "{what} was never reported");
    }
}

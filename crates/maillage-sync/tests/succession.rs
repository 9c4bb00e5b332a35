//! A key retired by a peer before this node's own views retire it: the succession of a key
//! takes effect on each node when that node folds its endorsements, and a peer that folded
//! them first refuses the old key. A node holding its next key (`maillage key new`) links
//! under it, so that it receives the endorsements it still waits for.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use maillage_core::{Charter, Role, SecretKey};
use maillage_store::{EventStore, MemoryStore};
use maillage_sync::{PeerClient, Replica, TcpConnector};

/// Member 0's server, whose views put the succession of member 1's key by `next` in effect,
/// holding five events of its own feed, and its address.
async fn server_past_the_succession(f: &Fixture, next: &SecretKey) -> (Arc<Replica>, String) {
    // Each node has its own charter: what its folded amendments admitted and retired.
    let charter = Arc::new(Charter::from_bytes(f.charter.bytes().to_vec()).unwrap());
    charter
        .admit(next.hub_id(), "member 69", Role::Hub)
        .unwrap();
    charter.retire(f.keys[1].hub_id());
    let store = Arc::new(MemoryStore::in_memory(charter.clone()));
    store.insert_all(&feed(f, 0, 5)).unwrap();
    let (server, _) = replica_on_charter(f, 0, charter, store);
    (server.clone(), serve(server).await)
}

/// Whether a session of `key` opened on `server`.
fn dialled_in(server: &Replica, key: &SecretKey) -> bool {
    server.peers().values().any(|p| p.key == Some(key.hub_id()))
}

fn replica_on_charter(
    f: &Fixture,
    key: usize,
    charter: Arc<Charter>,
    store: Arc<MemoryStore>,
) -> (Arc<Replica>, Arc<Counting>) {
    let host = Arc::new(Counting::default());
    let replica = Replica::new(
        charter,
        SecretKey::from_seed(&f.keys[key].seed()),
        store,
        host.clone(),
        quick(),
    );
    (replica, host)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_key_a_peer_retired_links_under_its_next_key() {
    let f = fixture();
    let next = SecretKey::from_seed(&[42; 32]);
    let (server, address) = server_past_the_succession(&f, &next).await;
    // Member 1 has not folded the succession yet: its key is still its own in its views.
    let me = replica_with(&f, 1, quick());

    // Without its next key, the peer refuses it, saying why.
    let refused = PeerClient::connect(&me, &peer(&address), &TcpConnector::default())
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("not a member"), "{refused}");

    // With it, the link opens under the next key and brings the peer's feed.
    me.set_successor(SecretKey::from_seed(&next.seed()));
    let client = connected(&me, &address).await;
    assert_eq!(client.peer, f.keys[0].hub_id());
    assert!(dialled_in(&server, &next) && !dialled_in(&server, &f.keys[1]));
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let link = dialler(&me, &stop)(&address);
    let author = f.keys[0].hub_id();
    until(
        "member 0's feed through a link under the next key",
        || me.store.frontier().get(&author).map(|h| h.seq),
        |seq| *seq == Some(5),
    )
    .await;
    stop_links(&stop_tx, vec![link]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_key_the_peer_does_not_admit_changes_nothing() {
    let f = fixture();
    let next = SecretKey::from_seed(&[42; 32]);
    let (server, address) = server_past_the_succession(&f, &next).await;
    let me = replica_with(&f, 1, quick());
    // Another next key than the one the succession names: refused as the key is, with the
    // refusal of the node's own key.
    me.set_successor(SecretKey::from_seed(&[43; 32]));
    let refused = PeerClient::connect(&me, &peer(&address), &TcpConnector::default())
        .await
        .unwrap_err();
    let text = refused.to_string();
    assert!(text.contains(&f.keys[1].hub_id().to_string()), "{text}");
    // A node whose key the peer admits dials under it, whatever next key it holds.
    let member_2 = replica_with(&f, 2, quick());
    member_2.set_successor(SecretKey::from_seed(&[44; 32]));
    connected(&member_2, &address).await;
    assert!(dialled_in(&server, &f.keys[2]));
    assert!(
        !server
            .peers()
            .values()
            .any(|p| p.key == Some(SecretKey::from_seed(&[44; 32]).hub_id()))
    );
}

//! One source per feed against a member that lies about what it holds, over real gRPC on
//! 127.0.0.1: the member's server is this crate's own, on a store that claims a thousand
//! events of a feed it holds ten of. The observer takes the feed from it once on its word,
//! then never again while it is barred: the honest relay serves the feed, and new events
//! are not held back by the liar's silence.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use maillage_core::{Charter, EventId, Fork, ForkProof, Head, HubId, VerifiedEvent, pb};
use maillage_store::{
    AcceptProofError, Damage, EventStore, Inserted, MemoryStore, RecordedFork, StoreError,
    VerifyReport,
};
use maillage_sync::{Replica, ReplicaConfig};

use common::{
    Fixture, connected, dialler, feed, fixture_of, other_version, quick, replica_on, replica_with,
    serve, stop_links, until,
};

/// A store that says it holds `author`'s feed up to `claimed` (with a made-up head) and
/// serves only what it really holds.
struct Liar {
    inner: MemoryStore,
    author: HubId,
    claimed: u64,
}

impl Liar {
    fn lie(&self) -> Head {
        Head {
            seq: self.claimed,
            id: EventId([0xee; 32]),
        }
    }
}

impl EventStore for Liar {
    fn charter(&self) -> &Charter {
        self.inner.charter()
    }
    fn append_own(&self, events: &[VerifiedEvent]) -> Result<(), StoreError> {
        self.inner.append_own(events)
    }
    fn insert_all(&self, events: &[VerifiedEvent]) -> Result<Vec<Inserted>, StoreError> {
        self.inner.insert_all(events)
    }
    fn head(&self, author: &HubId) -> Option<Head> {
        if *author == self.author {
            return Some(self.lie());
        }
        self.inner.head(author)
    }
    fn frontier(&self) -> BTreeMap<HubId, Head> {
        let mut frontier = self.inner.frontier();
        frontier.insert(self.author, self.lie());
        frontier
    }
    fn forks(&self) -> BTreeMap<HubId, RecordedFork> {
        self.inner.forks()
    }
    fn resolve_fork(&self, author: &HubId, last: u64, branch: EventId) -> Result<bool, StoreError> {
        self.inner.resolve_fork(author, last, branch)
    }
    fn held_branch(&self, author: &HubId) -> Result<Option<(u64, EventId)>, StoreError> {
        self.inner.held_branch(author)
    }
    fn accept_fork_proof(&self, proof: ForkProof) -> Result<Option<Fork>, AcceptProofError> {
        self.inner.accept_fork_proof(proof)
    }
    fn get(&self, author: &HubId, seq: u64) -> Result<Option<VerifiedEvent>, StoreError> {
        self.inner.get(author, seq)
    }
    fn range(&self, a: &HubId, after: u64, n: usize) -> Result<Vec<VerifiedEvent>, StoreError> {
        self.inner.range(a, after, n)
    }
    fn range_signed(
        &self,
        author: &HubId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, pb::SignedEvent)>, StoreError> {
        self.inner.range_signed(author, after, limit)
    }
    fn erase_personal(&self, events: &[EventId]) -> Result<usize, StoreError> {
        self.inner.erase_personal(events)
    }
    fn held_personal(&self, events: &mut dyn Iterator<Item = &EventId>) -> Vec<EventId> {
        self.inner.held_personal(events)
    }
    fn head_hlcs(&self) -> BTreeMap<HubId, u64> {
        self.inner.head_hlcs()
    }
    fn damaged(&self) -> BTreeMap<HubId, Damage> {
        self.inner.damaged()
    }
    fn verify(&self, sigs: bool, p: &mut dyn FnMut(u64)) -> Result<VerifyReport, StoreError> {
        self.inner.verify(sigs, p)
    }
    fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.meta_get(key)
    }
    fn meta_put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner.meta_put(key, value)
    }
    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.inner.size_on_disk()
    }
}

/// Member `key`'s replica on a store holding `events` and saying it holds `author`'s feed up
/// to seq 1,000.
fn liar(f: &Fixture, key: usize, author: HubId, events: Vec<VerifiedEvent>) -> Arc<Replica> {
    let store = Liar {
        inner: MemoryStore::in_memory(f.charter.clone()),
        author,
        claimed: 1_000,
    };
    store.inner.insert(events).unwrap();
    replica_on(f, key, Arc::new(store), quick()).0
}

/// Member `key`'s replica on an empty store, replacing a stalled source after `fallback_ms`.
fn falling_back(f: &Fixture, key: usize, fallback_ms: u64) -> Arc<Replica> {
    let config = ReplicaConfig {
        source_fallback_ms: fallback_ms,
        ..quick()
    };
    replica_with(f, key, config)
}

/// Waits until `link` is the source of `author`'s feed and `observer` holds `seq` of it.
async fn source_holding(observer: &Replica, link: &str, author: &HubId, seq: u64) {
    until(
        "the link serves the feed",
        || {
            let held = observer.store.head(author).map_or(0, |h| h.seq);
            (held, observer.is_source(link, author))
        },
        |(held, is_source)| *held == seq && *is_source,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_claims_more_of_a_feed_than_it_serves_is_its_source_once_at_most() {
    // The feed's author (not linked to the observer), an honest relay, the liar, the observer.
    let f = fixture_of(&["13", "69", "75", ""]);
    let author = f.keys[0].hub_id();
    let events = feed(&f, 0, 30);
    let relay = replica_with(&f, 1, quick());
    relay.store.insert(events[..10].to_vec()).unwrap();
    let liar = liar(&f, 2, author, events[..10].to_vec());
    let fallback_ms = 300;
    let observer = falling_back(&f, 3, fallback_ms);
    let relay_address = serve(relay.clone()).await;
    let liar_address = serve(liar.clone()).await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let link = dialler(&observer, &stop_rx);
    let held =
        |observer: &maillage_sync::Replica| observer.store.head(&author).map_or(0, |h| h.seq);

    // The relay is the feed's first source and brings all it has.
    let mut links = vec![link(&relay_address)];
    source_holding(&observer, &relay_address, &author, 10).await;
    // The liar's word wins the feed once nothing moves for the fallback delay.
    links.push(link(&liar_address));
    until(
        "the liar takes the feed on its word",
        || observer.is_source(&liar_address, &author),
        |liar_is_source| *liar_is_source,
    )
    .await;
    // It brings nothing: it loses the feed, and the relay serves what the author adds.
    relay.store.insert(events[10..20].to_vec()).unwrap();
    until(
        "the relay's new events arrive",
        || (held(&observer), observer.is_source(&relay_address, &author)),
        |(held, relay_is_source)| *held == 20 && *relay_is_source,
    )
    .await;
    // The feed stands still for many fallback delays: the liar, barred, does not take it back.
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(fallback_ms)).await;
        assert!(
            !observer.is_source(&liar_address, &author),
            "the liar took the feed back: {:#?}",
            observer.peers()
        );
    }
    // New events come from the relay at once, not after a fallback delay.
    relay.store.insert(events[20..].to_vec()).unwrap();
    until(
        "the last events arrive",
        || held(&observer),
        |held| *held == 30,
    )
    .await;
    assert!(observer.is_source(&relay_address, &author));
    stop_links(&stop_tx, links).await;
}

/// A peer's frontier names a head this node does not hold yet, of a feed another link is the
/// source of; the source then brings another version of that seq. The head the peer gave at
/// the exchange is compared once this node holds that seq, as a head it reports later would
/// be: the link plans again and the pull proves the fork. (Before, only heads reported after
/// the exchange were compared: two nodes each holding one branch, each taking the feed from
/// another link, could stay unaware of the fork for good.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_given_at_the_exchange_is_compared_once_held() {
    // The equivocating author (linked to nobody), the relay of one branch, the holder of the
    // other, the observer.
    let f = fixture_of(&["13", "69", "75", ""]);
    let author = f.keys[0].hub_id();
    let events = feed(&f, 0, 2);
    let other = other_version(&f, 0, &events[0]);
    assert_ne!(other.id, events[1].id);
    let relay = replica_with(&f, 1, quick());
    relay.store.insert(events[..1].to_vec()).unwrap();
    let holder = replica_with(&f, 2, quick());
    holder
        .store
        .insert(vec![events[0].clone(), other.clone()])
        .unwrap();
    // No fallback within the test: the relay stays the feed's source.
    let observer = falling_back(&f, 3, 600_000);
    let relay_address = serve(relay.clone()).await;
    let holder_address = serve(holder.clone()).await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let link = dialler(&observer, &stop_rx);
    let mut links = vec![link(&relay_address)];
    source_holding(&observer, &relay_address, &author, 1).await;
    // The holder's frontier says seq 2 while the observer holds 1: nothing to compare yet.
    links.push(link(&holder_address));
    until(
        "the holder's link follows",
        || {
            observer
                .peers()
                .get(&holder_address)
                .map(|p| (p.state.clone(), p.heads.get(&author).copied()))
        },
        |state| *state == Some(("live".to_string(), Some(2))),
    )
    .await;
    assert!(observer.is_source(&relay_address, &author));
    assert!(observer.store.forks().is_empty());
    // The relay's seq 2 is the other version.
    relay.store.insert(events[1..].to_vec()).unwrap();
    relay.notify();
    until(
        "the observer proves the fork at seq 2",
        || observer.store.forks().get(&author).map(|f| f.fork.seq),
        |seq| *seq == Some(2),
    )
    .await;
    stop_links(&stop_tx, links).await;
}

/// A feed with a recorded fork proof is pulled from every peer: no link is its source. A peer
/// that keeps saying it holds the feed past the fork (it ignores the proof: an equivocator, a
/// release before the proof's rules) took it over at every batch before, the link planning
/// its pull again each time, then lost it for breaking its word and was barred, over and over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forked_feed_has_no_source_whatever_a_peer_says_of_it() {
    // The equivocating author (linked to nobody), a peer that says it holds the feed far past
    // the fork, the observer.
    let f = fixture_of(&["13", "69", ""]);
    let author = f.keys[0].hub_id();
    let events = feed(&f, 0, 4);
    let other = other_version(&f, 0, &events[2]);
    let liar = liar(&f, 1, author, events[..3].to_vec());
    let fallback_ms = 300;
    let observer = falling_back(&f, 2, fallback_ms);
    observer.store.insert(events[..3].to_vec()).unwrap();
    let (proof, _) = ForkProof::from_pair(&events[3], &other).unwrap();
    assert_eq!(observer.accept_proofs("gossip", vec![proof.to_wire()]), 1);
    let liar_address = serve(liar.clone()).await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let links = vec![dialler(&observer, &stop_rx)(&liar_address)];
    until(
        "the link follows",
        || {
            observer.peers().get(&liar_address).map(|p| {
                (
                    p.state.clone(),
                    p.heads.get(&author).copied(),
                    p.last_error.clone(),
                )
            })
        },
        |state| state.as_ref().is_some_and(|s| s.0 == "live"),
    )
    .await;
    // Heartbeats every 200 ms, each with the peer's word on the feed, over many fallback
    // delays: the feed never gets a source.
    for _ in 0..(8 * fallback_ms / 50) {
        assert!(
            !observer.is_source(&liar_address, &author),
            "the forked feed got a source: {:#?}",
            observer.peers()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(observer.store.forks()[&author].fork.seq, 4);
    assert_eq!(observer.store.head(&author).map(|h| h.seq), Some(3));
    stop_links(&stop_tx, links).await;
}

/// A server whose store's frontier says more of a feed than its range serves (a feed cut by
/// damage, a store that lies) read nothing in a loop on the stream's thread, never sending a
/// heartbeat: the peer timed the link out and dialled again, each time one more such loop.
/// It now answers what it has, then heartbeats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_saying_more_than_it_serves_does_not_silence_a_stream() {
    let f = fixture_of(&["13", "69", ""]);
    let author = f.keys[0].hub_id();
    let liar = liar(&f, 1, author, feed(&f, 0, 10));
    let address = serve(liar).await;
    let reader = replica_with(&f, 2, quick());
    let mut client = connected(&reader, &address).await;
    let mut stream = client
        .pull(pb::PullRequest {
            ranges: vec![pb::PullRange {
                author: author.0.to_vec(),
                after_seq: 0,
            }],
            batch_events_max: 4,
            follow: true,
            named_only: true,
        })
        .await
        .unwrap();
    // What it holds, four at a time, then heartbeats (every 200 ms here).
    let mut received = 0;
    let mut heartbeats = 0;
    while heartbeats < 3 {
        let batch = tokio::time::timeout(Duration::from_secs(2), stream.message())
            .await
            .expect("the stream never goes silent")
            .unwrap()
            .unwrap();
        if batch.events.is_empty() {
            heartbeats += 1;
        }
        received += batch.events.len();
    }
    assert_eq!(received, 10);
}

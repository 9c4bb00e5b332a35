//! A member whose pull streams report, in `heard`, a head that disagrees with the event this
//! node holds at that seq, while its frontier agrees: this node plans its pull again to fetch
//! the other version and prove the fork, finds none, and is told the same lie at the next
//! batch. Over real gRPC on 127.0.0.1, the member's server is this crate's own, wrapped to
//! add the lie to every batch.
#![allow(clippy::unwrap_used)]

mod common;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use maillage_core::{HubId, pb};
use maillage_proto::v1::federation_server::{Federation, FederationServer};
use maillage_sync::Replica;
use maillage_sync::service::FederationService;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use common::{dialler, feed, fixture, replica, stop_links, until};

/// The crate's service, adding to every batch it streams a head of `author` at `seq` with an
/// id no event has, and counting handshakes.
struct Lying {
    inner: FederationService,
    author: HubId,
    seq: u64,
    hellos: Arc<AtomicUsize>,
}

type Batches = Pin<Box<dyn Stream<Item = Result<pb::EventBatch, Status>> + Send>>;

#[tonic::async_trait]
impl Federation for Lying {
    async fn hello(
        &self,
        request: Request<pb::HelloRequest>,
    ) -> Result<Response<pb::HelloResponse>, Status> {
        self.hellos.fetch_add(1, Ordering::Relaxed);
        self.inner.hello(request).await
    }
    async fn prove(
        &self,
        request: Request<pb::ProveRequest>,
    ) -> Result<Response<pb::ProveResponse>, Status> {
        self.inner.prove(request).await
    }
    async fn exchange_frontier(
        &self,
        request: Request<pb::Frontier>,
    ) -> Result<Response<pb::Frontier>, Status> {
        self.inner.exchange_frontier(request).await
    }
    type PullStream = Batches;
    async fn pull(
        &self,
        request: Request<pb::PullRequest>,
    ) -> Result<Response<Self::PullStream>, Status> {
        let lie = pb::HeardHead {
            author: self.author.0.to_vec(),
            seq: self.seq,
            id: vec![0xee; 32],
        };
        let stream = self.inner.pull(request).await?.into_inner();
        // At once, then in every batch.
        let first = pb::EventBatch {
            events: Vec::new(),
            caught_up: false,
            heard: vec![lie.clone()],
        };
        let lying = tokio_stream::once(Ok(first)).chain(stream.map(move |batch| {
            batch.map(|mut batch| {
                batch.heard.push(lie.clone());
                batch
            })
        }));
        Ok(Response::new(Box::pin(lying) as Batches))
    }
    async fn announce_forks(
        &self,
        request: Request<pb::ForkProofs>,
    ) -> Result<Response<pb::ForkProofsAccepted>, Status> {
        self.inner.announce_forks(request).await
    }
    async fn request_transfer(
        &self,
        request: Request<pb::TransferRequest>,
    ) -> Result<Response<pb::TransferResponse>, Status> {
        self.inner.request_transfer(request).await
    }
}

async fn serve_lying(replica: Arc<Replica>, author: HubId, seq: u64) -> (String, Arc<AtomicUsize>) {
    let hellos = Arc::new(AtomicUsize::new(0));
    let service = Lying {
        inner: FederationService::new(replica),
        author,
        seq,
        hellos: hellos.clone(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(FederationServer::new(service))
            .serve_with_incoming(maillage_sync::server::incoming(listener))
            .await
            .unwrap();
    });
    (format!("http://{addr}"), hellos)
}

/// The first dispute is taken at its word at once (an honest peer's disagreeing head proves
/// a fork that way); the same lie again, with no fork proved in between, waits the retry
/// delay, doubling: a member cannot make this node dial it, handshake and log in a loop.
/// Meanwhile the link still brings the feeds it pulls. (Before, each batch of the lie made
/// the link dial again at once: hundreds of handshakes a second.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_that_disagrees_again_and_again_slows_the_link_down() {
    let f = fixture();
    let author = f.keys[0].hub_id();
    let events = feed(&f, 0, 10);
    let (member, _) = replica(&f, 1);
    member.store.insert(events.clone()).unwrap();
    let (observer, _) = replica(&f, 2);
    observer.store.insert(events[..5].to_vec()).unwrap();
    // A seq the observer holds, with another id.
    let (address, hellos) = serve_lying(member.clone(), author, 3).await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let links = vec![dialler(&observer, &stop_rx)(&address)];
    until(
        "the observer takes what the member holds",
        || observer.store.head(&author).map(|h| h.seq),
        |seq| *seq == Some(10),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let dialled = hellos.load(Ordering::Relaxed);
    // At once, then after 0.2, 0.4, 0.8 and 1.6 s (the test's retry delays): five or six.
    assert!(
        dialled <= 8,
        "{dialled} handshakes in about three seconds: {:#?}",
        observer.peers()
    );
    assert!(observer.store.forks().is_empty());
    stop_links(&stop_tx, links).await;
}

//! The dialling side: a [`PeerClient`] is an authenticated session with one peer; a link
//! ([`run_link`]) keeps one open, pulls everything the peer has that this node lacks, follows
//! it live, and redials after failures.
//!
//! Every (re)connection starts with a fresh handshake and a fresh frontier exchange. A link that
//! receives nothing, not even the server's heartbeat, for `stall_timeout_ms` is dropped and
//! redialled; meanwhile the node's other links pull the same feeds (pulls are idempotent), so
//! a stalled transfer continues from another peer.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use maillage_core::{Charter, EnvelopeError, HubId, SecretKey, VerifiedEvent, pb, verify_event};
use maillage_proto::v1::federation_client::FederationClient;
use thiserror::Error;
use tokio::sync::{mpsc, watch};
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic::{Request, Status};

use crate::handshake::{
    ClientHandshake, HandshakeError, SESSION_METADATA, VERSIONS_METADATA, incompatible_advice,
    incompatible_text,
};
use crate::plan::plan;
use crate::replica::{
    Checked, DisputeGate, Heard, Incompatible, IngestReport, MESSAGE_BYTES_MAX, Replica,
};
use crate::wire;

/// HTTP/2 flow-control window per stream: a few batches in flight.
pub const STREAM_WINDOW_BYTES: u32 = 4 << 20;
/// HTTP/2 flow-control window per connection.
pub const CONNECTION_WINDOW_BYTES: u32 = 8 << 20;

/// Events stored (and synced) in one call at most when verified batches queue up.
const STORE_EVENTS_MAX: usize = 4096;

/// A peer to dial.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// `http://host:port` (or `https://` with TLS).
    pub address: String,
    /// The peer's key, if the operator pinned it: any other key is refused.
    pub key: Option<HubId>,
    /// TLS settings, for links that leave a private network.
    pub tls: Option<ClientTlsConfig>,
}

/// Why a link failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Could not connect.
    #[error("connecting to {address}: {reason}")]
    Connect {
        /// The address.
        address: String,
        /// Why.
        reason: String,
    },
    /// The handshake failed on this side.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// The peer offers no protocol version this node implements (either side refused).
    #[error("{}: {} ({detail})", incompatible_text(.peer, .ours), incompatible_advice(.peer, .ours))]
    Incompatible {
        /// The versions the peer implements, as it said (v1 when it named none).
        peer: Vec<u32>,
        /// The versions this node offered.
        ours: Vec<u32>,
        /// Which side refused.
        detail: String,
    },
    /// The peer answered with an error.
    #[error("peer answered {}: {}", .0.code(), .0.message())]
    Rpc(#[from] Status),
    /// The peer sent something unusable.
    #[error("peer sent {0}")]
    Wire(#[from] wire::WireError),
    /// The peer sent an event that does not verify.
    #[error("peer sent an invalid event: {0}")]
    Event(#[from] EnvelopeError),
    /// Nothing arrived for too long.
    #[error("stalled: nothing received for {0} ms")]
    Stalled(u64),
    /// The peer closed the stream.
    #[error("the peer closed the stream")]
    Closed,
    /// The local store failed.
    #[error("local store: {0}")]
    Store(String),
    /// This node must plan its pulls afresh (a feed it left out is to be taken again).
    #[error("pulling again: a branch of a forked feed is to be taken")]
    Resync,
}

/// A boxed future (connectors are object-safe).
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// How links reach peers: TCP here, an in-process network in simulations.
pub trait Connector: Send + Sync + 'static {
    /// A channel to `peer`.
    fn connect(&self, peer: &PeerConfig) -> BoxFuture<Result<Channel, LinkError>>;
}

/// TCP with TCP_NODELAY (a loopback round trip takes ~40 ms without it) and HTTP/2
/// keepalives (a channel across a healed partition can otherwise stay dead).
#[derive(Debug, Clone)]
pub struct TcpConnector {
    /// Giving up on a connection attempt after this long.
    pub connect_timeout_ms: u64,
}

impl Default for TcpConnector {
    fn default() -> Self {
        Self {
            connect_timeout_ms: 5_000,
        }
    }
}

impl Connector for TcpConnector {
    fn connect(&self, peer: &PeerConfig) -> BoxFuture<Result<Channel, LinkError>> {
        let peer = peer.clone();
        let timeout = Duration::from_millis(self.connect_timeout_ms);
        Box::pin(async move {
            let fail = |reason: String| LinkError::Connect {
                address: peer.address.clone(),
                reason,
            };
            let mut endpoint = endpoint(&peer.address, timeout)?;
            if let Some(tls) = peer.tls.clone() {
                endpoint = endpoint
                    .tls_config(tls)
                    .map_err(|e| fail(format!("TLS settings: {e}")))?;
            }
            endpoint.connect().await.map_err(|e| {
                let mut reason = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(inner) = source {
                    reason.push_str(": ");
                    reason.push_str(&inner.to_string());
                    source = inner.source();
                }
                fail(reason)
            })
        })
    }
}

/// The HTTP/2 settings of every link, for `address`: TCP_NODELAY, keepalives, and windows
/// sized for event batches. Connectors that bring their own transport use it too.
pub fn endpoint(address: &str, connect_timeout: Duration) -> Result<Endpoint, LinkError> {
    Ok(Endpoint::from_shared(address.to_owned())
        .map_err(|e| LinkError::Connect {
            address: address.to_owned(),
            reason: format!("not a valid address: {e}"),
        })?
        .tcp_nodelay(true)
        .connect_timeout(connect_timeout)
        .http2_keep_alive_interval(Duration::from_secs(5))
        .keep_alive_timeout(Duration::from_secs(5))
        .keep_alive_while_idle(true)
        // Batches are ~150 KiB: HTTP/2's default 64 KiB windows would make the sender wait
        // for a window update in the middle of every batch.
        .initial_stream_window_size(STREAM_WINDOW_BYTES)
        .initial_connection_window_size(CONNECTION_WINDOW_BYTES))
}

/// Proves `secret`'s membership to the node at the end of `channel` and checks the node's
/// (`expected`, if given), offering the protocol versions this build implements: returns the
/// client, the session token (hex, for the `maillage-session` metadata entry of every later
/// call, `Query` calls included) and the node's key. `nonce` must be fresh random bytes.
pub async fn handshake(
    channel: Channel,
    charter: &Charter,
    secret: &SecretKey,
    nonce: [u8; 32],
    expected: Option<HubId>,
) -> Result<(FederationClient<Channel>, String, HubId), LinkError> {
    let session = versioned_handshake(
        channel,
        charter,
        secret,
        nonce,
        expected,
        maillage_core::version::SUPPORTED_VERSIONS,
    )
    .await?;
    Ok((session.client, session.token, session.server))
}

/// What [`versioned_handshake`] opens.
#[derive(Debug)]
pub struct Session {
    /// The client, with its message limits.
    pub client: FederationClient<Channel>,
    /// The session token (hex).
    pub token: String,
    /// The node's key.
    pub server: HubId,
    /// The protocol version agreed.
    pub protocol_version: u32,
}

/// [`handshake`], offering `versions`.
pub async fn versioned_handshake(
    channel: Channel,
    charter: &Charter,
    secret: &SecretKey,
    nonce: [u8; 32],
    expected: Option<HubId>,
    versions: &[u32],
) -> Result<Session, LinkError> {
    let mut client = FederationClient::new(channel)
        .max_decoding_message_size(MESSAGE_BYTES_MAX)
        .max_encoding_message_size(MESSAGE_BYTES_MAX);
    let handshake = ClientHandshake::new(charter, secret.hub_id(), nonce, versions);
    let hello = match client.hello(handshake.hello()).await {
        Ok(hello) => hello.into_inner(),
        Err(status) => return Err(refused_hello(status, versions)),
    };
    let finished = match handshake.finish(charter, secret, &hello, expected) {
        Ok(finished) => finished,
        Err(HandshakeError::VersionNotOffered { chosen, offered }) => {
            return Err(LinkError::Incompatible {
                peer: vec![chosen],
                ours: offered,
                detail: format!("this node refused the peer's choice of v{chosen}"),
            });
        }
        Err(other) => return Err(other.into()),
    };
    let session = client.prove(finished.prove).await?.into_inner().session;
    Ok(Session {
        client,
        token: hex::encode(session),
        server: finished.server,
        protocol_version: finished.protocol_version,
    })
}

/// A refused `Hello`: an incompatibility when the server says so (FAILED_PRECONDITION with its
/// versions in the trailer), the server's status otherwise.
fn refused_hello(status: Status, ours: &[u32]) -> LinkError {
    let theirs = status
        .metadata()
        .get(VERSIONS_METADATA)
        .and_then(|v| v.to_str().ok())
        .map(|text| {
            text.split(',')
                .filter_map(|v| v.trim().parse::<u32>().ok())
                .take(maillage_core::version::VERSIONS_OFFERED_MAX)
                .collect::<Vec<u32>>()
        });
    match theirs {
        Some(peer) if status.code() == tonic::Code::FailedPrecondition => LinkError::Incompatible {
            peer,
            ours: ours.to_vec(),
            detail: "the peer refused the handshake".into(),
        },
        _ => LinkError::Rpc(status),
    }
}

/// An authenticated session with one peer.
#[derive(Debug, Clone)]
pub struct PeerClient {
    client: FederationClient<Channel>,
    token: String,
    /// The peer's key, proven by the handshake.
    pub peer: HubId,
    /// The protocol version agreed.
    pub protocol_version: u32,
}

impl PeerClient {
    /// Dials and authenticates.
    pub async fn connect(
        replica: &Replica,
        peer: &PeerConfig,
        connector: &dyn Connector,
    ) -> Result<Self, LinkError> {
        let channel = connector.connect(peer).await?;
        let session = match Self::prove_as(replica, peer, channel.clone(), replica.secret()).await {
            Err(LinkError::Rpc(refusal)) if refusal.code() == tonic::Code::Unauthenticated => {
                // The peer does not admit this node's key. If the succession of that key is in
                // effect in the peer's views, its successor is admitted there: a node whose
                // own views wait for the succession's endorsements (from this very peer,
                // perhaps) would otherwise never receive them.
                let Some(next) = replica.successor() else {
                    return Err(LinkError::Rpc(refusal));
                };
                let Ok(session) = Self::prove_as(replica, peer, channel, next).await else {
                    return Err(LinkError::Rpc(refusal));
                };
                if replica.link_warning_due(&peer.address, "successor") {
                    tracing::warn!(
                        peer = %peer.address,
                        key = %replica.id().short(),
                        next = %next.hub_id().short(),
                        "the peer no longer admits this node's key (the succession is in effect \
                         in its views): linked under the next key (node.key.next); run `maillage \
                         key rotate` once this node's views put the succession in effect"
                    );
                }
                session
            }
            other => other?,
        };
        Ok(Self {
            client: session.client,
            token: session.token,
            peer: session.server,
            protocol_version: session.protocol_version,
        })
    }

    /// The handshake over `channel`, proving `secret`.
    async fn prove_as(
        replica: &Replica,
        peer: &PeerConfig,
        channel: Channel,
        secret: &SecretKey,
    ) -> Result<Session, LinkError> {
        let nonce = replica.random::<32>();
        versioned_handshake(
            channel,
            &replica.charter,
            secret,
            nonce,
            peer.key,
            &replica.config.protocol_versions,
        )
        .await
    }

    fn request<T>(&self, message: T) -> Result<Request<T>, LinkError> {
        let mut request = Request::new(message);
        let value = self.token.parse().map_err(|_| LinkError::Closed)?;
        request.metadata_mut().insert(SESSION_METADATA, value);
        Ok(request)
    }

    /// Sends this node's frontier, returns the peer's.
    pub async fn exchange_frontier(
        &mut self,
        ours: pb::Frontier,
    ) -> Result<pb::Frontier, LinkError> {
        let request = self.request(ours)?;
        Ok(self.client.exchange_frontier(request).await?.into_inner())
    }

    /// Opens a pull stream.
    pub async fn pull(
        &mut self,
        request: pb::PullRequest,
    ) -> Result<tonic::Streaming<pb::EventBatch>, LinkError> {
        let request = self.request(request)?;
        Ok(self.client.pull(request).await?.into_inner())
    }

    /// Gossips fork proofs; returns how many were new to the peer.
    pub async fn announce_forks(&mut self, proofs: Vec<pb::ForkProof>) -> Result<u32, LinkError> {
        let request = self.request(pb::ForkProofs { proofs })?;
        Ok(self
            .client
            .announce_forks(request)
            .await?
            .into_inner()
            .new_forks)
    }

    /// Asks the voucher owner (this peer) to transfer serials to this node's hub; returns the
    /// owner's verified `VoucherTransferred` event.
    pub async fn request_transfer(
        &mut self,
        charter: &maillage_core::Charter,
        serials: Vec<String>,
        venue_id: String,
    ) -> Result<VerifiedEvent, LinkError> {
        let request = self.request(pb::TransferRequest { serials, venue_id })?;
        let response = self.client.request_transfer(request).await?.into_inner();
        let signed = response.transfer.ok_or(LinkError::Closed)?;
        let event = verify_event(signed, charter)?;
        if event.author != self.peer {
            return Err(LinkError::Rpc(Status::internal(format!(
                "transfer signed by {}, expected the peer {}",
                event.author.short(),
                self.peer.short()
            ))));
        }
        Ok(event)
    }
}

/// Keeps a link to `peer` until `shutdown` turns true: dial, handshake, exchange frontiers,
/// pull and follow; on failure, back off (doubling, capped) and redial.
pub async fn run_link(
    replica: Arc<Replica>,
    peer: PeerConfig,
    connector: Arc<dyn Connector>,
    mut shutdown: watch::Receiver<bool>,
) {
    let name = peer.address.clone();
    let mut delay_ms = replica.config.retry_min_ms.max(1);
    let mut disputes = DisputeGate::default();
    loop {
        if *shutdown.borrow() {
            return;
        }
        replica.update_peer(&name, |p| {
            p.address = name.clone();
            p.state = "connecting".into();
        });
        let started = replica.now_ms();
        let outcome = session(
            &replica,
            &peer,
            connector.as_ref(),
            &mut shutdown,
            &mut disputes,
        )
        .await;
        if !matches!(outcome, Err(LinkError::Resync)) {
            // Down or stopped: the feeds it was the source of go to other links.
            replica.release_sources(&name);
        }
        match outcome {
            Ok(()) => {
                replica.update_peer(&name, |p| p.state = "stopped".into());
                return;
            }
            Err(LinkError::Resync) => {
                // Not a failure: redial at once, the new plan takes what the old one left out
                // (the feeds this link is the source of stay its own meanwhile).
                tracing::info!(peer = %name, "link to peer: planning the pull again");
                delay_ms = replica.config.retry_min_ms.max(1);
                continue;
            }
            Err(LinkError::Incompatible { peer, ours, detail }) => {
                // Not a failure a retry a few seconds later mends: an operator must upgrade
                // one side. Retry slowly (so that the link comes back by itself after the
                // upgrade), warn at most once a minute.
                let message = LinkError::Incompatible {
                    peer: peer.clone(),
                    ours: ours.clone(),
                    detail,
                }
                .to_string();
                let incompatible = Incompatible { peer, ours };
                let retry_ms = replica.config.incompatible_retry_ms.max(1);
                if replica.link_warning_due(&name, "link") {
                    tracing::warn!(peer = %name, retry_ms, "link to peer: {message}; will retry slowly");
                } else {
                    tracing::debug!(peer = %name, retry_ms, "link to peer: {message}");
                }
                replica.update_peer(&name, |p| {
                    p.state = "incompatible-protocol".into();
                    p.last_error = message;
                    p.protocol_version = 0;
                    p.incompatible = Some(incompatible);
                });
                tokio::select! {
                    biased;
                    _ = shutdown.changed() => return,
                    _ = tokio::time::sleep(Duration::from_millis(retry_ms)) => {}
                }
                delay_ms = replica.config.retry_min_ms.max(1);
                continue;
            }
            Err(error) => {
                tracing::warn!(peer = %name, %error, retry_ms = delay_ms, "link to peer failed; will retry");
                replica.update_peer(&name, |p| {
                    p.state = "backing-off".into();
                    p.last_error = error.to_string();
                });
            }
        }
        // A link that lived a while starts its backoff afresh.
        if replica.now_ms().saturating_sub(started) > replica.config.stall_timeout_ms {
            delay_ms = replica.config.retry_min_ms.max(1);
        }
        tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(Duration::from_millis(delay_ms)) => {}
        }
        delay_ms = (delay_ms * 2).min(replica.config.retry_max_ms.max(1));
    }
}

/// One connection's life. `Ok` only on shutdown, after everything received is stored.
async fn session(
    replica: &Arc<Replica>,
    peer: &PeerConfig,
    connector: &dyn Connector,
    shutdown: &mut watch::Receiver<bool>,
    disputes: &mut DisputeGate,
) -> Result<(), LinkError> {
    let name = peer.address.clone();
    // Subscribed before the pull is planned: a branch chosen while planning is not missed.
    let mut resync = replica.resync_signal();
    let mut sources = replica.sources_signal();
    // A peer that accepts the connection but never answers must not hold the link: the
    // handshake and the frontier exchange share the stall deadline.
    let stall = Duration::from_millis(replica.config.stall_timeout_ms.max(1));
    let (mut client, theirs) = tokio::time::timeout(stall, async {
        let mut client = PeerClient::connect(replica, peer, connector).await?;
        let theirs = client.exchange_frontier(replica.frontier_message()).await?;
        Ok::<_, LinkError>((client, theirs))
    })
    .await
    .map_err(|_| LinkError::Stalled(stall.as_millis() as u64))??;
    let peer_key = client.peer;
    let protocol_version = client.protocol_version;
    replica.update_peer(&name, |p| {
        p.key = Some(peer_key);
        p.last_error.clear();
        p.protocol_version = protocol_version;
        p.incompatible = None;
    });

    let frontier = wire::heads(&replica.charter, &theirs.heads)?;
    if frontier.unknown > 0 {
        tracing::info!(
            peer = %name,
            feeds = frontier.unknown,
            "the peer holds feeds of keys this node has not admitted yet: they are pulled once \
             this node folds the amendment admitting them"
        );
    }
    let remote = frontier.known;
    let pull = {
        let name = name.clone();
        let remote = remote.clone();
        replica
            .blocking(move |replica| {
                replica.accept_proofs(&name, theirs.forks);
                let store = &replica.store;
                // A fork an amendment resolved, or is resolving, is pulled again up to the
                // branch it chose (the store takes nothing past it, nor off it at its end).
                let frozen: BTreeSet<HubId> = store
                    .forks()
                    .into_iter()
                    .filter(|(_, f)| f.resolved.is_none() && f.resolving.is_none())
                    .map(|(author, _)| author)
                    .collect();
                plan(
                    &store.frontier(),
                    |author, seq| store.get(author, seq).ok().flatten().map(|e| e.id),
                    &remote,
                    &frozen,
                )
            })
            .await
            .map_err(LinkError::Store)?
    };
    for (author, seq) in &pull.suspected_forks {
        tracing::warn!(peer = %name, author = %author.short(), seq, "the peer holds another version of this feed: fetching it to build the fork proof");
    }
    replica.update_peer(&name, |p| {
        p.heads = remote.iter().map(|(a, h)| (*a, h.seq)).collect();
        // Every head of the exchange is compared with the event this node holds at that seq
        // once it holds it, as the heads the peer reports later are (`heard`): the feed may
        // come from another link, with another version of that seq. The heads that already
        // disagree are being pulled to build the proof.
        p.unchecked = remote
            .iter()
            .filter(|(a, _)| !pull.suspected_forks.iter().any(|(s, _)| s == *a))
            .map(|(a, h)| (*a, (h.seq, h.id)))
            .collect();
        p.state = "catching-up".into();
        p.last_contact_ms = replica.now_ms();
    });
    // One source per feed: this link pulls the feeds it is the source of, and from every
    // peer the feeds whose head the peer disagrees with (a fork proof is being built) and the
    // forked ones (whichever branch an amendment keeps, some peer holds it).
    let mut forced: BTreeSet<HubId> = pull.suspected_forks.iter().map(|(a, _)| *a).collect();
    forced.extend(replica.forked_feeds());
    // A link claims a feed its peer holds further than this node, the feed of its peer's own
    // author, and the feeds it already pulls; a feed no peer has anything new of stays without
    // a source until a peer says it has more (`heard`): a link to a peer that holds nothing of
    // a feed would otherwise keep it, and the peer that has it would wait for the fallback.
    let wanted: Vec<HubId> = pull
        .ranges
        .iter()
        .map(|(author, _)| *author)
        .filter(|author| !forced.contains(author))
        .filter(|author| {
            *author == peer_key || pull.lag.contains_key(author) || replica.is_source(&name, author)
        })
        .collect();
    let claim = replica.claim_sources(&name, peer_key, &wanted);
    let mut ranges: Vec<(HubId, u64)> = pull
        .ranges
        .iter()
        .filter(|(author, _)| claim.feeds.contains(author) || forced.contains(author))
        .copied()
        .collect();
    // A frozen feed the plan leaves out is still followed from what this node holds: the
    // store takes its valid prefix, and the branch an amendment keeps once it is folded.
    let held = replica.store.frontier();
    for author in &forced {
        if !ranges.iter().any(|(a, _)| a == author) {
            ranges.push((*author, held.get(author).map_or(0, |h| h.seq)));
        }
    }
    ranges.sort_by_key(|(author, _)| *author);
    let lag = pull
        .lag
        .iter()
        .filter(|(author, _)| claim.feeds.contains(author))
        .fold(0u64, |sum, (_, l)| sum.saturating_add(*l));
    tracing::info!(peer = %name, key = %peer_key.short(), lag, feeds = ranges.len(), "link up: pulling");
    let pull_request = client.pull(pb::PullRequest {
        ranges: ranges
            .iter()
            .map(|(author, after)| pb::PullRange {
                author: author.0.to_vec(),
                after_seq: *after,
            })
            .collect(),
        batch_events_max: replica.config.batch_events_max as u32,
        follow: true,
        named_only: true,
    });
    let mut stream = tokio::time::timeout(stall, pull_request)
        .await
        .map_err(|_| LinkError::Stalled(stall.as_millis() as u64))??;

    // Two stages, each bounded: verification (both cores) then store and fold, so that one
    // batch is verified while the previous one is stored.
    let queue = replica.config.ingest_queue_batches.max(1);
    let (verify_tx, mut verify_rx) = mpsc::channel::<Vec<pb::SignedEvent>>(queue);
    let (store_tx, mut store_rx) = mpsc::channel::<Vec<Checked>>(queue);
    let (report_tx, mut report_rx) = mpsc::channel::<Result<IngestReport, String>>(queue);
    // In a simulation (inline), batches are ingested on this task and the stages never run;
    // `report_tx` then stays here so that `report_rx` waits instead of closing.
    let mut idle_report_tx = None;
    let (verifier, storer) = if replica.inline() {
        idle_report_tx = Some(report_tx);
        drop((verify_rx, store_tx, store_rx));
        (None, None)
    } else {
        let verifier = {
            let replica = replica.clone();
            tokio::task::spawn_blocking(move || {
                while let Some(batch) = verify_rx.blocking_recv() {
                    if store_tx.blocking_send(replica.check_batch(batch)).is_err() {
                        break;
                    }
                }
            })
        };
        let storer = {
            let replica = replica.clone();
            let name = name.clone();
            tokio::task::spawn_blocking(move || {
                while let Some(mut verified) = store_rx.blocking_recv() {
                    // Batches that queued up while the last one was stored go in one store call
                    // (one sync of the data file), up to a bound.
                    while verified.len() < STORE_EVENTS_MAX {
                        match store_rx.try_recv() {
                            Ok(more) => verified.extend(more),
                            Err(_) => break,
                        }
                    }
                    let report = replica
                        .store_verified(&name, verified)
                        .map_err(|e| e.to_string());
                    let failed = report.is_err();
                    if report_tx.blocking_send(report).is_err() || failed {
                        break;
                    }
                }
            })
        };
        (Some(verifier), Some(storer))
    };

    let mut live = false;
    let mut forks_announced: BTreeMap<HubId, u64> = replica
        .store
        .forks()
        .iter()
        .map(|(a, f)| (*a, f.fork.seq))
        .collect();
    let outcome = loop {
        tokio::select! {
            biased;
            _ = shutdown.changed() => break Ok(()),
            _ = resync.changed() => break Err(LinkError::Resync),
            _ = sources.changed() => {
                if replica.must_replan(&name, &claim.feeds) {
                    break Err(LinkError::Resync);
                }
            }
            report = report_rx.recv() => match report {
                Some(Ok(report)) => {
                    if !report.forks.is_empty() {
                        tracing::warn!(peer = %name, forks = report.forks.len(), "fork found while pulling");
                    }
                }
                Some(Err(error)) => break Err(LinkError::Store(error)),
                None => break Err(LinkError::Store("the ingest stage stopped".into())),
            },
            message = tokio::time::timeout(stall, stream.message()) => match message {
                Err(_) => break Err(LinkError::Stalled(stall.as_millis() as u64)),
                Ok(Err(status)) => break Err(LinkError::Rpc(status)),
                Ok(Ok(None)) => break Err(LinkError::Closed),
                Ok(Ok(Some(batch))) => {
                    let bytes = prost::Message::encoded_len(&batch) as u64 + 5;
                    let now = replica.now_ms();
                    replica.update_peer(&name, |p| {
                        p.last_contact_ms = now;
                        p.bytes_received += bytes;
                        p.messages_received += 1;
                    });
                    if !batch.events.is_empty() {
                        if replica.inline() {
                            // A simulation: verify and store on this task, in order.
                            if let Err(error) = replica.ingest(&name, batch.events) {
                                break Err(LinkError::Store(error.to_string()));
                            }
                        } else if verify_tx.send(batch.events).await.is_err() {
                            break Err(LinkError::Store("the verification stage stopped".into()));
                        }
                    }
                    let heard = wire::heard(&replica.charter, &batch.heard);
                    match replica.heard(&name, peer_key, &heard) {
                        Heard::Follow => {}
                        Heard::Replan => break Err(LinkError::Resync),
                        Heard::Disputed { author, seq } => {
                            let config = &replica.config;
                            let forks = replica.store.forks().len();
                            let now = replica.now_ms();
                            if disputes.allow(now, forks, config.retry_min_ms, config.retry_max_ms) {
                                tracing::info!(peer = %name, author = %author.short(), seq, "the peer says it holds another event at this seq: pulling again to fetch its version");
                                break Err(LinkError::Resync);
                            }
                            let warned = replica.limited_warning(&format!("dispute {name}"), |suppressed| {
                                tracing::warn!(peer = %name, author = %author.short(), seq, suppressed, "the peer says it holds another event at this seq, again, and its last pull proved no fork: not pulling again before the retry delay");
                            });
                            if !warned {
                                tracing::debug!(peer = %name, author = %author.short(), seq, "dispute ignored until the retry delay");
                            }
                        }
                    }
                    if batch.caught_up && !live {
                        live = true;
                        replica.update_peer(&name, |p| p.state = "live".into());
                        tracing::info!(peer = %name, "caught up: following live");
                    }
                    // Gossip fork proofs this node learnt since the last look (from any link).
                    // A proof replaced by a lower one counts as learnt (protocol §3).
                    let forks = replica.store.forks();
                    let seen: BTreeMap<HubId, u64> =
                        forks.iter().map(|(a, f)| (*a, f.fork.seq)).collect();
                    if seen != forks_announced {
                        let proofs = forks.values().map(|f| f.proof.to_wire()).collect();
                        match client.announce_forks(proofs).await {
                            Ok(new) => {
                                forks_announced = seen;
                                tracing::info!(peer = %name, new, "fork proofs announced");
                            }
                            Err(error) => break Err(error),
                        }
                    }
                }
            }
        }
    };
    // Let the stages finish what was received (nothing acknowledged is dropped).
    drop(verify_tx);
    drop(stream);
    drop(idle_report_tx);
    if let Some(verifier) = verifier {
        let _ = verifier.await;
    }
    while let Some(report) = report_rx.recv().await {
        if let Err(error) = report {
            tracing::warn!(peer = %name, %error, "storing the last batches failed");
        }
    }
    if let Some(storer) = storer {
        let _ = storer.await;
    }
    outcome
}

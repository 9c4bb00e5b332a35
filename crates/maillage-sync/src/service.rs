//! The `Federation` gRPC service: what a node answers to the peers that dial it.
//!
//! Every request field is checked before use (lengths, membership, bounds) and a bad request
//! is answered with `invalid_argument` or `unauthenticated`, never a panic. A pull is served by
//! one task per stream, reading the store in bounded batches into a bounded channel: a slow
//! reader holds at most `STREAM_BUFFER_BATCHES` batches of the server's memory.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use maillage_core::{Head, HubId, pb};
use maillage_proto::v1::federation_server::Federation;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::handshake::{HandshakeError, SESSION_IDLE_TTL_MS, SESSION_METADATA, VERSIONS_METADATA};
use crate::replica::{BATCH_EVENTS_CEILING, PROOFS_PER_MESSAGE_MAX, Replica};
use crate::wire;

/// Batches a pull stream may have produced but not yet sent.
pub const STREAM_BUFFER_BATCHES: usize = 4;

/// The service over a replica.
#[derive(Debug, Clone)]
pub struct FederationService {
    replica: Arc<Replica>,
    /// Pull streams open now, per member.
    pulls: Arc<std::sync::Mutex<BTreeMap<HubId, usize>>>,
}

/// Pull streams one member may hold open at once. A link holds one (a second while a
/// reconnection replaces it); each unread stream pins up to `STREAM_BUFFER_BATCHES` batches
/// and the peer's HTTP/2 window of the server's memory, so a member's key, or a client that
/// stole one, cannot grow it without bound by opening streams it never reads.
pub const PULLS_PER_MEMBER: usize = 8;

/// One open pull stream of a member, counted until dropped.
struct PullSlot {
    pulls: Arc<std::sync::Mutex<BTreeMap<HubId, usize>>>,
    peer: HubId,
}

impl Drop for PullSlot {
    fn drop(&mut self) {
        let mut pulls = self.pulls.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(open) = pulls.get_mut(&self.peer) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                pulls.remove(&self.peer);
            }
        }
    }
}

impl FederationService {
    /// Serves `replica`.
    pub fn new(replica: Arc<Replica>) -> Self {
        Self {
            replica,
            pulls: Arc::default(),
        }
    }

    /// A slot for one more pull stream of `peer`, if it holds fewer than
    /// [`PULLS_PER_MEMBER`].
    fn pull_slot(&self, peer: HubId) -> Option<PullSlot> {
        let mut pulls = self.pulls.lock().unwrap_or_else(|p| p.into_inner());
        let open = pulls.entry(peer).or_default();
        if *open >= PULLS_PER_MEMBER {
            return None;
        }
        *open += 1;
        Some(PullSlot {
            pulls: self.pulls.clone(),
            peer,
        })
    }

    /// The peer behind a request's session token.
    pub fn authorize<T>(replica: &Replica, request: &Request<T>) -> Result<HubId, Status> {
        let token = request
            .metadata()
            .get(SESSION_METADATA)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                Status::unauthenticated(format!(
                    "no `{SESSION_METADATA}` metadata: handshake (Hello, Prove) first"
                ))
            })?;
        replica
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .authorize(&replica.charter, token, replica.now_ms())
            .map_err(handshake_status)
    }
}

fn handshake_status(error: HandshakeError) -> Status {
    match error {
        HandshakeError::Length { .. }
        | HandshakeError::Federation { .. }
        | HandshakeError::TooManyVersions(_) => Status::invalid_argument(error.to_string()),
        HandshakeError::NoCommonVersion { ref server, .. } => {
            let mut status = Status::failed_precondition(error.to_string());
            let ours: Vec<String> = server.iter().map(u32::to_string).collect();
            if let Ok(value) = ours.join(",").parse() {
                status.metadata_mut().insert(VERSIONS_METADATA, value);
            }
            status
        }
        _ => Status::unauthenticated(error.to_string()),
    }
}

/// Logs a refused handshake, at most a few lines a minute per remote address: a stranger's
/// flood of Hellos costs no more than that in the log.
fn refused<T>(replica: &Replica, request: &Request<T>, error: &HandshakeError) {
    let remote = request.remote_addr();
    let source = remote.map_or_else(|| "unknown address".to_owned(), |a| a.ip().to_string());
    let logged = replica.limited_warning(&source, |suppressed| {
        tracing::warn!(remote = ?remote, %error, suppressed, "handshake refused");
    });
    if !logged {
        tracing::debug!(remote = ?remote, %error, "handshake refused");
    }
}

type BatchStream = Pin<Box<dyn Stream<Item = Result<pb::EventBatch, Status>> + Send>>;

#[tonic::async_trait]
impl Federation for FederationService {
    async fn hello(
        &self,
        request: Request<pb::HelloRequest>,
    ) -> Result<Response<pb::HelloResponse>, Status> {
        let replica = &self.replica;
        let nonce = replica.random::<32>();
        let response = replica.challenger.hello(
            &replica.charter,
            replica.secret(),
            &replica.config.protocol_versions,
            request.get_ref(),
            nonce,
            replica.now_ms(),
        );
        match response {
            Ok(response) => Ok(Response::new(response)),
            Err(error @ HandshakeError::NoCommonVersion { .. }) => {
                // The key is a member's (checked first) but not proven yet: a log line and a
                // count, not the peer's state. A peer retrying often is logged once a minute.
                replica.count_incompatible_handshake();
                let claimed = hex::encode(&request.get_ref().client_key);
                if replica.link_warning_due(&claimed, "hello") {
                    tracing::warn!(remote = ?request.remote_addr(), client = %claimed.get(..8).unwrap_or(""), %error, "handshake refused");
                } else {
                    tracing::debug!(remote = ?request.remote_addr(), %error, "handshake refused");
                }
                Err(handshake_status(error))
            }
            Err(error) => {
                refused(replica, &request, &error);
                Err(handshake_status(error))
            }
        }
    }

    async fn prove(
        &self,
        request: Request<pb::ProveRequest>,
    ) -> Result<Response<pb::ProveResponse>, Status> {
        let replica = &self.replica;
        let token = replica.random::<16>();
        let outcome = replica
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .prove(
                &replica.charter,
                &replica.id(),
                &replica.config.protocol_versions,
                request.get_ref(),
                token,
                replica.now_ms(),
            );
        match outcome {
            Ok((peer, protocol_version)) => {
                // A member opening sessions in a loop must not turn into log volume either.
                let remote = request.remote_addr();
                let logged = replica.limited_warning(&format!("session {peer}"), |suppressed| {
                    tracing::info!(peer = %peer.short(), remote = ?remote, protocol_version, suppressed, "peer authenticated");
                });
                if !logged {
                    tracing::debug!(peer = %peer.short(), remote = ?remote, "peer authenticated");
                }
                replica.update_peer(&peer.to_string(), |p| {
                    p.key = Some(peer);
                    p.state = "pulling-from-us".into();
                    p.protocol_version = protocol_version;
                    p.last_contact_ms = replica.now_ms();
                });
                Ok(Response::new(pb::ProveResponse {
                    session: token.to_vec(),
                    session_ttl_ms: SESSION_IDLE_TTL_MS,
                }))
            }
            Err(error) => {
                refused(replica, &request, &error);
                Err(handshake_status(error))
            }
        }
    }

    async fn exchange_frontier(
        &self,
        request: Request<pb::Frontier>,
    ) -> Result<Response<pb::Frontier>, Status> {
        let peer = Self::authorize(&self.replica, &request)?;
        let frontier = request.into_inner();
        if frontier.forks.len() > PROOFS_PER_MESSAGE_MAX {
            return Err(Status::invalid_argument(format!(
                "frontier: at most {PROOFS_PER_MESSAGE_MAX} fork proofs, found {}",
                frontier.forks.len()
            )));
        }
        let heads = wire::heads(&self.replica.charter, &frontier.heads)
            .map_err(|e| Status::invalid_argument(e.to_string()))?
            .known;
        let key = peer.to_string();
        let proofs = frontier.forks;
        let ours = self
            .replica
            .blocking(move |replica| {
                replica.accept_proofs(&key, proofs);
                let now = replica.now_ms();
                // Read before the answer: what the peer's pull streams report as moved is
                // then never short of what the answer said.
                let told = replica.store.frontier();
                replica.update_peer(&key, |p| {
                    p.heads = heads.iter().map(|(a, h)| (*a, h.seq)).collect();
                    p.last_contact_ms = now;
                    p.told = Some(told.into_iter().map(|(a, h)| (a, h.seq)).collect());
                });
                replica.frontier_message()
            })
            .await
            .map_err(Status::internal)?;
        Ok(Response::new(ours))
    }

    type PullStream = BatchStream;

    async fn pull(
        &self,
        request: Request<pb::PullRequest>,
    ) -> Result<Response<Self::PullStream>, Status> {
        let peer = Self::authorize(&self.replica, &request)?;
        let request = request.into_inner();
        // Founding members and the keys folded amendments admitted.
        let members = self.replica.charter.known_keys().len();
        if request.ranges.len() > members {
            return Err(Status::invalid_argument(format!(
                "pull: at most one range per member ({members}), found {}",
                request.ranges.len()
            )));
        }
        let mut cursors: BTreeMap<HubId, u64> = BTreeMap::new();
        for range in &request.ranges {
            let author = wire::member(&self.replica.charter, "range author", &range.author)
                .map_err(|e| Status::invalid_argument(e.to_string()))?;
            let after = wire::seq("range after_seq", range.after_seq)
                .map_err(|e| Status::invalid_argument(e.to_string()))?;
            if cursors.insert(author, after).is_some() {
                return Err(Status::invalid_argument(format!(
                    "pull: author {} named twice",
                    author.short()
                )));
            }
        }
        let batch_events = match request.batch_events_max as usize {
            0 => self.replica.config.batch_events_max,
            n => n.min(BATCH_EVENTS_CEILING),
        };
        let Some(slot) = self.pull_slot(peer) else {
            return Err(Status::resource_exhausted(format!(
                "pull: this member already has {PULLS_PER_MEMBER} pull streams open; close one first"
            )));
        };
        let (tx, rx) = mpsc::channel(STREAM_BUFFER_BATCHES);
        let replica = self.replica.clone();
        tracing::debug!(peer = %peer.short(), ranges = cursors.len(), follow = request.follow, "pull");
        tokio::spawn(async move {
            // The slot is held as long as the stream is served.
            let _slot = slot;
            let mode = match (request.follow, request.named_only) {
                (false, _) => Follow::No,
                (true, false) => Follow::Everything,
                (true, true) => Follow::Named,
            };
            serve_pull(replica, peer, cursors, batch_events, mode, tx).await;
        });
        Ok(Response::new(
            Box::pin(ReceiverStream::new(rx)) as BatchStream
        ))
    }

    async fn announce_forks(
        &self,
        request: Request<pb::ForkProofs>,
    ) -> Result<Response<pb::ForkProofsAccepted>, Status> {
        let peer = Self::authorize(&self.replica, &request)?;
        let proofs = request.into_inner().proofs;
        if proofs.len() > PROOFS_PER_MESSAGE_MAX {
            return Err(Status::invalid_argument(format!(
                "at most {PROOFS_PER_MESSAGE_MAX} fork proofs per call, found {}",
                proofs.len()
            )));
        }
        let new = self
            .replica
            .blocking(move |replica| replica.accept_proofs(&peer.to_string(), proofs))
            .await
            .map_err(Status::internal)?;
        Ok(Response::new(pb::ForkProofsAccepted {
            new_forks: new as u32,
        }))
    }

    async fn request_transfer(
        &self,
        request: Request<pb::TransferRequest>,
    ) -> Result<Response<pb::TransferResponse>, Status> {
        let peer = Self::authorize(&self.replica, &request)?;
        let request = request.into_inner();
        if request.serials.is_empty() || request.serials.len() > 1000 {
            return Err(Status::invalid_argument(format!(
                "transfer: between 1 and 1000 serials, found {}",
                request.serials.len()
            )));
        }
        let event = self
            .replica
            .blocking(move |replica| {
                let event = replica.host().transfer(peer, request)?;
                replica.notify();
                Ok::<_, Status>(event)
            })
            .await
            .map_err(Status::internal)??;
        Ok(Response::new(pb::TransferResponse {
            transfer: Some(event.signed),
        }))
    }
}

/// What a pull stream does once it sent what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Follow {
    /// It ends.
    No,
    /// It pushes every event stored later, of every author.
    Everything,
    /// It pushes the named authors' events, and reports how far the others moved.
    Named,
}

/// Streams `cursors` to a peer, then (per `mode`) what is stored later.
async fn serve_pull(
    replica: Arc<Replica>,
    peer: HubId,
    mut cursors: BTreeMap<HubId, u64>,
    batch_events: usize,
    mode: Follow,
    tx: mpsc::Sender<Result<pb::EventBatch, Status>>,
) {
    let follow = mode != Follow::No;
    // Named streams: how far each feed not served here was last reported. The peer knows the
    // frontier this node gave in the exchange before the pull: moves are reported from there,
    // including those between the exchange and this stream (the peer compares each head with
    // the event it holds at that seq, a fork shows there). A peer that pulls without an
    // exchange is reported the moves from now.
    let mut reported: BTreeMap<HubId, u64> = if mode == Follow::Named {
        replica
            .told(&peer)
            .unwrap_or_else(|| {
                replica
                    .store
                    .frontier()
                    .into_iter()
                    .map(|(author, head)| (author, head.seq))
                    .collect()
            })
            .into_iter()
            .filter(|(author, _)| !cursors.contains_key(author))
            .collect()
    } else {
        BTreeMap::new()
    };
    let mut changed = replica.subscribe();
    let mut stopping = replica.stopping();
    let heartbeat = Duration::from_millis(replica.config.heartbeat_ms.max(1));
    let mut sent_total: u64 = 0;
    // Fork proofs travel in frontiers and in the puller's announcements, never down a pull
    // stream: a node that only pulls from us (an observer) would never learn a proof we
    // learn later, and would keep folding the equivocator's events. When we learn one, the
    // stream ends; the peer redials and the fresh frontier exchange carries the proof.
    let forks_known = replica.store.forks().len();
    loop {
        if follow && replica.store.forks().len() > forks_known {
            tracing::debug!(peer = %peer.short(), "fork proof learnt: ending the stream so the peer's reconnection carries it");
            return;
        }
        // Read what is there, feeds round-robin, in bounded batches.
        // Mark the current version seen before reading: a change during the read wakes us.
        changed.borrow_and_update();
        let cursors_now = cursors.clone();
        let everything = mode == Follow::Everything;
        let read = replica
            .blocking(move |replica| next_batch(replica, &cursors_now, batch_events, everything))
            .await
            .and_then(|found| found);
        let NextBatch {
            batch,
            more,
            frontier,
        } = match read {
            Ok(found) => found,
            Err(error) => {
                let _ = tx.send(Err(Status::internal(error))).await;
                return;
            }
        };
        for (author, seq, _) in &batch {
            cursors.insert(*author, *seq);
        }
        let caught_up = !more;
        let heard = if mode == Follow::Named {
            moved_heads(frontier, &cursors, &mut reported)
        } else {
            Vec::new()
        };
        if !batch.is_empty() || !heard.is_empty() {
            sent_total += batch.len() as u64;
            let message = pb::EventBatch {
                events: batch.into_iter().map(|(_, _, signed)| signed).collect(),
                caught_up,
                heard,
            };
            if tx.send(Ok(message)).await.is_err() {
                tracing::debug!(peer = %peer.short(), sent_total, "pull stream closed by the peer");
                return;
            }
        }
        let stop = *stopping.borrow();
        if more && !stop {
            continue;
        }
        if !follow {
            if sent_total == 0 {
                let _ = tx.send(Ok(quiet_batch())).await;
            }
            return;
        }
        // Caught up: wait for the store to change, with a heartbeat so the peer can tell a
        // quiet link from a dead one.
        tokio::select! {
            biased;
            _ = stopping.changed() => return,
            _ = tx.closed() => return,
            changed_result = changed.changed() => {
                if changed_result.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep(heartbeat) => {
                if tx.send(Ok(quiet_batch())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// An empty batch saying the stream is caught up: the answer to a pull of nothing, and the
/// heartbeat of a quiet following stream.
fn quiet_batch() -> pb::EventBatch {
    pb::EventBatch {
        events: Vec::new(),
        caught_up: true,
        heard: Vec::new(),
    }
}

/// The heads of the feeds a named stream does not serve that moved since `reported`, which
/// they update: what the peer needs to tell a stalled source from a quiet feed, in bytes
/// proportional to what changed.
fn moved_heads(
    frontier: BTreeMap<HubId, Head>,
    served: &BTreeMap<HubId, u64>,
    reported: &mut BTreeMap<HubId, u64>,
) -> Vec<pb::HeardHead> {
    let mut moved = Vec::new();
    for (author, head) in frontier {
        if served.contains_key(&author) {
            continue;
        }
        let last = reported.entry(author).or_insert(0);
        if head.seq > *last {
            *last = head.seq;
            moved.push(pb::HeardHead {
                author: author.0.to_vec(),
                seq: head.seq,
                id: head.id.0.to_vec(),
            });
        }
    }
    moved
}

/// An event on its way to a peer: its feed, its seq, the stored bytes.
type Outgoing = (HubId, u64, pb::SignedEvent);

/// What [`next_batch`] read.
struct NextBatch {
    batch: Vec<Outgoing>,
    /// More is waiting.
    more: bool,
    /// The frontier it was read against (a named stream reports the other feeds' heads from
    /// it).
    frontier: BTreeMap<HubId, Head>,
}

/// The next batch for a pull: events after each cursor, feeds round-robin, up to
/// `batch_events` and `batch_bytes_max`; with `everything` (a stream following every
/// author) authors not named too.
fn next_batch(
    replica: &Replica,
    cursors: &BTreeMap<HubId, u64>,
    batch_events: usize,
    everything: bool,
) -> Result<NextBatch, String> {
    let frontier: BTreeMap<HubId, Head> = replica.store.frontier();
    let mut wanted: Vec<(HubId, u64, u64)> = Vec::new();
    for (author, head) in &frontier {
        let after = match cursors.get(author) {
            Some(after) => *after,
            None if everything => 0,
            None => continue,
        };
        if head.seq > after {
            wanted.push((*author, after, head.seq));
        }
    }
    if wanted.is_empty() {
        return Ok(NextBatch {
            batch: Vec::new(),
            more: false,
            frontier,
        });
    }
    let share = (batch_events / wanted.len()).max(1);
    let mut batch = Vec::with_capacity(batch_events);
    let mut bytes = 0usize;
    let mut more = false;
    for (author, after, head) in wanted {
        if batch.len() >= batch_events || bytes >= replica.config.batch_bytes_max {
            more = true;
            break;
        }
        let room = share.min(batch_events - batch.len());
        let events = replica
            .store
            .range_signed(&author, after, room)
            .map_err(|e| format!("reading feed {}: {e}", author.short()))?;
        let mut last = after;
        // Whether the read stopped short of what the store had: the room or the byte bound.
        let mut cut = events.len() >= room;
        for (seq, signed) in events {
            // The byte bound holds per event (one event alone may exceed it): a batch of
            // large events must stay under the gRPC message cap, or the stream fails forever.
            let size = signed.payload.len() + signed.signature.len() + 8;
            if !batch.is_empty() && bytes + size > replica.config.batch_bytes_max {
                cut = true;
                break;
            }
            bytes += size;
            last = seq;
            batch.push((author, seq, signed));
        }
        // More of this feed waits only if the read was cut short: a store whose frontier says
        // more than its range serves (a damaged or cut feed, a lying store) must not keep the
        // stream reading nothing in a loop, never sending a heartbeat, the peer timing out.
        if cut && last < head {
            more = true;
        }
    }
    Ok(NextBatch {
        batch,
        more,
        frontier,
    })
}

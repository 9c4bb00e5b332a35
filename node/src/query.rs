//! The `Query` service: what clients ask a running node, answered from its live views.
//!
//! Access: anything about a person (a parcours, a referral, the holder of a voucher) needs a
//! session token from the Federation handshake (a member key), whatever the caller's address:
//! loopback is not an authentication (any local account reaches it). Aggregate reads are
//! served to loopback callers without a session and to others with one. Commands never arrive
//! here (see [`crate::admin`]).

use std::sync::Arc;

use maillage_core::pb;
use maillage_proto::v1::query_server::Query;
use maillage_store::EventStore;
use maillage_sync::FederationService;
use tonic::{Request, Response, Status};

use crate::node::Node;
use crate::serve::Daemon;

/// The service.
#[derive(Debug, Clone)]
pub struct QueryService {
    node: Arc<Node>,
    daemon: Arc<Daemon>,
}

impl QueryService {
    /// Serves `node`'s views.
    pub fn new(node: Arc<Node>, daemon: Arc<Daemon>) -> Self {
        Self { node, daemon }
    }

    /// Aggregate reads: loopback callers, or a session.
    fn allow<T>(&self, request: &Request<T>) -> Result<(), Status> {
        if is_loopback(request) {
            return Ok(());
        }
        self.session(request).map(|_| ())
    }

    /// Reads about a person: a session, whatever the caller's address.
    fn session<T>(&self, request: &Request<T>) -> Result<maillage_core::HubId, Status> {
        FederationService::authorize(&self.daemon.replica, request)
    }

    /// Runs a read-only command line inside the node and returns its JSON output.
    async fn json(&self, args: Vec<String>) -> Result<serde_json::Value, Status> {
        let node = self.node.clone();
        let daemon = self.daemon.clone();
        let response = tokio::task::spawn_blocking(move || {
            Node::lend(&node, || {
                Daemon::lend(&daemon, || {
                    crate::admin::run_captured(args, std::collections::BTreeMap::new())
                })
            })
        })
        .await
        .map_err(|e| Status::internal(format!("query task failed: {e}")))?;
        match response.exit_code {
            0 => serde_json::from_str(&response.stdout)
                .map_err(|e| Status::internal(format!("the answer is not JSON: {e}"))),
            _ => Err(Status::not_found(maillage_core::excerpt::excerpt(
                response.stderr.trim().trim_start_matches("error: "),
                300,
            ))),
        }
    }

    async fn document(&self, args: Vec<String>) -> Result<Response<pb::JsonDocument>, Status> {
        let value = self.json(args).await?;
        Ok(Response::new(pb::JsonDocument {
            json: value.to_string(),
        }))
    }
}

/// The node's live views, or UNAVAILABLE when it is not serving them.
fn serving_views(node: &Node) -> Result<crate::node::Views<'_>, Status> {
    if node.live().is_none() {
        return Err(Status::unavailable("not serving"));
    }
    node.serving_views()
        .map_err(|e| Status::internal(format!("{e:#}")))
}

fn is_loopback<T>(request: &Request<T>) -> bool {
    request.remote_addr().is_some_and(|a| a.ip().is_loopback())
}

#[tonic::async_trait]
impl Query for QueryService {
    async fn digest(
        &self,
        request: Request<pb::DigestRequest>,
    ) -> Result<Response<pb::DigestResponse>, Status> {
        self.allow(&request)?;
        let node = self.node.clone();
        tokio::task::spawn_blocking(move || {
            let ledger = serving_views(&node)?;
            Ok(Response::new(pb::DigestResponse {
                digest: ledger.digest().to_vec(),
                events_applied: ledger.applied_count(),
                events_pending: ledger.pending_count() as u64,
                rejections: ledger.rejections().len() as u64,
                applied: ledger
                    .applied()
                    .into_iter()
                    .map(|(author, seq)| pb::FeedPosition {
                        author: author.0.to_vec(),
                        seq,
                    })
                    .collect(),
            }))
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?
    }

    async fn status(
        &self,
        request: Request<pb::StatusRequest>,
    ) -> Result<Response<pb::StatusResponse>, Status> {
        self.allow(&request)?;
        let node = self.node.clone();
        let daemon = self.daemon.clone();
        tokio::task::spawn_blocking(move || Ok(Response::new(status_of(&node, &daemon)?)))
            .await
            .map_err(|e| Status::internal(e.to_string()))?
    }

    async fn search_venues(
        &self,
        request: Request<pb::SearchVenuesRequest>,
    ) -> Result<Response<pb::JsonDocument>, Status> {
        self.allow(&request)?;
        let r = request.into_inner();
        let mut args = vec!["venues".to_string(), "search".to_string()];
        // Options as `--name=value` and the words after `--`: nothing a client sends is read as
        // a flag.
        if !r.service.is_empty() {
            args.push(format!("--service={}", r.service));
        }
        if !r.departement.is_empty() {
            args.push(format!("--departement={}", r.departement));
        }
        if r.qualified_only {
            args.push("--qualified".into());
        }
        if r.limit > 0 {
            args.push(format!("--limit={}", r.limit.min(1000)));
        }
        args.push("--json".into());
        args.push("--".into());
        args.extend(r.text.split_whitespace().map(String::from));
        self.document(args).await
    }

    async fn voucher_status(
        &self,
        request: Request<pb::VoucherStatusRequest>,
    ) -> Result<Response<pb::JsonDocument>, Status> {
        // The holder is shown only to a session.
        let holder = self.session(&request).is_ok();
        if !holder {
            self.allow(&request)?;
        }
        let serial = request.into_inner().serial;
        let mut value = self
            .json(vec![
                "voucher".into(),
                "status".into(),
                "--json".into(),
                "--".into(),
                serial,
            ])
            .await?;
        if !holder && let Some(object) = value.as_object_mut() {
            object.remove("person");
        }
        Ok(Response::new(pb::JsonDocument {
            json: value.to_string(),
        }))
    }

    async fn referral(
        &self,
        request: Request<pb::ReferralRequest>,
    ) -> Result<Response<pb::JsonDocument>, Status> {
        self.session(&request)?;
        let id = request.into_inner().referral_id;
        self.document(vec![
            "referral".into(),
            "show".into(),
            "--json".into(),
            "--".into(),
            id,
        ])
        .await
    }

    async fn parcours(
        &self,
        request: Request<pb::ParcoursRequest>,
    ) -> Result<Response<pb::JsonDocument>, Status> {
        self.session(&request)?;
        let person = request.into_inner().person;
        self.document(vec![
            "parcours".into(),
            "--json".into(),
            "--".into(),
            person,
        ])
        .await
    }

    async fn stats(
        &self,
        request: Request<pb::StatsRequest>,
    ) -> Result<Response<pb::JsonDocument>, Status> {
        self.allow(&request)?;
        self.document(vec!["stats".into(), "--json".into()]).await
    }
}

/// Each feed this node knows: stored head, what is folded, fork, damage on disk, and how far
/// its last event is dated ahead of this node's clock. `applied` is what the views folded.
pub fn feed_statuses(
    node: &Node,
    applied: &std::collections::BTreeMap<maillage_core::HubId, u64>,
) -> Vec<pb::FeedStatus> {
    let forks = node.store.forks();
    let frontier = node.store.frontier();
    let damaged = node.store.damaged();
    let hlcs = node.store.head_hlcs();
    let now_ms = crate::node::wall_ms();
    let mut authors: std::collections::BTreeSet<_> = frontier.keys().copied().collect();
    authors.extend(forks.keys().copied());
    authors.extend(damaged.keys().copied());
    authors
        .into_iter()
        .map(|author| {
            let head = frontier.get(&author);
            let fork = forks.get(&author);
            let damage = damaged.get(&author);
            pb::FeedStatus {
                author: author.0.to_vec(),
                name: node
                    .charter
                    .member(&author)
                    .map(|m| m.name.clone())
                    .unwrap_or_default(),
                seq: head.map_or(0, |h| h.seq),
                head_id: head.map(|h| h.id.0.to_vec()).unwrap_or_default(),
                applied: applied.get(&author).copied().unwrap_or(0),
                frozen: fork.is_some(),
                fork_seq: fork.map_or(0, |f| f.fork.seq),
                clock_ahead_ms: hlcs.get(&author).map_or(0, |hlc| {
                    maillage_core::hlc::hlc_millis(*hlc).saturating_sub(now_ms)
                }),
                damaged_from: damage.map_or(0, |d| d.from_seq),
                damaged_until: damage.map_or(0, |d| d.held_until),
            }
        })
        .collect()
}

/// The replication status of a serving node.
pub fn status_of(node: &Node, daemon: &Daemon) -> Result<pb::StatusResponse, Status> {
    let replica = &daemon.replica;
    let ledger = serving_views(node)?;
    let feeds = feed_statuses(node, &ledger.applied());
    let peers = replica
        .peers()
        .into_iter()
        .map(|(name, peer)| {
            let lags = replica
                .lag_behind(&peer)
                .into_iter()
                .map(|(author, lag)| pb::PeerFeedLag {
                    author: author.0.to_vec(),
                    peer_seq: peer.heads.get(&author).copied().unwrap_or(0),
                    lag,
                })
                .collect();
            pb::PeerStatus {
                address: if peer.address.is_empty() {
                    name
                } else {
                    peer.address.clone()
                },
                key: peer.key.map(|k| k.0.to_vec()).unwrap_or_default(),
                name: peer
                    .key
                    .and_then(|k| node.charter.member(&k).map(|m| m.name.clone()))
                    .unwrap_or_default(),
                state: peer.state.clone(),
                last_error: peer.last_error.clone(),
                events_received: peer.events_received,
                events_rejected: peer.events_rejected,
                last_contact_ms: peer.last_contact_ms,
                lags,
            }
        })
        .collect();
    let member = node.member().map_err(|e| Status::internal(e.to_string()))?;
    Ok(pb::StatusResponse {
        node: node.id().0.to_vec(),
        name: member.name.clone(),
        role: format!("{:?}", member.role).to_lowercase(),
        digest: ledger.digest().to_vec(),
        events_stored: node.store.event_count(),
        feeds,
        peers,
        domain_rejections: ledger.rejections().len() as u64,
        rejected_from_peers: replica
            .recent_rejections()
            .into_iter()
            .map(|r| pb::RecentRejection {
                author: r.author.map(|a| a.0.to_vec()).unwrap_or_default(),
                seq: r.seq,
                peer: r.peer,
                reason: r.reason,
            })
            .collect(),
        events_pending: ledger.pending_count() as u64,
        uptime_ms: replica.uptime_ms(),
        http: daemon.http.clone().unwrap_or_default(),
    })
}

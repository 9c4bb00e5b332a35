//! The `Query` service: what clients ask a running node, answered from its live views, and
//! `Run`, which executes a CLI command line inside the node.
//!
//! Access: calls from loopback are served as they are; calls from elsewhere need a session
//! token from the Federation handshake (a member key). `Run` is loopback only.

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

    fn allow<T>(&self, request: &Request<T>) -> Result<(), Status> {
        if is_loopback(request) {
            return Ok(());
        }
        FederationService::authorize(&self.daemon.replica, request).map(|_| ())
    }

    /// Runs a command line inside the node; returns (stdout, stderr, exit code).
    async fn run_args(&self, args: Vec<String>, cwd: String) -> Result<pb::RunResponse, Status> {
        let node = self.node.clone();
        let daemon = self.daemon.clone();
        let response = tokio::task::spawn_blocking(move || {
            Node::lend(&node, || Daemon::lend(&daemon, || run_captured(args, &cwd)))
        })
        .await
        .map_err(|e| Status::internal(format!("command task failed: {e}")))?;
        // Commands may have appended own events: wake the peers' streams.
        self.daemon.replica.notify();
        Ok(response)
    }

    async fn json(&self, args: Vec<String>) -> Result<Response<pb::JsonDocument>, Status> {
        let response = self.run_args(args, String::new()).await?;
        match response.exit_code {
            0 => Ok(Response::new(pb::JsonDocument {
                json: response.stdout,
            })),
            _ => Err(Status::not_found(
                response
                    .stderr
                    .trim()
                    .trim_start_matches("error: ")
                    .to_string(),
            )),
        }
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

/// Parses and runs a command line with its output captured.
pub fn run_captured(args: Vec<String>, cwd: &str) -> pb::RunResponse {
    use clap::Parser;
    let argv = std::iter::once("maillage".to_string()).chain(args);
    let cli = match crate::cli::Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(error) => {
            let code = error.exit_code();
            let text = error.render().to_string();
            let (stdout, stderr) = if code == 0 {
                (text, String::new())
            } else {
                (String::new(), text)
            };
            return pb::RunResponse {
                stdout,
                stderr,
                exit_code: code,
            };
        }
    };
    if !crate::cli::runs_in_daemon(&cli.command) {
        return pb::RunResponse {
            stdout: String::new(),
            stderr: "error: this command does not run inside a serving node\n".into(),
            exit_code: 2,
        };
    }
    let mut cli = cli;
    crate::cli::resolve_paths(&mut cli.command, std::path::Path::new(cwd));
    let (result, stdout) = crate::output::capture(|| crate::cli::run(cli));
    match result {
        Ok(code) => pb::RunResponse {
            stdout,
            stderr: String::new(),
            exit_code: exit_code_number(code),
        },
        Err(error) => pb::RunResponse {
            stdout,
            stderr: format!("error: {error:#}\n"),
            exit_code: 1,
        },
    }
}

fn exit_code_number(code: std::process::ExitCode) -> i32 {
    (0..=255u8)
        .find(|n| std::process::ExitCode::from(*n) == code)
        .map_or(1, i32::from)
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
        args.extend(r.text.split_whitespace().map(String::from));
        if !r.service.is_empty() {
            args.extend(["--service".into(), r.service]);
        }
        if !r.departement.is_empty() {
            args.extend(["--departement".into(), r.departement]);
        }
        if r.qualified_only {
            args.push("--qualified".into());
        }
        if r.limit > 0 {
            args.extend(["--limit".into(), r.limit.to_string()]);
        }
        args.push("--json".into());
        self.json(args).await
    }

    async fn voucher_status(
        &self,
        request: Request<pb::VoucherStatusRequest>,
    ) -> Result<Response<pb::JsonDocument>, Status> {
        self.allow(&request)?;
        let serial = request.into_inner().serial;
        self.json(vec![
            "voucher".into(),
            "status".into(),
            serial,
            "--json".into(),
        ])
        .await
    }

    async fn referral(
        &self,
        request: Request<pb::ReferralRequest>,
    ) -> Result<Response<pb::JsonDocument>, Status> {
        self.allow(&request)?;
        let id = request.into_inner().referral_id;
        self.json(vec!["referral".into(), "show".into(), id, "--json".into()])
            .await
    }

    async fn parcours(
        &self,
        request: Request<pb::ParcoursRequest>,
    ) -> Result<Response<pb::JsonDocument>, Status> {
        self.allow(&request)?;
        let person = request.into_inner().person;
        self.json(vec!["parcours".into(), person, "--json".into()])
            .await
    }

    async fn stats(
        &self,
        request: Request<pb::StatsRequest>,
    ) -> Result<Response<pb::JsonDocument>, Status> {
        self.allow(&request)?;
        self.json(vec!["stats".into(), "--json".into()]).await
    }

    async fn run(
        &self,
        request: Request<pb::RunRequest>,
    ) -> Result<Response<pb::RunResponse>, Status> {
        if !is_loopback(&request) {
            return Err(Status::permission_denied(
                "Run is served to loopback clients only",
            ));
        }
        let request = request.into_inner();
        Ok(Response::new(
            self.run_args(request.args, request.cwd).await?,
        ))
    }
}

/// The replication status of a serving node.
pub fn status_of(node: &Node, daemon: &Daemon) -> Result<pb::StatusResponse, Status> {
    let replica = &daemon.replica;
    let ledger = serving_views(node)?;
    let applied = ledger.applied();
    let forks = node.store.forks();
    let frontier = node.store.frontier();
    let mut authors: std::collections::BTreeSet<_> = frontier.keys().copied().collect();
    authors.extend(forks.keys().copied());
    let feeds = authors
        .into_iter()
        .map(|author| {
            let head = frontier.get(&author);
            let fork = forks.get(&author);
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
            }
        })
        .collect();
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

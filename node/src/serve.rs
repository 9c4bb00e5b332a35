//! `maillage serve`: the daemon. It serves the `Federation` service to peers and the `Query`
//! service to clients on one address, keeps one link per configured peer (pull, follow live,
//! redial), folds every event into live views, answers claims on its vouchers, runs the
//! operator's CLI commands sent to it on its Unix socket ([`crate::admin`]) so that the CLI and
//! the daemon never write the data dir at once, and serves the dashboard and Prometheus
//! metrics over HTTP ([`crate::web`]).
//!
//! Shutdown (SIGINT or SIGTERM): stop accepting, stop the links after what they received is
//! stored, save the views, remove `serve.addr`. Own events are durable before they are
//! acknowledged, so nothing acknowledged is lost even on SIGKILL.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use maillage_app::App;
use maillage_app::datadir::ServeConfig;
use maillage_app::network::{Network, TransferFailure};
use maillage_app::node::Node;
use maillage_app::views::{PeerRejectionView, PeerView, ReplicationView, UnsupportedView};
use maillage_core::lang::{FileOp, on_file};
use maillage_core::{EventId, Fork, HubId, Role, VerifiedEvent, pb};
use maillage_proto::v1::query_server::QueryServer;
use maillage_store::EventStore;
use maillage_sync::server::{ConnectionLimits, ListenerLimits};
use maillage_sync::{
    Connector, Host, PeerClient, PeerConfig, Replica, ReplicaConfig, TcpConnector, run_link,
};
use tokio::sync::watch;
use tonic::Status;
use tonic::transport::Server;

mod probe;

/// How long a stop waits for the federation listener's connections to close.
const GRACEFUL_STOP: Duration = Duration::from_secs(8);

/// How long a peer's transfer request waits for this node's start-up gate to open.
const TRANSFER_WAITS_FOR_GATE: Duration = Duration::from_secs(3);

/// The services on the federation address, as gRPC health and reflection name them.
const SERVED: &[&str] = &["maillage.v1.Federation", "maillage.v1.Query"];

/// What a serving node lends the application ([`Network`]): its links to the other members
/// (the online cross-territory redemption) and what replication knows (peers, lag).
pub struct Daemon {
    /// Replication state.
    pub replica: Arc<Replica>,
    /// The links' peers.
    pub peers: Vec<PeerConfig>,
    /// How to reach them.
    connector: Arc<dyn Connector>,
    /// Sessions opened for direct calls (transfers), by peer key.
    clients: tokio::sync::Mutex<BTreeMap<HubId, PeerClient>>,
    /// The runtime, to make calls from the blocking threads commands run on.
    runtime: tokio::runtime::Handle,
    /// The address served.
    pub listen: String,
    /// Where the dashboard and metrics are served over HTTP (`None`: HTTP is off).
    pub http: Option<String>,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("listen", &self.listen)
            .field("http", &self.http)
            .field("peers", &self.peers)
            .finish_non_exhaustive()
    }
}

impl Daemon {
    /// Asks `owner` to transfer `serials` to this hub (blocking; call from a blocking
    /// thread). The returned event is verified and signed by the owner.
    pub fn transfer_from(
        &self,
        owner: HubId,
        serials: Vec<String>,
        venue_id: String,
    ) -> Result<VerifiedEvent, TransferFailure> {
        let address = self
            .replica
            .peers()
            .into_values()
            .find(|p| p.key == Some(owner) && !p.address.is_empty())
            .map(|p| p.address)
            .ok_or_else(|| {
                TransferFailure::Unreachable(format!(
                    "no link of this node has reached hub {} (configure it as a peer)",
                    owner.short()
                ))
            })?;
        let peer = self
            .peers
            .iter()
            .find(|p| p.address == address)
            .cloned()
            .ok_or_else(|| {
                TransferFailure::Unreachable(format!("peer {address} not configured"))
            })?;
        let replica = self.replica.clone();
        let connector = self.connector.clone();
        self.runtime.block_on(async {
            let call = async {
                let mut clients = self.clients.lock().await;
                let mut client = match clients.get(&owner) {
                    Some(client) => client.clone(),
                    None => PeerClient::connect(&replica, &peer, connector.as_ref())
                        .await
                        .map_err(|e| TransferFailure::Unreachable(e.to_string()))?,
                };
                match client
                    .request_transfer(&replica.charter, serials, venue_id)
                    .await
                {
                    Ok(event) => {
                        clients.insert(owner, client);
                        Ok(event)
                    }
                    Err(maillage_sync::LinkError::Rpc(status))
                        if matches!(
                            status.code(),
                            tonic::Code::FailedPrecondition
                                | tonic::Code::NotFound
                                | tonic::Code::InvalidArgument
                                | tonic::Code::PermissionDenied
                        ) =>
                    {
                        clients.insert(owner, client);
                        Err(TransferFailure::Refused(status.message().to_string()))
                    }
                    Err(error) => {
                        clients.remove(&owner);
                        Err(TransferFailure::Unreachable(error.to_string()))
                    }
                }
            };
            tokio::time::timeout(Duration::from_secs(5), call)
                .await
                .unwrap_or_else(|_| {
                    Err(TransferFailure::Unreachable(
                        "no answer within 5 s".to_string(),
                    ))
                })
        })
    }

    /// Waits (bounded) until the store holds `event`'s feed up to it: the live link from its
    /// author brings it. Returns whether it arrived.
    pub fn wait_for(&self, event: &VerifiedEvent, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if self
                .replica
                .store
                .head(&event.author)
                .is_some_and(|h| h.seq >= event.seq)
            {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Network for Daemon {
    fn request_transfer(
        &self,
        owner: HubId,
        serials: Vec<String>,
        venue_id: String,
    ) -> Result<VerifiedEvent, TransferFailure> {
        self.transfer_from(owner, serials, venue_id)
    }

    fn wait_for(&self, event: &VerifiedEvent, timeout: Duration) -> bool {
        Daemon::wait_for(self, event, timeout)
    }

    fn replication(&self) -> ReplicationView {
        let replica = &self.replica;
        let charter = &replica.charter;
        ReplicationView {
            peers: replica
                .peers()
                .into_iter()
                .map(|(name, peer)| PeerView {
                    lags: replica
                        .lag_behind(&peer)
                        .into_iter()
                        .map(|(author, lag)| {
                            (author, peer.heads.get(&author).copied().unwrap_or(0), lag)
                        })
                        .collect(),
                    address: if peer.address.is_empty() {
                        name
                    } else {
                        peer.address.clone()
                    },
                    key: peer.key,
                    name: peer
                        .key
                        .and_then(|k| charter.member(&k).map(|m| m.name.clone()))
                        .unwrap_or_default(),
                    state: peer.state.clone(),
                    last_error: peer.last_error.clone(),
                    protocol_version: peer.protocol_version,
                    incompatible: peer
                        .incompatible
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    unsupported: peer
                        .unsupported
                        .iter()
                        .map(|u| UnsupportedView {
                            version: u.version,
                            author: u.author,
                            from_seq: u.from_seq,
                            count: u.count,
                            message: u.to_string(),
                        })
                        .collect(),
                    events_received: peer.events_received,
                    events_rejected: peer.events_rejected,
                    last_contact_ms: peer.last_contact_ms,
                })
                .collect(),
            rejected_from_peers: replica
                .recent_rejections()
                .into_iter()
                .map(|r| PeerRejectionView {
                    author: r.author,
                    seq: r.seq,
                    peer: r.peer,
                    reason: r.reason,
                })
                .collect(),
            uptime_ms: replica.uptime_ms(),
            http: self.http.clone(),
        }
    }

    fn notify(&self) {
        self.replica.notify();
    }
}

/// The node behind the replica: folds what arrives, answers claims and transfers.
struct NodeHost {
    node: Arc<Node>,
    answer_claims: bool,
    /// Claims already answered by this process (an answer the rules refuse is not retried).
    answered: Mutex<BTreeSet<EventId>>,
    /// When (wall ms) a member's clock was last reported ahead, per member: at most one line
    /// a minute each.
    clock_reported: Mutex<BTreeMap<HubId, u64>>,
}

impl NodeHost {
    /// Answers claims on this hub's vouchers ([`maillage_app::policy::answer_claims`]).
    fn answer_claims(&self, views: &mut maillage_core::Ledger) {
        let me = self.node.id();
        let mut answered = self.answered.lock().unwrap_or_else(|p| p.into_inner());
        let node = &self.node;
        let outcomes =
            maillage_app::policy::answer_claims(views, &me, &mut answered, &mut |views, body| {
                node.sign(views, body)
            });
        for outcome in outcomes {
            match outcome {
                Ok(answer) => match answer.rejected {
                    None => {
                        tracing::info!(claim = %answer.claim.short(), serial = %answer.serial, "claim answered: voucher redeemed")
                    }
                    Some(reason) => {
                        tracing::info!(claim = %answer.claim.short(), serial = %answer.serial, %reason, "claim answered: rejected")
                    }
                },
                Err(error) => tracing::error!(%error, "could not answer a claim"),
            }
        }
    }

    /// Logs members whose events are dated more than the clock bound ahead of this node's
    /// clock. A report only: every rule treats such events as any other, and this node's own
    /// clock does not follow them.
    fn report_clocks_ahead(&self, events: impl IntoIterator<Item = (HubId, u64)>) {
        let bound = self.node.config.clock_max_ahead_ms;
        let now = self.node.clock().now_ms();
        let mut ahead: BTreeMap<HubId, u64> = BTreeMap::new();
        for (author, hlc) in events {
            let by = maillage_core::hlc::hlc_millis(hlc).saturating_sub(now);
            if by > bound {
                let entry = ahead.entry(author).or_default();
                *entry = (*entry).max(by);
            }
        }
        if ahead.is_empty() {
            return;
        }
        let mut reported = self
            .clock_reported
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for (author, by) in ahead {
            let last = reported.get(&author).copied();
            if last.is_none_or(|at| now.saturating_sub(at) >= 60_000) {
                reported.insert(author, now);
                let member = self
                    .node
                    .charter
                    .member(&author)
                    .map(|m| m.name.clone())
                    .unwrap_or_default();
                tracing::warn!(
                    author = %author.short(),
                    %member,
                    ahead_s = by / 1000,
                    bound_s = bound / 1000,
                    "a member's events are dated ahead of this machine's clock (its clock runs fast, or it forged dates): they are handled like any other, and this node's clock does not follow them"
                );
            }
        }
    }
}

impl Host for NodeHost {
    fn stored(&self, events: Vec<VerifiedEvent>) {
        self.report_clocks_ahead(events.iter().map(|e| (e.author, e.hlc)));
        let mut views = match self.node.views_with(events) {
            Ok(views) => views,
            Err(error) => {
                tracing::error!(%error, "folding stored events failed");
                return;
            }
        };
        // Until a peer confirmed this node's own feed it signs nothing: the claims wait (and
        // are answered when the gate opens).
        if self.answer_claims
            && self.node.gate().is_open()
            && self.node.member().is_ok_and(|m| m.role == Role::Hub)
        {
            self.answer_claims(&mut views);
        }
    }

    fn forked(&self, fork: &Fork) {
        tracing::warn!(author = %fork.author, seq = fork.seq, "fork: rebuilding the views without the frozen feed's later events");
        match self.node.views() {
            Ok(mut views) => {
                if let Err(error) = self.node.refold(&mut views) {
                    tracing::error!(%error, "rebuilding the views after a fork failed");
                }
            }
            Err(error) => tracing::error!(%error, "rebuilding the views after a fork failed"),
        }
    }

    fn transfer(
        &self,
        caller: HubId,
        request: pb::TransferRequest,
    ) -> Result<VerifiedEvent, Status> {
        // A node that just started signs once a peer confirmed its own feed, usually within a
        // second: a peer's request that arrives meanwhile waits for that (bounded, so that a
        // member cannot hold the node's blocking threads), rather than failing into an
        // offline claim it would have answered a moment later.
        let gate = self.node.gate();
        if !gate.wait(TRANSFER_WAITS_FOR_GATE) {
            return Err(Status::unavailable(gate.closed_because()));
        }
        let mut views = self
            .node
            .views()
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let node = &self.node;
        let event = maillage_app::policy::answer_transfer(
            &node.charter,
            &mut views,
            &node.id(),
            &caller,
            &request.serials,
            &request.venue_id,
            &mut |views, body| node.sign(views, body),
        )?;
        tracing::debug!(to = %caller.short(), serials = request.serials.len(), event = %event.id.short(), "vouchers transferred for an online redemption");
        Ok(event)
    }
}

/// Peers of the configuration as links. Refuses an address that is not an `http://` or
/// `https://` URL, a key that does not parse and TLS settings that do not load, naming the
/// peer: a link to it could never succeed, and would be retried forever.
pub fn peer_configs(config: &ServeConfig) -> Result<Vec<PeerConfig>> {
    config
        .peers
        .iter()
        .map(|entry| {
            let address = crate::config::peer_address(&entry.address).map_err(|e| {
                let shown = maillage_core::excerpt::Excerpt::of(&entry.address);
                anyhow::anyhow!(
                    "{}",
                    maillage_core::tr!(
                        "adresse du pair {shown} : {e} (vérifiez avec `maillage config check`)",
                        "peer address {shown}: {e} (check with `maillage config check`)"
                    )
                )
            })?;
            let key = entry
                .key
                .as_deref()
                .map(|k| {
                    k.parse::<HubId>().map_err(|e| {
                        let k = maillage_core::excerpt::Excerpt::of(k);
                        anyhow::anyhow!(
                            "{}",
                            maillage_core::tr!(
                                "pair {address} : clé {k} : {e}",
                                "peer {address}: key {k}: {e}"
                            )
                        )
                    })
                })
                .transpose()?;
            let tls = crate::config::peer_tls(entry, &address).map_err(|e| {
                anyhow::anyhow!(
                    "{}",
                    maillage_core::tr!("pair {address} : {e}", "peer {address}: {e}")
                )
            })?;
            Ok(PeerConfig { address, key, tls })
        })
        .collect()
}

/// Runs the daemon on `listener` until `shutdown` resolves.
pub async fn run(
    node: Arc<Node>,
    config: ServeConfig,
    listener: tokio::net::TcpListener,
    connector: Arc<dyn Connector>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let local = listener.local_addr()?;
    {
        // Load and fold the views before serving anything.
        let node = node.clone();
        tokio::task::spawn_blocking(move || node.views().map(drop)).await??;
    }
    // A key an amendment admits only later (a hub joining) serves as a read replica until
    // its admission is folded.
    let role = node.member().map_or(Role::Observer, |m| m.role);
    let host = Arc::new(NodeHost {
        node: node.clone(),
        answer_claims: config.answer_claims,
        answered: Mutex::new(BTreeSet::new()),
        clock_reported: Mutex::new(BTreeMap::new()),
    });
    let replica = Replica::new(
        node.charter.clone(),
        node.secret(),
        node.store.clone() as Arc<dyn EventStore>,
        host.clone(),
        ReplicaConfig {
            heartbeat_ms: config.heartbeat_ms,
            stall_timeout_ms: config.stall_timeout_ms,
            source_fallback_ms: config.source_fallback_ms,
            ..ReplicaConfig::default()
        },
    );
    crate::init::give_next_key(&replica, &node.data_dir);
    let peers = peer_configs(&config)?;
    let http_listener = match config.http_address() {
        Some(address) => Some(tokio::net::TcpListener::bind(address).await.with_context(|| {
            maillage_core::tr!(
                "ouverture de l'écoute HTTP (tableau de bord, métriques) sur {address} : changez [serve] http dans node.toml ou donnez --http ADRESSE (ou --http off)",
                "binding the HTTP listener (dashboard, metrics) on {address}: change [serve] http in node.toml or pass --http ADDR (or --http off)"
            )
        })?),
        None => None,
    };
    let http = http_listener.as_ref().map(|l| l.local_addr()).transpose()?;
    let daemon = Arc::new(Daemon {
        replica: replica.clone(),
        peers: peers.clone(),
        connector: connector.clone(),
        clients: tokio::sync::Mutex::new(BTreeMap::new()),
        runtime: tokio::runtime::Handle::current(),
        listen: local.to_string(),
        http: http.map(|a| a.to_string()),
    });
    let gate = crate::guard::authoring_gate(&node, &config, &peers);
    node.set_gate(gate.clone());
    let app = App::serving(node.clone(), daemon.clone());
    let pinned = peers
        .iter()
        .filter_map(|p| p.key.map(|key| (p.address.clone(), key)))
        .collect();
    let metrics = crate::web::Metrics::new(node.clone(), replica.clone(), pinned);
    // Feeds already dated ahead of this machine's clock are reported at start too.
    host.report_clocks_ahead(node.store.head_hlcs());
    // Claims that arrived while the node was down are answered now.
    if config.answer_claims && role == Role::Hub {
        let host = host.clone();
        tokio::task::spawn_blocking(move || match host.node.views() {
            Ok(mut views) => host.answer_claims(&mut views),
            Err(error) => tracing::error!(%error, "folding the views failed"),
        })
        .await?;
        replica.notify();
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    // On the signal: end the streams this node serves and stop its links, so that the server's
    // graceful shutdown is not held open by long-lived pulls.
    let shutdown = {
        let replica = replica.clone();
        let stop_tx = stop_tx.clone();
        async move {
            shutdown.await;
            replica.begin_shutdown();
            let _ = stop_tx.send(true);
        }
    };
    let mut links = Vec::new();
    for peer in peers {
        links.push(tokio::spawn(run_link(
            replica.clone(),
            peer,
            connector.clone(),
            stop_rx.clone(),
        )));
    }
    // The gate opens once a peer confirmed this node's own feed; claims that waited are then
    // answered.
    let confirm = (!gate.is_open()).then(|| {
        let (replica, gate, host) = (replica.clone(), gate.clone(), host.clone());
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    biased;
                    _ = stop.changed() => return,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
                let Some(reason) = crate::guard::own_feed_confirmed(&replica) else {
                    continue;
                };
                if gate.open(reason.clone()) {
                    tracing::info!(%reason, "this node may sign: a peer confirmed its own feed");
                }
                if let Err(error) = maillage_app::backup::clear_restored(&host.node.data_dir) {
                    tracing::warn!(%error, "could not remove the restored-backup marker");
                }
                if host.answer_claims {
                    let host = host.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        if let Ok(mut views) = host.node.views() {
                            host.answer_claims(&mut views);
                        }
                    })
                    .await;
                    replica.notify();
                }
                return;
            }
        })
    });
    // Events that waited beyond the fold's buffer, and own events authored by commands, are
    // folded on a timer too.
    let refold = {
        let node = node.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    biased;
                    _ = stop.changed() => return,
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                }
                let node = node.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    if let Err(error) = node.views() {
                        tracing::error!(%error, "folding stored events failed");
                    }
                })
                .await;
            }
        })
    };

    // The operator's commands arrive on a Unix socket in the data dir, owner only: never on
    // a TCP listener.
    let (admin_listener, admin_owner) = crate::admin::bind(&node.data_dir)?;
    let admin = crate::admin::socket_path(&node.data_dir);
    let admin_shown = std::fs::canonicalize(&admin).unwrap_or_else(|_| admin.clone());
    let admin_server = {
        let service = crate::admin::AdminService::new(app.clone());
        let mut stop = stop_rx.clone();
        tokio::spawn(
            Server::builder()
                .layer(metrics.grpc_layer("admin"))
                .add_service(service.server())
                .serve_with_incoming_shutdown(
                    crate::admin::incoming(admin_listener, admin_owner),
                    async move {
                        let _ = stop.wait_for(|stopped| *stopped).await;
                    },
                ),
        )
    };
    // The dashboard and metrics, stopped with the command listener.
    let web_server = http_listener.map(|listener| {
        let web = crate::web::Web::new(app.clone(), metrics.clone());
        let mut stop = stop_rx.clone();
        tokio::spawn(crate::web::serve(listener, web, async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        }))
    });
    let addr_path = node.data_dir.serve_addr_path();
    let mut addr_text = format!("federation {local}\nadmin {}\n", admin_shown.display());
    if let Some(http) = http {
        addr_text.push_str(&format!("http {http}\n"));
    }
    maillage_app::datadir::write_atomic(&addr_path, addr_text.as_bytes())
        .with_context(|| on_file(FileOp::Write, &addr_path))?;
    let http_shown = http.map_or_else(|| "off".to_owned(), |a| format!("http://{a}/"));
    tracing::info!(listen = %local, commands = %admin_shown.display(), http = %http_shown, node = %node.id().short(), role = ?role, peers = links.len(), tls = config.tls.is_some(), "serving");

    // Bounded against strangers: streams and requests per connection, HTTP/2 keepalive
    // (a dead peer is dropped), connections in all and per address, silent connections closed.
    let mut builder = maillage_sync::server::builder(&ConnectionLimits::default())
        .initial_stream_window_size(maillage_sync::client::STREAM_WINDOW_BYTES)
        .initial_connection_window_size(maillage_sync::client::CONNECTION_WINDOW_BYTES);
    if let Some(tls) = &config.tls {
        let tls =
            crate::config::load_server_tls(tls).map_err(|e| anyhow::anyhow!("[serve.tls]: {e}"))?;
        builder = builder.tls_config(tls).context("TLS configuration")?;
    }
    let query = crate::query::QueryService::new(app.clone(), replica.clone());
    let (health, health_service) = tonic_health::server::health_reporter();
    for service in SERVED {
        health
            .set_service_status(*service, tonic_health::ServingStatus::Serving)
            .await;
    }
    let reflection = || {
        SERVED
            .iter()
            .chain(&[
                "grpc.health.v1.Health",
                "grpc.reflection.v1.ServerReflection",
                "grpc.reflection.v1alpha.ServerReflection",
            ])
            .fold(
                tonic_reflection::server::Builder::configure()
                    .register_encoded_file_descriptor_set(maillage_proto::FILE_DESCRIPTOR_SET)
                    .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET),
                |builder, service| builder.with_service_name(*service),
            )
    };
    let reflection_v1 = reflection()
        .build_v1()
        .context("gRPC reflection descriptors")?;
    let reflection_v1alpha = reflection()
        .build_v1alpha()
        .context("gRPC reflection descriptors")?;
    let served = builder
        .layer(metrics.grpc_layer("federation"))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(maillage_sync::server::federation_server(replica.clone()))
        .add_service(
            QueryServer::new(query)
                .max_decoding_message_size(maillage_sync::replica::MESSAGE_BYTES_MAX),
        )
        .serve_with_incoming_shutdown(
            maillage_sync::server::incoming_limited(listener, ListenerLimits::default()),
            shutdown,
        );
    // A graceful stop waits for connections to close; a client that never answers (or a
    // hostile one) must not hold the node past a bound: then the connections are dropped.
    let served = {
        let mut stopping = stop_rx.clone();
        tokio::select! {
            served = served => served,
            () = async {
                let _ = stopping.wait_for(|stopped| *stopped).await;
                tokio::time::sleep(GRACEFUL_STOP).await;
            } => {
                tracing::warn!(
                    seconds = GRACEFUL_STOP.as_secs(),
                    "connections still open after the stop signal: closing them"
                );
                Ok(())
            }
        }
    };

    tracing::info!("shutting down: stopping links");
    let _ = stop_tx.send(true);
    for link in links {
        let _ = link.await;
    }
    let _ = refold.await;
    if let Some(confirm) = confirm {
        let _ = confirm.await;
    }
    let _ = admin_server.await;
    if let Some(web_server) = web_server
        && let Ok(Err(error)) = web_server.await
    {
        tracing::warn!(%error, "the HTTP listener failed");
    }
    let _ = std::fs::remove_file(&addr_path);
    let _ = std::fs::remove_file(&admin);
    {
        let node = node.clone();
        tokio::task::spawn_blocking(move || {
            node.erase_waiting()?;
            node.save_views()?;
            node.seal_store()
        })
        .await??;
    }
    tracing::info!("stopped");
    served.context("serving")?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called (inside a
/// runtime), not when the future is first polled: a signal that arrives while the node is
/// still starting then stops it cleanly instead of killing it.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::interrupt()).and_then(|i| Ok((i, signal(SignalKind::terminate())?)))
    };
    async move {
        #[cfg(unix)]
        match signals {
            Ok((mut interrupt, mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot watch SIGTERM: only Ctrl-C stops the node cleanly");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("signal received");
    }
}

/// `maillage serve`: binds, runs until a signal.
pub fn serve_blocking(node: Node, config: ServeConfig) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("maillage")
        .build()?;
    let node = Arc::new(node);
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .with_context(|| {
                let listen = &config.listen;
                maillage_core::tr!("écoute sur {listen}", "listening on {listen}")
            })?;
        // A peer whose TLS setting does not match its port is told so (`probe`).
        let connector = probe::ExplainingConnector::new(Arc::new(TcpConnector::default()));
        run(
            node,
            config,
            listener,
            Arc::new(connector),
            shutdown_signal(),
        )
        .await
    })
}

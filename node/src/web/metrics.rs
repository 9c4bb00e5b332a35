//! `GET /metrics`: the node's figures in the Prometheus / OpenMetrics text exposition, encoded
//! by `prometheus-client`.
//!
//! Two kinds of metric:
//! - read at each scrape from what the node already keeps (the replica's counters and peer
//!   states, the store's frontier and fork proofs, the live ledger's pending events, domain
//!   rejections and open claims): a [`Collector`], so nothing is copied on the hot paths;
//! - measured here: the latency of every gRPC request, per listener and method, by a tower
//!   layer on both tonic servers of `maillage serve` ([`GrpcMetricsLayer`]).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `maillage_node_info` | info | `node`, `name`, `role`, `federation` |
//! | `maillage_uptime_seconds` | gauge | |
//! | `maillage_events_appended_total` | counter | (own events signed by this process) |
//! | `maillage_events_received_total` | counter | (from peers, whatever became of them) |
//! | `maillage_events_replicated_total` | counter | (from peers, newly stored) |
//! | `maillage_events_rejected_total` | counter | `reason` |
//! | `maillage_events_stored` | gauge | |
//! | `maillage_events_pending` | gauge | (stored, waiting for their deps) |
//! | `maillage_domain_rejections` | gauge | (stored, without effect) |
//! | `maillage_feed_seq` | gauge | `feed`, `author` |
//! | `maillage_feed_clock_ahead_seconds` | gauge | `feed`, `author` (last event dated ahead of this node's clock) |
//! | `maillage_feed_damaged_events` | gauge | `feed`, `author` (damaged on disk, to fetch again) |
//! | `maillage_forks` | gauge | (fork proofs held: frozen feeds) |
//! | `maillage_forks_detected_total` | counter | |
//! | `maillage_claims_pending` | gauge | `side` = `to_answer` / `awaiting_answer` |
//! | `maillage_handshakes_incompatible_total` | counter | (peers offering no protocol version this node implements) |
//! | `maillage_peer_state` | gauge (1 for the current state) | `peer`, `name`, `state` |
//! | `maillage_peer_protocol_version` | gauge (0: none agreed) | `peer`, `name` |
//! | `maillage_peer_unsupported_version_events` | gauge | `peer`, `name`, `version` (refused: of a protocol version this node does not implement) |
//! | `maillage_peer_lag_events` | gauge | `peer`, `name`, `feed` |
//! | `maillage_peer_events_received_total` | counter | `peer`, `name` |
//! | `maillage_peer_events_rejected_total` | counter | `peer`, `name` |
//! | `maillage_peer_last_contact_timestamp_seconds` | gauge | `peer`, `name` |
//! | `maillage_grpc_request_duration_seconds` | histogram | `listener`, `method` |

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use maillage_core::{HubId, Role};
use maillage_store::EventStore;
use maillage_sync::{PeerState, Replica};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeGaugeValue, EncodeLabelSet, NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use tonic::codegen::http;

use maillage_app::node::Node;

/// The content type of the exposition (OpenMetrics text, which Prometheus scrapes).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds (seconds) of the gRPC latency buckets: from a tenth of a millisecond (a
/// loopback call) to ten seconds (a large catch-up batch on a slow link).
const GRPC_BUCKETS_SECONDS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Distinct gRPC method labels kept, at most: the path of a request comes from the client,
/// so beyond this (and for any method the server does not implement) requests are counted
/// under `method="other"`.
pub const GRPC_METHODS_MAX: usize = 64;

/// Peer states a link reports (see `maillage_sync::client`); each is exported, 0 or 1, so
/// that an alert can test for "not live" without knowing the current state.
const PEER_STATES: [&str; 7] = [
    "connecting",
    "catching-up",
    "live",
    "backing-off",
    "incompatible-protocol",
    "stopped",
    "pulling-from-us",
];

/// The labels of one gRPC latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrpcLabels {
    /// `federation` (peers and clients) or `admin` (the operator's command socket).
    listener: &'static str,
    /// The gRPC path, e.g. `/maillage.v1.Federation/Pull`.
    method: String,
}

fn grpc_histogram() -> Histogram {
    Histogram::new(GRPC_BUCKETS_SECONDS)
}

type GrpcHistograms = Family<GrpcLabels, Histogram, fn() -> Histogram>;

/// The registry of a serving node.
pub struct Metrics {
    registry: Registry,
    grpc: GrpcHistograms,
    /// gRPC methods given their own label so far (bounded by [`GRPC_METHODS_MAX`]).
    grpc_methods: Arc<Mutex<BTreeSet<String>>>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// The metrics of `node`, replicating through `replica`.
    pub fn new(node: Arc<Node>, replica: Arc<Replica>) -> Arc<Self> {
        let mut registry = Registry::default();
        let grpc: GrpcHistograms =
            Family::new_with_constructor(grpc_histogram as fn() -> Histogram);
        registry.register_with_unit(
            "maillage_grpc_request_duration",
            "Time to answer a gRPC request, until the response starts (for a streamed pull: until the stream opens)",
            Unit::Seconds,
            grpc.clone(),
        );
        registry.register_collector(Box::new(NodeCollector { node, replica }));
        Arc::new(Self {
            registry,
            grpc,
            grpc_methods: Arc::new(Mutex::new(BTreeSet::new())),
        })
    }

    /// A tower layer timing the requests of one tonic server (`listener` names it).
    pub fn grpc_layer(&self, listener: &'static str) -> GrpcMetricsLayer {
        GrpcMetricsLayer {
            histograms: self.grpc.clone(),
            methods: self.grpc_methods.clone(),
            listener,
        }
    }

    /// The exposition. Reads the live ledger (briefly, under its lock) and the store: call it
    /// from a blocking thread.
    pub fn encode(&self) -> Result<String, fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// Reads the node's figures at each scrape.
struct NodeCollector {
    node: Arc<Node>,
    replica: Arc<Replica>,
}

impl fmt::Debug for NodeCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeCollector").finish_non_exhaustive()
    }
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: impl EncodeGaugeValue,
) -> fmt::Result {
    encoder
        .encode_descriptor(name, help, unit, MetricType::Gauge)?
        .encode_gauge(&value)
}

fn counter(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> fmt::Result {
    encoder
        .encode_descriptor(name, help, None, MetricType::Counter)?
        .encode_counter::<NoLabelSet, _, u64>(&value, None)
}

/// One of a peer's counts.
type PeerCount = fn(&PeerState) -> u64;

/// Figures read from the live ledger, under its lock.
#[derive(Debug, Default)]
struct LedgerFigures {
    pending: usize,
    domain_rejections: usize,
    claims_to_answer: u64,
    claims_awaiting: u64,
}

impl NodeCollector {
    fn ledger_figures(&self) -> LedgerFigures {
        let Ok(ledger) = self.node.views() else {
            return LedgerFigures::default();
        };
        let me = self.node.id();
        let mut figures = LedgerFigures {
            pending: ledger.pending_count(),
            domain_rejections: ledger.rejections().len(),
            ..LedgerFigures::default()
        };
        let membership = ledger.membership();
        for claim in ledger.claims().values().filter(|c| c.accepted.is_none()) {
            if membership.same_member(&claim.claimant, &me) {
                figures.claims_awaiting += 1;
            } else if ledger
                .voucher(&claim.serial)
                .is_some_and(|v| membership.same_member(&v.owner, &me))
            {
                figures.claims_to_answer += 1;
            }
        }
        figures
    }

    fn member_name(&self, key: &HubId) -> String {
        self.node
            .charter
            .member(key)
            .map_or_else(|| key.short(), |m| m.name.clone())
    }

    fn encode_peers(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        let peers = self.replica.peers();
        let frontier = self.node.store.frontier();
        let name_of = |peer: &PeerState| peer.key.map(|k| self.member_name(&k)).unwrap_or_default();
        {
            let mut m = encoder.encode_descriptor(
                "maillage_peer_state",
                "State of each peer link (1 for the current state, 0 for the others)",
                None,
                MetricType::Gauge,
            )?;
            for (label, peer) in &peers {
                let name = name_of(peer);
                let mut states: BTreeSet<&str> = PEER_STATES.into_iter().collect();
                states.insert(peer.state.as_str());
                for state in states.into_iter().filter(|s| !s.is_empty()) {
                    let value = i64::from(state == peer.state);
                    m.encode_family(&[
                        ("peer", label.as_str()),
                        ("name", name.as_str()),
                        ("state", state),
                    ])?
                    .encode_gauge(&value)?;
                }
            }
        }
        {
            let mut m = encoder.encode_descriptor(
                "maillage_peer_lag_events",
                "Events a peer holds (as it said or sent) that this node does not, per feed",
                None,
                MetricType::Gauge,
            )?;
            for (label, peer) in &peers {
                let name = name_of(peer);
                for (author, seq) in &peer.heads {
                    let held = frontier.get(author).map_or(0, |h| h.seq);
                    let lag = seq.saturating_sub(held) as i64;
                    let feed = self.member_name(author);
                    m.encode_family(&[
                        ("peer", label.as_str()),
                        ("name", name.as_str()),
                        ("feed", feed.as_str()),
                    ])?
                    .encode_gauge(&lag)?;
                }
            }
        }
        {
            let mut m = encoder.encode_descriptor(
                "maillage_peer_protocol_version",
                "Protocol version agreed with a peer at the last handshake (0: none agreed yet, or the peer offers no version this node implements)",
                None,
                MetricType::Gauge,
            )?;
            for (label, peer) in &peers {
                let name = name_of(peer);
                m.encode_family(&[("peer", label.as_str()), ("name", name.as_str())])?
                    .encode_gauge(&i64::from(peer.protocol_version))?;
            }
        }
        {
            let mut m = encoder.encode_descriptor(
                "maillage_peer_unsupported_version_events",
                "Events received from a peer and refused because this node does not implement their protocol version (upgrade maillage)",
                None,
                MetricType::Gauge,
            )?;
            for (label, peer) in &peers {
                let name = name_of(peer);
                let mut by_version: BTreeMap<u32, u64> = BTreeMap::new();
                for u in &peer.unsupported {
                    *by_version.entry(u.version).or_default() += u.count;
                }
                for (version, count) in by_version {
                    let version = version.to_string();
                    m.encode_family(&[
                        ("peer", label.as_str()),
                        ("name", name.as_str()),
                        ("version", version.as_str()),
                    ])?
                    .encode_gauge(&(count as i64))?;
                }
            }
        }
        let per_peer: [(&str, &str, PeerCount); 2] = [
            (
                "maillage_peer_events_received",
                "Events received from a peer",
                |p| p.events_received,
            ),
            (
                "maillage_peer_events_rejected",
                "Events received from a peer and refused",
                |p| p.events_rejected,
            ),
        ];
        for (metric, help, value) in per_peer {
            let mut m = encoder.encode_descriptor(metric, help, None, MetricType::Counter)?;
            for (label, peer) in &peers {
                let name = name_of(peer);
                m.encode_family(&[("peer", label.as_str()), ("name", name.as_str())])?
                    .encode_counter::<NoLabelSet, _, u64>(&value(peer), None)?;
            }
        }
        let mut m = encoder.encode_descriptor(
            "maillage_peer_last_contact_timestamp_seconds",
            "When a peer last sent something (Unix time)",
            None,
            MetricType::Gauge,
        )?;
        for (label, peer) in peers.iter().filter(|(_, p)| p.last_contact_ms > 0) {
            let name = name_of(peer);
            m.encode_family(&[("peer", label.as_str()), ("name", name.as_str())])?
                .encode_gauge(&(peer.last_contact_ms as f64 / 1000.0))?;
        }
        Ok(())
    }
}

impl Collector for NodeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let node = &self.node;
        let me = node.id();
        let member = node.charter.member(&me);
        let role = match member.map(|m| m.role) {
            Some(Role::Hub) => "hub",
            Some(Role::Observer) => "observer",
            None => "unknown",
        };
        let name = member.map(|m| m.name.clone()).unwrap_or_default();
        let key = me.to_string();
        encoder
            .encode_descriptor(
                "maillage_node",
                "This node: its key, name, role and federation",
                None,
                MetricType::Info,
            )?
            .encode_info(&[
                ("node", key.as_str()),
                ("name", name.as_str()),
                ("role", role),
                ("federation", node.charter.name()),
            ])?;
        gauge(
            &mut encoder,
            "maillage_uptime",
            "Time since the node started serving",
            Some(&Unit::Seconds),
            self.replica.uptime_ms() as f64 / 1000.0,
        )?;

        counter(
            &mut encoder,
            "maillage_events_appended",
            "Own events signed and stored by this process (commands, claim answers, transfers)",
            node.events_appended(),
        )?;
        let counters = self.replica.counters();
        counter(
            &mut encoder,
            "maillage_events_received",
            "Events received from peers, whatever became of them",
            counters.events_received,
        )?;
        counter(
            &mut encoder,
            "maillage_events_replicated",
            "Events received from peers and newly stored",
            counters.events_stored,
        )?;
        {
            let mut m = encoder.encode_descriptor(
                "maillage_events_rejected",
                "Events (and fork proofs) from peers refused, by reason",
                None,
                MetricType::Counter,
            )?;
            for (class, count) in &counters.rejected {
                m.encode_family(&[("reason", class.as_str())])?
                    .encode_counter::<NoLabelSet, _, u64>(count, None)?;
            }
        }

        let frontier = node.store.frontier();
        gauge(
            &mut encoder,
            "maillage_events_stored",
            "Events in this node's store, all feeds",
            None,
            node.store.event_count(),
        )?;
        {
            let mut m = encoder.encode_descriptor(
                "maillage_feed_seq",
                "Last sequence number held, per feed",
                None,
                MetricType::Gauge,
            )?;
            for (author, head) in &frontier {
                let feed = self.member_name(author);
                let short = author.short();
                m.encode_family(&[("feed", feed.as_str()), ("author", short.as_str())])?
                    .encode_gauge(&(head.seq as i64))?;
            }
        }
        {
            let hlcs = node.store.head_hlcs();
            let now_ms = node.clock().now_ms();
            let mut m = encoder.encode_descriptor(
                "maillage_feed_clock_ahead",
                "How far each feed's last event is dated ahead of this node's clock (0 when it is not): a member whose clock runs fast",
                Some(&Unit::Seconds),
                MetricType::Gauge,
            )?;
            for (author, hlc) in &hlcs {
                let feed = self.member_name(author);
                let short = author.short();
                let ahead_ms = maillage_core::hlc::hlc_millis(*hlc).saturating_sub(now_ms);
                m.encode_family(&[("feed", feed.as_str()), ("author", short.as_str())])?
                    .encode_gauge(&(ahead_ms as f64 / 1000.0))?;
            }
        }
        {
            let mut m = encoder.encode_descriptor(
                "maillage_feed_damaged_events",
                "Events of a feed found damaged on disk and not yet fetched back from peers",
                None,
                MetricType::Gauge,
            )?;
            for (author, damage) in node.store.damaged() {
                let feed = self.member_name(&author);
                let short = author.short();
                let count = damage.held_until.saturating_sub(damage.from_seq) + 1;
                m.encode_family(&[("feed", feed.as_str()), ("author", short.as_str())])?
                    .encode_gauge(&(count as i64))?;
            }
        }
        gauge(
            &mut encoder,
            "maillage_forks",
            "Fork proofs held: feeds frozen because their author signed two events at one position",
            None,
            node.store.forks().len(),
        )?;
        counter(
            &mut encoder,
            "maillage_forks_detected",
            "Forks found by this process or learnt from a peer's proof",
            counters.forks_detected,
        )?;
        counter(
            &mut encoder,
            "maillage_handshakes_incompatible",
            "Handshakes refused because the peer offers no protocol version this node implements",
            counters.handshakes_incompatible,
        )?;

        let figures = self.ledger_figures();
        gauge(
            &mut encoder,
            "maillage_events_pending",
            "Stored events waiting for the events they depend on before they are folded",
            None,
            figures.pending,
        )?;
        gauge(
            &mut encoder,
            "maillage_domain_rejections",
            "Stored events kept without effect because they broke a domain rule",
            None,
            figures.domain_rejections,
        )?;
        {
            let mut m = encoder.encode_descriptor(
                "maillage_claims_pending",
                "Claims not answered yet: on this hub's vouchers (to_answer), and this hub's own claims on other hubs' vouchers (awaiting_answer)",
                None,
                MetricType::Gauge,
            )?;
            m.encode_family(&[("side", "to_answer")])?
                .encode_gauge(&(figures.claims_to_answer as i64))?;
            m.encode_family(&[("side", "awaiting_answer")])?
                .encode_gauge(&(figures.claims_awaiting as i64))?;
        }
        self.encode_peers(&mut encoder)
    }
}

/// Times the requests of a tonic server (see [`Metrics::grpc_layer`]).
#[derive(Debug, Clone)]
pub struct GrpcMetricsLayer {
    histograms: GrpcHistograms,
    methods: Arc<Mutex<BTreeSet<String>>>,
    listener: &'static str,
}

impl GrpcMetricsLayer {
    fn observe(&self, path: &str, implemented: bool, seconds: f64) {
        let method = {
            let mut methods = self.methods.lock().unwrap_or_else(|p| p.into_inner());
            if implemented
                && (methods.contains(path)
                    || (methods.len() < GRPC_METHODS_MAX && methods.insert(path.to_owned())))
            {
                path.to_owned()
            } else {
                "other".to_owned()
            }
        };
        self.histograms
            .get_or_create(&GrpcLabels {
                listener: self.listener,
                method,
            })
            .observe(seconds);
    }
}

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetricsService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`GrpcMetricsLayer`] wraps around a server's routes.
#[derive(Debug, Clone)]
pub struct GrpcMetricsService<S> {
    inner: S,
    layer: GrpcMetricsLayer,
}

impl<S, RequestBody, ResponseBody> tower::Service<http::Request<RequestBody>>
    for GrpcMetricsService<S>
where
    S: tower::Service<http::Request<RequestBody>, Response = http::Response<ResponseBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<RequestBody>) -> Self::Future {
        let started = Instant::now();
        let path = request.uri().path().to_owned();
        let answer = self.inner.call(request);
        let layer = self.layer.clone();
        Box::pin(async move {
            let response = answer.await;
            // gRPC status 12 (UNIMPLEMENTED) in the response head: no such method here.
            let implemented = response.as_ref().is_ok_and(|r| {
                r.headers()
                    .get("grpc-status")
                    .is_none_or(|status| status.as_bytes() != b"12")
            });
            layer.observe(&path, implemented, started.elapsed().as_secs_f64());
            response
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn grpc_method_labels_are_bounded() {
        let grpc: GrpcHistograms =
            Family::new_with_constructor(grpc_histogram as fn() -> Histogram);
        let layer = GrpcMetricsLayer {
            histograms: grpc.clone(),
            methods: Arc::new(Mutex::new(BTreeSet::new())),
            listener: "federation",
        };
        layer.observe("/maillage.v1.Federation/Pull", true, 0.001);
        layer.observe("/maillage.v1.Federation/Pull", true, 0.002);
        layer.observe("/no.such/Method", false, 0.0001);
        for n in 0..2 * GRPC_METHODS_MAX {
            layer.observe(&format!("/x/{n}"), true, 0.0001);
        }
        let mut registry = Registry::default();
        registry.register_with_unit("t", "t", Unit::Seconds, grpc);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains(
                "t_seconds_count{listener=\"federation\",method=\"/maillage.v1.Federation/Pull\"} 2"
            ),
            "{text}"
        );
        let series = text
            .lines()
            .filter(|l| l.starts_with("t_seconds_count"))
            .count();
        assert_eq!(series, GRPC_METHODS_MAX + 1, "{text}");
        // The unimplemented path and the overflow (all but the 63 that fitted) share `other`.
        let other = GRPC_METHODS_MAX as u64 + 2;
        assert!(
            text.contains(&format!(
                "t_seconds_count{{listener=\"federation\",method=\"other\"}} {other}"
            )),
            "{text}"
        );
    }
}

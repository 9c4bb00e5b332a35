//! `GET /metrics`: the node's figures in the Prometheus text format 0.0.4, or OpenMetrics
//! when the scraper asks for it ([`format`]), encoded by `prometheus-client`.
//!
//! Three kinds of metric:
//! - read at each scrape from what the node already keeps (the replica's counters and peer
//!   states, the store's frontier and fork proofs, the live ledger's pending events, domain
//!   rejections and open claims): a [`Collector`], so nothing is copied on the hot paths;
//! - read at each scrape from the system: the process (`process_*`, from `/proc`) and the
//!   data dir's disk ([`process`]);
//! - measured here: the latency and the status code of every gRPC request, per listener and
//!   method, by a tower layer on both tonic servers of `maillage serve` ([`grpc`]).
//!
//! Peers are labelled the same way whichever side dialled: `peer` is the member's key, short
//! form (the first 8 hex digits), `name` its name in the charter, and `direction` says who
//! dialled (`outbound`: this node pulls from it; `inbound`: it pulls from this node). Until a
//! first handshake tells who answers at a dialled address, `peer` is the key pinned for it in
//! node.toml or, if none is, the address itself.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `maillage_build_info` | gauge (1) | `version`, `protocol` |
//! | `maillage_node_info` | info | `node`, `name`, `role`, `federation` |
//! | `maillage_uptime_seconds` | gauge | |
//! | `maillage_events_appended_total` | counter | (own events signed by this process) |
//! | `maillage_events_received_total` | counter | (from peers, whatever became of them) |
//! | `maillage_events_replicated_total` | counter | (from peers, newly stored) |
//! | `maillage_events_rejected_total` | counter | `reason` |
//! | `maillage_events_stored` | gauge | |
//! | `maillage_events_applied` | gauge | (stored and folded into the views) |
//! | `maillage_events_pending` | gauge | (stored, waiting for their deps) |
//! | `maillage_domain_rejections` | gauge | (stored, without effect) |
//! | `maillage_feed_seq` | gauge | `feed`, `author` |
//! | `maillage_feed_clock_ahead_seconds` | gauge | `feed`, `author` (last event dated ahead of this node's clock) |
//! | `maillage_feed_damaged_events` | gauge | `feed`, `author` (damaged on disk, to fetch again) |
//! | `maillage_forks` | gauge | (fork proofs held: frozen feeds) |
//! | `maillage_forks_detected_total` | counter | |
//! | `maillage_claims_pending` | gauge | `side` = `to_answer` / `awaiting_answer` |
//! | `maillage_handshakes_incompatible_total` | counter | (peers offering no protocol version this node implements) |
//! | `maillage_claims_oldest_pending_timestamp_seconds` | gauge | `side` (the day of the oldest, midnight UTC) |
//! | `maillage_peer_state` | gauge (1 for the current state) | `peer`, `name`, `direction`, `state` |
//! | `maillage_peer_protocol_version` | gauge (0: none agreed) | `peer`, `name`, `direction` |
//! | `maillage_peer_unsupported_version_events` | gauge | `peer`, `name`, `direction`, `version` (refused: of a protocol version this node does not implement) |
//! | `maillage_peer_lag_events` | gauge | `peer`, `name`, `direction`, `feed` |
//! | `maillage_peer_events_received_total` | counter | `peer`, `name`, `direction` |
//! | `maillage_peer_events_rejected_total` | counter | `peer`, `name`, `direction` |
//! | `maillage_peer_last_contact_timestamp_seconds` | gauge | `peer`, `name`, `direction` |
//! | `maillage_grpc_request_duration_seconds` | histogram | `listener`, `method` |
//! | `maillage_grpc_requests_total` | counter | `listener`, `method`, `code` |
//! | `maillage_data_dir_size_bytes` | gauge | (the data dir's files, on disk) |
//! | `maillage_data_dir_filesystem_size_bytes` | gauge | (the file system holding it) |
//! | `maillage_data_dir_filesystem_avail_bytes` | gauge | (free for the node's account) |
//! | `process_cpu_seconds_total` | counter | |
//! | `process_resident_memory_bytes`, `process_virtual_memory_bytes` | gauge | |
//! | `process_open_fds`, `process_max_fds`, `process_threads` | gauge | |
//! | `process_start_time_seconds` | gauge | |

pub mod format;
pub mod grpc;
pub mod process;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use maillage_core::{HubId, Role};
use maillage_store::EventStore;
use maillage_sync::{PeerState, Replica};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeGaugeValue, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use maillage_app::node::Node;

pub use format::Format;
pub use grpc::{GRPC_METHODS_MAX, GrpcMetricsLayer};
use grpc::{GrpcCounters, GrpcHistograms};

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

/// The registry of a serving node.
pub struct Metrics {
    registry: Registry,
    grpc: GrpcHistograms,
    grpc_codes: GrpcCounters,
    /// gRPC methods given their own label so far (bounded by [`GRPC_METHODS_MAX`]).
    grpc_methods: Arc<Mutex<BTreeSet<String>>>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// The metrics of `node`, replicating through `replica`; `pinned` holds the key node.toml
    /// pins for a peer address, which labels that link until a handshake names its key.
    pub fn new(
        node: Arc<Node>,
        replica: Arc<Replica>,
        pinned: BTreeMap<String, HubId>,
    ) -> Arc<Self> {
        let mut registry = Registry::default();
        let grpc: GrpcHistograms =
            Family::new_with_constructor(grpc::grpc_histogram as fn() -> Histogram);
        registry.register_with_unit(
            "maillage_grpc_request_duration",
            "Time to answer a gRPC request, until the response starts (for a streamed pull: until the stream opens)",
            Unit::Seconds,
            grpc.clone(),
        );
        let grpc_codes = GrpcCounters::default();
        registry.register(
            "maillage_grpc_requests",
            "gRPC requests answered, by the status code they ended with (a streamed pull counts when its stream closes; CANCELLED: the caller left first)",
            grpc_codes.clone(),
        );
        registry.register_collector(Box::new(NodeCollector {
            node,
            replica,
            pinned,
        }));
        Arc::new(Self {
            registry,
            grpc,
            grpc_codes,
            grpc_methods: Arc::new(Mutex::new(BTreeSet::new())),
        })
    }

    /// A tower layer timing and counting the requests of one tonic server (`listener` names
    /// it).
    pub fn grpc_layer(&self, listener: &'static str) -> GrpcMetricsLayer {
        GrpcMetricsLayer {
            histograms: self.grpc.clone(),
            counters: self.grpc_codes.clone(),
            methods: self.grpc_methods.clone(),
            listener,
        }
    }

    /// The exposition in `format`. Reads the live ledger (briefly, under its lock), the store
    /// and the data dir: call it from a blocking thread.
    pub fn encode(&self, format: Format) -> Result<String, fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(match format {
            Format::OpenMetrics => text,
            Format::Prometheus => format::to_prometheus(&text),
        })
    }
}

/// Reads the node's figures at each scrape.
struct NodeCollector {
    node: Arc<Node>,
    replica: Arc<Replica>,
    pinned: BTreeMap<String, HubId>,
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
    applied: u64,
    pending: usize,
    domain_rejections: usize,
    claims_to_answer: u64,
    claims_awaiting: u64,
    /// The day (days since 1970-01-01) of the oldest claim not answered, per side.
    oldest_to_answer: Option<i32>,
    oldest_awaiting: Option<i32>,
}

impl NodeCollector {
    fn ledger_figures(&self) -> LedgerFigures {
        let Ok(ledger) = self.node.views() else {
            return LedgerFigures::default();
        };
        let me = self.node.id();
        let mut figures = LedgerFigures {
            applied: ledger.applied_count(),
            pending: ledger.pending_count(),
            domain_rejections: ledger.rejections().len(),
            ..LedgerFigures::default()
        };
        let membership = ledger.membership();
        let older = |oldest: &mut Option<i32>, day: i32| {
            *oldest = Some(oldest.map_or(day, |o| o.min(day)));
        };
        for claim in ledger.unanswered_claims() {
            if membership.same_member(&claim.claimant, &me) {
                figures.claims_awaiting += 1;
                older(&mut figures.oldest_awaiting, claim.date.0);
            } else if ledger
                .voucher(&claim.serial)
                .is_some_and(|v| membership.same_member(&v.owner, &me))
            {
                figures.claims_to_answer += 1;
                older(&mut figures.oldest_to_answer, claim.date.0);
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

    /// Every peer entry of the replica with its labels: `peer` (the member's key, short
    /// form), `name`, `direction`.
    fn peer_labels(&self) -> Vec<([String; 2], &'static str, PeerState)> {
        let mut seen = BTreeSet::new();
        let mut labelled = Vec::new();
        for (entry, peer) in self.replica.peers() {
            let outbound = !peer.address.is_empty();
            let direction = if outbound { "outbound" } else { "inbound" };
            let key = peer.key.or_else(|| self.pinned.get(&peer.address).copied());
            let (mut label, name) = match key {
                Some(key) => (
                    key.short(),
                    self.node
                        .charter
                        .member(&key)
                        .map(|m| m.name.clone())
                        .unwrap_or_default(),
                ),
                None if outbound => (peer.address.clone(), String::new()),
                None => (entry, String::new()),
            };
            // Two addresses dialled that reach the same member: the second keeps its address,
            // so no two series share their labels.
            if !seen.insert((label.clone(), direction)) {
                label = peer.address.clone();
                seen.insert((label.clone(), direction));
            }
            labelled.push(([label, name], direction, peer));
        }
        labelled
    }

    fn encode_peers(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        let peers = self.peer_labels();
        let frontier = self.node.store.frontier();
        {
            let mut m = encoder.encode_descriptor(
                "maillage_peer_state",
                "State of each peer link (1 for the current state, 0 for the others)",
                None,
                MetricType::Gauge,
            )?;
            for ([label, name], direction, peer) in &peers {
                let mut states: BTreeSet<&str> = PEER_STATES.into_iter().collect();
                states.insert(peer.state.as_str());
                for state in states.into_iter().filter(|s| !s.is_empty()) {
                    let value = i64::from(state == peer.state);
                    m.encode_family(&[
                        ("peer", label.as_str()),
                        ("name", name.as_str()),
                        ("direction", direction),
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
            for ([label, name], direction, peer) in &peers {
                for (author, seq) in &peer.heads {
                    let held = frontier.get(author).map_or(0, |h| h.seq);
                    let lag = i64::try_from(seq.saturating_sub(held)).unwrap_or(i64::MAX);
                    let feed = self.member_name(author);
                    m.encode_family(&[
                        ("peer", label.as_str()),
                        ("name", name.as_str()),
                        ("direction", direction),
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
            for ([label, name], direction, peer) in &peers {
                m.encode_family(&[
                    ("peer", label.as_str()),
                    ("name", name.as_str()),
                    ("direction", direction),
                ])?
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
            for ([label, name], direction, peer) in &peers {
                let mut by_version: BTreeMap<u32, u64> = BTreeMap::new();
                for u in &peer.unsupported {
                    *by_version.entry(u.version).or_default() += u.count;
                }
                for (version, count) in by_version {
                    let version = version.to_string();
                    m.encode_family(&[
                        ("peer", label.as_str()),
                        ("name", name.as_str()),
                        ("direction", direction),
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
            for ([label, name], direction, peer) in &peers {
                m.encode_family(&[
                    ("peer", label.as_str()),
                    ("name", name.as_str()),
                    ("direction", direction),
                ])?
                .encode_counter::<NoLabelSet, _, u64>(&value(peer), None)?;
            }
        }
        let mut m = encoder.encode_descriptor(
            "maillage_peer_last_contact_timestamp_seconds",
            "When a peer last sent something (Unix time)",
            None,
            MetricType::Gauge,
        )?;
        for ([label, name], direction, peer) in
            peers.iter().filter(|(_, _, p)| p.last_contact_ms > 0)
        {
            m.encode_family(&[
                ("peer", label.as_str()),
                ("name", name.as_str()),
                ("direction", direction),
            ])?
            .encode_gauge(&(peer.last_contact_ms as f64 / 1000.0))?;
        }
        Ok(())
    }

    /// `process_*` (from `/proc`) and the data dir's disk.
    fn encode_system(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        if let Some(p) = process::read() {
            encoder
                .encode_descriptor(
                    "process_cpu",
                    "User and system CPU time spent",
                    Some(&Unit::Seconds),
                    MetricType::Counter,
                )?
                .encode_counter::<NoLabelSet, _, u64>(&p.cpu_seconds, None)?;
            gauge(
                encoder,
                "process_resident_memory",
                "Resident memory size",
                Some(&Unit::Bytes),
                p.resident_bytes as i64,
            )?;
            gauge(
                encoder,
                "process_virtual_memory",
                "Virtual memory size",
                Some(&Unit::Bytes),
                p.virtual_bytes as i64,
            )?;
            gauge(
                encoder,
                "process_open_fds",
                "Open file descriptors",
                None,
                p.open_fds as i64,
            )?;
            if let Some(max) = p.max_fds {
                gauge(
                    encoder,
                    "process_max_fds",
                    "Maximum number of open file descriptors (the soft limit)",
                    None,
                    max as i64,
                )?;
            }
            gauge(
                encoder,
                "process_threads",
                "Threads",
                None,
                p.threads as i64,
            )?;
            gauge(
                encoder,
                "process_start_time",
                "When the process started (Unix time)",
                Some(&Unit::Seconds),
                p.start_time_seconds,
            )?;
        }
        let disk = process::disk(self.node.data_dir.root());
        gauge(
            encoder,
            "maillage_data_dir_size",
            "Disk space the data dir's files occupy (store, index, views)",
            Some(&Unit::Bytes),
            disk.data_dir_bytes as i64,
        )?;
        if let (Some(size), Some(avail)) = (disk.filesystem_size_bytes, disk.filesystem_avail_bytes)
        {
            gauge(
                encoder,
                "maillage_data_dir_filesystem_size",
                "Size of the file system holding the data dir",
                Some(&Unit::Bytes),
                size as i64,
            )?;
            gauge(
                encoder,
                "maillage_data_dir_filesystem_avail",
                "Space left for the node on the file system holding the data dir",
                Some(&Unit::Bytes),
                avail as i64,
            )?;
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
        let protocol = maillage_core::envelope::PROTOCOL_VERSION.to_string();
        encoder
            .encode_descriptor(
                "maillage_build_info",
                "The running build (value 1): its version and the protocol version it speaks",
                None,
                MetricType::Gauge,
            )?
            .encode_family(&[
                ("version", env!("CARGO_PKG_VERSION")),
                ("protocol", protocol.as_str()),
            ])?
            .encode_gauge(&1)?;
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
            "maillage_events_applied",
            "Stored events folded into the views (their rules applied, with or without effect)",
            None,
            figures.applied as i64,
        )?;
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
        {
            let mut m = encoder.encode_descriptor(
                "maillage_claims_oldest_pending_timestamp",
                "Day of the oldest claim not answered yet (midnight UTC, Unix time), per side; absent when none waits",
                Some(&Unit::Seconds),
                MetricType::Gauge,
            )?;
            for (side, day) in [
                ("to_answer", figures.oldest_to_answer),
                ("awaiting_answer", figures.oldest_awaiting),
            ] {
                if let Some(day) = day {
                    m.encode_family(&[("side", side)])?
                        .encode_gauge(&(i64::from(day) * 86_400))?;
                }
            }
        }
        self.encode_peers(&mut encoder)?;
        self.encode_system(&mut encoder)
    }
}

//! `maillage bench replicate`: a fresh observer catches up a generated history from a hub over
//! loopback gRPC, end to end (receive, verify, store, fold), against bare `verify_strict` and
//! the v2 signature rule's bare primitive on every core, measured in the same run; and the
//! latency of the owner-side transfer call.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use maillage_core::{HubId, Ledger, SecretKey, VerifiedEvent, pb};
use maillage_store::EventStore;
use maillage_sync::{Host, PeerClient, PeerConfig, Replica, ReplicaConfig, TcpConnector};
use rayon::prelude::*;
use serde::Serialize;

use crate::bench::median;
use maillage_app::datadir::{DataDir, NodeConfig, ServeConfig};
use maillage_app::node::Node;

/// Parameters.
#[derive(Debug, Clone)]
pub struct ReplicateBench {
    /// Events in the generated history.
    pub events: usize,
    /// Catch-ups measured (median reported).
    pub runs: usize,
    /// Owner-side transfer calls timed.
    pub transfers: usize,
    /// Workload seed.
    pub seed: u64,
    /// Hubs in the workload.
    pub hubs: usize,
}

/// What was measured.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicateSummary {
    /// Events replicated per run.
    pub events: usize,
    /// Feeds.
    pub feeds: usize,
    /// Each run's end-to-end rate (events/s).
    pub runs_per_s: Vec<f64>,
    /// Median end-to-end rate: from the observer's start to every event stored and folded.
    pub catch_up_per_s: f64,
    /// Cores busy during the catch-ups (process CPU time / wall time), median.
    pub cores_busy: f64,
    /// A plain pull of every event, no verification (the hub's serving rate), events/s.
    pub serve_only_per_s: f64,
    /// Bare `verify_strict` per second on every core (rayon), same process.
    pub verify_all_cores_per_s: f64,
    /// Bare `verify_strict` per second on one core.
    pub verify_one_core_per_s: f64,
    /// catch-up / verify on every core.
    pub ratio_all_cores: f64,
    /// The v2 rule's bare primitive (its reference, one signature at a time with a
    /// double-scalar multiplication) per second on every core, same process.
    pub rule_all_cores_per_s: f64,
    /// The same on one core.
    pub rule_one_core_per_s: f64,
    /// catch-up / the rule's bare primitive on every core.
    pub ratio_rule_all_cores: f64,
    /// The v2 rule's batch equation as replication applies it (slices of 64 signatures of one
    /// key, `maillage_core::batch`), signatures per second on every core, same process.
    pub batch_all_cores_per_s: f64,
    /// The same on one core.
    pub batch_one_core_per_s: f64,
    /// catch-up / the batch equation on every core.
    pub ratio_batch_all_cores: f64,
    /// gRPC message bytes received per event.
    pub wire_bytes_per_event: f64,
    /// Signed event bytes per event (payload + signature).
    pub signed_bytes_per_event: f64,
    /// Owner-side transfer call latency, median (ms).
    pub transfer_p50_ms: f64,
    /// 99th percentile (ms).
    pub transfer_p99_ms: f64,
    /// Read API round trips on the observer holding every event, after its last catch-up:
    /// (call, p50 ms, p99 ms).
    pub reads: Vec<(String, f64, f64)>,
    /// Digest both sides agree on.
    pub digest: String,
}

/// The hub side: serves its store, folds nothing.
#[derive(Debug)]
struct ServeOnly;

impl Host for ServeOnly {
    fn stored(&self, _: Vec<VerifiedEvent>) {}
    fn forked(&self, _: &maillage_core::Fork) {}
    fn transfer(&self, _: HubId, _: pb::TransferRequest) -> Result<VerifiedEvent, tonic::Status> {
        Err(tonic::Status::unimplemented("bench hub"))
    }
}

/// CPU time of this process so far (user + system), seconds.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some((user + system) / 100.0)
        })
        .unwrap_or(0.0)
}

/// One signature verification, as a bare primitive to measure.
type Verify = fn(&maillage_core::PublicKey, &[u8], &[u8]) -> Result<(), maillage_core::CryptoError>;

/// Bare `verify_strict` (protocol v1's rule).
const VERIFY_STRICT: Verify =
    |k, payload, signature| k.verify_strict_cofactorless(payload, signature);
/// The v2 rule's reference.
const RULE_REFERENCE: Verify =
    |k, payload, signature| k.verify_payload_reference(payload, signature);

/// The batch equation per second over a sample of `events` in slices of 64 signatures of one
/// key (a feed's events, as replication verifies them): (every core, one core).
fn batch_rates(events: &[VerifiedEvent], charter: &maillage_core::Charter) -> (f64, f64) {
    use maillage_core::batch::{PayloadSignature, verify_payloads};
    let mut sample: Vec<&VerifiedEvent> = events[..events.len().min(40_000)].iter().collect();
    sample.sort_by_key(|e| (e.author, e.seq));
    let mut slices: Vec<Vec<PayloadSignature<'_>>> = Vec::new();
    for event in &sample {
        let Some(member) = charter.member(&event.author) else {
            continue;
        };
        let signature = PayloadSignature {
            key: &member.key,
            payload: &event.signed.payload,
            signature: &event.signed.signature,
        };
        match slices.last_mut() {
            Some(slice) if slice.len() < 64 && slice[0].key.hub_id() == signature.key.hub_id() => {
                slice.push(signature)
            }
            _ => slices.push(vec![signature]),
        }
    }
    let valid = |slice: &Vec<PayloadSignature<'_>>| {
        verify_payloads(slice).iter().filter(|v| v.is_ok()).count()
    };
    let start = Instant::now();
    let accepted: usize = slices.par_iter().map(valid).sum();
    let all = sample.len() as f64 / start.elapsed().as_secs_f64();
    let one_slices = &slices[..slices.len().min(slices.len() / 4 + 1)];
    let one_count: usize = one_slices.iter().map(Vec::len).sum();
    let start = Instant::now();
    let accepted_one: usize = one_slices.iter().map(valid).sum();
    let one = one_count as f64 / start.elapsed().as_secs_f64();
    assert_eq!(accepted + accepted_one, sample.len() + one_count);
    (all, one)
}

/// `verify` per second over a sample of `events`: (every core, one core).
fn verify_rates(
    events: &[VerifiedEvent],
    charter: &maillage_core::Charter,
    verify: Verify,
) -> (f64, f64) {
    let sample = &events[..events.len().min(40_000)];
    let ok = |e: &&VerifiedEvent| {
        charter
            .member(&e.author)
            .is_some_and(|m| verify(&m.key, &e.signed.payload, &e.signed.signature).is_ok())
    };
    let start = Instant::now();
    let accepted = sample.par_iter().filter(ok).count();
    let all = sample.len() as f64 / start.elapsed().as_secs_f64();
    let one_sample = &sample[..sample.len().min(10_000)];
    let start = Instant::now();
    let accepted_one = one_sample.iter().filter(ok).count();
    let one = one_sample.len() as f64 / start.elapsed().as_secs_f64();
    assert_eq!(accepted + accepted_one, sample.len() + one_sample.len());
    (all, one)
}

pub(crate) fn node_dir(
    root: &std::path::Path,
    name: &str,
    seed: &[u8; 32],
    charter: &maillage_core::Charter,
) -> Result<DataDir> {
    let data_dir = DataDir::new(root.join(name));
    data_dir.create()?;
    data_dir.write_key(&SecretKey::from_seed(seed))?;
    data_dir.write_charter(charter)?;
    data_dir.write_config(&NodeConfig {
        name: name.into(),
        clock_max_ahead_ms: u64::MAX / 4,
        serve: ServeConfig::default(),
    })?;
    Ok(data_dir)
}

/// Runs the benchmark.
pub fn run(params: &ReplicateBench, say: &mut dyn FnMut(&str)) -> Result<ReplicateSummary> {
    say(&format!(
        "generating {} events over {} hubs…",
        params.events, params.hubs
    ));
    let workload = crate::workload::generate(params.seed, params.hubs, params.events, &mut |n| {
        say(&format!("  {n} events"))
    })?;
    let events = &workload.events;
    let charter = workload.charter.clone();
    let feeds = events
        .iter()
        .map(|e| e.author)
        .collect::<BTreeSet<_>>()
        .len();
    let signed_bytes: usize = events
        .iter()
        .map(|e| e.signed.payload.len() + e.signed.signature.len())
        .sum();
    let root = tempfile::tempdir()?;

    say("storing the history in the hub's store…");
    let hub_dir = node_dir(root.path(), "hub", &workload.seeds[0], &charter)?;
    let hub = Node::open(hub_dir)?;
    for (_, feed) in crate::workload::by_feed(events) {
        for chunk in feed.chunks(4096) {
            hub.store
                .insert(chunk.iter().map(|e| (*e).clone()).collect())?;
        }
    }
    ensure!(
        hub.store.event_count() == events.len() as u64,
        "hub store incomplete"
    );
    let expected_digest = {
        let mut ledger = Ledger::new(charter.clone());
        for event in events.iter().cloned() {
            ledger.offer(event);
        }
        hex::encode(ledger.digest())
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let hub_replica = Replica::new(
        charter.clone(),
        hub.secret(),
        hub.store.clone() as Arc<dyn EventStore>,
        Arc::new(ServeOnly),
        ReplicaConfig::default(),
    );
    let (hub_addr, hub_stop) = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let service = maillage_sync::server::federation_server(hub_replica.clone());
        let replica = hub_replica.clone();
        tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .initial_stream_window_size(maillage_sync::client::STREAM_WINDOW_BYTES)
                .initial_connection_window_size(maillage_sync::client::CONNECTION_WINDOW_BYTES)
                .add_service(service)
                .serve_with_incoming_shutdown(
                    maillage_sync::server::incoming(listener),
                    async move {
                        let _ = stop_rx.await;
                        replica.begin_shutdown();
                    },
                )
                .await;
        });
        Ok::<_, anyhow::Error>((addr, stop_tx))
    })?;

    let mut rates = Vec::new();
    let mut busy = Vec::new();
    let mut wire_bytes = 0.0;
    let mut digest = String::new();
    let mut reads = Vec::new();
    let mut verify_all = Vec::new();
    let mut verify_one = Vec::new();
    let mut rule_all = Vec::new();
    let mut rule_one = Vec::new();
    let mut batch_all = Vec::new();
    let mut batch_one = Vec::new();
    let mut measure_primitives = || {
        let v = verify_rates(events, &charter, VERIFY_STRICT);
        verify_all.push(v.0);
        verify_one.push(v.1);
        let r = verify_rates(events, &charter, RULE_REFERENCE);
        rule_all.push(r.0);
        rule_one.push(r.1);
        let b = batch_rates(events, &charter);
        batch_all.push(b.0);
        batch_one.push(b.1);
    };
    measure_primitives();
    for run in 0..params.runs.max(1) {
        say(&format!(
            "run {}: a fresh observer catches up from the hub over loopback gRPC…",
            run + 1
        ));
        let obs_dir = node_dir(
            root.path(),
            &format!("observer-{run}"),
            &crate::workload::observer_seed(params.seed),
            &charter,
        )?;
        let observer = Arc::new(Node::open(obs_dir)?);
        let config = ServeConfig {
            listen: "127.0.0.1:0".into(),
            peers: vec![maillage_app::datadir::PeerEntry {
                address: format!("http://{hub_addr}"),
                key: Some(hub.id().to_string()),
                ca: None,
                tls_domain: None,
            }],
            answer_claims: false,
            ..ServeConfig::default()
        };
        let total = events.len() as u64;
        let last = run + 1 == params.runs.max(1);
        let (rate, cores, run_digest) = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let observer_addr = listener.local_addr()?;
            let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
            let start = Instant::now();
            let cpu_start = cpu_seconds();
            let daemon = tokio::spawn(crate::serve::run(
                observer.clone(),
                config,
                listener,
                Arc::new(TcpConnector::default()),
                async move {
                    let _ = stop_rx.await;
                },
            ));
            let mut last_report = Instant::now();
            loop {
                let applied = observer.peek(|l| l.applied_count()).unwrap_or(0);
                if applied >= total {
                    break;
                }
                if last_report.elapsed() > Duration::from_secs(5) {
                    last_report = Instant::now();
                    eprintln!(
                        "  {applied} / {total} folded ({:.0} events/s)",
                        applied as f64 / start.elapsed().as_secs_f64()
                    );
                }
                ensure!(
                    start.elapsed() < Duration::from_secs(3600),
                    "catch-up too slow"
                );
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let elapsed = start.elapsed().as_secs_f64();
            let cores = (cpu_seconds() - cpu_start) / elapsed;
            let digest = observer
                .peek(|l| hex::encode(l.digest()))
                .unwrap_or_default();
            let stored = observer.store.event_count();
            if last {
                say("timing the read API on the observer…");
                let reader = SecretKey::from_seed(&workload.seeds[0]);
                reads = read_latency(observer_addr, &charter, &reader, events, params.transfers)
                    .await?;
            }
            let _ = stop_tx.send(());
            let _ = daemon.await;
            ensure!(stored == total, "observer stored {stored} of {total}");
            Ok::<_, anyhow::Error>((total as f64 / elapsed, cores, digest))
        })?;
        busy.push(cores);
        ensure!(
            run_digest == expected_digest,
            "observer digest differs from the in-memory fold"
        );
        digest = run_digest;
        rates.push(rate);
        say(&format!("  {rate:.0} events/s end to end"));
        measure_primitives();
    }

    // Bytes on the wire: a plain pull of everything, counted by a client.
    say("counting bytes on the wire…");
    let wire = runtime.block_on(async {
        let obs = Replica::new(
            charter.clone(),
            SecretKey::from_seed(&crate::workload::observer_seed(params.seed)),
            Arc::new(maillage_store::MemoryStore::in_memory(charter.clone()))
                as Arc<dyn EventStore>,
            Arc::new(ServeOnly),
            ReplicaConfig::default(),
        );
        let peer = PeerConfig {
            address: format!("http://{hub_addr}"),
            key: None,
            tls: None,
        };
        let mut client = PeerClient::connect(&obs, &peer, &TcpConnector::default()).await?;
        let frontier = client.exchange_frontier(obs.frontier_message()).await?;
        let mut stream = client
            .pull(pb::PullRequest {
                ranges: frontier
                    .heads
                    .iter()
                    .map(|h| pb::PullRange {
                        author: h.author.clone(),
                        after_seq: 0,
                    })
                    .collect(),
                batch_events_max: 0,
                follow: false,
                named_only: false,
            })
            .await?;
        let mut bytes = 0u64;
        let mut count = 0u64;
        let start = Instant::now();
        while let Some(batch) = stream.message().await? {
            bytes += prost::Message::encoded_len(&batch) as u64 + 5;
            count += batch.events.len() as u64;
        }
        let rate = count as f64 / start.elapsed().as_secs_f64();
        ensure!(count == events.len() as u64, "pulled {count} events");
        Ok::<_, anyhow::Error>((bytes as f64 / count as f64, rate))
    })?;
    wire_bytes += wire.0;
    let _ = hub_stop.send(());

    say("timing the owner-side transfer call…");
    let (p50, p99) = transfer_latency(params.transfers, root.path(), &runtime)?;

    let catch_up = median(rates.clone());
    let verify_all_cores_per_s = median(verify_all);
    let rule_all_cores_per_s = median(rule_all);
    let batch_all_cores_per_s = median(batch_all);
    Ok(ReplicateSummary {
        events: events.len(),
        feeds,
        runs_per_s: rates,
        catch_up_per_s: catch_up,
        cores_busy: median(busy),
        serve_only_per_s: wire.1,
        verify_all_cores_per_s,
        verify_one_core_per_s: median(verify_one),
        ratio_all_cores: catch_up / verify_all_cores_per_s,
        rule_all_cores_per_s,
        rule_one_core_per_s: median(rule_one),
        ratio_rule_all_cores: catch_up / rule_all_cores_per_s,
        batch_all_cores_per_s,
        batch_one_core_per_s: median(batch_one),
        ratio_batch_all_cores: catch_up / batch_all_cores_per_s,
        wire_bytes_per_event: wire_bytes,
        signed_bytes_per_event: signed_bytes as f64 / events.len() as f64,
        transfer_p50_ms: p50,
        transfer_p99_ms: p99,
        reads,
        digest,
    })
}

/// Round trips of the `Query` service on a serving node holding `events`, in a session opened
/// with `reader`'s key (a parcours needs one): a voucher's status, a person's parcours, the
/// digest; each (call, p50 ms, p99 ms).
pub(crate) async fn read_latency(
    addr: std::net::SocketAddr,
    charter: &maillage_core::Charter,
    reader: &SecretKey,
    events: &[VerifiedEvent],
    calls: usize,
) -> Result<Vec<(String, f64, f64)>> {
    use maillage_proto::v1::query_client::QueryClient;
    let serial = events
        .iter()
        .rev()
        .find_map(|e| match &e.body {
            Some(pb::event::Body::VoucherRedeemed(r)) => Some(r.serial.clone()),
            _ => None,
        })
        .context("the history redeems no voucher")?;
    let person = events
        .iter()
        .rev()
        .find_map(|e| match &e.body {
            Some(pb::event::Body::VouchersHandedOut(_)) => e.person(),
            _ => None,
        })
        .context("the history hands out no voucher")?;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let nonce: [u8; 32] = rand::random();
    let (_, token, _) =
        maillage_sync::handshake(channel.clone(), charter, reader, nonce, None).await?;
    let token: tonic::metadata::MetadataValue<tonic::metadata::Ascii> = token.parse()?;
    let mut client =
        QueryClient::with_interceptor(channel, move |mut request: tonic::Request<()>| {
            request
                .metadata_mut()
                .insert(maillage_sync::handshake::SESSION_METADATA, token.clone());
            Ok(request)
        });
    let calls = calls.max(10);
    let mut out = Vec::new();
    for kind in ["voucher status", "parcours", "digest"] {
        let mut latencies = Vec::with_capacity(calls);
        for _ in 0..calls {
            let start = Instant::now();
            match kind {
                "voucher status" => {
                    client
                        .voucher_status(pb::VoucherStatusRequest {
                            serial: serial.clone(),
                            as_of: String::new(),
                        })
                        .await?;
                }
                "parcours" => {
                    client
                        .parcours(pb::ParcoursRequest {
                            person: person.code(),
                            as_of: String::new(),
                        })
                        .await?;
                }
                _ => {
                    client.digest(pb::DigestRequest {}).await?;
                }
            }
            latencies.push(start.elapsed().as_secs_f64() * 1e3);
        }
        let (p50, p99) = crate::bench::p50_p99(&mut latencies);
        out.push((kind.to_string(), p50, p99));
    }
    Ok(out)
}

/// Two real nodes (owner and venue hub) over loopback; the venue hub asks the owner to
/// transfer one voucher at a time: each call signs, stores durably and folds on the owner.
fn transfer_latency(
    calls: usize,
    root: &std::path::Path,
    runtime: &tokio::runtime::Runtime,
) -> Result<(f64, f64)> {
    let owner_key = SecretKey::from_seed(&[0x51; 32]);
    let venue_key = SecretKey::from_seed(&[0x52; 32]);
    let charter = maillage_core::Charter::found(
        "Bench transfer",
        1,
        vec![
            maillage_core::MemberSpec {
                key: owner_key.hub_id(),
                name: "Hub du Sud".into(),
                role: maillage_core::Role::Hub,
                territories: vec!["13".into()],
            },
            maillage_core::MemberSpec {
                key: venue_key.hub_id(),
                name: "Hinaura".into(),
                role: maillage_core::Role::Hub,
                territories: vec!["69".into()],
            },
        ],
    )?;
    let owner_dir = node_dir(root, "owner", &owner_key.seed(), &charter)?;
    let venue_dir = node_dir(root, "venue", &venue_key.seed(), &charter)?;
    let owner = Arc::new(Node::open(owner_dir)?);
    let count = calls.max(10);
    let mut views = owner.views()?;
    owner.sign(
        &mut views,
        pb::event::Body::VoucherBatchIssued(pb::VoucherBatchIssued {
            batch_id: "13-2026-BENCH-01".into(),
            funder: Some(pb::Funder {
                name: "Bench".into(),
                siret: "53418890200012".into(),
            }),
            count: count as u32,
            face_value_cents: 1000,
            valid_from: "2026-01-01".into(),
            valid_until: "2099-12-31".into(),
            redeem_deadline: "2099-12-31".into(),
            ..Default::default()
        }),
    )?;
    let serials: Vec<String> = (1..=count)
        .map(|n| format!("13-2026-BENCH-01-{n}"))
        .collect();
    let person = maillage_core::PersonId([7; 16]);
    let (personal, part) =
        maillage_core::personal::seal(person, "", [7; 16]).map_err(|why| anyhow::anyhow!(why))?;
    owner.sign(
        &mut views,
        maillage_app::node::Draft {
            body: pb::event::Body::VouchersHandedOut(pb::VouchersHandedOut {
                serials: serials.clone(),
                personal: personal.to_vec(),
                prescriber: Some(pb::Prescriber {
                    kind: "CAF".into(),
                    name: "CAF 13".into(),
                }),
                date: "2026-03-02".into(),
                ..Default::default()
            }),
            personal: Some(part),
        },
    )?;
    drop(views);
    let venue = Node::open(venue_dir)?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let daemon = tokio::spawn(crate::serve::run(
            owner.clone(),
            ServeConfig {
                listen: addr.to_string(),
                answer_claims: false,
                ..ServeConfig::default()
            },
            listener,
            Arc::new(TcpConnector::default()),
            async move {
                let _ = stop_rx.await;
            },
        ));
        let venue_replica = Replica::new(
            charter.clone().into(),
            venue.secret(),
            venue.store.clone() as Arc<dyn EventStore>,
            Arc::new(ServeOnly),
            ReplicaConfig::default(),
        );
        let peer = PeerConfig {
            address: format!("http://{addr}"),
            key: Some(owner.id()),
            tls: None,
        };
        // The daemon binds before folding its views: retry the first connection briefly.
        let mut client = loop {
            match PeerClient::connect(&venue_replica, &peer, &TcpConnector::default()).await {
                Ok(client) => break client,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        let charter = venue_replica.charter.clone();
        let mut latencies = Vec::with_capacity(serials.len());
        for serial in &serials {
            let start = Instant::now();
            client
                .request_transfer(&charter, vec![serial.clone()], "v-bench".into())
                .await
                .with_context(|| format!("transfer of {serial}"))?;
            latencies.push(start.elapsed().as_secs_f64() * 1e3);
        }
        let _ = stop_tx.send(());
        let _ = daemon.await;
        Ok(crate::bench::p50_p99(&mut latencies))
    })
}

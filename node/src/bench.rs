//! `maillage bench log`: the log's throughput against the raw primitives it is built on,
//! measured in the same run on the same machine (figures are ratios, since shared machines
//! are noisy).
//!
//! - own appends (sign + encode + store + flush, in batches) vs bare `sign`/s;
//! - peer ingest (decode + envelope checks + `verify_strict` + chain + store + flush) vs bare
//!   `verify_strict`/s on one core;
//! - bytes on disk per event vs payload bytes.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use maillage_core::hlc::MAX_AHEAD_MS_DEFAULT;
use maillage_core::{
    Charter, FeedWriter, MemberSpec, PublicKey, Role, SecretKey, VerifiedEvent, pb, verify_encoded,
};
use maillage_store::{EventStore, Inserted, SledStore};
use serde::Serialize;

/// Parameters.
#[derive(Debug, Clone)]
pub struct LogBench {
    /// Events per measurement.
    pub events: usize,
    /// Repetitions (the median is reported).
    pub runs: usize,
    /// Events per durable batch.
    pub batch: usize,
}

/// One run's figures.
#[derive(Debug, Clone, Serialize)]
pub struct LogRun {
    /// Bare Ed25519 signatures per second.
    pub sign_per_s: f64,
    /// Own events appended durably per second.
    pub append_per_s: f64,
    /// Bare strict verifications per second.
    pub verify_per_s: f64,
    /// Peer events ingested durably per second.
    pub ingest_per_s: f64,
    /// Mean payload size.
    pub payload_bytes: f64,
    /// Bytes on disk per event after ingest.
    pub disk_bytes_per_event: f64,
}

impl LogRun {
    /// append / sign.
    pub fn append_ratio(&self) -> f64 {
        self.append_per_s / self.sign_per_s
    }
    /// ingest / verify.
    pub fn ingest_ratio(&self) -> f64 {
        self.ingest_per_s / self.verify_per_s
    }
    /// disk / payload.
    pub fn disk_ratio(&self) -> f64 {
        self.disk_bytes_per_event / self.payload_bytes
    }
}

/// The median of each figure over the runs.
#[derive(Debug, Clone, Serialize)]
pub struct LogSummary {
    /// Events per run.
    pub events: usize,
    /// Runs.
    pub runs: Vec<LogRun>,
    /// Median append/sign ratio (target >= 0.6).
    pub append_vs_sign: f64,
    /// Median ingest/verify ratio (target >= 0.8).
    pub ingest_vs_verify: f64,
    /// Median disk/payload ratio (target <= 2).
    pub disk_vs_payload: f64,
}

/// The median of a list (sorted copy).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The 50th and 99th percentiles of a list of latencies (sorted in place; NaN if empty).
pub fn p50_p99(values: &mut [f64]) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |rank: usize| {
        values
            .get(rank.min(values.len().saturating_sub(1)))
            .copied()
    };
    (
        at(values.len() / 2).unwrap_or(f64::NAN),
        at(values.len() * 99 / 100).unwrap_or(f64::NAN),
    )
}

/// A realistic venue record (~300 bytes encoded), numbered.
pub fn sample_record(n: usize) -> pb::VenueRecord {
    pb::VenueRecord {
        id: format!("bench-{n}"),
        pivot: "21130055300016".into(),
        nom: format!("Espace public numérique n°{n}"),
        commune: "Marseille".into(),
        code_postal: "13001".into(),
        code_insee: "13201".into(),
        adresse: format!("{} rue de la République", n % 200 + 1),
        latitude_micro: Some(43_296_482 + (n as i64 % 1000)),
        longitude_micro: Some(5_369_780 - (n as i64 % 1000)),
        typologie: vec!["EPN".into()],
        telephone: vec!["+33491000000".into()],
        horaires: "Mo-Fr 09:00-12:00,14:00-17:00".into(),
        source: "bench".into(),
        date_maj: "2026-11-01".into(),
        services: vec![
            "Aide aux démarches administratives".into(),
            "Maîtrise des outils numériques du quotidien".into(),
        ],
        frais_a_charge: vec!["Gratuit".into()],
        modalites_accompagnement: vec!["Accompagnement individuel".into()],
        ..Default::default()
    }
}

fn bench_charter(keys: &[SecretKey]) -> Result<Arc<Charter>> {
    let territories = ["13", "69", "16", "21"];
    let members = keys
        .iter()
        .zip(territories)
        .map(|(k, t)| MemberSpec {
            key: k.hub_id(),
            name: format!("bench hub {t}"),
            role: Role::Hub,
            territories: vec![t.into()],
        })
        .collect();
    Ok(Arc::new(Charter::found("bench", 1, members)?))
}

fn bodies(count: usize, author: &maillage_core::HubId) -> Vec<pb::event::Body> {
    (0..count)
        .map(|n| {
            let record = sample_record(n);
            pb::event::Body::VenueRegistered(pb::VenueRegistered {
                venue_id: maillage_core::venues::venue_id(author, &record.id),
                record: Some(record),
            })
        })
        .collect()
}

/// One run of every measurement.
pub fn run_once(params: &LogBench, seed: u8) -> Result<LogRun> {
    let keys: Vec<SecretKey> = (0..2u8)
        .map(|n| SecretKey::from_seed(&[seed.wrapping_add(n); 32]))
        .collect();
    let charter = bench_charter(&keys)?;
    let author = keys[0].hub_id();
    let wall_ms = 1_800_000_000_000u64;

    // Pre-encode payloads so the bare primitives measure only the primitive.
    let mut writer = FeedWriter::new(
        SecretKey::from_seed(&keys[0].seed()),
        charter.federation_id(),
        None,
        0,
        MAX_AHEAD_MS_DEFAULT,
    );
    let events: Vec<VerifiedEvent> = bodies(params.events, &author)
        .into_iter()
        .map(|b| writer.next(b, vec![], wall_ms))
        .collect::<Result<_, _>>()?;
    let payload_bytes =
        events.iter().map(|e| e.signed.payload.len()).sum::<usize>() as f64 / events.len() as f64;

    // Each primitive and the path built on it are timed batch by batch, alternately, so a
    // slowdown of the shared machine hits both sides of a ratio alike.
    let public = PublicKey::from_hub_id(author)?;
    let dir = tempfile::tempdir()?;
    let own_store = SledStore::open_path(&dir.path().join("own"), charter.clone())?;
    let peer_store = SledStore::open_path(&dir.path().join("peer"), charter.clone())?;
    let own_bodies = bodies(params.events, &author);
    let wire: Vec<Vec<u8>> = events.iter().map(VerifiedEvent::encode_signed).collect();
    let mut own_writer = FeedWriter::new(
        SecretKey::from_seed(&keys[0].seed()),
        charter.federation_id(),
        None,
        0,
        MAX_AHEAD_MS_DEFAULT,
    );
    let (mut sign_s, mut verify_s, mut append_s, mut ingest_s) = (0f64, 0f64, 0f64, 0f64);
    for ((batch_events, batch_bodies), batch_wire) in events
        .chunks(params.batch)
        .zip(own_bodies.chunks(params.batch))
        .zip(wire.chunks(params.batch))
    {
        // Bare sign.
        let start = Instant::now();
        for event in batch_events {
            std::hint::black_box(keys[0].sign_payload(&event.signed.payload));
        }
        sign_s += start.elapsed().as_secs_f64();
        // Own appends: sign + encode + store + flush.
        let start = Instant::now();
        let batch: Vec<VerifiedEvent> = batch_bodies
            .iter()
            .map(|b| own_writer.next(b.clone(), vec![], wall_ms))
            .collect::<Result<_, _>>()?;
        own_store.append_own(&batch)?;
        append_s += start.elapsed().as_secs_f64();
        // Bare verify_strict.
        let start = Instant::now();
        for event in batch_events {
            public.verify_strict_cofactorless(&event.signed.payload, &event.signed.signature)?;
        }
        verify_s += start.elapsed().as_secs_f64();
        // Peer ingest: from wire bytes to durable storage.
        let start = Instant::now();
        let verified: Vec<VerifiedEvent> = batch_wire
            .iter()
            .map(|bytes| verify_encoded(bytes, &charter))
            .collect::<Result<_, _>>()?;
        let outcomes = peer_store.insert(verified)?;
        ingest_s += start.elapsed().as_secs_f64();
        anyhow::ensure!(
            outcomes.iter().all(|o| *o == Inserted::Stored),
            "bench ingest: unexpected outcome"
        );
    }
    let count = params.events as f64;
    let (sign_per_s, verify_per_s) = (count / sign_s, count / verify_s);
    let (append_per_s, ingest_per_s) = (count / append_s, count / ingest_s);
    let disk = peer_store.size_on_disk()? as f64;
    drop(own_store);
    drop(peer_store);

    Ok(LogRun {
        sign_per_s,
        append_per_s,
        verify_per_s,
        ingest_per_s,
        payload_bytes,
        disk_bytes_per_event: disk / params.events as f64,
    })
}

/// All runs and their medians; `progress(run)` after each.
pub fn run(params: &LogBench, progress: &mut dyn FnMut(usize, &LogRun)) -> Result<LogSummary> {
    let mut runs = Vec::with_capacity(params.runs);
    for index in 0..params.runs {
        let run = run_once(params, 10 + index as u8 * 3)?;
        progress(index + 1, &run);
        runs.push(run);
    }
    Ok(LogSummary {
        events: params.events,
        append_vs_sign: median(runs.iter().map(LogRun::append_ratio).collect()),
        ingest_vs_verify: median(runs.iter().map(LogRun::ingest_ratio).collect()),
        disk_vs_payload: median(runs.iter().map(LogRun::disk_ratio).collect()),
        runs,
    })
}

/// Parameters of `maillage bench fold`.
#[derive(Debug, Clone)]
pub struct FoldBench {
    /// Events in the generated history.
    pub events: usize,
    /// Fold repetitions in memory (median reported).
    pub runs: usize,
    /// Workload seed.
    pub seed: u64,
}

/// What `maillage bench fold` measured.
#[derive(Debug, Clone, Serialize)]
pub struct FoldSummary {
    /// Events folded.
    pub events: usize,
    /// Of which rejected by a domain rule.
    pub rejected: usize,
    /// Median events folded per second, in memory, one core.
    pub fold_per_s: f64,
    /// Bare verify_strict per second, same run (for the ratio).
    pub verify_per_s: f64,
    /// fold / verify.
    pub fold_vs_verify: f64,
    /// Resident memory added by one ledger of these events (MiB).
    pub ledger_mib: f64,
    /// Peak resident memory of the process (MiB), generator and events included.
    pub peak_rss_mib: f64,
    /// Events folded per second from the store by a node with no snapshot.
    pub cold_fold_from_store_per_s: f64,
    /// Size of the persisted views.
    pub snapshot_mib: f64,
    /// Reopening the node: opening the store (each feed's head checked), loading the views,
    /// first parcours query (seconds).
    pub reopen_s: f64,
    /// Of which opening the store.
    pub reopen_store_s: f64,
    /// Opening the store after its index (`store/db`) was deleted: the index rebuilt from the
    /// data file, then the usual checks (seconds).
    pub rebuild_index_s: f64,
    /// Computing the state digest of the reopened views (ms).
    pub digest_ms: f64,
    /// The digest asked right after each of the history's last events is folded (what a
    /// status call does after new events): median (µs).
    pub digest_after_event_p50_us: f64,
    /// … 99th percentile (µs).
    pub digest_after_event_p99_us: f64,
    /// Parcours lookup latency, median (µs).
    pub parcours_p50_us: f64,
    /// Parcours lookup latency, 99th percentile (µs).
    pub parcours_p99_us: f64,
    /// The state digest.
    pub digest: String,
    /// Most frequent rejection reasons (the workload also makes mistakes on purpose).
    pub top_rejections: Vec<(usize, String)>,
}

fn rss_kib(field: &str) -> f64 {
    proc_status_kib("self", field)
}

/// A `/proc/PID/status` memory field (`VmRSS:`, `VmHWM:`…) of process `pid` (or `self`), KiB;
/// 0 when it cannot be read.
pub(crate) fn proc_status_kib(pid: &str, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0.0)
}

/// A hub's data dir under `dir` holding `workload`'s whole history (stored feed by feed, not
/// folded yet), and its node.
pub fn stored_history(
    dir: &std::path::Path,
    workload: &crate::workload::Workload,
) -> Result<(maillage_app::datadir::DataDir, maillage_app::node::Node)> {
    use maillage_app::datadir::{DataDir, NodeConfig};
    use maillage_store::EventStore;
    let data_dir = DataDir::new(dir.join("node"));
    data_dir.create()?;
    data_dir.write_key(&SecretKey::from_seed(&workload.seeds[0]))?;
    data_dir.write_charter(&workload.charter)?;
    data_dir.write_config(&NodeConfig {
        name: "bench".into(),
        clock_max_ahead_ms: u64::MAX / 4,
        serve: Default::default(),
    })?;
    let node = maillage_app::node::Node::open(data_dir.clone())?;
    for (_, feed) in crate::workload::by_feed(&workload.events) {
        for chunk in feed.chunks(4096) {
            node.store
                .insert(chunk.iter().map(|e| (*e).clone()).collect())?;
        }
    }
    Ok((data_dir, node))
}

/// Generates a history, folds it, persists it in a real data dir and reopens it.
pub fn run_fold(params: &FoldBench, say: &mut dyn FnMut(&str)) -> Result<FoldSummary> {
    use maillage_app::node::Node;
    use maillage_core::Ledger;

    say(&format!(
        "generating {} events over 15 hubs (signing on one core)…",
        params.events
    ));
    let workload = crate::workload::generate(
        params.seed,
        crate::workload::HUBS_DEFAULT,
        params.events,
        &mut |n| say(&format!("  {n} events")),
    )?;
    let events = &workload.events;

    let sample = &events[..events.len().min(20_000)];
    let keys: std::collections::BTreeMap<_, _> = workload
        .charter
        .members()
        .iter()
        .map(|(id, m)| (*id, m.key.clone()))
        .collect();
    let start = Instant::now();
    for event in sample {
        keys[&event.author]
            .verify_strict_cofactorless(&event.signed.payload, &event.signed.signature)?;
    }
    let verify_per_s = sample.len() as f64 / start.elapsed().as_secs_f64();

    say("folding in memory…");
    let mut rates = Vec::new();
    let mut ledger_mib = 0.0;
    let mut last: Option<Ledger> = None;
    // The last events are folded one by one, each followed by a digest call.
    let tail = (events.len() / 10).min(1000);
    let head = events.len() - tail;
    for run in 1..=params.runs.max(1) {
        drop(last.take());
        let owned: Vec<_> = events[..head].to_vec();
        let before = rss_kib("VmRSS:");
        let mut ledger = Ledger::new(workload.charter.clone());
        say(&format!("  fold run {run}"));
        let start = Instant::now();
        for event in owned {
            ledger.offer(event);
        }
        let elapsed = start.elapsed().as_secs_f64();
        rates.push(head as f64 / elapsed);
        ledger_mib = (rss_kib("VmRSS:") - before).max(0.0) / 1024.0;
        last = Some(ledger);
    }
    let mut ledger = last.take().ok_or_else(|| anyhow::anyhow!("no fold run"))?;
    let mut after_event: Vec<f64> = Vec::with_capacity(tail);
    for event in &events[head..] {
        ledger.offer(event.clone());
        let start = Instant::now();
        std::hint::black_box(ledger.digest());
        after_event.push(start.elapsed().as_secs_f64() * 1e6);
    }
    let (digest_after_event_p50_us, digest_after_event_p99_us) = if after_event.is_empty() {
        (0.0, 0.0)
    } else {
        p50_p99(&mut after_event)
    };
    anyhow::ensure!(
        ledger.pending_count() == 0,
        "bench fold: events left waiting"
    );
    last = Some(ledger);
    let ledger = last.ok_or_else(|| anyhow::anyhow!("no fold run"))?;
    let rejected = ledger.rejections().len();
    let mut reasons: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for r in ledger.rejections().values() {
        *reasons.entry(r.code().to_owned()).or_default() += 1;
    }
    let mut top_rejections: Vec<(usize, String)> =
        reasons.into_iter().map(|(r, n)| (n, r)).collect();
    top_rejections.sort_by_key(|(count, _)| std::cmp::Reverse(*count));
    top_rejections.truncate(5);
    let digest = hex::encode(ledger.digest());

    say("storing the history in a node's data dir…");
    let dir = tempfile::tempdir()?;
    let (data_dir, node) = stored_history(dir.path(), &workload)?;
    let cold_fold_from_store_per_s = {
        let start = Instant::now();
        let cold = node.views()?;
        let cold_rate = events.len() as f64 / start.elapsed().as_secs_f64();
        anyhow::ensure!(
            hex::encode(cold.digest()) == digest,
            "bench fold: the store fold differs from the memory fold"
        );
        drop(cold);
        node.save_views()?;
        // Closed here: the node is opened again below, as after a restart.
        drop(node);
        cold_rate
    };
    let snapshot_mib = std::fs::metadata(data_dir.views_path())?.len() as f64 / 1_048_576.0;

    say("reopening the node…");
    let person = workload
        .people
        .first()
        .copied()
        .unwrap_or(maillage_core::PersonId([0; 16]));
    let start = Instant::now();
    let node = Node::open(data_dir.clone())?;
    let reopen_store_s = start.elapsed().as_secs_f64();
    let reopened = node.views()?;
    let first = reopened.parcours(&person).map(|p| p.len());
    let reopen_s = start.elapsed().as_secs_f64();
    anyhow::ensure!(first.is_some(), "bench fold: first query failed");
    let start = Instant::now();
    let reopened_digest = hex::encode(reopened.digest());
    let digest_ms = start.elapsed().as_secs_f64() * 1e3;
    anyhow::ensure!(
        reopened_digest == digest,
        "bench fold: reopened views differ"
    );

    let mut rng = crate::workload::Rng::new(params.seed ^ 0x5eed);
    let mut latencies: Vec<f64> = (0..10_000)
        .map(|_| {
            let p = workload.people[rng.below(workload.people.len().max(1))];
            let start = Instant::now();
            let entries = reopened.parcours(&p).map(|e| e.len()).unwrap_or(0);
            std::hint::black_box(entries);
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    let (parcours_p50_us, parcours_p99_us) = p50_p99(&mut latencies);
    drop(reopened);
    drop(node);

    say("deleting the store's index and opening the node again…");
    std::fs::remove_dir_all(data_dir.store_path().join("db"))?;
    let start = Instant::now();
    let rebuilt = Node::open(data_dir.clone())?;
    let rebuild_index_s = start.elapsed().as_secs_f64();
    anyhow::ensure!(
        rebuilt.store.event_count() == events.len() as u64,
        "bench fold: the rebuilt index lost events"
    );
    let fold_per_s = median(rates);
    Ok(FoldSummary {
        events: events.len(),
        rejected,
        fold_per_s,
        verify_per_s,
        fold_vs_verify: fold_per_s / verify_per_s,
        ledger_mib,
        peak_rss_mib: rss_kib("VmHWM:") / 1024.0,
        cold_fold_from_store_per_s,
        snapshot_mib,
        reopen_s,
        reopen_store_s,
        rebuild_index_s,
        digest_ms,
        digest_after_event_p50_us,
        digest_after_event_p99_us,
        parcours_p50_us,
        parcours_p99_us,
        digest,
        top_rejections,
    })
}

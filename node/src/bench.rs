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
            public.verify_payload(&event.signed.payload, &event.signed.signature)?;
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

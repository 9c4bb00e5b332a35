//! `maillage bench …`: runs a benchmark and prints its figures as ratios against the raw
//! primitives measured in the same run.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;

use crate::bench;
use crate::command::BenchCommand;

/// Runs a `bench` command.
pub fn run(command: BenchCommand) -> Result<ExitCode> {
    match command {
        BenchCommand::Fold {
            events,
            runs,
            seed,
            json,
        } => bench_fold(events, runs, seed, json),
        BenchCommand::Replicate {
            events,
            runs,
            transfers,
            seed,
            hubs,
            json,
        } => bench_replicate(events, runs, transfers, seed, hubs, json),
        BenchCommand::Log {
            events,
            runs,
            batch,
            json,
        } => bench_log(events, runs, batch, json),
        BenchCommand::Scale {
            events,
            seed,
            hubs,
            days,
            keep,
            json,
        } => bench_scale(events, seed, hubs, days, keep, json),
        BenchCommand::Signatures {
            count,
            batch,
            runs,
            seed,
            json,
        } => bench_signatures(count, batch, runs, seed, json),
        BenchCommand::Export {
            events,
            seed,
            as_of,
            keep,
            json,
        } => bench_export(events, seed, &as_of, keep.as_deref(), json),
    }
}

fn bench_export(
    events: usize,
    seed: u64,
    as_of: &str,
    keep: Option<&std::path::Path>,
    json: bool,
) -> Result<ExitCode> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -- bench export` for real figures"
        );
    }
    let s = crate::bench_export::run(events, seed, as_of, keep, &mut |line| eprintln!("{line}"))?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mib = |b: u64| b as f64 / 1_048_576.0;
    outln!("{} events, export as of {as_of}:", s.events);
    outln!("  fold of the store before it        {:>10.2} s", s.fold_s);
    outln!(
        "  computing every file               {:>10.2} s (CSV, Parquet, datapackage.json)",
        s.export_s
    );
    outln!("  writing them                       {:>10.2} s", s.write_s);
    outln!(
        "  CSV {:.1} MiB, Parquet {:.1} MiB ({:.1} × smaller), {} files",
        mib(s.csv_bytes),
        mib(s.parquet_bytes),
        s.csv_bytes as f64 / (s.parquet_bytes.max(1)) as f64,
        s.files.len()
    );
    for (name, bytes, rows) in &s.files {
        if !name.starts_with("events/") {
            outln!("    {name:<24} {:>10.2} MiB {rows:>10} rows", mib(*bytes));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on stderr when it is a terminal, hidden otherwise.
pub fn progress_bar(total: u64, message: &'static str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

fn bench_fold(events: usize, runs: usize, seed: u64, json: bool) -> Result<ExitCode> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -- bench fold` for real figures"
        );
    }
    let params = bench::FoldBench { events, runs, seed };
    let s = bench::run_fold(&params, &mut |line| eprintln!("{line}"))?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} events folded ({} rejected by a domain rule), digest {}",
        s.events,
        s.rejected,
        &s.digest[..16]
    );
    outln!(
        "  fold in memory, one core          {:>10.0} events/s  ({:.1}x bare verify_strict, target >= 200,000/s)",
        s.fold_per_s,
        s.fold_vs_verify
    );
    outln!(
        "  fold from the store, no snapshot  {:>10.0} events/s",
        s.cold_fold_from_store_per_s
    );
    outln!(
        "  ledger memory                     {:>10.0} MiB (peak process RSS {:.0} MiB)",
        s.ledger_mib,
        s.peak_rss_mib
    );
    outln!(
        "  persisted views                   {:>10.1} MiB",
        s.snapshot_mib
    );
    outln!(
        "  reopen + first query              {:>10.2} s (store open {:.2} s; target < 5 s)",
        s.reopen_s,
        s.reopen_store_s
    );
    outln!(
        "  store index rebuilt from its file {:>10.2} s (after deleting store/db)",
        s.rebuild_index_s
    );
    outln!(
        "  state digest of the views         {:>10.3} ms (reopened views)",
        s.digest_ms
    );
    outln!(
        "  digest right after a new event    {:>10.1} µs p50, {:.1} µs p99 (target <= 50 ms p99)",
        s.digest_after_event_p50_us,
        s.digest_after_event_p99_us
    );
    outln!(
        "  parcours lookup                   {:>10.1} µs p50, {:.1} µs p99 (target <= 1 ms)",
        s.parcours_p50_us,
        s.parcours_p99_us
    );
    for (count, reason) in &s.top_rejections {
        outln!("  rejected ×{count}: {reason}");
    }
    Ok(ExitCode::SUCCESS)
}

fn bench_replicate(
    events: usize,
    runs: usize,
    transfers: usize,
    seed: u64,
    hubs: usize,
    json: bool,
) -> Result<ExitCode> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -- bench replicate` for real figures"
        );
    }
    let params = crate::bench_replicate::ReplicateBench {
        events,
        runs,
        transfers,
        seed,
        hubs,
    };
    let s = crate::bench_replicate::run(&params, &mut |line| eprintln!("{line}"))?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} events in {} feeds, median of {} catch-ups over loopback gRPC:",
        s.events,
        s.feeds,
        s.runs_per_s.len()
    );
    outln!(
        "  end to end (receive, verify, store, fold): {:.0} events/s (runs: {})",
        s.catch_up_per_s,
        s.runs_per_s
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    outln!(
        "  bare verify_strict: {:.0}/s on every core, {:.0}/s on one",
        s.verify_all_cores_per_s,
        s.verify_one_core_per_s
    );
    outln!(
        "  bare v2 rule (reference, one signature at a time): {:.0}/s on every core, {:.0}/s on one",
        s.rule_all_cores_per_s,
        s.rule_one_core_per_s
    );
    outln!(
        "  bare v2 rule, batch equation (slices of 64 signatures of one feed, as replication verifies them): {:.0}/s on every core, {:.0}/s on one",
        s.batch_all_cores_per_s,
        s.batch_one_core_per_s
    );
    outln!(
        "  ratio to verify_strict on every core: {:.2}; to the bare v2 rule: {:.2}; to its batch equation: {:.2} ({:.2} cores busy during the catch-up)",
        s.ratio_all_cores,
        s.ratio_rule_all_cores,
        s.ratio_batch_all_cores,
        s.cores_busy
    );
    outln!(
        "  the hub serving alone (a plain pull, nothing verified): {:.0} events/s",
        s.serve_only_per_s
    );
    outln!(
        "  on the wire: {:.0} bytes per event ({:.0} signed bytes per event)",
        s.wire_bytes_per_event,
        s.signed_bytes_per_event
    );
    outln!(
        "  owner-side transfer call (sign, durable append, fold, reply): p50 {:.2} ms, p99 {:.2} ms",
        s.transfer_p50_ms,
        s.transfer_p99_ms
    );
    for (call, p50, p99) in &s.reads {
        outln!(
            "  read API on the observer holding every event, {call}: p50 {p50:.2} ms, p99 {p99:.2} ms"
        );
    }
    outln!("  digest {}", s.digest);
    Ok(ExitCode::SUCCESS)
}

fn bench_scale(
    events: usize,
    seed: u64,
    hubs: usize,
    days: u32,
    keep: Option<std::path::PathBuf>,
    json: bool,
) -> Result<ExitCode> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -- bench scale` for real figures"
        );
    }
    let params = crate::bench_scale::ScaleBench {
        events,
        seed,
        hubs,
        days,
        keep,
    };
    let s = crate::bench_scale::run(&params, &mut |line| eprintln!("{line}"))?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    let gib = |b: u64| b as f64 / f64::from(1u32 << 30);
    outln!(
        "{} events ({} hubs), {:.0} signed bytes per event:",
        s.events,
        s.hubs,
        s.signed_bytes_per_event
    );
    outln!(
        "  generated, signed and stored in {:.0} s; hub data dir {:.2} GiB, observer's {:.2} GiB",
        s.generate_s,
        gib(s.hub_disk_bytes),
        gib(s.observer_disk_bytes)
    );
    outln!(
        "  hub daemon, first open (each feed's head checked, views folded from the store): serving after {:.1} s, peak RSS {:.0} MiB",
        s.first_open_s,
        s.first_open_rss_mib
    );
    outln!(
        "  hub daemon, reopen after a clean stop (views from their snapshot, each feed's head checked): serving after {:.1} s, peak RSS {:.0} MiB",
        s.reopen_s,
        s.reopen_rss_mib
    );
    outln!(
        "  hub daemon, reopen after a crash (views from their snapshot, each feed's head checked): serving after {:.1} s, peak RSS {:.0} MiB",
        s.crash_reopen_s,
        s.crash_reopen_rss_mib
    );
    outln!(
        "  fresh observer daemon, catch-up over loopback gRPC: {:.0} s, {:.0} events/s; peak RSS {:.0} MiB (hub while serving: {:.0} MiB)",
        s.catch_up_s,
        s.catch_up_per_s,
        s.observer_rss_mib,
        s.hub_serving_rss_mib
    );
    for (call, p50, p99) in &s.reads {
        outln!("  read API on the observer, {call}: p50 {p50:.2} ms, p99 {p99:.2} ms");
    }
    outln!("  digest {}", s.digest);
    if !s.stopped_cleanly {
        outln!(
            "  a daemon did not stop cleanly at the end (killed for want of memory while saving its views?)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn bench_signatures(
    count: usize,
    batch: usize,
    runs: usize,
    seed: u64,
    json: bool,
) -> Result<ExitCode> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -- bench signatures` for real figures"
        );
    }
    let params = crate::bench_signatures::SignatureBench {
        count,
        batch,
        runs,
        seed,
    };
    eprintln!("bench signatures: {count} signatures in batches of {batch}, {runs} timed runs");
    let summary = crate::bench_signatures::run(&params, &mut |line| eprintln!("{line}"))?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        outln!(
            "{} signatures (batches of {}): {} accepted and {} refused by the single path, the \
             reference and the batch alike; {} disagreements",
            summary.samples,
            summary.batch,
            summary.accepted,
            summary.refused,
            summary.disagreements
        );
        outln!(
            "throughput over {} honest signatures, median of {} runs (ratio to verify_strict):",
            summary.timed,
            runs
        );
        for rate in &summary.rates {
            let (one, all) = summary.ratio(rate);
            outln!(
                "  {:<52} one core {:>8.0}/s ({one:.2})   every core {:>8.0}/s ({all:.2})",
                rate.path,
                rate.one_core_per_s,
                rate.all_cores_per_s
            );
        }
    }
    Ok(if summary.disagreements == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn bench_log(events: usize, runs: usize, batch: usize, json: bool) -> Result<ExitCode> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -- bench log` for real figures"
        );
    }
    let params = bench::LogBench {
        events,
        runs,
        batch,
    };
    eprintln!("bench log: {events} events per run, {runs} runs, batches of {batch}");
    let summary = bench::run(&params, &mut |index, run| {
        eprintln!(
            "run {index}: sign {:.0}/s, append {:.0}/s ({:.2}), verify {:.0}/s, ingest {:.0}/s ({:.2}), disk {:.0} B/event for {:.0} B payload ({:.2})",
            run.sign_per_s,
            run.append_per_s,
            run.append_ratio(),
            run.verify_per_s,
            run.ingest_per_s,
            run.ingest_ratio(),
            run.disk_bytes_per_event,
            run.payload_bytes,
            run.disk_ratio()
        );
    })?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        outln!(
            "median of {} runs of {} events:",
            summary.runs.len(),
            summary.events
        );
        outln!(
            "  own appends (sign+store+flush) / bare sign         {:.2}  (target >= 0.6)",
            summary.append_vs_sign
        );
        outln!(
            "  peer ingest (verify+chain+store) / bare verify      {:.2}  (target >= 0.8)",
            summary.ingest_vs_verify
        );
        outln!(
            "  bytes on disk per event / payload bytes             {:.2}  (target <= 2)",
            summary.disk_vs_payload
        );
    }
    Ok(ExitCode::SUCCESS)
}

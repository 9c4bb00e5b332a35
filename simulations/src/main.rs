//! `maillage-simulate SCENARIO.toml [--seed N | --seeds A..B] [--json] [--report DIR]`: plays a
//! scenario on the simulated network and checks the invariants; on failure, prints the seed,
//! the invariant, what was seen and the command that reproduces it. With `--report DIR`, also
//! runs two sweeps of variants and writes `report.json` and SVG charts there.

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: maillage-simulate SCENARIO.toml [--seed N | --seeds A..B] [--json] [--report DIR]\n\
         Plays the scenario (hubs, observers, topology, latency, loss, partitions, crashes,\n\
         people, a misbehaving hub) on a simulated network with the real replication and fold,\n\
         and checks the invariants. --report DIR also sweeps the first partition's length and\n\
         the number of hubs, and writes report.json and SVG charts into DIR."
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first().filter(|a| !a.starts_with('-')) else {
        return usage();
    };
    let mut seeds = 1..=1u64;
    let mut json = false;
    let mut report_dir: Option<std::path::PathBuf> = None;
    let mut rest = args[1..].iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--seed" => match rest.next().and_then(|s| s.parse().ok()) {
                Some(seed) => seeds = seed..=seed,
                None => return usage(),
            },
            "--seeds" => {
                let range = rest.next().and_then(|s| {
                    let (a, b) = s.split_once("..")?;
                    Some(a.parse().ok()?..=b.parse().ok()?)
                });
                match range {
                    Some(range) => seeds = range,
                    None => return usage(),
                }
            }
            "--json" => json = true,
            "--report" => match rest.next() {
                Some(dir) => report_dir = Some(dir.into()),
                None => return usage(),
            },
            _ => return usage(),
        }
    }
    let scenario = match std::fs::read_to_string(path)
        .map_err(anyhow::Error::from)
        .and_then(|text| maillage_simulations::Scenario::from_toml(&text))
    {
        Ok(s) => s,
        Err(error) => {
            eprintln!("error: scenario {path}: {error:#}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = report_dir {
        let report = maillage_simulations::report::build(
            &scenario,
            path,
            seeds,
            &mut |run, result| match result {
                Ok(o) => eprintln!(
                    "{run}: ok, converged {:.1} s after the last fault, {:.0} bytes per event, {:.1} s wall",
                    o.converged_after_quiet_ms as f64 / 1000.0,
                    o.bytes_per_event,
                    o.wall_s
                ),
                Err(f) => eprintln!("{run}: FAILED `{}`", f.invariant),
            },
        );
        print!("{}", maillage_simulations::report::human_summary(&report));
        match maillage_simulations::report::write(&report, &dir) {
            Ok(files) => println!("  wrote {}", files.join(", ")),
            Err(error) => {
                eprintln!("error: writing the report into {}: {error}", dir.display());
                return ExitCode::from(2);
            }
        }
        return if report.failures.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    }
    for seed in seeds {
        match maillage_simulations::run(&scenario, seed, path) {
            Ok(outcome) => {
                if json {
                    println!("{}", serde_json::to_string(&outcome).unwrap_or_default());
                } else {
                    println!(
                        "seed {seed}: {} events, converged {:.1} s after the last fault, {:.0} bytes and {:.1} copies received per event, {:.0} simulated s in {:.2} s, trace {}",
                        outcome.events,
                        outcome.converged_after_quiet_ms as f64 / 1000.0,
                        outcome.bytes_per_event,
                        outcome.copies_per_event,
                        outcome.simulated_s,
                        outcome.wall_s,
                        &outcome.trace_hash[..16]
                    );
                    println!(
                        "  signed events: {:.0} bytes on average ({} at most), {:.2} deps on average ({} at most)",
                        outcome.signed_bytes_per_event,
                        outcome.signed_bytes_max,
                        outcome.deps_per_event,
                        outcome.deps_max
                    );
                    let d = &outcome.domain;
                    if d.visits > 0 {
                        println!(
                            "  {} visits: {} redeemed, {} online transfers ({} refused), {} claims ({} accepted, {} rejected), {} of {} double spends refused, {} double redemptions",
                            d.visits,
                            d.redemptions,
                            d.transfers,
                            d.transfers_refused,
                            d.claims_made,
                            d.claims_accepted,
                            d.claims_rejected,
                            d.double_spends_refused,
                            d.double_spend_attempts,
                            d.double_redemptions
                        );
                        if d.double_spends_both_refused_in_a_fault > 0 {
                            println!(
                                "  {} double presentation(s) both refused during a fault, the voucher still valid",
                                d.double_spends_both_refused_in_a_fault
                            );
                        }
                    }
                }
            }
            Err(failure) => {
                eprintln!("{failure}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}

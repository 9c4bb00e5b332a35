//! `maillage-simulate SCENARIO.toml [--seed N | --seeds A..B] [--json]`: plays a scenario on
//! the simulated network and checks the invariants; on failure, prints the seed, the
//! invariant, what was seen and the command that reproduces it.

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: maillage-simulate SCENARIO.toml [--seed N | --seeds A..B] [--json]\n\
         Plays the scenario (hubs, observers, topology, latency, partitions, crashes) on a\n\
         simulated network with the real replication and fold, and checks the invariants."
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

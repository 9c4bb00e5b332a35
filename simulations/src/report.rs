//! `--report DIR`: a scenario over its seeds, plus two sweeps of variants of it, written as
//! `report.json` and hand-written SVG charts, with a short summary for the terminal.
//!
//! The sweeps: the first partition's length scaled (0.25× to 2×, healing when authoring
//! ends so that the convergence clock starts at the heal), and the number of hubs
//! (partition groups, crashes and the misbehaving hub cut to the hubs that remain), both on
//! the first seed. Every run checks every invariant; a failed run is listed with its
//! reproduce line and leaves a gap in its chart.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::{Failure, Outcome, Scenario, run};

/// A failed run, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct FailedRun {
    /// What was run (`seed 4`, `partition 20 s`, `12 hubs`).
    pub run: String,
    /// The invariant.
    pub invariant: String,
    /// The failure, with its reproduce line.
    pub detail: String,
}

/// One point of a sweep.
#[derive(Debug, Clone, Serialize)]
pub struct SweepPoint {
    /// The varied parameter (partition seconds, or hubs).
    pub x: f64,
    /// The run's outcome, if its invariants held.
    pub outcome: Option<Outcome>,
}

/// Figures over the seeds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Seeds run.
    pub runs: usize,
    /// Of which every invariant held.
    pub passed: usize,
    /// Convergence after the last fault healed (ms): median and max over passing seeds.
    pub converged_after_quiet_ms_median: u64,
    /// Max.
    pub converged_after_quiet_ms_max: u64,
    /// Mean over passing seeds.
    pub bytes_per_event: f64,
    /// Mean over passing seeds.
    pub messages_per_event: f64,
    /// Mean over passing seeds.
    pub copies_per_event: f64,
    /// Totals over passing seeds.
    pub claims_made: u64,
    /// Accepted.
    pub claims_accepted: u64,
    /// Rejected.
    pub claims_rejected: u64,
    /// Online transfers.
    pub transfers: u64,
    /// Redemptions.
    pub redemptions: u64,
    /// Vouchers presented at two hubs.
    pub double_spend_attempts: u64,
    /// Of which one presentation was refused.
    pub double_spends_refused: u64,
    /// Vouchers honoured twice.
    pub double_redemptions: u64,
    /// Nodes that recorded a fork (summed over seeds).
    pub forks_detected: u64,
    /// Events the rules rejected, by reason (summed over seeds, one node's view).
    pub rejected_by_rules: BTreeMap<String, u64>,
    /// Peer events refused before storage, by reason (summed over seeds and nodes).
    pub refused_on_arrival: BTreeMap<String, u64>,
    /// Wall seconds per simulated second, mean.
    pub wall_per_simulated_s: f64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file.
    pub path: String,
    /// Figures over the seeds.
    pub summary: Summary,
    /// Every passing seed's outcome.
    pub seeds: Vec<Outcome>,
    /// Convergence time against the first partition's length.
    pub partition_sweep: Vec<SweepPoint>,
    /// Bytes per event against the number of hubs.
    pub hubs_sweep: Vec<SweepPoint>,
    /// Runs whose invariants did not hold.
    pub failures: Vec<FailedRun>,
}

fn failed(run: String, failure: &Failure) -> FailedRun {
    FailedRun {
        run,
        invariant: failure.invariant.to_string(),
        detail: failure.to_string(),
    }
}

/// The scenario with its first partition lasting `length_s` and healing when authoring ends
/// (or when it healed, if later): the convergence clock then starts at the heal, and what it
/// measures is the catching up after `length_s` of split while hubs kept signing.
fn with_partition_length(scenario: &Scenario, length_s: u64) -> Scenario {
    let mut variant = scenario.clone();
    let authoring_s = scenario.authoring_s;
    if let Some(p) = variant.partitions.first_mut() {
        let end = p.until_s.max(authoring_s);
        p.until_s = end;
        p.from_s = end.saturating_sub(length_s.max(1));
    }
    variant
}

/// The scenario with `hubs` hubs: faults and people that name missing hubs are cut.
fn with_hubs(scenario: &Scenario, hubs: usize) -> Scenario {
    let mut variant = scenario.clone();
    variant.hubs = hubs;
    for p in &mut variant.partitions {
        for group in &mut p.groups {
            group.retain(|h| *h < hubs);
        }
        p.groups.retain(|g| !g.is_empty());
    }
    variant.partitions.retain(|p| p.groups.len() >= 2);
    variant.crashes.retain(|c| c.hub < hubs);
    if variant.misbehaving.as_ref().is_some_and(|m| m.hub >= hubs) {
        variant.misbehaving = None;
    }
    variant
}

fn median(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or(0)
}

fn summarize(runs: usize, seeds: &[Outcome]) -> Summary {
    let n = seeds.len().max(1) as f64;
    let mut s = Summary {
        runs,
        passed: seeds.len(),
        converged_after_quiet_ms_median: median(
            seeds.iter().map(|o| o.converged_after_quiet_ms).collect(),
        ),
        converged_after_quiet_ms_max: seeds
            .iter()
            .map(|o| o.converged_after_quiet_ms)
            .max()
            .unwrap_or(0),
        bytes_per_event: seeds.iter().map(|o| o.bytes_per_event).sum::<f64>() / n,
        messages_per_event: seeds.iter().map(|o| o.messages_per_event).sum::<f64>() / n,
        copies_per_event: seeds.iter().map(|o| o.copies_per_event).sum::<f64>() / n,
        wall_per_simulated_s: seeds
            .iter()
            .map(|o| o.wall_s / o.simulated_s.max(1e-9))
            .sum::<f64>()
            / n,
        ..Summary::default()
    };
    for o in seeds {
        let d = &o.domain;
        s.claims_made += d.claims_made;
        s.claims_accepted += d.claims_accepted;
        s.claims_rejected += d.claims_rejected;
        s.transfers += d.transfers;
        s.redemptions += d.redemptions;
        s.double_spend_attempts += d.double_spend_attempts;
        s.double_spends_refused += d.double_spends_refused;
        s.double_redemptions += d.double_redemptions;
        s.forks_detected += o.misbehaviour.nodes_detecting_fork;
        for (reason, count) in &d.rejected_by_reason {
            *s.rejected_by_rules.entry(reason.clone()).or_default() += count;
        }
        for (reason, count) in &o.refused_by_reason {
            *s.refused_on_arrival.entry(reason.clone()).or_default() += count;
        }
    }
    s
}

/// Runs `seeds` of `scenario` and the two sweeps; `progress` hears of each run.
pub fn build(
    scenario: &Scenario,
    path: &str,
    seeds: impl IntoIterator<Item = u64>,
    progress: &mut dyn FnMut(&str, Result<&Outcome, &Failure>),
) -> Report {
    let mut outcomes = Vec::new();
    let mut failures = Vec::new();
    let mut runs = 0;
    let mut first_seed = None;
    for seed in seeds {
        runs += 1;
        first_seed.get_or_insert(seed);
        let label = format!("seed {seed}");
        match run(scenario, seed, path) {
            Ok(outcome) => {
                progress(&label, Ok(&outcome));
                outcomes.push(outcome);
            }
            Err(failure) => {
                progress(&label, Err(&failure));
                failures.push(failed(label, &failure));
            }
        }
    }
    let seed = first_seed.unwrap_or(1);
    let mut sweep = |label: String, variant: &Scenario, x: f64| -> SweepPoint {
        match run(variant, seed, path) {
            Ok(outcome) => {
                progress(&label, Ok(&outcome));
                SweepPoint {
                    x,
                    outcome: Some(outcome),
                }
            }
            Err(failure) => {
                progress(&label, Err(&failure));
                failures.push(failed(label, &failure));
                SweepPoint { x, outcome: None }
            }
        }
    };
    let mut partition_sweep = Vec::new();
    if let Some(p) = scenario.partitions.first() {
        let length = p.until_s - p.from_s;
        let end = p.until_s.max(scenario.authoring_s);
        let mut lengths: Vec<u64> = [1, 2, 4, 6, 8]
            .iter()
            .map(|quarters| (length * quarters / 4).clamp(1, end))
            .collect();
        lengths.dedup();
        for l in lengths {
            let variant = with_partition_length(scenario, l);
            partition_sweep.push(sweep(format!("partition {l} s"), &variant, l as f64));
        }
    }
    let mut hubs: Vec<usize> = [1, 2, 3, 4]
        .iter()
        .map(|quarters| (scenario.hubs * quarters / 4).max(3))
        .collect();
    hubs.insert(0, 3);
    hubs.sort_unstable();
    hubs.dedup();
    let mut hubs_sweep = Vec::new();
    for h in hubs.into_iter().filter(|h| *h <= scenario.hubs.max(3)) {
        let variant = with_hubs(scenario, h);
        hubs_sweep.push(sweep(format!("{h} hubs"), &variant, h as f64));
    }
    Report {
        scenario: scenario.name.clone(),
        path: path.to_string(),
        summary: summarize(runs, &outcomes),
        seeds: outcomes,
        partition_sweep,
        hubs_sweep,
        failures,
    }
}

/// Writes `report.json` and the charts into `dir`; returns the files written.
pub fn write(report: &Report, dir: &Path) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let mut put = |name: &str, text: String| -> std::io::Result<()> {
        std::fs::write(dir.join(name), text)?;
        written.push(dir.join(name).display().to_string());
        Ok(())
    };
    put(
        "report.json",
        serde_json::to_string_pretty(report).map_err(std::io::Error::other)? + "\n",
    )?;
    let mut by_seed: Vec<(f64, f64)> = report
        .seeds
        .iter()
        .map(|o| (o.seed as f64, o.converged_after_quiet_ms as f64 / 1000.0))
        .collect();
    by_seed.sort_by(|a, b| a.0.total_cmp(&b.0));
    put(
        "convergence-by-seed.svg",
        chart(&Chart {
            title: &format!(
                "{}: convergence after the last fault heals",
                report.scenario
            ),
            x_label: "seed",
            y_label: "simulated seconds",
            points: &by_seed,
            bars: true,
        }),
    )?;
    let points = |sweep: &[SweepPoint], y: &dyn Fn(&Outcome) -> f64| -> Vec<(f64, f64)> {
        sweep
            .iter()
            .filter_map(|p| p.outcome.as_ref().map(|o| (p.x, y(o))))
            .collect()
    };
    if !report.partition_sweep.is_empty() {
        put(
            "convergence-vs-partition.svg",
            chart(&Chart {
                title: &format!(
                    "{}: convergence after healing vs partition length",
                    report.scenario
                ),
                x_label: "partition length (simulated s)",
                y_label: "convergence after heal (s)",
                points: &points(&report.partition_sweep, &|o| {
                    o.converged_after_quiet_ms as f64 / 1000.0
                }),
                bars: false,
            }),
        )?;
    }
    if !report.hubs_sweep.is_empty() {
        put(
            "bytes-per-event-vs-hubs.svg",
            chart(&Chart {
                title: &format!("{}: bytes received per event vs hubs", report.scenario),
                x_label: "hubs",
                y_label: "bytes per event (all nodes)",
                points: &points(&report.hubs_sweep, &|o| o.bytes_per_event),
                bars: false,
            }),
        )?;
    }
    Ok(written)
}

/// What the terminal shows after a report.
pub fn human_summary(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} of {} seeds kept every invariant",
        report.scenario, s.passed, s.runs
    );
    let _ = writeln!(
        out,
        "  convergence after the last fault heals: median {:.1} s, max {:.1} s; {:.0} bytes, {:.1} messages, {:.1} copies received per event; {:.2} wall s per simulated s",
        s.converged_after_quiet_ms_median as f64 / 1000.0,
        s.converged_after_quiet_ms_max as f64 / 1000.0,
        s.bytes_per_event,
        s.messages_per_event,
        s.copies_per_event,
        s.wall_per_simulated_s
    );
    let _ = writeln!(
        out,
        "  {} redemptions, {} online transfers, {} claims ({} accepted, {} rejected); {} of {} double spends refused, {} double redemptions",
        s.redemptions,
        s.transfers,
        s.claims_made,
        s.claims_accepted,
        s.claims_rejected,
        s.double_spends_refused,
        s.double_spend_attempts,
        s.double_redemptions
    );
    if s.forks_detected > 0 || !s.refused_on_arrival.is_empty() {
        let refused: u64 = s.refused_on_arrival.values().sum();
        let _ = writeln!(
            out,
            "  forks recorded by {} node(s); {} peer events refused on arrival",
            s.forks_detected, refused
        );
    }
    for (reason, count) in &s.rejected_by_rules {
        let _ = writeln!(out, "  rejected by the rules ×{count}: {reason}");
    }
    let sweep = |name: &str, unit: &str, points: &[SweepPoint], y: &dyn Fn(&Outcome) -> String| {
        let cells: Vec<String> = points
            .iter()
            .map(|p| match &p.outcome {
                Some(o) => format!("{}{unit} → {}", p.x, y(o)),
                None => format!("{}{unit} → FAILED", p.x),
            })
            .collect();
        format!("  {name}: {}\n", cells.join(", "))
    };
    if !report.partition_sweep.is_empty() {
        out += &sweep(
            "convergence vs partition length",
            " s",
            &report.partition_sweep,
            &|o| format!("{:.1} s", o.converged_after_quiet_ms as f64 / 1000.0),
        );
    }
    out += &sweep(
        "bytes per event vs hubs",
        " hubs",
        &report.hubs_sweep,
        &|o| format!("{:.0}", o.bytes_per_event),
    );
    for f in &report.failures {
        let _ = writeln!(
            out,
            "  FAILED {}: {}",
            f.run,
            f.detail.replace('\n', "\n    ")
        );
    }
    out
}

/// A chart to draw.
struct Chart<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    points: &'a [(f64, f64)],
    /// Bars (one per point) rather than a line.
    bars: bool,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A "nice" step for about five ticks over `0..=max`.
fn tick_step(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

fn label(value: f64) -> String {
    if value.abs() >= 10_000.0 {
        format!("{:.0}k", value / 1000.0)
    } else if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// A plain SVG chart: axes from zero, ticks, the points as a line with dots or as bars.
fn chart(c: &Chart) -> String {
    let (width, height) = (640.0, 400.0);
    let (left, right, top, bottom) = (70.0, 20.0, 40.0, 50.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let x_max = c.points.iter().map(|p| p.0).fold(0.0, f64::max);
    let y_max = c.points.iter().map(|p| p.1).fold(0.0, f64::max);
    let x_step = tick_step(x_max);
    let y_step = tick_step(y_max);
    let x_top = (x_max / x_step).ceil().max(1.0) * x_step;
    let y_top = (y_max / y_step).ceil().max(1.0) * y_step;
    let sx = |x: f64| left + x / x_top * plot_w;
    let sy = |y: f64| top + plot_h - y / y_top * plot_h;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="{width}" height="{height}" fill="white"/><text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>"#,
        width / 2.0,
        escape(c.title)
    );
    // Grid and ticks.
    let mut y = 0.0;
    while y <= y_top + y_step / 2.0 {
        let py = sy(y);
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            left + plot_w,
            left - 6.0,
            py + 4.0,
            label(y)
        );
        y += y_step;
    }
    let mut x = 0.0;
    while x <= x_top + x_step / 2.0 {
        let px = sx(x);
        let _ = writeln!(
            svg,
            r##"<line x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{:.1}" stroke="#888"/><text x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            top + plot_h,
            top + plot_h + 5.0,
            top + plot_h + 18.0,
            label(x)
        );
        x += x_step;
    }
    // Axes and their names.
    let _ = writeln!(
        svg,
        r#"<line x1="{left}" y1="{top}" x2="{left}" y2="{:.1}" stroke="black"/><line x1="{left}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="black"/>"#,
        top + plot_h,
        top + plot_h,
        left + plot_w,
        top + plot_h
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">{}</text>"#,
        left + plot_w / 2.0,
        height - 10.0,
        escape(c.x_label),
        top + plot_h / 2.0,
        top + plot_h / 2.0,
        escape(c.y_label)
    );
    if c.points.is_empty() {
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">no passing run</text>"#,
            left + plot_w / 2.0,
            top + plot_h / 2.0
        );
    } else if c.bars {
        let bar = (plot_w / (x_top / x_step.max(1.0)).max(c.points.len() as f64) * 0.6).max(2.0);
        for (x, y) in c.points {
            let _ = writeln!(
                svg,
                r##"<rect x="{:.1}" y="{:.1}" width="{bar:.1}" height="{:.1}" fill="#4a7ab5"><title>{}: {}</title></rect>"##,
                sx(*x) - bar / 2.0,
                sy(*y),
                top + plot_h - sy(*y),
                label(*x),
                label(*y)
            );
        }
    } else {
        let path: Vec<String> = c
            .points
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
            .collect();
        let _ = writeln!(
            svg,
            r##"<polyline points="{}" fill="none" stroke="#4a7ab5" stroke-width="2"/>"##,
            path.join(" ")
        );
        for (x, y) in c.points {
            let _ = writeln!(
                svg,
                r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#4a7ab5"><title>{}: {}</title></circle>"##,
                sx(*x),
                sy(*y),
                label(*x),
                label(*y)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_well_formed_svg_with_one_mark_per_point() {
        let points = [(5.0, 1.5), (10.0, 2.0), (20.0, 4.25)];
        let line = chart(&Chart {
            title: "a < b & c",
            x_label: "x",
            y_label: "y",
            points: &points,
            bars: false,
        });
        assert!(line.starts_with("<svg") && line.trim_end().ends_with("</svg>"));
        assert_eq!(line.matches("<circle").count(), 3);
        assert!(line.contains("a &lt; b &amp; c"));
        let bars = chart(&Chart {
            title: "t",
            x_label: "x",
            y_label: "y",
            points: &points,
            bars: true,
        });
        assert_eq!(
            bars.matches("<rect").count(),
            4,
            "background and three bars"
        );
        assert_eq!(tick_step(47.0), 10.0);
        assert_eq!(tick_step(0.9), 0.2);
    }

    #[test]
    fn variants_cut_what_names_missing_hubs() {
        let scenario =
            Scenario::from_toml(include_str!("../scenarios/fifteen-hubs-3way.toml")).unwrap();
        let small = with_hubs(&scenario, 4);
        assert_eq!(small.partitions.len(), 0, "one group left: no partition");
        assert!(small.crashes.is_empty());
        let seven = with_hubs(&scenario, 7);
        assert_eq!(
            seven.partitions[0].groups,
            vec![vec![0, 1, 2, 3, 4], vec![5, 6]]
        );
        // The split (5 s to 35 s) now heals when authoring ends, at 40 s.
        let variant = with_partition_length(&scenario, 10);
        assert_eq!(
            (variant.partitions[0].from_s, variant.partitions[0].until_s),
            (30, 40)
        );
    }
}

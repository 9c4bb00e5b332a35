//! The short sweep CI runs: the small shipped scenarios over a few seeds, every invariant
//! checked and the domain workload shown to exercise at-most-once redemption; lossy links; a
//! misbehaving hub caught; the same seed twice gives the same trace; and two negative
//! controls: a node cut off for good fails liveness, a detection bound too tight fails the
//! equivocation invariant, each with its reproduce line. Every shipped scenario parses (the
//! large ones run in release, by hand: see the README).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use maillage_simulations::{Scenario, run};

fn scenario(name: &str) -> (Scenario, String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    (
        Scenario::from_toml(&text).unwrap(),
        path.display().to_string(),
    )
}

#[test]
fn every_shipped_scenario_parses() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    assert!(names.len() >= 13, "{names:?}");
    for name in names {
        let (scenario, _) = scenario(&name);
        assert!(!scenario.name.is_empty(), "{name}");
    }
}

#[test]
fn shipped_scenarios_keep_every_invariant_over_seeds() {
    for name in ["partition-5.toml", "crash-ring-6.toml"] {
        let (scenario, path) = scenario(name);
        let (mut claims_made, mut claims_rejected) = (0, 0);
        for seed in 1..=3 {
            let outcome = run(&scenario, seed, &path).unwrap_or_else(|f| panic!("{f}"));
            assert!(outcome.converged_after_quiet_ms <= scenario.converge_within_s * 1000);
            // The workload exercises at-most-once redemption: people redeem across hubs,
            // online (transfers) and, while the owner is unreachable, by claims; every voucher
            // presented at two hubs is honoured once and refused once.
            let d = &outcome.domain;
            assert!(
                d.redemptions > 0 && d.transfers > 0,
                "{name} seed {seed}: {d:?}"
            );
            assert!(d.double_spend_attempts > 0, "{name} seed {seed}: {d:?}");
            assert_eq!(
                d.double_spends_refused, d.double_spend_attempts,
                "{name} seed {seed}: {d:?}"
            );
            assert_eq!(d.double_redemptions, 0, "{name} seed {seed}: {d:?}");
            assert_eq!(
                d.claims_accepted + d.claims_rejected,
                d.claims_made,
                "every claim answered: {d:?}"
            );
            claims_made += d.claims_made;
            claims_rejected += d.claims_rejected;
        }
        // Owners were unreachable (cut off, or down), and some second presentations went
        // through a claim the owner had to reject.
        assert!(claims_made > 0, "{name}: no claim over the seeds");
        assert!(
            claims_rejected > 0,
            "{name}: no claim was rejected over the seeds"
        );
    }
}

#[test]
fn a_seed_replays_exactly() {
    let (scenario, path) = scenario("partition-5.toml");
    let first = run(&scenario, 42, &path).unwrap();
    let second = run(&scenario, 42, &path).unwrap();
    assert_eq!(first.trace_hash, second.trace_hash);
    assert_eq!(first.digest, second.digest);
    assert_eq!(first.bytes_per_event, second.bytes_per_event);
    let other = run(&scenario, 43, &path).unwrap();
    assert_ne!(
        first.trace_hash, other.trace_hash,
        "another seed (other keys, other latencies), another run"
    );
    // Two faces, forgeries and a fork found mid-run replay too.
    let (scenario, path) = self::scenario("equivocating-hub.toml");
    let first = run(&scenario, 7, &path).unwrap();
    let second = run(&scenario, 7, &path).unwrap();
    assert_eq!(first.trace_hash, second.trace_hash);
    assert_eq!(first.refused_by_reason, second.refused_by_reason);
}

#[test]
fn a_node_cut_off_for_good_fails_liveness_with_a_reproduce_line() {
    let (mut scenario, path) = scenario("partition-5.toml");
    // The observer pulls from nobody: it can never converge.
    scenario.observer_peers = 0;
    scenario.converge_within_s = 5;
    let failure = run(&scenario, 5, &path).unwrap_err();
    assert_eq!(failure.invariant, "convergence", "{failure}");
    let text = failure.to_string();
    assert!(text.contains("observer-0 applied 0"), "{text}");
    assert!(text.contains("--seed 5"), "{text}");
    assert!(text.contains("partition-5.toml"), "{text}");
}

#[test]
fn lossy_jittery_links_still_converge_and_refuse_double_spends() {
    let (mut scenario, path) = scenario("partition-5.toml");
    scenario.latency_ms = [1, 60];
    scenario.latency_curve = Some(1.0);
    scenario.loss = vec![maillage_simulations::scenario::Loss {
        from_s: 3,
        until_s: 28,
        fail_rate: 0.01,
        repair_rate: 0.5,
    }];
    scenario.converge_within_s = 40;
    let outcome = run(&scenario, 2, &path).unwrap_or_else(|f| panic!("{f}"));
    // Loss and jitter draw from turmoil's seeded generator: the run replays.
    let again = run(&scenario, 2, &path).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(outcome.trace_hash, again.trace_hash);
    let d = &outcome.domain;
    assert_eq!(d.double_spends_refused, d.double_spend_attempts, "{d:?}");
    assert_eq!(d.double_redemptions, 0, "{d:?}");
    // Broken links make owners unreachable too.
    assert!(d.claims_made > 0, "{d:?}");
}

#[test]
fn a_misbehaving_hub_is_caught_and_its_events_rejected_identically() {
    let (scenario, path) = scenario("equivocating-hub.toml");
    let honest = (scenario.hubs - 1 + scenario.observers) as u64;
    for seed in 1..=2 {
        let outcome = run(&scenario, seed, &path).unwrap_or_else(|f| panic!("{f}"));
        let m = &outcome.misbehaviour;
        assert_eq!(m.intrusions, 3, "{m:?}");
        assert!(m.forgeries_served > 0, "{m:?}");
        assert!(m.equivocated_at_seq.is_some(), "{m:?}");
        assert_eq!(m.nodes_detecting_fork, honest, "{m:?}");
        // Its out-of-territory events are in every log, rejected by the rules.
        assert_eq!(
            outcome.domain.rejected_by_reason.values().sum::<u64>(),
            3,
            "{:?}",
            outcome.domain.rejected_by_reason
        );
        // Its forgeries were refused on arrival for their signature.
        assert!(
            outcome
                .refused_by_reason
                .keys()
                .any(|r| r.starts_with("signature does not verify")),
            "{:?}",
            outcome.refused_by_reason
        );
        assert_eq!(outcome.domain.double_redemptions, 0);
    }
}

#[test]
fn a_detection_bound_too_tight_fails_with_a_reproduce_line() {
    // Negative control: no node can record the fork in the very second the hub equivocates.
    let (mut scenario, path) = scenario("equivocating-hub.toml");
    if let Some(m) = scenario.misbehaving.as_mut() {
        m.detect_within_s = 0;
    }
    let failure = run(&scenario, 1, &path).unwrap_err();
    assert_eq!(failure.invariant, "equivocation-detected", "{failure}");
    let text = failure.to_string();
    assert!(text.contains("had not recorded the fork"), "{text}");
    assert!(text.contains("--seed 1"), "{text}");
}

#[test]
fn a_changing_federation_keeps_every_invariant_over_seeds() {
    // A hub admitted mid-run, a hub removed while it keeps authoring, a département moved
    // with vouchers in flight: every amendment in effect on every honest node, one verdict
    // per event everywhere, no stopped event counted, one digest.
    for name in [
        "hub-admitted.toml",
        "hub-removed.toml",
        "departement-moved.toml",
    ] {
        let (scenario, path) = scenario(name);
        let mut past_cut = 0;
        for seed in 1..=2 {
            let outcome = run(&scenario, seed, &path).unwrap_or_else(|f| panic!("{f}"));
            let l = &outcome.lifecycle;
            assert_eq!(l.amendments_in_effect, 1, "{name} seed {seed}: {l:?}");
            assert!(l.in_effect_everywhere_after_ms.is_some(), "{l:?}");
            let d = &outcome.domain;
            assert!(d.redemptions > 0 && d.transfers > 0, "{name}: {d:?}");
            assert_eq!(d.double_spends_refused, d.double_spend_attempts, "{d:?}");
            assert_eq!(d.double_redemptions, 0, "{d:?}");
            if name == "departement-moved.toml" {
                assert!(d.in_flight_visits > 0, "{d:?}");
                assert_eq!(d.in_flight_honoured, d.in_flight_visits, "{d:?}");
            }
            past_cut += l.stopped_past_cut;
        }
        if name == "hub-removed.toml" {
            // The removed hub signed past the last seq that counts, and nobody counted it.
            assert!(
                past_cut > 0,
                "{name}: the removed hub never signed past its stop"
            );
        }
    }
}

#[test]
fn a_node_that_ignores_a_removal_is_caught_with_a_reproduce_line() {
    // Negative control: hub 2 never folds its views again when the removal reaches it, so it
    // keeps counting the removed hub's events past its last seq.
    let (mut scenario, path) = scenario("hub-removed.toml");
    if let Some(l) = scenario.lifecycle.as_mut() {
        l.ignores_stops = vec![2, 3];
    }
    let failure = run(&scenario, 1, &path).unwrap_err();
    assert!(
        ["stopped-keys", "one-membership-per-event"].contains(&failure.invariant),
        "{failure}"
    );
    let text = failure.to_string();
    assert!(text.contains("--seed 1"), "{text}");
}

#[test]
fn keys_rotated_stolen_and_recovered_keep_every_invariant_over_seeds() {
    // A key rotated while a partition keeps two hubs from hearing of it (once failing: a
    // frontier naming the successor key was refused whole); a stolen key raced against its
    // successor (once failing: the robbed hub's staff dropped a batch the rules refused to
    // its retired key instead of signing it under the successor); a hub restored from a
    // backup during a partition, forked, then recovered (once failing: the restored copy was
    // waited on to fold the recovery, which it cannot: it holds the other branch).
    for (name, seed) in [
        ("key-rotated-in-partition.toml", 1),
        ("stolen-key.toml", 2),
        ("restored-hub-recovered.toml", 1),
    ] {
        let (scenario, path) = scenario(name);
        let outcome = run(&scenario, seed, &path).unwrap_or_else(|f| panic!("{f}"));
        let l = &outcome.lifecycle;
        assert_eq!(l.amendments_in_effect, 1, "{name} seed {seed}: {l:?}");
        assert!(l.in_effect_everywhere_after_ms.is_some(), "{l:?}");
        let d = &outcome.domain;
        assert_eq!(
            d.double_spends_refused + d.double_spends_both_refused_in_a_fault,
            d.double_spend_attempts,
            "{d:?}"
        );
        assert_eq!(d.double_redemptions, 0, "{d:?}");
        assert_eq!(
            d.successor_visits_honoured, d.successor_visits,
            "{name} seed {seed}: {d:?}"
        );
        assert!(d.successor_visits > 0, "{name}: {d:?}");
    }
}

/// Fifteen hubs and two observers in a full mesh, through partitions and a crash: each feed is
/// pulled from one peer at a time, so each node receives each event about once (every peer
/// sent it before: 8 to 9 copies per node), and the bytes per event stay small (the deps no
/// longer name every feed's head).
#[test]
fn in_a_full_mesh_each_event_is_received_about_once() {
    let (scenario, path) = scenario("moving-people-15.toml");
    let nodes = (scenario.hubs + scenario.observers) as f64;
    let outcome = run(&scenario, 1, &path).unwrap_or_else(|f| panic!("{f}"));
    let per_node = outcome.copies_per_event / nodes;
    assert!(
        per_node <= 1.5,
        "{per_node:.2} copies per node: {outcome:?}"
    );
    assert!(
        outcome.bytes_per_event <= 15_000.0,
        "{:.0} bytes per event over the network",
        outcome.bytes_per_event
    );
    assert!(outcome.deps_max <= 16 && outcome.signed_bytes_per_event <= 800.0);
}

//! What an honest node names in `deps` (`Ledger::plan`, protocol §4b "Choosing deps"): a few
//! heads whatever the membership, chosen so that the rules see what they read, and nothing
//! signed that the node's whole views reject.
#![allow(clippy::unwrap_used)]

mod world;

use maillage_core::envelope::DEPS_MAX;
use maillage_core::ledger::Evaluation;
use maillage_core::{Ledger, pb};
use world::*;

fn fold(world: &World) -> Ledger {
    let mut ledger = Ledger::new(world.charter.clone());
    for event in world.all_events() {
        ledger.offer(event);
    }
    assert_eq!(ledger.pending_count(), 0);
    ledger
}

/// Six hubs: hub 0 issues vouchers and hands them out; hub 1 qualifies a venue; hubs 2 to 5
/// each register a venue; hub 0 hears of everything.
fn six_hubs() -> (World, String, Vec<String>) {
    let mut w = World::new(6);
    w.author(0, batch("13-2026-CAF-01", 3));
    let serials: Vec<String> = (1..=3).map(|n| format!("13-2026-CAF-01-{n}")).collect();
    w.author(0, hand_out(&serials, person(1)));
    let venue = w.qualified_venue(1, 1);
    for h in 2..6 {
        w.qualified_venue(h, h);
    }
    for h in 1..6 {
        w.sync(h, 0);
    }
    (w, venue, serials)
}

#[test]
fn an_event_names_the_feed_its_rule_reads_and_few_others() {
    let (w, venue, serials) = six_hubs();
    let ledger = fold(&w);
    let me = w.hubs[0].id;
    // Every other feed advanced past what hub 0's last event had in its past.
    assert_eq!(ledger.next_deps(&me).len(), 5);
    let body = redeem(&serials[0], &venue, "2026-10-15");
    let (deps, verdict) = ledger.plan(me, (T0_MS + 86_400_000) << 16, &body, &[]);
    assert_eq!(verdict, Evaluation::Accepted);
    assert!(deps.len() <= 2 && deps.len() <= DEPS_MAX, "{deps:?}");
    // The venue's qualification is in hub 1's feed: its head is named.
    assert!(deps.iter().any(|d| d.author == w.hubs[1].id), "{deps:?}");
    // A body that reads nothing of the others names one head only (pasts keep growing).
    let (deps, verdict) = ledger.plan(
        me,
        (T0_MS + 86_400_000) << 16,
        &batch("13-2026-CAF-02", 1),
        &[],
    );
    assert_eq!(verdict, Evaluation::Accepted);
    assert_eq!(deps.len(), 1);
}

#[test]
fn nothing_is_signed_that_the_whole_views_reject_even_if_a_smaller_past_accepts() {
    let (mut w, venue, serials) = six_hubs();
    // Hub 0 names every feed (its past holds the qualification)…
    w.author(0, batch("13-2026-CAF-02", 1));
    // …then hub 1 closes the venue, and hubs 2 to 5 move on too; hub 0 hears of it all.
    w.author(
        1,
        pb::event::Body::VenueClosed(pb::VenueClosed {
            venue_id: venue.clone(),
            reason: "travaux".into(),
            ..Default::default()
        }),
    );
    for h in 2..6 {
        let departement = territories_of(h)[0].clone();
        w.author(h, batch(&format!("{departement}-2026-CAF-09"), 1));
    }
    for h in 1..6 {
        w.sync(h, 0);
    }
    let ledger = fold(&w);
    let me = w.hubs[0].id;
    let hlc = (T0_MS + 86_400_000) << 16;
    let body = redeem(&serials[0], &venue, "2026-10-15");
    // The few deps tried first do not name hub 1: in that past the venue is still open.
    let few = ledger.deps_without_judging(&me, &body, &[]);
    assert!(few.iter().all(|d| d.author != w.hubs[1].id), "{few:?}");
    assert_eq!(ledger.evaluate(me, hlc, &few, &body), Evaluation::Accepted);
    // The node's views know it is closed: nothing to sign.
    let (_, verdict) = ledger.plan(me, hlc, &body, &[]);
    match verdict {
        Evaluation::Rejected(rejection) => assert_eq!(rejection.code(), "venue.closed"),
        other => panic!("expected the closure's rejection, found {other:?}"),
    }
}

#[test]
fn past_64_members_the_feed_a_rule_reads_is_still_named() {
    // 66 hubs: 65 other feeds advance, more than the 64 heads an event used to name (the
    // venue's qualification could fall out of that window).
    let mut w = World::new(66);
    w.author(0, batch("13-2026-CAF-01", 1));
    let serial = "13-2026-CAF-01-1".to_owned();
    w.author(0, hand_out(std::slice::from_ref(&serial), person(1)));
    let venue = w.qualified_venue(1, 1);
    for h in 2..66 {
        let departement = territories_of(h)[0].clone();
        w.author(h, batch(&format!("{departement}-2026-CAF-01"), 1));
    }
    for h in 1..66 {
        w.sync(h, 0);
    }
    let ledger = fold(&w);
    let me = w.hubs[0].id;
    assert_eq!(ledger.next_deps(&me).len(), 65);
    let (deps, verdict) = ledger.plan(
        me,
        (T0_MS + 86_400_000) << 16,
        &redeem(&serial, &venue, "2026-10-15"),
        &[],
    );
    assert_eq!(verdict, Evaluation::Accepted);
    assert!(deps.len() <= 2, "{deps:?}");
    assert!(deps.iter().any(|d| d.author == w.hubs[1].id), "{deps:?}");
}

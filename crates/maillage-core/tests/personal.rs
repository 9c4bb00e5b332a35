//! Personal parts (docs/protocol.md §2b, §5c): consensus never depends on them, an erasure
//! leaves nothing of the person in the views, and retention erases by the events' own dates.
#![allow(clippy::unwrap_used)]

mod world;

use maillage_core::ledger::VoucherStatus;
use maillage_core::{Ledger, PersonId, VerifiedEvent, pb};
use world::*;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn fold(world: &World, keep: impl Fn(&VerifiedEvent) -> bool) -> Ledger {
    let mut ledger = Ledger::new(world.charter.clone());
    for mut event in world.authored.iter().cloned() {
        if !keep(&event) {
            event.personal = None;
        }
        ledger.offer(event);
    }
    assert_eq!(ledger.pending_count(), 0);
    ledger
}

/// A ledger fed `runs` one after the other: a delivery order.
fn fold_runs(w: &World, runs: [&[VerifiedEvent]; 3]) -> Ledger {
    let mut ledger = Ledger::new(w.charter.clone());
    for event in runs.into_iter().flatten() {
        ledger.offer(event.clone());
    }
    assert_eq!(ledger.pending_count(), 0);
    ledger
}

const DIAGNOSTIC: &str = "ABC Diag : débutante, ne sait pas ouvrir un courriel";

/// Hub 0 hands 3 vouchers to person 1, opens a referral for them with a diagnostic, records
/// an accompaniment; hub 1's venue takes one voucher.
fn story() -> (World, Vec<String>) {
    let mut w = World::new(2);
    let sud = w.qualified_venue(0, 1);
    let aura = w.qualified_venue(1, 2);
    w.sync(1, 0);
    w.author(0, batch("13-2026-CAF-01", 3));
    let serials: Vec<String> = (1..=3).map(|n| format!("13-2026-CAF-01-{n}")).collect();
    w.author(0, hand_out(&serials, person(1)));
    w.author(
        0,
        pb::event::Body::ReferralOpened(pb::ReferralOpened {
            referral_id: "13-R1".into(),
            personal: personal(person(1), DIAGNOSTIC),
            prescriber: Some(pb::Prescriber {
                kind: "FT".into(),
                name: "France Travail Martigues".into(),
            }),
            needs: vec![SERVICE.into()],
            target_venue_id: aura.clone(),
            opened_on: "2026-10-01".into(),
            ..Default::default()
        }),
    );
    w.author(
        0,
        pb::event::Body::AccompanimentRecorded(pb::AccompanimentRecorded {
            personal: personal(person(1), ""),
            venue_id: sud.clone(),
            services: vec![SERVICE.into()],
            date: "2026-10-02".into(),
            duration_min: 60,
            mode: "individual".into(),
            ..Default::default()
        }),
    );
    w.author(0, redeem(&serials[0], &sud, "2026-10-03"));
    w.sync(0, 1);
    w.author(0, transfer(&serials[1..2], w.hubs[1].id));
    w.sync(0, 1);
    w.author(1, redeem(&serials[1], &aura, "2026-10-04"));
    w.sync(1, 0);
    (w, serials)
}

#[test]
fn verdicts_and_digest_are_the_same_with_or_without_personal_parts() {
    let (w, serials) = story();
    let all = fold(&w, |_| true);
    let none = fold(&w, |_| false);
    let some = fold(&w, |e| e.seq % 2 == 0);
    assert!(all.rejections().is_empty(), "{:?}", all.rejections());
    for other in [&none, &some] {
        assert_eq!(all.digest(), other.digest());
        assert_eq!(all.rejections(), other.rejections());
        for serial in &serials {
            let (a, b) = (all.voucher(serial).unwrap(), other.voucher(serial).unwrap());
            assert_eq!((a.status, a.owner), (b.status, b.owner), "{serial}");
        }
        assert_eq!(
            all.referral("13-R1").unwrap().status,
            other.referral("13-R1").unwrap().status
        );
    }
    // Person-linked views come from the parts a node holds.
    assert_eq!(all.voucher(&serials[2]).unwrap().person, Some(person(1)));
    assert_eq!(all.parcours(&person(1)).unwrap().len(), 5);
    assert_eq!(none.voucher(&serials[2]).unwrap().person, None);
    assert!(none.parcours(&person(1)).unwrap().is_empty());
    assert_eq!(none.referral("13-R1").unwrap().person, None);
}

#[test]
fn a_part_that_does_not_match_its_commitment_is_dropped_and_the_event_stands() {
    let (w, _) = story();
    let hand_out = w
        .authored
        .iter()
        .find(|e| matches!(e.body, Some(pb::event::Body::VouchersHandedOut(_))))
        .unwrap();
    let mut wire = hand_out.wire();
    assert!(!wire.personal.is_empty());
    let last = wire.personal.len() - 1;
    wire.personal[last] ^= 1;
    let event = maillage_core::verify_event(wire, &w.charter).unwrap();
    assert_eq!(event.id, hand_out.id);
    assert!(event.personal.is_none());
    // A part for another event's commitment does not attach either.
    let mut other = hand_out.clone();
    other.personal = None;
    let foreign = w
        .authored
        .iter()
        .find(|e| matches!(e.body, Some(pb::event::Body::AccompanimentRecorded(_))))
        .unwrap();
    assert!(!other.attach_personal(foreign.personal.clone().unwrap().bytes));
}

#[test]
fn a_snapshots_sections_decode_apart_and_join_into_the_same_views() {
    use maillage_core::ledger::SNAPSHOT_SECTIONS;
    let (w, _) = story();
    let ledger = fold(&w, |_| true);
    let sections: Vec<Vec<u8>> = (0..SNAPSHOT_SECTIONS)
        .map(|index| {
            let mut bytes = Vec::new();
            ledger
                .write_section(index, &mut |piece| {
                    bytes.extend_from_slice(piece);
                    Ok(())
                })
                .unwrap();
            bytes
        })
        .collect();
    let whole = ledger.to_snapshot().unwrap();
    assert_eq!(
        whole,
        sections.concat(),
        "the snapshot is its sections in order"
    );
    // Each section on its own thread, joined in whatever order they came.
    let charter = &w.charter;
    let mut decoded: Vec<_> = std::thread::scope(|scope| {
        let threads: Vec<_> = sections
            .iter()
            .enumerate()
            .map(|(index, bytes)| {
                scope.spawn(move || Ledger::read_section(charter, index, &mut &bytes[..]))
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().unwrap().unwrap())
            .collect()
    });
    decoded.reverse();
    let joined = Ledger::from_sections(w.charter.clone(), decoded).unwrap();
    assert_eq!(joined.to_snapshot().unwrap(), whole);
    assert_eq!(joined.digest(), ledger.digest());
    assert_eq!(joined.parcours(&person(1)), ledger.parcours(&person(1)));
    assert!(!ledger.person_vouchers(&person(1)).is_empty());
    assert_eq!(
        joined.person_vouchers(&person(1)),
        ledger.person_vouchers(&person(1))
    );
    assert_eq!(
        joined.person_referrals(&person(1)),
        ledger.person_referrals(&person(1))
    );
    // A section read as another, one missing or one twice: refused.
    let error = Ledger::read_section(&w.charter, 1, &mut &sections[0][..]).unwrap_err();
    assert!(error.contains("section 0 where section 1"), "{error}");
    let read = |index: usize| Ledger::read_section(&w.charter, index, &mut &sections[index][..]);
    let error = Ledger::from_sections(w.charter.clone(), vec![read(0).unwrap()]).unwrap_err();
    assert!(error.contains("not all there"), "{error}");
    let twice = vec![read(0).unwrap(), read(0).unwrap()];
    let error = Ledger::from_sections(w.charter.clone(), twice).unwrap_err();
    assert!(error.contains("not all there"), "{error}");
}

#[test]
fn an_erasure_leaves_nothing_of_the_person_in_the_views() {
    let (mut w, serials) = story();
    let mut ledger = fold(&w, |_| true);
    let before = ledger.to_snapshot().unwrap();
    assert!(contains(&before, &person(1).0));
    // The erasure names the events the author's views link to the person, never the person.
    let events = ledger.person_events(&person(1));
    assert_eq!(events.len(), 3);
    let forget = w.author(
        0,
        pb::event::Body::PersonForgotten(pb::PersonForgotten {
            events: events.iter().map(|id| id.0.to_vec()).collect(),
        }),
    );
    assert!(!contains(&forget.signed.payload, &person(1).0));
    let digest_before = ledger.digest();
    ledger.offer(forget.clone());
    assert_ne!(ledger.digest(), digest_before, "the erasure is an event");
    let erased = ledger.take_erasures();
    for id in &events {
        assert!(erased.contains(id));
        assert!(ledger.part_dropped(id));
    }
    let after = ledger.to_snapshot().unwrap();
    assert!(
        !contains(&after, &person(1).0),
        "the person's id is still in the views"
    );
    assert!(!contains(&after, DIAGNOSTIC.as_bytes()));
    assert!(ledger.is_forgotten(&person(1)));
    assert_eq!(ledger.parcours(&person(1)), None);
    assert!(ledger.person_vouchers(&person(1)).is_empty());
    assert!(ledger.person_referrals(&person(1)).is_empty());
    assert_eq!(ledger.voucher(&serials[2]).unwrap().person, None);
    assert_eq!(ledger.referral("13-R1").unwrap().person, None);
    // Statuses are unchanged, and a node that never held the parts has the same digest.
    assert_eq!(
        ledger.voucher(&serials[0]).unwrap().status,
        VoucherStatus::Redeemed
    );
    let restored = Ledger::from_snapshot(w.charter.clone(), &after).unwrap();
    assert_eq!(restored.digest(), ledger.digest());
    assert_eq!(restored.voucher(&serials[2]).unwrap().person, None);
    let without = fold(&w, |_| false);
    assert_eq!(without.digest(), ledger.digest());

    // A new hand-out to the forgotten person, arriving later with its part: not kept.
    w.author(0, batch("13-2026-CAF-02", 1));
    let late = w.author(0, hand_out(&["13-2026-CAF-02-1".into()], person(1)));
    let mut again = restored;
    for event in w.authored.iter().skip_while(|e| e.id != forget.id).skip(1) {
        again.offer(event.clone());
    }
    assert_eq!(again.take_erasures(), vec![late.id]);
    assert_eq!(again.voucher("13-2026-CAF-02-1").unwrap().person, None);
    assert!(!contains(&again.to_snapshot().unwrap(), &person(1).0));
}

/// An erasure that arrives before an event it names forgets the person that event's part
/// names when the event comes, as where it arrived after: every link to them erased on every
/// node, whatever the order (before, a node that got the erasure first dropped that one part
/// and kept the person's other links).
#[test]
fn an_erasure_arriving_before_the_event_it_names_forgets_the_person_all_the_same() {
    let mut w = World::new(2);
    let sud = w.qualified_venue(0, 1);
    w.author(0, batch("13-2026-CAF-01", 2));
    let serials: Vec<String> = (1..=2).map(|n| format!("13-2026-CAF-01-{n}")).collect();
    let named = w.author(0, hand_out(&serials, person(1)));
    let other = w.author(
        0,
        pb::event::Body::AccompanimentRecorded(pb::AccompanimentRecorded {
            personal: personal(person(1), ""),
            venue_id: sud,
            services: vec![SERVICE.into()],
            date: "2026-10-02".into(),
            duration_min: 60,
            mode: "individual".into(),
            ..Default::default()
        }),
    );
    // Hub 1 has not seen hub 0's events: its erasure's past does not hold the one it names.
    let forget = w.author(
        1,
        pb::event::Body::PersonForgotten(pb::PersonForgotten {
            events: vec![named.id.0.to_vec()],
        }),
    );
    let hub0: Vec<VerifiedEvent> = (w.authored.iter())
        .filter(|e| e.author == w.hubs[0].id)
        .cloned()
        .collect();
    for forget_first in [false, true] {
        let mut ledger = Ledger::new(w.charter.clone());
        if forget_first {
            ledger.offer(forget.clone());
        }
        for event in &hub0 {
            ledger.offer(event.clone());
        }
        if !forget_first {
            ledger.offer(forget.clone());
        }
        assert_eq!(ledger.pending_count(), 0);
        assert!(
            ledger.is_forgotten(&person(1)),
            "forget first: {forget_first}"
        );
        assert_eq!(ledger.parcours(&person(1)), None);
        assert!(ledger.person_vouchers(&person(1)).is_empty());
        assert_eq!(ledger.voucher(&serials[0]).unwrap().person, None);
        assert!(ledger.part_dropped(&named.id) && ledger.part_dropped(&other.id));
        assert!(!contains(&ledger.to_snapshot().unwrap(), &person(1).0));
    }
}

/// Three years of events from three hubs (k = 2), folded with the clock of its events: links
/// inactive for longer than the charter's retention (730 days) are erased, the others kept,
/// whatever the order; one hub's clock alone moves nothing.
#[test]
fn retention_erases_links_by_the_events_own_dates() {
    let mut w = World::with_threshold(3, 2);
    for h in 0..3 {
        w.qualified_venue(h, h + 1);
    }
    let ticks = |w: &mut World, h: usize, n: usize| {
        let dep = w.hubs[h].territories[0].clone();
        w.author(h, batch(&format!("{dep}-TICK-{n}"), 1));
    };
    w.author(0, batch("13-2026-CAF-01", 10));
    let hand = |w: &mut World, n: u32, who: PersonId| {
        w.author(0, hand_out(&[format!("13-2026-CAF-01-{n}")], who));
    };
    hand(&mut w, 1, person(1)); // day 0
    // Hub 2 alone runs three years ahead: k = 2, so nothing expires.
    w.advance_days(2, 3 * 365);
    ticks(&mut w, 2, 0);
    let alone = fold(&w, |_| true);
    assert_eq!(
        alone.voucher("13-2026-CAF-01-1").unwrap().person,
        Some(person(1))
    );
    // Then hubs 0 and 1 go on too: person 2 is met after a year, person 3 after three;
    // the last step is 100 days.
    for (step, days) in [365u64, 365, 365, 100].into_iter().enumerate() {
        for h in 0..2 {
            w.advance_days(h, days);
            ticks(&mut w, h, step + 1);
        }
        match step {
            0 => hand(&mut w, 2, person(2)),
            2 => hand(&mut w, 3, person(3)),
            _ => {}
        }
    }
    let mut all = fold(&w, |_| true);
    let (log_day, people) = all.retention_state();
    assert!(log_day > 0);
    assert_eq!(people, 1, "only person 3 is within retention");
    assert_eq!(all.voucher("13-2026-CAF-01-1").unwrap().person, None);
    assert_eq!(all.voucher("13-2026-CAF-01-2").unwrap().person, None);
    assert_eq!(
        all.voucher("13-2026-CAF-01-3").unwrap().person,
        Some(person(3))
    );
    let erased = all.take_erasures();
    assert_eq!(erased.len(), 2);
    let snapshot = all.to_snapshot().unwrap();
    assert!(!contains(&snapshot, &person(1).0));
    assert!(!contains(&snapshot, &person(2).0));
    // Feeds folded in reverse order: the same links kept, the same digest.
    let mut reversed = Ledger::new(w.charter.clone());
    for feed in w.feeds.values().rev() {
        for event in feed {
            reversed.offer(event.clone());
        }
    }
    assert_eq!(reversed.pending_count(), 0);
    assert_eq!(reversed.digest(), all.digest());
    assert_eq!(reversed.retention_state(), all.retention_state());
    for n in 1..=3 {
        let serial = format!("13-2026-CAF-01-{n}");
        assert_eq!(
            reversed.voucher(&serial).unwrap().person,
            all.voucher(&serial).unwrap().person
        );
    }
    // A node that never held the parts: the same digest.
    assert_eq!(fold(&w, |_| false).digest(), all.digest());
}

/// Retention counts from each part, so arrival order does not choose the links kept. A person
/// is met on day 0 and again on day 700 at one hub, while two other hubs (k = 2) move the log's
/// day to 800 without having seen the day-700 event. Counted from the person's latest activity,
/// a node that got the others' events first erased the day-0 link (the latest activity it knew
/// was day 0), where a node that got the day-700 event first kept it. Counted from each part:
/// both erase the day-0 part and keep the day-700 one.
#[test]
fn retention_keeps_the_same_links_whatever_the_order() {
    let mut w = World::with_threshold(3, 2);
    w.author(0, batch("13-2026-CAF-01", 2));
    w.author(0, hand_out(&["13-2026-CAF-01-1".into()], person(1))); // day 0
    let early = w.authored.len();
    w.advance_days(0, 700);
    w.author(0, hand_out(&["13-2026-CAF-01-2".into()], person(1))); // day 700
    for h in 1..3 {
        w.advance_days(h, 800);
        let dep = w.hubs[h].territories[0].clone();
        w.author(h, batch(&format!("{dep}-TICK"), 1));
    }
    let hub0: Vec<VerifiedEvent> = (w.authored.iter())
        .filter(|e| e.author == w.hubs[0].id)
        .cloned()
        .collect();
    let others: Vec<VerifiedEvent> = (w.authored.iter())
        .filter(|e| e.author != w.hubs[0].id)
        .cloned()
        .collect();
    let (before, after) = hub0.split_at(early);
    let late = fold_runs(&w, [before, &others, after]);
    let first = fold_runs(&w, [before, after, &others]);
    assert_eq!(late.digest(), first.digest());
    for ledger in [&late, &first] {
        assert_eq!(ledger.voucher("13-2026-CAF-01-1").unwrap().person, None);
        assert_eq!(
            ledger.voucher("13-2026-CAF-01-2").unwrap().person,
            Some(person(1))
        );
        assert_eq!(ledger.retention_state(), late.retention_state());
        assert_eq!(ledger.person_events(&person(1)).len(), 1);
    }
    let steps = |l: &Ledger| l.parcours(&person(1)).unwrap();
    assert_eq!(steps(&late), steps(&first));
    assert_eq!(steps(&late).len(), 1);
    assert_eq!(late.person_vouchers(&person(1)).len(), 1);
}

/// A step goes with the part it was made through, whatever its own day. A voucher handed out
/// on day 0 is redeemed on day 20, while two other hubs (k = 2) move the log's day to 740
/// without having seen the redemption. Counted from the person's latest activity, a node that
/// got the redemption first kept the person (active on day 20), one that got it last had
/// erased them on day 740 and traced nothing. Counted from the hand-out's part: both erase
/// it, its holder and the redemption's step.
#[test]
fn a_step_goes_with_the_part_it_was_made_through_in_any_order() {
    let mut w = World::with_threshold(3, 2);
    let venue = w.qualified_venue(0, 1);
    w.author(0, batch("13-2026-CAF-01", 1));
    w.author(0, hand_out(&["13-2026-CAF-01-1".into()], person(1))); // day 0
    let early = w.authored.len();
    w.advance_days(0, 20);
    w.author(0, redeem("13-2026-CAF-01-1", &venue, "2026-10-21")); // day 20
    for h in 1..3 {
        w.advance_days(h, 740);
        let dep = w.hubs[h].territories[0].clone();
        w.author(h, batch(&format!("{dep}-TICK"), 1));
    }
    let (mine, others): (Vec<VerifiedEvent>, Vec<VerifiedEvent>) =
        (w.authored.iter().cloned()).partition(|e| e.author == w.hubs[0].id);
    let (before, after) = mine.split_at(early);
    let late = fold_runs(&w, [before, &others, after]);
    let first = fold_runs(&w, [before, after, &others]);
    assert_eq!(late.digest(), first.digest());
    for ledger in [&late, &first] {
        let voucher = ledger.voucher("13-2026-CAF-01-1").unwrap();
        assert_eq!(voucher.status, VoucherStatus::Redeemed);
        assert_eq!(voucher.person, None);
        assert_eq!(ledger.parcours(&person(1)), Some(Vec::new()));
        assert!(ledger.person_vouchers(&person(1)).is_empty());
        assert!(ledger.person_events(&person(1)).is_empty());
        assert_eq!(ledger.retention_state().1, 0);
    }
}

/// Hub 0 hands a voucher to person 1 on day 0; hub 1 names that event in an erasure on day 5;
/// hubs 2 and 3 (k = 2) move the log's day to 740, past the part's retention. Returns the
/// world, the named event, the erasure, the two hubs' events and hub 0's.
fn erasure_and_expiry() -> (
    World,
    VerifiedEvent,
    VerifiedEvent,
    Vec<VerifiedEvent>,
    Vec<VerifiedEvent>,
) {
    let mut w = World::with_threshold(4, 2);
    w.author(0, batch("13-2026-CAF-01", 1));
    let named = w.author(0, hand_out(&["13-2026-CAF-01-1".into()], person(1))); // day 0
    w.advance_days(1, 5);
    let forget = w.author(
        1,
        pb::event::Body::PersonForgotten(pb::PersonForgotten {
            events: vec![named.id.0.to_vec()],
        }),
    );
    let mut ticks = Vec::new();
    for h in 2..4 {
        w.advance_days(h, 740);
        let dep = w.hubs[h].territories[0].clone();
        ticks.push(w.author(h, batch(&format!("{dep}-TICK"), 1)));
    }
    let hub0: Vec<VerifiedEvent> = (w.authored.iter())
        .filter(|e| e.author == w.hubs[0].id)
        .cloned()
        .collect();
    (w, named, forget, ticks, hub0)
}

/// A part already past retention when it arrives is dropped before anything else is decided
/// for it: an erasure that named it and came first forgets no one through it, as where the part
/// came in time, expired, and the erasure came after (before, the first order kept the
/// person's one-way name and dropped their later parts, the second did not).
#[test]
fn a_named_part_expired_on_arrival_forgets_no_one_in_any_order() {
    let (w, named, forget, ticks, hub0) = erasure_and_expiry();
    let erasure_first = fold_runs(&w, [std::slice::from_ref(&forget), &ticks, &hub0]);
    let part_first = fold_runs(&w, [&hub0, &ticks, std::slice::from_ref(&forget)]);
    for mut ledger in [erasure_first, part_first] {
        assert!(!ledger.is_forgotten(&person(1)));
        assert!(ledger.part_dropped(&named.id));
        assert!(ledger.take_erasures().contains(&named.id));
        assert_eq!(ledger.retention_state().1, 0);
    }
}

/// Open: an erasure that reaches a node after the part it names expired there forgets no one
/// (the node no longer knows whose part it was), where a node that got the erasure while the
/// part was kept forgets its person (their one-way name kept, their other parts dropped then
/// and on arrival). Settling it needs the person's one-way name without publishing it in the
/// log, nor keeping it beside every expired event: docs/protocol.md "Erasure".
#[test]
#[ignore = "open: an erasure after the part it names expired, see docs/protocol.md \"Erasure\""]
fn an_erasure_forgets_alike_before_and_after_the_part_it_names_expired() {
    let (w, _, forget, ticks, hub0) = erasure_and_expiry();
    let in_time = fold_runs(&w, [&hub0, std::slice::from_ref(&forget), &ticks]);
    let after_expiry = fold_runs(&w, [&hub0, &ticks, std::slice::from_ref(&forget)]);
    assert_eq!(
        in_time.is_forgotten(&person(1)),
        after_expiry.is_forgotten(&person(1))
    );
}

/// A person's records expire one by one, whichever came first: the part of day 0, arrived
/// between those of days 100 and 200, goes alone; the others stay linked (after a snapshot
/// too), and an erasure naming one of them forgets the person whole.
#[test]
fn a_persons_parts_expire_one_by_one_and_are_forgotten_together() {
    let mut w = World::with_threshold(4, 2);
    let serial = |w: &World, h: usize, n: u32| format!("{}-B-{n}", w.hubs[h].territories[0]);
    for h in 0..2 {
        let dep = w.hubs[h].territories[0].clone();
        w.author(h, batch(&format!("{dep}-B"), 3));
    }
    w.advance_days(0, 100);
    let first = w.author(0, hand_out(&[serial(&w, 0, 1)], person(1))); // day 100
    let old = w.author(1, hand_out(&[serial(&w, 1, 1)], person(1))); // day 0
    w.advance_days(0, 100);
    let last = w.author(0, hand_out(&[serial(&w, 0, 2)], person(1))); // day 200
    for h in 2..4 {
        w.advance_days(h, 740);
        let dep = w.hubs[h].territories[0].clone();
        w.author(h, batch(&format!("{dep}-TICK"), 1));
    }
    let mut ledger = fold(&w, |_| true);
    let mut kept = vec![first.id, last.id];
    kept.sort_unstable();
    assert_eq!(ledger.person_events(&person(1)), kept);
    assert!(ledger.part_dropped(&old.id));
    assert_eq!(ledger.voucher(&serial(&w, 1, 1)).unwrap().person, None);
    assert_eq!(ledger.person_vouchers(&person(1)).len(), 2);
    assert_eq!(ledger.parcours(&person(1)).unwrap().len(), 2);
    let restored = Ledger::from_snapshot(w.charter.clone(), &ledger.to_snapshot().unwrap());
    assert_eq!(restored.unwrap().person_events(&person(1)), kept);

    let forget = w.author(
        3,
        pb::event::Body::PersonForgotten(pb::PersonForgotten {
            events: vec![last.id.0.to_vec()],
        }),
    );
    ledger.offer(forget);
    assert!(ledger.is_forgotten(&person(1)));
    assert!(ledger.person_events(&person(1)).is_empty());
    assert!(ledger.person_vouchers(&person(1)).is_empty());
    assert!(ledger.part_dropped(&first.id));
    assert_eq!(ledger.retention_state().1, 0);
    // The erased records' days pass later: nothing left to erase, nothing else touched.
    let erased = ledger.take_erasures();
    w.advance_days(0, 1_000);
    let kept = hand_out(&[serial(&w, 0, 3)], person(2));
    let kept = w.author(0, kept);
    for h in 2..4 {
        w.advance_days(h, 365);
        let dep = w.hubs[h].territories[0].clone();
        ledger.offer(w.author(h, batch(&format!("{dep}-TOCK"), 1)));
    }
    ledger.offer(kept.clone());
    assert!(!erased.is_empty());
    assert!(ledger.take_erasures().is_empty());
    assert_eq!(ledger.person_events(&person(2)), vec![kept.id]);
}

/// The views find a person by the first four bytes of their id, confirmed by the record: a
/// member can draw ids that share them, and each person keeps their own records, through an
/// erasure of the one found first, a snapshot and new parts.
#[test]
fn people_whose_ids_share_their_first_bytes_keep_their_own_records() {
    let mut w = World::new(2);
    let look_alike = |k: u8| {
        let mut id = [1u8; 16];
        id[4] = k;
        PersonId(id)
    };
    w.author(0, batch("13-2026-CAF-01", 9));
    let serial = |n: u32| format!("13-2026-CAF-01-{n}");
    let mut parts: Vec<Vec<maillage_core::EventId>> = vec![Vec::new(); 4];
    for round in 0..2 {
        for k in 1..=3u8 {
            let n = u32::from(round * 3 + k);
            let event = w.author(0, hand_out(&[serial(n)], look_alike(k)));
            parts[usize::from(k)].push(event.id);
        }
    }
    for p in &mut parts {
        p.sort_unstable();
    }
    let mut ledger = fold(&w, |_| true);
    let check = |ledger: &Ledger, forgotten: &[u8]| {
        for k in 1..=3u8 {
            let gone = forgotten.contains(&k);
            let kept = if gone {
                vec![]
            } else {
                parts[usize::from(k)].clone()
            };
            assert_eq!(ledger.person_events(&look_alike(k)), kept, "person {k}");
            assert_eq!(ledger.person_vouchers(&look_alike(k)).len(), kept.len());
            assert_eq!(
                ledger.parcours(&look_alike(k)).map(|p| p.len()),
                (!gone).then_some(2)
            );
        }
    };
    check(&ledger, &[]);
    let forget = w.author(
        1,
        pb::event::Body::PersonForgotten(pb::PersonForgotten {
            events: vec![parts[1][0].0.to_vec()],
        }),
    );
    ledger.offer(forget);
    check(&ledger, &[1]);
    assert_eq!(ledger.retention_state().1, 2);
    let restored =
        Ledger::from_snapshot(w.charter.clone(), &ledger.to_snapshot().unwrap()).unwrap();
    check(&restored, &[1]);
    assert_eq!(restored.digest(), ledger.digest());
    // A new part of the forgotten person is not kept; one of another look-alike is.
    let mut again = restored;
    again.offer(w.author(0, hand_out(&[serial(7)], look_alike(1))));
    let fourth = w.author(0, hand_out(&[serial(8)], look_alike(4)));
    again.offer(fourth.clone());
    check(&again, &[1]);
    assert_eq!(again.person_events(&look_alike(4)), vec![fourth.id]);
}

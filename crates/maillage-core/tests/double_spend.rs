//! Double spending is impossible, not just unlikely: every attempt ends in exactly one
//! redemption and a named rejection or claim answer, whatever order events arrive in.
#![allow(clippy::unwrap_used)]

mod world;

use maillage_core::ledger::VoucherStatus;
use maillage_core::{Ledger, VerifiedEvent};
use world::*;

/// Folds the world's events in feed order, then again feed-reversed: same digest.
fn fold(world: &World) -> Ledger {
    let mut forward = Ledger::new(world.charter.clone());
    for event in world.all_events() {
        forward.offer(event);
    }
    let mut backward = Ledger::new(world.charter.clone());
    for feed in world.feeds.values().rev() {
        for event in feed {
            backward.offer(event.clone());
        }
    }
    assert_eq!(forward.pending_count(), 0);
    assert_eq!(
        forward.digest(),
        backward.digest(),
        "arrival order changed the state"
    );
    forward
}

fn rejection(ledger: &Ledger, event: &VerifiedEvent) -> String {
    ledger
        .rejections()
        .get(&event.id)
        .map(|r| r.reason())
        .unwrap_or_default()
}

fn redemptions(ledger: &Ledger, serial: &str) -> usize {
    ledger
        .voucher(serial)
        .map_or(0, |v| usize::from(v.status == VoucherStatus::Redeemed))
}

/// Hub 0 (Sud) issues 5 vouchers and hands them to a person; hub 0 and hub 1 have venues.
fn setup() -> (World, Vec<String>, String, String) {
    let mut w = World::new(3);
    let sud_venue = w.qualified_venue(0, 1);
    let aura_venue = w.qualified_venue(1, 2);
    w.author(0, batch("13-2026-CAF-01", 5));
    let serials: Vec<String> = (1..=5).map(|n| format!("13-2026-CAF-01-{n}")).collect();
    w.author(0, hand_out(&serials, person(1)));
    w.sync(1, 0);
    w.sync(0, 1);
    (w, serials, sud_venue, aura_venue)
}

#[test]
fn the_owner_redeeming_twice_gets_one_redemption() {
    let (mut w, serials, sud_venue, _) = setup();
    let first = w.author(0, redeem(&serials[0], &sud_venue, "2026-10-05"));
    let second = w.author(0, redeem(&serials[0], &sud_venue, "2026-10-06"));
    let ledger = fold(&w);
    assert!(!ledger.rejections().contains_key(&first.id));
    assert!(
        rejection(&ledger, &second).contains("déjà utilisé"),
        "{}",
        rejection(&ledger, &second)
    );
    assert_eq!(redemptions(&ledger, &serials[0]), 1);
    assert_eq!(
        ledger
            .voucher(&serials[0])
            .unwrap()
            .redemption
            .unwrap()
            .event,
        first.id
    );
}

/// The views keep a redemption's event by the place of the state it made: the same id comes
/// back in the voucher's state, in the rejection of a second redemption and after a snapshot,
/// with the claim a redemption answered.
#[test]
fn a_redemption_names_its_event_and_claim_after_a_settlement_and_a_snapshot() {
    let (mut w, serials, sud_venue, aura_venue) = setup();
    let claimed = w.author(1, claim(&serials[3], &aura_venue, "2026-10-05"));
    w.sync(1, 0);
    let redeemed = w.author(0, redeem(&serials[0], &sud_venue, "2026-10-05"));
    let accepted = w.author(
        0,
        answer_accept(&serials[3], &aura_venue, "2026-10-05", &claimed),
    );
    let settled = w.author(
        0,
        maillage_core::pb::event::Body::RedemptionsSettled(maillage_core::pb::RedemptionsSettled {
            venue_id: sud_venue.clone(),
            serials: vec![serials[0].clone()],
            amount_cents: 1000,
            period: "2026-10".into(),
        }),
    );
    let again = w.author(0, redeem(&serials[0], &sud_venue, "2026-10-06"));
    let ledger = fold(&w);
    for event in [&redeemed, &accepted, &settled] {
        assert!(
            !ledger.rejections().contains_key(&event.id),
            "{}",
            rejection(&ledger, event)
        );
    }
    assert!(
        rejection(&ledger, &again).contains(&redeemed.id.short()),
        "{}",
        rejection(&ledger, &again)
    );
    let restored =
        Ledger::from_snapshot(w.charter.clone(), &ledger.to_snapshot().unwrap()).unwrap();
    for ledger in [&ledger, &restored] {
        let voucher = ledger.voucher(&serials[0]).unwrap();
        assert!(voucher.settled);
        let redemption = voucher.redemption.unwrap();
        assert_eq!(
            (
                redemption.event,
                redemption.claim,
                redemption.venue_id.as_str()
            ),
            (redeemed.id, None, sud_venue.as_str())
        );
        let answered = ledger.voucher(&serials[3]).unwrap().redemption.unwrap();
        assert_eq!(
            (answered.event, answered.claim, answered.date.to_string()),
            (accepted.id, Some(claimed.id), "2026-10-05".to_owned())
        );
    }
}

#[test]
fn a_former_owner_cannot_redeem_after_transferring() {
    let (mut w, serials, sud_venue, aura_venue) = setup();
    let to = w.hubs[1].id;
    w.author(0, transfer(&serials[..2], to));
    let stale = w.author(0, redeem(&serials[0], &sud_venue, "2026-10-05"));
    w.sync(0, 1);
    let by_new_owner = w.author(1, redeem(&serials[0], &aura_venue, "2026-10-06"));
    let ledger = fold(&w);
    assert!(
        rejection(&ledger, &stale).contains("appartient à"),
        "{}",
        rejection(&ledger, &stale)
    );
    assert!(
        !ledger.rejections().contains_key(&by_new_owner.id),
        "{}",
        rejection(&ledger, &by_new_owner)
    );
    assert_eq!(redemptions(&ledger, &serials[0]), 1);
    assert_eq!(ledger.voucher(&serials[0]).unwrap().owner, to);
}

#[test]
fn a_non_owner_cannot_redeem_directly_nor_act_before_seeing_the_transfer() {
    let (mut w, serials, _, aura_venue) = setup();
    let direct = w.author(1, redeem(&serials[0], &aura_venue, "2026-10-05"));
    // The transfer exists, but hub 1 has not seen it when it redeems: still not the owner.
    let to = w.hubs[1].id;
    w.author(0, transfer(&serials[1..2], to));
    let blind = w.author(1, redeem(&serials[1], &aura_venue, "2026-10-05"));
    let ledger = fold(&w);
    assert!(
        rejection(&ledger, &direct).contains("appartient à"),
        "{}",
        rejection(&ledger, &direct)
    );
    assert!(
        rejection(&ledger, &blind).contains("appartient à"),
        "{}",
        rejection(&ledger, &blind)
    );
    assert_eq!(
        redemptions(&ledger, &serials[0]) + redemptions(&ledger, &serials[1]),
        0
    );
}

#[test]
fn a_claim_racing_an_owner_redemption_is_rejected_by_the_owner() {
    let (mut w, serials, sud_venue, aura_venue) = setup();
    // Hub 1 cannot reach the owner: its venue accepts the voucher and claims it.
    let claimed = w.author(1, claim(&serials[2], &aura_venue, "2026-10-05"));
    // Meanwhile the owner's own venue redeems the same voucher.
    let redeemed = w.author(0, redeem(&serials[2], &sud_venue, "2026-10-05"));
    // The link returns; the owner tries to accept the claim (a mistake), then rejects it.
    w.sync(1, 0);
    let wrong_accept = w.author(
        0,
        answer_accept(&serials[2], &aura_venue, "2026-10-05", &claimed),
    );
    let rejected = w.author(
        0,
        answer_reject(&claimed, "already redeemed at the owner's venue"),
    );
    let ledger = fold(&w);
    assert!(!ledger.rejections().contains_key(&claimed.id));
    assert!(!ledger.rejections().contains_key(&redeemed.id));
    assert!(
        rejection(&ledger, &wrong_accept).contains("déjà utilisé"),
        "{}",
        rejection(&ledger, &wrong_accept)
    );
    assert!(
        !ledger.rejections().contains_key(&rejected.id),
        "{}",
        rejection(&ledger, &rejected)
    );
    let answer = &ledger.claims()[&claimed.id];
    assert_eq!(answer.accepted, Some(false));
    assert_eq!(redemptions(&ledger, &serials[2]), 1);
}

#[test]
fn a_claim_answered_later_becomes_the_one_redemption() {
    let (mut w, serials, _, aura_venue) = setup();
    let claimed = w.author(1, claim(&serials[3], &aura_venue, "2026-10-05"));
    w.sync(1, 0);
    let accepted = w.author(
        0,
        answer_accept(&serials[3], &aura_venue, "2026-10-05", &claimed),
    );
    let again = w.author(
        0,
        answer_accept(&serials[3], &aura_venue, "2026-10-05", &claimed),
    );
    let ledger = fold(&w);
    assert!(
        !ledger.rejections().contains_key(&accepted.id),
        "{}",
        rejection(&ledger, &accepted)
    );
    assert!(!rejection(&ledger, &again).is_empty());
    assert_eq!(ledger.claims()[&claimed.id].accepted, Some(true));
    assert_eq!(redemptions(&ledger, &serials[3]), 1);
    // A voucher's claims are found by its serial, before and after a snapshot round trip.
    let restored =
        Ledger::from_snapshot(w.charter.clone(), &ledger.to_snapshot().unwrap()).unwrap();
    for ledger in [&ledger, &restored] {
        let on: Vec<_> = ledger.claims_on(&serials[3]).map(|c| c.event).collect();
        assert_eq!(on, vec![claimed.id]);
        assert_eq!(ledger.claims_on(&serials[2]).count(), 0);
        assert_eq!(ledger.unanswered_claims().count(), 0);
    }
}

#[test]
fn a_claim_is_unanswered_until_its_owner_answers_it() {
    let (mut w, serials, _, aura_venue) = setup();
    let claimed = w.author(1, claim(&serials[4], &aura_venue, "2026-10-05"));
    let ledger = fold(&w);
    let restored =
        Ledger::from_snapshot(w.charter.clone(), &ledger.to_snapshot().unwrap()).unwrap();
    for ledger in [&ledger, &restored] {
        let open: Vec<_> = ledger.unanswered_claims().map(|c| c.event).collect();
        assert_eq!(open, vec![claimed.id]);
    }
    w.sync(1, 0);
    w.author(0, answer_reject(&claimed, "déjà utilisé ailleurs"));
    assert_eq!(fold(&w).unanswered_claims().count(), 0);
}

#[test]
fn unqualified_revoked_and_late_redemptions_are_named() {
    let (mut w, serials, sud_venue, _) = setup();
    // A venue registered but never qualified.
    let record = w.venue_record(0, 9);
    let unqualified = maillage_core::venues::venue_id(&w.hubs[0].id, &record.id);
    w.author(
        0,
        maillage_core::pb::event::Body::VenueRegistered(maillage_core::pb::VenueRegistered {
            venue_id: unqualified.clone(),
            record: Some(record),
        }),
    );
    let at_unqualified = w.author(0, redeem(&serials[0], &unqualified, "2026-10-05"));
    let late = w.author(0, redeem(&serials[1], &sud_venue, "2027-02-01"));
    w.author(
        0,
        maillage_core::pb::event::Body::VenueQualificationRevoked(
            maillage_core::pb::VenueQualificationRevoked {
                venue_id: sud_venue.clone(),
                reason: "audit failed".into(),
            },
        ),
    );
    let at_revoked = w.author(0, redeem(&serials[2], &sud_venue, "2026-10-05"));
    let ledger = fold(&w);
    assert!(
        rejection(&ledger, &at_unqualified).contains("n'est pas qualifié"),
        "{}",
        rejection(&ledger, &at_unqualified)
    );
    assert!(
        rejection(&ledger, &late).contains("date limite d'encaissement"),
        "{}",
        rejection(&ledger, &late)
    );
    assert!(
        rejection(&ledger, &at_revoked).contains("n'est pas qualifié"),
        "{}",
        rejection(&ledger, &at_revoked)
    );
    for serial in &serials[..3] {
        assert_eq!(redemptions(&ledger, serial), 0);
    }
}

#[test]
fn a_restored_ledger_keeps_folding_like_the_original() {
    let (mut w, serials, sud_venue, _) = setup();
    let mut original = Ledger::new(w.charter.clone());
    for event in w.all_events() {
        original.offer(event);
    }
    let mut restored =
        Ledger::from_snapshot(w.charter.clone(), &original.to_snapshot().unwrap()).unwrap();
    let later = w.author(0, redeem(&serials[4], &sud_venue, "2026-10-07"));
    let twice = w.author(0, redeem(&serials[4], &sud_venue, "2026-10-08"));
    for ledger in [&mut original, &mut restored] {
        ledger.offer(later.clone());
        ledger.offer(twice.clone());
    }
    assert_eq!(restored.digest(), original.digest());
    assert!(rejection(&restored, &twice).contains("déjà utilisé"));
    let other = World::new(2);
    let err =
        Ledger::from_snapshot(other.charter.clone(), &original.to_snapshot().unwrap()).unwrap_err();
    assert!(err.contains("another federation"), "{err}");
}

#[test]
fn the_digest_follows_every_applied_event() {
    let (mut w, serials, sud_venue, _) = setup();
    let redeemed = w.author(0, redeem(&serials[4], &sud_venue, "2026-10-07"));
    let twice = w.author(0, redeem(&serials[4], &sud_venue, "2026-10-08"));
    // Asked after every event, the digest is never one of the views as they were before.
    let mut stepwise = Ledger::new(w.charter.clone());
    let mut seen = std::collections::BTreeSet::new();
    for event in w.all_events() {
        let applied = stepwise.applied_count();
        stepwise.offer(event.clone());
        if stepwise.applied_count() > applied {
            assert!(
                seen.insert(stepwise.digest()),
                "the digest did not change when an event was applied"
            );
        }
        // Offering it again applies nothing: the digest stays.
        let before = stepwise.digest();
        stepwise.offer(event);
        assert_eq!(stepwise.digest(), before);
    }
    assert_eq!(stepwise.applied_count(), w.all_events().len() as u64);
    assert!(rejection(&stepwise, &twice).contains("déjà utilisé"));
    assert!(stepwise.rejections().get(&redeemed.id).is_none());
    let mut at_once = Ledger::new(w.charter.clone());
    for event in w.all_events() {
        at_once.offer(event);
    }
    assert_eq!(stepwise.digest(), at_once.digest());
    assert_eq!(stepwise.digest(), at_once.clone().digest());
}

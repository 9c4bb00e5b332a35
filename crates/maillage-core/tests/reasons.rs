//! Rules every client must meet, not just this one's CLI: a decline, a cancellation and a
//! revocation say why, and a referral cannot expire before it opens. An event breaking one of
//! them is rejected by every node; the same event with the field filled in is applied.
#![allow(clippy::unwrap_used)]

mod world;

use maillage_core::{Ledger, VerifiedEvent, pb};
use world::*;

fn fold(world: &World) -> Ledger {
    let mut ledger = Ledger::new(world.charter.clone());
    for event in world.all_events() {
        ledger.offer(event);
    }
    assert_eq!(ledger.pending_count(), 0);
    ledger
}

fn verdict(ledger: &Ledger, event: &VerifiedEvent) -> Option<String> {
    ledger.rejections().get(&event.id).map(|r| r.reason())
}

fn referral(id: &str, target: &str, opened_on: &str, expires_on: &str) -> pb::event::Body {
    pb::event::Body::ReferralOpened(pb::ReferralOpened {
        referral_id: id.into(),
        personal: maillage_core::personal::seal(person(3), "", [1; 16])
            .unwrap()
            .0
            .to_vec(),
        prescriber: Some(pb::Prescriber {
            kind: "CAF".into(),
            name: "CAF 13".into(),
        }),
        needs: vec![SERVICE.into()],
        target_venue_id: target.into(),
        opened_on: opened_on.into(),
        expires_on: expires_on.into(),
        ..Default::default()
    })
}

#[test]
fn a_decline_a_cancellation_and_a_revocation_need_a_reason() {
    let mut w = World::new(2);
    let venue = w.qualified_venue(0, 1);
    w.author(0, batch("13-2026-CAF-01", 4));
    w.author(0, referral("13-R1", &venue, "2026-10-01", ""));
    w.author(0, referral("13-R2", &venue, "2026-10-01", ""));
    let blank = " ";
    let decline = |id: &str, reason: &str| {
        pb::event::Body::ReferralDeclined(pb::ReferralDeclined {
            referral_id: id.into(),
            reason: reason.into(),
        })
    };
    let cancel = |n: u32, reason: &str| {
        pb::event::Body::VoucherCancelled(pb::VoucherCancelled {
            serials: vec![format!("13-2026-CAF-01-{n}")],
            reason: reason.into(),
        })
    };
    let revoke = |reason: &str| {
        pb::event::Body::VenueQualificationRevoked(pb::VenueQualificationRevoked {
            venue_id: venue.clone(),
            reason: reason.into(),
        })
    };
    let declined_blank = w.author(0, decline("13-R1", blank));
    let declined = w.author(0, decline("13-R2", "no workshop before January"));
    let cancelled_blank = w.author(0, cancel(1, ""));
    let cancelled = w.author(0, cancel(2, "carnet lost"));
    let revoked_blank = w.author(0, revoke(""));
    let revoked = w.author(0, revoke("the venue closed its digital corner"));
    let ledger = fold(&w);
    assert_eq!(
        verdict(&ledger, &declined_blank).as_deref(),
        Some("reason : un motif est requis, aucun n'est donné")
    );
    assert_eq!(verdict(&ledger, &declined), None);
    assert_eq!(
        verdict(&ledger, &cancelled_blank).as_deref(),
        Some("reason : un motif est requis, aucun n'est donné")
    );
    assert_eq!(verdict(&ledger, &cancelled), None);
    assert_eq!(
        verdict(&ledger, &revoked_blank).as_deref(),
        Some("reason : un motif est requis, aucun n'est donné")
    );
    assert_eq!(verdict(&ledger, &revoked), None);
}

#[test]
fn a_referral_cannot_expire_before_it_opens() {
    let mut w = World::new(2);
    let venue = w.qualified_venue(0, 1);
    let backwards = w.author(0, referral("13-R1", &venue, "2026-10-01", "2026-09-30"));
    let same_day = w.author(0, referral("13-R2", &venue, "2026-10-01", "2026-10-01"));
    let ledger = fold(&w);
    assert_eq!(
        verdict(&ledger, &backwards).as_deref(),
        Some(
            "expires_on : attendu un jour égal ou postérieur à opened_on 2026-10-01, reçu 2026-09-30"
        )
    );
    assert_eq!(verdict(&ledger, &same_day), None);
}

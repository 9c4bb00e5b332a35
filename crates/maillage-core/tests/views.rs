//! The venue directory's search: by département, service, public, qualification, distance.
#![allow(clippy::unwrap_used)]

mod world;

use maillage_core::date::parse_date;
use maillage_core::ledger::{VenueQuery, distance_km};
use maillage_core::{Ledger, pb};
use world::*;

#[test]
fn venues_are_found_by_every_criterion() {
    let mut w = World::new(2);
    let qualified = w.qualified_venue(0, 1);
    let mut record = w.venue_record(0, 2);
    record.latitude_micro = Some(43_296_482); // Marseille
    record.longitude_micro = Some(5_369_780);
    record.publics_specifiquement_adresses = vec!["Seniors".into()];
    let near_id = maillage_core::venues::venue_id(&w.hubs[0].id, &record.id);
    w.author(
        0,
        pb::event::Body::VenueRegistered(pb::VenueRegistered {
            venue_id: near_id.clone(),
            record: Some(record),
        }),
    );
    let other_hub = w.qualified_venue(1, 3);
    let mut ledger = Ledger::new(w.charter.clone());
    for event in w.all_events() {
        ledger.offer(event);
    }
    let ids = |q: &VenueQuery| -> Vec<String> {
        ledger
            .search_venues(q)
            .iter()
            .map(|(v, _)| v.venue_id.clone())
            .collect()
    };

    assert_eq!(ids(&VenueQuery::default()).len(), 3);
    let by_dep = ids(&VenueQuery {
        departement: Some("04".into()),
        ..VenueQuery::default()
    });
    assert!(
        by_dep.contains(&qualified) && by_dep.contains(&near_id) && !by_dep.contains(&other_hub)
    );
    let qualified_now = ids(&VenueQuery {
        qualified_on: parse_date("2026-10-01"),
        ..VenueQuery::default()
    });
    assert_eq!(qualified_now.len(), 2);
    assert!(!qualified_now.contains(&near_id));
    let expired = ids(&VenueQuery {
        qualified_on: parse_date("2028-01-01"),
        ..VenueQuery::default()
    });
    assert!(expired.is_empty(), "qualifications end on 2027-12-31");
    let seniors = ids(&VenueQuery {
        public: Some("Seniors".into()),
        ..VenueQuery::default()
    });
    assert_eq!(seniors, vec![near_id.clone()]);
    // Aix-en-Provence is ~25 km from Marseille.
    let aix = (43_529_742, 5_447_427);
    let near = ledger.search_venues(&VenueQuery {
        near: Some((aix.0, aix.1, 30.0)),
        ..VenueQuery::default()
    });
    assert_eq!(near.len(), 1);
    let d = near[0].1.unwrap();
    assert!((20.0..30.0).contains(&d), "{d}");
    assert!(
        ids(&VenueQuery {
            near: Some((aix.0, aix.1, 10.0)),
            ..VenueQuery::default()
        })
        .is_empty()
    );
    assert!((distance_km(0, 0, 0, 1_000_000) - 111.19).abs() < 0.1);
}

//! The venues simulated hubs register, update and qualify for vouchers.
//!
//! Where the national map has venues in a hub's département, the hub registers real records:
//! `data/venues-excerpt.json` holds the first three usable records of each of nineteen
//! départements, in file order, from three real exports (Licence Ouverte 2.0, credit "La
//! MedNum / ANCT cartographie nationale" and the hubs: Charente 2023-07-11 for 16, Hub du Sud
//! 2023-05-17 for 04, 05, 06, 13, 83, 84, Hinaura 2022 for 01, 03, 07, 15, 26, 38, 42, 43, 63,
//! 69, 73, 74), read with the project's importer (`maillage-venues`) as a hub would. A real
//! record cannot be moved to another département (its département comes from its postal and
//! INSEE codes, and the rules check it), so the other départements get generated venues with
//! a Luhn-valid SIRET and a postal code of the département.
//!
//! Qualification needs a traceable payee. Most real records carry the placeholder pivot
//! `00000000000000`: the hub then signs a `VenueUpdated` with the SIRET its on-site check
//! found (generated here, Luhn-valid) before `VenueQualified`, as it would in the field.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use maillage_core::venues::venue_id;
use maillage_core::vocab::Service;
use maillage_core::{HubId, pb};
use sha2::{Digest, Sha256};

/// The embedded excerpt of real exports.
pub const EXCERPT: &str = include_str!("../data/venues-excerpt.json");

/// Where a simulated venue's record comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// A real record with a real SIRET.
    Real,
    /// A real record whose placeholder pivot the hub completes before qualifying.
    RealWithoutPivot,
    /// Generated for a département the excerpt does not cover.
    Generated,
}

/// A venue a hub registers.
#[derive(Debug, Clone)]
pub struct SimVenue {
    /// The record as registered.
    pub record: pb::VenueRecord,
    /// Its origin.
    pub provenance: Provenance,
    /// The services it is qualified for (v1 names).
    pub services: Vec<String>,
}

/// Real records by département, as the importer accepted them, in excerpt order.
fn real_records() -> &'static BTreeMap<String, Vec<pb::VenueRecord>> {
    static RECORDS: OnceLock<BTreeMap<String, Vec<pb::VenueRecord>>> = OnceLock::new();
    RECORDS.get_or_init(|| {
        let mut by_departement: BTreeMap<String, Vec<pb::VenueRecord>> = BTreeMap::new();
        let options = maillage_venues::ImportOptions::default();
        if let Ok(batch) = maillage_venues::parse(
            EXCERPT.as_bytes(),
            maillage_venues::InputFormat::Json,
            &options,
        ) {
            for (record, departement) in batch.accepted() {
                by_departement
                    .entry(departement.to_string())
                    .or_default()
                    .push(record.clone());
            }
        }
        by_departement
    })
}

/// Départements the excerpt covers, and how many real records each has.
pub fn real_coverage() -> BTreeMap<String, usize> {
    real_records()
        .iter()
        .map(|(d, r)| (d.clone(), r.len()))
        .collect()
}

/// A 14-digit SIRET passing the Luhn check, derived from `label`.
pub fn siret(label: &str) -> String {
    let digest = Sha256::digest(label.as_bytes());
    let mut digits: Vec<u32> = digest.iter().take(13).map(|b| u32::from(b % 10)).collect();
    // Never the placeholder, never a leading zero.
    digits[0] = digits[0].max(1);
    // The check digit is the rightmost: digits at even positions from the right (2nd, 4th…)
    // are doubled; the 13 payload digits sit at positions 2..=14.
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                *d
            }
        })
        .sum();
    digits.push((10 - sum % 10) % 10);
    digits.iter().map(|d| char::from(b'0' + *d as u8)).collect()
}

/// Postal and INSEE codes of a generated venue in `departement`.
fn codes(departement: &str) -> (String, String) {
    match departement {
        "2A" => ("20000".into(), "2A004".into()),
        "2B" => ("20200".into(), "2B033".into()),
        d if d.len() == 3 => (format!("{d}00"), format!("{d}01")),
        d => (format!("{d}000"), String::new()),
    }
}

/// Services a venue is qualified for: those of its record the voucher rules know, else two.
fn qualified_services(record: &pb::VenueRecord) -> Vec<String> {
    let known: Vec<String> = record
        .services
        .iter()
        .filter(|s| Service::parse(s).is_some())
        .cloned()
        .collect();
    if known.is_empty() {
        vec![Service::Outils.to_string(), Service::Demarches.to_string()]
    } else {
        known
    }
}

/// The `count` venues of the hub holding `departement`: real records first, then generated.
pub fn venues_for(departement: &str, count: usize) -> Vec<SimVenue> {
    let real = real_records()
        .get(departement)
        .map(Vec::as_slice)
        .unwrap_or_default();
    (0..count)
        .map(|n| match real.get(n) {
            Some(record) => {
                let placeholder =
                    record.pivot.is_empty() || record.pivot.bytes().all(|b| b == b'0');
                SimVenue {
                    services: qualified_services(record),
                    provenance: if placeholder {
                        Provenance::RealWithoutPivot
                    } else {
                        Provenance::Real
                    },
                    record: record.clone(),
                }
            }
            None => {
                let (code_postal, code_insee) = codes(departement);
                let record = pb::VenueRecord {
                    id: format!("sim-{departement}-{}", n + 1),
                    pivot: siret(&format!("venue {departement} {n}")),
                    nom: format!("Espace numérique simulé {departement}-{}", n + 1),
                    commune: format!("Commune simulée ({departement})"),
                    code_postal,
                    code_insee,
                    adresse: format!("{} place de la Mairie", n + 1),
                    date_maj: "2026-01-01".into(),
                    source: "simulation".into(),
                    services: vec![Service::Outils.to_string(), Service::Demarches.to_string()],
                    ..Default::default()
                };
                SimVenue {
                    services: qualified_services(&record),
                    provenance: Provenance::Generated,
                    record,
                }
            }
        })
        .collect()
}

/// The events a hub signs for its venues: register, complete the pivot if needed, qualify.
pub fn bodies(hub: &HubId, venues: &[SimVenue]) -> Vec<pb::event::Body> {
    let mut bodies = Vec::new();
    for venue in venues {
        let id = venue_id(hub, &venue.record.id);
        bodies.push(pb::event::Body::VenueRegistered(pb::VenueRegistered {
            venue_id: id.clone(),
            record: Some(venue.record.clone()),
        }));
        if venue.provenance == Provenance::RealWithoutPivot {
            let mut record = venue.record.clone();
            record.pivot = siret(&format!("on-site check {}", record.id));
            bodies.push(pb::event::Body::VenueUpdated(pb::VenueUpdated {
                venue_id: id.clone(),
                record: Some(record),
            }));
        }
        bodies.push(pb::event::Body::VenueQualified(pb::VenueQualified {
            venue_id: id,
            scheme: "pass-numerique".into(),
            valid_until: "2027-12-31".into(),
            services: venue.services.clone(),
        }));
    }
    bodies
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_excerpt_imports_three_venues_per_departement() {
        let coverage = real_coverage();
        assert_eq!(coverage.len(), 19, "{coverage:?}");
        assert!(coverage.values().all(|n| *n == 3), "{coverage:?}");
        // Charente's records carry real SIRETs.
        let charente = venues_for("16", 3);
        assert!(charente.iter().all(|v| v.provenance == Provenance::Real));
        let sud = venues_for("13", 4);
        assert_eq!(sud[0].provenance, Provenance::RealWithoutPivot);
        assert_eq!(sud[3].provenance, Provenance::Generated);
    }

    #[test]
    fn generated_venues_pass_the_importer_and_their_departements_derive() {
        // The project's importer checks SIRETs (Luhn) and départements: generated records
        // and completed pivots must raise nothing on the pivot.
        let mut records: Vec<pb::VenueRecord> =
            venues_for("33", 60).into_iter().map(|v| v.record).collect();
        for n in 0..60 {
            let mut record = records[0].clone();
            record.id = format!("completed-{n}");
            record.pivot = siret(&format!("on-site check {n}"));
            records.push(record);
        }
        let mut csv = Vec::new();
        maillage_venues::export_csv_v1(&records, &mut csv).unwrap();
        let options = maillage_venues::ImportOptions::for_territories(["33"]).unwrap();
        let batch =
            maillage_venues::parse(&csv, maillage_venues::InputFormat::Auto, &options).unwrap();
        assert_eq!(batch.accepted().count(), records.len());
        for row in &batch.rows {
            assert!(
                !row.issues().iter().any(|i| i.field == "pivot"),
                "{:?}",
                row.issues()
            );
        }
        for d in ["2A", "2B", "974", "01", "33", "976"] {
            let v = &venues_for(d, 1)[0];
            let insee = Some(v.record.code_insee.as_str()).filter(|c| !c.is_empty());
            assert_eq!(
                maillage_core::territory::departement_of(insee, &v.record.code_postal).unwrap(),
                d
            );
        }
    }
}

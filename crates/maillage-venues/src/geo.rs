//! Départements: validation, derivation from INSEE and postal codes, and a coarse plausibility
//! check of coordinates.

use crate::issue::{FieldIssue, IssueKind, Severity};

use maillage_core::excerpt::Excerpt;
use maillage_core::territory::{self, TerritoryError};
use maillage_core::tr;

pub use maillage_core::territory::is_departement_code;
pub(crate) use maillage_core::territory::is_insee_code;

/// The département of a valid INSEE commune code, as a row issue on `code_insee`.
pub(crate) fn departement_from_insee(code_insee: &str) -> Result<String, FieldIssue> {
    territory::departement_from_insee(code_insee).map_err(|e| issue(code_insee, &e))
}

/// The département of a 5-digit postal code, as a row issue on `code_postal`. Corsica
/// (`20…`) cannot be split into 2A/2B from the postal code alone.
pub(crate) fn departement_from_postal(code_postal: &str) -> Result<String, FieldIssue> {
    territory::departement_from_postal(code_postal).map_err(|e| issue(code_postal, &e))
}

/// The département of a venue: from `code_insee` when it is a valid commune code, else from
/// `code_postal` (97x/98x give 3 digits; 20xxx needs `code_insee`; 00 and 96 are invalid).
/// The rule itself lives in `maillage_core::territory`, shared with the fold.
///
/// # Errors
/// A [`FieldIssue`] on `code_postal` (or `code_insee`) saying why no département can be
/// derived.
pub fn departement(code_insee: Option<&str>, code_postal: &str) -> Result<String, FieldIssue> {
    match code_insee
        .filter(|c| !c.is_empty())
        .map(departement_from_insee)
    {
        Some(Ok(dep)) => Ok(dep),
        _ => departement_from_postal(code_postal),
    }
}

fn issue(value: &str, error: &TerritoryError) -> FieldIssue {
    let (field, kind) = match error {
        TerritoryError::InseeMalformed { .. } => ("code_insee", IssueKind::Malformed),
        TerritoryError::InseeNoDepartement { .. } => ("code_insee", IssueKind::Malformed),
        TerritoryError::PostalMalformed { .. } => ("code_postal", IssueKind::Malformed),
        TerritoryError::PostalCorsica { .. } => ("code_postal", IssueKind::Missing),
        _ => ("code_postal", IssueKind::OutOfRange),
    };
    FieldIssue::new(Severity::Error, kind, field, value, territory_reason(error))
}

/// Why no département can be derived, in the current language (the input as an excerpt).
fn territory_reason(error: &TerritoryError) -> String {
    match error {
        TerritoryError::NotADepartement { found } => tr!(
            "attendu : un code de département INSEE (01..95, 2A, 2B, 971..978, 984, 986..989), \
             trouvé : {}",
            "expected an INSEE département code (01..95, 2A, 2B, 971..978, 984, 986..989), \
             found {}",
            Excerpt::of(found)
        ),
        TerritoryError::InseeMalformed { found } => tr!(
            "attendu : un code commune INSEE de 5 caractères (par exemple 51454, 2A004), \
             trouvé : {}",
            "expected a 5-character INSEE commune code (e.g. 51454, 2A004), found {}",
            Excerpt::of(found)
        ),
        TerritoryError::InseeNoDepartement { code, prefix } => tr!(
            "le code INSEE {} commence par {}, qui n'est pas un département",
            "INSEE code {} starts with {}, which is no département",
            Excerpt::of(code),
            Excerpt::of(prefix)
        ),
        TerritoryError::PostalMalformed { found } => tr!(
            "attendu : 5 chiffres, trouvé : {}",
            "expected 5 digits, found {}",
            Excerpt::of(found)
        ),
        TerritoryError::PostalCorsica { code } => tr!(
            "le code postal {code} est en Corse : le département (2A ou 2B) ne se déduit pas \
             d'un code postal ; il faut un code_insee valide",
            "postal code {code} is in Corsica: the département (2A or 2B) cannot be derived from \
             a postal code; a valid code_insee is needed"
        ),
        TerritoryError::PostalMonaco { code } => tr!(
            "le code postal {code} est à Monaco, pas dans un département français",
            "postal code {code} is in Monaco, not in a French département"
        ),
        TerritoryError::PostalNoDepartement { code, prefix } => tr!(
            "le code postal {code} commence par {}, qui n'est pas un département",
            "postal code {code} starts with {}, which is no département",
            Excerpt::of(prefix)
        ),
        _ => error.to_string(),
    }
}

/// A reference point (prefecture, or centre for overseas) and the distance within which a
/// venue of the département is plausible.
struct Reference {
    lat: f64,
    lon: f64,
    radius_km: f64,
}

/// Metropolitan prefectures, in the order `01`…`95` with `2A`, `2B` in place of `20`.
const METRO: [(&str, f64, f64); 96] = [
    ("01", 46.205, 5.226),
    ("02", 49.564, 3.620),
    ("03", 46.566, 3.333),
    ("04", 44.092, 6.236),
    ("05", 44.559, 6.079),
    ("06", 43.710, 7.262),
    ("07", 44.735, 4.599),
    ("08", 49.762, 4.726),
    ("09", 42.965, 1.607),
    ("10", 48.297, 4.074),
    ("11", 43.213, 2.351),
    ("12", 44.350, 2.575),
    ("13", 43.296, 5.370),
    ("14", 49.183, -0.371),
    ("15", 44.926, 2.440),
    ("16", 45.648, 0.156),
    ("17", 46.160, -1.151),
    ("18", 47.081, 2.399),
    ("19", 45.267, 1.772),
    ("2A", 41.919, 8.739),
    ("2B", 42.697, 9.451),
    ("21", 47.322, 5.041),
    ("22", 48.514, -2.765),
    ("23", 46.171, 1.872),
    ("24", 45.184, 0.721),
    ("25", 47.238, 6.024),
    ("26", 44.933, 4.892),
    ("27", 49.027, 1.151),
    ("28", 48.446, 1.489),
    ("29", 47.996, -4.102),
    ("30", 43.837, 4.360),
    ("31", 43.605, 1.444),
    ("32", 43.646, 0.586),
    ("33", 44.838, -0.579),
    ("34", 43.611, 3.877),
    ("35", 48.117, -1.678),
    ("36", 46.811, 1.686),
    ("37", 47.394, 0.685),
    ("38", 45.188, 5.724),
    ("39", 46.675, 5.555),
    ("40", 43.894, -0.500),
    ("41", 47.586, 1.336),
    ("42", 45.440, 4.387),
    ("43", 45.043, 3.885),
    ("44", 47.218, -1.554),
    ("45", 47.903, 1.909),
    ("46", 44.448, 1.441),
    ("47", 44.203, 0.616),
    ("48", 44.518, 3.500),
    ("49", 47.478, -0.563),
    ("50", 49.116, -1.091),
    ("51", 48.957, 4.363),
    ("52", 48.111, 5.139),
    ("53", 48.073, -0.770),
    ("54", 48.692, 6.184),
    ("55", 48.772, 5.160),
    ("56", 47.658, -2.760),
    ("57", 49.120, 6.176),
    ("58", 46.990, 3.159),
    ("59", 50.629, 3.057),
    ("60", 49.430, 2.081),
    ("61", 48.432, 0.091),
    ("62", 50.291, 2.777),
    ("63", 45.778, 3.087),
    ("64", 43.295, -0.371),
    ("65", 43.233, 0.078),
    ("66", 42.699, 2.895),
    ("67", 48.573, 7.752),
    ("68", 48.079, 7.358),
    ("69", 45.764, 4.836),
    ("70", 47.619, 6.154),
    ("71", 46.307, 4.828),
    ("72", 48.006, 0.199),
    ("73", 45.564, 5.918),
    ("74", 45.899, 6.129),
    ("75", 48.857, 2.352),
    ("76", 49.443, 1.100),
    ("77", 48.540, 2.660),
    ("78", 48.801, 2.130),
    ("79", 46.323, -0.459),
    ("80", 49.894, 2.296),
    ("81", 43.929, 2.148),
    ("82", 44.018, 1.355),
    ("83", 43.124, 5.928),
    ("84", 43.949, 4.806),
    ("85", 46.670, -1.426),
    ("86", 46.580, 0.340),
    ("87", 45.834, 1.261),
    ("88", 48.173, 6.450),
    ("89", 47.798, 3.567),
    ("90", 47.640, 6.863),
    ("91", 48.633, 2.450),
    ("92", 48.892, 2.207),
    ("93", 48.909, 2.439),
    ("94", 48.790, 2.455),
    ("95", 49.036, 2.076),
];

/// Every point of a metropolitan département lies within this distance of its prefecture
/// (the largest observed is about 130 km, in Charente-Maritime).
const METRO_RADIUS_KM: f64 = 150.0;

/// Overseas: (code, latitude, longitude, radius in km). TAAF (984) spans an ocean: no check.
const OVERSEAS_REFERENCES: [(&str, f64, f64, f64); 12] = [
    ("971", 16.25, -61.58, 120.0),
    ("972", 14.64, -61.02, 80.0),
    ("973", 4.0, -53.0, 450.0),
    ("974", -21.13, 55.53, 90.0),
    ("975", 46.83, -56.30, 60.0),
    ("976", -12.82, 45.15, 60.0),
    ("977", 17.90, -62.83, 30.0),
    ("978", 18.07, -63.05, 30.0),
    ("986", -13.77, -177.16, 300.0),
    ("987", -17.53, -149.57, 2500.0),
    ("988", -21.3, 165.5, 500.0),
    ("989", 10.3, -109.22, 50.0),
];

fn reference(dep: &str) -> Option<Reference> {
    if let Some(&(_, lat, lon)) = METRO.iter().find(|(c, _, _)| *c == dep) {
        return Some(Reference {
            lat,
            lon,
            radius_km: METRO_RADIUS_KM,
        });
    }
    OVERSEAS_REFERENCES
        .iter()
        .find(|(c, ..)| *c == dep)
        .map(|&(_, lat, lon, radius_km)| Reference {
            lat,
            lon,
            radius_km,
        })
}

/// Great-circle distance in km.
fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

/// When the point lies too far from the département's reference point: the distance in km.
pub(crate) fn implausible_distance(dep: &str, lat: f64, lon: f64) -> Option<f64> {
    let r = reference(dep)?;
    let d = distance_km(r.lat, r.lon, lat, lon);
    (d > r.radius_km).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departement_codes() {
        for ok in [
            "01", "19", "21", "2A", "2B", "95", "971", "975", "976", "977", "978", "984", "986",
            "987", "988", "989",
        ] {
            assert!(is_departement_code(ok), "{ok}");
        }
        for bad in [
            "00", "20", "96", "99", "970", "979", "980", "985", "2C", "1", "", "9a", "A1", "0100",
        ] {
            assert!(!is_departement_code(bad), "{bad}");
        }
    }

    #[test]
    fn every_departement_has_a_reference_point_but_taaf() {
        let mut codes: Vec<String> = (1..=95)
            .map(|n| format!("{n:02}"))
            .filter(|c| c != "20")
            .collect();
        codes.extend(["2A", "2B"].map(String::from));
        codes.extend(territory::OVERSEAS.iter().map(|s| (*s).to_owned()));
        for c in codes {
            assert!(is_departement_code(&c), "{c}");
            assert_eq!(reference(&c).is_some(), c != "984", "{c}");
        }
    }

    #[test]
    fn derives_departements() {
        assert_eq!(
            departement(Some("2A004"), "20000").ok().as_deref(),
            Some("2A")
        );
        assert_eq!(
            departement(Some("97411"), "97400").ok().as_deref(),
            Some("974")
        );
        assert_eq!(departement(None, "98800").ok().as_deref(), Some("988"));
        assert_eq!(departement(None, "97133").ok().as_deref(), Some("977"));
        assert_eq!(departement(None, "01000").ok().as_deref(), Some("01"));
        assert_eq!(departement(Some(""), "51100").ok().as_deref(), Some("51"));
        assert_eq!(
            departement(Some("bad"), "51100").ok().as_deref(),
            Some("51")
        );
        let corsica = departement(None, "20200");
        assert!(corsica.is_err_and(|e| e.reason.contains("Corse") && e.field == "code_postal"));
        for bad in ["00100", "96000", "98000", "7436", "ABCDE"] {
            assert!(departement(None, bad).is_err(), "{bad}");
        }
        let short = departement(None, "7436");
        assert!(short.is_err_and(|e| e.reason == "attendu : 5 chiffres, trouvé : \"7436\""));
    }

    #[test]
    fn insee_shapes() {
        for ok in ["51454", "2A004", "2B033", "97411", "98818", "01053"] {
            assert!(is_insee_code(ok), "{ok}");
        }
        for bad in ["20004", "2C004", "5145", "514540", "2a004", "ABCDE"] {
            assert!(!is_insee_code(bad), "{bad}");
        }
        assert!(departement_from_insee("96001").is_err());
    }

    #[test]
    fn plausibility_of_coordinates() {
        // Angoulême is in Charente; Marseille is not.
        assert!(implausible_distance("16", 45.65, 0.16).is_none());
        assert!(implausible_distance("16", 43.451334, 5.411872).is_some());
        // Nouméa.
        assert!(implausible_distance("988", -22.27, 166.44).is_none());
        assert!(implausible_distance("988", 45.0, 3.0).is_some());
        assert!(implausible_distance("984", 0.0, 0.0).is_none());
    }
}

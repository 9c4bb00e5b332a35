//! INSEE département codes: the unit of territorial authority (protocol sections 1 and 4).
//!
//! A hub holds a set of départements; a venue belongs to the département of its `code_insee`
//! when that is a valid commune code, else of its `code_postal`. Corsica's `20xxx` postal codes
//! need the INSEE code to tell `2A` from `2B`; overseas codes have three digits; Saint-
//! Barthélemy (97133) and Saint-Martin (97150) share Guadeloupe's postal prefix but are 977
//! and 978; Monaco (980xx) is no département. The importer and the fold both call this one
//! module, so a venue the importer accepts is one the fold accepts.

use thiserror::Error;

/// Overseas départements and collectivities with an INSEE code (3 characters).
pub const OVERSEAS: [&str; 13] = [
    "971", "972", "973", "974", "975", "976", "977", "978", "984", "986", "987", "988", "989",
];

/// Why a département could not be derived.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TerritoryError {
    /// Not a département code.
    #[error(
        "expected an INSEE département code (01..95, 2A, 2B, 971..978, 984, 986..989), found {found:?}"
    )]
    NotADepartement {
        /// The text received.
        found: String,
    },
    /// An INSEE commune code of the wrong shape.
    #[error("expected a 5-character INSEE commune code (e.g. 51454, 2A004), found {found:?}")]
    InseeMalformed {
        /// The text received.
        found: String,
    },
    /// An INSEE commune code whose prefix is no département.
    #[error("INSEE code {code:?} starts with {prefix:?}, which is no département")]
    InseeNoDepartement {
        /// The code.
        code: String,
        /// Its département part.
        prefix: String,
    },
    /// A postal code of the wrong shape.
    #[error("expected 5 digits, found {found:?}")]
    PostalMalformed {
        /// The text received.
        found: String,
    },
    /// A Corsican postal code without an INSEE code.
    #[error(
        "postal code {code} is in Corsica: the département (2A or 2B) cannot be derived from a postal code; a valid code_insee is needed"
    )]
    PostalCorsica {
        /// The code.
        code: String,
    },
    /// Monaco.
    #[error("postal code {code} is in Monaco, not in a French département")]
    PostalMonaco {
        /// The code.
        code: String,
    },
    /// A postal code whose prefix is no département.
    #[error("postal code {code} starts with {prefix:?}, which is no département")]
    PostalNoDepartement {
        /// The code.
        code: String,
        /// Its département part.
        prefix: String,
    },
}

/// True for the INSEE codes of départements and overseas collectivities.
pub fn is_departement_code(code: &str) -> bool {
    match code.as_bytes() {
        [b'2', b'A' | b'B'] => true,
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            !matches!(code, "00" | "20") && code <= "95"
        }
        _ => OVERSEAS.contains(&code),
    }
}

/// The name of each code [`is_departement_code`] accepts, in code order (INSEE's official
/// geographic code, with the typographic apostrophe).
const NAMES: [(&str, &str); 109] = [
    ("01", "Ain"),
    ("02", "Aisne"),
    ("03", "Allier"),
    ("04", "Alpes-de-Haute-Provence"),
    ("05", "Hautes-Alpes"),
    ("06", "Alpes-Maritimes"),
    ("07", "Ardèche"),
    ("08", "Ardennes"),
    ("09", "Ariège"),
    ("10", "Aube"),
    ("11", "Aude"),
    ("12", "Aveyron"),
    ("13", "Bouches-du-Rhône"),
    ("14", "Calvados"),
    ("15", "Cantal"),
    ("16", "Charente"),
    ("17", "Charente-Maritime"),
    ("18", "Cher"),
    ("19", "Corrèze"),
    ("21", "Côte-d’Or"),
    ("22", "Côtes-d’Armor"),
    ("23", "Creuse"),
    ("24", "Dordogne"),
    ("25", "Doubs"),
    ("26", "Drôme"),
    ("27", "Eure"),
    ("28", "Eure-et-Loir"),
    ("29", "Finistère"),
    ("2A", "Corse-du-Sud"),
    ("2B", "Haute-Corse"),
    ("30", "Gard"),
    ("31", "Haute-Garonne"),
    ("32", "Gers"),
    ("33", "Gironde"),
    ("34", "Hérault"),
    ("35", "Ille-et-Vilaine"),
    ("36", "Indre"),
    ("37", "Indre-et-Loire"),
    ("38", "Isère"),
    ("39", "Jura"),
    ("40", "Landes"),
    ("41", "Loir-et-Cher"),
    ("42", "Loire"),
    ("43", "Haute-Loire"),
    ("44", "Loire-Atlantique"),
    ("45", "Loiret"),
    ("46", "Lot"),
    ("47", "Lot-et-Garonne"),
    ("48", "Lozère"),
    ("49", "Maine-et-Loire"),
    ("50", "Manche"),
    ("51", "Marne"),
    ("52", "Haute-Marne"),
    ("53", "Mayenne"),
    ("54", "Meurthe-et-Moselle"),
    ("55", "Meuse"),
    ("56", "Morbihan"),
    ("57", "Moselle"),
    ("58", "Nièvre"),
    ("59", "Nord"),
    ("60", "Oise"),
    ("61", "Orne"),
    ("62", "Pas-de-Calais"),
    ("63", "Puy-de-Dôme"),
    ("64", "Pyrénées-Atlantiques"),
    ("65", "Hautes-Pyrénées"),
    ("66", "Pyrénées-Orientales"),
    ("67", "Bas-Rhin"),
    ("68", "Haut-Rhin"),
    ("69", "Rhône"),
    ("70", "Haute-Saône"),
    ("71", "Saône-et-Loire"),
    ("72", "Sarthe"),
    ("73", "Savoie"),
    ("74", "Haute-Savoie"),
    ("75", "Paris"),
    ("76", "Seine-Maritime"),
    ("77", "Seine-et-Marne"),
    ("78", "Yvelines"),
    ("79", "Deux-Sèvres"),
    ("80", "Somme"),
    ("81", "Tarn"),
    ("82", "Tarn-et-Garonne"),
    ("83", "Var"),
    ("84", "Vaucluse"),
    ("85", "Vendée"),
    ("86", "Vienne"),
    ("87", "Haute-Vienne"),
    ("88", "Vosges"),
    ("89", "Yonne"),
    ("90", "Territoire de Belfort"),
    ("91", "Essonne"),
    ("92", "Hauts-de-Seine"),
    ("93", "Seine-Saint-Denis"),
    ("94", "Val-de-Marne"),
    ("95", "Val-d’Oise"),
    ("971", "Guadeloupe"),
    ("972", "Martinique"),
    ("973", "Guyane"),
    ("974", "La Réunion"),
    ("975", "Saint-Pierre-et-Miquelon"),
    ("976", "Mayotte"),
    ("977", "Saint-Barthélemy"),
    ("978", "Saint-Martin"),
    ("984", "Terres australes et antarctiques françaises"),
    ("986", "Wallis-et-Futuna"),
    ("987", "Polynésie française"),
    ("988", "Nouvelle-Calédonie"),
    ("989", "Île de Clipperton"),
];

/// The name of a département or overseas collectivity (`13` → `Bouches-du-Rhône`).
pub fn departement_name(code: &str) -> Option<&'static str> {
    NAMES
        .binary_search_by(|(c, _)| (*c).cmp(code))
        .ok()
        .map(|i| NAMES[i].1)
}

/// `13 Bouches-du-Rhône`, or the code alone if it names nothing.
pub fn departement_label(code: &str) -> String {
    match departement_name(code) {
        Some(name) => format!("{code}\u{A0}{name}"),
        None => code.to_owned(),
    }
}

/// Checks a département code (trimmed, upper-cased), with an error saying what was found.
pub fn parse_departement(code: &str) -> Result<String, TerritoryError> {
    let code = code.trim().to_ascii_uppercase();
    if is_departement_code(&code) {
        Ok(code)
    } else {
        Err(TerritoryError::NotADepartement { found: code })
    }
}

/// True for a valid `code_insee` shape (`^([013-9]\d|2[AB1-9])\d{3}$`).
pub fn is_insee_code(code: &str) -> bool {
    let b = code.as_bytes();
    if b.len() != 5 || !b[2..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    match (b[0], b[1]) {
        (b'2', b'A' | b'B') => true,
        (b'2', d) => d.is_ascii_digit() && d != b'0',
        (a, d) => a.is_ascii_digit() && d.is_ascii_digit(),
    }
}

/// The département of an INSEE commune code.
pub fn departement_from_insee(code_insee: &str) -> Result<String, TerritoryError> {
    if !is_insee_code(code_insee) {
        return Err(TerritoryError::InseeMalformed {
            found: code_insee.to_owned(),
        });
    }
    let len = if code_insee.starts_with("97") || code_insee.starts_with("98") {
        3
    } else {
        2
    };
    let prefix = code_insee.get(..len).unwrap_or_default();
    if is_departement_code(prefix) {
        Ok(prefix.to_owned())
    } else {
        Err(TerritoryError::InseeNoDepartement {
            code: code_insee.to_owned(),
            prefix: prefix.to_owned(),
        })
    }
}

/// The département of a 5-digit postal code.
pub fn departement_from_postal(code_postal: &str) -> Result<String, TerritoryError> {
    if code_postal.len() != 5 || !code_postal.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TerritoryError::PostalMalformed {
            found: code_postal.to_owned(),
        });
    }
    let prefix = match code_postal {
        "97133" => "977",
        "97150" => "978",
        _ if code_postal.starts_with("97") || code_postal.starts_with("98") => {
            code_postal.get(..3).unwrap_or_default()
        }
        _ => code_postal.get(..2).unwrap_or_default(),
    };
    match prefix {
        "20" => Err(TerritoryError::PostalCorsica {
            code: code_postal.to_owned(),
        }),
        "980" => Err(TerritoryError::PostalMonaco {
            code: code_postal.to_owned(),
        }),
        _ if is_departement_code(prefix) => Ok(prefix.to_owned()),
        _ => Err(TerritoryError::PostalNoDepartement {
            code: code_postal.to_owned(),
            prefix: prefix.to_owned(),
        }),
    }
}

/// The département of a place: from `code_insee` when it is a valid commune code, else from
/// `code_postal`.
pub fn departement_of(
    code_insee: Option<&str>,
    code_postal: &str,
) -> Result<String, TerritoryError> {
    match code_insee
        .filter(|c| !c.is_empty())
        .map(departement_from_insee)
    {
        Some(Ok(departement)) => Ok(departement),
        _ => departement_from_postal(code_postal),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_name_and_nothing_else_does() {
        assert!(
            NAMES.windows(2).all(|w| w[0].0 < w[1].0),
            "NAMES out of code order"
        );
        assert!(NAMES.iter().all(|(code, _)| is_departement_code(code)));
        let accepted = (0..100)
            .map(|n| format!("{n:02}"))
            .chain(["2A", "2B"].map(String::from))
            .chain(OVERSEAS.map(String::from))
            .filter(|c| is_departement_code(c))
            .count();
        assert_eq!(accepted, NAMES.len());
        assert_eq!(departement_name("13"), Some("Bouches-du-Rhône"));
        assert_eq!(departement_name("2A"), Some("Corse-du-Sud"));
        assert_eq!(departement_name("988"), Some("Nouvelle-Calédonie"));
        assert_eq!(departement_name("20"), None);
        assert_eq!(departement_label("69"), "69\u{A0}Rhône");
        assert_eq!(departement_label("XX"), "XX");
    }

    #[test]
    fn codes() {
        for ok in ["01", "13", "2A", "2B", "95", "971", "976", "977", "988"] {
            assert!(is_departement_code(ok), "{ok}");
        }
        for bad in [
            "", "0", "00", "20", "96", "97", "99", "970", "979", "2C", "1A", "100",
        ] {
            assert!(!is_departement_code(bad), "{bad}");
        }
    }

    #[test]
    fn derivation() {
        assert_eq!(departement_of(Some("13056"), "13500").unwrap(), "13");
        assert_eq!(departement_of(None, "74360").unwrap(), "74");
        assert_eq!(departement_of(Some("2A004"), "20000").unwrap(), "2A");
        assert_eq!(departement_of(None, "97400").unwrap(), "974");
        assert_eq!(departement_of(None, "97133").unwrap(), "977");
        assert_eq!(departement_of(Some("98818"), "98800").unwrap(), "988");
        assert_eq!(departement_of(Some(""), "05000").unwrap(), "05");
        // An invalid INSEE code falls back to the postal code.
        assert_eq!(departement_of(Some("ABCDE"), "05000").unwrap(), "05");
        let corsica = departement_of(None, "20000").unwrap_err();
        assert!(corsica.to_string().contains("2A or 2B"), "{corsica}");
        assert!(matches!(
            departement_of(None, "98000"),
            Err(TerritoryError::PostalMonaco { .. })
        ));
        assert!(departement_of(None, "7436").is_err());
        assert!(departement_of(Some("96001"), "96000").is_err());
    }
}

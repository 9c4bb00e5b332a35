//! INSEE département codes: the unit of territorial authority (protocol section 1).
//!
//! A hub holds a set of départements; a venue belongs to the département of its `code_insee`
//! (else of its `code_postal`; Corsica's `20xxx` postal codes need the INSEE code to tell `2A`
//! from `2B`; overseas codes have three digits).

use thiserror::Error;

/// Why a département could not be derived.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TerritoryError {
    /// Not a département code.
    #[error(
        "expected an INSEE département code (01..95, 2A, 2B, 971..976, 977, 978, 984..989), found {found:?}"
    )]
    NotADepartement {
        /// The text received.
        found: String,
    },
    /// Neither the INSEE code nor the postal code allows a derivation.
    #[error("cannot derive the département: {reason}")]
    Underivable {
        /// What was missing or wrong.
        reason: String,
    },
}

/// True for the INSEE codes of départements and overseas collectivities.
pub fn is_departement_code(code: &str) -> bool {
    match code.len() {
        2 => match code {
            "2A" | "2B" => true,
            "20" | "00" | "96" | "97" | "98" | "99" => false,
            _ => code.bytes().all(|b| b.is_ascii_digit()),
        },
        3 => matches!(
            code,
            "971"
                | "972"
                | "973"
                | "974"
                | "975"
                | "976"
                | "977"
                | "978"
                | "984"
                | "986"
                | "987"
                | "988"
                | "989"
        ),
        _ => false,
    }
}

/// Checks a département code, with an error saying what was found.
pub fn parse_departement(code: &str) -> Result<String, TerritoryError> {
    let code = code.trim().to_ascii_uppercase();
    if is_departement_code(&code) {
        Ok(code)
    } else {
        Err(TerritoryError::NotADepartement { found: code })
    }
}

/// The département of a place, from its INSEE commune code if given, else its postal code.
pub fn departement_of(
    code_insee: Option<&str>,
    code_postal: &str,
) -> Result<String, TerritoryError> {
    if let Some(insee) = code_insee.map(str::trim).filter(|c| !c.is_empty()) {
        let upper = insee.to_ascii_uppercase();
        if upper.len() != 5 {
            return Err(TerritoryError::Underivable {
                reason: format!("code_insee must have 5 characters, found {insee:?}"),
            });
        }
        let candidate = if upper.starts_with("97") || upper.starts_with("98") {
            &upper[..3]
        } else {
            &upper[..2]
        };
        return parse_departement(candidate).map_err(|_| TerritoryError::Underivable {
            reason: format!("code_insee {insee:?} names no département"),
        });
    }
    let postal = code_postal.trim();
    if postal.len() != 5 || !postal.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TerritoryError::Underivable {
            reason: format!("code_postal must be 5 digits, found {postal:?}"),
        });
    }
    if postal.starts_with("20") {
        return Err(TerritoryError::Underivable {
            reason: format!(
                "code_postal {postal} is in Corsica: code_insee is needed to choose 2A or 2B"
            ),
        });
    }
    let candidate = if postal.starts_with("97") || postal.starts_with("98") {
        &postal[..3]
    } else {
        &postal[..2]
    };
    parse_departement(candidate).map_err(|_| TerritoryError::Underivable {
        reason: format!("code_postal {postal} names no département"),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        for ok in ["01", "13", "2A", "2B", "95", "971", "976", "988"] {
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
        assert_eq!(departement_of(Some("98818"), "98800").unwrap(), "988");
        assert_eq!(departement_of(Some(""), "05000").unwrap(), "05");
        let corsica = departement_of(None, "20000").unwrap_err();
        assert!(corsica.to_string().contains("2A or 2B"), "{corsica}");
        assert!(departement_of(None, "7436").is_err());
        assert!(departement_of(Some("96001"), "96000").is_err());
    }
}

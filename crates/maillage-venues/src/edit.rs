//! Changes a hub makes by hand to one of its venues (`maillage venues set`): each value checked
//! as strictly as a voucher's payee must be, with a French message for the technician that
//! quotes at most a short excerpt of what was typed.
//!
//! Identifiers (the record's `pivot`):
//! - SIRET: 14 digits (spaces and dots ignored) whose Luhn checksum holds; La Poste's
//!   establishments (SIREN 356000000) follow their own rule instead, the sum of the 14 digits
//!   being a multiple of 5 (its head office, 35600000000048, also passes Luhn);
//! - RNA: `W` followed by 9 digits;
//! - RIDET (New Caledonia, département 988 only): the company's 7 digits (6 for the oldest,
//!   written with a leading zero or not) then the establishment's 3-digit rank, with or without
//!   a dot or space between (`1234567.001`); stored as 10 digits, as the importer stores it.
//!
//! An all-zero identifier is the placeholder of the real exports, refused here: setting a
//! pivot is how a hub replaces it.

use maillage_core::excerpt::Excerpt;

use crate::fields;

/// Characters of an input a message quotes, at most.
const QUOTED: usize = 24;

fn quoted(raw: &str) -> Excerpt<'_> {
    Excerpt::new(raw, QUOTED)
}

fn compact(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '\u{A0}' | '\u{202F}'))
        .collect()
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A SIRET as typed, checked; the 14 digits.
pub fn check_siret(raw: &str) -> Result<String, String> {
    let value = compact(raw);
    if !digits(&value) {
        return Err(format!(
            "SIRET invalide : 14 chiffres attendus, trouvé {} (des caractères autres que des \
             chiffres)",
            quoted(raw)
        ));
    }
    if value.len() == 9 {
        return Err(format!(
            "SIRET invalide : {} n'a que 9 chiffres, c'est un SIREN (l'entreprise) ; il faut le \
             SIRET de l'établissement, 14 chiffres",
            quoted(raw)
        ));
    }
    if value.len() != 14 {
        return Err(format!(
            "SIRET invalide : 14 chiffres attendus, {} en a {}",
            quoted(raw),
            value.len()
        ));
    }
    if value.bytes().all(|b| b == b'0') {
        return Err(
            "SIRET invalide : 00000000000000 est le numéro fictif des exports ; donnez le \
             SIRET réel de l'établissement"
                .to_owned(),
        );
    }
    if !fields::siret_check_holds(&value) {
        let rule = if value.starts_with(fields::LA_POSTE_SIREN) {
            "pour un établissement de La Poste (SIREN 356000000), la somme des 14 chiffres doit \
             être un multiple de 5"
        } else {
            "la clé de contrôle (formule de Luhn) ne correspond pas"
        };
        return Err(format!(
            "SIRET invalide : {} ne passe pas le contrôle, {rule} ; vérifiez le numéro (une \
             faute de frappe ?)",
            quoted(raw)
        ));
    }
    Ok(value)
}

/// An RNA number (associations) as typed, checked: `W` and 9 digits.
pub fn check_rna(raw: &str) -> Result<String, String> {
    let value = compact(raw).to_uppercase();
    let Some(rest) = value.strip_prefix('W') else {
        return Err(format!(
            "numéro RNA invalide : attendu W suivi de 9 chiffres (ex. W751234567), trouvé {} \
             qui ne commence pas par W",
            quoted(raw)
        ));
    };
    if !digits(rest) || rest.len() != 9 {
        return Err(format!(
            "numéro RNA invalide : attendu W suivi de 9 chiffres (ex. W751234567), trouvé {} \
             ({} caractère(s) après le W)",
            quoted(raw),
            rest.chars().count()
        ));
    }
    if rest.bytes().all(|b| b == b'0') {
        return Err(
            "numéro RNA invalide : W000000000 est un numéro fictif ; donnez le numéro réel de \
             l'association"
                .to_owned(),
        );
    }
    Ok(value)
}

/// A RIDET (New Caledonia) as typed, checked for a venue of département `dep`: 10 digits.
pub fn check_ridet(raw: &str, dep: &str) -> Result<String, String> {
    if dep != "988" {
        return Err(format!(
            "RIDET refusé : ce numéro n'existe qu'en Nouvelle-Calédonie (988), or le lieu est \
             dans le département {}; donnez un SIRET (--siret) ou un numéro RNA (--rna)",
            quoted(dep)
        ));
    }
    let trimmed = raw.trim();
    let (company, rank) = match trimmed.rsplit_once(['.', ' ']) {
        Some((company, rank)) => (compact(company), compact(rank)),
        None => {
            let all = compact(trimmed);
            match all.len() {
                9 | 10 => {
                    let (c, r) = all.split_at(all.len() - 3);
                    (c.to_owned(), r.to_owned())
                }
                _ => (all, String::new()),
            }
        }
    };
    let shaped =
        digits(&company) && (6..=7).contains(&company.len()) && digits(&rank) && rank.len() == 3;
    if !shaped {
        return Err(format!(
            "RIDET invalide : attendu le numéro de l'entreprise (7 chiffres) puis le rang de \
             l'établissement (3 chiffres), ex. 1234567.001, trouvé {}",
            quoted(raw)
        ));
    }
    let value = format!("{company:0>7}{rank}");
    if value.bytes().all(|b| b == b'0') {
        return Err(
            "RIDET invalide : 0000000.000 est un numéro fictif ; donnez le RIDET réel de \
             l'établissement"
                .to_owned(),
        );
    }
    Ok(value)
}

/// Opening hours in the OpenStreetMap `opening_hours` syntax.
pub fn check_hours(raw: &str) -> Result<String, String> {
    let value = raw.trim();
    crate::validate_opening_hours(value).map_err(|e| {
        format!(
            "horaires invalides (syntaxe OpenStreetMap opening_hours, ex. \"Mo-Fr 09:00-12:00\") \
             : au caractère {}, attendu {}, trouvé {}",
            e.position, e.expected, e.found
        )
    })?;
    Ok(value.to_owned())
}

/// An e-mail address.
pub fn check_email(raw: &str) -> Result<String, String> {
    fields::normalise_email(raw.trim())
        .map(|n| n.value)
        .map_err(|_| {
            format!(
                "adresse e-mail invalide : attendu une adresse comme contact@exemple.fr, trouvé {}",
                quoted(raw)
            )
        })
}

/// A phone number of a venue of département `dep`, in the standard's international form.
pub fn check_phone(raw: &str, dep: &str) -> Result<String, String> {
    fields::normalise_phone(raw.trim(), Some(dep))
        .map(|n| n.value)
        .map_err(|_| {
            format!(
                "numéro de téléphone invalide : attendu un numéro comme 04 91 00 00 00 ou \
                 +33491000000, trouvé {}",
                quoted(raw)
            )
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sirets() {
        assert_eq!(
            check_siret("434 933 123 00029"),
            Ok("43493312300029".into())
        );
        let e = check_siret("43493312300028").unwrap_err();
        assert!(e.contains("Luhn"), "{e}");
        assert!(check_siret("434933123").unwrap_err().contains("SIREN"));
        assert!(
            check_siret("00000000000000")
                .unwrap_err()
                .contains("fictif")
        );
        assert!(
            check_siret("4349331230002")
                .unwrap_err()
                .contains("en a 13")
        );
        assert!(
            check_siret("4349331230002X")
                .unwrap_err()
                .contains("chiffres")
        );
        // La Poste: digit sum a multiple of 5 (3+5+6+1+2+3 = 20), though Luhn fails.
        assert!(!fields::luhn("35600000000123"));
        assert_eq!(check_siret("35600000000123"), Ok("35600000000123".into()));
        let e = check_siret("35600000000124").unwrap_err();
        assert!(e.contains("La Poste"), "{e}");
        // Its head office passes Luhn.
        assert!(check_siret("35600000000048").is_ok());
        // A long input is quoted in part only.
        let long = "9".repeat(500);
        assert!(check_siret(&long).unwrap_err().len() < 200);
    }

    #[test]
    fn rna_and_ridet() {
        assert_eq!(check_rna("w751234567"), Ok("W751234567".into()));
        assert!(
            check_rna("751234567")
                .unwrap_err()
                .contains("ne commence pas par W")
        );
        assert!(check_rna("W75123456").unwrap_err().contains("8 caractère"));
        assert!(check_rna("W000000000").unwrap_err().contains("fictif"));
        assert_eq!(check_ridet("1234567.001", "988"), Ok("1234567001".into()));
        assert_eq!(check_ridet("123456 002", "988"), Ok("0123456002".into()));
        assert_eq!(check_ridet("1234567001", "988"), Ok("1234567001".into()));
        assert!(
            check_ridet("1234567.001", "13")
                .unwrap_err()
                .contains("988")
        );
        assert!(
            check_ridet("12345.001", "988")
                .unwrap_err()
                .contains("7 chiffres")
        );
        assert!(check_ridet("1234567.01", "988").is_err());
    }

    #[test]
    fn contacts_and_hours() {
        assert_eq!(
            check_hours(" Mo-Fr 09:00-12:00 "),
            Ok("Mo-Fr 09:00-12:00".into())
        );
        assert!(
            check_hours("lundi matin")
                .unwrap_err()
                .contains("horaires invalides")
        );
        assert_eq!(
            check_phone("04 91 00 00 00", "13"),
            Ok("+33491000000".into())
        );
        assert!(check_phone("12", "13").unwrap_err().contains("téléphone"));
        assert_eq!(
            check_email("contact@exemple.fr"),
            Ok("contact@exemple.fr".into())
        );
        assert!(check_email("contact@").unwrap_err().contains("e-mail"));
    }
}

//! Names a person gives to things a node knows, resolved against its views: a venue by its id
//! or its source id, a hub by its key or part of its name, a claim by a prefix of its id; and
//! the days a request may leave out.

use std::str::FromStr;

use maillage_core::date::{format_date, parse_date};
use maillage_core::excerpt::Excerpt;
use maillage_core::lang::t;
use maillage_core::ledger::Claim;
use maillage_core::tr;
use maillage_core::vocab::Service;
use maillage_core::{Charter, HubId, Ledger, Role};

use crate::error::{AppError, Result};
use crate::request::VenueRef;

/// Lower case without French accents, for matching.
pub fn fold(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'À' | 'Â' | 'Ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
            'î' | 'ï' | 'Î' | 'Ï' => 'i',
            'ô' | 'ö' | 'Ô' | 'Ö' => 'o',
            'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => 'u',
            'ç' | 'Ç' => 'c',
            other => other.to_lowercase().next().unwrap_or(other),
        })
        .collect()
}

/// A voucher serial, `BATCH-N`: a batch id (letters, digits, dashes; at most 64) and a number
/// without leading zero. Only its shape: whether the node knows it is the caller's question.
pub fn serial(field: &str, text: &str) -> Result<String> {
    let trimmed = text.trim();
    let ok = trimmed.rsplit_once('-').is_some_and(|(batch, n)| {
        !batch.is_empty()
            && batch.len() <= 64
            && !batch.starts_with('-')
            && batch.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && (1..=10).contains(&n.len())
            && !n.starts_with('0')
            && n.bytes().all(|c| c.is_ascii_digit())
    });
    if ok {
        Ok(trimmed.to_owned())
    } else {
        Err(AppError::invalid(
            field,
            t(
                "un numéro de pass LOT-N (par ex. 13-2026-CAF-01-4)",
                "a serial BATCH-N (e.g. 13-2026-CAF-01-4)",
            ),
            text,
        ))
    }
}

/// A v1 service: its exact label, or a part of exactly one label (case and accents ignored).
pub fn service(field: &str, text: &str) -> Result<String> {
    if let Some(exact) = Service::LABELS.iter().find(|s| **s == text) {
        return Ok((*exact).to_owned());
    }
    let wanted = fold(text.trim());
    let matches: Vec<&str> = Service::LABELS
        .iter()
        .copied()
        .filter(|s| !wanted.is_empty() && fold(s).contains(&wanted))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => {
            let (text, labels) = (Excerpt::of(text), Service::labels());
            Err(AppError::invalid_field(
                field,
                tr!(
                    "{field} : {text} n'est pas un service v1 ; attendu l'un de : {labels}",
                    "{field}: {text} is not a v1 service; expected one of: {labels}"
                ),
            ))
        }
        many => {
            let (text, all) = (Excerpt::of(text), many.join(" | "));
            Err(AppError::invalid_field(
                field,
                tr!(
                    "{field} : {text} est ambigu : il correspond à {all}",
                    "{field}: {text} is ambiguous: it matches {all}"
                ),
            ))
        }
    }
}

/// A day, `YYYY-MM-DD`.
pub fn day(field: &str, text: &str) -> Result<i32> {
    parse_date(text.trim()).ok_or_else(|| {
        AppError::invalid(field, t("une date AAAA-MM-JJ", "a date YYYY-MM-DD"), text)
    })
}

/// A day given, or today.
pub fn day_or(field: &str, text: Option<&str>, today: i32) -> Result<i32> {
    match text {
        Some(text) => day(field, text),
        None => Ok(today),
    }
}

/// [`day_or`], formatted.
pub fn date_or(field: &str, text: Option<&str>, today: i32) -> Result<String> {
    day_or(field, text, today).map(format_date)
}

/// A venue id from a venue id or a source id.
pub fn venue(ledger: &Ledger, field: &str, text: &str) -> Result<String> {
    let directory = ledger.venues();
    if directory.get(text).is_some() {
        return Ok(text.to_owned());
    }
    let matches: Vec<&String> = directory
        .venues()
        .values()
        .filter(|v| v.record.id == text)
        .map(|v| &v.venue_id)
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let text = Excerpt::of(text);
            Err(AppError::not_found(tr!(
                "{field} : aucun lieu {text} sur ce nœud (ni identifiant de lieu ni identifiant source) ; importez le journal du hub ou essayez `maillage venues search`",
                "{field}: no venue {text} on this node (neither a venue id nor a source id); import the hub's log or try `maillage venues search`"
            )))
        }
        many => {
            let (n, text, ids) = (
                many.len(),
                Excerpt::of(text),
                many.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            Err(AppError::invalid_field(
                field,
                tr!(
                    "{field} : {n} lieux ont l'identifiant source {text} : utilisez l'identifiant de lieu ({ids})",
                    "{field}: {n} venues have source id {text}: use the venue id ({ids})"
                ),
            ))
        }
    }
}

/// A venue's label: "name (commune, id)", or the id alone when the node does not know it.
pub fn venue_label(ledger: &Ledger, venue_id: &str) -> String {
    match ledger.venues().get(venue_id) {
        Some(v) => format!("{} ({}, {})", v.record.nom, v.record.commune, venue_id),
        None => venue_id.to_owned(),
    }
}

/// A venue named in an answer.
pub fn venue_ref(ledger: &Ledger, venue_id: &str) -> VenueRef {
    VenueRef {
        venue_id: venue_id.to_owned(),
        label: venue_label(ledger, venue_id),
    }
}

/// Another hub of the federation, by its key or a part of its name.
pub fn hub(charter: &Charter, me: &HubId, field: &str, text: &str) -> Result<HubId> {
    if let Ok(id) = HubId::from_str(text.trim()) {
        return Ok(id);
    }
    let wanted = fold(text.trim());
    let matches: Vec<(&HubId, &String)> = charter
        .members()
        .iter()
        .filter(|(id, m)| m.role == Role::Hub && *id != me && fold(&m.name).contains(&wanted))
        .map(|(id, m)| (id, &m.name))
        .collect();
    match matches.as_slice() {
        [(id, _)] => Ok(**id),
        [] => {
            let text = Excerpt::of(text);
            Err(AppError::not_found(tr!(
                "{field} : aucun autre hub de la fédération n'a la clé ou le nom {text}",
                "{field}: no other hub of the federation has the key or name {text}"
            )))
        }
        many => {
            let (text, names) = (
                Excerpt::of(text),
                many.iter()
                    .map(|(_, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            Err(AppError::invalid_field(
                field,
                tr!(
                    "{field} : {text} est ambigu : {names}",
                    "{field}: {text} is ambiguous: {names}"
                ),
            ))
        }
    }
}

/// A hub's name in the charter (its short key if it is not a member).
pub fn hub_name(charter: &Charter, hub: &HubId) -> String {
    charter
        .member(hub)
        .map_or_else(|| hub.short(), |m| m.name.clone())
}

/// The claim whose id starts with `text` (at least 4 hex characters).
pub fn claim(ledger: &Ledger, text: &str) -> Result<Claim> {
    let wanted = text.trim().to_lowercase();
    if wanted.len() < 4 || !wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::invalid(
            "claim",
            t(
                "l'identifiant d'événement de la réclamation, ou au moins ses 4 premiers chiffres hexadécimaux",
                "the claim's event id, or at least its first 4 hex digits",
            ),
            text,
        ));
    }
    let matches: Vec<&Claim> = ledger
        .claims()
        .values()
        .filter(|c| c.event.to_hex().starts_with(&wanted))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let wanted = Excerpt::of(&wanted);
            Err(AppError::not_found(tr!(
                "aucune réclamation {wanted} sur ce nœud : importez d'abord le journal du hub qui réclame",
                "no claim {wanted} on this node: import the claiming hub's log first"
            )))
        }
        _ => {
            let wanted = Excerpt::of(&wanted);
            Err(AppError::invalid_field(
                "claim",
                tr!(
                    "l'identifiant de réclamation {wanted} correspond à plusieurs réclamations : donnez plus de caractères",
                    "claim id {wanted} matches several claims: give more characters"
                ),
            ))
        }
    }
}

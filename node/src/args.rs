//! The syntax of command-line arguments: dates, services given by part of their label, person
//! codes with their check character, serials and carnet ranges. Nothing here reads a node:
//! what the arguments mean is the node's to judge.

use std::str::FromStr;

use anyhow::{Result, anyhow, bail};
use maillage_core::PersonId;
use maillage_core::date::{format_date, parse_date};
use maillage_core::excerpt::Excerpt;
use maillage_core::tr;
use maillage_core::vocab::PrescriberKind;

/// A `YYYY-MM-DD` argument.
pub fn date(field: &str, text: &str) -> Result<String> {
    parse_date(text.trim()).map(format_date).ok_or_else(|| {
        let found = Excerpt::of(text);
        anyhow!(
            "{}",
            tr!(
                "--{field} : date attendue au format AAAA-MM-JJ, reçu {found}",
                "--{field}: expected a date YYYY-MM-DD, found {found}"
            )
        )
    })
}

/// An optional `YYYY-MM-DD` argument.
pub fn date_opt(field: &str, text: Option<&str>) -> Result<Option<String>> {
    text.map(|t| date(field, t)).transpose()
}

/// A v1 service: the exact label, or a part of exactly one label (case and accents ignored).
pub fn service(text: &str) -> Result<String> {
    maillage_app::resolve::service("service", text).map_err(|e| anyhow!("--{}", e.message))
}

/// Several services, without repeats.
pub fn services(texts: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for t in texts {
        let s = service(t)?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// A prescriber kind (case ignored).
pub fn prescriber_kind(text: &str) -> Result<String> {
    let upper = text.trim().to_uppercase().replace('-', "_");
    if PrescriberKind::parse(&upper).is_some() {
        Ok(upper)
    } else {
        let (labels, found) = (PrescriberKind::LABELS.join(", "), Excerpt::of(text));
        bail!(
            "{}",
            tr!(
                "--prescriber-kind : attendu l'un de {labels}, reçu {found}",
                "--prescriber-kind: expected one of {labels}, found {found}"
            )
        )
    }
}

/// A person code, with its check character verified.
pub fn person(text: &str) -> Result<PersonId> {
    PersonId::from_str(text.trim()).map_err(|e| {
        anyhow!(
            "{}",
            tr!("{e} ; rien n'a été signé", "{e}; nothing was signed")
        )
    })
}

/// A serial, `BATCH-N`.
pub fn serial(text: &str) -> Result<String> {
    Ok(maillage_app::resolve::serial("serial", text)?)
}

/// Serials, without repeats.
pub fn serials(texts: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for t in texts {
        let s = serial(t)?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// `BATCH:FIRST-LAST` → serials.
pub fn carnet(text: &str) -> Result<Vec<String>> {
    let err = || {
        let found = Excerpt::of(text);
        anyhow!(
            "{}",
            tr!(
                "--carnet {found} : attendu LOT:PREMIER-DERNIER (par ex. 13-2026-CAF-01:1-5)",
                "--carnet {found}: expected BATCH:FIRST-LAST (e.g. 13-2026-CAF-01:1-5)"
            )
        )
    };
    let (batch, range) = text.rsplit_once(':').ok_or_else(err)?;
    let (first, last) = range.split_once('-').ok_or_else(err)?;
    let first: u32 = first.trim().parse().map_err(|_| err())?;
    let last: u32 = last.trim().parse().map_err(|_| err())?;
    if batch.is_empty() || first == 0 || last < first || last - first >= 1000 {
        return Err(err());
    }
    Ok((first..=last).map(|n| format!("{batch}-{n}")).collect())
}

/// "LAT,LON" in degrees.
pub fn point(text: &str) -> Result<(f64, f64)> {
    let err = || {
        let found = Excerpt::of(text);
        anyhow!(
            "{}",
            tr!(
                "--near : attendu \"LAT,LON\" en degrés, reçu {found}",
                "--near: expected \"LAT,LON\" in degrees, found {found}"
            )
        )
    };
    let (lat, lon) = text.split_once(',').ok_or_else(err)?;
    let lat: f64 = lat.trim().parse().map_err(|_| err())?;
    let lon: f64 = lon.trim().parse().map_err(|_| err())?;
    Ok((lat, lon))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn syntax_is_checked_and_normalised() {
        assert_eq!(date("date", " 2026-03-02 ").unwrap(), "2026-03-02");
        assert_eq!(
            service("démarches").unwrap(),
            "Aide aux démarches administratives"
        );
        assert!(service("numérique").is_err(), "ambiguous");
        assert_eq!(prescriber_kind("la-poste").unwrap(), "LA_POSTE");
        assert_eq!(carnet("13-X:2-4").unwrap(), ["13-X-2", "13-X-3", "13-X-4"]);
        assert!(carnet("13-X:4-2").is_err());
        assert_eq!(point("43.3, 5.4").unwrap(), (43.3, 5.4));
    }
}

//! Validation and normalisation of single values (identifiers, codes, dates, contacts,
//! coordinates). Functions return the normalised value or a reason sentence; the record
//! builder turns those into issues.
//!
//! Size: one validator per field type of the standard (pivot, SIRET, RNA, RIDET, codes, dates,
//! contacts, coordinates), with their tests.

use crate::geo;
use maillage_core::excerpt::Excerpt;
use maillage_core::{lang::t, tr};

/// A normalised value and, when it was rewritten, a note for the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Normalised {
    pub(crate) value: String,
    /// How the value was changed (`None` when it was already canonical).
    pub(crate) note: Option<Note>,
}

/// How a value was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Note {
    /// True when the change is a guess the hub should check (severity warning), false for
    /// lossless reformatting (severity info).
    pub(crate) guessed: bool,
    pub(crate) text: String,
}

impl Normalised {
    fn same(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            note: None,
        }
    }

    fn reformatted(value: String, text: String) -> Self {
        Self {
            value,
            note: Some(Note {
                guessed: false,
                text,
            }),
        }
    }

    fn guessed(value: String, text: String) -> Self {
        Self {
            value,
            note: Some(Note {
                guessed: true,
                text,
            }),
        }
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn without_separators(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-' | '\u{A0}' | '\u{202F}'))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Pivot

/// What kind of identifier a pivot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PivotKind {
    Siret,
    Rna,
    Ridet,
}

impl PivotKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Siret => "SIRET",
            Self::Rna => t("numéro RNA", "RNA number"),
            Self::Ridet => t("numéro RIDET/TAHITI", "RIDET/TAHITI number"),
        }
    }
}

/// A checked pivot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pivot {
    pub(crate) value: Normalised,
    pub(crate) kind: PivotKind,
    /// All digits zero: a placeholder, kept but unusable for voucher qualification.
    pub(crate) placeholder: bool,
    /// A SIRET whose check fails (Luhn; for La Poste's 356000000…, a digit sum multiple of 5).
    pub(crate) checksum_failed: bool,
}

/// Départements whose companies are identified by RIDET (New Caledonia) or TAHITI (French
/// Polynesia) numbers instead of SIRET.
fn uses_local_register(dep: Option<&str>) -> bool {
    matches!(dep, Some("987" | "988"))
}

/// Checks a pivot: SIRET (14 digits), RNA (`W` + 9 digits) or, in 987/988, a RIDET/TAHITI
/// number (what the schema pattern `^[a-zA-Z0-9]{9,14}$` allows, e.g. a 7-digit RIDET
/// followed by a 3-digit establishment rank).
pub(crate) fn check_pivot(raw: &str, dep: Option<&str>) -> Result<Pivot, String> {
    let compact = without_separators(raw);
    let mut upper = compact.clone();
    if let Some(rest) = compact.strip_prefix('w') {
        upper = format!("W{rest}");
    }
    let note = (upper != raw).then(|| {
        tr!(
            "séparateurs retirés : {} → {upper:?}",
            "separators removed: {} → {upper:?}",
            Excerpt::of(raw)
        )
    });
    let value = match note {
        Some(text) => Normalised::reformatted(upper.clone(), text),
        None => Normalised::same(upper.clone()),
    };
    let zeros = |s: &str| s.bytes().all(|b| b == b'0');
    if upper.len() == 14 && all_digits(&upper) {
        let placeholder = zeros(&upper);
        let checksum_failed = !placeholder && !siret_check_holds(&upper);
        return Ok(Pivot {
            value,
            kind: PivotKind::Siret,
            placeholder,
            checksum_failed,
        });
    }
    if let Some(digits) = upper.strip_prefix('W')
        && digits.len() == 9
        && all_digits(digits)
    {
        return Ok(Pivot {
            value,
            kind: PivotKind::Rna,
            placeholder: zeros(digits),
            checksum_failed: false,
        });
    }
    let schema_shape =
        (9..=14).contains(&upper.len()) && upper.bytes().all(|b| b.is_ascii_alphanumeric());
    if uses_local_register(dep) && schema_shape {
        return Ok(Pivot {
            placeholder: zeros(&upper),
            value,
            kind: PivotKind::Ridet,
            checksum_failed: false,
        });
    }
    Err(pivot_reason(raw, &upper, dep))
}

fn pivot_reason(raw: &str, compact: &str, dep: Option<&str>) -> String {
    let expected = if uses_local_register(dep) {
        t(
            "un SIRET (14 chiffres), un numéro RNA (W suivi de 9 chiffres) ou un numéro \
             RIDET/TAHITI (9 à 14 lettres ou chiffres)",
            "a SIRET (14 digits), an RNA number (W followed by 9 digits) or a RIDET/TAHITI number \
             (9 to 14 letters or digits)",
        )
    } else {
        t(
            "un SIRET (14 chiffres) ou un numéro RNA (W suivi de 9 chiffres)",
            "a SIRET (14 digits) or an RNA number (W followed by 9 digits)",
        )
    };
    let hint = if compact.len() == 9 && all_digits(compact) {
        t(
            " : cela ressemble à un SIREN (entreprise), le standard demande le SIRET à 14 \
             chiffres de l'établissement",
            ": this looks like a SIREN (company), the standard needs the establishment's 14-digit \
             SIRET",
        )
    } else if all_digits(compact) {
        ""
    } else if compact.starts_with('W') {
        t(
            " : un numéro RNA a exactement 9 chiffres après le W",
            ": an RNA number has exactly 9 digits after the W",
        )
    } else {
        ""
    };
    let found = if all_digits(compact) {
        tr!(
            "{} chiffres {}",
            "{} digits {}",
            compact.len(),
            Excerpt::of(raw)
        )
    } else {
        Excerpt::of(raw).to_string()
    };
    tr!(
        "attendu : {expected}, trouvé : {found}{hint}",
        "expected {expected}, found {found}{hint}"
    )
}

/// La Poste's SIREN: its establishments' SIRETs follow the digit-sum rule.
pub(crate) const LA_POSTE_SIREN: &str = "356000000";

/// Whether 14 digits make a SIRET whose check holds: Luhn, or for La Poste's establishments
/// the sum of the digits a multiple of 5.
pub(crate) fn siret_check_holds(siret: &str) -> bool {
    if siret.len() != 14 || !all_digits(siret) {
        return false;
    }
    if luhn(siret) {
        return true;
    }
    siret.starts_with(LA_POSTE_SIREN)
        && siret
            .bytes()
            .map(|b| u32::from(b - b'0'))
            .sum::<u32>()
            .is_multiple_of(5)
}

/// The Luhn checksum used by SIREN/SIRET.
pub(crate) fn luhn(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b.wrapping_sub(b'0'));
        if d > 9 {
            return false;
        }
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

// ---------------------------------------------------------------------------------------------
// Postal and INSEE codes

/// Normalises a postal code: inner spaces removed; 4 digits get their lost leading zero back
/// (a guess, reported as a warning).
pub(crate) fn normalise_postal_code(raw: &str) -> Result<Normalised, String> {
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() == 5 && all_digits(&compact) {
        return Ok(if compact == raw {
            Normalised::same(compact)
        } else {
            Normalised::reformatted(
                compact.clone(),
                tr!("espaces retirées : {compact}", "spaces removed: {compact}"),
            )
        });
    }
    if compact.len() == 4 && all_digits(&compact) {
        let padded = format!("0{compact}");
        return Ok(Normalised::guessed(
            padded.clone(),
            tr!(
                "4 chiffres : le zéro initial a sans doute été perdu (par un tableur par exemple) ; \
                 normalisé en {padded}",
                "4 digits: the leading zero was probably lost (e.g. by a spreadsheet); \
                 normalised to {padded}"
            ),
        ));
    }
    Err(tr!(
        "attendu : 5 chiffres, trouvé : {}",
        "expected 5 digits, found {}",
        Excerpt::of(raw)
    ))
}

/// Normalises an INSEE commune code (upper-case 2A/2B, 4 digits padded).
pub(crate) fn normalise_insee(raw: &str) -> Result<Normalised, String> {
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    if geo::is_insee_code(&compact) {
        return Ok(if compact == raw {
            Normalised::same(compact)
        } else {
            Normalised::reformatted(
                compact.clone(),
                tr!("normalisé en {compact}", "normalised to {compact}"),
            )
        });
    }
    if compact.len() == 4 && all_digits(&compact) {
        let padded = format!("0{compact}");
        if geo::is_insee_code(&padded) {
            return Ok(Normalised::guessed(
                padded.clone(),
                tr!(
                    "4 chiffres : le zéro initial a sans doute été perdu (par un tableur par \
                     exemple) ; normalisé en {padded}",
                    "4 digits: the leading zero was probably lost (e.g. by a spreadsheet); \
                     normalised to {padded}"
                ),
            ));
        }
    }
    Err(tr!(
        "attendu : un code commune INSEE de 5 caractères (par exemple 51454, 2A004), trouvé : {}",
        "expected a 5-character INSEE commune code (e.g. 51454, 2A004), found {}",
        Excerpt::of(raw)
    ))
}

// ---------------------------------------------------------------------------------------------
// Dates

/// A checked `date_maj`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DateMaj {
    pub(crate) value: Normalised,
    /// 1970-01-01 (or 1969-12-31, the same instant west of Greenwich): a placeholder.
    pub(crate) placeholder: bool,
}

/// Parses `YYYY-MM-DD`, `DD/MM/YYYY` or an ISO 8601 timestamp into `YYYY-MM-DD`.
pub(crate) fn check_date(raw: &str) -> Result<DateMaj, String> {
    let (y, m, d, reformatted) = split_date(raw).ok_or_else(|| {
        tr!(
            "attendu : une date AAAA-MM-JJ (ou JJ/MM/AAAA), trouvé : {}",
            "expected a date YYYY-MM-DD (or DD/MM/YYYY), found {}",
            Excerpt::of(raw)
        )
    })?;
    let iso = format!("{y:04}-{m:02}-{d:02}");
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(tr!(
            "{iso} n'est pas une date du calendrier (trouvé : {})",
            "{iso} is not a calendar date (found {})",
            Excerpt::of(raw)
        ));
    }
    let placeholder = iso == "1970-01-01" || iso == "1969-12-31";
    if !placeholder && !(1990..=2100).contains(&y) {
        return Err(tr!(
            "attendu : une date de mise à jour entre 1990 et 2100, trouvé : {}",
            "expected an update date between 1990 and 2100, found {}",
            Excerpt::of(raw)
        ));
    }
    let value = if reformatted {
        Normalised::reformatted(
            iso.clone(),
            tr!("normalisé en {iso}", "normalised to {iso}"),
        )
    } else {
        Normalised::same(iso)
    };
    Ok(DateMaj { value, placeholder })
}

fn split_date(raw: &str) -> Option<(u32, u32, u32, bool)> {
    let num = |s: &str, len: usize| -> Option<u32> {
        (s.len() == len && all_digits(s))
            .then(|| s.parse().ok())
            .flatten()
    };
    if let Some(date) = raw.get(..10)
        && date.as_bytes().get(4) == Some(&b'-')
    {
        let rest = raw.get(10..).unwrap_or_default();
        let timestamp = rest.starts_with(['T', ' ']) && rest.len() > 1;
        if !rest.is_empty() && !timestamp {
            return None;
        }
        let mut parts = date.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        return Some((num(y, 4)?, num(m, 2)?, num(d, 2)?, timestamp));
    }
    let mut parts = raw.split('/');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let day = num(d, 2).or_else(|| num(d, 1))?;
    let month = num(m, 2).or_else(|| num(m, 1))?;
    Some((num(y, 4)?, month, day, true))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------------
// Telephone

/// Country codes allowed by the schema's `telephone` pattern.
const COUNTRY_CODES: [&str; 10] = [
    "+33", "+590", "+594", "+262", "+596", "+269", "+687", "+689", "+508", "+681",
];

/// True when `s` matches `^(\+33|\+590|…|\+681)(\d){6,9}$`.
pub(crate) fn is_schema_phone(s: &str) -> bool {
    COUNTRY_CODES.iter().any(|cc| {
        s.strip_prefix(cc)
            .is_some_and(|rest| (6..=9).contains(&rest.len()) && all_digits(rest))
    })
}

/// French overseas prefixes of the national numbering plan (0 + 3 digits) and their
/// international country code.
const OVERSEAS_PREFIXES: [(&str, &str); 13] = [
    ("0590", "+590"),
    ("0690", "+590"),
    ("0691", "+590"),
    ("0594", "+594"),
    ("0694", "+594"),
    ("0596", "+596"),
    ("0696", "+596"),
    ("0697", "+596"),
    ("0262", "+262"),
    ("0263", "+262"),
    ("0692", "+262"),
    ("0693", "+262"),
    ("0269", "+262"),
];

/// Local numbering of the Pacific and Saint-Pierre-et-Miquelon: (département, country code,
/// allowed local lengths).
const LOCAL_PLANS: [(&str, &str, &[usize]); 4] = [
    ("988", "+687", &[6]),
    ("987", "+689", &[6, 8]),
    ("986", "+681", &[6]),
    ("975", "+508", &[6]),
];

/// Normalises a phone number to the schema's international form (`+33180059880`): French
/// national numbers (`03 84 76 90 83`, `0479613068`), `+33 (0)4…`, `0033…`, overseas
/// prefixes, and local numbers of New Caledonia, French Polynesia, Wallis-et-Futuna and
/// Saint-Pierre-et-Miquelon (using the venue's département).
pub(crate) fn normalise_phone(raw: &str, dep: Option<&str>) -> Result<Normalised, String> {
    let compact: String = raw
        .replace("(0)", "")
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-' | '(' | ')' | '/' | '\u{A0}'))
        .collect();
    let candidate = phone_candidate(&compact, dep);
    match candidate {
        Some((value, _)) if value == raw => Ok(Normalised::same(value)),
        Some((value, false)) => Ok(Normalised::reformatted(
            value.clone(),
            tr!("normalisé en {value}", "normalised to {value}"),
        )),
        Some((value, true)) => Ok(Normalised::guessed(
            value.clone(),
            tr!(
                "9 chiffres : numéro français supposé, son zéro initial perdu ; normalisé en \
                 {value}",
                "9 digits: assumed a French number that lost its leading zero; normalised to {value}"
            ),
        )),
        None => Err(tr!(
            "attendu : un numéro international comme +33180059880 (+33, +590, +594, +262, +596, \
             +269, +687, +689, +508 ou +681 puis 6 à 9 chiffres), trouvé : {}",
            "expected an international number like +33180059880 (+33, +590, +594, +262, +596, \
             +269, +687, +689, +508 or +681 then 6 to 9 digits), found {}",
            Excerpt::of(raw)
        )),
    }
}

/// The normalised number and whether it is a guess.
fn phone_candidate(compact: &str, dep: Option<&str>) -> Option<(String, bool)> {
    let international = if let Some(rest) = compact.strip_prefix("00") {
        Some(format!("+{rest}"))
    } else if compact.starts_with('+') {
        Some(compact.to_owned())
    } else {
        None
    };
    if let Some(number) = international {
        return drop_trunk_zero(&number)
            .filter(|n| is_schema_phone(n))
            .map(|n| (n, false));
    }
    if !all_digits(compact) {
        return None;
    }
    if compact.len() == 10 && compact.starts_with('0') {
        let cc = OVERSEAS_PREFIXES
            .iter()
            .find(|(p, _)| compact.starts_with(p))
            .map_or("+33", |(_, cc)| cc);
        return Some((format!("{cc}{}", &compact[1..]), false));
    }
    if let Some((_, cc, lens)) = LOCAL_PLANS.iter().find(|(d, ..)| Some(*d) == dep) {
        if lens.contains(&compact.len()) {
            return Some((format!("{cc}{compact}"), false));
        }
        let with_plus = format!("+{compact}");
        if compact.starts_with(&cc[1..]) && is_schema_phone(&with_plus) {
            return Some((with_plus, false));
        }
    }
    if compact.len() == 11 && compact.starts_with("33") {
        return Some((format!("+{compact}"), false)).filter(|(n, _)| is_schema_phone(n));
    }
    if compact.len() == 9 && !compact.starts_with('0') && !uses_local_plan(dep) {
        return Some((format!("+33{compact}"), true));
    }
    None
}

fn uses_local_plan(dep: Option<&str>) -> bool {
    LOCAL_PLANS.iter().any(|(d, ..)| Some(*d) == dep)
}

/// `+330612345678` → `+33612345678` (the national trunk 0 kept after the country code).
fn drop_trunk_zero(number: &str) -> Option<String> {
    if is_schema_phone(number) {
        return Some(number.to_owned());
    }
    COUNTRY_CODES.iter().find_map(|cc| {
        number
            .strip_prefix(cc)
            .and_then(|rest| rest.strip_prefix('0'))
            .map(|rest| format!("{cc}{rest}"))
    })
}

// ---------------------------------------------------------------------------------------------
// E-mail and URLs

/// A sane e-mail check: one `@`, a plausible local part, a domain with at least two labels and
/// an alphabetic top-level label. A `mailto:` prefix is removed.
pub(crate) fn normalise_email(raw: &str) -> Result<Normalised, String> {
    let stripped = strip_prefix_ignore_case(raw, "mailto:").unwrap_or(raw);
    let reason = || {
        tr!(
            "attendu : une adresse électronique comme contact@example.fr, trouvé : {}",
            "expected an e-mail address like contact@example.fr, found {}",
            Excerpt::of(raw)
        )
    };
    let (local, domain) = stripped.split_once('@').ok_or_else(reason)?;
    if !valid_local_part(local) || !valid_domain(domain) {
        return Err(reason());
    }
    Ok(if stripped == raw {
        Normalised::same(stripped)
    } else {
        Normalised::reformatted(
            stripped.to_owned(),
            t("préfixe mailto: retiré", "mailto: prefix removed").to_owned(),
        )
    })
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

fn valid_local_part(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{}~.-".contains(c))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let Some(tld) = labels.last() else {
        return false;
    };
    labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| valid_label(l))
        && (tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic)
            || tld.starts_with("xn--"))
}

fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(|c| c.is_alphanumeric() || c == '-')
}

/// Checks an http(s) URL; a bare host (`www.example.fr/…`) gets `https://` (a guess, reported
/// as a warning).
pub(crate) fn normalise_url(raw: &str) -> Result<Normalised, String> {
    let reason = || {
        tr!(
            "attendu : une URL http:// ou https://, trouvé : {}",
            "expected an http:// or https:// URL, found {}",
            Excerpt::of(raw)
        )
    };
    if raw.chars().any(char::is_whitespace) {
        return Err(reason());
    }
    for scheme in ["https://", "http://"] {
        if let Some(rest) = strip_prefix_ignore_case(raw, scheme) {
            if !valid_host(host_of(rest)) {
                return Err(reason());
            }
            let value = format!("{scheme}{rest}");
            return Ok(if value == raw {
                Normalised::same(value)
            } else {
                Normalised::reformatted(
                    value.clone(),
                    tr!("normalisé en {value}", "normalised to {value}"),
                )
            });
        }
    }
    if raw.contains("://") || !valid_host(host_of(raw)) || host_of(raw).contains('@') {
        return Err(reason());
    }
    let value = format!("https://{raw}");
    Ok(Normalised::guessed(
        value.clone(),
        tr!(
            "sans schéma : {value} supposé",
            "no scheme: assumed {value}"
        ),
    ))
}

fn host_of(rest: &str) -> &str {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = rest.get(..end).unwrap_or(rest);
    // Drop a port.
    host.rsplit_once(':')
        .filter(|(_, port)| all_digits(port))
        .map_or(host, |(h, _)| h)
}

fn valid_host(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| valid_label(l))
        && labels
            .last()
            .is_some_and(|tld| tld.chars().count() >= 2 && tld.chars().all(char::is_alphanumeric))
}

// ---------------------------------------------------------------------------------------------
// Coordinates

/// Parses a coordinate in decimal degrees; a decimal comma is accepted.
pub(crate) fn parse_degrees(raw: &str) -> Result<(f64, bool), String> {
    let dotted = raw.replace(',', ".");
    let comma = dotted != raw;
    let plain = dotted
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
    match dotted.parse::<f64>() {
        Ok(v) if v.is_finite() && plain => Ok((v, comma)),
        _ => Err(tr!(
            "attendu : un nombre en degrés décimaux, trouvé : {}",
            "expected a number in decimal degrees, found {}",
            Excerpt::of(raw)
        )),
    }
}

/// Degrees to micro-degrees, `round(deg * 1e6)`.
#[allow(clippy::cast_possible_truncation)]
pub(crate) fn to_micro(deg: f64) -> i64 {
    // |deg| <= 180 here, so the product fits an i64 exactly.
    (deg * 1e6).round() as i64
}

/// Micro-degrees to a decimal string with up to 6 decimals (trailing zeros trimmed).
#[must_use]
pub fn micro_to_decimal(micro: i64) -> String {
    let sign = if micro < 0 { "-" } else { "" };
    let abs = micro.unsigned_abs();
    let (int, frac) = (abs / 1_000_000, abs % 1_000_000);
    if frac == 0 {
        return format!("{sign}{int}");
    }
    let frac = format!("{frac:06}");
    format!("{sign}{int}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(r: Result<Normalised, String>) -> String {
        r.map(|n| n.value).unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn pivots() {
        let p = check_pivot("43493312300029", Some("51"));
        assert!(
            p.as_ref()
                .is_ok_and(|p| p.kind == PivotKind::Siret && !p.placeholder && !p.checksum_failed)
        );
        let p = check_pivot("00000000000000", Some("13"));
        assert!(p.is_ok_and(|p| p.placeholder));
        let p = check_pivot("434 933 123 00028", Some("51"));
        assert!(
            p.as_ref()
                .is_ok_and(|p| p.checksum_failed && p.value.value == "43493312300028")
        );
        assert!(p.is_ok_and(|p| p.value.note.is_some()));
        // La Poste establishments do not follow Luhn.
        let p = check_pivot("35600000000048", Some("75"));
        assert!(p.is_ok_and(|p| !p.checksum_failed));
        let p = check_pivot("w751234567", Some("75"));
        assert!(p.is_ok_and(|p| p.kind == PivotKind::Rna && p.value.value == "W751234567"));
        assert!(check_pivot("W000000000", None).is_ok_and(|p| p.placeholder));
        // RIDET: only in New Caledonia / French Polynesia.
        assert!(check_pivot("1234567001", Some("988")).is_ok_and(|p| p.kind == PivotKind::Ridet));
        assert!(
            check_pivot("1234567.001", Some("988")).is_ok_and(|p| p.value.value == "1234567001")
        );
        assert!(check_pivot("0000000000", Some("988")).is_ok_and(|p| p.placeholder));
        assert!(check_pivot("1234567001", Some("75")).is_err());
        let siren = check_pivot("434933123", Some("51"));
        assert!(siren.is_err_and(|e| e.contains("SIREN")));
        assert!(check_pivot("W12345", None).is_err_and(|e| e.contains("9 chiffres après le W")));
        assert!(check_pivot("", None).is_err());
    }

    #[test]
    fn luhn_checksum() {
        assert!(luhn("43493312300029"));
        assert!(!luhn("43493312300028"));
        assert!(luhn("73282932000074"));
        assert!(!luhn("1234x"));
    }

    #[test]
    fn postal_codes() {
        assert_eq!(value(normalise_postal_code("51100")), "51100");
        assert_eq!(value(normalise_postal_code("51 100")), "51100");
        let padded = normalise_postal_code("6000");
        assert!(padded.is_ok_and(|n| n.value == "06000" && n.note.is_some_and(|n| n.guessed)));
        assert_eq!(
            value(normalise_postal_code("743")),
            "ERR attendu : 5 chiffres, trouvé : \"743\""
        );
        assert!(normalise_postal_code("7436A").is_err());
    }

    #[test]
    fn insee_codes() {
        assert_eq!(value(normalise_insee("2a004")), "2A004");
        assert_eq!(value(normalise_insee("1053")), "01053");
        assert!(normalise_insee("20004").is_err());
        assert!(normalise_insee("ABC").is_err());
    }

    #[test]
    fn dates() {
        let ok = |raw: &str| check_date(raw).map(|d| d.value.value).unwrap_or_default();
        assert_eq!(ok("2023-05-11"), "2023-05-11");
        assert_eq!(ok("11/05/2023"), "2023-05-11");
        assert_eq!(ok("1/5/2023"), "2023-05-01");
        assert_eq!(ok("2023-05-11T10:20:30Z"), "2023-05-11");
        assert_eq!(ok("2023-05-11 10:20:30.123+02:00"), "2023-05-11");
        assert_eq!(ok("2024-02-29"), "2024-02-29");
        assert!(check_date("1970-01-01").is_ok_and(|d| d.placeholder));
        assert!(check_date("1969-12-31").is_ok_and(|d| d.placeholder));
        for bad in [
            "2023-02-29",
            "2023-13-01",
            "2023-5-1",
            "hier",
            "2023-05-11x",
            "1900-01-01",
            "32/01/2023",
            "2023-05-1T",
        ] {
            assert!(check_date(bad).is_err(), "{bad}");
        }
        assert!(
            check_date("2023-02-30").is_err_and(|e| e.contains("n'est pas une date du calendrier"))
        );
    }

    #[test]
    fn phones() {
        let n = |raw: &str, dep: &str| value(normalise_phone(raw, Some(dep)));
        assert_eq!(n("03 84 76 90 83", "21"), "+33384769083");
        assert_eq!(n("0479613068", "73"), "+33479613068");
        assert_eq!(n("+33 (0)4 79 61 30 68", "73"), "+33479613068");
        assert_eq!(n("+33 4 79 61 30 68", "73"), "+33479613068");
        assert_eq!(n("0033479613068", "73"), "+33479613068");
        assert_eq!(n("+330479613068", "73"), "+33479613068");
        assert_eq!(n("04.79.61.30.68", "73"), "+33479613068");
        assert_eq!(n("0590 12 34 56", "971"), "+590590123456");
        assert_eq!(n("0692 12 34 56", "974"), "+262692123456");
        assert_eq!(n("44 57 28", "988"), "+687445728");
        assert_eq!(n("+687445728", "988"), "+687445728");
        assert_eq!(n("687445728", "988"), "+687445728");
        assert_eq!(n("40 12 34 56", "987"), "+68940123456");
        assert_eq!(n("0810 25 71 10", "21"), "+33810257110");
        let guessed = normalise_phone("479613068", Some("73"));
        assert!(
            guessed.is_ok_and(|g| g.value == "+33479613068" && g.note.is_some_and(|n| n.guessed))
        );
        assert!(normalise_phone("+33180059880", Some("75")).is_ok_and(|p| p.note.is_none()));
        for bad in ["36 46", "12", "+44 20 7946 0958", "tel", "445728"] {
            assert!(normalise_phone(bad, Some("75")).is_err(), "{bad}");
        }
        assert!(is_schema_phone("+33180059880"));
        assert!(!is_schema_phone("+3318005988012"));
    }

    #[test]
    fn emails() {
        assert_eq!(
            value(normalise_email("contact@laquincaillerie.tl")),
            "contact@laquincaillerie.tl"
        );
        assert_eq!(value(normalise_email("mailto:a.b@c.fr")), "a.b@c.fr");
        assert_eq!(
            value(normalise_email("épn@mairie-ville.fr")),
            "épn@mairie-ville.fr"
        );
        for bad in [
            "epn@blanzy71 fr",
            "bpellicier@ccas-chatenoyleroyal",
            "@x.fr",
            "a@@b.fr",
            "a@b",
            "a..b@c.fr",
            "a@-b.fr",
            "a@b.f1",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls() {
        assert_eq!(
            value(normalise_url("https://www.rdv-solidarites.fr/")),
            "https://www.rdv-solidarites.fr/"
        );
        assert_eq!(
            value(normalise_url("HTTP://example.fr")),
            "http://example.fr"
        );
        assert_eq!(
            value(normalise_url("http://localhost.fr:8080/x?y#z")),
            "http://localhost.fr:8080/x?y#z"
        );
        let bare = normalise_url("www.mdeauxerrois.com");
        assert!(bare.is_ok_and(
            |b| b.value == "https://www.mdeauxerrois.com" && b.note.is_some_and(|n| n.guessed)
        ));
        assert_eq!(
            value(normalise_url("mldijon.asso.fr")),
            "https://mldijon.asso.fr"
        );
        for bad in [
            "ftp://x.fr",
            "https://",
            "https://nodot",
            "a b",
            "contact@x.fr",
            "javascript:alert(1)",
            "https://x.fr/a b",
        ] {
            assert!(normalise_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn coordinates() {
        assert_eq!(parse_degrees("43.52609"), Ok((43.52609, false)));
        assert_eq!(parse_degrees("43,52609"), Ok((43.52609, true)));
        for bad in ["", "abc", "NaN", "inf", "1.2.3", "0x10"] {
            assert!(parse_degrees(bad).is_err(), "{bad}");
        }
        assert_eq!(to_micro(-0.008588), -8588);
        assert_eq!(to_micro(6.720_031_881_096_503), 6_720_032);
        assert_eq!(micro_to_decimal(-8588), "-0.008588");
        assert_eq!(micro_to_decimal(43_526_090), "43.52609");
        assert_eq!(micro_to_decimal(45_000_000), "45");
        assert_eq!(micro_to_decimal(-180_000_000), "-180");
        assert_eq!(micro_to_decimal(0), "0");
    }
}

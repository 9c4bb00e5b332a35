//! The language of a dashboard page: French by default (the coordinators' language), English
//! when the request asks for it.
//!
//! - `?lang=en` or `?lang=fr` in the query wins: it is what the page's FR | EN switch and its
//!   links carry, so a choice made on the page sticks whatever the browser says;
//! - otherwise the `Accept-Language` header, when it prefers `en` (any `en-*`) over `fr`
//!   (any `fr-*`), by quality then by order;
//! - otherwise French.
//!
//! The header is read defensively: one longer than [`ACCEPT_LANGUAGE_BYTES_MAX`], not ASCII,
//! or beyond [`ACCEPT_LANGUAGE_ENTRIES_MAX`] entries is ignored (French); an entry with a
//! malformed quality is skipped. Nothing here can panic on what a client sends.

use axum::http::{HeaderMap, Uri, header};
use maillage_core::lang::Lang;

/// An `Accept-Language` header longer than this is ignored.
pub const ACCEPT_LANGUAGE_BYTES_MAX: usize = 512;

/// Entries of `Accept-Language` read, at most (the rest is ignored).
pub const ACCEPT_LANGUAGE_ENTRIES_MAX: usize = 32;

/// The language of the page asked for by `uri` and `headers`.
pub fn of_request(uri: &Uri, headers: &HeaderMap) -> Lang {
    if let Some(lang) = uri.query().and_then(from_query) {
        return lang;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .and_then(from_accept_language)
        .unwrap_or_default()
}

/// `lang=fr` or `lang=en` in a query string (the last one wins), if any.
pub fn from_query(query: &str) -> Option<Lang> {
    query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("lang="))
        .filter_map(Lang::parse)
        .next_back()
}

/// The language an `Accept-Language` header prefers between French and English, if it names
/// either with a non-zero quality.
pub fn from_accept_language(value: &str) -> Option<Lang> {
    if value.len() > ACCEPT_LANGUAGE_BYTES_MAX || !value.is_ascii() {
        return None;
    }
    // The best (quality, -position) of each language.
    let mut best: [Option<(u16, usize)>; 2] = [None, None];
    for (position, entry) in value
        .split(',')
        .take(ACCEPT_LANGUAGE_ENTRIES_MAX)
        .enumerate()
    {
        let mut parts = entry.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let primary = tag.split('-').next().unwrap_or("");
        let slot = if primary.eq_ignore_ascii_case("fr") {
            0
        } else if primary.eq_ignore_ascii_case("en") {
            1
        } else {
            continue;
        };
        let mut quality = Some(1000);
        for param in parts {
            let param = param.trim();
            if let Some(q) = param
                .strip_prefix("q=")
                .or_else(|| param.strip_prefix("Q="))
            {
                quality = parse_quality(q.trim());
            }
        }
        let Some(quality) = quality else { continue };
        if quality == 0 {
            continue;
        }
        let better = match best[slot] {
            None => true,
            Some((q, _)) => quality > q,
        };
        if better {
            best[slot] = Some((quality, position));
        }
    }
    match best {
        [None, None] => None,
        [Some(_), None] => Some(Lang::Fr),
        [None, Some(_)] => Some(Lang::En),
        [Some((qf, pf)), Some((qe, pe))] => Some(if qe > qf || (qe == qf && pe < pf) {
            Lang::En
        } else {
            Lang::Fr
        }),
    }
}

/// A quality value (`0`, `0.8`, `1.000`) in thousandths; `None` when malformed.
fn parse_quality(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The query suffix that keeps the page's language on a link: `?lang=en` in English, nothing
/// in French (the default).
pub fn link_suffix(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => "",
        Lang::En => "?lang=en",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_wins_then_the_header_then_french() {
        let headers = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::ACCEPT_LANGUAGE,
                value
                    .parse()
                    .unwrap_or_else(|_| axum::http::HeaderValue::from_static("fr")),
            );
            headers
        };
        let uri = |text: &str| text.parse::<Uri>().unwrap_or_default();
        assert_eq!(of_request(&uri("/"), &HeaderMap::new()), Lang::Fr);
        assert_eq!(of_request(&uri("/?lang=en"), &HeaderMap::new()), Lang::En);
        assert_eq!(
            of_request(&uri("/?as_of=2026-12-06&lang=EN"), &HeaderMap::new()),
            Lang::En
        );
        assert_eq!(of_request(&uri("/"), &headers("en-GB,en;q=0.9")), Lang::En);
        assert_eq!(of_request(&uri("/?lang=fr"), &headers("en")), Lang::Fr);
        assert_eq!(of_request(&uri("/?lang=de"), &headers("en")), Lang::En);
    }

    #[test]
    fn accept_language_by_quality_then_order() {
        assert_eq!(from_accept_language("en"), Some(Lang::En));
        assert_eq!(
            from_accept_language("fr-FR,fr;q=0.9,en;q=0.8"),
            Some(Lang::Fr)
        );
        assert_eq!(
            from_accept_language("en-US,en;q=0.9,fr;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(from_accept_language("fr;q=0.5, EN;q=0.7"), Some(Lang::En));
        assert_eq!(from_accept_language("en, fr"), Some(Lang::En));
        assert_eq!(from_accept_language("fr, en"), Some(Lang::Fr));
        assert_eq!(from_accept_language("de-DE,de;q=0.9"), None);
        assert_eq!(from_accept_language("en;q=0"), None);
        assert_eq!(from_accept_language("*"), None);
    }

    #[test]
    fn a_hostile_header_is_ignored_without_panicking() {
        let long = format!("{}en", "x,".repeat(ACCEPT_LANGUAGE_BYTES_MAX));
        assert_eq!(from_accept_language(&long), None);
        for hostile in [
            "",
            ",,,,",
            ";;;",
            "en;q=",
            "en;q=1.5",
            "en;q=-1",
            "en;q=0.12345",
            "en;q=abc",
            "en;q=99999999999999999999",
            "en;;q=0.5;q",
            "-",
            "en-",
            ";q=1",
            "é",
        ] {
            let _ = from_accept_language(hostile);
        }
        assert_eq!(from_accept_language("en;q=2"), None);
        assert_eq!(from_accept_language("en;q=abc, fr"), Some(Lang::Fr));
        assert_eq!(parse_quality("0.8"), Some(800));
        assert_eq!(parse_quality("1.000"), Some(1000));
        assert_eq!(parse_quality("1.5"), None);
    }
}

//! Text hygiene: decoding, whitespace, broken characters, and the folded keys used to match
//! controlled vocabularies.

use std::borrow::Cow;

/// Windows-1252 code points of bytes 0x80..=0x9F (undefined bytes map to the C1 control of
/// the same value, as browsers do).
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{2C6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}', '\u{8F}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}', '\u{17E}', '\u{178}',
];

/// Decodes a file: UTF-8 (a leading BOM is dropped), else Windows-1252 (which never fails).
/// The flag tells whether the fallback was used.
pub(crate) fn decode(bytes: &[u8]) -> (Cow<'_, str>, bool) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s), false),
        Err(_) => (
            Cow::Owned(bytes.iter().map(|&b| cp1252_char(b)).collect()),
            true,
        ),
    }
}

fn cp1252_char(b: u8) -> char {
    match b {
        0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

/// The Windows-1252 byte that displays as `c`, if any.
fn cp1252_byte(c: char) -> Option<u8> {
    let code = u32::from(c);
    if code < 0x80 || (0xA0..=0xFF).contains(&code) {
        return u8::try_from(code).ok();
    }
    CP1252_HIGH
        .iter()
        .position(|&h| h == c)
        .and_then(|i| u8::try_from(0x80 + i).ok())
}

/// Repairs UTF-8 text that was decoded as Latin-1/Windows-1252 somewhere upstream
/// (`Ã©` → `é`, `â€™` → `’`). Only sequences that decode to valid UTF-8 are replaced, and only
/// after the lead characters `Â Ã Å Æ â` that never start such a sequence in French text.
/// Returns `None` when nothing was repaired.
pub(crate) fn repair_mojibake(s: &str) -> Option<String> {
    // Text encoded twice needs two passes; every pass shortens the text, so this ends.
    let mut current = repair_once(s)?;
    while let Some(next) = repair_once(&current) {
        current = next;
    }
    Some(current)
}

fn repair_once(s: &str) -> Option<String> {
    if !s.chars().any(is_mojibake_lead) {
        return None;
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut repaired = false;
    while let Some(&c) = chars.get(i) {
        if let Some((decoded, used)) = decode_sequence(&chars[i..]) {
            out.push(decoded);
            i += used;
            repaired = true;
        } else {
            out.push(c);
            i += 1;
        }
    }
    repaired.then_some(out)
}

fn is_mojibake_lead(c: char) -> bool {
    matches!(c, 'Â' | 'Ã' | 'Å' | 'Æ' | 'â')
}

/// Decodes one UTF-8 sequence spelled in Windows-1252 characters at the start of `chars`.
fn decode_sequence(chars: &[char]) -> Option<(char, usize)> {
    let lead = *chars.first()?;
    if !is_mojibake_lead(lead) {
        return None;
    }
    let len = if lead == 'â' { 3 } else { 2 };
    let mut bytes = Vec::with_capacity(len);
    for &c in chars.get(..len)? {
        bytes.push(cp1252_byte(c)?);
    }
    let decoded = std::str::from_utf8(&bytes).ok()?;
    let mut it = decoded.chars();
    let c = it.next()?;
    if it.next().is_some() || c.is_control() {
        return None;
    }
    Some((c, len))
}

/// Characters treated as spaces.
fn is_space_like(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{A0}' | '\u{202F}' | '\u{2007}')
}

/// Characters removed outright (zero-width characters, BOM).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{AD}'
    )
}

/// Cleans a single-line value: every run of whitespace (including NBSP and newlines) becomes
/// one space, control and zero-width characters go, and the ends are trimmed.
pub(crate) fn clean_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if is_space_like(c) {
            pending_space = !out.is_empty();
        } else if is_invisible(c) || c.is_control() {
            continue;
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// Cleans a multi-line value: line breaks are kept (as `\n`), other whitespace runs become one
/// space, trailing spaces of each line and blank lines at both ends go.
pub(crate) fn clean_multiline(s: &str) -> String {
    let normalised = s.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<String> = normalised.split('\n').map(clean_line).collect();
    let first = lines.iter().position(|l| !l.is_empty());
    let last = lines.iter().rposition(|l| !l.is_empty());
    match (first, last) {
        (Some(a), Some(b)) => lines[a..=b].join("\n"),
        _ => String::new(),
    }
}

/// A key for matching vocabulary values: lower case, accents removed, typographic apostrophes
/// and dashes unified, `-` and `_` equivalent, all whitespace removed.
pub(crate) fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_space_like(c) || is_invisible(c) || is_combining_mark(c) {
            continue;
        }
        match c {
            '’' | '‘' | '`' | '´' | 'ʼ' => out.push('\''),
            '-' | '_' | '‐' | '‑' | '–' | '—' => out.push('_'),
            'œ' | 'Œ' => out.push_str("oe"),
            'æ' | 'Æ' => out.push_str("ae"),
            _ => {
                for l in c.to_lowercase() {
                    out.push(strip_accent(l));
                }
            }
        }
    }
    out
}

fn is_combining_mark(c: char) -> bool {
    ('\u{300}'..='\u{36F}').contains(&c)
}

fn strip_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        _ => c,
    }
}

/// Splits a multi-valued cell on `|` and `;` (v1 and v0.1.1 separators), trimming pieces and
/// dropping empty ones.
pub(crate) fn split_multi(s: &str) -> Vec<String> {
    s.split(['|', ';'])
        .map(clean_line)
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_and_falls_back_to_cp1252() {
        let (s, fallback) = decode("\u{FEFF}Médiathèque".as_bytes());
        assert_eq!(s, "Médiathèque");
        assert!(!fallback);
        let (s, fallback) = decode(b"M\xe9diath\xe8que \x92");
        assert_eq!(s, "Médiathèque ’");
        assert!(fallback);
    }

    #[test]
    fn repairs_mojibake_only_when_unambiguous() {
        assert_eq!(
            repair_mojibake("MÃ©diathÃ¨que").as_deref(),
            Some("Médiathèque")
        );
        assert_eq!(repair_mojibake("lâ€™Ã©cole").as_deref(), Some("l’école"));
        assert_eq!(repair_mojibake("Å“uvre").as_deref(), Some("œuvre"));
        // Mixed: a correct é next to a broken one.
        assert_eq!(repair_mojibake("é et Ã©").as_deref(), Some("é et é"));
        assert_eq!(repair_mojibake("Médiathèque"), None);
        assert_eq!(repair_mojibake("âge"), None);
        assert_eq!(repair_mojibake("Ã"), None);
        // Encoded twice.
        assert_eq!(
            repair_mojibake("MÃƒÂ©diathÃƒÂ¨que").as_deref(),
            Some("Médiathèque")
        );
    }

    #[test]
    fn cleans_whitespace() {
        assert_eq!(clean_line("  a\u{A0}\u{A0}b \n c\t"), "a b c");
        assert_eq!(clean_line("\u{200B}x"), "x");
        assert_eq!(clean_multiline("\r\n a  b \r\nc\n\n"), "a b\nc");
        assert_eq!(clean_multiline(" \n "), "");
    }

    #[test]
    fn folds_variants_together() {
        assert_eq!(fold("Compréhension"), fold("Comprehension"));
        assert_eq!(
            fold("Étapes numériques (La Poste)"),
            fold("Étapes numériques(La Poste)")
        );
        assert_eq!(
            fold("Ce lieu n’accueille pas"),
            fold("Ce lieu n'accueille pas")
        );
        assert_eq!(fold("tiers-lieux"), fold("TIERS_LIEUX"));
        assert_eq!(fold("Cre\u{301}er"), fold("Créer"));
    }

    #[test]
    fn splits_on_both_separators() {
        assert_eq!(split_multi(" a | b;c;; "), vec!["a", "b", "c"]);
    }
}

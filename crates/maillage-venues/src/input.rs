//! Reading files into raw rows: format detection, CSV (standard v1 / v0.1.1 columns) and
//! JSON arrays.

use std::collections::BTreeMap;

use maillage_core::{lang::t, tr};
use serde_json::Value;

use crate::issue::{FieldIssue, IssueKind, RowLocation, Severity};
use crate::row::{Column, Field, FileContext, Origin, RawRow, column};
use crate::{FileError, InputFormat};

/// A row waiting to be validated, or the reason it could not even be read.
pub(crate) struct Pending {
    pub(crate) location: RowLocation,
    pub(crate) row: Result<RawRow, FieldIssue>,
}

/// Everything read from a file.
#[derive(Default)]
pub(crate) struct Source {
    pub(crate) rows: Vec<Pending>,
    pub(crate) ctx: FileContext,
    pub(crate) notes: Vec<String>,
}

/// The required fields of v1.
pub(crate) const REQUIRED: [Field; 7] = [
    Field::Id,
    Field::Pivot,
    Field::Nom,
    Field::Commune,
    Field::CodePostal,
    Field::Adresse,
    Field::DateMaj,
];

const V0_MARKERS: [&str; 7] = [
    "labels_nationaux",
    "publics_accueillis",
    "conditions_acces",
    "courriel",
    "accessibilite",
    "labels_autres",
    "cle_ban",
];

const V1_MARKERS: [&str; 10] = [
    "courriels",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "frais_a_charge",
    "dispositif_programmes_nationaux",
    "formations_labels",
    "autres_formations_labels",
    "modalites_acces",
    "fiche_acces_libre",
    "itinerance",
];

// ---------------------------------------------------------------------------------------------
// Detection

/// Guesses the format of decoded text among the standard's: JSON when it starts with `[` (or
/// `{`), v0.1.1 when its CSV header has more v0.1.1-only columns than v1-only ones, v1
/// otherwise. `None` for blank text. (Layouts read through a mapping are recognised by the
/// caller.)
pub(crate) fn detect(text: &str) -> Option<InputFormat> {
    let first = text.trim_start().chars().next()?;
    if first == '[' || first == '{' {
        return Some(InputFormat::Json);
    }
    let header = header_names(text);
    let count = |markers: &[&str]| {
        header
            .iter()
            .filter(|h| markers.contains(&h.as_str()))
            .count()
    };
    if count(&V0_MARKERS) > count(&V1_MARKERS) {
        Some(InputFormat::CsvV0)
    } else {
        Some(InputFormat::CsvV1)
    }
}

/// The CSV delimiter: the most frequent of `,` `;` and tab outside quotes on the header line
/// (`,` on ties, as the standard says).
pub(crate) fn sniff_delimiter(text: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for c in text.bytes() {
        match c {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                for (d, n) in &mut counts {
                    if *d == c {
                        *n += 1;
                    }
                }
            }
            _ => {}
        }
    }
    let mut best = counts[0];
    for candidate in counts {
        if candidate.1 > best.1 {
            best = candidate;
        }
    }
    best.0
}

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(sniff_delimiter(text))
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes())
}

/// Header names, lower-cased and trimmed.
pub(crate) fn header_names(text: &str) -> Vec<String> {
    csv_reader(text)
        .headers()
        .map(|h| h.iter().map(normalise_header).collect())
        .unwrap_or_default()
}

fn normalise_header(h: &str) -> String {
    h.trim().trim_matches('"').trim().to_lowercase()
}

// ---------------------------------------------------------------------------------------------
// CSV

/// A CSV file: its header and its records (with their line numbers).
pub(crate) struct Table {
    pub(crate) header: Vec<String>,
    pub(crate) records: Vec<(RowLocation, Result<Vec<String>, String>)>,
    /// Records whose every cell is blank (spreadsheet leftovers), skipped.
    pub(crate) blank: usize,
}

/// Reads a CSV table; fails only when there is no usable header.
pub(crate) fn read_table(text: &str) -> Result<Table, FileError> {
    let mut reader = csv_reader(text);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| FileError::Csv(e.to_string()))?
        .iter()
        .map(normalise_header)
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(FileError::NoHeader);
    }
    let mut table = Table {
        header,
        records: Vec::new(),
        blank: 0,
    };
    for result in reader.records() {
        match result {
            Ok(record) => {
                let line = record.position().map_or(0, csv::Position::line);
                if record.iter().all(|cell| cell.trim().is_empty()) {
                    table.blank += 1;
                    continue;
                }
                let cells = record.iter().map(str::to_owned).collect();
                table.records.push((RowLocation::Line(line), Ok(cells)));
            }
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                table
                    .records
                    .push((RowLocation::Line(line), Err(e.to_string())));
            }
        }
    }
    Ok(table)
}

/// A few of a header's column names, each cut short: enough to recognise a file, never a
/// whole line of someone else's content (a key file, a personal data export).
pub(crate) fn header_excerpt(header: &[String]) -> String {
    let shown: Vec<String> = header
        .iter()
        .take(3)
        .map(|name| maillage_core::excerpt::excerpt(name, 16))
        .collect();
    let more = header.len().saturating_sub(shown.len());
    let columns = if header.len() == 1 {
        "column"
    } else {
        "columns"
    };
    if more > 0 {
        format!(
            "{} {columns}: {} and {more} more",
            header.len(),
            shown.join(", ")
        )
    } else {
        format!("{} {columns}: {}", header.len(), shown.join(", "))
    }
}

/// Reads a CSV with the standard's column names (v1, v0.1.1 or a mix).
pub(crate) fn read_standard_csv(text: &str) -> Result<Source, FileError> {
    let table = read_table(text)?;
    let columns: Vec<Column> = table.header.iter().map(|h| column(h)).collect();
    if !columns.iter().any(|c| matches!(c, Column::Field(..))) {
        return Err(FileError::UnrecognizedHeader {
            found: header_excerpt(&table.header),
        });
    }
    let mut source = Source::default();
    let mut columns_seen = ColumnNotes::default();
    for (name, col) in table.header.iter().zip(&columns) {
        columns_seen.record(name, *col);
    }
    for field in REQUIRED {
        if !columns
            .iter()
            .any(|c| matches!(c, Column::Field(f, _) if *f == field))
        {
            source.ctx.absent.insert(
                field,
                tr!(
                    "le fichier n'a pas de colonne {}",
                    "the file has no {} column",
                    field.name()
                ),
            );
        }
    }
    let width = table.header.len();
    for (location, record) in table.records {
        let row = record
            .map(|cells| csv_row(&cells, &columns, width))
            .map_err(|e| unreadable(&e));
        source.rows.push(Pending { location, row });
    }
    source.notes = columns_seen.notes();
    if table.blank > 0 {
        source.notes.push(tr!(
            "{} enregistrement(s) vide(s) ignoré(s)",
            "{} blank record(s) skipped",
            table.blank
        ));
    }
    Ok(source)
}

fn csv_row(cells: &[String], columns: &[Column], width: usize) -> RawRow {
    let mut row = RawRow::default();
    for (cell, col) in cells.iter().zip(columns) {
        if let Column::Field(field, origin) = col {
            // A cell an export made safe for spreadsheets is read back as it was.
            let cell = crate::export::from_spreadsheet_safe(cell);
            row.insert(*field, cell.to_owned(), *origin);
        }
    }
    if cells.len() > width {
        let extra = cells.get(width..).unwrap_or_default().join(",");
        row.issues.push(FieldIssue::new(
            Severity::Warning,
            IssueKind::Malformed,
            "(record)",
            &extra,
            tr!(
                "l'enregistrement a {} champs mais l'en-tête en a {width} : champs en trop \
                 ignorés (un séparateur sans guillemets dans une valeur ?)",
                "the record has {} fields but the header has {width}: extra fields ignored \
                 (an unquoted separator inside a value?)",
                cells.len()
            ),
        ));
    }
    row
}

pub(crate) fn unreadable(error: &str) -> FieldIssue {
    FieldIssue::new(
        Severity::Error,
        IssueKind::Malformed,
        "(record)",
        "",
        tr!(
            "enregistrement CSV illisible : {error}",
            "unreadable CSV record: {error}"
        ),
    )
}

/// Collects what the header's columns mean, for the file-level notes.
#[derive(Default)]
pub(crate) struct ColumnNotes {
    v0: BTreeMap<String, &'static str>,
    ignored: BTreeMap<String, String>,
    unknown: BTreeMap<String, usize>,
}

impl ColumnNotes {
    pub(crate) fn record(&mut self, name: &str, col: Column) {
        match col {
            Column::Field(field, Origin::V0) => {
                let target = match field {
                    Field::PublicsAccueillis => {
                        "publics_specifiquement_adresses + prise_en_charge_specifique"
                    }
                    Field::ConditionsAcces => "frais_a_charge",
                    Field::LabelsNationaux => "dispositif_programmes_nationaux + formations_labels",
                    other => other.name(),
                };
                self.v0.insert(name.to_owned(), target);
            }
            Column::Field(_, Origin::V1) => {}
            Column::Ignored(why) => {
                self.ignored.insert(name.to_owned(), why.to_owned());
            }
            Column::Unknown => *self.unknown.entry(name.to_owned()).or_default() += 1,
        }
    }

    pub(crate) fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if !self.v0.is_empty() {
            let list: Vec<String> = self.v0.iter().map(|(k, v)| format!("{k} → {v}")).collect();
            notes.push(tr!(
                "colonnes v0.1.1 traduites en v1 : {}",
                "v0.1.1 columns mapped to v1: {}",
                list.join(", ")
            ));
        }
        for (name, why) in &self.ignored {
            notes.push(tr!(
                "colonne {name} ignorée : {why}",
                "column {name} ignored: {why}"
            ));
        }
        if !self.unknown.is_empty() {
            let list: Vec<&str> = self.unknown.keys().map(String::as_str).collect();
            notes.push(tr!(
                "colonnes hors du standard, ignorées : {}",
                "columns not in the standard, ignored: {}",
                list.join(", ")
            ));
        }
        notes
    }
}

// ---------------------------------------------------------------------------------------------
// JSON

/// Reads a JSON array of objects keyed by the standard's field names.
pub(crate) fn read_json(text: &str) -> Result<Source, FileError> {
    let value: Value = serde_json::from_str(text).map_err(|e| FileError::InvalidJson {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let Value::Array(items) = value else {
        return Err(FileError::NotJsonArray {
            found: json_type(&value),
        });
    };
    let mut source = Source::default();
    let mut columns = ColumnNotes::default();
    let mut blank = 0usize;
    for (i, item) in items.iter().enumerate() {
        let location = RowLocation::Index(i + 1);
        let row = match item {
            Value::Object(map) => json_row(map, &mut columns),
            other => Err(FieldIssue::new(
                Severity::Error,
                IssueKind::Malformed,
                "(record)",
                &other.to_string(),
                tr!(
                    "attendu : un objet JSON par lieu, trouvé : {}",
                    "expected a JSON object for each venue, found {}",
                    json_type(other)
                ),
            )),
        };
        if row.as_ref().is_ok_and(RawRow::is_empty) {
            blank += 1;
            continue;
        }
        source.rows.push(Pending { location, row });
    }
    source.notes = columns.notes();
    if blank > 0 {
        source.notes.push(tr!(
            "{blank} objet(s) vide(s) ignoré(s)",
            "{blank} empty object(s) skipped"
        ));
    }
    Ok(source)
}

fn json_row(
    map: &serde_json::Map<String, Value>,
    columns: &mut ColumnNotes,
) -> Result<RawRow, FieldIssue> {
    let mut row = RawRow::default();
    for (key, value) in map {
        let col = column(key);
        columns.record(&normalise_header(key), col);
        let Column::Field(field, origin) = col else {
            continue;
        };
        match json_text(value) {
            Ok(Some(text)) => row.insert(field, text, origin),
            Ok(None) => {}
            Err(found) => row.issues.push(FieldIssue::new(
                Severity::Warning,
                IssueKind::Malformed,
                field.name(),
                &value.to_string(),
                tr!(
                    "attendu : du texte ou un nombre, trouvé : {found} : ignoré",
                    "expected text or a number, found {found}: ignored"
                ),
            )),
        }
    }
    Ok(row)
}

/// A JSON value as text: strings as is, numbers and booleans printed, arrays of scalars
/// `|`-joined, null as absent. Objects (and nested arrays) are refused.
fn json_text(value: &Value) -> Result<Option<String>, &'static str> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        Value::Array(items) => {
            let mut parts = Vec::new();
            for item in items {
                match item {
                    Value::Array(_) | Value::Object(_) => {
                        return Err(t(
                            "un tableau ou un objet imbriqué",
                            "a nested array or object",
                        ));
                    }
                    scalar => parts.extend(json_text(scalar)?),
                }
            }
            Ok(Some(parts.join("|")))
        }
        Value::Object(_) => Err(t("un objet JSON", "a JSON object")),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => t("un booléen", "a boolean"),
        Value::Number(_) => t("un nombre", "a number"),
        Value::String(_) => t("une chaîne", "a string"),
        Value::Array(_) => t("un tableau", "an array"),
        Value::Object(_) => t("un objet", "an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats() {
        assert_eq!(detect("  [ {} ]"), Some(InputFormat::Json));
        assert_eq!(
            detect("\"id\",\"pivot\",\"courriel\",\"labels_nationaux\"\n"),
            Some(InputFormat::CsvV0)
        );
        assert_eq!(
            detect("id;pivot;courriels;frais_a_charge\n"),
            Some(InputFormat::CsvV1)
        );
        assert_eq!(detect("id,nom\n"), Some(InputFormat::CsvV1));
        assert_eq!(detect(" \n "), None);
    }

    #[test]
    fn sniffs_delimiters() {
        assert_eq!(sniff_delimiter("a,b,c\n1;2;3;4;5"), b',');
        assert_eq!(sniff_delimiter("a;b;c\n"), b';');
        assert_eq!(sniff_delimiter("\"a,b\";c;d\n"), b';');
        assert_eq!(sniff_delimiter("a\tb\n"), b'\t');
        assert_eq!(sniff_delimiter("a\n"), b',');
    }

    #[test]
    fn json_values_become_text() {
        assert_eq!(
            json_text(&serde_json::json!(6000)),
            Ok(Some("6000".to_owned()))
        );
        assert_eq!(
            json_text(&serde_json::json!(45.952791)),
            Ok(Some("45.952791".to_owned()))
        );
        assert_eq!(
            json_text(&serde_json::json!(["a", 1])),
            Ok(Some("a|1".to_owned()))
        );
        assert_eq!(json_text(&serde_json::json!(null)), Ok(None));
        assert!(json_text(&serde_json::json!({"a": 1})).is_err());
        assert!(json_text(&serde_json::json!([[1]])).is_err());
    }
}

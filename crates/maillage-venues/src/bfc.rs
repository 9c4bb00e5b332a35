//! The MedNum BFC hub's own CSV layout (`bfc_id, lon, lat, adresse, code_postal, ville,
//! nom_structure, contact_email, contact_tel, code_typo, code_label, horaires…`).
//!
//! The layout has no `pivot` and no `date_maj`: its rows are mapped as far as they go and then
//! rejected for those two missing required fields, with a reason saying so. Should the hub add
//! columns named like the standard's (`pivot`, `date_maj`, `code_insee`…), they are used.

use std::sync::LazyLock;

use regex::Regex;

use crate::FileError;
use crate::hours::validate_opening_hours;
use crate::input::{ColumnNotes, Pending, Source, read_table, unreadable};
use crate::issue::{FieldIssue, IssueKind, Severity};
use crate::record::aptic_issue;
use crate::row::{Column, Field, Origin, RawRow, column};

/// How a BFC column is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BfcColumn {
    Field(Field),
    Typo,
    Label,
    Horaires,
    Departement,
    Ignored(&'static str),
    Standard(Field, Origin),
    Unknown,
}

fn bfc_column(name: &str) -> BfcColumn {
    match name {
        "bfc_id" => BfcColumn::Field(Field::Id),
        "nom_structure" => BfcColumn::Field(Field::Nom),
        "adresse" => BfcColumn::Field(Field::Adresse),
        "code_postal" => BfcColumn::Field(Field::CodePostal),
        "ville" => BfcColumn::Field(Field::Commune),
        "lat" => BfcColumn::Field(Field::Latitude),
        "lon" => BfcColumn::Field(Field::Longitude),
        "contact_tel" => BfcColumn::Field(Field::Telephone),
        "contact_email" => BfcColumn::Field(Field::Courriels),
        "url_lieu" => BfcColumn::Field(Field::SiteWeb),
        "source" => BfcColumn::Field(Field::Source),
        "code_typo" => BfcColumn::Typo,
        "code_label" => BfcColumn::Label,
        "horaires" => BfcColumn::Horaires,
        "departement" => BfcColumn::Departement,
        "adresse_full" => BfcColumn::Ignored("duplicates adresse, code_postal and ville"),
        "dep_txt" => BfcColumn::Ignored("duplicates departement"),
        "def_typo" | "def_label" | "def_accomp" => {
            BfcColumn::Ignored("label of the matching code_ column")
        }
        "url_illustration" => BfcColumn::Ignored("v1 has no illustration field"),
        "code_accomp" => BfcColumn::Ignored("empty in the hub's exports; no mapping defined"),
        other => match column(other) {
            Column::Field(f, o) => BfcColumn::Standard(f, o),
            Column::Ignored(why) => BfcColumn::Ignored(why),
            Column::Unknown => BfcColumn::Unknown,
        },
    }
}

/// Reads a MedNum BFC export.
pub(crate) fn read(text: &str) -> Result<Source, FileError> {
    let table = read_table(text)?;
    if !table.header.iter().any(|h| h == "bfc_id") {
        return Err(FileError::NotBfcLayout {
            missing: "bfc_id".to_owned(),
        });
    }
    let columns: Vec<BfcColumn> = table.header.iter().map(|h| bfc_column(h)).collect();
    let mut source = Source::default();
    let mut notes = ColumnNotes::default();
    for (name, col) in table.header.iter().zip(&columns) {
        match col {
            BfcColumn::Ignored(why) => notes.ignore(name, why),
            BfcColumn::Unknown => notes.record(name, Column::Unknown),
            _ => {}
        }
    }
    let has = |field: Field| {
        columns
            .iter()
            .any(|c| matches!(c, BfcColumn::Standard(f, _) | BfcColumn::Field(f) if *f == field))
    };
    if !has(Field::Pivot) {
        source.ctx.absent.insert(
            Field::Pivot,
            "the MedNum BFC layout has no pivot column: the hub must add the venue's SIRET \
             (14 digits), RNA (W + 9 digits) or RIDET"
                .to_owned(),
        );
    }
    if !has(Field::DateMaj) {
        source.ctx.absent.insert(
            Field::DateMaj,
            "the MedNum BFC layout has no date_maj column: the hub must add the date of the \
             last update (YYYY-MM-DD)"
                .to_owned(),
        );
    }
    for (location, record) in table.records {
        let row = record
            .map(|cells| bfc_row(&cells, &columns))
            .map_err(|e| unreadable(&e));
        source.rows.push(Pending { location, row });
    }
    source.notes.push(
        "MedNum BFC layout (the hub's own columns, not the standard): bfc_id → id, \
         nom_structure → nom, ville → commune, lat/lon → coordinates, contact_tel → telephone, \
         contact_email → courriels, url_lieu → site_web, code_typo/code_label → typologie, \
         labels and the APTIC flag, HTML horaires converted when possible"
            .to_owned(),
    );
    for field in [Field::Pivot, Field::DateMaj] {
        if let Some(why) = source.ctx.absent.get(&field) {
            source.notes.push(format!("every row is rejected: {why}"));
        }
    }
    source.notes.extend(notes.notes());
    Ok(source)
}

fn bfc_row(cells: &[String], columns: &[BfcColumn]) -> RawRow {
    let mut row = RawRow::default();
    for (cell, col) in cells.iter().zip(columns) {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        match *col {
            BfcColumn::Field(field) => row.insert(field, cell.to_owned(), Origin::V1),
            BfcColumn::Standard(field, origin) => row.insert(field, cell.to_owned(), origin),
            BfcColumn::Typo => typo(&mut row, cell),
            BfcColumn::Label => labels(&mut row, cell),
            BfcColumn::Horaires => horaires(&mut row, cell),
            BfcColumn::Departement => row.stated_departement = Some(cell.to_owned()),
            BfcColumn::Ignored(_) | BfcColumn::Unknown => {}
        }
    }
    row
}

fn info(row: &mut RawRow, kind: IssueKind, field: &str, value: &str, reason: String) {
    row.issues
        .push(FieldIssue::new(Severity::Info, kind, field, value, reason));
}

/// `code_typo`: `-`-separated letters.
fn typo(row: &mut RawRow, cell: &str) {
    for code in cell.split('-').map(str::trim).filter(|c| !c.is_empty()) {
        let (label, mapped) = match code {
            "F" => ("Lieux de médiation et de fabrication", Some("FABLAB")),
            "T" => ("Lieux de travail et de collaboration", Some("TIERS_LIEUX")),
            "O" => ("Lieux de formation", Some("OF")),
            "M" => ("Lieux de médiation publique", Some("EPN")),
            "I" => ("Lieux d'information et d'accès aux droits", None),
            _ => ("unknown code", None),
        };
        match mapped {
            Some(t) => {
                row.insert(Field::Typologie, t.to_owned(), Origin::V1);
                let reason = format!("BFC type {code} ({label}) mapped to typologie {t}");
                info(row, IssueKind::Mapped, "code_typo", code, reason);
            }
            None => {
                let reason = format!(
                    "BFC type {code} ({label}) has no single data·inclusion typology: dropped"
                );
                info(row, IssueKind::Unsupported, "code_typo", code, reason);
            }
        }
    }
}

/// `code_label`: `-`-separated label codes.
fn labels(row: &mut RawRow, cell: &str) {
    for code in cell.split('-').map(str::trim).filter(|c| !c.is_empty()) {
        match code {
            "APTIC" => {
                row.declares_pass_numerique = true;
                row.issues.push(aptic_issue("code_label", code));
            }
            "MSAP" => {
                row.insert(Field::Typologie, "MSAP".to_owned(), Origin::V1);
                let reason = "Maison de Services Au Public mapped to typologie MSAP".to_owned();
                info(row, IssueKind::Mapped, "code_label", code, reason);
            }
            "MFS" => {
                row.insert(Field::Typologie, "RFS".to_owned(), Origin::V1);
                row.insert(
                    Field::DispositifProgrammesNationaux,
                    "France Services".to_owned(),
                    Origin::V1,
                );
                let reason = "Maison France Services mapped to typologie RFS and \
                              dispositif_programmes_nationaux France Services"
                    .to_owned();
                info(row, IssueKind::Mapped, "code_label", code, reason);
            }
            other => {
                let label = match other {
                    "NMM" => "Nièvre médiation numérique",
                    "DM" => "Réseau Dijon métropole",
                    _ => other,
                };
                row.insert(Field::AutresFormationsLabels, label.to_owned(), Origin::V1);
                let reason =
                    format!("regional label kept in autres_formations_labels as {label:?}");
                info(row, IssueKind::Mapped, "code_label", code, reason);
            }
        }
    }
}

fn horaires(row: &mut RawRow, cell: &str) {
    if !cell.contains('<') {
        row.insert(Field::Horaires, cell.to_owned(), Origin::V1);
        return;
    }
    let (kind, reason) = match html_hours_to_osm(cell) {
        Some(osm) => {
            let reason = format!(
                "HTML schedule converted to OpenStreetMap opening_hours {osm:?}: please check it"
            );
            row.insert(Field::Horaires, osm, Origin::V1);
            (IssueKind::Normalised, reason)
        }
        None => (
            IssueKind::Malformed,
            "HTML schedule that could not be converted to OpenStreetMap opening_hours: dropped"
                .to_owned(),
        ),
    };
    row.issues.push(FieldIssue::new(
        Severity::Warning,
        kind,
        "horaires",
        cell,
        reason,
    ));
}

static SLOT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s*(?:matin|apr[eè]s-midi|soir)?\s*:\s*(\d{1,2})\s*h\s*(\d{2})?\s*(?:-|à)\s*(\d{1,2})\s*h\s*(\d{2})?",
    )
    .ok()
});

const DAYS_FR: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const DAYS_OSM: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

/// Converts the hub's HTML schedule (`<li>- lundi matin: 8h30-12h / lundi après-midi:
/// 13h30-17h<br>`…) to `opening_hours` (`Mo 08:30-12:00,13:30-17:00`). `None` when nothing
/// (or something impossible) is found.
pub(crate) fn html_hours_to_osm(html: &str) -> Option<String> {
    let re = SLOT.as_ref()?;
    let mut days: [Vec<(u32, u32)>; 7] = Default::default();
    for cap in re.captures_iter(html) {
        let day = cap.get(1)?.as_str().to_lowercase();
        let index = DAYS_FR.iter().position(|d| *d == day)?;
        let minutes = |h: usize, m: usize| -> Option<u32> {
            let hour: u32 = cap.get(h)?.as_str().parse().ok()?;
            let minute: u32 = cap.get(m).map_or(Some(0), |m| m.as_str().parse().ok())?;
            (minute < 60).then_some(hour * 60 + minute)
        };
        let (start, end) = (minutes(2, 3)?, minutes(4, 5)?);
        if start >= end || end > 24 * 60 {
            return None;
        }
        days.get_mut(index)?.push((start, end));
    }
    let days = days.map(merge);
    let mut rules = Vec::new();
    let mut i = 0;
    while i < 7 {
        let mut j = i;
        while j + 1 < 7 && days[j + 1] == days[i] {
            j += 1;
        }
        if !days[i].is_empty() {
            let selector = if i == j {
                DAYS_OSM[i].to_owned()
            } else {
                format!("{}-{}", DAYS_OSM[i], DAYS_OSM[j])
            };
            let ranges: Vec<String> = days[i]
                .iter()
                .map(|&(s, e)| format!("{}-{}", hhmm(s), hhmm(e)))
                .collect();
            rules.push(format!("{selector} {}", ranges.join(",")));
        }
        i = j + 1;
    }
    let osm = rules.join("; ");
    (!osm.is_empty() && validate_opening_hours(&osm).is_ok()).then_some(osm)
}

/// Sorts ranges and merges touching or overlapping ones.
fn merge(mut ranges: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    ranges.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for (s, e) in ranges {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_the_hubs_html_schedules() {
        let html = "<ul><li>- lundi matin: 8h30-12h / lundi après-midi: 13h30-17h<br>\n</li><li>- mardi matin: 8h30-12h / mardi après-midi: 13h30-17h<br>\n</li><li>- mercredi matin: 8h30-12h / mercredi après-midi: 13h30-17h<br>\n</li><li>- jeudi matin: 8h30-12h / jeudi après-midi: 13h30-17h<br>\n</li><li>- vendredi matin: 8h30-12h / vendredi après-midi: 13h30-17h<br>\n</li><li>- </li><li>- </li></ul>";
        assert_eq!(
            html_hours_to_osm(html).as_deref(),
            Some("Mo-Fr 08:30-12:00,13:30-17:00")
        );

        let html = "<ul><li>-  / lundi après-midi: 19h30-21h<br>\n</li><li>- </li><li>- </li><li>- </li><li>- </li><li>- samedi matin: 9h30-12h</li><li>- </li></ul>";
        assert_eq!(
            html_hours_to_osm(html).as_deref(),
            Some("Mo 19:30-21:00; Sa 09:30-12:00")
        );

        // Touching ranges merge.
        let html = "<li>- lundi matin: 9h-12h / lundi après-midi: 12h-18h</li><li>- mardi matin: 9h-12h / mardi après-midi: 12h-18h</li>";
        assert_eq!(
            html_hours_to_osm(html).as_deref(),
            Some("Mo-Tu 09:00-18:00")
        );

        assert_eq!(html_hours_to_osm("<ul><li>- </li></ul>"), None);
        assert_eq!(html_hours_to_osm("<li>lundi matin: 14h-9h</li>"), None);
    }

    #[test]
    fn maps_type_and_label_codes() {
        let mut row = RawRow::default();
        typo(&mut row, "F-I");
        labels(&mut row, "APTIC-DM");
        labels(&mut row, "-MSAP-MFS");
        assert_eq!(row.get(Field::Typologie), Some("FABLAB|MSAP|RFS"));
        assert_eq!(
            row.get(Field::AutresFormationsLabels),
            Some("Réseau Dijon métropole")
        );
        assert_eq!(
            row.get(Field::DispositifProgrammesNationaux),
            Some("France Services")
        );
        assert!(row.declares_pass_numerique);
    }
}

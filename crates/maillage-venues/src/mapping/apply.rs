//! Reading a CSV through a [`Mapping`] into the raw rows every layout produces, and saying
//! what became of each of the file's columns.

use std::borrow::Cow;

use maillage_core::{lang::t, tr};

use super::{ColumnRule, Convert, Declares, Mapping, Target, Unlisted, ValueRule};
use crate::FileError;
use crate::input::{Pending, REQUIRED, Source, read_table, unreadable};
use crate::issue::{FieldIssue, IssueKind, Severity};
use crate::record::{aptic_issue, pass_numerique_issue};
use crate::row::{Column, Field, Origin, RawRow, column};
use crate::schedule::{DAYS_FR, Week, day_ranges, html_hours_to_osm, week_to_osm};
use crate::text::fold;

/// What became of one column of an imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnUse {
    /// The column, as named in the header (trimmed, lower case).
    pub column: String,
    /// Where its values went.
    pub usage: ColumnUsage,
}

/// Where a column's values went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnUsage {
    /// Into these fields of the standard (`departement`: cross-checked, not stored).
    Mapped {
        /// The fields.
        fields: Vec<String>,
        /// How.
        via: MappedVia,
    },
    /// Ignored, as the mapping says, for this reason.
    Ignored {
        /// The reason.
        reason: String,
    },
    /// Named neither by the mapping nor by the standard: ignored.
    Unknown,
}

/// How a column was mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappedVia {
    /// Taken as the field's value (possibly cut by a pattern, or prefixed).
    Rename,
    /// Through a table of values.
    Values,
    /// Converted (an HTML schedule to opening hours).
    Converted,
    /// Joined with other columns.
    Join,
    /// One day of the opening hours.
    Hours,
    /// Named like a field of the standard.
    Standard,
}

/// How the reader uses one column of the header.
enum Plan<'m> {
    Rule(&'m ColumnRule),
    Standard(Field, Origin),
    /// Read with other columns (join, hours) or not at all.
    Skip,
}

/// Reads a CSV with a mapping.
pub(crate) fn read(text: &str, mapping: &Mapping) -> Result<(Source, Vec<ColumnUse>), FileError> {
    let table = read_table(text)?;
    let header = &table.header;
    if let Some(missing) = mapping
        .required_columns
        .iter()
        .find(|c| !header.contains(c))
    {
        return Err(FileError::LayoutMismatch {
            layout: mapping.title().to_owned(),
            missing: missing.clone(),
        });
    }
    let mut plan = Vec::with_capacity(header.len());
    let mut uses = Vec::with_capacity(header.len());
    for name in header {
        let (p, usage) = column_plan(mapping, name);
        plan.push(p);
        uses.push(ColumnUse {
            column: name.clone(),
            usage,
        });
    }
    let position = |name: &String| header.iter().position(|h| h == name);
    let joins: Vec<(Field, &str, Vec<usize>)> = mapping
        .joins
        .iter()
        .map(|j| {
            let at = j.columns.iter().filter_map(position).collect();
            (j.field, j.separator.as_str(), at)
        })
        .collect();
    let days: Vec<(usize, usize, &str)> = mapping
        .days
        .iter()
        .filter_map(|(day, name)| Some((*day, position(name)?, name.as_str())))
        .collect();

    let mut source = Source::default();
    let provides = |field: Field| {
        plan.iter().any(|p| match p {
            Plan::Rule(rule) => rule_provides(rule, field),
            Plan::Standard(f, _) => *f == field,
            Plan::Skip => false,
        }) || joins.iter().any(|(f, _, at)| *f == field && !at.is_empty())
            || (field == Field::Horaires && !days.is_empty())
            || mapping.constants.iter().any(|(f, _)| *f == field)
    };
    for field in REQUIRED {
        if !provides(field) {
            let why = mapping.absent.get(&field).cloned().unwrap_or_else(|| {
                tr!(
                    "le fichier n'a aucune colonne que la correspondance {} lit dans {}",
                    "the file has no column the mapping {} reads into {}",
                    mapping.name(),
                    field.name()
                )
            });
            source.ctx.absent.insert(field, why);
        }
    }
    for (location, record) in table.records {
        let row = record
            .map(|cells| mapped_row(mapping, &cells, header, &plan, &joins, &days))
            .map_err(|e| unreadable(&e));
        source.rows.push(Pending { location, row });
    }

    let mut intro = tr!(
        "lu avec la correspondance d'import {}",
        "read with the import mapping {}",
        mapping.name()
    );
    if mapping.title() != mapping.name() {
        intro.push_str(&format!(" ({})", mapping.title()));
    }
    if !mapping.description().is_empty() {
        intro.push_str(&tr!(" : {}", ": {}", mapping.description()));
    }
    source.notes.push(intro);
    for field in REQUIRED {
        if let Some(why) = source.ctx.absent.get(&field) {
            source.notes.push(tr!(
                "toutes les lignes sont rejetées : {why}",
                "every row is rejected: {why}"
            ));
        }
    }
    let lacking = lacking_columns(mapping, header);
    if !lacking.is_empty() {
        source.notes.push(tr!(
            "colonnes lues par la correspondance qui manquent au fichier : {}",
            "columns the mapping reads that the file lacks: {}",
            lacking.join(", ")
        ));
    }
    if table.blank > 0 {
        source.notes.push(tr!(
            "{} enregistrement(s) vide(s) ignoré(s)",
            "{} blank record(s) skipped",
            table.blank
        ));
    }
    Ok((source, uses))
}

fn rule_provides(rule: &ColumnRule, field: Field) -> bool {
    rule.target == Some(Target::Field(field))
        || rule
            .values
            .values()
            .any(|v| v.sets.iter().any(|(f, _)| *f == field))
}

/// The columns a mapping names (other than ignored ones) that a header lacks.
pub(super) fn lacking_columns(mapping: &Mapping, header: &[String]) -> Vec<String> {
    let named = mapping
        .columns
        .keys()
        .chain(mapping.joins.iter().flat_map(|j| j.columns.iter()))
        .chain(mapping.days.iter().map(|(_, c)| c));
    let mut lacking: Vec<String> = named.filter(|c| !header.contains(c)).cloned().collect();
    lacking.sort();
    lacking.dedup();
    lacking
}

fn column_plan<'m>(mapping: &'m Mapping, name: &str) -> (Plan<'m>, ColumnUsage) {
    if let Some(rule) = mapping.columns.get(name) {
        let mut fields: Vec<String> = rule.target.iter().map(|t| t.name().to_owned()).collect();
        for v in rule.values.values() {
            for (f, _) in &v.sets {
                if !fields.iter().any(|x| x == f.name()) {
                    fields.push(f.name().to_owned());
                }
            }
        }
        let via = if rule.convert.is_some() {
            MappedVia::Converted
        } else if rule.values.is_empty() {
            MappedVia::Rename
        } else {
            MappedVia::Values
        };
        return (Plan::Rule(rule), ColumnUsage::Mapped { fields, via });
    }
    if let Some(join) = mapping
        .joins
        .iter()
        .find(|j| j.columns.iter().any(|c| c == name))
    {
        let usage = ColumnUsage::Mapped {
            fields: vec![join.field.name().to_owned()],
            via: MappedVia::Join,
        };
        return (Plan::Skip, usage);
    }
    if mapping.days.iter().any(|(_, c)| c == name) {
        let usage = ColumnUsage::Mapped {
            fields: vec!["horaires".to_owned()],
            via: MappedVia::Hours,
        };
        return (Plan::Skip, usage);
    }
    if let Some(reason) = mapping.ignored.get(name) {
        let usage = ColumnUsage::Ignored {
            reason: reason.clone(),
        };
        return (Plan::Skip, usage);
    }
    if mapping.standard_columns {
        match column(name) {
            Column::Field(field, origin) => {
                let usage = ColumnUsage::Mapped {
                    fields: vec![field.name().to_owned()],
                    via: MappedVia::Standard,
                };
                return (Plan::Standard(field, origin), usage);
            }
            Column::Ignored(why) => {
                let usage = ColumnUsage::Ignored {
                    reason: why.to_owned(),
                };
                return (Plan::Skip, usage);
            }
            Column::Unknown => {}
        }
    }
    (Plan::Skip, ColumnUsage::Unknown)
}

fn mapped_row(
    mapping: &Mapping,
    cells: &[String],
    header: &[String],
    plan: &[Plan<'_>],
    joins: &[(Field, &str, Vec<usize>)],
    days: &[(usize, usize, &str)],
) -> RawRow {
    let mut row = RawRow::default();
    for ((cell, p), name) in cells.iter().zip(plan).zip(header) {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        match p {
            Plan::Rule(rule) => apply_rule(&mut row, name, cell, rule),
            Plan::Standard(field, origin) => row.insert(*field, cell.to_owned(), *origin),
            Plan::Skip => {}
        }
    }
    for (field, separator, at) in joins {
        let parts: Vec<&str> = at
            .iter()
            .filter_map(|&i| cells.get(i))
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
            .collect();
        if !parts.is_empty() {
            row.insert(*field, parts.join(separator), Origin::V1);
        }
    }
    if !days.is_empty() {
        day_hours(&mut row, cells, days);
    }
    for (field, value) in &mapping.constants {
        row.insert(*field, value.clone(), Origin::V1);
    }
    row
}

fn info(row: &mut RawRow, kind: IssueKind, column: &str, value: &str, reason: String) {
    row.issues
        .push(FieldIssue::new(Severity::Info, kind, column, value, reason));
}

fn apply_rule(row: &mut RawRow, column: &str, cell: &str, rule: &ColumnRule) {
    let cell: Cow<'_, str> = match &rule.extract {
        Some(re) => match re.captures(cell).and_then(|c| c.get(1)) {
            Some(m) => Cow::Owned(m.as_str().trim().to_owned()),
            None => Cow::Borrowed(cell),
        },
        None => Cow::Borrowed(cell),
    };
    if rule.convert == Some(Convert::HtmlSchedule) {
        html_schedule(row, &cell);
        return;
    }
    let field = match rule.target {
        Some(Target::Departement) => {
            if row.stated_departement.is_none() {
                row.stated_departement = Some(cell.into_owned());
            }
            return;
        }
        Some(Target::Field(field)) => Some(field),
        None => None,
    };
    let pieces: Vec<&str> = match &rule.split {
        Some(separator) => cell
            .split(separator.as_str())
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect(),
        None => vec![&cell],
    };
    for piece in pieces {
        let listed = (!rule.values.is_empty())
            .then(|| rule.values.get(&fold(piece)))
            .flatten();
        if let Some(value) = listed {
            apply_value(row, column, piece, value);
            continue;
        }
        match (rule.unlisted, field) {
            (Unlisted::Keep, Some(field)) => {
                row.insert(field, format!("{}{piece}", rule.prefix), Origin::V1);
                if !rule.values.is_empty() {
                    let reason = tr!(
                        "absent de la table de valeurs de la correspondance : gardé tel quel \
                         dans {}",
                        "not in the mapping's table of values: kept as it is in {}",
                        field.name()
                    );
                    info(row, IssueKind::Mapped, column, piece, reason);
                }
            }
            _ => {
                let reason = t(
                    "absent de la table de valeurs de la correspondance : écarté",
                    "not in the mapping's table of values: dropped",
                )
                .to_owned();
                info(row, IssueKind::Unsupported, column, piece, reason);
            }
        }
    }
}

fn apply_value(row: &mut RawRow, column: &str, piece: &str, value: &ValueRule) {
    let what = match &value.label {
        Some(label) => format!("{piece} ({label})"),
        None => piece.to_owned(),
    };
    if let Some(why) = &value.drop {
        let reason = tr!("{what} écarté : {why}", "{what} dropped: {why}");
        info(row, IssueKind::Unsupported, column, piece, reason);
        return;
    }
    if let Some(declares) = value.declares {
        row.declares_pass_numerique = true;
        row.issues.push(match declares {
            Declares::Aptic => aptic_issue(column, piece),
            Declares::PassNumerique => pass_numerique_issue(column, piece),
        });
    }
    if value.sets.is_empty() {
        return;
    }
    let mut targets = Vec::with_capacity(value.sets.len());
    for (field, v) in &value.sets {
        row.insert(*field, v.clone(), Origin::V1);
        targets.push(format!("{} {v:?}", field.name()));
    }
    let reason = tr!(
        "{what} traduit en {}",
        "{what} mapped to {}",
        targets.join(t(" et ", " and "))
    );
    info(row, IssueKind::Mapped, column, piece, reason);
}

/// A cell with HTML is read as a French day-by-day schedule; other text is taken as
/// `opening_hours` (and checked as such).
fn html_schedule(row: &mut RawRow, cell: &str) {
    if !cell.contains('<') {
        row.insert(Field::Horaires, cell.to_owned(), Origin::V1);
        return;
    }
    let (kind, reason) = match html_hours_to_osm(cell) {
        Some(osm) => {
            let reason = tr!(
                "horaires HTML convertis en opening_hours OpenStreetMap {osm:?} : à vérifier",
                "HTML schedule converted to OpenStreetMap opening_hours {osm:?}: please check it"
            );
            row.insert(Field::Horaires, osm, Origin::V1);
            (IssueKind::Normalised, reason)
        }
        None => (
            IssueKind::Malformed,
            t(
                "horaires HTML impossibles à convertir en opening_hours OpenStreetMap : écartés",
                "HTML schedule that could not be converted to OpenStreetMap opening_hours: dropped",
            )
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

/// Opening hours from one column per day.
fn day_hours(row: &mut RawRow, cells: &[String], days: &[(usize, usize, &str)]) {
    let mut week = Week::default();
    let mut shown = Vec::new();
    for &(day, at, name) in days {
        let cell = cells.get(at).map_or("", |c| c.trim());
        if cell.is_empty() {
            continue;
        }
        shown.push(format!(
            "{}: {cell}",
            DAYS_FR.get(day).copied().unwrap_or(name)
        ));
        let Some(ranges) = day_ranges(cell) else {
            row.issues.push(FieldIssue::new(
                Severity::Warning,
                IssueKind::Malformed,
                "horaires",
                cell,
                tr!(
                    "colonne {name} : pas des horaires d'une journée lisibles par la \
                     correspondance (par exemple \"09:00 - 12:00 / 13:30 - 17:00\", \"9h-12h\", \
                     \"fermé\") : horaires écartés",
                    "column {name}: not a day's schedule the mapping can read (e.g. \
                     \"09:00 - 12:00 / 13:30 - 17:00\", \"9h-12h\", \"fermé\"): opening hours \
                     dropped"
                ),
            ));
            return;
        };
        if let Some(slot) = week.get_mut(day) {
            slot.extend(ranges);
        }
    }
    if shown.is_empty() {
        return;
    }
    let value = shown.join("; ");
    match week_to_osm(week) {
        Some(osm) => {
            let reason = tr!(
                "horaires assemblés à partir des colonnes par jour : {osm:?} (syntaxe \
                 OpenStreetMap)",
                "opening hours assembled from the day columns: {osm:?} (OpenStreetMap syntax)"
            );
            row.insert(Field::Horaires, osm, Origin::V1);
            info(row, IssueKind::Normalised, "horaires", &value, reason);
        }
        None => row.issues.push(FieldIssue::new(
            Severity::Warning,
            IssueKind::Malformed,
            "horaires",
            &value,
            t(
                "les colonnes par jour ne donnent aucun horaire (fermé tous les jours ?) : rien \
                 de gardé",
                "the day columns give no opening hours (closed every day?): nothing kept",
            ),
        )),
    }
}

//! The hub's venue map in the national standard: import (a `VenueRegistered` per new venue,
//! a `VenueUpdated` per changed one, nothing for what is unchanged), listing, search, export.
//!
//! Rows failing validation are reported (place, id, field, reason) and never abort the file.

use maillage_core::Role;
use maillage_core::ledger::VenueQuery;
use maillage_core::venues::{Venue, venue_id};
use maillage_core::{Ledger, pb};
use maillage_store::EventStore;
use maillage_venues::{
    ColumnUsage, ColumnUse, ImportOptions, InputFormat, MappedVia, Mapping, RowOutcome,
};

use crate::app::App;
use crate::error::{AppError, Result};
use crate::request::{
    ColumnFate, ColumnVia, FileBytes, ImportCounts, ImportVenues, ImportedColumn, ListVenues,
    SearchVenues, VenueFormat, VenueMapping, VenuesImported,
};
use crate::resolve;
use crate::views::{VenueRecordView, VenueView};

/// Rows of rejected rows quoted in an import's answer, at most.
const REJECTED_ROWS_SHOWN: usize = 10;

impl From<VenueFormat> for InputFormat {
    fn from(f: VenueFormat) -> Self {
        match f {
            VenueFormat::Auto => InputFormat::Auto,
            VenueFormat::CsvV1 => InputFormat::CsvV1,
            VenueFormat::CsvV0 => InputFormat::CsvV0,
            VenueFormat::Json => InputFormat::Json,
            VenueFormat::MednumBfc => InputFormat::MednumBfcCsv,
        }
    }
}

impl From<&ColumnUse> for ImportedColumn {
    fn from(c: &ColumnUse) -> Self {
        let fate = match &c.usage {
            ColumnUsage::Mapped { fields, via } => ColumnFate::Mapped {
                fields: fields.clone(),
                via: match via {
                    MappedVia::Rename => ColumnVia::Rename,
                    MappedVia::Values => ColumnVia::Values,
                    MappedVia::Converted => ColumnVia::Converted,
                    MappedVia::Join => ColumnVia::Join,
                    MappedVia::Hours => ColumnVia::Hours,
                    MappedVia::Standard => ColumnVia::Standard,
                },
            },
            ColumnUsage::Ignored { reason } => ColumnFate::Ignored {
                reason: reason.clone(),
            },
            ColumnUsage::Unknown => ColumnFate::Unknown,
        };
        Self {
            column: c.column.clone(),
            fate,
        }
    }
}

/// The import mapping a request names: shipped, or a file's text (parsed here, bounded).
fn mapping_of(mapping: &VenueMapping) -> Result<Mapping> {
    let (source, parsed) = match mapping {
        VenueMapping::Shipped(name) => ("--mapping", Mapping::shipped(name)),
        VenueMapping::File { source, content } => (source.as_str(), Mapping::from_bytes(content)),
    };
    parsed.map_err(|e| {
        AppError::invalid_field(
            "mapping",
            maillage_core::tr!(
                "{source} : {e} ; rien n'a été importé",
                "{source}: {e}; nothing was imported"
            ),
        )
    })
}

/// A venue as a view.
pub fn venue_view(ledger: &Ledger, v: &Venue, distance_km: Option<f64>, today: i32) -> VenueView {
    VenueView {
        venue_id: v.venue_id.clone(),
        departement: v.departement.clone(),
        hub: v.hub,
        hub_name: resolve::hub_name(ledger.charter(), &v.hub),
        closed: v.closed.clone(),
        updates: v.updates,
        last_event: v.last_event,
        distance_km,
        qualified_until: ledger
            .qualification(&v.venue_id)
            .filter(|q| q.valid_until.0 >= today)
            .map(|q| q.valid_until.to_string()),
        record: VenueRecordView::from(&v.record),
    }
}

/// The records of the open venues, by venue id: what an export of the national standard holds
/// (the same order on every node).
pub fn open_records(ledger: &Ledger) -> Vec<pb::VenueRecord> {
    ledger
        .venues()
        .venues()
        .values()
        .filter(|v| v.closed.is_none())
        .map(|v| v.record.clone())
        .collect()
}

/// Whether a pivot is the all-zero placeholder of the real exports (no venue can be qualified
/// with it).
fn is_placeholder(pivot: &str) -> bool {
    pivot.bytes().all(|b| b == b'0')
}

/// The record an import signs for a row: the file's, except that a placeholder pivot in the
/// file never replaces a real one the hub set since (`maillage venues set`): re-importing the
/// hub's usual export must not undo a correction.
fn kept_pivot(record: &pb::VenueRecord, existing: Option<&Venue>) -> pb::VenueRecord {
    let mut record = record.clone();
    if let Some(existing) = existing
        && is_placeholder(&record.pivot)
        && !is_placeholder(&existing.record.pivot)
    {
        record.pivot = existing.record.pivot.clone();
    }
    record
}

/// Open venues matching `query` (nearest first when it names a point) whose name, town,
/// address or postcode contain every one of `words` (case and accents ignored), with their
/// distance.
pub fn search<'a>(
    ledger: &'a Ledger,
    query: &VenueQuery,
    words: &[String],
) -> Vec<(&'a Venue, Option<f64>)> {
    let words: Vec<String> = words.iter().map(|w| resolve::fold(w)).collect();
    ledger
        .search_venues(query)
        .into_iter()
        .filter(|(v, _)| {
            let haystack = resolve::fold(&format!(
                "{} {} {} {}",
                v.record.nom, v.record.commune, v.record.adresse, v.record.code_postal
            ));
            words.iter().all(|w| haystack.contains(w))
        })
        .collect()
}

impl App {
    pub(crate) fn import_venues(&self, r: ImportVenues) -> Result<VenuesImported> {
        let node = self.node();
        let member = node.member()?.clone();
        if member.role != Role::Hub {
            return Err(AppError::forbidden(maillage_core::lang::t(
                "ce nœud est un observateur : seuls les hubs importent des lieux",
                "this node is an observer: only hubs import venues",
            )));
        }
        let options = ImportOptions {
            territories: Some(member.territories.clone()),
        };
        let parsed = match &r.mapping {
            None => maillage_venues::parse(&r.content, r.format.into(), &options),
            Some(_) if r.format != VenueFormat::Auto => {
                return Err(AppError::invalid_field(
                    "format",
                    maillage_core::lang::t(
                        "un format et une correspondance d'import ne vont pas ensemble : la \
                         correspondance dit déjà comment lire le fichier",
                        "a format and an import mapping do not go together: the mapping \
                         already says how to read the file",
                    ),
                ));
            }
            Some(mapping) => {
                maillage_venues::parse_mapped(&r.content, &mapping_of(mapping)?, &options)
            }
        };
        let batch = parsed.map_err(|e| {
            let source = &r.source;
            AppError::invalid_field(
                "file",
                maillage_core::tr!(
                    "{source} ne se lit pas comme un fichier de lieux : {e}",
                    "{source} cannot be read as a venue file: {e}"
                ),
            )
        })?;
        let summary = maillage_venues::summarize(&batch.rows);
        let me = node.id();
        let mut views = node.views()?;
        let mut counts = ImportCounts {
            rows: batch.rows.len(),
            ..ImportCounts::default()
        };
        let mut bodies = Vec::new();
        for row in &batch.rows {
            match &row.outcome {
                RowOutcome::Rejected { .. } => counts.rejected += 1,
                RowOutcome::Accepted {
                    record,
                    warnings,
                    declares_pass_numerique,
                    ..
                } => {
                    if warnings
                        .iter()
                        .any(|w| w.severity >= maillage_venues::Severity::Warning)
                    {
                        counts.with_warnings += 1;
                    }
                    if *declares_pass_numerique {
                        counts.declares_pass_numerique += 1;
                    }
                    let id = venue_id(&me, &record.id);
                    let existing = views.venues().get(&id);
                    let record = &kept_pivot(record, existing);
                    match existing {
                        None => {
                            counts.imported += 1;
                            bodies.push(pb::event::Body::VenueRegistered(pb::VenueRegistered {
                                venue_id: id,
                                record: Some(record.clone()),
                            }));
                        }
                        Some(existing) if existing.record == *record => counts.unchanged += 1,
                        Some(_) => {
                            counts.updated += 1;
                            bodies.push(pb::event::Body::VenueUpdated(pb::VenueUpdated {
                                venue_id: id,
                                record: Some(record.clone()),
                            }));
                        }
                    }
                }
            }
        }
        let mut refused = Vec::new();
        if !r.dry_run && !bodies.is_empty() {
            let outcomes = node.sign_all(&mut views, bodies, &mut |_| {})?;
            for outcome in outcomes {
                match outcome {
                    Ok(_) => counts.events_appended += 1,
                    Err(error) => refused.push(error.message),
                }
            }
            if let Some(network) = self.network() {
                network.notify();
            }
        }
        drop(views);
        let report_csv = if r.report {
            let mut csv = Vec::new();
            maillage_venues::write_report_csv(&batch.rows, &mut csv).map_err(|e| {
                AppError::internal(maillage_core::tr!(
                    "écriture du rapport : {e}",
                    "writing the report: {e}"
                ))
            })?;
            Some(csv)
        } else {
            None
        };
        let rejected_rows = batch
            .rows
            .iter()
            .filter(|row| !row.is_accepted())
            .take(REJECTED_ROWS_SHOWN)
            .map(|row| {
                let blocking: Vec<String> = row
                    .issues()
                    .iter()
                    .filter(|i| i.severity == maillage_venues::Severity::Error)
                    .map(|i| format!("{}: {}", i.field, i.reason))
                    .collect();
                format!(
                    "{} (id {}): {}",
                    row.location,
                    row.source_id.as_deref().unwrap_or("-"),
                    blocking.join("; ")
                )
            })
            .collect();
        Ok(VenuesImported {
            source: r.source,
            format: format!("{:?}", batch.format),
            mapping: batch.mapping.clone(),
            columns: batch.columns.iter().map(ImportedColumn::from).collect(),
            hub: member.name.clone(),
            territories: member.territories.iter().cloned().collect(),
            counts,
            notes: batch.notes.clone(),
            top_rejections: summary
                .top_rejection_reasons(5)
                .iter()
                .map(ToString::to_string)
                .collect(),
            top_warnings: summary
                .top_warning_reasons(5)
                .iter()
                .map(ToString::to_string)
                .collect(),
            rejected_rows,
            refused,
            report_csv,
            dry_run: r.dry_run,
            feed_seq: node.store.head(&me).map_or(0, |h| h.seq),
        })
    }

    pub(crate) fn list_venues(&self, r: &ListVenues) -> Result<Vec<VenueView>> {
        let today = self.today();
        self.read(|ledger| {
            Ok(ledger
                .venues()
                .venues()
                .values()
                .filter(|v| r.all || v.closed.is_none())
                .filter(|v| {
                    r.departement
                        .as_ref()
                        .is_none_or(|d| v.departement.eq_ignore_ascii_case(d))
                })
                .map(|v| venue_view(ledger, v, None, today))
                .collect())
        })
    }

    pub(crate) fn search_venues(&self, r: &SearchVenues) -> Result<Vec<VenueView>> {
        let today = self.today();
        let near = match r.near {
            None => None,
            Some((lat, lon)) => {
                if !(lat.abs() <= 90.0 && lon.abs() <= 180.0) {
                    return Err(AppError::invalid(
                        "near",
                        maillage_core::lang::t(
                            "une latitude entre -90 et 90 et une longitude entre -180 et 180 degrés",
                            "a latitude within ±90 and a longitude within ±180 degrees",
                        ),
                        &format!("{lat},{lon}"),
                    ));
                }
                if !(r.within_km > 0.0 && r.within_km.is_finite()) {
                    return Err(AppError::invalid(
                        "within_km",
                        maillage_core::lang::t("une distance positive", "a positive distance"),
                        &r.within_km.to_string(),
                    ));
                }
                Some((
                    (lat * 1e6).round() as i64,
                    (lon * 1e6).round() as i64,
                    r.within_km,
                ))
            }
        };
        let qualified_on = match &r.qualified_on {
            None => None,
            Some(day) if day.is_empty() => Some(today),
            Some(day) => Some(resolve::day("qualified_on", day)?),
        };
        let query = VenueQuery {
            departement: r.departement.clone(),
            service: r.service.clone(),
            public: r.public.clone(),
            qualified_on,
            near,
        };
        self.read(|ledger| {
            Ok(search(ledger, &query, &r.words)
                .into_iter()
                .take(r.limit)
                .map(|(v, distance)| venue_view(ledger, v, distance, today))
                .collect())
        })
    }

    pub(crate) fn show_venue(&self, id: &str) -> Result<VenueView> {
        let today = self.today();
        self.read(|ledger| {
            let venue_id = resolve::venue(ledger, "id", id)?;
            let venue = ledger.venues().get(&venue_id).ok_or_else(|| {
                AppError::not_found(maillage_core::tr!(
                    "aucun lieu {venue_id}",
                    "no venue {venue_id}"
                ))
            })?;
            Ok(venue_view(ledger, venue, None, today))
        })
    }

    pub(crate) fn export_venues(&self) -> Result<FileBytes> {
        let records = self.read(|ledger| Ok(open_records(ledger)))?;
        let mut csv = Vec::new();
        maillage_venues::export_csv_v1(&records, &mut csv).map_err(|e| {
            AppError::internal(maillage_core::tr!(
                "écriture du CSV : {e}",
                "writing the CSV: {e}"
            ))
        })?;
        Ok(FileBytes {
            name: "lieux.csv".into(),
            content: csv,
            items: records.len() as u64,
            items_are: maillage_core::lang::t(
                "lieux (CSV du standard national v1)",
                "venues (national standard v1 CSV)",
            )
            .into(),
        })
    }
}

//! The analysts' files: the node's views as CSV files that open in a spreadsheet.
//!
//! - `lieux.csv`: the open venues in the national standard v1 (byte for byte the standard);
//! - `venues.csv`: every venue, closed ones included with their closing day, by the venue id
//!   the other files name (`redeemed_venue_id`, `target_venue_id`, `accepted_venue_id`), with
//!   the id of the source file (`lieux.csv`'s `id`): the table an analyst joins on;
//! - `vouchers.csv`: one row per voucher of every batch, with its status on the as-of day and
//!   the day it was handed out;
//! - `referrals.csv`: one row per referral, with its status on the as-of day;
//! - `events.csv`: one row per event applied, by clock, for series by month;
//! - `stats.csv`: the national figures, one value a row.
//! - `indicators.csv`: the national indicators (`crate::indicators`), one value a row.
//!
//! With `parquet`, each table but `lieux.csv` also as a Parquet file of typed columns
//! ([`crate::export_parquet`]; `events` split by month); with `datapackage`, a
//! `datapackage.json` describing every file written ([`crate::export_datapackage`]).
//!
//! UTF-8, `,`-separated, one header row, rows in id order: every node holding the same events
//! writes the same bytes for the same day. In `venues.csv` the codes (département, postal,
//! INSEE) are always quoted, so that readers honouring quotes keep `04` and `2A` as text.
//! `excel` rewrites every file for a double-click in a French spreadsheet: a byte-order mark
//! and `;` between values. The files are meant to be handed around, so they
//! carry no person code (nor the prescriber's desk name): a voucher says whether it was handed
//! out, not to whom; a referral says which kind of prescriber opened it, not for whom.

use std::collections::BTreeMap;
use std::io::Write;

use maillage_core::date::format_date;
use maillage_core::ledger::ReferralStatus;
use maillage_core::{HubId, Ledger};
use maillage_store::EventStore;

use crate::app::App;
use crate::error::{AppError, Result};
use crate::export_events::{EVENT_COLUMNS, EventFacts};
use crate::queries::{referral_status, voucher_status_on};
use crate::request::{ExportTables, FileBytes};
use crate::resolve;

pub use crate::export_schema::Table;

/// The export's description, a Frictionless Data Package ([`crate::export_datapackage`]).
pub const DATAPACKAGE: &str = "datapackage.json";

/// Columns of `venues.csv`.
pub const VENUE_COLUMNS: [&str; 16] = [
    "venue_id",
    "source_id",
    "hub",
    "hub_key",
    "nom",
    "commune",
    "code_postal",
    "code_insee",
    "departement",
    "departement_nom",
    "pivot",
    "status",
    "closed_on",
    "closing_reason",
    "qualified_until",
    "updates",
];

/// Columns of `venues.csv` always quoted: codes a reader must keep as text (`04`, `2A`).
const VENUE_CODE_COLUMNS: [&str; 3] = ["code_postal", "code_insee", "departement"];

/// Columns of `vouchers.csv`.
pub const VOUCHER_COLUMNS: [&str; 24] = [
    "serial",
    "batch",
    "number",
    "issuer_hub",
    "issuer_key",
    "funder",
    "funder_siret",
    "face_value_cents",
    "valid_from",
    "valid_until",
    "redeem_deadline",
    "status",
    "as_of",
    "handed_out",
    "redeemed_on",
    "redeemed_venue_id",
    "redeemed_service",
    "redeemed_via_claim",
    "settled",
    "owner_hub",
    "owner_key",
    "transfers",
    "pending_claims",
    "handed_out_on",
];

/// Columns of `referrals.csv`.
pub const REFERRAL_COLUMNS: [&str; 18] = [
    "referral_id",
    "opened_on",
    "opened_by_hub",
    "opened_by_key",
    "prescriber_kind",
    "needs",
    "target_venue_id",
    "target_departement",
    "handling_hub",
    "handling_key",
    "status",
    "as_of",
    "expires_on",
    "accepted_on",
    "accepted_venue_id",
    "days_to_accept",
    "outcome",
    "autonomy",
];

/// Columns of `indicators.csv`.
pub const INDICATOR_COLUMNS: [&str; 9] = [
    "as_of",
    "indicator",
    "quarter",
    "funder",
    "prescriber_kind",
    "from_hub",
    "to_hub",
    "metric",
    "value",
];

/// Columns of `stats.csv`.
pub const STATS_COLUMNS: [&str; 8] = [
    "as_of",
    "section",
    "hub",
    "hub_key",
    "funder",
    "departement",
    "metric",
    "value",
];

impl App {
    pub(crate) fn export_tables(&self, r: &ExportTables) -> Result<Vec<FileBytes>> {
        let as_of = self.as_of(r.as_of.as_deref())?;
        let mut tables = Vec::new();
        for name in &r.tables {
            let table = Table::ALL
                .into_iter()
                .find(|t| t.file_name() == name)
                .ok_or_else(|| {
                    AppError::invalid(
                        "tables",
                        maillage_core::lang::t(
                            "lieux.csv, venues.csv, vouchers.csv, referrals.csv, events.csv, \
                             stats.csv ou indicators.csv",
                            "lieux.csv, venues.csv, vouchers.csv, referrals.csv, events.csv, \
                             stats.csv or indicators.csv",
                        ),
                        name,
                    )
                })?;
            tables.push(table);
        }
        if tables.is_empty() {
            tables = Table::ALL.to_vec();
        }
        tables.sort_unstable();
        tables.dedup();
        // A copy: a serving node goes on folding while the files are written.
        let ledger = self.node().views_copy()?;
        let facts = crate::export_events::collect(self.node(), &ledger)?;
        let mut files = Vec::new();
        let mut written = Vec::new();
        for table in tables {
            let mut content = Vec::new();
            let items = write_table(&ledger, &facts, table, as_of, &mut content)?;
            let parquet = if r.parquet {
                crate::export_parquet::from_csv(table, &content)?
            } else {
                Vec::new()
            };
            if r.excel {
                content = for_excel(&content)?;
            }
            files.push(FileBytes {
                name: table.file_name().to_owned(),
                content,
                items,
                items_are: table.rows_are().to_owned(),
            });
            written.push(crate::export_datapackage::Written {
                table,
                rows: items,
                parquet: parquet.iter().map(|p| p.name.clone()).collect(),
            });
            files.extend(parquet.into_iter().map(|p| FileBytes {
                name: p.name,
                content: p.content,
                items: p.rows,
                items_are: table.rows_are().to_owned(),
            }));
        }
        if r.datapackage {
            let package =
                crate::export_datapackage::datapackage(&written, &format_date(as_of), r.excel);
            let mut content = serde_json::to_vec_pretty(&package)
                .map_err(|e| AppError::internal(format!("datapackage.json: {e}")))?;
            content.push(b'\n');
            files.push(FileBytes {
                name: DATAPACKAGE.to_owned(),
                content,
                items: files.len() as u64,
                items_are: maillage_core::lang::t("fichiers décrits", "files described").to_owned(),
            });
        }
        Ok(files)
    }

    pub(crate) fn export_log(&self) -> Result<FileBytes> {
        let node = self.node();
        let mut content = Vec::new();
        let mut writer = crate::logfile::LogWriter::new(&mut content, &node.charter)?;
        node.for_each_event(|event| writer.event(event))?;
        let items = writer.finish()?;
        Ok(FileBytes {
            name: "log.mlog".into(),
            content,
            items,
            items_are: {
                let feeds = node.store.frontier().len();
                maillage_core::tr!("événements de {feeds} flux", "events from {feeds} feeds")
            },
        })
    }
}

/// Writes one file's CSV to `out`; returns its row count (header excluded). `facts` are what
/// the events of the same views tell ([`crate::export_events::collect`]).
pub fn write_table(
    ledger: &Ledger,
    facts: &EventFacts,
    table: Table,
    as_of: i32,
    out: &mut dyn Write,
) -> Result<u64> {
    let rows = match table {
        Table::Venues => {
            let records = crate::venues::open_records(ledger);
            maillage_venues::export_csv_v1(&records, out)?;
            records.len() as u64
        }
        Table::VenueIndex => venue_index(ledger, facts, as_of, out)?,
        Table::Vouchers => with_csv(out, |csv| vouchers(ledger, facts, as_of, csv))?,
        Table::Referrals => with_csv(out, |csv| referrals(ledger, as_of, csv))?,
        Table::Events => with_csv(out, |csv| events(ledger, facts, csv))?,
        Table::Stats => with_csv(out, |csv| stats(ledger, as_of, csv))?,
        Table::Indicators => with_csv(out, |csv| indicators(ledger, as_of, csv))?,
    };
    Ok(rows)
}

/// A CSV file rewritten for a French spreadsheet: byte-order mark, `;` between values.
fn for_excel(content: &[u8]) -> Result<Vec<u8>> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(content);
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_writer(&mut out);
    for record in reader.byte_records() {
        writer.write_byte_record(&record?)?;
    }
    writer.flush()?;
    drop(writer);
    Ok(out)
}

/// One CSV field: quoted when `always`, or when it holds a separator, a quote or a line end;
/// never run as a formula by a spreadsheet ([`maillage_venues::spreadsheet_safe`]: names
/// come from peers).
fn field(out: &mut Vec<u8>, value: &str, always: bool) {
    let value = maillage_venues::spreadsheet_safe(value);
    if always || value.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        out.extend_from_slice(value.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(value.as_bytes());
    }
}

/// Every venue by venue id, open or closed, codes quoted.
fn venue_index(
    ledger: &Ledger,
    facts: &EventFacts,
    as_of: i32,
    out: &mut dyn Write,
) -> Result<u64> {
    let quoted: Vec<bool> = VENUE_COLUMNS
        .iter()
        .map(|c| VENUE_CODE_COLUMNS.contains(c))
        .collect();
    let line = |cells: &[&str]| {
        let mut bytes = Vec::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                bytes.push(b',');
            }
            field(&mut bytes, cell, quoted[i]);
        }
        bytes.push(b'\n');
        bytes
    };
    // The header is never quoted: readers take it as names.
    let mut text = format!("{}\n", VENUE_COLUMNS.join(",")).into_bytes();
    let mut rows = 0;
    for v in ledger.venues().venues().values() {
        let qualified_until = ledger
            .qualification(&v.venue_id)
            .filter(|q| v.closed.is_none() && q.valid_until.0 >= as_of)
            .map(|q| q.valid_until.to_string())
            .unwrap_or_default();
        let (status, closed_on) = match &v.closed {
            None => ("open", ""),
            Some(_) => (
                "closed",
                facts.closed_on.get(&v.venue_id).map_or("", String::as_str),
            ),
        };
        text.extend(line(&[
            &v.venue_id,
            &v.record.id,
            &resolve::hub_name(ledger.charter(), &v.hub),
            &v.hub.short(),
            &v.record.nom,
            &v.record.commune,
            &v.record.code_postal,
            &v.record.code_insee,
            &v.departement,
            maillage_core::territory::departement_name(&v.departement).unwrap_or(""),
            &v.record.pivot,
            status,
            closed_on,
            v.closed.as_deref().unwrap_or(""),
            &qualified_until,
            &v.updates.to_string(),
        ]));
        rows += 1;
    }
    out.write_all(&text)?;
    Ok(rows)
}

/// Every applied event, by clock; no person code.
fn events(ledger: &Ledger, facts: &EventFacts, csv: &mut Csv<'_>) -> Result<u64> {
    csv.write_record(EVENT_COLUMNS)?;
    for e in &facts.rows {
        csv.write_record([
            crate::export_events::hlc_day(e.hlc).as_str(),
            &e.hlc.to_string(),
            &resolve::hub_name(ledger.charter(), &e.author),
            &e.author.short(),
            &e.seq.to_string(),
            &e.event_id,
            e.kind,
            &e.event_date,
            &e.venue_id,
            &e.batch,
            &e.serial,
            &e.vouchers.to_string(),
            &e.referral_id,
        ])?;
    }
    Ok(facts.rows.len() as u64)
}

fn with_csv(out: &mut dyn Write, fill: impl FnOnce(&mut Csv<'_>) -> Result<u64>) -> Result<u64> {
    let mut csv = Csv(csv::Writer::from_writer(out));
    let rows = fill(&mut csv)?;
    csv.0.flush()?;
    Ok(rows)
}

/// A CSV writer whose cells a spreadsheet never runs as formulas
/// ([`maillage_venues::spreadsheet_safe`]): funders, ids and venue ids come from peers.
struct Csv<'a>(csv::Writer<&'a mut dyn Write>);

impl Csv<'_> {
    fn write_record<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let cells: Vec<String> = record
            .into_iter()
            .map(|cell| maillage_venues::spreadsheet_safe(cell.as_ref()).into_owned())
            .collect();
        self.0.write_record(&cells)
    }
}

fn flag(value: bool) -> &'static str {
    if value { "1" } else { "0" }
}

/// Every voucher of every batch, by batch id then number.
fn vouchers(ledger: &Ledger, facts: &EventFacts, as_of: i32, csv: &mut Csv<'_>) -> Result<u64> {
    csv.write_record(VOUCHER_COLUMNS)?;
    let mut pending_claims: BTreeMap<&str, u64> = BTreeMap::new();
    for claim in ledger.unanswered_claims() {
        *pending_claims.entry(claim.serial.as_str()).or_insert(0) += 1;
    }
    let day = format_date(as_of);
    let mut rows = 0;
    for batch in ledger.batches() {
        let issuer = resolve::hub_name(ledger.charter(), &batch.issuer);
        for number in 1..=batch.count {
            let serial = format!("{}-{number}", batch.batch_id);
            let state = ledger.voucher(&serial).ok_or_else(|| {
                AppError::internal(format!("voucher {serial} of batch {}", batch.batch_id))
            })?;
            let redemption = state.redemption.as_deref();
            csv.write_record([
                serial.as_str(),
                &batch.batch_id,
                &number.to_string(),
                &issuer,
                &batch.issuer.short(),
                &batch.funder,
                &batch.funder_siret,
                &batch.face_value_cents.to_string(),
                &batch.valid_from.to_string(),
                &batch.valid_until.to_string(),
                &batch.redeem_deadline.to_string(),
                voucher_status_on(ledger, &serial, &state, as_of).as_str(),
                &day,
                flag(state.handed_out),
                &redemption.map_or(String::new(), |r| r.date.to_string()),
                redemption.map_or("", |r| r.venue_id.as_str()),
                redemption.map_or("", |r| r.service.as_str()),
                redemption.map_or("", |r| flag(r.claim.is_some())),
                flag(state.settled),
                &resolve::hub_name(ledger.charter(), &state.owner),
                &state.owner.short(),
                &state.transfers.len().to_string(),
                &pending_claims
                    .get(serial.as_str())
                    .copied()
                    .unwrap_or(0)
                    .to_string(),
                facts
                    .handed_out_on
                    .get(&serial)
                    .filter(|_| state.handed_out)
                    .map_or("", String::as_str),
            ])?;
            rows += 1;
        }
    }
    Ok(rows)
}

/// Every referral, by referral id.
fn referrals(ledger: &Ledger, as_of: i32, csv: &mut Csv<'_>) -> Result<u64> {
    csv.write_record(REFERRAL_COLUMNS)?;
    let day = format_date(as_of);
    let mut rows = 0;
    for r in ledger.referrals() {
        let status = referral_status(&r, as_of);
        let still_open = matches!(r.status, ReferralStatus::Open);
        let outcome = match &r.status {
            ReferralStatus::Closed { outcome } => outcome.as_str(),
            _ => "",
        };
        let days_to_accept = r.accepted_on.map_or(String::new(), |accepted| {
            (accepted.0 - r.opened_on.0).to_string()
        });
        csv.write_record([
            r.referral_id.as_str(),
            &r.opened_on.to_string(),
            &resolve::hub_name(ledger.charter(), &r.opened_by),
            &r.opened_by.short(),
            r.prescriber_kind.as_str(),
            &r.needs
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("|"),
            &r.target_venue_id,
            &r.target_territory,
            &resolve::hub_name(ledger.charter(), &r.handler),
            &r.handler.short(),
            &status,
            &day,
            &if still_open {
                r.expires_on.to_string()
            } else {
                String::new()
            },
            &r.accepted_on.map(|d| d.to_string()).unwrap_or_default(),
            &r.venue_id,
            &days_to_accept,
            outcome,
            r.autonomy.map_or("", |a| a.as_str()),
        ])?;
        rows += 1;
    }
    Ok(rows)
}

/// The figures of `maillage stats`, one value a row: vouchers by issuing hub and funder, their
/// total, referrals by status, venues by département.
fn stats(ledger: &Ledger, as_of: i32, csv: &mut Csv<'_>) -> Result<u64> {
    csv.write_record(STATS_COLUMNS)?;
    let figures = crate::stats::figures(ledger, as_of);
    let short = |hub: Option<HubId>| hub.map(|h| h.short()).unwrap_or_default();
    let count = |n: u64| Some(n.to_string());
    let ratio = |r: Option<f64>| r.map(|r| r.to_string());
    let mut rows = 0;
    let mut row = |section: &str,
                   hub: &str,
                   hub_key: &str,
                   funder: &str,
                   departement: &str,
                   metric: &str,
                   value: Option<String>|
     -> Result<()> {
        csv.write_record([
            figures.as_of.as_str(),
            section,
            hub,
            hub_key,
            funder,
            departement,
            metric,
            value.as_deref().unwrap_or(""),
        ])?;
        rows += 1;
        Ok(())
    };
    let lines = figures
        .vouchers
        .iter()
        .map(|l| ("vouchers", l))
        .chain([("vouchers_total", &figures.total)]);
    for (section, line) in lines {
        let (hub, key, funder) = if section == "vouchers" {
            (line.hub.as_str(), short(line.hub_id), line.funder.as_str())
        } else {
            ("", String::new(), "")
        };
        for (metric, value) in [
            ("batches", count(line.batches)),
            ("issued", count(line.issued)),
            ("handed_out", count(line.handed_out)),
            ("redeemed", count(line.redeemed)),
            ("cancelled", count(line.cancelled)),
            ("expired", count(line.expired)),
            ("usage_rate", ratio(line.usage_rate)),
            ("settled_cents", count(line.settled_cents)),
        ] {
            row(section, hub, &key, funder, "", metric, value)?;
        }
    }
    let r = &figures.referrals;
    for (metric, value) in [
        ("open", count(r.open)),
        ("expired", count(r.expired)),
        ("accepted", count(r.accepted)),
        ("declined", count(r.declined)),
        ("completed", count(r.completed)),
        ("no_show", count(r.no_show)),
        ("abandoned", count(r.abandoned)),
        ("median_days_to_accept", ratio(r.median_days_to_accept)),
    ] {
        row("referrals", "", "", "", "", metric, value)?;
    }
    for v in &figures.venues {
        let key = short(ledger.charter().holder_of(&v.departement));
        for (metric, value) in [
            ("venues", count(v.venues)),
            ("qualified", count(v.qualified)),
        ] {
            row("venues", &v.hub, &key, "", &v.departement, metric, value)?;
        }
    }
    Ok(rows)
}

/// The indicators of `maillage stats` (`crate::indicators`), one value a row.
fn indicators(ledger: &Ledger, as_of: i32, csv: &mut Csv<'_>) -> Result<u64> {
    csv.write_record(INDICATOR_COLUMNS)?;
    let day = maillage_core::date::format_date(as_of);
    let i = crate::indicators::compute(ledger, as_of);
    let mut rows = 0;
    // (indicator, quarter, funder, prescriber kind, from, to, metric, value)
    let mut row = |cells: [&str; 7], value: u64| -> Result<()> {
        let value = value.to_string();
        csv.write_record(
            std::iter::once(day.as_str())
                .chain(cells)
                .chain(std::iter::once(value.as_str())),
        )?;
        rows += 1;
        Ok(())
    };
    for q in &i.quarters {
        for (metric, value) in [
            ("redeemed", q.redeemed),
            ("redeemed_cents", q.redeemed_cents),
            ("referrals_opened", q.referrals_opened),
            ("referrals_accepted", q.referrals_accepted),
        ] {
            row(["activity", &q.quarter, "", "", "", "", metric], value)?;
        }
    }
    for f in &i.funders_by_quarter {
        row(
            [
                "redeemed_by_funder",
                &f.quarter,
                &f.funder,
                "",
                "",
                "",
                "redeemed",
            ],
            f.redeemed,
        )?;
    }
    for p in &i.prescribers {
        for (metric, value) in [("opened", p.opened), ("accepted", p.accepted)] {
            row(
                ["referrals_by_prescriber", "", "", &p.kind, "", "", metric],
                value,
            )?;
        }
    }
    for (metric, value) in [
        ("referrals_old_enough", i.referrals_old_enough),
        ("accepted_within_15_days", i.accepted_within_15_days),
        ("accepted_within_30_days", i.accepted_within_30_days),
    ] {
        row(["acceptance_delay", "", "", "", "", "", metric], value)?;
    }
    for f in &i.flows {
        for (metric, value) in [("vouchers", f.vouchers), ("referrals", f.referrals)] {
            row(["flows", "", "", "", &f.from, &f.to, metric], value)?;
        }
    }
    for l in &i.liability {
        for (metric, value) in [("vouchers", l.vouchers), ("cents", l.cents)] {
            row(["liability", "", &l.funder, "", "", "", metric], value)?;
        }
    }
    row(
        ["liability_total", "", "", "", "", "", "cents"],
        i.liability_cents,
    )?;
    Ok(rows)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_of_each_file_names_its_csv_columns() {
        let columns: [(Table, &[&str]); 7] = [
            (Table::Venues, &maillage_venues::V1_FIELDS),
            (Table::VenueIndex, &VENUE_COLUMNS),
            (Table::Vouchers, &VOUCHER_COLUMNS),
            (Table::Referrals, &REFERRAL_COLUMNS),
            (Table::Events, &EVENT_COLUMNS),
            (Table::Stats, &STATS_COLUMNS),
            (Table::Indicators, &INDICATOR_COLUMNS),
        ];
        for (table, columns) in columns {
            let names: Vec<&str> = crate::export_schema::fields(table)
                .iter()
                .map(|f| f.name)
                .collect();
            assert_eq!(names, columns, "{}", table.file_name());
        }
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_written_as_text() {
        let mut out = Vec::new();
        let rows = with_csv(&mut out, |csv| {
            csv.write_record(["=HYPERLINK(\"http://evil.example/\")", "-3", "@x", "ok"])?;
            Ok(1)
        })
        .unwrap();
        assert_eq!(rows, 1);
        let mut line = Vec::new();
        field(&mut line, "=HYPERLINK(\"http://evil.example/\")", false);
        line.push(b',');
        field(&mut line, "2A", true);
        line.push(b',');
        field(&mut line, "-1", false);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "\"'=HYPERLINK(\"\"http://evil.example/\"\")\",\"2A\",-1"
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"'=HYPERLINK(\"\"http://evil.example/\"\")\",-3,'@x,ok\n"
        );
    }
}

//! `maillage bench export`: the analysts' export of a generated history held by a real data
//! dir — the time to compute every file (CSV, Parquet, datapackage.json) and their sizes, the
//! Parquet against the CSV.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, bail};
use maillage_app::App;
use maillage_app::request::{ExportTables, Request, Response};
use serde::Serialize;

/// What `bench export` measured.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    /// Events in the history.
    pub events: usize,
    /// Folding the store into the views (s), before the export.
    pub fold_s: f64,
    /// Computing every file of the export (s): the views read, the CSV, Parquet and package.
    pub export_s: f64,
    /// Writing them to disk (s).
    pub write_s: f64,
    /// Bytes of the CSV files.
    pub csv_bytes: u64,
    /// Bytes of the Parquet files.
    pub parquet_bytes: u64,
    /// Each file: name, bytes, rows.
    pub files: Vec<(String, u64, u64)>,
}

/// Generates `events` events (seed `seed`), stores them in a data dir, folds them and exports
/// every table as of `as_of` into a temporary directory (kept at `keep` if given).
pub fn run(
    events: usize,
    seed: u64,
    as_of: &str,
    keep: Option<&std::path::Path>,
    say: &mut dyn FnMut(&str),
) -> Result<ExportSummary> {
    say(&format!(
        "generating {events} events over 15 hubs (signing on one core)…"
    ));
    let workload =
        crate::workload::generate(seed, crate::workload::HUBS_DEFAULT, events, &mut |n| {
            say(&format!("  {n} events"))
        })?;
    say("storing the history in a node's data dir…");
    let dir = tempfile::tempdir()?;
    let (_, node) = crate::bench::stored_history(dir.path(), &workload)?;
    say("folding…");
    let start = Instant::now();
    drop(node.views()?);
    let fold_s = start.elapsed().as_secs_f64();
    let app = App::new(Arc::new(node));
    say("exporting…");
    let start = Instant::now();
    let response = app.handle(Request::Export(ExportTables {
        as_of: Some(as_of.to_owned()),
        tables: Vec::new(),
        excel: false,
        parquet: true,
        datapackage: true,
    }))?;
    let export_s = start.elapsed().as_secs_f64();
    let Response::Files(files) = response else {
        bail!("bench export: the node answered something else than files");
    };
    let out = match keep {
        Some(path) => path.to_path_buf(),
        None => dir.path().join("export"),
    };
    let start = Instant::now();
    let mut summary = ExportSummary {
        events: workload.events.len(),
        fold_s,
        export_s,
        write_s: 0.0,
        csv_bytes: 0,
        parquet_bytes: 0,
        files: Vec::new(),
    };
    for file in &files {
        // Names come from this build's own export (`events/month=…/part-0.parquet` at most).
        let path = out.join(&file.name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &file.content)?;
        let bytes = file.content.len() as u64;
        if file.name.ends_with(".csv") {
            summary.csv_bytes += bytes;
        } else if file.name.ends_with(".parquet") {
            summary.parquet_bytes += bytes;
        }
        summary.files.push((file.name.clone(), bytes, file.items));
    }
    summary.write_s = start.elapsed().as_secs_f64();
    Ok(summary)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_small_history_is_exported_in_every_file_with_its_rows() {
        let s = run(3_000, 7, "2026-12-31", None, &mut |_| {}).unwrap();
        assert_eq!(s.events, 3_000);
        let rows = |name: &str| {
            s.files
                .iter()
                .find(|(n, _, _)| n == name)
                .map(|(_, _, rows)| *rows)
                .unwrap_or_else(|| panic!("{name} missing from {:?}", s.files))
        };
        assert_eq!(rows("vouchers.csv"), rows("vouchers.parquet"));
        assert_eq!(rows("venues.csv"), rows("venues.parquet"));
        let monthly: u64 = s
            .files
            .iter()
            .filter(|(n, _, _)| n.starts_with("events/month="))
            .map(|(_, _, rows)| *rows)
            .sum();
        assert_eq!(monthly, rows("events.csv"));
        assert!(s.files.iter().any(|(n, _, _)| n == "datapackage.json"));
        assert!(s.csv_bytes > 0 && s.parquet_bytes > 0);
    }
}

//! `maillage export`: the analysts' CSV files, their Parquet twins and `datapackage.json`,
//! made by the node ([`maillage_app::export`]) and written here, in `--out`, where the caller
//! stands.
//!
//! Files already in `--out` are left untouched unless `--force`; every file is written whole
//! to a hidden sibling first and takes its name only once all of them are complete. The
//! events' monthly Parquet files (`events/month=YYYY-MM/part-0.parquet`) are the only names
//! with a directory the node may send; with `--force`, monthly files of an earlier export that
//! this one did not write are removed, so that `events/*/*.parquet` reads this export only.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use maillage_app::request::FileBytes;

use crate::command::{Command, ExportArgs, TableArg};
use crate::lang::t;
use maillage_core::tr;

/// The tables an export writes, sorted and without repeats.
fn tables(args: &ExportArgs) -> Vec<TableArg> {
    let mut tables: Vec<TableArg> = if args.only.is_empty() {
        vec![
            TableArg::Venues,
            TableArg::VenueIndex,
            TableArg::Vouchers,
            TableArg::Referrals,
            TableArg::Events,
            TableArg::Stats,
            TableArg::Indicators,
        ]
    } else {
        args.only.clone()
    };
    tables.sort_unstable();
    tables.dedup();
    tables
}

/// The files an export writes whose names are known before the node answers: each table's
/// CSV, its Parquet file (but the events', one per month), `datapackage.json`.
fn names(args: &ExportArgs) -> Vec<String> {
    let mut names = Vec::new();
    for table in tables(args) {
        names.push(table.file_name().to_owned());
        if !args.no_parquet {
            names.extend(parquet_name(table));
        }
    }
    names.push(maillage_app::export::DATAPACKAGE.to_owned());
    names
}

/// The Parquet file of a table, beside its CSV; none for lieux.csv (the standard's own file)
/// nor for the events (one per month, [`is_month_file`]).
fn parquet_name(table: TableArg) -> Option<String> {
    match table {
        TableArg::Venues | TableArg::Events => None,
        _ => Some(table.file_name().replace(".csv", ".parquet")),
    }
}

/// `events/month=YYYY-MM/part-0.parquet`, exactly: the only name with a directory the node
/// may send (nothing else, no `..`).
fn is_month_file(name: &str) -> bool {
    let Some(month) = name
        .strip_prefix("events/month=")
        .and_then(|rest| rest.strip_suffix("/part-0.parquet"))
    else {
        return false;
    };
    let b = month.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || c.is_ascii_digit())
}

/// The monthly Parquet files already under `DIR/events`, by name under DIR.
fn month_files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("events")) else {
        return Vec::new();
    };
    let mut found: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .map(|month| format!("events/{month}/part-0.parquet"))
        .filter(|name| is_month_file(name) && dir.join(name).symlink_metadata().is_ok())
        .collect();
    found.sort();
    found
}

/// Whether the export writes the events' monthly Parquet files.
fn writes_month_files(args: &ExportArgs) -> bool {
    !args.no_parquet && tables(args).contains(&TableArg::Events)
}

/// Refuses an export that would replace files already in `--out` (unless `--force`), or
/// write into something that is not a directory. Checked before the node is asked.
pub fn check_out_dir(args: &ExportArgs) -> Result<()> {
    let dir = &args.out;
    let shown = dir.display();
    if dir.exists() && !dir.is_dir() {
        bail!(
            "{}",
            tr!(
                "--out {shown} : existe et n'est pas un répertoire ; rien n'a été écrit",
                "--out {shown}: exists and is not a directory; nothing was written"
            )
        );
    }
    let mut present: Vec<String> = names(args)
        .into_iter()
        .filter(|name| dir.join(name).symlink_metadata().is_ok())
        .collect();
    if writes_month_files(args) {
        present.extend(month_files(dir));
    }
    if !present.is_empty() && !args.force {
        let (list, one) = (present.join(", "), present.len() == 1);
        bail!(
            "{}",
            if one {
                tr!(
                    "{list} existe déjà dans {shown} : rien n'a été écrit ; donnez --force pour le remplacer, ou choisissez un autre --out",
                    "{list} already exists in {shown}: nothing was written; pass --force to replace it, or choose another --out"
                )
            } else {
                tr!(
                    "{list} existent déjà dans {shown} : rien n'a été écrit ; donnez --force pour les remplacer, ou choisissez un autre --out",
                    "{list} already exist in {shown}: nothing was written; pass --force to replace them, or choose another --out"
                )
            }
        );
    }
    Ok(())
}

/// Writes the files the node made into `--out`: all, or none.
pub fn write_files(out: &mut String, command: &Command, files: &[FileBytes]) -> Result<()> {
    let Command::Export(args) = command else {
        bail!(
            "{}",
            t(
                "erreur interne : des fichiers répondent à une commande qui n'est pas un export",
                "internal error: files answered a command that is not an export"
            )
        );
    };
    let expected = names(args);
    let months = writes_month_files(args);
    let dir = &args.out;
    std::fs::create_dir_all(dir).with_context(|| {
        let dir = dir.display();
        tr!("création de {dir}", "creating {dir}")
    })?;
    let mut written: Vec<(PathBuf, PathBuf, &FileBytes)> = Vec::new();
    for file in files {
        let asked = expected.contains(&file.name) || (months && is_month_file(&file.name));
        if !asked {
            let name = maillage_core::excerpt::excerpt(&file.name, 40);
            bail!(
                "{}",
                tr!(
                    "le nœud a envoyé un fichier que l'export n'a pas demandé ({name}) : rien n'a été écrit",
                    "the node sent a file the export did not ask for ({name}): nothing was written"
                )
            );
        }
        let path = dir.join(&file.name);
        let partial = crate::files::partial_path(&path);
        let made = match path.parent() {
            Some(parent) if parent != dir.as_path() => std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display())),
            _ => Ok(()),
        };
        if let Err(error) = made.and_then(|()| crate::files::write_synced(&partial, &file.content))
        {
            for (partial, _, _) in &written {
                let _ = std::fs::remove_file(partial);
            }
            let _ = std::fs::remove_file(&partial);
            let shown = path.display();
            return Err(error.context(tr!(
                "écriture de {shown} ; rien n'a été écrit",
                "writing {shown}; nothing was written"
            )));
        }
        written.push((partial, path, file));
    }
    // Months an earlier export wrote and this one did not (--force only: without it, any
    // monthly file present refused the export).
    if months {
        for stale in month_files(dir) {
            if !files.iter().any(|f| f.name == stale) {
                let path = dir.join(&stale);
                std::fs::remove_file(&path)
                    .with_context(|| format!("removing {}", path.display()))?;
                if let Some(parent) = path.parent() {
                    let _ = std::fs::remove_dir(parent);
                }
            }
        }
    }
    for (partial, path, file) in written {
        std::fs::rename(&partial, &path).with_context(|| {
            let (from, to) = (partial.display(), path.display());
            tr!("renommage de {from} en {to}", "renaming {from} to {to}")
        })?;
        let (shown, rows, what) = (path.display(), file.items, &file.items_are);
        writeln!(
            out,
            "{}",
            tr!(
                "{shown} : {rows} lignes ({what})",
                "{shown}: {rows} rows ({what})"
            )
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_month_file;

    #[test]
    fn only_a_monthly_events_file_may_name_a_directory() {
        assert!(is_month_file("events/month=2026-03/part-0.parquet"));
        for name in [
            "events/month=2026-3/part-0.parquet",
            "events/month=2026-03/part-1.parquet",
            "events/month=../part-0.parquet",
            "events/month=2026-03/../../x/part-0.parquet",
            "../events/month=2026-03/part-0.parquet",
            "/events/month=2026-03/part-0.parquet",
            "events/month=2026/03/part-0.parquet",
            "vouchers.parquet",
        ] {
            assert!(!is_month_file(name), "{name}");
        }
    }
}

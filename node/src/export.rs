//! `maillage export`: the analysts' CSV files, made by the node
//! ([`maillage_app::export`]) and written here, in `--out`, where the caller stands.
//!
//! Files already in `--out` are left untouched unless `--force`; every file is written whole
//! to a hidden sibling first and takes its name only once all of them are complete.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use maillage_app::request::FileBytes;

use crate::command::{Command, ExportArgs, TableArg};

/// The files an export writes, by name, sorted and without repeats.
fn names(args: &ExportArgs) -> Vec<&'static str> {
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
    tables.into_iter().map(TableArg::file_name).collect()
}

/// Refuses an export that would replace files already in `--out` (unless `--force`), or
/// write into something that is not a directory. Checked before the node is asked.
pub fn check_out_dir(args: &ExportArgs) -> Result<()> {
    let dir = &args.out;
    if dir.exists() && !dir.is_dir() {
        bail!(
            "--out {}: exists and is not a directory; nothing was written",
            dir.display()
        );
    }
    let present: Vec<&str> = names(args)
        .into_iter()
        .filter(|name| dir.join(name).symlink_metadata().is_ok())
        .collect();
    if !present.is_empty() && !args.force {
        bail!(
            "{} already {} in {}: nothing was written; pass --force to replace {}, or choose another --out",
            present.join(", "),
            if present.len() == 1 {
                "exists"
            } else {
                "exist"
            },
            dir.display(),
            if present.len() == 1 { "it" } else { "them" }
        );
    }
    Ok(())
}

/// Writes the files the node made into `--out`: all, or none.
pub fn write_files(out: &mut String, command: &Command, files: &[FileBytes]) -> Result<()> {
    let Command::Export(args) = command else {
        bail!("internal error: files answered a command that is not an export");
    };
    let expected = names(args);
    let dir = &args.out;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written: Vec<(PathBuf, PathBuf, &FileBytes)> = Vec::new();
    for file in files {
        if !expected.contains(&file.name.as_str()) {
            bail!(
                "the node sent a file the export did not ask for ({}): nothing was written",
                maillage_core::excerpt::excerpt(&file.name, 40)
            );
        }
        let path = dir.join(&file.name);
        let partial = crate::files::partial_path(&path);
        if let Err(error) = crate::files::write_synced(&partial, &file.content) {
            for (partial, _, _) in &written {
                let _ = std::fs::remove_file(partial);
            }
            let _ = std::fs::remove_file(&partial);
            return Err(error.context(format!("writing {}; nothing was written", path.display())));
        }
        written.push((partial, path, file));
    }
    for (partial, path, file) in written {
        std::fs::rename(&partial, &path)
            .with_context(|| format!("renaming {} to {}", partial.display(), path.display()))?;
        writeln!(
            out,
            "{}: {} rows ({})",
            path.display(),
            file.items,
            file.items_are
        )?;
    }
    Ok(())
}

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
use crate::lang::t;
use maillage_core::tr;

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
    let present: Vec<&str> = names(args)
        .into_iter()
        .filter(|name| dir.join(name).symlink_metadata().is_ok())
        .collect();
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
    let dir = &args.out;
    std::fs::create_dir_all(dir).with_context(|| {
        let dir = dir.display();
        tr!("création de {dir}", "creating {dir}")
    })?;
    let mut written: Vec<(PathBuf, PathBuf, &FileBytes)> = Vec::new();
    for file in files {
        if !expected.contains(&file.name.as_str()) {
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
        if let Err(error) = crate::files::write_synced(&partial, &file.content) {
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

//! `maillage backup DIR`: a consistent copy of a data dir, running node or not, that knows it
//! is a backup once restored.
//!
//! The store's data file only grows (frames are appended, never rewritten), so a copy of its
//! first bytes is a copy of the store as it was: a frame torn by an append racing the copy is
//! a tail a node drops when it opens the copy, as after a crash. The index (`store/db`) and the
//! views (`views.bin`) are caches, rebuilt from the data file at the first open, and are not
//! copied. The copy carries `backup.toml`: a node that opens it knows it was restored, and
//! signs nothing until a peer has confirmed how far its own feed goes (a restored node that
//! signed at once would sign positions of its feed a second time: a fork).

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use maillage_core::lang::{FileOp, on_file};
use serde::{Deserialize, Serialize};

use crate::datadir::DataDir;
use crate::error::{AppError, Context, Result};

/// The marker a backup carries.
pub const MARKER: &str = "backup.toml";

/// What `backup.toml` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupMarker {
    /// When the copy was taken (unix ms, the copying machine's clock: informational).
    pub taken_at_ms: u64,
    /// The data dir it was taken from.
    pub source: String,
    /// Bytes of the store's data file copied.
    pub events_log_bytes: u64,
}

/// What one backup copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupReport {
    /// Where.
    pub dir: PathBuf,
    /// Files copied.
    pub files: Vec<String>,
    /// Bytes copied.
    pub bytes: u64,
}

/// The marker's path in a data dir.
pub fn marker_path(data_dir: &DataDir) -> PathBuf {
    data_dir.root().join(MARKER)
}

/// The marker of a restored copy, if `data_dir` is one.
pub fn restored(data_dir: &DataDir) -> Result<Option<BackupMarker>> {
    let path = marker_path(data_dir);
    match fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text)
            .map(Some)
            .map_err(|e| AppError::internal(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AppError::internal(format!(
            "{}: {e}",
            on_file(FileOp::Read, &path)
        ))),
    }
}

/// The data dir caught up with its peers: it is no longer a stale copy.
pub fn clear_restored(data_dir: &DataDir) -> Result<()> {
    match fs::remove_file(marker_path(data_dir)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(AppError::internal(format!(
            "{}: {e}",
            maillage_core::lang::on_file(
                maillage_core::lang::FileOp::Remove,
                &marker_path(data_dir)
            )
        ))),
    }
}

/// Copies `from` into `to` (absent, or an empty directory): key, charter, configuration and
/// the store's data file as it is now, then `backup.toml`. Everything is synced to disk
/// before the marker is written, and the marker last.
pub fn backup(from: &DataDir, to: &Path, now_ms: u64) -> Result<BackupReport> {
    if !from.has_key() {
        let root = from.root().display();
        return Err(AppError::not_found(maillage_core::tr!(
            "{root} n'est pas un répertoire de données (pas de node.key)",
            "{root} is not a data dir (no node.key)"
        )));
    }
    if to.exists() {
        let empty = fs::read_dir(to)
            .with_context(|| on_file(FileOp::Read, to))?
            .next()
            .is_none();
        if !empty {
            let to = to.display();
            return Err(AppError::invalid_field(
                "dir",
                maillage_core::tr!(
                    "{to} n'est pas vide : une sauvegarde va dans un répertoire nouveau ou vide ; rien n'a été écrit",
                    "{to} is not empty: a backup goes into a new or empty directory; nothing was written"
                ),
            ));
        }
    }
    let target = DataDir::new(to);
    target.create()?;
    fs::create_dir_all(target.store_path())
        .with_context(|| on_file(FileOp::Create, &target.store_path()))?;
    let mut report = BackupReport {
        dir: to.to_path_buf(),
        files: Vec::new(),
        bytes: 0,
    };
    for (source, dest, secret) in [
        (from.key_path(), target.key_path(), true),
        (from.charter_path(), target.charter_path(), false),
        (from.config_path(), target.config_path(), false),
    ] {
        let bytes = fs::read(&source).with_context(|| on_file(FileOp::Read, &source))?;
        write_synced(&dest, &bytes, secret)?;
        report.bytes += bytes.len() as u64;
        report.files.push(file_name(&dest));
    }
    let log = from.store_path().join("events.log");
    let dest = target.store_path().join("events.log");
    let length = fs::metadata(&log)
        .with_context(|| on_file(FileOp::Read, &log))?
        .len();
    let mut input = fs::File::open(&log).with_context(|| on_file(FileOp::Open, &log))?;
    let mut output = fs::File::create(&dest).with_context(|| on_file(FileOp::Create, &dest))?;
    let copied = std::io::copy(&mut (&mut input).take(length), &mut output)
        .with_context(|| on_file(FileOp::Copy, &log))?;
    output.sync_all().context(maillage_core::lang::t(
        "synchronisation sur disque du stockage copié",
        "syncing the copied store",
    ))?;
    report.bytes += copied;
    report.files.push("store/events.log".into());
    sync_dir(&target.store_path())?;
    let marker = BackupMarker {
        taken_at_ms: now_ms,
        source: from.root().display().to_string(),
        events_log_bytes: copied,
    };
    let text = toml::to_string(&marker).map_err(|e| AppError::internal(e.to_string()))?;
    write_synced(&marker_path(&target), text.as_bytes(), false)?;
    report.files.push(MARKER.into());
    sync_dir(to)?;
    Ok(report)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn write_synced(path: &Path, bytes: &[u8], secret: bool) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options
        .open(path)
        .with_context(|| on_file(FileOp::Create, path))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| on_file(FileOp::Write, path))
}

fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| on_file(FileOp::Sync, dir))
}

//! The files a command line names: read and written by the CLI, never by a node (a serving
//! node may run as another account and holds the node's key).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use maillage_core::tr;

/// The largest input file a command takes (a venue export, a portable log): beyond this the
/// CLI refuses it before sending anything.
pub const INPUT_BYTES_MAX: u64 = 512 << 20;

/// Reads a whole file, refusing one larger than [`INPUT_BYTES_MAX`].
pub fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let shown = path.display();
    let size = std::fs::metadata(path)
        .with_context(|| tr!("lecture de {shown}", "reading {shown}"))?
        .len();
    let max = INPUT_BYTES_MAX >> 20;
    if size > INPUT_BYTES_MAX {
        bail!(
            "{}",
            tr!(
                "{shown} : {size} octets, plus que les {max} Mio qu'une commande accepte",
                "{shown}: {size} bytes, more than the {max} MiB a command takes"
            )
        );
    }
    std::fs::read(path).with_context(|| tr!("lecture de {shown}", "reading {shown}"))
}

/// The hidden sibling a file is written to before it takes its name.
pub fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

/// Writes `content` to `path` and syncs it.
pub fn write_synced(path: &Path, content: &[u8]) -> Result<()> {
    let shown = path.display();
    let mut file = std::fs::File::create(path)
        .with_context(|| tr!("création de {shown}", "creating {shown}"))?;
    file.write_all(content)
        .and_then(|()| file.sync_all())
        .with_context(|| tr!("écriture de {shown}", "writing {shown}"))
}

/// Writes `content` to `path` whole: a hidden sibling first, then a rename, so that a reader
/// never sees half of it.
pub fn write_new(path: &Path, content: &[u8]) -> Result<()> {
    let partial = partial_path(path);
    if let Err(error) = write_synced(&partial, content) {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    std::fs::rename(&partial, path).with_context(|| {
        let shown = path.display();
        tr!("écriture de {shown}", "writing {shown}")
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_written_whole_and_nothing_is_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        write_new(&path, b"a,b\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("no/such/dir/out.csv");
        assert!(write_new(&missing, b"x").is_err());
    }
}

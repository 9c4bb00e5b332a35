//! Where a command reads the files its command line names and writes the files it makes.
//!
//! Run by the CLI on a data dir no daemon serves, a command uses the file system
//! ([`LocalFiles`]). Run inside a serving node for the CLI, it must never open a path the
//! caller names (the daemon may run as another account, and reads the node's key): the CLI
//! reads the input files itself and sends their bytes, and the command's outputs go back to the
//! CLI, which writes them ([`SentFiles`]).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

/// The largest input file a command takes (a venue export, a portable log): beyond this the
/// CLI refuses it before sending anything.
pub const INPUT_BYTES_MAX: u64 = 512 << 20;

/// A file being written: complete once committed (until then, nothing is at its path).
pub trait OutputFile: Write {
    /// Makes the file appear at its path, whole.
    fn commit(self: Box<Self>) -> Result<()>;
}

/// The files a command reads and writes.
pub trait Files: Send + Sync {
    /// The content of an input file.
    fn read(&self, path: &Path) -> Result<Vec<u8>>;
    /// A new output file at `path` (replacing one there once committed).
    fn create(&self, path: &Path) -> Result<Box<dyn OutputFile + '_>>;
    /// Whether something exists at `path` (the CLI checks before sending a command that must
    /// not overwrite: inside a node, always false).
    fn exists(&self, path: &Path) -> bool;
    /// Creates a directory and its parents (inside a node: nothing, the CLI does it).
    fn create_dir_all(&self, path: &Path) -> Result<()>;
}

/// The file system, for a CLI working on its own data dir.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalFiles;

/// Reads a whole file, refusing one larger than [`INPUT_BYTES_MAX`].
pub fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    if size > INPUT_BYTES_MAX {
        bail!(
            "{}: {size} bytes, more than the {} MiB a command takes",
            path.display(),
            INPUT_BYTES_MAX >> 20
        );
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// A file written to a hidden sibling, renamed into place on commit, removed if dropped.
struct LocalOutput {
    partial: PathBuf,
    path: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl Write for LocalOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.file {
            Some(file) => file.write(buf),
            None => Err(std::io::Error::other("file already committed")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

impl OutputFile for LocalOutput {
    fn commit(mut self: Box<Self>) -> Result<()> {
        if let Some(file) = self.file.take() {
            let file = file
                .into_inner()
                .map_err(|e| e.into_error())
                .with_context(|| format!("writing {}", self.partial.display()))?;
            file.sync_all()
                .with_context(|| format!("writing {}", self.partial.display()))?;
        }
        std::fs::rename(&self.partial, &self.path)
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

impl Drop for LocalOutput {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// The hidden sibling a file is written to before it takes its name.
pub fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

impl Files for LocalFiles {
    fn read(&self, path: &Path) -> Result<Vec<u8>> {
        read_bounded(path)
    }

    fn create(&self, path: &Path) -> Result<Box<dyn OutputFile + '_>> {
        let partial = partial_path(path);
        let file = std::fs::File::create(&partial)
            .with_context(|| format!("creating {}", partial.display()))?;
        Ok(Box::new(LocalOutput {
            partial,
            path: path.to_path_buf(),
            file: Some(std::io::BufWriter::new(file)),
        }))
    }

    fn exists(&self, path: &Path) -> bool {
        path.symlink_metadata().is_ok()
    }

    fn create_dir_all(&self, path: &Path) -> Result<()> {
        std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))
    }
}

/// Inside a serving node: the input files the CLI sent, and the outputs to send back.
#[derive(Debug, Default)]
pub struct SentFiles {
    inputs: BTreeMap<String, Vec<u8>>,
    outputs: Mutex<Vec<(String, Vec<u8>)>>,
}

impl SentFiles {
    /// The files the CLI sent, by the path its command line names them by.
    pub fn new(inputs: BTreeMap<String, Vec<u8>>) -> Self {
        Self {
            inputs,
            outputs: Mutex::new(Vec::new()),
        }
    }

    /// The files the command wrote, in order: `(path as named, content)`.
    pub fn into_outputs(self) -> Vec<(String, Vec<u8>)> {
        self.outputs.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

/// An output kept in memory until committed.
struct SentOutput<'a> {
    path: String,
    bytes: Vec<u8>,
    outputs: &'a Mutex<Vec<(String, Vec<u8>)>>,
}

impl Write for SentOutput<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl OutputFile for SentOutput<'_> {
    fn commit(self: Box<Self>) -> Result<()> {
        let this = *self;
        this.outputs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((this.path, this.bytes));
        Ok(())
    }
}

impl Files for SentFiles {
    fn read(&self, path: &Path) -> Result<Vec<u8>> {
        let key = path.to_string_lossy();
        self.inputs.get(key.as_ref()).cloned().with_context(|| {
            format!(
                "the file {} was not sent with the command (a serving node opens no file a client names)",
                maillage_core::excerpt::excerpt(&key, 80)
            )
        })
    }

    fn create(&self, path: &Path) -> Result<Box<dyn OutputFile + '_>> {
        Ok(Box::new(SentOutput {
            path: path.to_string_lossy().into_owned(),
            bytes: Vec::new(),
            outputs: &self.outputs,
        }))
    }

    fn exists(&self, _path: &Path) -> bool {
        false
    }

    fn create_dir_all(&self, _path: &Path) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_local_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let mut file = LocalFiles.create(&path).unwrap();
        file.write_all(b"a,b\n").unwrap();
        assert!(!path.exists());
        file.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n");
        // Dropped without a commit: nothing left behind.
        let other = dir.path().join("other.csv");
        let mut file = LocalFiles.create(&other).unwrap();
        file.write_all(b"x").unwrap();
        drop(file);
        assert!(!other.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_node_reads_only_what_was_sent_and_sends_back_what_it_writes() {
        let files = SentFiles::new(BTreeMap::from([("lieux.json".to_owned(), b"[]".to_vec())]));
        assert_eq!(files.read(Path::new("lieux.json")).unwrap(), b"[]");
        let refused = files
            .read(Path::new("/etc/shadow"))
            .unwrap_err()
            .to_string();
        assert!(refused.contains("opens no file"), "{refused}");
        let mut out = files.create(Path::new("report.csv")).unwrap();
        out.write_all(b"line\n").unwrap();
        out.commit().unwrap();
        assert!(!files.exists(Path::new("/")));
        assert_eq!(
            files.into_outputs(),
            vec![("report.csv".to_owned(), b"line\n".to_vec())]
        );
    }
}

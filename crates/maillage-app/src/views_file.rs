//! `views.bin`: the views' snapshot, so that a node reopens without folding its whole log.
//!
//! A header (the format's bytes, then for each section of the views where it starts and the
//! SHA-256 of its bytes), then the sections end to end (`Ledger::write_section`). The sections
//! are written in pieces, hashed on the way, and the header last at its place: the views are
//! never held whole (gigabytes for ten million events). A node opening reads the sections side
//! by side, each from its own place in the file, and joins them; a section that fails its
//! checksum is never used: the views are rebuilt from the log.

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use maillage_core::ledger::{SNAPSHOT_SECTIONS, SnapshotSection};
use maillage_core::{Charter, Ledger};
use maillage_store::SideJob;
use sha2::Digest;

use crate::locks::lock;

/// The first bytes of `views.bin` (3: the views in sections, each with its place and checksum).
const MAGIC: &[u8; 16] = b"MAILLAGE-VIEWS\0\x03";
/// Domain of a section's checksum (followed by the section's number).
const CHECKSUM_TAG: &[u8] = b"maillage/views-snapshot\0";
/// A section's entry in the header: where it starts (u64 LE), its checksum.
const ENTRY: usize = 8 + 32;
/// Bytes before the first section.
const HEADER: usize = MAGIC.len() + SNAPSHOT_SECTIONS * ENTRY;

/// Where each section starts and its checksum, as the header says.
type Entries = [(u64, [u8; 32]); SNAPSHOT_SECTIONS];

/// The checksum of section `index`, to be fed its bytes.
fn hasher(index: usize) -> sha2::Sha256 {
    sha2::Sha256::new()
        .chain_update(CHECKSUM_TAG)
        .chain_update([index as u8])
}

/// Writes `ledger`'s views into `file` (see the module). `each_piece` is told the bytes
/// written so far before each piece (an error stops the write and is returned).
pub fn write(
    ledger: &Ledger,
    file: &mut std::fs::File,
    each_piece: &mut dyn FnMut(u64) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, &mut *file);
    out.write_all(&[0; HEADER])?;
    let mut written = HEADER as u64;
    for index in 0..SNAPSHOT_SECTIONS {
        let start = written;
        let mut hash = hasher(index);
        ledger.write_section(index, &mut |piece| {
            each_piece(written)?;
            written += piece.len() as u64;
            hash.update(piece);
            out.write_all(piece)
        })?;
        header.extend_from_slice(&start.to_le_bytes());
        header.extend_from_slice(&hash.finalize());
    }
    out.flush()?;
    drop(out);
    file.write_all_at(&header, 0)
}

/// The views in `views.bin`'s bytes, if every section passes its checksum.
pub fn decode(charter: Arc<Charter>, bytes: &[u8]) -> Result<Ledger, String> {
    read(charter, &mut &bytes[..])
}

/// The views read from `input` a piece at a time, section after section: never held whole,
/// returned only once every byte read matches its section's checksum (a damaged file that
/// happens to decode is refused as damaged).
pub fn read(charter: Arc<Charter>, input: &mut dyn Read) -> Result<Ledger, String> {
    let entries = read_header(input)?;
    let sections = (0..SNAPSHOT_SECTIONS)
        .map(|index| read_section(&charter, &entries, index, input))
        .collect::<Result<Vec<_>, _>>()?;
    Ledger::from_sections(charter, sections)
}

/// Section `index` of the views in the file at `path`, read from its place (sections are read
/// side by side, each on its own thread, then joined with `Ledger::from_sections`).
pub fn read_section_of(
    charter: &Charter,
    path: &Path,
    index: usize,
) -> Result<SnapshotSection, String> {
    let mut file =
        std::fs::File::open(path).map_err(|e| format!("the file cannot be opened: {e}"))?;
    let entries = read_header(&mut file)?;
    let Some(&(start, _)) = entries.get(index) else {
        return Err(format!("no views section {index}"));
    };
    file.seek(SeekFrom::Start(start))
        .map_err(|e| format!("the file cannot be read: {e}"))?;
    read_section(charter, &entries, index, &mut std::io::BufReader::new(file))
}

/// The header's entries, checked: the first section right after the header, each after the
/// one before.
fn read_header(input: &mut dyn Read) -> Result<Entries, String> {
    let mut header = [0u8; HEADER];
    if input.read_exact(&mut header).is_err() || &header[..MAGIC.len()] != MAGIC {
        return Err("not a views snapshot of this format".into());
    }
    let mut entries: Entries = [(0, [0; 32]); SNAPSHOT_SECTIONS];
    for (entry, bytes) in entries
        .iter_mut()
        .zip(header[MAGIC.len()..].chunks_exact(ENTRY))
    {
        let (start, checksum) = bytes.split_at(8);
        entry.0 = u64::from_le_bytes(start.try_into().unwrap_or_default());
        entry.1.copy_from_slice(checksum);
    }
    let ordered = entries[0].0 == HEADER as u64 && entries.windows(2).all(|w| w[0].0 <= w[1].0);
    if !ordered {
        return Err("the header's sections are out of place: the file was damaged".into());
    }
    Ok(entries)
}

/// Section `index`, from `input` at its start: to the next section's start, the last to the
/// end of `input`, every byte of it hashed (those the decoding left too) and checked.
fn read_section(
    charter: &Charter,
    entries: &Entries,
    index: usize,
    input: &mut dyn Read,
) -> Result<SnapshotSection, String> {
    let length = match entries.get(index + 1) {
        Some((next, _)) => next - entries[index].0,
        None => u64::MAX,
    };
    let mut hashing = Hashing {
        input: &mut input.take(length),
        hash: hasher(index),
    };
    let decoded = Ledger::read_section(charter, index, &mut hashing);
    std::io::copy(&mut hashing, &mut std::io::sink())
        .map_err(|e| format!("the file cannot be read: {e}"))?;
    if hashing.hash.finalize().as_slice() != entries[index].1 {
        return Err(format!(
            "checksum mismatch in section {index}: the file was damaged"
        ));
    }
    decoded
}

/// The views read beside the store's opening, on its threads: a job per section, the job that
/// ends last joining them, so that the join too runs while other threads check the chains.
#[derive(Debug)]
pub struct SideRead {
    charter: Arc<Charter>,
    path: PathBuf,
    started: Instant,
    /// Each section as read, and when (seconds since `started`).
    read: Mutex<Vec<Option<Timed<SnapshotSection>>>>,
    /// The joined views and how long the join took, when each section was read.
    joined: Mutex<Option<(Timed<Ledger>, Vec<f64>)>>,
}

/// What a job gave, and when (seconds).
type Timed<T> = (Result<T, String>, f64);

impl SideRead {
    /// The read of the views at `path`.
    pub fn new(charter: Arc<Charter>, path: PathBuf) -> Self {
        Self {
            charter,
            path,
            started: Instant::now(),
            read: Mutex::new((0..SNAPSHOT_SECTIONS).map(|_| None).collect()),
            joined: Mutex::new(None),
        }
    }

    /// The jobs to run beside the store's opening (none without a snapshot).
    pub fn jobs(&self) -> Vec<SideJob<'_>> {
        if !self.path.exists() {
            return Vec::new();
        }
        (0..SNAPSHOT_SECTIONS)
            .map(|index| -> SideJob<'_> { Box::new(move || self.run(index)) })
            .collect()
    }

    fn run(&self, index: usize) {
        // A snapshot this build cannot decode is folded again from the log, even one that
        // would make the decoder panic: the open goes on.
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            read_section_of(&self.charter, &self.path, index)
        }))
        .unwrap_or_else(|_| Err("its decoding panicked".into()));
        let all = {
            let mut slots = lock(&self.read);
            slots[index] = Some((read, self.started.elapsed().as_secs_f64()));
            slots
                .iter()
                .all(Option::is_some)
                .then(|| std::mem::take(&mut *slots))
        };
        let Some(all) = all else {
            return;
        };
        let (sections, times): (Vec<_>, Vec<_>) = all.into_iter().flatten().unzip();
        let joining = Instant::now();
        let joined = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let sections = sections.into_iter().collect::<Result<Vec<_>, _>>()?;
            Ledger::from_sections(self.charter.clone(), sections)
        }))
        .unwrap_or_else(|_| Err("joining its sections panicked".into()));
        *lock(&self.joined) = Some(((joined, joining.elapsed().as_secs_f64()), times));
    }

    /// The views, once the jobs ran: `None` if there was no snapshot to read, `Some(None)` if
    /// it cannot be used (logged: the views will be rebuilt from the log). The read is logged
    /// when the open took `slow_s` seconds or more.
    pub fn finish(self, slow_s: f64) -> Option<Option<Ledger>> {
        let ((joined, joined_s), times) = self
            .joined
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())?;
        Some(match joined {
            Ok(ledger) => {
                if self.started.elapsed().as_secs_f64() >= slow_s {
                    let bytes = std::fs::metadata(&self.path).map_or(0, |m| m.len());
                    let decoded_s: Vec<String> = times.iter().map(|s| format!("{s:.2}")).collect();
                    let decoded_s = decoded_s.join(" ");
                    tracing::info!(
                        bytes,
                        decoded_s,
                        joined_s,
                        "views snapshot read (seconds from the start until each section was read, then to join them)"
                    );
                }
                Some(ledger)
            }
            Err(reason) => {
                tracing::warn!(path = %self.path.display(), %reason, "view snapshot unusable: the views will be rebuilt from the log");
                None
            }
        })
    }
}

/// A reader that hashes what it hands out.
struct Hashing<'a> {
    input: &'a mut dyn Read,
    hash: sha2::Sha256,
}

impl Read for Hashing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.input.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

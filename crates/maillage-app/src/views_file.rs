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
use std::path::Path;

use maillage_core::ledger::{SNAPSHOT_SECTIONS, SnapshotSection};
use maillage_core::{Charter, Ledger};
use sha2::Digest;

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
pub fn decode(charter: std::sync::Arc<Charter>, bytes: &[u8]) -> Result<Ledger, String> {
    read(charter, &mut &bytes[..])
}

/// The views read from `input` a piece at a time, section after section: never held whole,
/// returned only once every byte read matches its section's checksum (a damaged file that
/// happens to decode is refused as damaged).
pub fn read(charter: std::sync::Arc<Charter>, input: &mut dyn Read) -> Result<Ledger, String> {
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
    file.seek(SeekFrom::Start(entries[index].0))
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

//! The on-disk backend: signed events in an append-only data file, and sled as the index.
//!
//! ```text
//! store/
//!   events.log   "MAILLAGE-EVENTS\0", u32 BE version (2), then frames, appended, never rewritten:
//!                tag (0xE6 event, 0xF6 fork proof), u32 BE length, body, u32 BE CRC-32 of
//!                tag ‖ length ‖ body
//!   db/          sled: the run index, fork proofs, metadata (a cache of events.log)
//! ```
//!
//! **The data file is the source of truth.** Everything the node must never lose — every
//! signed event and every fork proof — is a checksummed frame of `events.log`; sled holds an
//! index that can always be rebuilt from it. One write stores, per author, a *run* of
//! consecutive events as contiguous frames, and one index entry for the run: `author ‖ first
//! seq → offset of the first frame ‖ count ‖ each frame's body length`. A write appends the
//! frames and syncs the file, then inserts the run entries and the number of data-file bytes
//! the index covers, and flushes sled: an event is acknowledged once both are on disk.
//!
//! **Opening** compares the bytes the index covers with the data file's length. An index that
//! is missing (`db/` deleted), behind the data file (a crash between the two writes, or a `db/`
//! restored from an older copy) or ahead of it (an `events.log` restored from an older copy) is
//! rebuilt by scanning the data file: frames are taken in file order, each must extend its feed
//! (a later frame for a position replaces the earlier one and what followed it, which only a
//! failed, never acknowledged write leaves behind), and frames that fail their checksum are
//! skipped up to the next valid frame. Feeds the old index knew further than the data file
//! holds are reported ([`Backend::recovered`]) so the store can fetch them again from peers
//! instead of signing their positions a second time.
//!
//! **Reading** checks each frame's tag, length and checksum: bytes damaged on disk are never
//! returned; the read fails with [`StoreError::Damaged`], naming the event.
//!
//! A data file of the first format (frames `0xE5, u32 BE length, body`, no header, no
//! checksum) is converted once, when opened: its frames are copied, with checksums, into a new
//! file that replaces it, and the index is rebuilt.
//!
//! Size: the data file's framing, its recovery scan (CRC, truncation, damage) and the sled index it
//! rebuilds must agree byte for byte; they are read together.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use maillage_core::{EventId, HubId, crypto::event_id, pb};
use prost::Message;

use crate::StoreError;
use crate::backend::{Backend, EventRow, Recovered, SEALED_KEY, event_key, split_key};

/// The data file's first bytes.
const FILE_MAGIC: [u8; 16] = *b"MAILLAGE-EVENTS\0";
/// The data file's format.
const FILE_VERSION: u32 = 2;
/// Magic and version.
const FILE_HEADER_BYTES: u64 = 20;
/// Tag of an event frame.
const EVENT_TAG: u8 = 0xE6;
/// Tag of a fork-proof frame.
const PROOF_TAG: u8 = 0xF6;
/// Tag of an event frame of the first format (no checksum).
const LEGACY_EVENT_TAG: u8 = 0xE5;
/// Tag and length.
const FRAME_HEADER_BYTES: u64 = 5;
/// Tag, length and checksum.
const FRAME_OVERHEAD_BYTES: u64 = 9;
/// No frame body is larger: an event is at most 64 KiB and a signature, a proof two events.
const FRAME_BODY_BYTES_MAX: u32 = 1 << 20;
/// Metadata key: how many bytes of the data file the index covers (u64 BE).
const META_INDEXED_BYTES: &str = "store.indexed-bytes";
/// Index entries written per sled batch while rebuilding.
const REBUILD_BATCH_ENTRIES: usize = 4096;
/// Bytes read from the data file at once while scanning it.
const SCAN_WINDOW_BYTES: usize = 4 << 20;

/// Feeds on disk: a data file and a sled index.
#[derive(Debug)]
pub struct SledBackend {
    db: sled::Db,
    index: sled::Tree,
    forks: sled::Tree,
    meta: sled::Tree,
    data: File,
    /// Bytes of the data file; the next frame goes here. Held while writing.
    data_len: Mutex<u64>,
    /// The CRC-32 of those bytes, once they were read for [`Backend::fingerprint`]; each
    /// append updates it.
    data_crc: Mutex<Option<crc32fast::Hasher>>,
    /// The record written under [`SEALED_KEY`] with each write ([`Backend::keep_sealed`]).
    sealing: Mutex<Option<Vec<u8>>>,
    /// Feeds the index knew further than the data file holds, found when opening.
    recovered: Vec<Recovered>,
}

fn sled_err(context: &'static str) -> impl Fn(sled::Error) -> StoreError {
    move |source| StoreError::Backend {
        context,
        source: Box::new(source),
    }
}

pub(crate) fn io_err(context: &'static str) -> impl Fn(std::io::Error) -> StoreError {
    move |source| StoreError::Backend {
        context,
        source: Box::new(source),
    }
}

fn format_err(reason: String) -> StoreError {
    StoreError::Backend {
        context: "reading events.log",
        source: reason.into(),
    }
}

/// The checksum of a frame: CRC-32 (IEEE) of its tag, length and body.
fn frame_crc(tag: u8, body: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&[tag]);
    hasher.update(&(body.len() as u32).to_be_bytes());
    hasher.update(body);
    hasher.finalize()
}

/// Appends one frame to `out`.
fn push_frame(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&frame_crc(tag, body).to_be_bytes());
}

fn file_header() -> [u8; FILE_HEADER_BYTES as usize] {
    let mut header = [0u8; FILE_HEADER_BYTES as usize];
    header[..16].copy_from_slice(&FILE_MAGIC);
    header[16..].copy_from_slice(&FILE_VERSION.to_be_bytes());
    header
}

impl SledBackend {
    /// Opens (or creates) the store in the directory `path`; converts a data file of the
    /// first format and rebuilds an index that does not match the data file.
    ///
    /// sled releases its file lock from background threads shortly after the last handle is
    /// dropped, so an open right after a close in the same process is retried for up to ~2 s.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(path).map_err(io_err("creating the store directory"))?;
        let config = sled::Config::new()
            .path(path.join("db"))
            .cache_capacity(64 * 1024 * 1024);
        let mut attempts = 0;
        let mut discarded = false;
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                Err(sled::Error::Io(e)) if e.kind() == std::io::ErrorKind::Other => {
                    attempts += 1;
                    if attempts >= 100 {
                        return Err(StoreError::Backend {
                            context: "opening the sled database (is another maillage process using this data dir?)",
                            source: Box::new(e),
                        });
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                // The index is derived from events.log (the source of truth): one that sled
                // cannot read any more (a disk that filled during a write, a crash of the
                // file system) is removed and rebuilt below, instead of keeping the node
                // from starting until someone deletes it by hand.
                Err(error @ sled::Error::Corruption { .. })
                    if !discarded && path.join("events.log").exists() =>
                {
                    tracing::warn!(
                        %error,
                        "the store's index (store/db) cannot be opened: it is rebuilt from events.log"
                    );
                    std::fs::remove_dir_all(path.join("db"))
                        .map_err(io_err("removing the store's unreadable index"))?;
                    discarded = true;
                }
                Err(e) => return Err(sled_err("opening the sled database")(e)),
            }
        };
        let index = db
            .open_tree("index")
            .map_err(sled_err("opening tree index"))?;
        let forks = db
            .open_tree("forks")
            .map_err(sled_err("opening tree forks"))?;
        let meta = db
            .open_tree("meta")
            .map_err(sled_err("opening tree meta"))?;
        let data_path = path.join("events.log");
        convert_legacy_file(&data_path, &forks)?;
        let data = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&data_path)
            .map_err(io_err("opening events.log"))?;
        let mut data_len = data
            .metadata()
            .map_err(io_err("reading events.log's size"))?
            .len();
        if data_len < FILE_HEADER_BYTES {
            // New, or a header torn by a crash during the very first write.
            let mut start = vec![0u8; data_len as usize];
            data.read_exact_at(&mut start, 0)
                .map_err(io_err("reading events.log"))?;
            if start[..] != file_header()[..start.len()] {
                return Err(format_err(format!(
                    "events.log holds {data_len} bytes that are not a maillage data file header"
                )));
            }
            data.write_all_at(&file_header(), 0)
                .map_err(io_err("writing events.log's header"))?;
            data.sync_all().map_err(io_err("syncing events.log"))?;
            data_len = FILE_HEADER_BYTES;
        } else {
            let mut header = [0u8; FILE_HEADER_BYTES as usize];
            data.read_exact_at(&mut header, 0)
                .map_err(io_err("reading events.log"))?;
            if header[..16] != FILE_MAGIC {
                return Err(format_err(
                    "events.log does not start with a maillage data file header".into(),
                ));
            }
            let version = u32::from_be_bytes([header[16], header[17], header[18], header[19]]);
            if version != FILE_VERSION {
                return Err(format_err(format!(
                    "events.log is format {version}; this maillage reads format {FILE_VERSION}: use the maillage release that wrote it"
                )));
            }
        }
        let mut backend = Self {
            db,
            index,
            forks,
            meta,
            data,
            data_len: Mutex::new(data_len),
            data_crc: Mutex::new(None),
            sealing: Mutex::new(None),
            recovered: Vec::new(),
        };
        let indexed = backend
            .meta_get(META_INDEXED_BYTES)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map(u64::from_be_bytes);
        let reason = match indexed {
            Some(n) if n == data_len => None,
            Some(n) if n < data_len => Some(format!(
                "the index covers {n} of events.log's {data_len} bytes (an interrupted write, or an index older than the data file)"
            )),
            Some(n) => Some(format!(
                "the index covers {n} bytes but events.log has only {data_len} (a data file older than the index)"
            )),
            None if backend.index.is_empty() && data_len == FILE_HEADER_BYTES => {
                backend.set_indexed(data_len)?;
                None
            }
            None => Some("the index is missing or was not written by this format".into()),
        };
        if let Some(reason) = reason {
            backend.rebuild(&reason)?;
        }
        Ok(backend)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(sled_err("flushing to disk"))?;
        Ok(())
    }

    fn set_indexed(&self, bytes: u64) -> Result<(), StoreError> {
        self.meta
            .insert(META_INDEXED_BYTES, &bytes.to_be_bytes())
            .map_err(sled_err("writing metadata"))?;
        Ok(())
    }

    /// The last seq each feed's index entries cover.
    fn indexed_heads(&self) -> Result<BTreeMap<HubId, u64>, StoreError> {
        let mut heads = BTreeMap::new();
        for item in self.index.iter() {
            let (key, value) = item.map_err(sled_err("reading the index"))?;
            let Ok(run) = Run::decode(&key, &value) else {
                continue;
            };
            let last = heads.entry(run.author).or_insert(0);
            *last = (*last).max(run.last());
        }
        Ok(heads)
    }

    /// Rebuilds the index (runs, fork proofs, covered bytes) from the data file.
    fn rebuild(&mut self, reason: &str) -> Result<(), StoreError> {
        let data_len = *self.data_len.lock().map_err(|_| StoreError::Poisoned)?;
        tracing::warn!(%reason, bytes = data_len, "rebuilding the store's index from events.log");
        let started = std::time::Instant::now();
        let before = self.indexed_heads()?;
        let scanned = scan_data_file(&self.data, data_len)?;
        for (from, to) in &scanned.skipped {
            tracing::error!(
                from,
                to,
                "events.log bytes {from}..{to} hold no valid frame (damaged on disk or torn by a crash): skipped; `maillage log repair`, node stopped, rewrites the file without them"
            );
        }
        self.index.clear().map_err(sled_err("clearing the index"))?;
        let mut batch = sled::Batch::default();
        let mut pending = 0usize;
        let mut events = 0u64;
        for (author, frames) in &scanned.feeds {
            events += frames.len() as u64;
            for (first, offset, lengths) in runs_of(frames) {
                batch.insert(&event_key(author, first)[..], Run::encode(offset, &lengths));
                pending += 1;
                if pending >= REBUILD_BATCH_ENTRIES {
                    self.index
                        .apply_batch(std::mem::take(&mut batch))
                        .map_err(sled_err("writing the index"))?;
                    pending = 0;
                }
            }
        }
        self.index
            .apply_batch(batch)
            .map_err(sled_err("writing the index"))?;
        // The data file's last proof of each author is the one that stands (a later proof is
        // only ever written when it is lower).
        for (author, proof) in &scanned.proofs {
            self.forks
                .insert(author.0, proof.as_slice())
                .map_err(sled_err("writing a fork proof"))?;
        }
        self.set_indexed(data_len)?;
        // A rebuilt index was not written with the events: every chain is walked again.
        self.meta
            .insert(SEALED_KEY, &[])
            .map_err(sled_err("writing metadata"))?;
        self.flush()?;
        let mut former_heads = before;
        for (author, seen) in &scanned.seen {
            let former = former_heads.entry(*author).or_default();
            *former = (*former).max(*seen);
        }
        for (author, former) in former_heads {
            let held = scanned.feeds.get(&author).map_or(0, |f| f.len() as u64);
            if held < former {
                tracing::error!(
                    author = %author.short(),
                    held,
                    former,
                    "events.log holds less of this feed than it once did (damaged or restored from an older copy): the missing events will be fetched again from peers"
                );
                self.recovered.push(Recovered {
                    author,
                    from_seq: held + 1,
                    held_until: former,
                });
            }
        }
        tracing::warn!(
            feeds = scanned.feeds.len(),
            events,
            fork_proofs = scanned.proofs.len(),
            ms = started.elapsed().as_millis() as u64,
            "store index rebuilt from events.log"
        );
        Ok(())
    }

    /// The run covering `(author, seq)`: the entry with the largest first seq that covers it.
    fn locate(&self, author: &HubId, seq: u64) -> Result<Option<Run>, StoreError> {
        let range = event_key(author, 0)..=event_key(author, seq);
        for item in self.index.range(range).rev() {
            let (key, value) = item.map_err(sled_err("reading the index"))?;
            let run = Run::decode(&key, &value)?;
            if run.covers(seq) {
                return Ok(Some(run));
            }
        }
        Ok(None)
    }

    /// The first seq of the next run of `author` after `seq`, if any.
    fn next_run_start(&self, author: &HubId, seq: u64) -> Result<Option<u64>, StoreError> {
        let Some(from) = seq.checked_add(1) else {
            return Ok(None);
        };
        match self
            .index
            .range(event_key(author, from)..=event_key(author, u64::MAX))
            .next()
        {
            None => Ok(None),
            Some(item) => {
                let (key, _) = item.map_err(sled_err("reading the index"))?;
                Ok(split_key(&key).map(|(_, first)| first))
            }
        }
    }

    /// Reads frames `from..=to` of a run in one read into `buffer` (kept by the caller from one
    /// run to the next), checks each frame's tag, length and checksum, and hands each body to
    /// `visit`, until it returns false; no copy.
    fn visit_run(
        &self,
        run: &Run,
        from: u64,
        to: u64,
        buffer: &mut Vec<u8>,
        visit: &mut dyn FnMut(u64, &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        let first_index = (from - run.first) as usize;
        let last_index = (to - run.first) as usize;
        let start = run.frame_offset(first_index);
        let end = run.frame_offset(last_index + 1);
        let file_len = *self.data_len.lock().map_err(|_| StoreError::Poisoned)?;
        if end > file_len {
            return Err(StoreError::Damaged {
                author: run.author,
                seq: from,
                reason: format!(
                    "the index points to bytes {start}..{end} of events.log, which has {file_len}"
                ),
            });
        }
        let length = (end - start) as usize;
        if buffer.len() < length {
            buffer.resize(length, 0);
        }
        let bytes = &mut buffer[..length];
        self.data
            .read_exact_at(bytes, start)
            .map_err(io_err("reading events.log"))?;
        let mut at = 0usize;
        for index in first_index..=last_index {
            let seq = run.first + index as u64;
            let len = run.lengths[index] as usize;
            let header = &bytes[at..at + FRAME_HEADER_BYTES as usize];
            let found = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
            let body_at = at + FRAME_HEADER_BYTES as usize;
            let body = &bytes[body_at..body_at + len];
            let crc_at = body_at + len;
            let crc = u32::from_be_bytes([
                bytes[crc_at],
                bytes[crc_at + 1],
                bytes[crc_at + 2],
                bytes[crc_at + 3],
            ]);
            if header[0] != EVENT_TAG || found != len || crc != frame_crc(EVENT_TAG, body) {
                return Err(StoreError::Damaged {
                    author: run.author,
                    seq,
                    reason: format!(
                        "events.log frame at byte {} fails its check (tag 0x{:02x}, length {found} for {len}, checksum {})",
                        start + at as u64,
                        header[0],
                        if crc == frame_crc(EVENT_TAG, body) {
                            "ok"
                        } else {
                            "wrong"
                        }
                    ),
                });
            }
            if !visit(seq, body) {
                break;
            }
            at = crc_at + 4;
        }
        Ok(())
    }

    /// Appends frames and syncs the data file; returns the new length.
    fn append_frames(&self, data_len: &mut u64, frames: &[u8]) -> Result<(), StoreError> {
        let start = *data_len;
        self.data
            .write_all_at(frames, start)
            .map_err(io_err("appending to events.log"))?;
        self.data
            .sync_data()
            .map_err(io_err("syncing events.log"))?;
        *data_len = start + frames.len() as u64;
        if let Some(crc) = self
            .data_crc
            .lock()
            .map_err(|_| StoreError::Poisoned)?
            .as_mut()
        {
            crc.update(frames);
        }
        Ok(())
    }

    /// Appends `rows` as frames and indexes them, durably; `checked`: rows the store checked
    /// ([`Backend::write_checked`]).
    fn write_rows(&self, rows: &[EventRow], checked: bool) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        // Group by feed (stable: each feed's rows keep their order) so each run is contiguous.
        let mut order: Vec<&EventRow> = rows.iter().collect();
        order.sort_by_key(|(author, _, _)| *author);
        let mut data_len = self.data_len.lock().map_err(|_| StoreError::Poisoned)?;
        let start = *data_len;
        let total: usize = rows
            .iter()
            .map(|(_, _, b)| b.len() + FRAME_OVERHEAD_BYTES as usize)
            .sum();
        let mut frames = Vec::with_capacity(total);
        let mut index = sled::Batch::default();
        let mut run: Option<(HubId, u64, u64, Vec<u32>)> = None; // author, first, offset, lengths
        for (author, seq, bytes) in order {
            let len = u32::try_from(bytes.len())
                .ok()
                .filter(|len| *len <= FRAME_BODY_BYTES_MAX)
                .ok_or_else(|| StoreError::Corrupt {
                    author: *author,
                    seq: *seq,
                    reason: format!("event of {} bytes cannot be framed", bytes.len()),
                })?;
            let offset = start + frames.len() as u64;
            match &mut run {
                Some((a, first, _, lengths))
                    if a == author && *first + lengths.len() as u64 == *seq =>
                {
                    lengths.push(len);
                }
                _ => {
                    if let Some((a, first, run_offset, lengths)) = run.take() {
                        index.insert(&event_key(&a, first)[..], Run::encode(run_offset, &lengths));
                    }
                    run = Some((*author, *seq, offset, vec![len]));
                }
            }
            push_frame(&mut frames, EVENT_TAG, bytes);
        }
        if let Some((a, first, run_offset, lengths)) = run {
            index.insert(&event_key(&a, first)[..], Run::encode(run_offset, &lengths));
        }
        self.append_frames(&mut data_len, &frames)?;
        self.index
            .apply_batch(index)
            .map_err(sled_err("writing the index"))?;
        self.set_indexed(*data_len)?;
        if checked {
            self.put_sealed(*data_len)?;
        }
        self.flush()
    }

    /// The CRC-32 of the data file's first `len` bytes (its length: the caller holds
    /// `data_len`), read once, a mebibyte at a time, then kept up to date by each append.
    fn data_crc(&self, len: u64) -> Result<u32, StoreError> {
        let mut kept = self.data_crc.lock().map_err(|_| StoreError::Poisoned)?;
        if let Some(crc) = kept.as_ref() {
            return Ok(crc.clone().finalize());
        }
        let mut crc = crc32fast::Hasher::new();
        let mut buffer = vec![0u8; 1 << 20];
        let mut at = 0u64;
        while at < len {
            let piece = &mut buffer[..(len - at).min(1 << 20) as usize];
            self.data
                .read_exact_at(piece, at)
                .map_err(io_err("reading events.log"))?;
            crc.update(piece);
            at += piece.len() as u64;
        }
        let value = crc.clone().finalize();
        *kept = Some(crc);
        Ok(value)
    }

    /// Writes the kept record with the fingerprint of the data's first `len` bytes (the
    /// caller holds `data_len`), if a record is kept; flushed with the caller's write.
    fn put_sealed(&self, len: u64) -> Result<(), StoreError> {
        let sealing = self.sealing.lock().map_err(|_| StoreError::Poisoned)?;
        let Some(record) = sealing.as_ref() else {
            return Ok(());
        };
        let value = [record.as_slice(), &fingerprint_of(len, self.data_crc(len)?)].concat();
        self.meta
            .insert(SEALED_KEY, value)
            .map_err(sled_err("writing metadata"))?;
        Ok(())
    }
}

/// Converts a data file of the first format (no header, unchecksummed `0xE5` frames) into the
/// current one, in place: every frame is copied with its checksum into a new file, the fork
/// proofs sled holds are added as proof frames, the new file replaces the old one, and the
/// index (now stale) is rebuilt by [`SledBackend::open`].
fn convert_legacy_file(path: &Path, forks: &sled::Tree) -> Result<(), StoreError> {
    let mut first = [0u8; 1];
    let legacy = match File::open(path) {
        Ok(file) => file.read_exact_at(&mut first, 0).is_ok() && first[0] == LEGACY_EVENT_TAG,
        Err(_) => false,
    };
    if !legacy {
        return Ok(());
    }
    let bytes = std::fs::read(path).map_err(io_err("reading events.log"))?;
    tracing::warn!(
        bytes = bytes.len(),
        "events.log is of the first format (no checksums): converting it"
    );
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 64 + 64);
    out.extend_from_slice(&file_header());
    let mut at = 0usize;
    let mut frames = 0u64;
    while at + FRAME_HEADER_BYTES as usize <= bytes.len() && bytes[at] == LEGACY_EVENT_TAG {
        let len = u32::from_be_bytes([bytes[at + 1], bytes[at + 2], bytes[at + 3], bytes[at + 4]])
            as usize;
        let body_at = at + FRAME_HEADER_BYTES as usize;
        let Some(body) = bytes.get(body_at..body_at + len) else {
            break;
        };
        push_frame(&mut out, EVENT_TAG, body);
        frames += 1;
        at = body_at + len;
    }
    if at < bytes.len() {
        tracing::warn!(
            at,
            dropped = bytes.len() - at,
            "the first-format events.log ends with bytes that are no frame (a write torn by a crash): not copied"
        );
    }
    for item in forks.iter() {
        let (_, proof) = item.map_err(sled_err("reading fork proofs"))?;
        push_frame(&mut out, PROOF_TAG, &proof);
    }
    let converted: PathBuf = path.with_extension("log.converting");
    {
        let file = File::create(&converted).map_err(io_err("creating events.log.converting"))?;
        file.write_all_at(&out, 0)
            .map_err(io_err("writing events.log.converting"))?;
        file.sync_all()
            .map_err(io_err("syncing events.log.converting"))?;
    }
    std::fs::rename(&converted, path).map_err(io_err("replacing events.log"))?;
    if let Some(dir) = path.parent()
        && let Ok(dir) = File::open(dir)
    {
        let _ = dir.sync_all();
    }
    tracing::warn!(frames, "events.log converted to format {FILE_VERSION}");
    Ok(())
}

/// One event frame found by a scan: where, its body's length, its id.
#[derive(Debug, Clone, Copy)]
struct FoundFrame {
    offset: u64,
    len: u32,
    id: EventId,
}

/// What a scan of the data file found.
#[derive(Debug, Default)]
struct Scanned {
    /// Each feed's events from seq 1, as the file holds them (index = seq - 1).
    feeds: BTreeMap<HubId, Vec<FoundFrame>>,
    /// The first fork proof per author.
    proofs: BTreeMap<HubId, Vec<u8>>,
    /// Byte ranges holding no valid frame.
    skipped: Vec<(u64, u64)>,
    /// The largest seq of any valid frame of each feed, chained or not: more than a feed's
    /// length means events in between were lost.
    seen: BTreeMap<HubId, u64>,
}

/// A window over the data file, refilled as a scan moves along.
struct Window<'a> {
    file: &'a File,
    len: u64,
    start: u64,
    bytes: Vec<u8>,
}

impl Window<'_> {
    /// `n` bytes at `at`, or `None` past the end of the file.
    fn get(&mut self, at: u64, n: usize) -> Result<Option<&[u8]>, StoreError> {
        let Some(end) = at.checked_add(n as u64) else {
            return Ok(None);
        };
        if end > self.len {
            return Ok(None);
        }
        if at < self.start || end > self.start + self.bytes.len() as u64 {
            let size = (self.len - at).min(n.max(SCAN_WINDOW_BYTES) as u64) as usize;
            self.bytes.resize(size, 0);
            self.file
                .read_exact_at(&mut self.bytes, at)
                .map_err(io_err("reading events.log"))?;
            self.start = at;
        }
        let from = (at - self.start) as usize;
        Ok(Some(&self.bytes[from..from + n]))
    }

    /// The frame at `at` if one is there, whole and with a matching checksum: (tag, body).
    fn frame(&mut self, at: u64) -> Result<Option<(u8, Vec<u8>)>, StoreError> {
        let Some(header) = self.get(at, FRAME_HEADER_BYTES as usize)? else {
            return Ok(None);
        };
        let tag = header[0];
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        if (tag != EVENT_TAG && tag != PROOF_TAG) || len > FRAME_BODY_BYTES_MAX {
            return Ok(None);
        }
        let total = (FRAME_OVERHEAD_BYTES + u64::from(len)) as usize;
        let Some(frame) = self.get(at, total)? else {
            return Ok(None);
        };
        let body = &frame[FRAME_HEADER_BYTES as usize..total - 4];
        let crc = u32::from_be_bytes([
            frame[total - 4],
            frame[total - 3],
            frame[total - 2],
            frame[total - 1],
        ]);
        if crc != frame_crc(tag, body) {
            return Ok(None);
        }
        Ok(Some((tag, body.to_vec())))
    }
}

/// What [`repair_data_file`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// Frames kept (events and fork proofs), in their order.
    pub frames_kept: u64,
    /// Byte ranges `[from, to)` of the damaged file that held no valid frame: dropped.
    pub dropped: Vec<(u64, u64)>,
    /// Where the damaged file was kept (`events.log.before-repair`), if anything was dropped.
    pub kept_as: Option<std::path::PathBuf>,
}

/// Rewrites the data file of the store in `path` with only its valid frames (checksums
/// right), in their order; the next open rebuilds the index from it. The
/// damaged file is kept beside it as `events.log.before-repair` (delete it once the node is
/// healthy again). Nothing is rewritten when no byte needs dropping. The node must not be
/// running: the caller checks.
///
/// What this cannot do is bring back events whose frames are gone: the next open cuts each
/// feed to its verified prefix and fetches the rest from peers, as after any damage.
pub fn repair_data_file(path: &Path) -> Result<Repair, StoreError> {
    let data_path = path.join("events.log");
    let file = File::open(&data_path).map_err(io_err("opening events.log"))?;
    let len = file
        .metadata()
        .map_err(io_err("reading events.log's size"))?
        .len();
    let mut header = [0u8; FILE_HEADER_BYTES as usize];
    if len < FILE_HEADER_BYTES
        || file.read_exact_at(&mut header, 0).is_err()
        || header[..16] != FILE_MAGIC
    {
        return Err(format_err(
            "events.log does not start with a maillage data file header: nothing to repair from"
                .into(),
        ));
    }
    let mut kept: Vec<(u64, u64)> = Vec::new();
    let dropped = walk_frames(&file, len, |offset, _, body| {
        kept.push((offset, offset + FRAME_OVERHEAD_BYTES + body.len() as u64));
    })?;
    let frames_kept = kept.len() as u64;
    if dropped.is_empty() {
        return Ok(Repair {
            frames_kept,
            dropped,
            kept_as: None,
        });
    }
    let repaired_path = path.join("events.log.repairing");
    let written = (|| -> Result<(), StoreError> {
        use std::io::Write;
        let mut out =
            File::create(&repaired_path).map_err(io_err("creating the repaired events.log"))?;
        let mut bytes = Vec::with_capacity(1 << 20);
        bytes.extend_from_slice(&header);
        for (from, to) in &kept {
            let mut frame = vec![0u8; (to - from) as usize];
            file.read_exact_at(&mut frame, *from)
                .map_err(io_err("reading events.log"))?;
            bytes.extend_from_slice(&frame);
            if bytes.len() >= 1 << 20 {
                out.write_all(&bytes)
                    .map_err(io_err("writing the repaired events.log"))?;
                bytes.clear();
            }
        }
        out.write_all(&bytes)
            .map_err(io_err("writing the repaired events.log"))?;
        out.sync_all()
            .map_err(io_err("syncing the repaired events.log"))
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&repaired_path);
        return Err(error);
    }
    let kept_as = path.join("events.log.before-repair");
    std::fs::rename(&data_path, &kept_as).map_err(io_err("keeping the damaged events.log"))?;
    std::fs::rename(&repaired_path, &data_path)
        .map_err(io_err("installing the repaired events.log"))?;
    // The index stays: it no longer covers the file's length, so the next open rebuilds it,
    // and what it recorded of each feed tells which feeds the damage cut short (their own
    // hub never signs those positions again; peers send them back).
    Ok(Repair {
        frames_kept,
        dropped,
        kept_as: Some(kept_as),
    })
}

/// The author, seq and `prev` an encoded `SignedEvent` says, and its id; `None` if it does not
/// decode.
fn event_position(body: &[u8]) -> Option<(HubId, u64, Option<EventId>, EventId)> {
    let signed = pb::SignedEvent::decode(body).ok()?;
    let event = pb::Event::decode(signed.payload.as_slice()).ok()?;
    let author = HubId::try_from(event.author.as_slice()).ok()?;
    let prev = match event.prev.len() {
        0 => None,
        _ => Some(EventId::try_from(event.prev.as_slice()).ok()?),
    };
    Some((author, event.seq, prev, event_id(&signed.payload)))
}

/// Walks the data file's valid frames in order: `visit(offset, tag, body)` for each; returns
/// the byte ranges `[from, to)` that hold no valid frame.
fn walk_frames(
    file: &File,
    len: u64,
    mut visit: impl FnMut(u64, u8, Vec<u8>),
) -> Result<Vec<(u64, u64)>, StoreError> {
    let mut window = Window {
        file,
        len,
        start: 0,
        bytes: Vec::new(),
    };
    let mut skipped = Vec::new();
    let mut at = FILE_HEADER_BYTES;
    let mut bad_from: Option<u64> = None;
    while at < len {
        let Some((tag, body)) = window.frame(at)? else {
            bad_from.get_or_insert(at);
            at += 1;
            continue;
        };
        if let Some(from) = bad_from.take() {
            skipped.push((from, at));
        }
        let offset = at;
        at += FRAME_OVERHEAD_BYTES + body.len() as u64;
        visit(offset, tag, body);
    }
    if let Some(from) = bad_from {
        skipped.push((from, len));
    }
    Ok(skipped)
}

/// Scans the data file's frames in order (see the module documentation).
fn scan_data_file(file: &File, len: u64) -> Result<Scanned, StoreError> {
    let mut scanned = Scanned::default();
    let skipped = walk_frames(file, len, |offset, tag, body| {
        if tag == PROOF_TAG {
            let author = pb::ForkProof::decode(body.as_slice())
                .ok()
                .and_then(|proof| proof.first)
                .and_then(|first| pb::Event::decode(first.payload.as_slice()).ok())
                .and_then(|event| HubId::try_from(event.author.as_slice()).ok());
            // A later proof of one author replaces the earlier: the store writes one only
            // when it shows a lower fork (the lowest stands, protocol §3).
            if let Some(author) = author {
                scanned.proofs.insert(author, body);
            }
            return;
        }
        let Some((author, seq, prev, id)) = event_position(&body) else {
            tracing::error!(
                offset,
                "events.log frame holds no event (checksum right, content wrong): skipped"
            );
            return;
        };
        let seen = scanned.seen.entry(author).or_default();
        *seen = (*seen).max(seq);
        let feed = scanned.feeds.entry(author).or_default();
        let Some(index) = seq.checked_sub(1).map(|i| i as usize) else {
            return;
        };
        if index > feed.len() {
            tracing::warn!(author = %author.short(), seq, held = feed.len(), offset, "events.log frame beyond its feed's end: skipped");
            return;
        }
        let expected_prev = index.checked_sub(1).map(|i| feed[i].id);
        if prev != expected_prev {
            tracing::warn!(author = %author.short(), seq, offset, "events.log frame does not extend its feed: skipped");
            return;
        }
        // A later frame for a held position replaces it and what followed (only a write
        // that failed before being acknowledged leaves the earlier one behind).
        feed.truncate(index);
        feed.push(FoundFrame {
            offset,
            len: body.len() as u32,
            id,
        });
    })?;
    scanned.skipped = skipped;
    Ok(scanned)
}

/// The runs of a feed's frames: consecutive seqs stored in adjacent frames. `(first seq,
/// offset, body lengths)`.
fn runs_of(frames: &[FoundFrame]) -> Vec<(u64, u64, Vec<u32>)> {
    let mut runs: Vec<(u64, u64, Vec<u32>)> = Vec::new();
    let mut next_offset = None;
    for (index, frame) in frames.iter().enumerate() {
        match runs.last_mut() {
            Some((_, _, lengths)) if next_offset == Some(frame.offset) => lengths.push(frame.len),
            _ => runs.push((index as u64 + 1, frame.offset, vec![frame.len])),
        }
        next_offset = Some(frame.offset + FRAME_OVERHEAD_BYTES + u64::from(frame.len));
    }
    runs
}

/// One index entry: `count` consecutive events of `author` from `first`, stored as contiguous
/// frames from byte `offset` of the data file.
#[derive(Debug)]
struct Run {
    author: HubId,
    first: u64,
    offset: u64,
    lengths: Vec<u32>,
}

impl Run {
    fn decode(key: &[u8], value: &[u8]) -> Result<Self, StoreError> {
        let (author, first) = split_key(key).ok_or(StoreError::CorruptKey { len: key.len() })?;
        let corrupt = || StoreError::Corrupt {
            author,
            seq: first,
            reason: format!("index entry of {} bytes does not decode", value.len()),
        };
        let offset = u64::from_be_bytes(
            value
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(corrupt)?,
        );
        let count = u32::from_be_bytes(
            value
                .get(8..12)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(corrupt)?,
        );
        let lengths: Vec<u32> = value
            .get(12..)
            .ok_or_else(corrupt)?
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if lengths.len() != count as usize || count == 0 {
            return Err(corrupt());
        }
        Ok(Self {
            author,
            first,
            offset,
            lengths,
        })
    }

    fn encode(offset: u64, lengths: &[u32]) -> Vec<u8> {
        let mut value = Vec::with_capacity(12 + 4 * lengths.len());
        value.extend_from_slice(&offset.to_be_bytes());
        value.extend_from_slice(&(lengths.len() as u32).to_be_bytes());
        for len in lengths {
            value.extend_from_slice(&len.to_be_bytes());
        }
        value
    }

    fn last(&self) -> u64 {
        self.first + self.lengths.len() as u64 - 1
    }

    fn covers(&self, seq: u64) -> bool {
        seq >= self.first && seq <= self.last()
    }

    /// Byte offset of frame `index` (its header), or the end of the run for `index == count`.
    fn frame_offset(&self, index: usize) -> u64 {
        self.offset
            + self.lengths[..index]
                .iter()
                .map(|l| u64::from(*l) + FRAME_OVERHEAD_BYTES)
                .sum::<u64>()
    }
}

impl Backend for SledBackend {
    fn get(&self, author: &HubId, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        match self.locate(author, seq)? {
            None => Ok(None),
            Some(run) => {
                let mut body = None;
                self.visit_run(&run, seq, seq, &mut Vec::new(), &mut |_, bytes| {
                    body = Some(bytes.to_vec());
                    false
                })?;
                Ok(body)
            }
        }
    }

    fn scan(
        &self,
        author: &HubId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        self.scan_each(
            author,
            after_seq,
            limit,
            &mut Vec::new(),
            &mut |seq, bytes| {
                out.push((seq, bytes.to_vec()));
                true
            },
        )?;
        Ok(out)
    }

    fn scan_each(
        &self,
        author: &HubId,
        after_seq: u64,
        limit: usize,
        buffer: &mut Vec<u8>,
        visit: &mut dyn FnMut(u64, &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        let Some(mut seq) = after_seq.checked_add(1) else {
            return Ok(());
        };
        let mut visited = 0usize;
        let mut going = true;
        while going && visited < limit {
            let Some(run) = self.locate(author, seq)? else {
                break;
            };
            let mut to = run
                .last()
                .min(seq.saturating_add((limit - visited) as u64 - 1));
            if let Some(next) = self.next_run_start(author, seq)? {
                to = to.min(next - 1);
            }
            self.visit_run(&run, seq, to, buffer, &mut |seq, bytes| {
                visited += 1;
                going = visit(seq, bytes);
                going
            })?;
            match to.checked_add(1) {
                Some(next) => seq = next,
                None => break,
            }
        }
        Ok(())
    }

    fn last_seq(&self, author: &HubId) -> Result<Option<u64>, StoreError> {
        // The largest seq any run covers (a shadowing entry may start later but end earlier);
        // one entry per run, read only when a store opens.
        let mut last: Option<u64> = None;
        for item in self.index.scan_prefix(author.0) {
            let (key, value) = item.map_err(sled_err("reading a feed head"))?;
            let run = Run::decode(&key, &value)?;
            last = Some(last.map_or(run.last(), |l| l.max(run.last())));
        }
        Ok(last)
    }

    fn authors(&self) -> Result<Vec<HubId>, StoreError> {
        let mut authors = Vec::new();
        let mut cursor = vec![0u8; 32];
        while let Some(item) = self.index.range(cursor.clone()..).next() {
            let (key, _) = item.map_err(sled_err("listing feeds"))?;
            let (author, _) = split_key(&key).ok_or(StoreError::CorruptKey { len: key.len() })?;
            authors.push(author);
            match successor(&author.0) {
                Some(next) => cursor = next.to_vec(),
                None => break,
            }
        }
        Ok(authors)
    }

    fn write_events(&self, rows: &[EventRow]) -> Result<(), StoreError> {
        self.write_rows(rows, false)
    }

    fn write_checked(&self, rows: &[EventRow]) -> Result<(), StoreError> {
        self.write_rows(rows, true)
    }

    fn write_fork(&self, author: &HubId, proof: &[u8]) -> Result<(), StoreError> {
        let mut data_len = self.data_len.lock().map_err(|_| StoreError::Poisoned)?;
        let mut frame = Vec::with_capacity(proof.len() + FRAME_OVERHEAD_BYTES as usize);
        push_frame(&mut frame, PROOF_TAG, proof);
        self.append_frames(&mut data_len, &frame)?;
        self.forks
            .insert(author.0, proof)
            .map_err(sled_err("writing a fork proof"))?;
        self.set_indexed(*data_len)?;
        self.flush()
    }

    fn forks(&self) -> Result<Vec<(HubId, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        for item in self.forks.iter() {
            let (key, value) = item.map_err(sled_err("reading fork proofs"))?;
            let author =
                HubId::try_from(&key[..]).map_err(|_| StoreError::CorruptKey { len: key.len() })?;
            out.push((author, value.to_vec()));
        }
        Ok(out)
    }

    fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .meta
            .get(key)
            .map_err(sled_err("reading metadata"))?
            .map(|v| v.to_vec()))
    }

    fn meta_put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.meta
            .insert(key, value)
            .map_err(sled_err("writing metadata"))?;
        self.flush()
    }

    /// The data file's length and CRC-32: read once, then kept up to date by each append.
    /// The index is not in it: sled checks its own pages, and an index that does not match
    /// the data is rebuilt when the backend opens (which empties the record).
    fn fingerprint(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let len = self.data_len.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(Some(fingerprint_of(*len, self.data_crc(*len)?)))
    }

    fn keep_sealed(&self, record: Option<Vec<u8>>) -> Result<(), StoreError> {
        // No write between reading the fingerprint and recording it.
        let len = self.data_len.lock().map_err(|_| StoreError::Poisoned)?;
        let keep = record.is_some();
        *self.sealing.lock().map_err(|_| StoreError::Poisoned)? = record;
        if keep {
            self.put_sealed(*len)?;
        } else {
            self.meta
                .insert(SEALED_KEY, &[])
                .map_err(sled_err("writing metadata"))?;
        }
        self.flush()
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        let index = self
            .db
            .size_on_disk()
            .map_err(sled_err("measuring the database"))?;
        let data = *self.data_len.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(index + data)
    }

    fn recovered(&self) -> Vec<Recovered> {
        self.recovered.clone()
    }
}

/// The smallest 32-byte string greater than every key starting with `prefix`.
/// A data file's fingerprint: its length and CRC-32, big-endian.
fn fingerprint_of(len: u64, crc: u32) -> Vec<u8> {
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

fn successor(prefix: &[u8; 32]) -> Option<[u8; 32]> {
    let mut next = *prefix;
    for byte in next.iter_mut().rev() {
        if *byte == u8::MAX {
            *byte = 0;
        } else {
            *byte += 1;
            return Some(next);
        }
    }
    None
}

//! The on-disk backend: signed events in an append-only data file, and sled as the index.
//!
//! ```text
//! store/
//!   events.log   frames: 0xE5, u32 BE length, encoded SignedEvent — appended, never rewritten
//!   db/          sled: the run index, fork proofs, metadata
//! ```
//!
//! The log is append-only by nature, so its bytes go where appending is cheapest and nothing
//! is amplified; sled, still young, holds only a small index. One write stores, per author, a
//! *run* of consecutive events as contiguous frames, and one index entry for the run:
//! `author ‖ first seq → offset of the first frame ‖ count ‖ each frame's length`. A write
//! appends the frames and syncs the file, then inserts the run entries and flushes sled: an
//! event is acknowledged once both are on disk. A run entry with a larger first seq shadows an
//! older one for the seqs it covers (only a repair or a test rewrites a stored position). A crash between the two leaves frames no index entry
//! points to; they are never read and the next write appends after them. Reading checks every
//! offset against the file's length.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;

use maillage_core::HubId;

use crate::StoreError;
use crate::backend::{Backend, EventRow, event_key, split_key};

/// First byte of every frame of the data file.
const FRAME_TAG: u8 = 0xE5;
/// Tag and length prefix.
const FRAME_HEADER_BYTES: u64 = 5;

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
}

fn sled_err(context: &'static str) -> impl Fn(sled::Error) -> StoreError {
    move |source| StoreError::Backend {
        context,
        source: Box::new(source),
    }
}

fn io_err(context: &'static str) -> impl Fn(std::io::Error) -> StoreError {
    move |source| StoreError::Backend {
        context,
        source: Box::new(source),
    }
}

impl SledBackend {
    /// Opens (or creates) the store in the directory `path`.
    ///
    /// sled releases its file lock from background threads shortly after the last handle is
    /// dropped, so an open right after a close in the same process is retried for up to ~2 s.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(path).map_err(io_err("creating the store directory"))?;
        let config = sled::Config::new()
            .path(path.join("db"))
            .cache_capacity(64 * 1024 * 1024);
        let mut attempts = 0;
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
        let data = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path.join("events.log"))
            .map_err(io_err("opening events.log"))?;
        let data_len = data
            .metadata()
            .map_err(io_err("reading events.log's size"))?
            .len();
        Ok(Self {
            db,
            index,
            forks,
            meta,
            data,
            data_len: Mutex::new(data_len),
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(sled_err("flushing to disk"))?;
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

    /// Reads frames `from..=to` of a run in one read and checks each frame header.
    fn read_run(&self, run: &Run, from: u64, to: u64) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let first_index = (from - run.first) as usize;
        let last_index = (to - run.first) as usize;
        let start = run.frame_offset(first_index);
        let end = run.frame_offset(last_index + 1);
        let file_len = *self.data_len.lock().map_err(|_| StoreError::Poisoned)?;
        let corrupt = |seq: u64, reason: String| StoreError::Corrupt {
            author: run.author,
            seq,
            reason,
        };
        if end > file_len {
            return Err(corrupt(
                from,
                format!("index points to bytes {start}..{end} of events.log, which has {file_len}"),
            ));
        }
        let mut bytes = vec![0u8; (end - start) as usize];
        self.data
            .read_exact_at(&mut bytes, start)
            .map_err(io_err("reading events.log"))?;
        let mut out = Vec::with_capacity(last_index - first_index + 1);
        let mut at = 0usize;
        for index in first_index..=last_index {
            let seq = run.first + index as u64;
            let len = run.lengths[index] as usize;
            let header = &bytes[at..at + FRAME_HEADER_BYTES as usize];
            let found = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
            if header[0] != FRAME_TAG || found != len {
                return Err(corrupt(
                    seq,
                    format!(
                        "events.log frame at byte {}: expected tag 0xE5 and length {len}, found 0x{:02x} and {found}",
                        start + at as u64,
                        header[0]
                    ),
                ));
            }
            at += FRAME_HEADER_BYTES as usize;
            out.push((seq, bytes[at..at + len].to_vec()));
            at += len;
        }
        Ok(out)
    }
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
                .map(|l| u64::from(*l) + FRAME_HEADER_BYTES)
                .sum::<u64>()
    }
}

impl Backend for SledBackend {
    fn get(&self, author: &HubId, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        match self.locate(author, seq)? {
            None => Ok(None),
            Some(run) => Ok(self.read_run(&run, seq, seq)?.pop().map(|(_, bytes)| bytes)),
        }
    }

    fn scan(
        &self,
        author: &HubId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let Some(start_seq) = after_seq.checked_add(1) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut seq = start_seq;
        while out.len() < limit {
            let Some(run) = self.locate(author, seq)? else {
                break;
            };
            let mut to = run
                .last()
                .min(seq.saturating_add((limit - out.len()) as u64 - 1));
            if let Some(next) = self.next_run_start(author, seq)? {
                to = to.min(next - 1);
            }
            out.extend(self.read_run(&run, seq, to)?);
            match to.checked_add(1) {
                Some(next) => seq = next,
                None => break,
            }
        }
        Ok(out)
    }

    fn last(&self, author: &HubId) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        // The largest seq any run covers (a shadowing entry may start later but end earlier);
        // one entry per run, read only when a store opens.
        let mut last: Option<u64> = None;
        for item in self.index.scan_prefix(author.0) {
            let (key, value) = item.map_err(sled_err("reading a feed head"))?;
            let run = Run::decode(&key, &value)?;
            last = Some(last.map_or(run.last(), |l| l.max(run.last())));
        }
        match last {
            None => Ok(None),
            Some(seq) => Ok(self.get(author, seq)?.map(|bytes| (seq, bytes))),
        }
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
            .map(|(_, _, b)| b.len() + FRAME_HEADER_BYTES as usize)
            .sum();
        let mut frames = Vec::with_capacity(total);
        let mut index = sled::Batch::default();
        let mut run: Option<(HubId, u64, u64, Vec<u32>)> = None; // author, first, offset, lengths
        for (author, seq, bytes) in order {
            let len = u32::try_from(bytes.len()).map_err(|_| StoreError::Corrupt {
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
            frames.push(FRAME_TAG);
            frames.extend_from_slice(&len.to_be_bytes());
            frames.extend_from_slice(bytes);
        }
        if let Some((a, first, run_offset, lengths)) = run {
            index.insert(&event_key(&a, first)[..], Run::encode(run_offset, &lengths));
        }
        self.data
            .write_all_at(&frames, start)
            .map_err(io_err("appending to events.log"))?;
        self.data
            .sync_data()
            .map_err(io_err("syncing events.log"))?;
        *data_len = start + frames.len() as u64;
        self.index
            .apply_batch(index)
            .map_err(sled_err("writing the index"))?;
        self.flush()
    }

    fn write_fork(&self, author: &HubId, proof: &[u8]) -> Result<(), StoreError> {
        self.forks
            .insert(author.0, proof)
            .map_err(sled_err("writing a fork proof"))?;
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

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        let index = self
            .db
            .size_on_disk()
            .map_err(sled_err("measuring the database"))?;
        let data = *self.data_len.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(index + data)
    }
}

/// The smallest 32-byte string greater than every key starting with `prefix`.
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

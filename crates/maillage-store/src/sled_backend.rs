//! The sled backend: one tree of events, one of fork proofs, one of metadata. Every write
//! is followed by `flush()`, so it is on disk when the call returns.

use std::path::Path;

use maillage_core::HubId;

use crate::StoreError;
use crate::backend::{Backend, EventRow, event_key, split_key};

/// zstd level for sled pages: fast levels cost little next to a signature verification.
const COMPRESSION_LEVEL: i32 = 3;

/// Feeds in a sled database directory.
#[derive(Debug, Clone)]
pub struct SledBackend {
    db: sled::Db,
    events: sled::Tree,
    forks: sled::Tree,
    meta: sled::Tree,
}

fn sled_err(context: &'static str) -> impl Fn(sled::Error) -> StoreError {
    move |source| StoreError::Backend {
        context,
        source: Box::new(source),
    }
}

impl SledBackend {
    /// Opens (or creates) the database in `path`.
    ///
    /// sled releases its file lock from background threads shortly after the last handle is
    /// dropped, so an open right after a close in the same process is retried for up to ~2 s.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        // zstd on sled's pages: venue records of one hub share most of their text, and
        // compression keeps the store under twice the payload bytes (see `maillage bench log`).
        let config = sled::Config::new()
            .path(path)
            .cache_capacity(64 * 1024 * 1024)
            .use_compression(true)
            .compression_factor(COMPRESSION_LEVEL);
        let mut attempts = 0;
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                Err(sled::Error::Io(e))
                    if e.kind() == std::io::ErrorKind::Other && attempts < 100 =>
                {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    if attempts == 100 {
                        return Err(StoreError::Backend {
                            context: "opening the sled database (is another maillage process using this data dir?)",
                            source: Box::new(e),
                        });
                    }
                }
                Err(e) => return Err(sled_err("opening the sled database")(e)),
            }
        };
        let events = db
            .open_tree("events")
            .map_err(sled_err("opening tree events"))?;
        let forks = db
            .open_tree("forks")
            .map_err(sled_err("opening tree forks"))?;
        let meta = db
            .open_tree("meta")
            .map_err(sled_err("opening tree meta"))?;
        Ok(Self {
            db,
            events,
            forks,
            meta,
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(sled_err("flushing to disk"))?;
        Ok(())
    }
}

impl Backend for SledBackend {
    fn get(&self, author: &HubId, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .events
            .get(event_key(author, seq))
            .map_err(sled_err("reading an event"))?
            .map(|v| v.to_vec()))
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
        let start = event_key(author, start_seq);
        let end = event_key(author, u64::MAX);
        let mut out = Vec::new();
        for item in self.events.range(start..=end).take(limit) {
            let (key, value) = item.map_err(sled_err("scanning a feed"))?;
            let (_, seq) = split_key(&key).ok_or(StoreError::CorruptKey { len: key.len() })?;
            out.push((seq, value.to_vec()));
        }
        Ok(out)
    }

    fn last(&self, author: &HubId) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        match self.events.scan_prefix(author.0).next_back() {
            None => Ok(None),
            Some(item) => {
                let (key, value) = item.map_err(sled_err("reading a feed head"))?;
                let (_, seq) = split_key(&key).ok_or(StoreError::CorruptKey { len: key.len() })?;
                Ok(Some((seq, value.to_vec())))
            }
        }
    }

    fn authors(&self) -> Result<Vec<HubId>, StoreError> {
        let mut authors = Vec::new();
        let mut cursor = vec![0u8; 32];
        while let Some(item) = self.events.range(cursor.clone()..).next() {
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
        let mut batch = sled::Batch::default();
        for (author, seq, bytes) in rows {
            batch.insert(&event_key(author, *seq)[..], bytes.as_slice());
        }
        self.events
            .apply_batch(batch)
            .map_err(sled_err("writing events"))?;
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
        self.db
            .size_on_disk()
            .map_err(sled_err("measuring the database"))
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

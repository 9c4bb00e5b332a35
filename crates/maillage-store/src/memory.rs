//! The in-memory backend: the same contract as sled, for simulations and tests. "Durable"
//! here means visible to every later call.

use std::collections::BTreeMap;
use std::sync::Mutex;

use maillage_core::HubId;

use crate::StoreError;
use crate::backend::{Backend, EventRow};

#[derive(Debug, Default)]
struct Inner {
    events: BTreeMap<(HubId, u64), Vec<u8>>,
    forks: BTreeMap<HubId, Vec<u8>>,
    meta: BTreeMap<String, Vec<u8>>,
}

/// Feeds held in memory.
#[derive(Debug, Default)]
pub struct MemoryBackend {
    inner: Mutex<Inner>,
}

impl MemoryBackend {
    /// An empty backend.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        self.inner.lock().map_err(|_| StoreError::Poisoned)
    }
}

impl Backend for MemoryBackend {
    fn get(&self, author: &HubId, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock()?.events.get(&(*author, seq)).cloned())
    }

    fn scan(
        &self,
        author: &HubId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let Some(start) = after_seq.checked_add(1) else {
            return Ok(Vec::new());
        };
        Ok(self
            .lock()?
            .events
            .range((*author, start)..=(*author, u64::MAX))
            .take(limit)
            .map(|((_, seq), bytes)| (*seq, bytes.clone()))
            .collect())
    }

    fn last_seq(&self, author: &HubId) -> Result<Option<u64>, StoreError> {
        Ok(self
            .lock()?
            .events
            .range((*author, 0)..=(*author, u64::MAX))
            .next_back()
            .map(|((_, seq), _)| *seq))
    }

    fn authors(&self) -> Result<Vec<HubId>, StoreError> {
        let inner = self.lock()?;
        let mut authors: Vec<HubId> = inner.events.keys().map(|(a, _)| *a).collect();
        authors.dedup();
        Ok(authors)
    }

    fn write_events(&self, rows: &[EventRow]) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        for (author, seq, bytes) in rows {
            inner.events.insert((*author, *seq), bytes.clone());
        }
        Ok(())
    }

    fn write_fork(&self, author: &HubId, proof: &[u8]) -> Result<(), StoreError> {
        self.lock()?.forks.insert(*author, proof.to_vec());
        Ok(())
    }

    fn forks(&self) -> Result<Vec<(HubId, Vec<u8>)>, StoreError> {
        Ok(self
            .lock()?
            .forks
            .iter()
            .map(|(a, p)| (*a, p.clone()))
            .collect())
    }

    fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock()?.meta.get(key).cloned())
    }

    fn meta_put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.lock()?.meta.insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(0)
    }
}

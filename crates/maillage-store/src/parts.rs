//! Personal parts (docs/protocol.md §2b), kept apart from the append-only log so that they
//! can really be erased: `personal.parts` holds one checksummed frame per part, and an erasure
//! rewrites the whole file without the erased frames (a new file, synced, renamed over the
//! old one), so the erased bytes are in no file of the store afterwards.
//!
//! Parts are best effort by design (no rule reads them): a frame torn by a crash, or that
//! fails its checksum, is dropped when the file is read, and the file is rewritten without it.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use maillage_core::personal::PART_BYTES_MAX;
use maillage_core::{EventId, HubId};

use crate::StoreError;
use crate::sled_backend::io_err;

/// First bytes of the file.
const MAGIC: &[u8; 16] = b"MAILLAGE-PARTS2\n";
/// Bytes of a frame before the part: event id, author, seq, length.
const HEAD: usize = 32 + 32 + 8 + 2;
/// The file's name in the store directory.
pub const FILE_NAME: &str = "personal.parts";

/// A part to keep: its event's id and feed position, and its bytes.
pub(crate) type NewPart = (EventId, HubId, u64, Vec<u8>);

/// The parts a store holds, by event id, and their events' feed positions (forwarding a range
/// of a feed finds its parts by position, without hashing payloads).
#[derive(Debug, Default)]
pub(crate) struct Parts {
    /// The file, for a store on disk.
    path: Option<PathBuf>,
    map: BTreeMap<EventId, (HubId, u64, Vec<u8>)>,
    at: BTreeMap<(HubId, u64), EventId>,
}

/// `id || author || seq (u64 BE) || length (u16 BE) || part || crc32(all before)`.
fn frame(id: &EventId, author: &HubId, seq: u64, part: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&id.0);
    out.extend_from_slice(&author.0);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&(part.len() as u16).to_be_bytes());
    out.extend_from_slice(part);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

impl Parts {
    /// Parts kept in memory only.
    pub(crate) fn in_memory() -> Self {
        Self::default()
    }

    /// Reads `dir/personal.parts` (absent: none yet). Frames that do not check out are
    /// dropped and the file rewritten without them.
    pub(crate) fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(FILE_NAME);
        let mut parts = Self {
            path: Some(path.clone()),
            ..Self::default()
        };
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(parts),
            Err(e) => return Err(io_err("reading personal.parts")(e)),
        };
        let mut clean = bytes.starts_with(MAGIC);
        let mut at = if clean { MAGIC.len() } else { bytes.len() };
        while at < bytes.len() {
            let Some(len) = bytes
                .get(at + HEAD - 2..at + HEAD)
                .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
            else {
                clean = false;
                break;
            };
            let end = at + HEAD + len;
            let Some(crc) = bytes.get(end..end + 4) else {
                clean = false;
                break;
            };
            let ok = len <= PART_BYTES_MAX && crc32fast::hash(&bytes[at..end]).to_be_bytes() == crc;
            if !ok {
                // Lengths after a bad frame cannot be trusted: the rest is dropped.
                clean = false;
                break;
            }
            let mut id = [0u8; 32];
            id.copy_from_slice(&bytes[at..at + 32]);
            let mut author = [0u8; 32];
            author.copy_from_slice(&bytes[at + 32..at + 64]);
            let mut seq = [0u8; 8];
            seq.copy_from_slice(&bytes[at + 64..at + 72]);
            parts.insert((
                EventId(id),
                HubId(author),
                u64::from_be_bytes(seq),
                bytes[at + HEAD..end].to_vec(),
            ));
            at = end + 4;
        }
        if !clean {
            tracing::warn!(
                kept = parts.map.len(),
                "personal.parts ended with a torn or damaged frame: rewritten without it"
            );
            parts.rewrite()?;
        }
        Ok(parts)
    }

    fn insert(&mut self, (id, author, seq, part): NewPart) {
        self.at.insert((author, seq), id);
        self.map.insert(id, (author, seq, part));
    }

    /// The part of an event, if held.
    pub(crate) fn get(&self, id: &EventId) -> Option<&Vec<u8>> {
        self.map.get(id).map(|(_, _, part)| part)
    }

    /// The part of the event at a feed position, if held (it may belong to another branch
    /// of a forked feed: whoever attaches it checks it against the event's commitment).
    pub(crate) fn get_at(&self, author: &HubId, seq: u64) -> Option<&Vec<u8>> {
        self.at.get(&(*author, seq)).and_then(|id| self.get(id))
    }

    /// Every event whose part is held.
    pub(crate) fn ids(&self) -> Vec<EventId> {
        self.map.keys().copied().collect()
    }

    /// Adds parts (durable on return).
    pub(crate) fn put(&mut self, new: Vec<NewPart>) -> Result<(), StoreError> {
        let new: Vec<NewPart> = new
            .into_iter()
            .filter(|(id, _, _, part)| part.len() <= PART_BYTES_MAX && !self.map.contains_key(id))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        if let Some(path) = &self.path {
            let mut bytes = Vec::new();
            let fresh = !path.exists();
            if fresh {
                bytes.extend_from_slice(MAGIC);
            }
            for (id, author, seq, part) in &new {
                frame(id, author, *seq, part, &mut bytes);
            }
            let mut file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(io_err("opening personal.parts"))?;
            file.write_all(&bytes)
                .map_err(io_err("writing personal.parts"))?;
            file.sync_data().map_err(io_err("syncing personal.parts"))?;
            if fresh {
                sync_dir(path);
            }
        }
        for part in new {
            self.insert(part);
        }
        Ok(())
    }

    /// Erases parts: gone from memory and, on disk, from every file (the file is rewritten
    /// without them). Returns how many were held.
    pub(crate) fn erase(&mut self, ids: &[EventId]) -> Result<usize, StoreError> {
        let mut erased = 0;
        for id in ids {
            if let Some((author, seq, _)) = self.map.remove(id) {
                self.at.remove(&(author, seq));
                erased += 1;
            }
        }
        if erased > 0 {
            self.rewrite()?;
        }
        Ok(erased)
    }

    /// Writes every held part to a new file and renames it over the old one.
    fn rewrite(&self) -> Result<(), StoreError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut bytes = MAGIC.to_vec();
        for (id, (author, seq, part)) in &self.map {
            frame(id, author, *seq, part, &mut bytes);
        }
        let tmp = path.with_extension("parts.tmp");
        {
            let mut file = File::create(&tmp).map_err(io_err("creating personal.parts.tmp"))?;
            file.write_all(&bytes)
                .map_err(io_err("writing personal.parts.tmp"))?;
            file.sync_all()
                .map_err(io_err("syncing personal.parts.tmp"))?;
        }
        std::fs::rename(&tmp, path).map_err(io_err("replacing personal.parts"))?;
        sync_dir(path);
        Ok(())
    }
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(dir) = File::open(dir)
    {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn erased_parts_are_in_no_file_afterwards() {
        let dir = tempfile::tempdir().unwrap();
        let mut parts = Parts::open(dir.path()).unwrap();
        let secret = b"0123456789abcdef-secret-part".to_vec();
        let other = b"another person entirely".to_vec();
        parts
            .put(vec![
                (EventId([1; 32]), HubId([5; 32]), 1, secret.clone()),
                (EventId([2; 32]), HubId([5; 32]), 2, other.clone()),
            ])
            .unwrap();
        let file = dir.path().join(FILE_NAME);
        assert!(contains(&std::fs::read(&file).unwrap(), &secret));
        assert_eq!(
            parts.erase(&[EventId([1; 32]), EventId([9; 32])]).unwrap(),
            1
        );
        let bytes = std::fs::read(&file).unwrap();
        assert!(!contains(&bytes, &secret));
        assert!(contains(&bytes, &other));
        // No leftover file holds them either.
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(!contains(&bytes, &secret));
        }
        let again = Parts::open(dir.path()).unwrap();
        assert_eq!(again.ids(), vec![EventId([2; 32])]);
        assert_eq!(again.get(&EventId([2; 32])), Some(&other));
        assert_eq!(again.get_at(&HubId([5; 32]), 2), Some(&other));
        assert_eq!(again.get_at(&HubId([5; 32]), 1), None);
    }

    #[test]
    fn a_torn_frame_is_dropped_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut parts = Parts::open(dir.path()).unwrap();
        parts
            .put(vec![(EventId([1; 32]), HubId([5; 32]), 1, vec![7; 40])])
            .unwrap();
        parts
            .put(vec![(EventId([2; 32]), HubId([5; 32]), 2, vec![8; 40])])
            .unwrap();
        let file = dir.path().join(FILE_NAME);
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() - 3]).unwrap();
        let again = Parts::open(dir.path()).unwrap();
        assert_eq!(again.ids(), vec![EventId([1; 32])]);
        // Flipped byte in the first frame: nothing after it is trusted.
        let mut bytes = std::fs::read(&file).unwrap();
        bytes[MAGIC.len() + 40] ^= 1;
        std::fs::write(&file, &bytes).unwrap();
        assert!(Parts::open(dir.path()).unwrap().ids().is_empty());
    }
}

//! Personal parts (docs/protocol.md §2b), kept apart from the append-only log so that they
//! can really be erased: `personal.parts` holds one checksummed frame per part, and an erasure
//! rewrites the whole file without the erased frames (a new file, synced, renamed over the
//! old one), so the erased bytes are in no file of the store afterwards.
//!
//! Parts are best effort by design (no rule reads them): a frame torn by a crash, or that
//! fails its checksum, is dropped when the file is read, and the file is rewritten without it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use maillage_core::lookup::LookupMap;
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

/// Where a held part's frame is, in the file (or the in-memory bytes): the frame's start (48
/// bits, 256 TiB) and the part's length (16 bits), in one word: a national store holds
/// millions of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Slot(u64);

/// Bytes a parts file may reach: what a [`Slot`] can say.
const FILE_BYTES_MAX: u64 = 1 << 48;

impl Slot {
    fn new(at: u64, len: u16) -> Self {
        debug_assert!(at < FILE_BYTES_MAX);
        Self(at << 16 | u64::from(len))
    }

    fn at(self) -> u64 {
        self.0 >> 16
    }

    fn len(self) -> u16 {
        self.0 as u16
    }

    fn frame_len(self) -> usize {
        HEAD + usize::from(self.len()) + 4
    }
}

/// The held parts' feed positions: authors by a dense number, positions to slots (a key
/// repeated in every entry would cost more than the entry).
#[derive(Debug, Default)]
struct Positions {
    authors: LookupMap<HubId, u32>,
    at: LookupMap<(u32, u64), Slot>,
}

impl Positions {
    fn insert(&mut self, author: HubId, seq: u64, slot: Slot) {
        let next = self.authors.len() as u32;
        let index = *self.authors.entry(author).or_insert(next);
        self.at.insert((index, seq), slot);
    }

    fn get(&self, author: &HubId, seq: u64) -> Option<Slot> {
        let index = self.authors.get(author)?;
        self.at.get(&(*index, seq)).copied()
    }
}

/// The frames: the file of a store on disk (read at a position, appended to), or bytes in
/// memory laid out the same way.
#[derive(Debug)]
enum Frames {
    Memory(Vec<u8>),
    File { path: PathBuf, file: File, len: u64 },
}

/// Frames read before the index is sized for the whole file (see [`Parts::scan`]).
const SAMPLE_FRAMES: usize = 1024;

/// The parts a store holds: where each one's frame is, by event id, and their events' feed
/// positions (forwarding a range of a feed finds its parts by position, without hashing
/// payloads). The parts themselves stay in the file and are read when asked for: a
/// national store holds millions.
#[derive(Debug)]
pub(crate) struct Parts {
    frames: Frames,
    map: LookupMap<EventId, Slot>,
    at: Positions,
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

/// A frame's event id, author and seq, if its checksum holds (`frame` is a whole frame).
fn checked(frame: &[u8]) -> Option<(EventId, HubId, u64)> {
    let (body, crc) = frame.split_at(frame.len().checked_sub(4)?);
    if crc32fast::hash(body).to_be_bytes() != crc {
        return None;
    }
    let mut id = [0u8; 32];
    id.copy_from_slice(&body[..32]);
    let mut author = [0u8; 32];
    author.copy_from_slice(&body[32..64]);
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&body[64..72]);
    Some((EventId(id), HubId(author), u64::from_be_bytes(seq)))
}

impl Parts {
    /// Parts kept in memory only.
    pub(crate) fn in_memory() -> Self {
        Self {
            frames: Frames::Memory(MAGIC.to_vec()),
            map: LookupMap::default(),
            at: Positions::default(),
        }
    }

    /// Reads `dir/personal.parts` (absent: none yet), frame by frame, keeping where each is.
    /// Frames that do not check out are dropped and the file rewritten without them.
    pub(crate) fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(FILE_NAME);
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_err("opening personal.parts"))?;
        let len = file
            .metadata()
            .map_err(io_err("reading personal.parts"))?
            .len();
        let mut parts = Self {
            frames: Frames::File {
                path: path.clone(),
                file,
                len,
            },
            map: LookupMap::default(),
            at: Positions::default(),
        };
        if len == 0 {
            // New (or emptied by a crash before its first frame): starts with the magic.
            parts.append(MAGIC)?;
            return Ok(parts);
        }
        let clean = parts.scan()?;
        if !clean {
            tracing::warn!(
                kept = parts.map.len(),
                "personal.parts ended with a torn or damaged frame: rewritten without it"
            );
            parts.rewrite()?;
        }
        Ok(parts)
    }

    /// Indexes the frames of the file from its start; whether they all checked out (the
    /// first that does not, and everything after it, is left out: lengths after a bad frame
    /// cannot be trusted).
    fn scan(&mut self) -> Result<bool, StoreError> {
        let Frames::File { file, len, .. } = &self.frames else {
            return Ok(true);
        };
        let total = *len;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        let mut magic = [0u8; MAGIC.len()];
        if reader.read_exact(&mut magic).is_err() || &magic != MAGIC {
            return Ok(false);
        }
        let mut at = MAGIC.len() as u64;
        let mut frame = vec![0u8; HEAD + PART_BYTES_MAX + 4];
        while at < total {
            if total - at < (HEAD + 4) as u64 || reader.read_exact(&mut frame[..HEAD]).is_err() {
                return Ok(false);
            }
            let len = usize::from(u16::from_be_bytes([frame[HEAD - 2], frame[HEAD - 1]]));
            let size = HEAD + len + 4;
            if len > PART_BYTES_MAX
                || total - at < size as u64
                || reader.read_exact(&mut frame[HEAD..size]).is_err()
            {
                return Ok(false);
            }
            let Some((id, author, seq)) = checked(&frame[..size]) else {
                return Ok(false);
            };
            let slot = Slot::new(at, len as u16);
            self.at.insert(author, seq, slot);
            self.map.insert(id, slot);
            at += size as u64;
            if self.map.len() == SAMPLE_FRAMES {
                // The maps are sized for the whole file from its first frames: grown by
                // doubling, millions of parts would be hashed again at each growth, into
                // fresh pages the kernel zeroes first.
                let expected = (total / at * SAMPLE_FRAMES as u64) as usize;
                let more = (expected + expected / 8).saturating_sub(SAMPLE_FRAMES);
                self.map.reserve(more);
                self.at.at.reserve(more);
            }
        }
        Ok(true)
    }

    /// Appends bytes; where they start.
    fn append(&mut self, bytes: &[u8]) -> Result<u64, StoreError> {
        match &mut self.frames {
            Frames::Memory(memory) => {
                let at = memory.len() as u64;
                memory.extend_from_slice(bytes);
                Ok(at)
            }
            Frames::File { path, file, len } => {
                let at = *len;
                let written = file
                    .write_all(bytes)
                    .map_err(io_err("writing personal.parts"))
                    .and_then(|()| file.sync_data().map_err(io_err("syncing personal.parts")));
                if let Err(error) = written {
                    // A frame written in part would shift every later one: cut it off.
                    let _ = file.set_len(at);
                    return Err(error);
                }
                if at == 0 {
                    sync_dir(path);
                }
                *len += bytes.len() as u64;
                Ok(at)
            }
        }
    }

    /// The frame at `slot` and its event's id, author and seq, if it still checks out (a file
    /// damaged since it was opened gives nothing rather than a wrong part).
    fn read(&self, slot: Slot) -> Option<(Vec<u8>, EventId, HubId, u64)> {
        let size = slot.frame_len();
        let frame = match &self.frames {
            Frames::Memory(memory) => {
                let start = usize::try_from(slot.at()).ok()?;
                memory.get(start..start + size)?.to_vec()
            }
            Frames::File { file, .. } => {
                let mut frame = vec![0u8; size];
                file.read_exact_at(&mut frame, slot.at()).ok()?;
                frame
            }
        };
        let (id, author, seq) = checked(&frame)?;
        Some((frame, id, author, seq))
    }

    /// The part of an event, if held.
    pub(crate) fn get(&self, id: &EventId) -> Option<Vec<u8>> {
        let (frame, ..) = self.read(*self.map.get(id)?)?;
        Some(part_of(frame))
    }

    /// The part of the event at a feed position, if held (it may belong to another branch
    /// of a forked feed: whoever attaches it checks it against the event's commitment).
    pub(crate) fn get_at(&self, author: &HubId, seq: u64) -> Option<Vec<u8>> {
        let slot = self.at.get(author, seq)?;
        let (frame, id, ..) = self.read(slot)?;
        // A part erased while the file could not be rewritten keeps its position: the id
        // index says whether it is held.
        (self.map.get(&id) == Some(&slot)).then(|| part_of(frame))
    }

    /// The events whose part is held and `pick` picks, in order (only those are collected:
    /// at a node's opening, every held part is asked whether the views dropped it, and the
    /// answer is a few of millions).
    pub(crate) fn ids(&self, pick: &dyn Fn(&EventId) -> bool) -> Vec<EventId> {
        self.map.collect_sorted(|(id, _)| pick(id).then_some(*id))
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
        let mut bytes = Vec::new();
        let mut slots = Vec::with_capacity(new.len());
        for (id, author, seq, part) in &new {
            slots.push(bytes.len() as u64);
            frame(id, author, *seq, part, &mut bytes);
        }
        let held = match &self.frames {
            Frames::Memory(memory) => memory.len() as u64,
            Frames::File { len, .. } => *len,
        };
        if held + bytes.len() as u64 >= FILE_BYTES_MAX {
            return Err(StoreError::Backend {
                context: "writing personal.parts",
                source: format!("the file would pass {FILE_BYTES_MAX} bytes").into(),
            });
        }
        let start = self.append(&bytes)?;
        for ((id, author, seq, part), offset) in new.into_iter().zip(slots) {
            let slot = Slot::new(start + offset, part.len() as u16);
            self.at.insert(author, seq, slot);
            self.map.insert(id, slot);
        }
        Ok(())
    }

    /// Erases parts: gone from the index and, on disk, from every file (the file is
    /// rewritten without them). Returns how many were held.
    pub(crate) fn erase(&mut self, ids: &[EventId]) -> Result<usize, StoreError> {
        let erased = ids
            .iter()
            .filter(|id| self.map.remove(id).is_some())
            .count();
        if erased > 0 {
            self.rewrite()?;
        }
        Ok(erased)
    }

    /// Copies every held part's frame to new frames (a new file, synced and renamed over the
    /// old one, for a store on disk) and indexes them there. A frame that no longer checks
    /// out is left behind.
    fn rewrite(&mut self) -> Result<(), StoreError> {
        // In file order: the old file is read front to back.
        let held = self
            .map
            .collect_sorted(|(id, slot)| Some((slot.at(), *slot, *id)));
        let mut tmp = match &self.frames {
            Frames::Memory(_) => None,
            Frames::File { path, .. } => {
                let tmp_path = path.with_extension("parts.tmp");
                let file =
                    File::create(&tmp_path).map_err(io_err("creating personal.parts.tmp"))?;
                Some((file, tmp_path))
            }
        };
        let (mut map, mut at) = (LookupMap::default(), Positions::default());
        // Frames not written yet, after `written` bytes of the new file.
        let mut out = MAGIC.to_vec();
        let mut written = 0u64;
        for (_, slot, id) in held {
            let Some((frame, _, author, seq)) = self.read(slot) else {
                continue;
            };
            if let Some((file, _)) = &mut tmp
                && out.len() >= 1 << 20
            {
                file.write_all(&out)
                    .map_err(io_err("writing personal.parts.tmp"))?;
                written += out.len() as u64;
                out.clear();
            }
            let moved = Slot::new(written + out.len() as u64, slot.len());
            map.insert(id, moved);
            at.insert(author, seq, moved);
            out.extend_from_slice(&frame);
        }
        let end = written + out.len() as u64;
        match (&mut self.frames, tmp) {
            (Frames::File { path, file, len }, Some((mut new, tmp_path))) => {
                new.write_all(&out)
                    .map_err(io_err("writing personal.parts.tmp"))?;
                new.sync_all()
                    .map_err(io_err("syncing personal.parts.tmp"))?;
                drop(new);
                std::fs::rename(&tmp_path, &*path).map_err(io_err("replacing personal.parts"))?;
                sync_dir(path);
                *file = OpenOptions::new()
                    .read(true)
                    .append(true)
                    .open(&*path)
                    .map_err(io_err("opening personal.parts"))?;
                *len = end;
            }
            (Frames::Memory(memory), _) => *memory = out,
            (Frames::File { .. }, None) => {}
        }
        self.map = map;
        self.at = at;
        Ok(())
    }
}

/// The part in a whole frame: the frame without its head and checksum (no second allocation).
fn part_of(mut frame: Vec<u8>) -> Vec<u8> {
    frame.truncate(frame.len() - 4);
    frame.drain(..HEAD);
    frame
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
    fn a_slot_keeps_any_offset_below_the_file_limit_and_any_length() {
        for (at, len) in [
            (0, 0),
            (MAGIC.len() as u64, 1),
            (FILE_BYTES_MAX - 1, u16::MAX),
        ] {
            let slot = Slot::new(at, len);
            assert_eq!((slot.at(), slot.len()), (at, len));
        }
        assert!(Slot::new(5, 9) < Slot::new(6, 0));
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
        assert_eq!(again.ids(&|_| true), vec![EventId([2; 32])]);
        assert_eq!(again.get(&EventId([2; 32])), Some(other.clone()));
        assert_eq!(again.get_at(&HubId([5; 32]), 2), Some(other.clone()));
        assert_eq!(again.get_at(&HubId([5; 32]), 1), None);
        // Parts added after the rewrite go after the frames it kept.
        let mut parts = again;
        let third = b"a third part".to_vec();
        parts
            .put(vec![(EventId([3; 32]), HubId([6; 32]), 1, third.clone())])
            .unwrap();
        for parts in [&parts, &Parts::open(dir.path()).unwrap()] {
            assert_eq!(parts.get(&EventId([2; 32])), Some(other.clone()));
            assert_eq!(parts.get_at(&HubId([6; 32]), 1), Some(third.clone()));
            assert_eq!(
                parts.ids(&|_| true),
                vec![EventId([2; 32]), EventId([3; 32])]
            );
        }
    }

    #[test]
    fn parts_are_read_from_the_file_when_asked_for_and_a_frame_damaged_since_gives_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut parts = Parts::open(dir.path()).unwrap();
        let part = vec![7u8; 40];
        parts
            .put(vec![(EventId([1; 32]), HubId([5; 32]), 1, part.clone())])
            .unwrap();
        let file = dir.path().join(FILE_NAME);
        // The index holds where the part is, not the part: the file is read.
        let mut bytes = std::fs::read(&file).unwrap();
        bytes[MAGIC.len() + HEAD] ^= 1;
        std::fs::write(&file, &bytes).unwrap();
        assert_eq!(parts.get(&EventId([1; 32])), None);
        bytes[MAGIC.len() + HEAD] ^= 1;
        std::fs::write(&file, &bytes).unwrap();
        assert_eq!(parts.get(&EventId([1; 32])), Some(part.clone()));
        // The same in memory.
        let mut memory = Parts::in_memory();
        memory
            .put(vec![(EventId([1; 32]), HubId([5; 32]), 1, part.clone())])
            .unwrap();
        assert_eq!(memory.get_at(&HubId([5; 32]), 1), Some(part));
        assert_eq!(memory.erase(&[EventId([1; 32])]).unwrap(), 1);
        assert!(memory.ids(&|_| true).is_empty());
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
        assert_eq!(again.ids(&|_| true), vec![EventId([1; 32])]);
        // Flipped byte in the first frame: nothing after it is trusted.
        let mut bytes = std::fs::read(&file).unwrap();
        bytes[MAGIC.len() + 40] ^= 1;
        std::fs::write(&file, &bytes).unwrap();
        assert!(Parts::open(dir.path()).unwrap().ids(&|_| true).is_empty());
    }
}

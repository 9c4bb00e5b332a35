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

/// Bits of a position's key that hold the seq: a feed of a trillion events (a store holds
/// its feeds without gaps, so no stored seq comes near).
const SEQ_BITS: u32 = 40;

/// The held parts' feed positions: authors by a dense number, each position to its slot under
/// one word, the author's number above the seq (a key repeated in every entry would cost more
/// than the entry).
#[derive(Debug, Default)]
struct Positions {
    authors: LookupMap<HubId, u32>,
    at: LookupMap<u64, Slot>,
}

impl Positions {
    /// The key of a position; `None` past what a key holds (such a part is not kept).
    fn key(&mut self, author: HubId, seq: u64) -> Option<u64> {
        let next = self.authors.len() as u32;
        let index = *self.authors.entry(author).or_insert(next);
        pack(index, seq)
    }

    fn insert(&mut self, key: u64, slot: Slot) {
        self.at.insert(key, slot);
    }

    fn get(&self, author: &HubId, seq: u64) -> Option<Slot> {
        let index = self.authors.get(author)?;
        self.at.get(&pack(*index, seq)?).copied()
    }
}

/// An author's number and a seq in one word.
fn pack(author: u32, seq: u64) -> Option<u64> {
    (u64::from(author) < 1 << (64 - SEQ_BITS) && seq < 1 << SEQ_BITS)
        .then(|| u64::from(author) << SEQ_BITS | seq)
}

/// Where each held part is, by its event's id: keyed by the id's first eight bytes, not the
/// whole id (24 bytes less an entry, millions of entries). The id in the frame, read from the
/// file, says whether a hit is the part asked for. A member can make two events whose ids
/// share their first eight bytes (about 2^32 tries): a held part whose prefix another held
/// part has already is kept in `clashes`, by whole id.
#[derive(Debug, Default)]
struct ById {
    prefix: LookupMap<u64, Slot>,
    clashes: LookupMap<EventId, Slot>,
}

/// The first eight bytes of an event's id (a hash: as good a key as the whole id).
fn prefix(id: &EventId) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&id.0[..8]);
    u64::from_le_bytes(first)
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
    by_id: ById,
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
            by_id: ById::default(),
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
            by_id: ById::default(),
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
                kept = parts.len(),
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
        // A handle of its own: indexing a part may read an earlier frame (at a position).
        let file = file.try_clone().map_err(io_err("reading personal.parts"))?;
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
            self.index(id, author, seq, Slot::new(at, len as u16));
            at += size as u64;
            if self.len() == SAMPLE_FRAMES {
                // The maps are sized for the whole file from its first frames: grown by
                // doubling, millions of parts would be hashed again at each growth, into
                // fresh pages the kernel zeroes first.
                let expected = (total / at * SAMPLE_FRAMES as u64) as usize;
                let more = (expected + expected / 8).saturating_sub(SAMPLE_FRAMES);
                self.by_id.prefix.reserve(more);
                self.at.at.reserve(more);
            }
        }
        Ok(true)
    }

    /// Parts held.
    fn len(&self) -> usize {
        self.by_id.prefix.len() + self.by_id.clashes.len()
    }

    /// The id of the event whose part is at `slot`, if its frame checks out.
    fn id_at(&self, slot: Slot) -> Option<EventId> {
        self.read(slot).map(|(_, id, ..)| id)
    }

    /// Indexes a part whose frame is at `slot` (in the file already: a prefix two parts
    /// share is told apart by reading the first one's id). A position past what a key holds
    /// is not indexed: the part is left out at the next rewrite.
    fn index(&mut self, id: EventId, author: HubId, seq: u64, slot: Slot) {
        let Some(key) = self.at.key(author, seq) else {
            return;
        };
        self.at.insert(key, slot);
        let first = prefix(&id);
        match self.by_id.prefix.get(&first).copied() {
            Some(held) if self.id_at(held) != Some(id) => {
                self.by_id.clashes.insert(id, slot);
            }
            _ => {
                self.by_id.prefix.insert(first, slot);
            }
        }
    }

    /// Where the part of an event is, if held.
    fn slot_of(&self, id: &EventId) -> Option<Slot> {
        if let Some(slot) = self.by_id.clashes.get(id) {
            return Some(*slot);
        }
        let slot = *self.by_id.prefix.get(&prefix(id))?;
        (self.id_at(slot) == Some(*id)).then_some(slot)
    }

    /// Whether the part at `slot`, whose frame names `id`, is held under that id (a part
    /// erased while the file could not be rewritten keeps its frame and its position).
    fn holds(&self, id: &EventId, slot: Slot) -> bool {
        self.by_id.clashes.get(id) == Some(&slot)
            || self.by_id.prefix.get(&prefix(id)) == Some(&slot)
    }

    /// Takes an event's part out of the index; whether it was held. A frame that no longer
    /// checks out under the id's prefix goes too (the rewrite that follows leaves it behind).
    fn unindex(&mut self, id: &EventId) -> bool {
        if self.by_id.clashes.remove(id).is_some() {
            return true;
        }
        let first = prefix(id);
        let Some(slot) = self.by_id.prefix.get(&first).copied() else {
            return false;
        };
        if self.id_at(slot).is_some_and(|held| held != *id) {
            return false;
        }
        self.by_id.prefix.remove(&first);
        true
    }

    /// Every held part's slot, in file order.
    fn slots(&self) -> Vec<Slot> {
        let mut slots = self.by_id.prefix.collect_sorted(|(_, slot)| Some(*slot));
        if !self.by_id.clashes.is_empty() {
            slots.extend(self.by_id.clashes.collect_sorted(|(_, slot)| Some(*slot)));
            slots.sort_unstable();
        }
        slots
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
        let (frame, ..) = self.read(self.slot_of(id)?)?;
        Some(part_of(frame))
    }

    /// The part of the event at a feed position, if held (it may belong to another branch
    /// of a forked feed: whoever attaches it checks it against the event's commitment).
    pub(crate) fn get_at(&self, author: &HubId, seq: u64) -> Option<Vec<u8>> {
        let slot = self.at.get(author, seq)?;
        let (frame, id, ..) = self.read(slot)?;
        self.holds(&id, slot).then(|| part_of(frame))
    }

    /// The events whose part is held and `pick` picks, in order. Each held part's frame is
    /// read (the index keeps no whole ids): for checks and tests; [`Parts::held`] asks about
    /// given events.
    pub(crate) fn ids(&self, pick: &dyn Fn(&EventId) -> bool) -> Vec<EventId> {
        let mut ids: Vec<EventId> = (self.slots().into_iter())
            .filter_map(|slot| self.id_at(slot).filter(|id| pick(id)))
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Those of `events` whose part is held, in order, each once.
    pub(crate) fn held(&self, events: &mut dyn Iterator<Item = &EventId>) -> Vec<EventId> {
        let mut held: Vec<EventId> = events
            .filter(|id| self.slot_of(id).is_some())
            .copied()
            .collect();
        held.sort_unstable();
        held.dedup();
        held
    }

    /// Adds parts (durable on return).
    pub(crate) fn put(&mut self, new: Vec<NewPart>) -> Result<(), StoreError> {
        let new: Vec<NewPart> = new
            .into_iter()
            .filter(|(id, _, seq, part)| {
                part.len() <= PART_BYTES_MAX && *seq < 1 << SEQ_BITS && self.slot_of(id).is_none()
            })
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
            self.index(
                id,
                author,
                seq,
                Slot::new(start + offset, part.len() as u16),
            );
        }
        Ok(())
    }

    /// Erases parts: gone from the index and, on disk, from every file (the file is
    /// rewritten without them). Returns how many were held.
    pub(crate) fn erase(&mut self, ids: &[EventId]) -> Result<usize, StoreError> {
        let erased = ids.iter().filter(|id| self.unindex(id)).count();
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
        let held = self.slots();
        let mut tmp = match &self.frames {
            Frames::Memory(_) => None,
            Frames::File { path, .. } => {
                let tmp_path = path.with_extension("parts.tmp");
                let file =
                    File::create(&tmp_path).map_err(io_err("creating personal.parts.tmp"))?;
                Some((file, tmp_path))
            }
        };
        // Each moved part's id prefix and position key: indexed once the new file is in place
        // (a prefix two parts share is told apart by reading the new file).
        let mut moved_parts = Vec::with_capacity(held.len());
        // Frames not written yet, after `written` bytes of the new file.
        let mut out = MAGIC.to_vec();
        let mut written = 0u64;
        for slot in held {
            let Some((frame, id, author, seq)) = self.read(slot) else {
                continue;
            };
            let Some(key) = self.at.key(author, seq) else {
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
            moved_parts.push((prefix(&id), key, moved));
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
        self.by_id = ById::default();
        self.by_id.prefix.reserve(moved_parts.len());
        self.at.at = LookupMap::default();
        self.at.at.reserve(moved_parts.len());
        for (first, key, moved) in moved_parts {
            self.at.insert(key, moved);
            if self.by_id.prefix.contains_key(&first) {
                if let Some(id) = self.id_at(moved) {
                    self.by_id.clashes.insert(id, moved);
                }
            } else {
                self.by_id.prefix.insert(first, moved);
            }
        }
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

    /// The index keys a part by its id's first eight bytes; a member can make two ids that
    /// share them, and each part is still found as its own, kept, erased and reopened alone.
    #[test]
    fn parts_whose_ids_share_their_first_bytes_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let mut parts = Parts::open(dir.path()).unwrap();
        let id = |last: u8| {
            let mut id = [7u8; 32];
            id[31] = last;
            EventId(id)
        };
        let author = HubId([5; 32]);
        let part = |n: u8| vec![n; 20 + usize::from(n)];
        parts
            .put(
                (1..=3)
                    .map(|n| (id(n), author, u64::from(n), part(n)))
                    .collect(),
            )
            .unwrap();
        // Again: held already, not written twice; past the seqs a key holds: not kept.
        let file = dir.path().join(FILE_NAME);
        let bytes = std::fs::metadata(&file).unwrap().len();
        parts
            .put(vec![
                (id(2), author, 2, part(2)),
                (id(4), author, 1 << 40, part(4)),
            ])
            .unwrap();
        assert_eq!(std::fs::metadata(&file).unwrap().len(), bytes);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.by_id.clashes.len(), 2);
        let check = |parts: &Parts, held: &[u8]| {
            for n in 1..=4 {
                let kept = held.contains(&n).then(|| part(n));
                assert_eq!(parts.get(&id(n)), kept, "part {n}");
                assert_eq!(parts.get_at(&author, u64::from(n)), kept, "part {n}");
            }
            let ids: Vec<EventId> = held.iter().map(|n| id(*n)).collect();
            assert_eq!(parts.ids(&|_| true), ids);
            let asked = [id(4), id(3), id(2), id(1), id(3)];
            assert_eq!(parts.held(&mut asked.iter()), ids);
        };
        check(&parts, &[1, 2, 3]);
        check(&Parts::open(dir.path()).unwrap(), &[1, 2, 3]);
        // The part under the prefix goes first: the others are still told apart.
        assert_eq!(parts.erase(&[id(1), id(4)]).unwrap(), 1);
        check(&parts, &[2, 3]);
        check(&Parts::open(dir.path()).unwrap(), &[2, 3]);
        assert_eq!(parts.erase(&[id(3)]).unwrap(), 1);
        check(&parts, &[2]);
        let mut again = Parts::open(dir.path()).unwrap();
        check(&again, &[2]);
        again.put(vec![(id(1), author, 1, part(1))]).unwrap();
        check(&again, &[1, 2]);
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

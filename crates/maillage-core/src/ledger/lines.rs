//! A person's parcours as the views keep it: every line encoded end to end in one buffer,
//! not a vector of lines each with a boxed detail and its strings (a national federation
//! keeps millions of lines; this holds one allocation per person instead of several per line).
//!
//! A line's frame: the length of what follows (u32 LE), the HLC (u64 LE), the hub's member
//! index (u32 LE) and the seq (u64 LE) of the event in that hub's feed, then the detail
//! (postcard). The event's id is not repeated: the views hold it at that position (24 bytes a
//! line instead of 48). Frames are sorted by HLC, then event id, then detail, so a new line
//! that sorts after the last is appended without decoding anything (an id is looked up only
//! when two HLCs are equal); one that arrives out of order (concurrent records of several
//! hubs) decodes the person's lines, is inserted, and the buffer is written again.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::model::StepDetail;
use crate::ids::EventId;

/// Bytes of a frame before the detail: length, HLC, hub, seq.
const FIXED: usize = 4 + 8 + 4 + 8;

/// One parcours line, decoded: its event by position ([`super::read`]'s `ParcoursEntry` gets
/// the id from the views).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Line {
    pub(super) hlc: u64,
    /// The member index of the event's author (its feed).
    pub(super) hub: u32,
    pub(super) seq: u64,
    /// What the step records (its kind is the detail's).
    pub(super) detail: StepDetail,
}

/// The id of the event at a feed position (by member index and seq), for the lines' order.
pub(super) type IdAt<'a> = &'a dyn Fn(u32, u64) -> EventId;

/// A person's lines, sorted, each once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Lines {
    /// Exactly the frames (a boxed slice: no capacity word, and no room kept).
    bytes: Box<[u8]>,
    /// Where the last frame starts (0 when there is none).
    last: usize,
}

impl Lines {
    /// Adds `line` in its place, unless an equal line is there already. `id_at` names the
    /// event of every line kept and of `line`.
    pub(super) fn insert(&mut self, line: Line, id_at: IdAt<'_>) {
        let after_last = self.bytes.is_empty() || {
            let (hlc, hub, seq) = key(&self.bytes[self.last..]);
            hlc < line.hlc
                || (hlc == line.hlc
                    && (hub, seq) != (line.hub, line.seq)
                    && id_at(hub, seq) < id_at(line.hub, line.seq))
        };
        if after_last {
            let mut bytes = std::mem::take(&mut self.bytes).into_vec();
            self.last = push(&mut bytes, &line);
            self.bytes = bytes.into_boxed_slice();
            return;
        }
        let order = |l: &Line| (l.hlc, id_at(l.hub, l.seq));
        let mut lines: Vec<((u64, EventId), Line)> = self.iter().map(|l| (order(&l), l)).collect();
        let new = (order(&line), line);
        if let Err(at) =
            lines.binary_search_by(|(k, l)| (k, &l.detail).cmp(&(&new.0, &new.1.detail)))
        {
            lines.insert(at, new);
            let mut bytes = Vec::with_capacity(self.bytes.len() + FIXED + 64);
            for (_, line) in &lines {
                self.last = push(&mut bytes, line);
            }
            self.bytes = bytes.into_boxed_slice();
        }
    }

    /// The lines in order. A detail that does not decode (only a damaged views file that
    /// passed its checksum could hold one) is left out.
    pub(super) fn iter(&self) -> impl Iterator<Item = Line> + '_ {
        Frames(&self.bytes).filter_map(|frame| {
            let (hlc, hub, seq) = key(frame);
            let detail = postcard::from_bytes(&frame[FIXED..]).ok()?;
            Some(Line {
                hlc,
                hub,
                seq,
                detail,
            })
        })
    }

    /// Checks that `bytes` is a sequence of whole frames and returns where the last starts.
    fn check(bytes: &[u8]) -> Result<usize, &'static str> {
        let mut at = 0;
        let mut last = 0;
        while at < bytes.len() {
            let len = bytes
                .get(at..at + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                .ok_or("a parcours frame is cut in its length")?;
            if len < FIXED - 4 || bytes.len() - at - 4 < len {
                return Err("a parcours frame is cut");
            }
            last = at;
            at += 4 + len;
        }
        Ok(last)
    }
}

/// Appends `line`'s frame to `bytes` and returns where it starts.
fn push(bytes: &mut Vec<u8>, line: &Line) -> usize {
    // Cannot fail: postcard refuses only sequences of unknown length, and a detail has none.
    let detail = postcard::to_allocvec(&line.detail).unwrap_or_default();
    let body = FIXED - 4 + detail.len();
    // Exact growth: most people have a few lines, and slack would cost more than the
    // reallocations.
    bytes.reserve_exact(4 + body);
    let start = bytes.len();
    bytes.extend_from_slice(&u32::try_from(body).unwrap_or(u32::MAX).to_le_bytes());
    bytes.extend_from_slice(&line.hlc.to_le_bytes());
    bytes.extend_from_slice(&line.hub.to_le_bytes());
    bytes.extend_from_slice(&line.seq.to_le_bytes());
    bytes.extend_from_slice(&detail);
    start
}

/// The frames of a checked buffer, each with its length prefix.
struct Frames<'a>(&'a [u8]);

impl<'a> Iterator for Frames<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let len = u32::from_le_bytes(self.0.get(..4)?.try_into().ok()?) as usize;
        let end = (4 + len).min(self.0.len());
        let (frame, rest) = self.0.split_at(end);
        self.0 = rest;
        (frame.len() >= FIXED).then_some(frame)
    }
}

/// The HLC, hub and seq of a frame (at least [`FIXED`] bytes: checked when it was read).
fn key(frame: &[u8]) -> (u64, u32, u64) {
    let word = |at: usize| {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(&frame[at..at + 8]);
        u64::from_le_bytes(bytes)
    };
    let mut hub = [0; 4];
    hub.copy_from_slice(&frame[12..16]);
    (word(4), u32::from_le_bytes(hub), word(16))
}

impl Serialize for Lines {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.bytes)
    }
}

impl<'de> Deserialize<'de> for Lines {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Bytes;
        impl Visitor<'_> for Bytes {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a parcours's frames")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        let bytes = deserializer.deserialize_byte_buf(Bytes)?;
        let last = Lines::check(&bytes).map_err(de::Error::custom)?;
        Ok(Self {
            bytes: bytes.into_boxed_slice(),
            last,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::date::Day;
    use crate::vocab::Service;

    /// A line of the event at seq `event` of hub `event % 2`, its id `[event; 32]`.
    fn line(hlc: u64, event: u8, serial: &str) -> Line {
        Line {
            hlc,
            hub: u32::from(event % 2),
            seq: u64::from(event),
            detail: StepDetail::Claimed {
                serial: serial.into(),
                venue_id: "v".into(),
            },
        }
    }

    fn id_at(_hub: u32, seq: u64) -> EventId {
        EventId([seq as u8; 32])
    }

    #[test]
    fn lines_come_back_sorted_and_once_whatever_the_order_they_arrive_in() {
        let all = [
            line(5, 1, "a"),
            line(5, 2, "b"),
            line(7, 0, "c"),
            line(9, 9, "d"),
        ];
        for order in [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1], [1, 3, 0, 2]] {
            let mut lines = Lines::default();
            for i in order {
                lines.insert(all[i].clone(), &id_at);
                lines.insert(all[i].clone(), &id_at);
            }
            assert_eq!(lines.iter().collect::<Vec<_>>(), all.to_vec());
        }
    }

    #[test]
    fn a_line_with_the_key_of_the_last_but_another_detail_takes_its_place_in_order() {
        let mut lines = Lines::default();
        lines.insert(line(5, 1, "b"), &id_at);
        lines.insert(line(5, 1, "a"), &id_at);
        let redeemed = Line {
            detail: StepDetail::Redeemed {
                serial: "s".into(),
                venue_id: "v".into(),
                service: Service::ALL[0],
                date: Day::parse("2026-01-02").unwrap(),
            },
            ..line(3, 4, "x")
        };
        lines.insert(redeemed.clone(), &id_at);
        let got: Vec<Line> = lines.iter().collect();
        assert_eq!(got, vec![redeemed, line(5, 1, "a"), line(5, 1, "b")]);
    }

    #[test]
    fn frames_survive_a_snapshot_and_a_cut_buffer_is_refused() {
        let mut lines = Lines::default();
        lines.insert(line(1, 1, "a"), &id_at);
        lines.insert(line(2, 2, "b"), &id_at);
        let bytes = postcard::to_allocvec(&lines).unwrap();
        let back: Lines = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, lines);
        // The last frame is found again: a line after it is appended in place.
        let (mut a, mut b) = (back, lines.clone());
        a.insert(line(3, 3, "c"), &id_at);
        b.insert(line(3, 3, "c"), &id_at);
        assert_eq!(a, b);
        let mut cut = lines.bytes.to_vec();
        cut.pop();
        let encoded = postcard::to_allocvec(&serde_bytes_of(&cut)).unwrap();
        assert!(postcard::from_bytes::<Lines>(&encoded).is_err());
        let mut lengthless = lines.bytes.to_vec();
        lengthless.extend_from_slice(&[1, 0]);
        let encoded = postcard::to_allocvec(&serde_bytes_of(&lengthless)).unwrap();
        assert!(postcard::from_bytes::<Lines>(&encoded).is_err());
    }

    /// Bytes serialized the way [`Lines`] serializes its buffer.
    fn serde_bytes_of(bytes: &[u8]) -> Lines {
        Lines {
            bytes: bytes.into(),
            last: 0,
        }
    }
}

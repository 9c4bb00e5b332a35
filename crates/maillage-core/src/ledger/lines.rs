//! A person's parcours as the views keep it: every line encoded end to end in one buffer,
//! not a vector of lines each with a boxed detail and its strings (a national federation
//! keeps millions of lines; this holds one allocation per person instead of several per line).
//!
//! A line's frame: the length of what follows (u32 LE), the HLC (u64 LE), the event id (32
//! bytes), the hub's member index (u32 LE), then the detail (postcard). Frames are sorted by
//! [`Line`]'s order, so a new line that sorts after the last is appended without decoding
//! anything; one that arrives out of order (concurrent records of several hubs) decodes the
//! person's lines, is inserted, and the buffer is written again.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::model::StepDetail;
use crate::ids::EventId;

/// Bytes of a frame before the detail: length, HLC, event id, hub.
const FIXED: usize = 4 + 8 + 32 + 4;

/// One parcours line, decoded ([`super::read`]'s `ParcoursEntry` with the hub by member
/// index, in the same order: member indices follow hub ids).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Line {
    pub(super) hlc: u64,
    pub(super) event: EventId,
    pub(super) hub: u32,
    /// What the step records (its kind is the detail's).
    pub(super) detail: StepDetail,
}

/// A person's lines, sorted, each once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Lines {
    bytes: Vec<u8>,
    /// Where the last frame starts (0 when there is none).
    last: usize,
}

impl Lines {
    /// Adds `line` in its place, unless an equal line is there already.
    pub(super) fn insert(&mut self, line: Line) {
        let after_last = self.bytes.is_empty() || {
            let (hlc, event) = key(&self.bytes[self.last..]);
            (hlc, &event.0) < (line.hlc, &line.event.0)
        };
        if after_last {
            self.push(&line);
            return;
        }
        let mut lines: Vec<Line> = self.iter().collect();
        if let Err(at) = lines.binary_search(&line) {
            lines.insert(at, line);
            *self = Self::default();
            for line in &lines {
                self.push(line);
            }
        }
    }

    /// The lines in order. A detail that does not decode (only a damaged views file that
    /// passed its checksum could hold one) is left out.
    pub(super) fn iter(&self) -> impl Iterator<Item = Line> + '_ {
        Frames(&self.bytes).filter_map(|frame| {
            let (hlc, event) = key(frame);
            let hub = u32::from_le_bytes(frame[44..48].try_into().ok()?);
            let detail = postcard::from_bytes(&frame[FIXED..]).ok()?;
            Some(Line {
                hlc,
                event,
                hub,
                detail,
            })
        })
    }

    fn push(&mut self, line: &Line) {
        // Cannot fail: postcard refuses only sequences of unknown length, and a detail has none.
        let detail = postcard::to_allocvec(&line.detail).unwrap_or_default();
        let body = FIXED - 4 + detail.len();
        // Exact growth: most people have a few lines, and slack would cost more than the
        // reallocations.
        self.bytes.reserve_exact(4 + body);
        self.last = self.bytes.len();
        self.bytes
            .extend_from_slice(&u32::try_from(body).unwrap_or(u32::MAX).to_le_bytes());
        self.bytes.extend_from_slice(&line.hlc.to_le_bytes());
        self.bytes.extend_from_slice(&line.event.0);
        self.bytes.extend_from_slice(&line.hub.to_le_bytes());
        self.bytes.extend_from_slice(&detail);
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

/// The HLC and event id of a frame (at least [`FIXED`] bytes: checked when it was read).
fn key(frame: &[u8]) -> (u64, EventId) {
    let mut hlc = [0; 8];
    hlc.copy_from_slice(&frame[4..12]);
    let mut event = [0; 32];
    event.copy_from_slice(&frame[12..44]);
    (u64::from_le_bytes(hlc), EventId(event))
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
        Ok(Self { bytes, last })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::date::Day;
    use crate::vocab::Service;

    fn line(hlc: u64, event: u8, serial: &str) -> Line {
        Line {
            hlc,
            event: EventId([event; 32]),
            hub: u32::from(event),
            detail: StepDetail::Claimed {
                serial: serial.into(),
                venue_id: "v".into(),
            },
        }
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
                lines.insert(all[i].clone());
                lines.insert(all[i].clone());
            }
            assert_eq!(lines.iter().collect::<Vec<_>>(), all.to_vec());
        }
    }

    #[test]
    fn a_line_with_the_key_of_the_last_but_another_detail_takes_its_place_in_order() {
        let mut lines = Lines::default();
        lines.insert(line(5, 1, "b"));
        lines.insert(line(5, 1, "a"));
        let redeemed = Line {
            detail: StepDetail::Redeemed {
                serial: "s".into(),
                venue_id: "v".into(),
                service: Service::ALL[0],
                date: Day::parse("2026-01-02").unwrap(),
            },
            ..line(3, 4, "x")
        };
        lines.insert(redeemed.clone());
        let got: Vec<Line> = lines.iter().collect();
        assert_eq!(got, vec![redeemed, line(5, 1, "a"), line(5, 1, "b")]);
    }

    #[test]
    fn frames_survive_a_snapshot_and_a_cut_buffer_is_refused() {
        let mut lines = Lines::default();
        lines.insert(line(1, 1, "a"));
        lines.insert(line(2, 2, "b"));
        let bytes = postcard::to_allocvec(&lines).unwrap();
        let back: Lines = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, lines);
        // The last frame is found again: a line after it is appended in place.
        let (mut a, mut b) = (back, lines.clone());
        a.insert(line(3, 3, "c"));
        b.insert(line(3, 3, "c"));
        assert_eq!(a, b);
        let mut cut = lines.bytes.clone();
        cut.pop();
        let encoded = postcard::to_allocvec(&serde_bytes_of(&cut)).unwrap();
        assert!(postcard::from_bytes::<Lines>(&encoded).is_err());
        let mut lengthless = lines.bytes.clone();
        lengthless.extend_from_slice(&[1, 0]);
        let encoded = postcard::to_allocvec(&serde_bytes_of(&lengthless)).unwrap();
        assert!(postcard::from_bytes::<Lines>(&encoded).is_err());
    }

    /// Bytes serialized the way [`Lines`] serializes its buffer.
    fn serde_bytes_of(bytes: &[u8]) -> Lines {
        Lines {
            bytes: bytes.to_vec(),
            last: 0,
        }
    }
}

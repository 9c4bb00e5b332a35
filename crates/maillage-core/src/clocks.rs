//! A feed's clock snapshots ([`crate::causal`]): the vector clock at each event whose deps
//! widened it, kept small. A clock has an entry per member, so a snapshot kept whole costs 800
//! bytes at a hundred members, and a federation takes one every ten events or so. Clocks only
//! grow, and a feed's next snapshot is its previous one raised where its deps' clocks were
//! ahead: each snapshot is kept as the entries it raised, each as two LEB128 varints (the
//! member's index past the previous one raised, how much the entry grew: a byte or two each),
//! every [`WHOLE_EVERY`]-th whole as well, to rebuild the others from, and the latest whole, as
//! the feed's next events start from it.

use std::sync::Arc;

use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Snapshots between two kept whole: a rebuild applies at most this many snapshots' changes.
const WHOLE_EVERY: usize = 16;

/// A feed's snapshots, in seq order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Clocks {
    /// The seq of each snapshot, ascending.
    seqs: Vec<u64>,
    /// Each snapshot's length (the members when it was taken) and where the entries it raised
    /// end in `raised`.
    ends: Vec<(u32, u32)>,
    /// The entries each snapshot raised, end to end: per entry, the member's index past the
    /// one raised before it (from 0) and the growth, as varints.
    raised: Vec<u8>,
    /// Snapshot `k * WHOLE_EVERY`, whole, at `k`.
    whole: Vec<Arc<[u64]>>,
    /// The last snapshot, whole.
    latest: Option<Arc<[u64]>>,
}

impl Clocks {
    /// Adds the snapshot of the event at `seq` (after every earlier one). A clock only grows,
    /// in entries and in length: it is its feed's previous one widened by deps.
    pub(crate) fn push(&mut self, seq: u64, clock: Arc<[u64]>) {
        let before = self.latest.as_deref().unwrap_or(&[]);
        let mut next = 0;
        for (member, s) in clock.iter().enumerate() {
            let old = before.get(member).copied().unwrap_or(0);
            if old != *s {
                put_varint(&mut self.raised, (member - next) as u64);
                put_varint(&mut self.raised, s.wrapping_sub(old));
                next = member + 1;
            }
        }
        self.record(seq, clock.len(), || clock.clone());
        self.latest = Some(clock);
    }

    /// [`Clocks::push`] of a snapshot decoded from `raised` (the entries it raised, which
    /// [`raise`] applied to the previous snapshot to make `clock`), kept as they came; the
    /// caller sets `latest` once the last is pushed.
    fn push_raised(&mut self, seq: u64, clock: &[u64], raised: &[u8]) {
        self.raised.extend_from_slice(raised);
        self.record(seq, clock.len(), || clock.into());
    }

    /// Records the snapshot at `seq`, of `len` entries, whose raised entries end `raised`;
    /// `whole` gives the clock when this snapshot is one kept whole.
    fn record(&mut self, seq: u64, len: usize, whole: impl FnOnce() -> Arc<[u64]>) {
        if self.seqs.len().is_multiple_of(WHOLE_EVERY) {
            self.whole.push(whole());
        }
        self.seqs.push(seq);
        let end = u32::try_from(self.raised.len()).unwrap_or(u32::MAX);
        self.ends.push((len as u32, end));
    }

    /// The clock at the event at `seq`: the last snapshot at or before it.
    pub(crate) fn at(&self, seq: u64) -> Option<Arc<[u64]>> {
        let index = self.seqs.partition_point(|s| *s <= seq).checked_sub(1)?;
        if index + 1 == self.seqs.len() {
            return self.latest.clone();
        }
        let first = index - index % WHOLE_EVERY;
        let mut clock = self.whole.get(first / WHOLE_EVERY)?.to_vec();
        for later in first + 1..=index {
            clock.resize(self.ends[later].0 as usize, 0);
            raise(&mut clock, self.raised_by(later))?;
        }
        Some(clock.into())
    }

    /// Where the entries snapshot `index` raised end.
    fn raised_end(&self, index: usize) -> usize {
        self.ends.get(index).map_or(0, |(_, end)| *end as usize)
    }

    /// The entries snapshot `index` raised, encoded.
    fn raised_by(&self, index: usize) -> &[u8] {
        let start = index.checked_sub(1).map_or(0, |i| self.raised_end(i));
        self.raised
            .get(start..self.raised_end(index))
            .unwrap_or(&[])
    }

    /// Snapshots kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.seqs.len()
    }
}

/// Raises the entries of `clock` that `raised` encodes; `None` if it does not decode or names
/// an entry past the clock's length.
fn raise(clock: &mut [u64], mut raised: &[u8]) -> Option<()> {
    let mut next = 0usize;
    while !raised.is_empty() {
        let member = next.checked_add(usize::try_from(take_varint(&mut raised)?).ok()?)?;
        let growth = take_varint(&mut raised)?;
        let entry = clock.get_mut(member)?;
        *entry = entry.wrapping_add(growth);
        next = member + 1;
    }
    Some(())
}

/// Appends `value` as an LEB128 varint.
fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads an LEB128 varint off the front of `input`.
fn take_varint(input: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (byte, rest) = input.split_first()?;
        *input = rest;
        value |= u64::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Encoded as each snapshot's seq, length and raised entries, in order; decoded by applying
/// them again to one running clock.
impl Serialize for Clocks {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.seqs.len()))?;
        for (index, (at, (len, _))) in self.seqs.iter().zip(&self.ends).enumerate() {
            seq.serialize_element(&(at, len, self.raised_by(index)))?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Clocks {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Snapshots;
        impl<'de> Visitor<'de> for Snapshots {
            type Value = Clocks;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("clock snapshots")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Clocks, A::Error> {
                let mut clocks = Clocks::default();
                // The snapshots' entries are applied to one running clock, in place; only the
                // snapshots kept whole are copied out of it.
                let mut clock: Vec<u64> = Vec::new();
                while let Some((at, len, raised)) = seq.next_element::<(u64, u32, Vec<u8>)>()? {
                    if (len as usize) < clock.len() {
                        return Err(serde::de::Error::custom("a clock snapshot got shorter"));
                    }
                    clock.resize(len as usize, 0);
                    raise(&mut clock, &raised).ok_or_else(|| {
                        serde::de::Error::custom("a clock snapshot's entries do not decode")
                    })?;
                    if clocks.seqs.last().is_some_and(|last| *last >= at) {
                        return Err(serde::de::Error::custom("clock snapshots out of order"));
                    }
                    clocks.push_raised(at, &clock, &raised);
                }
                if !clocks.seqs.is_empty() {
                    clocks.latest = Some(clock.into());
                }
                // Grown by doubling as they were read: no room is needed until the next push.
                clocks.seqs.shrink_to_fit();
                clocks.ends.shrink_to_fit();
                clocks.raised.shrink_to_fit();
                Ok(clocks)
            }
        }
        deserializer.deserialize_seq(Snapshots)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A feed's clocks as a plain list: what `Clocks` must answer.
    fn plain_at(plain: &[(u64, Vec<u64>)], seq: u64) -> Option<Vec<u64>> {
        plain
            .iter()
            .rev()
            .find(|(at, _)| *at <= seq)
            .map(|(_, c)| c.clone())
    }

    #[test]
    fn every_snapshot_is_rebuilt_as_it_was_pushed_and_after_a_round_trip() {
        let mut clocks = Clocks::default();
        let mut plain: Vec<(u64, Vec<u64>)> = Vec::new();
        let mut clock = vec![0u64; 3];
        let mut seq = 0;
        // Seeded steps: a few entries raised at a time, the length growing twice (keys an
        // amendment admitted), gaps between the snapshots' seqs.
        let mut state = 7u64;
        for step in 0..200u64 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seq += 1 + state % 5;
            if step == 40 || step == 130 {
                clock.resize(clock.len() + 2, 0);
            }
            let member = (state >> 33) as usize % clock.len();
            clock[member] += 1 + (state >> 50) % 3;
            if step % 3 == 0 {
                let other = (state >> 20) as usize % clock.len();
                clock[other] += 1;
            }
            clocks.push(seq, clock.clone().into());
            plain.push((seq, clock.clone()));
        }
        let decoded: Clocks =
            postcard::from_bytes(&postcard::to_allocvec(&clocks).unwrap()).unwrap();
        assert_eq!(decoded.len(), 200);
        // Decoded, the same entries, snapshots kept whole and latest as pushed.
        assert_eq!(decoded.raised, clocks.raised);
        assert_eq!(decoded.ends, clocks.ends);
        assert_eq!(decoded.whole, clocks.whole);
        assert_eq!(decoded.latest, clocks.latest);
        for clocks in [&clocks, &decoded] {
            for at in 0..=seq + 2 {
                assert_eq!(
                    clocks.at(at).map(|c| c.to_vec()),
                    plain_at(&plain, at),
                    "at {at}"
                );
            }
        }
        // Far smaller than whole snapshots: two or three bytes an entry raised.
        assert!(
            clocks.raised.len() < 3 * (200 + 67),
            "{}",
            clocks.raised.len()
        );
        assert_eq!(clocks.whole.len(), 200usize.div_ceil(WHOLE_EVERY));
    }

    #[test]
    fn damaged_snapshots_do_not_decode() {
        let raised = |entries: &[(u64, u64)]| {
            let mut bytes = Vec::new();
            for (gap, growth) in entries {
                put_varint(&mut bytes, *gap);
                put_varint(&mut bytes, *growth);
            }
            bytes
        };
        let good = vec![(1u64, 3u32, raised(&[(0, 1), (1, 300)]))];
        let decoded: Clocks = postcard::from_bytes(&postcard::to_allocvec(&good).unwrap()).unwrap();
        assert_eq!(decoded.at(1).unwrap().to_vec(), [1, 0, 300]);
        for bad in [
            // An entry past the clock's length.
            vec![(1u64, 2u32, raised(&[(2, 5)]))],
            // A varint cut short.
            vec![(1, 2, vec![0x80])],
            // A clock that got shorter.
            vec![(1, 3, raised(&[(0, 1)])), (2, 2, vec![])],
            // Seqs out of order.
            vec![(4, 2, raised(&[(0, 1)])), (4, 2, raised(&[(1, 1)]))],
        ] {
            let bytes = postcard::to_allocvec(&bad).unwrap();
            assert!(postcard::from_bytes::<Clocks>(&bytes).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn varints_round_trip_at_their_bounds() {
        for value in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut bytes = Vec::new();
            put_varint(&mut bytes, value);
            let mut input = &bytes[..];
            assert_eq!(take_varint(&mut input), Some(value));
            assert!(input.is_empty());
        }
        // Eleven bytes of continuation: past 64 bits.
        assert_eq!(take_varint(&mut &[0xff; 11][..]), None);
    }
}

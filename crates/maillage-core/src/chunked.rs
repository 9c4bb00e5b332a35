//! Append-only storage in chunks that double in size up to a bound, then stay at it: growing
//! moves at most the last chunk (a doubling vector copies everything at each growth), a small
//! store stays small, and a large one leaves little room unused. The last chunk itself grows
//! by doubling up to its size, so its room is at most what it holds: a node keeps a log per
//! feed, and at a hundred feeds a whole chunk of room each was 100 MB of ids at ten million
//! events.

use serde::{Deserialize, Serialize};

/// Elements in the first chunk; chunk `k` holds `FIRST << k` up to [`LARGEST`].
const FIRST: usize = 64;
/// Doubling chunks before they stop growing.
const DOUBLING: usize = 11;
/// Elements in every chunk after the doubling ones.
const LARGEST: usize = FIRST << (DOUBLING - 1);
/// Elements the doubling chunks hold together.
const DOUBLED: usize = FIRST * ((1 << DOUBLING) - 1);

/// An append-only sequence indexed by `u32`.
#[derive(Debug, Clone)]
pub(crate) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

/// The chunk holding `index` and the offset in it.
fn locate(index: usize) -> (usize, usize) {
    if index >= DOUBLED {
        let past = index - DOUBLED;
        return (DOUBLING + past / LARGEST, past % LARGEST);
    }
    let q = index / FIRST + 1;
    let chunk = (usize::BITS - 1 - q.leading_zeros()) as usize;
    (chunk, index - FIRST * ((1 << chunk) - 1))
}

/// Elements chunk `k` holds.
fn chunk_capacity(k: usize) -> usize {
    if k < DOUBLING { FIRST << k } else { LARGEST }
}

impl<T> Chunked<T> {
    pub(crate) fn len(&self) -> u32 {
        self.len as u32
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn push(&mut self, value: T) {
        let last = self.chunks.len().checked_sub(1).map(chunk_capacity);
        match (self.chunks.last_mut(), last) {
            (Some(chunk), Some(size)) if chunk.len() < size => {
                if chunk.len() == chunk.capacity() {
                    chunk.reserve_exact(chunk.len().clamp(1, size - chunk.len()));
                }
                chunk.push(value);
            }
            _ => {
                let size = chunk_capacity(self.chunks.len());
                let mut chunk = Vec::with_capacity(size.min(FIRST));
                chunk.push(value);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    pub(crate) fn get(&self, index: u32) -> Option<&T> {
        let (chunk, offset) = locate(index as usize);
        self.chunks.get(chunk)?.get(offset)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

impl<T> std::ops::IndexMut<u32> for Chunked<T> {
    fn index_mut(&mut self, index: u32) -> &mut T {
        let (chunk, offset) = locate(index as usize);
        &mut self.chunks[chunk][offset]
    }
}

impl<T> std::ops::Index<u32> for Chunked<T> {
    type Output = T;

    fn index(&self, index: u32) -> &T {
        let (chunk, offset) = locate(index as usize);
        &self.chunks[chunk][offset]
    }
}

/// Encoded as a plain sequence (the same bytes as a `Vec`).
impl<T: Serialize> Serialize for Chunked<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        // The length first: compact encodings need it.
        let mut seq = serializer.serialize_seq(Some(self.len))?;
        for value in self.iter() {
            seq.serialize_element(value)?;
        }
        seq.end()
    }
}

/// Read element by element into the chunks (never into a vector first: the views of a
/// national federation hold tens of millions of elements).
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Chunked<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Elements<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Elements<T> {
            type Value = Chunked<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Chunked<T>, A::Error> {
                let mut all = Chunked::default();
                while let Some(value) = seq.next_element()? {
                    all.push(value);
                }
                Ok(all)
            }
        }
        deserializer.deserialize_seq(Elements(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_across_chunks_like_a_vector() {
        let mut chunked = Chunked::default();
        // Past the doubling chunks, into three of the largest.
        let n = (DOUBLED + 2 * LARGEST + 17) as u32;
        let plain: Vec<u32> = (0..n).collect();
        for v in &plain {
            chunked.push(*v);
            // Room unused: at most what the last chunk holds, never past its size.
            let room: usize = chunked.chunks.iter().map(Vec::capacity).sum::<usize>() - chunked.len;
            let last = chunked.chunks.last().map_or(0, Vec::len);
            assert!(room <= last.max(FIRST), "{room} for {}", chunked.len);
            for (k, chunk) in chunked.chunks.iter().enumerate() {
                assert!(chunk.capacity() <= chunk_capacity(k));
            }
        }
        assert_eq!(chunked.len(), n);
        for (i, v) in plain.iter().enumerate() {
            assert_eq!(chunked[i as u32], *v);
        }
        assert_eq!(chunked.chunks.len(), DOUBLING + 3);
        assert_eq!(chunked.get(n), None);
        assert!(chunked.iter().eq(plain.iter()));
        assert_eq!(
            postcard::to_allocvec(&chunked).ok(),
            postcard::to_allocvec(&plain).ok(),
            "encoded like a Vec"
        );
        let back: Chunked<u32> =
            postcard::from_bytes(&postcard::to_allocvec(&plain).unwrap_or_default())
                .unwrap_or_default();
        assert!(back.iter().eq(plain.iter()));
        // Changed in place, in the first chunk and in the last.
        for i in [0, 63, 64, n - 1] {
            chunked[i] += 1;
            assert_eq!(chunked[i], i + 1);
        }
        assert_eq!(chunked[65], 65);
    }
}

//! Append-only storage in chunks that double in size up to a bound, then stay at it: growing
//! never moves what is stored, so a page is written once (a doubling vector copies everything
//! at each growth), a small store stays small, and a large one leaves at most one chunk's
//! worth of room unused (not up to half of it, as doubling alone would).

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
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < chunk.capacity() => chunk.push(value),
            _ => {
                let mut chunk = Vec::with_capacity(chunk_capacity(self.chunks.len()));
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
            let room: usize = chunked.chunks.iter().map(Vec::capacity).sum();
            assert!(room - chunked.len <= LARGEST, "{room} for {}", chunked.len);
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

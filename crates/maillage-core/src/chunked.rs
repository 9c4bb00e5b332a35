//! Append-only storage in chunks that double in size: growing never moves what is stored, so
//! a page is written once (a doubling vector copies everything at each growth), and a small
//! store stays small.

use serde::{Deserialize, Serialize};

/// Elements in the first chunk; chunk `k` holds `FIRST << k`.
const FIRST: usize = 64;

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
    let q = index / FIRST + 1;
    let chunk = (usize::BITS - 1 - q.leading_zeros()) as usize;
    (chunk, index - FIRST * ((1 << chunk) - 1))
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
                let mut chunk = Vec::with_capacity(FIRST << self.chunks.len());
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

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Chunked<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut all = Self::default();
        for value in Vec::<T>::deserialize(deserializer)? {
            all.push(value);
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_across_chunks_like_a_vector() {
        let mut chunked = Chunked::default();
        let plain: Vec<u32> = (0..10_000).collect();
        for v in &plain {
            chunked.push(*v);
        }
        assert_eq!(chunked.len(), 10_000);
        for (i, v) in plain.iter().enumerate() {
            assert_eq!(chunked[i as u32], *v);
        }
        assert_eq!(chunked.get(10_000), None);
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
    }
}

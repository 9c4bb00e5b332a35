//! A hash map for lookups whose only walk is in key order: its per-process random seed can
//! change no view, digest or snapshot. The rest of the crate keeps to `BTreeMap`.
#![allow(clippy::disallowed_types)]

use std::borrow::Borrow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Lookups in constant time; iteration only through [`LookupMap::sorted`].
#[derive(Clone)]
pub struct LookupMap<K, V>(HashMap<K, V, foldhash::fast::RandomState>);

impl<K, V> Default for LookupMap<K, V> {
    fn default() -> Self {
        Self(HashMap::default())
    }
}

impl<K, V> std::fmt::Debug for LookupMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LookupMap({} entries)", self.0.len())
    }
}

impl<K: Hash + Eq, V> LookupMap<K, V> {
    /// The value of a key.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.get(key)
    }

    /// The value of a key, to change it.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.get_mut(key)
    }

    /// True if the key is present.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.contains_key(key)
    }

    /// Sets a key's value, returning the previous one.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.0.insert(key, value)
    }

    /// The entry of a key.
    pub fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        self.0.entry(key)
    }

    /// Removes a key.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.remove(key)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Room for `additional` more entries.
    pub fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }

    /// Whether some entry satisfies `f`: an answer the map's order cannot change.
    pub fn any(&self, mut f: impl FnMut(&K, &V) -> bool) -> bool {
        self.0.iter().any(|(k, v)| f(k, v))
    }
}

impl<K: Hash + Eq + Ord, V> LookupMap<K, V> {
    /// Every entry, in key order.
    pub fn sorted(&self) -> Vec<(&K, &V)> {
        let mut all: Vec<(&K, &V)> = self.0.iter().collect();
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        all
    }

    /// What `f` makes of each entry it keeps, sorted: like [`Self::sorted`], a result the
    /// map's order cannot change, and cheaper when `f`'s values compare faster than the keys.
    pub fn collect_sorted<'a, T: Ord>(
        &'a self,
        f: impl FnMut((&'a K, &'a V)) -> Option<T>,
    ) -> Vec<T> {
        let mut all: Vec<T> = self.0.iter().filter_map(f).collect();
        all.sort_unstable();
        all
    }
}

impl<K: Hash + Eq, V> FromIterator<(K, V)> for LookupMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// Encoded in key order, so equal maps give equal bytes.
impl<K: Hash + Eq + Ord + Serialize, V: Serialize> Serialize for LookupMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.sorted())
    }
}

impl<'de, K, V> Deserialize<'de> for LookupMap<K, V>
where
    K: Deserialize<'de> + Hash + Eq,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self(HashMap::deserialize(deserializer)?))
    }
}

/// A key whose first bytes are as good as the whole for a hash map (a hash, or random bytes).
pub(crate) trait Prefixed: Hash + Eq + Copy {
    /// The key's first four bytes.
    fn prefix(&self) -> u32;
}

fn first_four(bytes: &[u8]) -> u32 {
    let mut first = [0u8; 4];
    first.copy_from_slice(&bytes[..4]);
    u32::from_le_bytes(first)
}

impl Prefixed for crate::ids::EventId {
    fn prefix(&self) -> u32 {
        first_four(&self.0)
    }
}

impl Prefixed for crate::person::PersonId {
    fn prefix(&self) -> u32 {
        first_four(&self.0)
    }
}

/// Indices into a table that holds each index's key, found by the key's first four bytes: 8
/// bytes an entry instead of the key's 16 or 32 and the index. A hit is confirmed by the key
/// the table holds at that index (`key_at`: the caller's table, which must still hold the key
/// of every index entered); a key whose first four bytes another entered key has already
/// (by chance in a large table, or made so by a member) is kept by whole key.
#[derive(Debug, Clone)]
pub(crate) struct ByPrefix<K> {
    first: LookupMap<u32, u32>,
    clashes: LookupMap<K, u32>,
}

impl<K> Default for ByPrefix<K> {
    fn default() -> Self {
        Self {
            first: LookupMap::default(),
            clashes: LookupMap::default(),
        }
    }
}

impl<K: Prefixed> ByPrefix<K> {
    /// The index entered for `key`.
    pub(crate) fn get(&self, key: &K, key_at: impl Fn(u32) -> Option<K>) -> Option<u32> {
        if let Some(index) = self.clashes.get(key) {
            return Some(*index);
        }
        let index = *self.first.get(&key.prefix())?;
        (key_at(index) == Some(*key)).then_some(index)
    }

    /// Enters `index` for `key`; the index it replaces.
    pub(crate) fn insert(
        &mut self,
        key: K,
        index: u32,
        key_at: impl Fn(u32) -> Option<K>,
    ) -> Option<u32> {
        if let Some(held) = self.clashes.get_mut(&key) {
            return Some(std::mem::replace(held, index));
        }
        match self.first.entry(key.prefix()) {
            Entry::Vacant(entry) => {
                entry.insert(index);
                None
            }
            Entry::Occupied(mut entry) if key_at(*entry.get()) == Some(key) => {
                Some(entry.insert(index))
            }
            Entry::Occupied(_) => self.clashes.insert(key, index),
        }
    }

    /// Takes `key` out; the index it had.
    pub(crate) fn remove(&mut self, key: &K, key_at: impl Fn(u32) -> Option<K>) -> Option<u32> {
        if let Some(index) = self.clashes.remove(key) {
            return Some(index);
        }
        let prefix = key.prefix();
        let index = *self.first.get(&prefix)?;
        if key_at(index) != Some(*key) {
            return None;
        }
        self.first.remove(&prefix)
    }

    /// Keys entered.
    pub(crate) fn len(&self) -> usize {
        self.first.len() + self.clashes.len()
    }

    /// Room for `additional` more keys.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.first.reserve(additional);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_and_encodes_in_key_order() {
        let mut map: LookupMap<u32, &str> = LookupMap::default();
        for (k, v) in [(3, "c"), (1, "a"), (2, "b")] {
            map.insert(k, v);
        }
        let keys: Vec<u32> = map.sorted().into_iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, [1, 2, 3]);
        assert_eq!(
            serde_json::to_string(&map).ok().as_deref(),
            Some(r#"{"1":"a","2":"b","3":"c"}"#)
        );
    }

    #[test]
    fn collects_what_it_keeps_sorted_whatever_the_seed() {
        let mut map: LookupMap<String, u32> = LookupMap::default();
        for (k, v) in [("c", 1), ("a", 2), ("d", 1), ("b", 2), ("e", 3)] {
            map.insert(k.into(), v);
        }
        let kept = map.collect_sorted(|(k, v)| (*v < 3).then_some((*v, k.as_str())));
        assert_eq!(kept, [(1, "c"), (1, "d"), (2, "a"), (2, "b")]);
    }

    /// Keys that share their first four bytes each find their own index, through inserts
    /// that replace, removals in any order and a key entered again.
    #[test]
    fn keys_sharing_a_prefix_are_told_apart_by_the_table() {
        use crate::ids::EventId;
        let key = |last: u8| {
            let mut id = [9u8; 32];
            id[31] = last;
            EventId(id)
        };
        // The caller's table: index → key (a removed key stays in it, as a record does).
        let table: Vec<EventId> = (0..8).map(key).collect();
        let key_at = |i: u32| table.get(i as usize).copied();
        let mut map = ByPrefix::default();
        for i in 0..4u32 {
            assert_eq!(map.insert(key(i as u8), i, key_at), None);
        }
        assert_eq!((map.len(), map.clashes.len()), (4, 3));
        let all = |map: &ByPrefix<EventId>| -> Vec<Option<u32>> {
            (0..6u8).map(|k| map.get(&key(k), key_at)).collect()
        };
        assert_eq!(all(&map), [Some(0), Some(1), Some(2), Some(3), None, None]);
        // Key 5 with index 5: unknown, then entered; key 0's own index replaced (its table
        // entry at the new index names it too: 0 → 0 again is the only such index here).
        assert_eq!(map.remove(&key(5), key_at), None);
        assert_eq!(map.insert(key(5), 5, key_at), None);
        assert_eq!(map.insert(key(0), 0, key_at), Some(0));
        // The key under the prefix goes first; the others are still found.
        assert_eq!(map.remove(&key(0), key_at), Some(0));
        assert_eq!(all(&map), [None, Some(1), Some(2), Some(3), None, Some(5)]);
        assert_eq!(map.remove(&key(2), key_at), Some(2));
        assert_eq!(map.insert(key(4), 4, key_at), None);
        assert_eq!(map.insert(key(0), 0, key_at), None);
        assert_eq!(
            all(&map),
            [Some(0), Some(1), None, Some(3), Some(4), Some(5)]
        );
        assert_eq!(map.len(), 5);
    }
}

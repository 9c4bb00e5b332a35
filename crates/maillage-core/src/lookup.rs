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
}

//! Maps and sets for the handful of entries one person has: roles, devices
//! held, access grants, courses, acceptances. A sorted vector: one small
//! allocation sized to what is there, lookups by binary search, iteration in
//! key order. A `BTreeMap` allocates a node for eleven entries on its first
//! insert, and the estate of a large council holds hundreds of thousands of
//! these, so the difference is most of the cost of folding the log.
//!
//! Serialised exactly as `BTreeMap` and `BTreeSet` are (a JSON object with
//! sorted keys, a sorted array), so snapshots keep their form.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmallMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        SmallMap(Vec::new())
    }
}

impl<K: Ord, V> SmallMap<K, V> {
    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.0.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Inserts or replaces; returns the value replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    /// The value for `key`, inserting the default first if there is none.
    pub fn get_or_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (key, V::default()));
                i
            }
        };
        &mut self.0[i].1
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Serialize, V: Serialize> Serialize for SmallMap<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Deserialize<'de> for SmallMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(SmallMap(BTreeMap::deserialize(d)?.into_iter().collect()))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmallSet<K>(Vec<K>);

impl<K> Default for SmallSet<K> {
    fn default() -> Self {
        SmallSet(Vec::new())
    }
}

impl<K: Ord> SmallSet<K> {
    /// Adds `key`; false if it was already there.
    pub fn insert(&mut self, key: K) -> bool {
        match self.0.binary_search(&key) {
            Ok(_) => false,
            Err(i) => {
                self.0.insert(i, key);
                true
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        match self.0.binary_search_by(|k| k.borrow().cmp(key)) {
            Ok(i) => {
                self.0.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    pub fn contains<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.0.binary_search_by(|k| k.borrow().cmp(key)).is_ok()
    }

    pub fn iter(&self) -> impl Iterator<Item = &K> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Serialize> Serialize for SmallSet<K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(&self.0)
    }
}

impl<'de, K: Deserialize<'de> + Ord> Deserialize<'de> for SmallSet<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(SmallSet(BTreeSet::deserialize(d)?.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_the_btree_it_replaces_and_serialises_the_same() {
        let mut small: SmallMap<String, u32> = SmallMap::default();
        let mut btree: BTreeMap<String, u32> = BTreeMap::new();
        let steps = [("b", 1), ("a", 2), ("c", 3), ("a", 4), ("b", 0)];
        for (k, v) in steps {
            if v == 0 {
                assert_eq!(small.remove(k), btree.remove(k));
            } else {
                assert_eq!(small.insert(k.into(), v), btree.insert(k.into(), v));
            }
            assert_eq!(
                small.iter().collect::<Vec<_>>(),
                btree.iter().collect::<Vec<_>>()
            );
        }
        assert_eq!(
            serde_json::to_string(&small).ok(),
            serde_json::to_string(&btree).ok()
        );
        let back: SmallMap<String, u32> = serde_json::from_str(r#"{"z":1,"a":2}"#).expect("a map");
        assert_eq!(back.keys().collect::<Vec<_>>(), ["a", "z"]);

        let mut set: SmallSet<u8> = SmallSet::default();
        assert!(set.insert(3) && set.insert(1) && !set.insert(3));
        assert!(set.contains(&1) && set.remove(&1) && !set.contains(&1));
        assert_eq!(serde_json::to_string(&set).ok(), Some("[3]".into()));
    }
}

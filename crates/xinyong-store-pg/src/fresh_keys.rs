//! The source keys a batch wrote while loading an item that had no records before it (a first load).
//! Then no key of a chunk can exist in `record_keys` unless this batch wrote it, so the chunk's lookup
//! is needed only for keys seen before in the batch; the rest are new without asking the server.
//!
//! Keys are kept as 64-bit hashes: a collision only costs a lookup that finds nothing. Past
//! [`LIMIT`] keys the set gives up (memory stays bounded) and every chunk is looked up again.
//!
//! ```text
//! begin_batch: item has no records → FreshKeys::first_load()   otherwise → FreshKeys::unknown()
//! each chunk:  keys_to_look_up(keys) → look those up, remember(keys) after writing
//! ```

use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

/// Keys remembered at most (≈ 10–20 bytes each).
const LIMIT: usize = 2_000_000;

#[derive(Debug)]
pub struct FreshKeys {
    /// `None`: the item had records before this batch, or the set gave up.
    seen: Option<HashSet<u64>>,
}

impl FreshKeys {
    /// For an item without records: nothing exists yet.
    pub fn first_load() -> FreshKeys {
        FreshKeys { seen: Some(HashSet::new()) }
    }

    /// For an item with records: every key must be looked up.
    pub fn unknown() -> FreshKeys {
        FreshKeys { seen: None }
    }

    fn hash(key: &str) -> u64 {
        BuildHasherDefault::<DefaultHasher>::default().hash_one(key)
    }

    /// The keys that may exist in `record_keys` (all of them unless this is a first load).
    pub fn keys_to_look_up<'k>(&self, keys: &[&'k str]) -> Vec<&'k str> {
        match &self.seen {
            None => keys.to_vec(),
            Some(seen) => keys.iter().copied().filter(|k| seen.contains(&FreshKeys::hash(k))).collect(),
        }
    }

    /// Notes keys written by the batch.
    pub fn remember<'k>(&mut self, keys: impl IntoIterator<Item = &'k str>) {
        let Some(seen) = &mut self.seen else { return };
        seen.extend(keys.into_iter().map(FreshKeys::hash));
        if seen.len() > LIMIT {
            self.seen = None;
        }
    }

    /// The batch's rows were rolled back: nothing of it exists any more.
    pub fn forget_written(&mut self) {
        if let Some(seen) = &mut self.seen {
            seen.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_load_looks_up_only_keys_it_wrote_before() {
        let mut fresh = FreshKeys::first_load();
        assert!(fresh.keys_to_look_up(&["a", "b"]).is_empty());
        fresh.remember(["a"]);
        assert_eq!(fresh.keys_to_look_up(&["a", "b"]), vec!["a"]);
    }

    #[test]
    fn rolled_back_rows_are_forgotten() {
        let mut fresh = FreshKeys::first_load();
        fresh.remember(["a"]);
        fresh.forget_written();
        assert!(fresh.keys_to_look_up(&["a"]).is_empty());
    }

    #[test]
    fn an_item_with_records_looks_up_every_key() {
        let mut fresh = FreshKeys::unknown();
        fresh.remember(["a"]);
        assert_eq!(fresh.keys_to_look_up(&["a", "b"]), vec!["a", "b"]);
    }
}

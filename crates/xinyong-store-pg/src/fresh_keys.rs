//! Which source keys of a batch may already be in `record_keys`, so that only those are looked up.
//!
//! A batch knows the keys of its item that can exist when the item had no records before it (then only
//! the keys this batch wrote can), or when a first load of the store wrote all of the item's records
//! ([`LoadKeys`]: the keys of every batch the load committed, while no other process's batch committed
//! beside it). Then a chunk's lookup is needed only for keys in that set; the rest are new without
//! asking the server, and a first load can leave `record_keys`' primary key out until its end
//! (`initial_load.rs`). Otherwise every key is looked up.
//!
//! Keys are kept as 64-bit hashes: a collision only costs a lookup that finds nothing. Past [`LIMIT`]
//! keys of one item the set gives up (memory stays bounded) and every chunk is looked up again.
//!
//! ```text
//! begin_batch: the load knows the item's keys → FreshKeys::known(them)
//!              item has no records          → FreshKeys::first_load()   otherwise → FreshKeys::unknown()
//! each chunk:  note_written(keys) → look up the keys it gives back
//! commit:      the load takes the item's keys back (LoadKeys::put_back)
//! ```

use std::hash::BuildHasher;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

/// Keys of one item remembered at most: a set of 8 million hashes takes ~150 MB (a hash table of
/// 2²⁴ slots of 9 bytes). The bench's million-subject load files 7.2 million licences under one item
/// (its peak memory rose by ~95 MB).
const LIMIT: usize = 8_000_000;

#[derive(Debug)]
pub struct FreshKeys {
    /// Hashes of every key the item may have in the store (a superset); `None`: not known, or the set
    /// gave up.
    seen: Option<HashSet<u64>>,
    /// The set began empty: all it holds was written by this batch.
    began_empty: bool,
}

impl FreshKeys {
    /// For an item without records: nothing exists yet.
    pub fn first_load() -> FreshKeys {
        FreshKeys::known(HashSet::new())
    }

    /// For an item with records: every key must be looked up.
    pub fn unknown() -> FreshKeys {
        FreshKeys { seen: None, began_empty: false }
    }

    /// For an item whose every stored key is among `keys` (as [`FreshKeys::hash`]es).
    pub fn known(keys: HashSet<u64>) -> FreshKeys {
        let began_empty = keys.is_empty();
        FreshKeys { seen: Some(keys), began_empty }
    }

    /// The same for every key in the process (the sets outlive a batch; the seed is "xykeys" in
    /// ASCII), and fast: the writer hashes every key of a load, and the set hashes the hash again.
    fn hash(key: &str) -> u64 {
        foldhash::fast::FixedState::with_seed(0x78_79_6b_65_79_73).hash_one(key)
    }

    /// Notes a chunk's distinct `keys` as written, which the batch is about to do, and gives back those
    /// that may exist in `record_keys` already (all of them unless the item's keys are known): one hash
    /// and one probe of the set each. Noted before they are written: a write that fails fails the batch
    /// ([`FreshKeys::forget_written`]), and a key noted but never written costs only a lookup that
    /// finds nothing.
    pub fn note_written<'k>(&mut self, keys: &[&'k str]) -> Vec<&'k str> {
        let Some(seen) = &mut self.seen else { return keys.to_vec() };
        let stored = keys.iter().copied().filter(|k| !seen.insert(FreshKeys::hash(k))).collect();
        if seen.len() > LIMIT {
            self.seen = None;
        }
        stored
    }

    /// The batch's rows were rolled back: what it wrote is gone. A set that held keys of earlier
    /// batches keeps them all (a superset only costs lookups).
    pub fn forget_written(&mut self) {
        if let (Some(seen), true) = (&mut self.seen, self.began_empty) {
            seen.clear();
        }
    }

    /// The set, for the load to keep after the batch commits; `None` if it gave up or was never known.
    pub fn into_known(self) -> Option<HashSet<u64>> {
        self.seen
    }
}

/// The source keys of every item a first load has written, while they are all of the store's keys:
/// from a store without records, through batches of this process only. Each batch takes its item's
/// keys out and gives them back after its commit, with the value of `ingest_commits` that commit took;
/// a batch that finds the sequence elsewhere (another process committed a batch meanwhile), or a batch
/// dropped without its commit (the keys it took are lost with it), ends the tracking for the rest of
/// the load.
#[derive(Debug)]
pub struct LoadKeys {
    /// Per item written: its keys, or `None` when its set gave up.
    items: HashMap<String, Option<HashSet<u64>>>,
    /// `ingest_commits` after our last commit (at the start: when the store was found without records);
    /// `None`: no longer tracking.
    stamp: Option<i64>,
}

impl LoadKeys {
    /// Tracking from a store without records, whose `ingest_commits` stood at `commits`.
    pub fn new(commits: i64) -> LoadKeys {
        LoadKeys { items: HashMap::new(), stamp: Some(commits) }
    }

    /// For a batch of `item` that found `ingest_commits` at `commits` under the ingest lock: what the
    /// load knows of the item's keys, unless the tracking has ended or ends now (`None`).
    pub fn take(&mut self, item: &str, commits: i64) -> Option<FreshKeys> {
        if self.stamp != Some(commits) {
            self.stop();
            return None;
        }
        Some(match self.items.remove(item) {
            None => FreshKeys::first_load(),
            Some(Some(keys)) => FreshKeys::known(keys),
            Some(None) => FreshKeys::unknown(),
        })
    }

    /// After a batch of `item` committed as `commits`: what it knew of the item's keys.
    pub fn put_back(&mut self, item: &str, keys: FreshKeys, commits: i64) {
        if self.stamp.is_some() {
            self.items.insert(item.to_owned(), keys.into_known());
            self.stamp = Some(commits);
        }
    }

    /// Ends the tracking: every later batch of the load looks up as a batch outside a load does.
    pub fn stop(&mut self) {
        self.items = HashMap::new();
        self.stamp = None;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_first_load_looks_up_only_keys_it_wrote_before() {
        let mut fresh = FreshKeys::first_load();
        assert!(fresh.note_written(&["a", "b"]).is_empty());
        assert_eq!(fresh.note_written(&["c", "a"]), vec!["a"]);
        assert_eq!(fresh.note_written(&["c"]), vec!["c"], "noted by the chunk before");
    }

    #[test]
    fn rolled_back_rows_are_forgotten() {
        let mut fresh = FreshKeys::first_load();
        fresh.note_written(&["a"]);
        fresh.forget_written();
        assert!(fresh.note_written(&["a"]).is_empty());
    }

    #[test]
    fn an_item_with_records_looks_up_every_key() {
        let mut fresh = FreshKeys::unknown();
        assert_eq!(fresh.note_written(&["a"]), vec!["a"]);
        assert_eq!(fresh.note_written(&["a", "b"]), vec!["a", "b"]);
    }

    /// The keys of the batches before stay when this batch's rows are rolled back: they are still stored.
    #[test]
    fn known_keys_of_earlier_batches_outlive_a_rollback() {
        let mut fresh = FreshKeys::known(HashSet::from_iter([FreshKeys::hash("a")]));
        assert!(fresh.note_written(&["b"]).is_empty());
        fresh.forget_written();
        assert_eq!(fresh.note_written(&["a", "b", "c"]), vec!["a", "b"]);
    }

    #[test]
    fn a_load_hands_each_item_its_keys_from_batch_to_batch() {
        let mut load = LoadKeys::new(7);
        let mut fresh = load.take("penalty", 7).unwrap();
        assert!(fresh.note_written(&["a"]).is_empty(), "an item the load has not written");
        load.put_back("penalty", fresh, 8);
        assert!(load.take("licence", 8).unwrap().note_written(&["a"]).is_empty(), "keys are per item");
        assert_eq!(load.take("penalty", 8).unwrap().note_written(&["a", "b"]), vec!["a"]);
    }

    /// Another process committed a batch (the sequence moved past our stamp): from then on nothing is
    /// known, for any item.
    #[test]
    fn another_commit_ends_the_tracking() {
        let mut load = LoadKeys::new(7);
        let fresh = load.take("penalty", 7).unwrap();
        load.put_back("penalty", fresh, 8);
        assert!(load.take("licence", 9).is_none());
        assert!(load.take("licence", 8).is_none(), "not even at our own stamp again");
        load.put_back("licence", FreshKeys::first_load(), 9);
        assert!(load.take("licence", 9).is_none(), "a stopped load takes nothing back");
    }

    #[test]
    fn an_item_whose_set_gave_up_is_looked_up_whole() {
        let mut load = LoadKeys::new(1);
        load.take("penalty", 1).unwrap();
        load.put_back("penalty", FreshKeys::unknown(), 2);
        assert_eq!(load.take("penalty", 2).unwrap().note_written(&["a"]), vec!["a"]);
        assert!(load.take("licence", 2).unwrap().note_written(&["a"]).is_empty(), "other items stay known");
    }
}

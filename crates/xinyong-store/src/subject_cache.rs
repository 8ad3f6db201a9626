//! The subjects that batches have resolved, remembered by identifier from one batch to the next, so
//! that a load's later files find their subjects without asking the store. Both stores keep one per
//! process, in front of their indexed lookups.
//!
//! A cache is only as good as what it was checked against: each store stamps it with a version of its
//! subjects after every batch it commits ([`SubjectCache::stamp`]) and, before the next, empties it
//! unless the store's version is still the stamp ([`SubjectCache::check`]), because another process
//! may have created or renamed subjects meanwhile. A batch that rolls back empties it too: the
//! subjects it created are gone with it.
//!
//! A cache can also be **complete**: it holds every subject the store holds. A store marks it so when it
//! finds no subjects at all, under its ingest lock, and stamps it ([`SubjectCache::start_complete`]);
//! whatever empties the cache (a check against another version, a rollback, the limit) ends that. While
//! it lasts, an identifier the cache does not know names a new subject, with no lookup (the
//! PostgreSQL store's first load, `initial_load.rs` there).

use foldhash::HashMap;

use xinyong_domain::ids::Identifier;

/// Subjects remembered; the cache empties when it is full, so memory stays bounded (a million took the
/// embedded store's bench 86 MB more at its peak than 200,000).
///
/// The files of a load name their subjects in no order, so the cache helps only if it holds about as
/// many subjects as the load names: a million-subject load into the embedded store took 231 s with
/// room for 1.1 million and 292 s with room for 200,000 (user CPU 268 s against 305 s), where most
/// rows went to the subject indexes (2026-12-05, one run each, the same machine state; peak memory
/// 793 MB against 661 MB, with keys and names as `String`s).
pub const SUBJECT_CACHE_LIMIT: usize = 1_000_000;

/// An identifier as the cache keys it: its ASCII characters, padded with zeros. Every identifier the
/// domain accepts fits (18 characters at most), with no allocation of its own.
type Key = [u8; 18];

fn cache_key(identifier: &str) -> Option<Key> {
    let bytes = identifier.as_bytes();
    let mut key = [0; 18];
    key.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(key)
}

fn slot(id: &Identifier) -> (usize, Option<Key>) {
    match id {
        Identifier::Uscc(u) => (0, cache_key(u.as_str())),
        Identifier::OrgCode(o) => (1, cache_key(o.as_str())),
        Identifier::ResidentId(r) => (2, cache_key(r.as_str())),
    }
}

/// Subject ids by identifier, one map per kind of identifier (a USCC and a resident ID can share their
/// 18 characters), and the name each subject was last stored under, by subject: a subject renamed
/// under one of its identifiers (a company named by its organisation code in an older file) is known
/// by its new name under every other one too.
pub struct SubjectCache {
    by_kind: [HashMap<Key, i64>; 3],
    names: HashMap<i64, Box<str>>,
    limit: usize,
    /// The store's version of its subjects after our last commit.
    stamp: Option<i64>,
    /// Every subject of the store is in the cache.
    complete: bool,
    /// While complete: by organisation code, the subject of smallest id whose USCC carries it. A store
    /// files a USCC subject under its organisation code too and answers an organisation code with the
    /// smallest such id, so a complete cache must know them to answer the same. At most as many as
    /// the USCCs the cache holds.
    uscc_org_codes: HashMap<Key, i64>,
}

impl Default for SubjectCache {
    fn default() -> Self {
        SubjectCache::with_limit(SUBJECT_CACHE_LIMIT)
    }
}

impl SubjectCache {
    pub fn with_limit(limit: usize) -> SubjectCache {
        SubjectCache {
            by_kind: Default::default(),
            names: HashMap::default(),
            limit,
            stamp: None,
            complete: false,
            uscc_org_codes: HashMap::default(),
        }
    }

    /// The subject and its current name. For an organisation code, a complete cache answers as the
    /// store does: the smallest id of the subjects filed under it.
    pub fn known(&self, id: &Identifier) -> Option<(i64, &str)> {
        let (kind, key) = slot(id);
        let key = key?;
        let filed = self.by_kind[kind].get(&key);
        let of_uscc =
            if self.complete && matches!(id, Identifier::OrgCode(_)) { self.uscc_org_codes.get(&key) } else { None };
        let subject = *filed.into_iter().chain(of_uscc).min()?;
        self.names.get(&subject).map(|name| (subject, &**name))
    }

    /// The subject's id, when it is known under this very name (a new name must be recorded).
    pub fn get(&self, id: &Identifier, name: &str) -> Option<i64> {
        self.known(id).filter(|(_, known)| *known == name).map(|(subject, _)| subject)
    }

    /// Remembers a subject under its current name, which becomes its name under each of its
    /// identifiers. Never empties the cache: see [`SubjectCache::bound`].
    pub fn put(&mut self, id: &Identifier, subject: i64, name: &str) {
        let (kind, Some(key)) = slot(id) else { return };
        self.by_kind[kind].insert(key, subject);
        if self.names.get(&subject).is_none_or(|known| **known != *name) {
            self.names.insert(subject, name.into());
        }
        if let (true, Identifier::Uscc(u)) = (self.complete, id)
            && let Some(org) = cache_key(u.org_code())
        {
            let smallest = self.uscc_org_codes.entry(org).or_insert(subject);
            *smallest = (*smallest).min(subject);
        }
    }

    /// Empties the cache if it holds its limit or more, keeping the stamp: what it held was still valid,
    /// but it is no longer complete.
    pub fn bound(&mut self) {
        if self.len() >= self.limit {
            self.by_kind.iter_mut().for_each(HashMap::clear);
            self.names.clear();
            self.uscc_org_codes.clear();
            self.complete = false;
        }
    }

    pub fn len(&self) -> usize {
        self.by_kind.iter().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets everything, including the version it was valid at.
    pub fn clear(&mut self) {
        self.by_kind.iter_mut().for_each(HashMap::clear);
        self.names.clear();
        self.uscc_org_codes.clear();
        self.stamp = None;
        self.complete = false;
    }

    /// Starts empty and complete at `version`: the store holds no subjects at that version.
    pub fn start_complete(&mut self, version: i64) {
        self.clear();
        self.stamp = Some(version);
        self.complete = true;
    }

    /// Whether every subject of the store is in the cache (see the module's doc).
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Records the store's version of its subjects after a commit of ours.
    pub fn stamp(&mut self, version: i64) {
        self.stamp = Some(version);
    }

    /// Empties the cache unless `version` is the one stamped after our last commit.
    pub fn check(&mut self, version: i64) {
        if self.stamp != Some(version) {
            self.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use xinyong_domain::ids::{OrgCode, Uscc};

    use super::*;

    /// A company's USCC and the organisation code it carries.
    fn uscc_and_org_code() -> (Identifier, Identifier) {
        let code = Uscc::parse("G1610000713522976L").unwrap();
        let org = Identifier::OrgCode(OrgCode::parse(code.org_code()).unwrap());
        (Identifier::Uscc(code), org)
    }

    #[test]
    fn it_keys_each_kind_apart_and_knows_a_subject_only_by_its_last_name() {
        let (uscc, org) = uscc_and_org_code();
        let mut cache = SubjectCache::default();
        cache.put(&uscc, 7, "甲公司");
        assert_eq!(cache.get(&uscc, "甲公司"), Some(7));
        assert_eq!(cache.get(&uscc, "乙公司"), None, "a new name goes to the store");
        assert_eq!(cache.known(&uscc), Some((7, "甲公司")), "the subject is known all the same");
        assert_eq!(cache.get(&org, "甲公司"), None, "the organisation code is another key");
        cache.put(&org, 8, "甲公司");
        cache.put(&uscc, 7, "乙公司");
        assert_eq!((cache.get(&uscc, "乙公司"), cache.get(&org, "甲公司")), (Some(7), Some(8)));
        cache.clear();
        assert_eq!(cache.get(&uscc, "乙公司"), None);
    }

    #[test]
    fn a_subject_renamed_under_one_identifier_has_the_new_name_under_the_others() {
        let (uscc, org) = uscc_and_org_code();
        let mut cache = SubjectCache::default();
        cache.put(&uscc, 7, "甲公司");
        cache.put(&org, 7, "甲公司（旧名）");
        assert_eq!(cache.known(&uscc), Some((7, "甲公司（旧名）")));
        assert_eq!(cache.get(&uscc, "甲公司"), None, "its first name again is a rename");
    }

    #[test]
    fn it_lasts_while_the_store_stays_at_its_stamp() {
        let uscc = Identifier::Uscc(Uscc::parse("G1610000713522976L").unwrap());
        let mut cache = SubjectCache::default();
        cache.put(&uscc, 7, "甲公司");
        cache.check(3);
        assert!(cache.is_empty(), "never stamped: nothing to trust");
        cache.put(&uscc, 7, "甲公司");
        cache.stamp(4);
        cache.check(4);
        assert_eq!(cache.get(&uscc, "甲公司"), Some(7));
        cache.check(5);
        assert!(cache.is_empty(), "another process committed meanwhile");
        cache.put(&uscc, 7, "甲公司");
        cache.check(4);
        assert!(cache.is_empty(), "emptied, the cache forgot its stamp too");
    }

    #[test]
    fn it_empties_only_when_bounded_past_its_limit() {
        let a = Identifier::Uscc(Uscc::parse("G1610000713522976L").unwrap());
        let b = Identifier::Uscc(Uscc::parse("9131011655401835XL").unwrap());
        let mut cache = SubjectCache::with_limit(2);
        cache.put(&a, 1, "甲");
        cache.bound();
        assert_eq!(cache.len(), 1);
        cache.put(&b, 2, "乙");
        assert_eq!(cache.len(), 2, "a put never empties: a caller may still need what it put");
        cache.stamp(9);
        cache.bound();
        assert!(cache.is_empty());
        cache.put(&a, 1, "甲");
        cache.check(9);
        assert_eq!(cache.get(&a, "甲"), Some(1), "bounding keeps the stamp");
    }

    #[test]
    fn a_complete_cache_stays_complete_until_something_empties_it() {
        let a = Identifier::Uscc(Uscc::parse("G1610000713522976L").unwrap());
        let b = Identifier::Uscc(Uscc::parse("9131011655401835XL").unwrap());
        let mut cache = SubjectCache::with_limit(2);
        assert!(!cache.is_complete(), "a new cache knows nothing of the store");
        cache.start_complete(5);
        cache.put(&a, 1, "甲");
        cache.bound();
        cache.check(5);
        assert!(cache.is_complete(), "puts, bounds below the limit and checks at its stamp keep it");
        cache.put(&b, 2, "乙");
        cache.bound();
        assert!(!cache.is_complete(), "emptied at its limit");
        cache.start_complete(6);
        cache.check(7);
        assert!(!cache.is_complete(), "another version: another process's batch came between");
        cache.start_complete(8);
        cache.clear();
        assert!(!cache.is_complete(), "a rolled-back batch empties it");
    }

    #[test]
    fn a_complete_cache_answers_an_organisation_code_with_the_oldest_subject_carrying_it() {
        let (uscc, org) = uscc_and_org_code();
        let mut cache = SubjectCache::default();
        cache.put(&uscc, 7, "甲公司");
        assert_eq!(cache.known(&org), None, "not complete: the store is asked");
        cache.start_complete(1);
        cache.put(&uscc, 7, "甲公司");
        assert_eq!(cache.known(&org), Some((7, "甲公司")));
        cache.put(&uscc, 7, "甲公司（新）");
        assert_eq!(cache.known(&org), Some((7, "甲公司（新）")), "renamed with its USCC");
        cache.put(&org, 9, "乙单位");
        assert_eq!(cache.known(&org), Some((7, "甲公司（新）")), "the smaller id, as the store answers");
        cache.put(&org, 5, "丙单位");
        assert_eq!(cache.known(&org), Some((5, "丙单位")));
    }

    #[test]
    fn a_cache_key_pads_short_identifiers_and_refuses_long_ones() {
        assert_eq!(&cache_key("123456789").unwrap()[..10], b"123456789\0");
        assert_eq!(&cache_key("G1610000713522976L").unwrap(), b"G1610000713522976L");
        assert_eq!(cache_key("G1610000713522976LX"), None);
    }
}

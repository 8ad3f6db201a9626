//! Subject search in the embedded store: by identifier (exact, or a prefix of a USCC) and by any part of
//! two or more characters of a subject's current name.
//!
//! # The name index
//! `subject_names_fts` (migration 0002) is a contentless FTS5 table with one column of character
//! **bigrams** of the name's [`name_key`], computed here and written by the batch that writes the subject
//! ([`index_name`]), in the same transaction.
//!
//! ```text
//! name 上海示例   grams  ␂上 上海 海示 示例        (␂ = U+FDD0, the start marker, + the first character)
//! text 海示       "海示"             a name containing 海示
//! text 海示例     "海示 示例"        a phrase: its tokens must be consecutive, so exactly the substring 海示例
//! text 上海示     "␂上 上海 海示"    a name starting with 上海示
//! ```
//!
//! The rowid is not the bare subject id but [`index_key`]: `length << 41 | subject id << 1 | natural
//! person`. FTS5 returns matches in rowid order, so they arrive already ranked (shorter names first, then
//! by id) and the natural-person filter is arithmetic on the rowid: a page and the total come from the
//! index alone, and only the hits shown are read from `subjects`. Against rowid = id, which needs every
//! candidate's row to rank it, this takes a 2-character query matching 10,000+ names from ~12 ms to ~1 ms
//! at 1 M names. The price: a rename must delete the old key, so [`index_name`] is given the old name.
//!
//! Why this shape (STACK.md, "Chinese name search"):
//! - FTS5's `trigram` tokenizer cannot find 2-character terms, and two characters are the commonest Chinese
//!   query (上海, 示例); `LIKE '%…%'` reads every row.
//! - tantivy (bigrams with positions, a little faster) would be a second index beside the database that CLI
//!   commands and a running server must share and keep in step with commits. Written in the subject's own
//!   transaction, this index shows exactly what is committed, and a rolled-back batch leaves nothing behind.
//! - Tokenizer `ascii`, not `unicode61`: with the bundled SQLite 3.51, `unicode61` treats 1,061 of the
//!   characters Rust counts as letters or digits (combining marks: Hebrew points, Devanagari vowel signs…)
//!   as separators, which would split a bigram; `ascii` makes every non-ASCII character a token character,
//!   so a token is exactly one generated gram whatever Unicode version SQLite's tables know. CJK bigrams are
//!   one token under both.
//! - `contentless_delete=1` (SQLite 3.43+): entries are deleted by rowid alone, no old grams needed.
//!
//! A 1-character text does no name search: it would match a large part of all names. "Shorter" means
//! fewer letters and digits ([`name_len`]), in every rank, so spaces and punctuation do not count.
//!
//! # Cap
//! At most [`MAX_CANDIDATES`] matches are gathered, best rank first (exact identifier, name prefix, name
//! substring, identifier prefix), and `total` counts those. Names arrive ranked, so the cap only cuts the
//! long tail; USCC prefixes arrive in code order and are ranked among the gathered ones. Whoever gets
//! 10,000 matches needs to type more, not page further.
//!
//! # PostgreSQL
//! The scale backend applies the same [`name_key`] and either keeps a bigram table `(gram, subject_id, pos)`
//! queried the same way, or uses `pg_trgm` for 3 or more characters with the bigram table as the
//! 2-character fallback (`pg_trgm` turns a 2-character pattern into a sequential scan, ~100 ms at 1 M rows).

use std::collections::HashSet;

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use xinyong_domain::ids::{self, Identifier, ResidentId};
use xinyong_domain::subject::SubjectKind;
use xinyong_store::search::{MatchRank, SearchHit, SearchPage, SearchQuery, SearchStore};
use xinyong_store::{Result, StoreError};

use crate::{SqliteStore, db_err};

/// The most matches one search gathers (see the module doc).
pub const MAX_CANDIDATES: usize = 10_000;

const MAX_PER_PAGE: u32 = 100;

/// Marks the first character of a name. A Unicode noncharacter (reserved for a program's internal use) is
/// neither a letter nor a digit, so [`name_key`] never lets one through from a name or a query.
const START: char = '\u{FDD0}';

/// The USCC alphabet (GB 32100-2015): digits and capitals without I, O, S, V, Z.
const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// A partial USCC shorter than this is not looked for (4 characters already narrow to a region).
const MIN_ID_PREFIX: usize = 4;

/// Subject ids below 2^40 fit an [`index_key`]; lengths are clamped to 22 bits.
const ID_LIMIT: i64 = 1 << 40;
const LEN_LIMIT: usize = (1 << 22) - 1;

/// Identifier classification rejects resident IDs born after "today". The store reads no clock and the
/// trait passes no date, so the day is far ahead: every birth date passes, and none in the real future
/// can be stored, because ingest checked it against the real date.
fn far_future() -> NaiveDate {
    NaiveDate::from_ymd_opt(2999, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// What a name or a query is compared by: the identifiers' normalisation (`ids::normalize`: NFKC, so
/// full-width forms become half-width; upper case; no whitespace) keeping only letters and digits, so case,
/// width, spaces and punctuation never decide a match.
pub(crate) fn name_key(text: &str) -> Vec<char> {
    ids::normalize(text).chars().filter(|c| c.is_alphanumeric()).collect()
}

/// The length that ranks a name: its letters and digits.
fn name_len(name: &str) -> usize {
    name.chars().filter(|c| c.is_alphanumeric()).count()
}

/// The rowid of a subject's name in the index: ordered by length, then subject id; the lowest bit says
/// whether the subject is a natural person.
fn index_key(subject_id: i64, person: bool, name: &str) -> Result<i64> {
    if !(0..ID_LIMIT).contains(&subject_id) {
        return Err(StoreError::Invalid(format!("subject id {subject_id} is beyond the search index's range")));
    }
    let len = name_len(name).min(LEN_LIMIT) as i64;
    Ok((len << 41) | (subject_id << 1) | i64::from(person))
}

fn subject_of(key: i64) -> i64 {
    (key >> 1) & (ID_LIMIT - 1)
}

/// The indexed text of a name: the start token, then its bigrams, space-separated; a 1-character name is
/// the start token and that character.
fn grams(key: &[char]) -> String {
    let Some(first) = key.first() else { return String::new() };
    let mut out = String::with_capacity(key.len() * 7 + 6);
    out.push(START);
    out.push(*first);
    if key.len() == 1 {
        out.push(' ');
        out.push(*first);
    }
    for pair in key.windows(2) {
        out.push(' ');
        out.extend(pair);
    }
    out
}

/// The FTS5 phrase that matches names containing `key` (of 2 or more characters) or, `at_start`, names
/// beginning with it. Tokens hold only letters, digits and [`START`], so nothing needs quoting.
fn phrase(key: &[char], at_start: bool) -> String {
    let mut out = String::from("\"");
    if let (true, Some(first)) = (at_start, key.first()) {
        out.push(START);
        out.push(*first);
    }
    for pair in key.windows(2) {
        if out.len() > 1 {
            out.push(' ');
        }
        out.extend(pair);
    }
    out.push('"');
    out
}

/// Indexes a subject's current name: called on the batch's connection right after a subject is inserted
/// (`old_name` `None`) or renamed (`old_name` the name it had), so the index commits or rolls back with it.
pub(crate) fn index_name(
    conn: &Connection,
    subject_id: i64,
    kind: SubjectKind,
    old_name: Option<&str>,
    new_name: &str,
) -> Result<()> {
    let person = kind == SubjectKind::NaturalPerson;
    if let Some(old) = old_name {
        // Both person bits: the entry goes even if the kind a caller passes ever changed in between.
        conn.prepare_cached("DELETE FROM subject_names_fts WHERE rowid IN (?1, ?2)")
            .map_err(db_err)?
            .execute([index_key(subject_id, false, old)?, index_key(subject_id, true, old)?])
            .map_err(db_err)?;
    }
    let grams = grams(&name_key(new_name));
    if !grams.is_empty() {
        conn.prepare_cached("INSERT OR REPLACE INTO subject_names_fts (rowid, grams) VALUES (?1, ?2)")
            .map_err(db_err)?
            .execute(params![index_key(subject_id, person, new_name)?, grams])
            .map_err(db_err)?;
    }
    Ok(())
}

fn backfill_pending(conn: &Connection) -> Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'search_index')")
        .map_err(db_err)?
        .query_row([], |r| r.get(0))
        .map_err(db_err)
}

/// The subject ids matched so far, in final order, each under its best rank; at most [`MAX_CANDIDATES`].
#[derive(Default)]
struct Matches {
    seen: HashSet<i64>,
    /// Consecutive runs of one rank each: (rank, ids).
    runs: Vec<(MatchRank, Vec<i64>)>,
    count: usize,
}

impl Matches {
    fn is_full(&self) -> bool {
        self.count >= MAX_CANDIDATES
    }

    /// Appends `ids` (in their order) as `rank`, skipping subjects already matched, until full. Ids past
    /// the cap are not drawn from the iterator.
    fn extend(&mut self, rank: MatchRank, ids: impl Iterator<Item = Result<i64>>) -> Result<()> {
        let mut run = Vec::new();
        for id in ids {
            if self.is_full() {
                break;
            }
            let id = id?;
            if self.seen.insert(id) {
                run.push(id);
                self.count += 1;
            }
        }
        if !run.is_empty() {
            self.runs.push((rank, run));
        }
        Ok(())
    }
}

/// Names containing `key` (2+ characters), or starting with it for [`MatchRank::NamePrefix`]: ranked by
/// the index itself, persons left out by the key's lowest bit unless wanted.
fn name_matches(conn: &Connection, key: &[char], persons: bool, rank: MatchRank, found: &mut Matches) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT rowid FROM subject_names_fts WHERE grams MATCH ?1 AND (?2 OR (rowid & 1) = 0) ORDER BY rowid",
        )
        .map_err(db_err)?;
    let keys = stmt
        .query_map(params![phrase(key, rank == MatchRank::NamePrefix), persons], |r| r.get::<_, i64>(0))
        .map_err(db_err)?;
    found.extend(rank, keys.map(|k| k.map(subject_of).map_err(db_err)))
}

/// The start of a USCC: 4 or more characters, all of its alphabet, found through the `uscc` index as
/// the range from the prefix up to the prefix followed by `Z`, which sorts above every USCC character.
/// Resident IDs are only ever found in full: they are stored as keyed hashes.
fn uscc_prefix(conn: &Connection, text: &str, found: &mut Matches) -> Result<()> {
    let prefix = ids::normalize(text);
    if prefix.chars().count() < MIN_ID_PREFIX || !prefix.chars().all(|c| USCC_ALPHABET.contains(c)) {
        return Ok(());
    }
    let mut stmt =
        conn.prepare_cached("SELECT id FROM subjects WHERE uscc >= ?1 AND uscc < ?2 ORDER BY uscc").map_err(db_err)?;
    let ids = stmt.query_map(params![prefix, format!("{prefix}Z")], |r| r.get::<_, i64>(0)).map_err(db_err)?;
    found.extend(MatchRank::IdPrefix, ids.map(|id| id.map_err(db_err)))
}

/// Orders ids found outside the name index (shorter names first, then id), reading their names.
fn rank_by_name(conn: &Connection, ids: &mut [i64]) -> Result<()> {
    let mut stmt = conn.prepare_cached("SELECT name FROM subjects WHERE id = ?1").map_err(db_err)?;
    let mut keyed = Vec::with_capacity(ids.len());
    for id in ids.iter() {
        let name: String = stmt.query_row([id], |r| r.get(0)).map_err(db_err)?;
        keyed.push((name_len(&name), *id));
    }
    keyed.sort_unstable();
    for (slot, (_, id)) in ids.iter_mut().zip(keyed) {
        *slot = id;
    }
    Ok(())
}

impl SqliteStore {
    /// Indexes the subjects stored before migration 0002, once: the migration cannot compute grams in SQL,
    /// so it leaves a flag that the first search after it clears on the writer.
    fn backfill_search_index(&self) -> Result<()> {
        if !self.read(backfill_pending)? {
            return Ok(());
        }
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_err)?;
            // Another connection may have done it meanwhile.
            if backfill_pending(&tx)? {
                let mut stmt = tx.prepare("SELECT id, kind, name FROM subjects").map_err(db_err)?;
                let mut rows = stmt.query([]).map_err(db_err)?;
                let mut indexed = 0u64;
                while let Some(row) = rows.next().map_err(db_err)? {
                    let (id, kind, name): (i64, String, String) =
                        (row.get(0).map_err(db_err)?, row.get(1).map_err(db_err)?, row.get(2).map_err(db_err)?);
                    index_name(&tx, id, parse_kind(&kind)?, None, &name)?;
                    indexed += 1;
                }
                drop(rows);
                drop(stmt);
                tx.execute("DELETE FROM meta WHERE key = 'search_index'", []).map_err(db_err)?;
                tracing::info!(subjects = indexed, "search index filled for subjects stored before it existed");
            }
            tx.commit().map_err(db_err)
        })
    }

    /// A full identifier: a USCC, an organisation code (every subject carrying it) or a resident ID.
    fn exact_id(&self, conn: &Connection, text: &str, found: &mut Matches) -> Result<()> {
        let Ok(id) = ids::classify(text, far_future()).result else { return Ok(()) };
        let mut ids: Vec<i64> = match id {
            Identifier::Uscc(u) => conn
                .prepare_cached("SELECT id FROM subjects WHERE uscc = ?1")
                .map_err(db_err)?
                .query_row([u.as_str()], |r| r.get(0))
                .optional()
                .map_err(db_err)?
                .into_iter()
                .collect(),
            Identifier::OrgCode(o) => conn
                .prepare_cached("SELECT id FROM subjects WHERE org_code = ?1 LIMIT ?2")
                .map_err(db_err)?
                .query_map(params![o.as_str(), MAX_CANDIDATES as i64], |r| r.get(0))
                .map_err(db_err)?
                .collect::<rusqlite::Result<_>>()
                .map_err(db_err)?,
            Identifier::ResidentId(r) => conn
                .prepare_cached("SELECT id FROM subjects WHERE rid_hash = ?1")
                .map_err(db_err)?
                .query_row([self.vault.lookup_hash(r.as_str())], |r| r.get(0))
                .optional()
                .map_err(db_err)?
                .into_iter()
                .collect(),
        };
        rank_by_name(conn, &mut ids)?;
        found.extend(MatchRank::ExactId, ids.into_iter().map(Ok))
    }

    fn hit(&self, conn: &Connection, id: i64, rank: MatchRank) -> Result<SearchHit> {
        let (kind, name, uscc, sealed): (String, String, Option<String>, Option<Vec<u8>>) = conn
            .prepare_cached("SELECT kind, name, uscc, rid_enc FROM subjects WHERE id = ?1")
            .map_err(db_err)?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(db_err)?;
        let resident_id = sealed.map(|s| self.decrypt_resident_id(&s)).transpose()?;
        Ok(SearchHit { subject_id: id, kind: parse_kind(&kind)?, name, uscc, resident_id, rank })
    }

    fn decrypt_resident_id(&self, sealed: &[u8]) -> Result<ResidentId> {
        let plain = self.vault.decrypt(sealed)?;
        String::from_utf8(plain)
            .ok()
            .and_then(|text| ResidentId::from_stored(&text))
            .ok_or_else(|| StoreError::Corrupt("resident id: malformed".into()))
    }
}

fn parse_kind(kind: &str) -> Result<SubjectKind> {
    SubjectKind::parse(kind).ok_or_else(|| StoreError::Corrupt(format!("subject kind: {kind}")))
}

impl SearchStore for SqliteStore {
    fn search_subjects(&self, query: &SearchQuery) -> Result<SearchPage> {
        self.backfill_search_index()?;
        let per_page = query.per_page.clamp(1, MAX_PER_PAGE) as usize;
        let skip = (query.page.max(1) as usize - 1).saturating_mul(per_page);
        self.read(|conn| {
            let mut found = Matches::default();
            self.exact_id(conn, &query.text, &mut found)?;
            let key = name_key(&query.text);
            if key.len() >= 2 {
                let persons = query.include_natural_persons;
                name_matches(conn, &key, persons, MatchRank::NamePrefix, &mut found)?;
                name_matches(conn, &key, persons, MatchRank::NameSubstring, &mut found)?;
            }
            uscc_prefix(conn, &query.text, &mut found)?;

            let mut hits = Vec::with_capacity(per_page);
            let mut start = 0;
            for (rank, ids) in &mut found.runs {
                let end = start + ids.len();
                if end > skip && hits.len() < per_page {
                    if *rank == MatchRank::IdPrefix {
                        rank_by_name(conn, ids)?;
                    }
                    for id in ids.iter().skip(skip.saturating_sub(start)).take(per_page - hits.len()) {
                        hits.push(self.hit(conn, *id, *rank)?);
                    }
                }
                start = end;
            }
            Ok(SearchPage { hits, total: found.count as u64 })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Vec<char> {
        name_key(s)
    }

    #[test]
    fn a_name_is_indexed_as_a_start_token_and_its_bigrams() {
        assert_eq!(grams(&key("上海示例")), "\u{FDD0}上 上海 海示 示例");
        assert_eq!(grams(&key("示")), "\u{FDD0}示 示");
        assert_eq!(grams(&key("")), "");
    }

    #[test]
    fn width_case_spaces_and_punctuation_do_not_count() {
        assert_eq!(key("ＡＢＣ（上海）有限 公司·"), key("abc上海有限公司"));
        assert_eq!(key("《示例》"), key("示例"));
        assert_eq!(name_len("《示例》 A1"), 4);
    }

    #[test]
    fn a_query_is_a_phrase_of_bigrams_optionally_anchored_at_the_start() {
        assert_eq!(phrase(&key("上海"), false), "\"上海\"");
        assert_eq!(phrase(&key("示例贸易"), false), "\"示例 例贸 贸易\"");
        assert_eq!(phrase(&key("上海"), true), "\"\u{FDD0}上 上海\"");
    }

    #[test]
    fn index_keys_order_by_length_then_id_and_give_the_id_back() {
        let short = index_key(9, false, "示例").unwrap();
        let long = index_key(1, true, "示例公司").unwrap();
        let same_len_later = index_key(10, false, "北京").unwrap();
        assert!(short < same_len_later && same_len_later < long);
        assert_eq!((subject_of(short), subject_of(long)), (9, 1));
        assert_eq!(long & 1, 1);
        assert_eq!(subject_of(index_key(ID_LIMIT - 1, true, &"名".repeat(5000)).unwrap()), ID_LIMIT - 1);
        assert!(index_key(ID_LIMIT, false, "示例").is_err());
    }
}

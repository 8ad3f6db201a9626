//! Subject search in the embedded store: by identifier (exact, or a prefix of a USCC) and by any part of
//! two or more characters of a subject's current name.
//!
//! # The name index
//! `subject_names_fts` (migration 0002) is a contentless FTS5 table with one column of character
//! **bigrams** of the name's [`name_key`], computed here and written by the batch that writes the subject
//! ([`index_name`]), in the same transaction.
//!
//! ```text
//! name 上海示例   grams  ␂上海 上海 海示 示例    (␂ = U+FDD0, a start marker, + the first two characters)
//! text 海示       "海示"                a name containing 海示
//! text 海示例     "海示 示例"           a phrase: its tokens must be consecutive, so exactly the substring 海示例
//! text 上海       "␂上海"               a name starting with 上海
//! text 上海示     "␂上海 上海 海示"     a name starting with 上海示
//! ```
//!
//! The rowid is [`index_key`]: `subject id << 7 | length << 1 | natural person`, the length (letters and
//! digits, capped at 63) and the person flag riding in the low bits. Ranking then needs no table: the
//! matches' rowids alone give their order and the person filter, and only the hits of the page are read
//! from `subjects`. At 1 M names a 2-character query matching 10,000+ names takes ~2.4 ms this way
//! against ~12 ms reading each candidate's row. Keys still grow with the subject id, as FTS5 wants them
//! (a key lower than the last one written flushes its pending terms: length-first keys made loading
//! three times slower). A rename must delete the old key, so [`index_name`] is given the old name.
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
//! fewer letters and digits ([`rank_len`]) in every rank, so spaces and punctuation do not count.
//!
//! # Cap
//! At most [`MAX_CANDIDATES`] matches are gathered, best rank first (exact identifier, name prefix, name
//! substring, identifier prefix), each rank in subject-id (names) or code (USCC prefixes) order, and
//! `total` counts them; "shorter first" orders the gathered ones. Past the cap a page is thus drawn from
//! the 10,000 oldest matches: whoever gets that many needs to type more, not page further.
//!
//! # Shared with PostgreSQL
//! [`name_key`], [`rank_len`], the cap and the paging live in `xinyong_store::search::names`; the
//! PostgreSQL backend indexes the same bigrams (with positions, in a `tsvector`) and ranks alike.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use xinyong_domain::ids::{self, Identifier, ResidentId};
use xinyong_domain::subject::SubjectKind;
use xinyong_store::search::names::{
    Gathered, MAX_CANDIDATES, MAX_RANK_LEN, Match, START, far_future, name_key, rank_len, uscc_prefix,
};
use xinyong_store::search::{MatchRank, SearchHit, SearchPage, SearchQuery, SearchStore};
use xinyong_store::{Result, StoreError};

use crate::{SqliteStore, db_err};

/// [`index_key`] layout: 6 bits of length above the person bit, the subject id above them.
const LEN_BITS: u32 = 6;
const ID_SHIFT: u32 = LEN_BITS + 1;
const ID_LIMIT: i64 = 1 << (63 - ID_SHIFT);
const _: () = assert!(MAX_RANK_LEN == (1 << LEN_BITS) - 1);

/// The rowid of a subject's name in the index (see the module doc).
fn index_key(subject_id: i64, person: bool, name: &str) -> Result<i64> {
    if !(0..ID_LIMIT).contains(&subject_id) {
        return Err(StoreError::Invalid(format!("subject id {subject_id} is beyond the search index's range")));
    }
    Ok((subject_id << ID_SHIFT) | ((rank_len(name) as i64) << 1) | i64::from(person))
}

/// (rank length, subject id) of an index key.
fn decode_key(key: i64) -> (usize, i64) {
    (((key >> 1) & MAX_RANK_LEN as i64) as usize, key >> ID_SHIFT)
}

/// The indexed text of a name: a start token (the marker and the first two characters, or the only one),
/// then its bigrams, space-separated; a 1-character name is the start token and that character.
fn grams(key: &[char]) -> String {
    if key.is_empty() {
        return String::new();
    }
    let mut out = String::with_capacity(key.len() * 7 + 9);
    out.push(START);
    out.extend(key.iter().take(2));
    if let [only] = key {
        out.push(' ');
        out.push(*only);
    }
    for pair in key.windows(2) {
        out.push(' ');
        out.extend(pair);
    }
    out
}

/// The FTS5 phrase that matches names containing `key` (of 2 or more characters) or, `at_start`, names
/// beginning with it: then the start token comes first, and for 2 characters it alone is the query (one
/// doclist read, no positions). Tokens hold only letters, digits and [`START`], so nothing needs quoting.
fn phrase(key: &[char], at_start: bool) -> String {
    let mut tokens: Vec<String> = Vec::with_capacity(key.len());
    if at_start {
        tokens.push(std::iter::once(START).chain(key.iter().take(2).copied()).collect());
        if key.len() == 2 {
            return format!("\"{}\"", tokens.concat());
        }
    }
    tokens.extend(key.windows(2).map(|pair| pair.iter().collect::<String>()));
    format!("\"{}\"", tokens.join(" "))
}

/// Indexes a subject's current name: called on the batch's connection right after a subject is inserted
/// (`old_name` `None`) or renamed (`old_name` the name it had), so the index commits or rolls back with it.
/// Whatever deletes a subject one day must delete its entry too.
pub(crate) fn index_name(
    conn: &Connection,
    subject_id: i64,
    kind: SubjectKind,
    old_name: Option<&str>,
    new_name: &str,
) -> Result<()> {
    if let Some(old) = old_name {
        // Both person bits: the entry goes even if the kind a caller passes ever changed in between.
        conn.prepare_cached("DELETE FROM subject_names_fts WHERE rowid IN (?1, ?2)")
            .map_err(db_err)?
            .execute([index_key(subject_id, false, old)?, index_key(subject_id, true, old)?])
            .map_err(db_err)?;
    }
    let grams = grams(&name_key(new_name));
    if grams.is_empty() {
        return Ok(());
    }
    let key = index_key(subject_id, kind == SubjectKind::NaturalPerson, new_name)?;
    conn.prepare_cached("INSERT INTO subject_names_fts (rowid, grams) VALUES (?1, ?2)")
        .map_err(db_err)?
        .execute(params![key, grams])
        .map_err(db_err)?;
    Ok(())
}

fn backfill_pending(conn: &Connection) -> Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'search_index')")
        .map_err(db_err)?
        .query_row([], |r| r.get(0))
        .map_err(db_err)
}

/// Names containing `key` (2+ characters), or starting with it for [`MatchRank::NamePrefix`]; persons are
/// left out by the key's lowest bit unless wanted.
fn name_matches(conn: &Connection, key: &[char], persons: bool, rank: MatchRank, found: &mut Gathered) -> Result<()> {
    let mut stmt = conn
        .prepare_cached("SELECT rowid FROM subject_names_fts WHERE grams MATCH ?1 AND (?2 OR (rowid & 1) = 0)")
        .map_err(db_err)?;
    let keys = stmt
        .query_map(params![phrase(key, rank == MatchRank::NamePrefix), persons], |r| r.get::<_, i64>(0))
        .map_err(db_err)?;
    found.extend(rank, keys.map(|k| k.map(decode_key).map_err(db_err)))
}

/// The start of a USCC: 4 or more characters, all of its alphabet, found through the `uscc` index as
/// the range from the prefix up to the prefix followed by `Z`, which sorts above every USCC character.
/// Resident IDs are only ever found in full: they are stored as keyed hashes. Lengths are read later,
/// and only if the page reaches this rank.
fn uscc_prefix_matches(conn: &Connection, text: &str, found: &mut Gathered) -> Result<()> {
    let Some(prefix) = uscc_prefix(text) else { return Ok(()) };
    let mut stmt =
        conn.prepare_cached("SELECT id FROM subjects WHERE uscc >= ?1 AND uscc < ?2 ORDER BY uscc").map_err(db_err)?;
    let ids = stmt.query_map(params![prefix, format!("{prefix}Z")], |r| r.get::<_, i64>(0)).map_err(db_err)?;
    found.extend(MatchRank::IdPrefix, ids.map(|id| id.map(|id| (0, id)).map_err(db_err)))
}

/// Fills in the rank lengths of matches found outside the name index, from their names.
fn read_lengths(conn: &Connection, matches: &mut [Match]) -> Result<()> {
    let mut stmt = conn.prepare_cached("SELECT name FROM subjects WHERE id = ?1").map_err(db_err)?;
    for (len, id) in matches.iter_mut() {
        *len = rank_len(&stmt.query_row([*id], |r| r.get::<_, String>(0)).map_err(db_err)?);
    }
    Ok(())
}

impl SqliteStore {
    /// Indexes the subjects stored before migration 0002, once: the migration cannot compute grams in SQL,
    /// so it leaves a flag that the first search after it clears on the writer. Entries written since the
    /// migration are dropped and rewritten with the rest, in id order.
    fn backfill_search_index(&self) -> Result<()> {
        if !self.read(backfill_pending)? {
            return Ok(());
        }
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_err)?;
            // Another connection may have done it meanwhile.
            if backfill_pending(&tx)? {
                tx.execute("INSERT INTO subject_names_fts (subject_names_fts) VALUES ('delete-all')", [])
                    .map_err(db_err)?;
                let mut stmt = tx.prepare("SELECT id, kind, name FROM subjects ORDER BY id").map_err(db_err)?;
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
    fn exact_id(&self, conn: &Connection, text: &str, found: &mut Gathered) -> Result<()> {
        let Ok(id) = ids::classify(text, far_future()).result else { return Ok(()) };
        let ids: Vec<i64> = match id {
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
        found.extend(MatchRank::ExactId, ids.into_iter().map(|id| Ok((0, id))))
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
        self.read(|conn| {
            let mut found = Gathered::default();
            self.exact_id(conn, &query.text, &mut found)?;
            let key = name_key(&query.text);
            if key.len() >= 2 {
                let persons = query.include_natural_persons;
                name_matches(conn, &key, persons, MatchRank::NamePrefix, &mut found)?;
                name_matches(conn, &key, persons, MatchRank::NameSubstring, &mut found)?;
            }
            uscc_prefix_matches(conn, &query.text, &mut found)?;

            let total = found.total();
            let hits = found.page(
                query.page,
                query.per_page,
                |run| read_lengths(conn, run),
                |id, rank| self.hit(conn, id, rank),
            )?;
            Ok(SearchPage { hits, total })
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key(s: &str) -> Vec<char> {
        name_key(s)
    }

    #[test]
    fn a_name_is_indexed_as_a_start_token_and_its_bigrams() {
        assert_eq!(grams(&key("上海示例")), "\u{FDD0}上海 上海 海示 示例");
        assert_eq!(grams(&key("示")), "\u{FDD0}示 示");
        assert_eq!(grams(&key("")), "");
    }

    #[test]
    fn width_case_spaces_and_punctuation_do_not_count() {
        assert_eq!(key("ＡＢＣ（上海）有限 公司·"), key("abc上海有限公司"));
        assert_eq!(key("《示例》"), key("示例"));
        assert_eq!(rank_len("《示例》 A1"), 4);
        assert_eq!(rank_len(&"名".repeat(100)), 63);
    }

    #[test]
    fn a_query_is_a_phrase_of_bigrams_optionally_anchored_at_the_start() {
        assert_eq!(phrase(&key("上海"), false), "\"上海\"");
        assert_eq!(phrase(&key("示例贸易"), false), "\"示例 例贸 贸易\"");
        assert_eq!(phrase(&key("上海"), true), "\"\u{FDD0}上海\"");
        assert_eq!(phrase(&key("上海示"), true), "\"\u{FDD0}上海 上海 海示\"");
    }

    #[test]
    fn index_keys_grow_with_the_id_and_carry_length_and_person() {
        let first = index_key(9, true, "示例公司").unwrap();
        let next = index_key(10, false, "示例").unwrap();
        assert!(first < next);
        assert_eq!((decode_key(first), first & 1), ((4, 9), 1));
        assert_eq!((decode_key(next), next & 1), ((2, 10), 0));
        let last = index_key(ID_LIMIT - 1, true, &"名".repeat(5000)).unwrap();
        assert_eq!(decode_key(last), (63, ID_LIMIT - 1));
        assert!(index_key(ID_LIMIT, false, "示例").is_err());
        assert!(index_key(-1, false, "示例").is_err());
    }
}

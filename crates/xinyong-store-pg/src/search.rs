//! Subject search: by identifier (exact, or a prefix of a USCC) and by any part of two or more
//! characters of a subject's current name, ranked and paged exactly as in the embedded store (the
//! shared part is `xinyong_store::search::names`).
//!
//! # The name index
//! `subjects.grams` is a `tsvector` of the name key's start token (position 1) and its bigrams
//! (positions 2…), written by the batch that writes the subject, in the same transaction; a GIN index
//! finds the candidates and PostgreSQL checks positions, so a phrase of consecutive bigrams is an exact
//! substring match:
//!
//! ```text
//! name 上海示例   grams  '␂上海':1 '上海':2 '海示':3 '示例':4
//! text 海示例     tsquery '海示' <-> '示例'        names containing 海示例
//! text 上海示     tsquery '␂上海' <-> '上海' <-> '海示'   names starting with 上海示
//! ```
//!
//! Why a `tsvector` and not `pg_trgm`: trigrams cannot find two-character terms (a sequential scan,
//! STACK.md), and `pg_trgm` and PostgreSQL's text-search parser classify characters by the
//! database's locale, which may not know CJK; lexemes written as quoted literals are taken as they are.
//! Within a rank, matches are gathered in subject-id order (`ORDER BY id LIMIT`): the planner either
//! walks the primary key and checks each row (a common gram) or reads the GIN postings and sorts (a
//! rare one); custom plans (see `pool.rs`) let it pick per query.

use xinyong_domain::ids::{self, Identifier};
use xinyong_store::search::names::{
    Gathered, MAX_CANDIDATES, Match, bigrams, far_future, name_key, rank_len, start_gram, uscc_prefix,
};
use xinyong_store::search::{MatchRank, SearchHit, SearchPage, SearchQuery, SearchStore};
use xinyong_store::{Result, StoreError};

use crate::PgStore;
use crate::pool::Conn;
use crate::subjects::{decrypt_resident_id, identifier_key, parse_kind};

/// The `tsquery` text matching names that contain `key` (2+ characters) or, `at_start`, begin with it.
fn phrase(key: &[char], at_start: bool) -> String {
    let mut tokens: Vec<String> = Vec::with_capacity(key.len());
    if at_start {
        tokens.extend(start_gram(key));
        if key.len() == 2 {
            return format!("'{}'", tokens.concat());
        }
    }
    tokens.extend(bigrams(key));
    tokens.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(" <-> ")
}

fn capped(found: &Gathered) -> i64 {
    found.wanted().min(2 * MAX_CANDIDATES) as i64
}

fn name_matches(c: &mut Conn, key: &[char], persons: bool, rank: MatchRank, found: &mut Gathered) -> Result<()> {
    if found.is_full() {
        return Ok(());
    }
    let query = phrase(key, rank == MatchRank::NamePrefix);
    let rows = c.query(
        "SELECT id, rank_len FROM subjects
         WHERE grams @@ ($1::text)::tsquery AND ($2 OR kind <> 'natural_person')
         ORDER BY id LIMIT $3",
        &[&query, &persons, &capped(found)],
    )?;
    found.extend(rank, rows.iter().map(|r| Ok((r.get::<_, i16>(1) as usize, r.get::<_, i64>(0)))))
}

/// The start of a USCC, through the ordered identifier keys: the range from the prefix up to the
/// prefix followed by `Z`, which sorts above every USCC character.
fn uscc_prefix_matches(c: &mut Conn, text: &str, found: &mut Gathered) -> Result<()> {
    let Some(prefix) = uscc_prefix(text) else { return Ok(()) };
    if found.is_full() {
        return Ok(());
    }
    let rows = c.query(
        "SELECT subject_id FROM subject_keys WHERE key >= $1 AND key < $2 ORDER BY key LIMIT $3",
        &[&format!("u:{prefix}"), &format!("u:{prefix}Z"), &capped(found)],
    )?;
    found.extend(MatchRank::IdPrefix, rows.iter().map(|r| Ok((0, r.get::<_, i64>(0)))))
}

fn read_lengths(c: &mut Conn, matches: &mut [Match]) -> Result<()> {
    for (len, id) in matches.iter_mut() {
        let row = c.query_one("SELECT name FROM subjects WHERE id = $1", &[&*id])?;
        *len = rank_len(row.get(0));
    }
    Ok(())
}

impl PgStore {
    /// A full identifier: a USCC, an organisation code (every subject carrying it) or a resident ID.
    fn exact_id(&self, c: &mut Conn, text: &str, found: &mut Gathered) -> Result<()> {
        let Ok(id) = ids::classify(text, far_future()).result else { return Ok(()) };
        let key = identifier_key(&self.vault, &id);
        let limit = match id {
            Identifier::OrgCode(_) => MAX_CANDIDATES as i64,
            _ => 1,
        };
        let rows = c.query(
            "SELECT subject_id FROM subject_keys WHERE key = $1 ORDER BY subject_id LIMIT $2",
            &[&key, &limit],
        )?;
        found.extend(MatchRank::ExactId, rows.iter().map(|r| Ok((0, r.get::<_, i64>(0)))))
    }

    fn hit(&self, c: &mut Conn, id: i64, rank: MatchRank) -> Result<SearchHit> {
        let row = c
            .query_opt("SELECT kind, name, uscc, rid_enc FROM subjects WHERE id = $1", &[&id])?
            .ok_or_else(|| StoreError::Corrupt(format!("subject {id} is indexed but missing")))?;
        let resident_id =
            row.get::<_, Option<Vec<u8>>>(3).map(|sealed| decrypt_resident_id(&self.vault, &sealed)).transpose()?;
        Ok(SearchHit {
            subject_id: id,
            kind: parse_kind(row.get(0))?,
            name: row.get(1),
            uscc: row.get(2),
            resident_id,
            rank,
        })
    }
}

impl SearchStore for PgStore {
    fn search_subjects(&self, query: &SearchQuery) -> Result<SearchPage> {
        self.with(|c| {
            let mut found = Gathered::default();
            self.exact_id(c, &query.text, &mut found)?;
            let key = name_key(&query.text);
            if key.len() >= 2 {
                let persons = query.include_natural_persons;
                name_matches(c, &key, persons, MatchRank::NamePrefix, &mut found)?;
                name_matches(c, &key, persons, MatchRank::NameSubstring, &mut found)?;
            }
            uscc_prefix_matches(c, &query.text, &mut found)?;
            let total = found.total();
            // Both closures need the connection; they run one after the other.
            let conn = std::cell::RefCell::new(c);
            let hits = found.page(
                query.page,
                query.per_page,
                |run| read_lengths(&mut conn.borrow_mut(), run),
                |id, rank| self.hit(&mut conn.borrow_mut(), id, rank),
            )?;
            Ok(SearchPage { hits, total })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_a_phrase_of_bigrams_optionally_anchored_at_the_start() {
        let key = |s: &str| name_key(s);
        assert_eq!(phrase(&key("上海"), false), "'上海'");
        assert_eq!(phrase(&key("示例贸易"), false), "'示例' <-> '例贸' <-> '贸易'");
        assert_eq!(phrase(&key("上海"), true), "'\u{FDD0}上海'");
        assert_eq!(phrase(&key("上海示"), true), "'\u{FDD0}上海' <-> '上海' <-> '海示'");
    }
}

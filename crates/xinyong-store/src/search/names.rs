//! What every backend's subject search shares: how names and queries are compared ([`name_key`]), how a
//! name ranks ([`rank_len`]), which text is looked for as a USCC prefix ([`uscc_prefix`]), and how the
//! matches of the ranks are gathered, capped and paged ([`Gathered`]). Only the index differs per backend
//! (SQLite: an FTS5 table of bigrams; PostgreSQL: a `tsvector` of the same bigrams with positions).
//!
//! ```
//! use xinyong_store::search::names::{name_key, rank_len};
//! assert_eq!(name_key("（上海）示例 Ａ1"), "上海示例A1".chars().collect::<Vec<_>>());
//! assert_eq!(rank_len("《示例》 A1"), 4);
//! ```

use std::collections::HashSet;

use chrono::NaiveDate;
use xinyong_domain::ids;

use crate::Result;
use crate::search::MatchRank;

/// The most matches one search gathers: past it a page is drawn from the oldest matches (whoever gets
/// that many needs to type more, not page further).
pub const MAX_CANDIDATES: usize = 10_000;

/// The largest page.
pub const MAX_PER_PAGE: u32 = 100;

/// Marks the start of a name in the indexed grams. A Unicode noncharacter (reserved for a program's
/// internal use) is neither a letter nor a digit, so [`name_key`] never lets one through.
pub const START: char = '\u{FDD0}';

/// The USCC alphabet (GB 32100-2015): digits and capitals without I, O, S, V, Z.
const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// A partial USCC shorter than this is not looked for (4 characters already narrow to a region).
const MIN_ID_PREFIX: usize = 4;

/// Names rank by at most this many letters and digits (longer names rank alike).
pub const MAX_RANK_LEN: usize = 63;

/// Identifier classification rejects resident IDs born after "today". The store reads no clock and the
/// trait passes no date, so the day is far ahead: every birth date passes, and none in the real future
/// can be stored, because ingest checked it against the real date.
pub fn far_future() -> NaiveDate {
    NaiveDate::from_ymd_opt(2999, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// What a name or a query is compared by: the identifiers' normalisation (`ids::normalize`: NFKC, so
/// full-width forms become half-width; upper case; no whitespace) keeping only letters and digits, so
/// case, width, spaces and punctuation never decide a match.
pub fn name_key(text: &str) -> Vec<char> {
    ids::normalize(text).chars().filter(|c| c.is_alphanumeric()).collect()
}

/// The length that ranks a name: its letters and digits, up to [`MAX_RANK_LEN`].
pub fn rank_len(name: &str) -> usize {
    name.chars().filter(|c| c.is_alphanumeric()).take(MAX_RANK_LEN).count()
}

/// The start token of a name key (the marker and its first two characters), or `None` for a key of
/// fewer than two characters, which no search of two or more characters can match.
pub fn start_gram(key: &[char]) -> Option<String> {
    (key.len() >= 2).then(|| std::iter::once(START).chain(key.iter().take(2).copied()).collect())
}

/// The character bigrams of a name key, in order.
pub fn bigrams(key: &[char]) -> impl Iterator<Item = String> + '_ {
    key.windows(2).map(|pair| pair.iter().collect())
}

/// The normalised text when it may be the start of a USCC: 4 or more characters, all of its alphabet.
/// Resident IDs are only ever found in full (they are stored as keyed hashes).
pub fn uscc_prefix(text: &str) -> Option<String> {
    let prefix = ids::normalize(text);
    (prefix.chars().count() >= MIN_ID_PREFIX && prefix.chars().all(|c| USCC_ALPHABET.contains(c))).then_some(prefix)
}

/// A match before ranking: the length that ranks it (0 until known) and the subject id.
pub type Match = (usize, i64);

/// The matches gathered so far, each subject once under its best rank; at most [`MAX_CANDIDATES`].
#[derive(Debug, Default)]
pub struct Gathered {
    seen: HashSet<i64>,
    /// One run per rank, in rank order.
    runs: Vec<(MatchRank, Vec<Match>)>,
    count: usize,
}

impl Gathered {
    pub fn is_full(&self) -> bool {
        self.count >= MAX_CANDIDATES
    }

    /// How many matches a backend must draw from its next source to be sure of filling the cap: the
    /// room left plus the subjects already seen, which it may yield again.
    pub fn wanted(&self) -> usize {
        MAX_CANDIDATES - self.count.min(MAX_CANDIDATES) + self.seen.len()
    }

    /// Every match, counted once.
    pub fn total(&self) -> u64 {
        self.count as u64
    }

    /// Appends `matches` as `rank`, skipping subjects already matched, until full. Matches past the cap
    /// are not drawn from the iterator.
    pub fn extend(&mut self, rank: MatchRank, matches: impl Iterator<Item = Result<Match>>) -> Result<()> {
        let mut run = Vec::new();
        for m in matches {
            if self.is_full() {
                break;
            }
            let m = m?;
            if self.seen.insert(m.1) {
                run.push(m);
                self.count += 1;
            }
        }
        if !run.is_empty() {
            self.runs.push((rank, run));
        }
        Ok(())
    }

    /// The hits of one page: only the runs the page reaches are ranked, shorter names first, then by
    /// id. `lengths` fills in the rank lengths of identifier matches (not known up front); `hit` reads
    /// one hit.
    pub fn page<T>(
        mut self,
        page: u32,
        per_page: u32,
        mut lengths: impl FnMut(&mut [Match]) -> Result<()>,
        mut hit: impl FnMut(i64, MatchRank) -> Result<T>,
    ) -> Result<Vec<T>> {
        let per_page = per_page.clamp(1, MAX_PER_PAGE) as usize;
        let skip = (page.max(1) as usize - 1).saturating_mul(per_page);
        let mut hits = Vec::with_capacity(per_page);
        let mut start = 0;
        for (rank, run) in &mut self.runs {
            let end = start + run.len();
            if end > skip && hits.len() < per_page {
                if matches!(rank, MatchRank::ExactId | MatchRank::IdPrefix) {
                    lengths(run)?;
                }
                run.sort_unstable();
                for (_, id) in run.iter().skip(skip.saturating_sub(start)).take(per_page - hits.len()) {
                    hits.push(hit(*id, *rank)?);
                }
            }
            start = end;
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn width_case_spaces_and_punctuation_do_not_count() {
        assert_eq!(name_key("ＡＢＣ（上海）有限 公司·"), name_key("abc上海有限公司"));
        assert_eq!(name_key("《示例》"), name_key("示例"));
        assert_eq!(rank_len("《示例》 A1"), 4);
        assert_eq!(rank_len(&"名".repeat(100)), 63);
    }

    #[test]
    fn a_name_has_a_start_gram_and_bigrams() {
        let key = name_key("上海示例");
        assert_eq!(start_gram(&key).unwrap(), "\u{FDD0}上海");
        assert_eq!(bigrams(&key).collect::<Vec<_>>(), ["上海", "海示", "示例"]);
        assert_eq!(start_gram(&name_key("示")), None);
    }

    #[test]
    fn only_uscc_characters_of_four_or_more_are_a_prefix() {
        assert_eq!(uscc_prefix("9131 0115").as_deref(), Some("91310115"));
        assert_eq!(uscc_prefix("913"), None);
        assert_eq!(uscc_prefix("9131O"), None);
    }

    #[test]
    fn a_page_ranks_runs_in_order_and_skips_subjects_seen_before() {
        let mut g = Gathered::default();
        g.extend(MatchRank::NamePrefix, [Ok((5, 3)), Ok((2, 9))].into_iter()).unwrap();
        g.extend(MatchRank::NameSubstring, [Ok((5, 3)), Ok((1, 4))].into_iter()).unwrap();
        assert_eq!(g.total(), 3);
        let hits = g.page(1, 2, |_| Ok(()), |id, rank| Ok((id, rank))).unwrap();
        assert_eq!(hits, [(9, MatchRank::NamePrefix), (3, MatchRank::NamePrefix)]);
    }
}

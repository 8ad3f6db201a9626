//! Subject search: by any 2-or-more-character part of a name, or by full or partial identifier.
//!
//! Ranking (CONTRACT.md / issue 3): an exact identifier first, then names starting with the text, then
//! names containing it, then identifiers starting with it; within a rank, shorter names first, then id.
//! Resident IDs are found only in full (they are stored as keyed hashes, never as searchable text).

pub mod names;

use serde::{Deserialize, Serialize};
use xinyong_domain::ids::ResidentId;
use xinyong_domain::subject::SubjectKind;

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// What the user typed (normalised by the store).
    pub text: String,
    /// Include natural persons found by name (callers with full view only); a full resident ID always
    /// finds its person.
    pub include_natural_persons: bool,
    /// 1-based page.
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchRank {
    ExactId,
    NamePrefix,
    NameSubstring,
    IdPrefix,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub subject_id: i64,
    pub kind: SubjectKind,
    pub name: String,
    pub uscc: Option<String>,
    pub resident_id: Option<ResidentId>,
    pub rank: MatchRank,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    /// All matches (capped by the backend at a documented maximum).
    pub total: u64,
}

pub trait SearchStore {
    fn search_subjects(&self, query: &SearchQuery) -> Result<SearchPage>;
}

/// Which published records to list (双公示 and list publication).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedQuery {
    /// Items to include (e.g. every item with `publication = penalty`).
    pub items: Vec<String>,
    /// Only records inside their window on this day.
    pub today: chrono::NaiveDate,
    /// Only records of this unit.
    pub unit: Option<String>,
    /// Decision dates from / to (inclusive).
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

impl PublishedQuery {
    /// Most records a page holds.
    pub const MAX_PER_PAGE: u32 = 100;

    /// The page's size (1 to [`MAX_PER_PAGE`](Self::MAX_PER_PAGE)) and how many records come before
    /// it, counted in 64 bits: a page number far past the list's end must not wrap round to one inside
    /// it.
    pub fn limit_offset(&self) -> (i64, i64) {
        let per_page = i64::from(self.per_page.clamp(1, Self::MAX_PER_PAGE));
        (per_page, i64::from(self.page.max(1) - 1) * per_page)
    }
}

/// Published records, newest decision first: active, `published`, decided by `today`, and with no
/// `public_until` or one after `today`.
pub trait PublicationStore {
    fn published_records(&self, query: &PublishedQuery) -> Result<(Vec<crate::Record>, u64)>;
}

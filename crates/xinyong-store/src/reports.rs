//! Credit reports issued (DOMAIN.md §8): each report's canonical JSON body as issued, so the same
//! report can be fetched again in any format and its number checked on the public verification page;
//! and the count natural persons' free reports are limited by (2 a year, DOMAIN.md §5).

use serde::Serialize;

use crate::{Result, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReport {
    /// The report number printed on it; unique.
    pub number: String,
    pub subject_id: i64,
    /// `standard` or `special`.
    pub kind: String,
    pub issued_at: Timestamp,
    /// The account that asked for it (`None`: the console).
    pub account_id: Option<i64>,
    /// Whom it was issued to, as printed.
    pub issued_to: String,
    /// The purpose code.
    pub purpose: String,
    /// Counts against the subject's free reports (a natural person's own request).
    pub free: bool,
    /// The report's canonical JSON (unsigned).
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredReport {
    pub id: i64,
    pub number: String,
    pub subject_id: i64,
    pub kind: String,
    pub issued_at: Timestamp,
    pub account_id: Option<i64>,
    pub issued_to: String,
    pub purpose: String,
    pub free: bool,
    #[serde(skip)]
    pub body: String,
}

/// A limit on free reports checked in the same transaction as the insert, so that two requests at
/// once cannot both take the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeQuota {
    /// Free reports allowed from `since` on.
    pub limit: u64,
    pub since: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    Stored(StoredReport),
    /// Not stored: the subject already had `used` free reports since the quota's start.
    QuotaUsed {
        used: u64,
    },
}

pub trait ReportStore {
    /// Stores an issued report. With `quota` (only meaningful for `free` reports), refuses when the
    /// subject already has `limit` free reports issued at or after `since`. A conflict when the number
    /// exists.
    fn save_report(&self, new: &NewReport, quota: Option<FreeQuota>) -> Result<Saved>;

    fn report(&self, id: i64) -> Result<Option<StoredReport>>;

    fn report_by_number(&self, number: &str) -> Result<Option<StoredReport>>;

    /// Free reports of the subject issued at or after `since`.
    fn free_reports_since(&self, subject_id: i64, since: Timestamp) -> Result<u64>;
}

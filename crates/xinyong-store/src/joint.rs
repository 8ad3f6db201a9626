//! Joint rewards and punishments (联合奖惩): checks a department runs when it handles a subject's business,
//! the feedback that closes the loop, and the bulk lookups behind checks and batch screening. Which
//! measures apply is `xinyong_domain::measures`; the store keeps what was checked and answered.

use chrono::NaiveDate;
use serde::Serialize;
use xinyong_domain::ids::Identifier;

use crate::{Record, Result, Timestamp};

#[derive(Debug, Clone, PartialEq)]
pub struct NewCheck {
    pub subject_id: i64,
    /// A purpose code (`approval`, `procurement` …).
    pub scenario: String,
    /// The checking (implementing) unit.
    pub unit: String,
    pub account: i64,
    pub at: Timestamp,
    /// What the check answered: measures and the list entries that triggered them.
    pub result: serde_json::Value,
    /// How many measures applied (0: the subject is on no list that matters here).
    pub measures: u32,
}

/// What the department did with the measures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feedback {
    /// `applied`, `partly_applied` or `not_applied`.
    pub outcome: String,
    /// Ids of the measures applied.
    pub applied: Vec<String>,
    pub note: Option<String>,
    pub account: i64,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub id: i64,
    pub subject_id: i64,
    pub scenario: String,
    pub unit: String,
    pub account: i64,
    pub at: Timestamp,
    pub result: serde_json::Value,
    pub measures: u32,
    pub feedback: Option<Feedback>,
}

/// The closed loop per unit and month (the 2018 report's 联合奖惩 tables).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoopStats {
    pub unit: String,
    /// `YYYY-MM`.
    pub month: String,
    pub checks: u64,
    /// Checks where at least one measure applied.
    pub hits: u64,
    pub feedback: u64,
}

/// A subject found by identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRef {
    pub id: i64,
    pub name: String,
}

pub trait JointStore {
    fn record_check(&self, new: &NewCheck) -> Result<Check>;

    fn check(&self, id: i64) -> Result<Option<Check>>;

    /// Closes a check with its feedback; a conflict when it has feedback already.
    fn give_feedback(&self, id: i64, feedback: &Feedback) -> Result<Check>;

    fn loop_stats(&self) -> Result<Vec<LoopStats>>;

    /// The subjects of these identifiers, in the same order (`None`: not on file).
    fn subjects_by_identifiers(&self, ids: &[Identifier]) -> Result<Vec<Option<SubjectRef>>>;

    /// Records of these items about these subjects (list entries), whatever their status.
    fn records_of_items(&self, subject_ids: &[i64], items: &[String]) -> Result<Vec<Record>>;
}

/// Whether a list entry is in force on `today`: active, started, not ended.
pub fn entry_in_force(r: &Record, today: NaiveDate) -> bool {
    r.status == xinyong_domain::record::RecordStatus::Active && r.date <= today && r.end_date.is_none_or(|e| e > today)
}

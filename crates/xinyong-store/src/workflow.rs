//! Workflow cases: objections, repairs and revocations, each a case on one record with an append-only
//! history, a current deadline, what it did to the record, and the notices it sent. The rules (which
//! step is allowed, which deadline follows) are `xinyong_domain::workflow`; the store keeps the cases
//! and applies a step atomically: the status check, the record effect, the history event and the
//! notices commit together or not at all.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use xinyong_domain::record::RecordStatus;

use crate::{Result, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    Objection,
    Repair,
    Revocation,
}

impl CaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Objection => "objection",
            CaseKind::Repair => "repair",
            CaseKind::Revocation => "revocation",
        }
    }

    pub fn parse(s: &str) -> Option<CaseKind> {
        [CaseKind::Objection, CaseKind::Repair, CaseKind::Revocation].into_iter().find(|k| k.as_str() == s)
    }
}

/// A case with its history, oldest event first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    pub id: i64,
    pub kind: CaseKind,
    pub record_id: i64,
    pub subject_id: Option<i64>,
    /// The unit that supplied the record.
    pub unit: String,
    pub status: String,
    /// The current step's deadline; `None` once closed.
    pub deadline: Option<NaiveDate>,
    /// The deadline was counted in a year without an official holiday notice.
    pub deadline_provisional: bool,
    pub open: bool,
    /// What the kind keeps: reason, evidence, eligibility, outcome …
    pub data: serde_json::Value,
    pub opened_by: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub history: Vec<CaseEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseEvent {
    pub seq: u32,
    pub at: Timestamp,
    pub actor: i64,
    pub actor_name: String,
    pub action: String,
    pub from: Option<String>,
    pub to: String,
    pub note: Option<String>,
    /// The deadline set by this step.
    pub deadline: Option<NaiveDate>,
    /// This step was taken after the deadline it answered.
    pub late: bool,
}

/// Who took a step, and what they said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub actor: i64,
    pub actor_name: String,
    pub action: String,
    pub note: Option<String>,
    pub late: bool,
}

/// Where a notice goes: the inbox of a subject's accounts, of a unit's accounts, or the centre's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "key", rename_all = "snake_case")]
pub enum Recipient {
    Subject(i64),
    Unit(String),
    Centre,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub to: Recipient,
    pub title: String,
    pub body: String,
}

/// What a step does to the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordEffect {
    None,
    /// Repaired, revoked, deleted: the record leaves publication and sharing; it stays in history.
    Status(RecordStatus),
    /// A corrected version: the current one moves to the history.
    Revise {
        fields_json: String,
        secret: Option<Vec<u8>>,
        content_hash: Vec<u8>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    pub kind: CaseKind,
    pub record_id: i64,
    pub subject_id: Option<i64>,
    pub unit: String,
    pub status: String,
    pub deadline: Option<NaiveDate>,
    pub deadline_provisional: bool,
    pub open: bool,
    pub data: serde_json::Value,
    pub at: Timestamp,
    pub event: NewEvent,
    pub effect: RecordEffect,
    pub notices: Vec<Notice>,
}

/// One step. Applied only if the case is still in `from` (otherwise [`crate::StoreError::Conflict`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseStep {
    pub case_id: i64,
    pub from: String,
    pub to: String,
    pub deadline: Option<NaiveDate>,
    pub deadline_provisional: bool,
    pub open: bool,
    /// Keys merged into the case's data.
    pub data: serde_json::Map<String, serde_json::Value>,
    pub at: Timestamp,
    pub event: NewEvent,
    pub effect: RecordEffect,
    pub notices: Vec<Notice>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    pub kind: Option<CaseKind>,
    pub status: Option<String>,
    pub open: Option<bool>,
    pub unit: Option<String>,
    pub subject_id: Option<i64>,
    pub record_id: Option<i64>,
    /// Only open cases whose deadline lies before this day.
    pub overdue_on: Option<NaiveDate>,
    pub limit: u32,
    pub offset: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxItem {
    pub id: i64,
    pub case_id: i64,
    pub at: Timestamp,
    pub title: String,
    pub body: String,
}

pub trait WorkflowStore {
    /// Opens a case. An objection or repair while another of the same kind is open on the record is a
    /// conflict.
    fn open_case(&self, new: &NewCase) -> Result<Case>;

    fn case(&self, id: i64) -> Result<Option<Case>>;

    /// Applies a step atomically; a conflict when the case is no longer in `step.from`.
    fn advance_case(&self, step: &CaseStep) -> Result<Case>;

    /// Cases matching the filter, newest first, with the total matching count.
    fn cases(&self, filter: &CaseFilter) -> Result<(Vec<Case>, u64)>;

    /// Of these records, those with an open case of `kind` (objections: the disputed mark).
    fn records_with_open_case(&self, kind: CaseKind, record_ids: &[i64]) -> Result<Vec<i64>>;

    /// Open cases past their deadline on `today`, per kind.
    fn overdue_counts(&self, today: NaiveDate) -> Result<Vec<(CaseKind, u64)>>;

    /// Notices for these recipients, newest first.
    fn inbox(&self, to: &[Recipient], limit: u32, offset: u32) -> Result<Vec<InboxItem>>;

    /// Calendar years an admin loaded (JSON of `xinyong_domain::calendar::YearPlan`), by year.
    fn calendar_years(&self) -> Result<Vec<String>>;

    fn put_calendar_year(&self, year: i32, plan_json: &str, at: Timestamp) -> Result<()>;
}

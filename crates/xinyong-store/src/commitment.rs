//! Credit commitments (信用承诺) as the store keeps them: one row each with an append-only history. The
//! rules are `xinyong_domain::commitment`; the store applies a fulfilment step atomically (a conflict
//! when the commitment is no longer in the status the step started from).

use chrono::NaiveDate;
use serde::Serialize;

use crate::workflow::{CaseEvent, NewEvent};
use crate::{Result, Timestamp};

#[derive(Debug, Clone, PartialEq)]
pub struct NewCommitment {
    pub subject_id: i64,
    /// `xinyong_domain::commitment::CommitmentKind` code.
    pub kind: String,
    /// The matter (事项) the commitment is made in, e.g. the licence applied for.
    pub matter: String,
    /// The accepting unit.
    pub unit: String,
    pub content: String,
    pub date: NaiveDate,
    pub due: NaiveDate,
    pub at: Timestamp,
    pub event: NewEvent,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Commitment {
    pub id: i64,
    pub subject_id: i64,
    pub kind: String,
    pub matter: String,
    pub unit: String,
    pub content: String,
    pub date: NaiveDate,
    pub due: NaiveDate,
    /// `pending`, `fulfilled` or `breached`.
    pub status: String,
    /// The dishonesty record a breach created.
    pub record_id: Option<i64>,
    /// Reasons, the fulfilment date …
    pub data: serde_json::Value,
    pub opened_by: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub history: Vec<CaseEvent>,
}

/// Fulfilment recorded: applied only if the commitment is still in `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitmentStep {
    pub id: i64,
    pub from: String,
    pub to: String,
    /// Keys merged into the commitment's data.
    pub data: serde_json::Map<String, serde_json::Value>,
    pub at: Timestamp,
    pub event: NewEvent,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitmentFilter {
    pub subject_id: Option<i64>,
    pub unit: Option<String>,
    pub status: Option<String>,
    /// Only pending commitments whose due date lies before this day.
    pub overdue_on: Option<NaiveDate>,
    pub limit: u32,
    pub offset: u32,
}

pub trait CommitmentStore {
    fn file_commitment(&self, new: &NewCommitment) -> Result<Commitment>;

    fn commitment(&self, id: i64) -> Result<Option<Commitment>>;

    /// Records fulfilment; a conflict when the commitment is no longer in `step.from`. A breach, which
    /// files a dishonesty record with it, goes through [`crate::BatchWriter::settle_commitment`].
    fn settle_commitment(&self, step: &CommitmentStep) -> Result<Commitment>;

    /// Commitments matching the filter, newest first, with the total matching count.
    fn commitments(&self, filter: &CommitmentFilter) -> Result<(Vec<Commitment>, u64)>;

    /// Pending commitments past their due date on `today`.
    fn overdue_commitments(&self, today: NaiveDate) -> Result<u64>;
}

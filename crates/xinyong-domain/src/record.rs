//! Records: one filed piece of information about a subject under a catalog item, keyed by the item's
//! source-record key, with a version history.

use serde::{Deserialize, Serialize};

/// Where a record stands (CONTRACT.md §4 profile `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Active,
    Repaired,
    Expired,
    Revoked,
    Deleted,
}

impl RecordStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Active => "active",
            RecordStatus::Repaired => "repaired",
            RecordStatus::Expired => "expired",
            RecordStatus::Revoked => "revoked",
            RecordStatus::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<RecordStatus> {
        match s {
            "active" => Some(RecordStatus::Active),
            "repaired" => Some(RecordStatus::Repaired),
            "expired" => Some(RecordStatus::Expired),
            "revoked" => Some(RecordStatus::Revoked),
            "deleted" => Some(RecordStatus::Deleted),
            _ => None,
        }
    }
}

/// What happened to a row's record when its batch committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpsertOutcome {
    Created,
    Updated,
    Unchanged,
}

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::catalog::Severity;
use crate::subject::SubjectClaim;

/// What the store needs of a validated row to link and upsert it, besides its field values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordHead {
    /// The row number the user sees (header = 1).
    pub row: u64,
    /// The item's source-record key (e.g. the decision document number).
    pub source_key: String,
    /// The item's date field (decision date, listing start …).
    pub date: NaiveDate,
    /// The item's end field, when it has one and the row fills it.
    pub end_date: Option<NaiveDate>,
    /// Dishonesty severity: the row's `失信严重程度` when given, else the item's.
    pub severity: Severity,
    /// Whether the record may be shown publicly at all (e.g. a regime may not publish minor penalties).
    pub published: bool,
    /// Publication ends at the start of this day (window maximum, or a list entry's end); `None`: no limit.
    pub public_until: Option<NaiveDate>,
    /// The subject this row is about; `None` when the row is valid but carries no identifier we link
    /// by (e.g. a passport number): it is stored unlinked and lowers the unit's link rate.
    pub subject: Option<SubjectClaim>,
}

/// A validated row with its field values by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordDraft {
    pub head: RecordHead,
    /// Fields that are not personal data, canonical text by field key.
    pub fields: BTreeMap<String, String>,
    /// Personal fields (`masked` in the catalog) in full: encrypted at rest.
    pub secret_fields: BTreeMap<String, String>,
}

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

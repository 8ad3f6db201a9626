//! Types that cross the storage interface.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use xinyong_domain::catalog::Severity;
use xinyong_domain::ids::{Identifier, ResidentId};
use xinyong_domain::record::RecordStatus;
use xinyong_domain::subject::SubjectKind;

/// A moment with its offset (the platform's zone defaults to Asia/Shanghai, +08:00).
pub type Timestamp = DateTime<FixedOffset>;

/// How a caller names a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectKey {
    Id(i64),
    Identifier(Identifier),
}

/// A credit subject as stored. `resident_id` is decrypted: treat it as personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub id: i64,
    pub kind: SubjectKind,
    /// The latest name seen.
    pub name: String,
    /// Every name seen, oldest first.
    pub names: Vec<String>,
    pub uscc: Option<String>,
    pub org_code: Option<String>,
    pub resident_id: Option<ResidentId>,
    pub created_at: Timestamp,
}

/// A record's current version. `fields` holds every field, personal ones decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: i64,
    pub item: String,
    pub item_version: u32,
    pub source_key: String,
    pub subject_id: Option<i64>,
    pub unit: String,
    pub version: u32,
    pub status: RecordStatus,
    pub date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub severity: Severity,
    pub published: bool,
    pub public_until: Option<NaiveDate>,
    pub fields: BTreeMap<String, String>,
    pub batch: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A superseded version of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordVersion {
    pub version: u32,
    pub fields: BTreeMap<String, String>,
    pub batch: String,
    pub superseded_at: Timestamp,
}

/// What a batch is, before its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchMeta {
    pub id: String,
    pub unit: String,
    pub item: String,
    pub item_version: u32,
    pub file_name: Option<String>,
    pub all_or_nothing: bool,
    pub started_at: Timestamp,
}

/// One problem with one row (or, with row 1, the header), as CONTRACT.md §2 shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowIssue {
    pub row: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Rows were stored (possibly with some rejected).
    Committed,
    /// All-or-nothing with a bad row: nothing was stored.
    Rejected,
}

impl BatchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Committed => "committed",
            BatchStatus::Rejected => "rejected",
        }
    }
}

/// The result of a batch: the `ingest --json` object and `GET /batches/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReport {
    pub batch: String,
    pub unit: String,
    pub item: String,
    pub item_version: u32,
    pub status: BatchStatus,
    pub format: String,
    pub encoding: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    pub rows: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Accepted rows linked to a subject.
    pub linked: u64,
    pub errors: Vec<RowIssue>,
    /// Header problems that did not stop the batch (unknown columns).
    pub warnings: Vec<RowIssue>,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
}

/// What installing a catalog changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InstallSummary {
    pub items_added: u32,
    pub items_versioned: u32,
    pub units: u32,
}

/// Rows collected per unit, category and month, and link rate per unit (the 2018 report's figures).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CollectionStats {
    pub subjects: u64,
    pub subjects_by_kind: BTreeMap<String, u64>,
    pub records: u64,
    pub batches: u64,
    pub by_unit: Vec<UnitStats>,
    pub by_category_month: Vec<CategoryMonth>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitStats {
    pub unit: String,
    pub name: String,
    pub batches: u64,
    pub rows: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub linked: u64,
    /// linked / accepted, 0 when nothing was accepted.
    pub link_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryMonth {
    pub category: String,
    /// `YYYY-MM` of collection.
    pub month: String,
    pub unit: String,
    pub accepted: u64,
}

/// A validated row encoded for storage: its public fields as JSON, its personal fields sealed by the
/// vault, and the keyed hash of its whole content. Made on the ingest reader thread, so the writer
/// thread only writes.
#[derive(Debug, Clone)]
pub struct PreparedRecord {
    pub draft: xinyong_domain::record::RecordDraft,
    pub fields_json: String,
    pub secret: Option<Vec<u8>>,
    pub content_hash: Vec<u8>,
}

impl PreparedRecord {
    pub fn new(
        draft: xinyong_domain::record::RecordDraft,
        vault: &crate::vault::Vault,
    ) -> crate::Result<PreparedRecord> {
        let invalid = |e: serde_json::Error| crate::StoreError::Invalid(e.to_string());
        let fields_json = serde_json::to_string(&draft.fields).map_err(invalid)?;
        let secret = if draft.secret_fields.is_empty() {
            None
        } else {
            Some(vault.encrypt(serde_json::to_string(&draft.secret_fields).map_err(invalid)?.as_bytes())?)
        };
        let content_hash = vault.content_hash(canonical_content(&draft).as_bytes());
        Ok(PreparedRecord { draft, fields_json, secret, content_hash })
    }
}

/// The content a record's hash covers: every field, personal ones included, in key order.
fn canonical_content(draft: &xinyong_domain::record::RecordDraft) -> String {
    let mut all: Vec<(&String, &String)> = draft.fields.iter().chain(draft.secret_fields.iter()).collect();
    all.sort();
    let mut out = String::with_capacity(512);
    for (k, v) in all {
        out.push_str(k);
        out.push('\u{1f}');
        out.push_str(v);
        out.push('\u{1e}');
    }
    out
}

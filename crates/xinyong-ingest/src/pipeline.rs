//! The ingest pipeline: read and validate on one thread, write on the caller's, one batch transaction.
//!
//! ```text
//! reader thread:  RowReader → HeaderMap → Validator → chunks of drafts and issues ─┐ bounded channel
//! caller thread:  BatchWriter.write / record_issues ←──────────────────────────────┘ → commit
//! ```
//! The channel is bounded, so memory stays flat whatever the file size. A file that breaks off (a
//! truncated XLSX) or a store error drops the writer, which rolls the whole batch back.

use std::sync::mpsc;

use chrono::NaiveDate;
use xinyong_domain::catalog::Catalog;
use xinyong_domain::disclosure::Regimes;
use xinyong_domain::record::UpsertOutcome;
use xinyong_store::vault::Vault;
use xinyong_store::{BatchMeta, BatchReport, BatchStatus, PreparedRecord, RowIssue, Store, StoreError, Timestamp};

use crate::header::{HeaderError, HeaderMap};
use crate::reader::{FileError, Format, RowReader};
use crate::validate::Validator;

/// Rows per chunk sent from the reader thread to the writer.
const CHUNK: usize = 2048;
/// Errors kept in the report; the store keeps every one.
pub const MAX_REPORTED_ISSUES: usize = 10_000;

/// One batch to load.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    pub batch_id: String,
    pub unit: String,
    pub item: String,
    pub format: Format,
    pub file_name: Option<String>,
    pub all_or_nothing: bool,
    pub now: Timestamp,
    pub today: NaiveDate,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file cannot be read at all, or its header does not fit the item: nothing was stored.
    #[error("{0}")]
    File(String),
    /// The unit may not file this item, or the item is unknown.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<FileError> for IngestError {
    fn from(e: FileError) -> Self {
        IngestError::File(e.message)
    }
}

impl From<HeaderError> for IngestError {
    fn from(e: HeaderError) -> Self {
        IngestError::File(format!("header: {e}"))
    }
}

enum Message {
    Chunk { drafts: Vec<PreparedRecord>, errors: Vec<RowIssue>, warnings: Vec<RowIssue>, rows: u64, bad_rows: u64 },
    Broken(IngestError),
}

/// Checks that `unit` exists and supplies `item` (only catalogued information from its supplier may
/// be collected).
pub fn check_supplier(catalog: &Catalog, unit: &str, item: &str) -> Result<(), IngestError> {
    if catalog.item(item).is_none() {
        return Err(IngestError::Refused(format!("item {item} is not in the catalog")));
    }
    let Some(u) = catalog.units.iter().find(|u| u.code == unit) else {
        return Err(IngestError::Refused(format!("unit {unit} is not registered")));
    };
    if !u.supplies.iter().any(|i| i == item) {
        return Err(IngestError::Refused(format!("unit {unit} does not supply item {item}")));
    }
    Ok(())
}

/// Loads one file as one batch and reports it. The batch is committed (durably) before this returns.
pub fn ingest(
    store: &dyn Store,
    catalog: &Catalog,
    req: &IngestRequest,
    reader: Box<dyn RowReader>,
) -> Result<BatchReport, IngestError> {
    ingest_tracked(store, catalog, req, reader).map(|(report, _)| report)
}

/// [`ingest`], also answering the subjects whose records the batch created or changed, ascending
/// (what an incremental evaluation recomputes).
pub fn ingest_tracked(
    store: &dyn Store,
    catalog: &Catalog,
    req: &IngestRequest,
    mut reader: Box<dyn RowReader>,
) -> Result<(BatchReport, Vec<i64>), IngestError> {
    check_supplier(catalog, &req.unit, &req.item)?;
    let item = catalog.item(&req.item).ok_or_else(|| IngestError::Refused(format!("item {} is unknown", req.item)))?;
    let require_all = req.format != Format::Jsonl;
    let map = HeaderMap::build(item, reader.headers(), require_all)?;
    let encoding = reader.encoding().as_str().to_owned();
    let regimes = Regimes::default_regimes().map_err(|e| IngestError::Refused(e.to_string()))?;
    let validator = Validator::new(item, req.today, &regimes);

    let mut writer = store.begin_batch(BatchMeta {
        id: req.batch_id.clone(),
        unit: req.unit.clone(),
        item: req.item.clone(),
        item_version: item.version,
        file_name: req.file_name.clone(),
        all_or_nothing: req.all_or_nothing,
        started_at: req.now,
    })?;

    let mut report = BatchReport {
        batch: req.batch_id.clone(),
        unit: req.unit.clone(),
        item: req.item.clone(),
        item_version: item.version,
        status: BatchStatus::Committed,
        format: req.format.as_str().to_owned(),
        encoding,
        file_name: req.file_name.clone(),
        rows: 0,
        accepted: 0,
        rejected: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        linked: 0,
        errors: Vec::new(),
        warnings: Vec::new(),
        started_at: req.now,
        finished_at: req.now,
    };
    let mut discarded = false;
    let mut touched = std::collections::BTreeSet::new();

    std::thread::scope(|scope| -> Result<(), IngestError> {
        let (tx, rx) = mpsc::sync_channel::<Message>(4);
        let vault = store.vault();
        scope.spawn(move || read_and_validate(&mut *reader, map, &validator, vault, tx));
        for message in rx {
            let (drafts, errors, warnings, rows, bad_rows) = match message {
                Message::Broken(e) => return Err(e),
                Message::Chunk { drafts, errors, warnings, rows, bad_rows } => {
                    (drafts, errors, warnings, rows, bad_rows)
                }
            };
            report.rows += rows;
            report.rejected += bad_rows;
            if !errors.is_empty() || !warnings.is_empty() {
                writer.record_issues(&errors, &warnings)?;
                keep_some(&mut report.errors, errors);
                keep_some(&mut report.warnings, warnings);
            }
            if req.all_or_nothing && report.rejected > 0 {
                if !discarded {
                    writer.discard_rows()?;
                    discarded = true;
                }
                continue;
            }
            for outcome in writer.write(&drafts)? {
                report.accepted += 1;
                report.linked += u64::from(outcome.linked);
                if outcome.outcome != UpsertOutcome::Unchanged {
                    touched.extend(outcome.subject_id);
                    touched.extend(outcome.previous_subject_id);
                }
                match outcome.outcome {
                    UpsertOutcome::Created => report.created += 1,
                    UpsertOutcome::Updated => report.updated += 1,
                    UpsertOutcome::Unchanged => report.unchanged += 1,
                }
            }
        }
        Ok(())
    })?;

    if discarded {
        report.status = BatchStatus::Rejected;
        report.accepted = 0;
        report.created = 0;
        report.updated = 0;
        report.unchanged = 0;
        report.linked = 0;
        touched.clear();
    }
    writer.commit(&report)?;
    Ok((report, touched.into_iter().collect()))
}

fn keep_some(kept: &mut Vec<RowIssue>, more: Vec<RowIssue>) {
    let room = MAX_REPORTED_ISSUES.saturating_sub(kept.len());
    kept.extend(more.into_iter().take(room));
}

fn read_and_validate(
    reader: &mut dyn RowReader,
    mut map: HeaderMap,
    validator: &Validator<'_>,
    vault: &Vault,
    tx: mpsc::SyncSender<Message>,
) {
    let item = validator.item();
    let mut warnings: Vec<RowIssue> = unknown_columns(&map, 0);
    let mut drafts = Vec::with_capacity(CHUNK);
    let mut errors = Vec::new();
    let (mut rows, mut bad_rows) = (0u64, 0u64);
    loop {
        let next = match reader.next_row() {
            Ok(next) => next,
            Err(e) => {
                let _ = tx.send(Message::Broken(e.into()));
                return;
            }
        };
        let Some(row) = next else { break };
        rows += 1;
        match row {
            Err(e) => {
                bad_rows += 1;
                errors.push(RowIssue { row: e.row, field: None, code: e.code.to_owned(), message: e.message });
            }
            Ok(raw) => {
                if reader.headers().len() > map.columns() {
                    let before = map.columns();
                    if let Err(e) = map.extend(item, reader.headers()) {
                        let _ = tx.send(Message::Broken(e.into()));
                        return;
                    }
                    warnings.extend(unknown_columns(&map, before));
                }
                match validator.validate(&map, raw.row, &raw.cells) {
                    Ok(valid) => match validator.prepare(valid, vault) {
                        Ok(p) => drafts.push(p),
                        Err(e) => {
                            let _ = tx.send(Message::Broken(e.into()));
                            return;
                        }
                    },
                    Err(mut issues) => {
                        bad_rows += 1;
                        errors.append(&mut issues);
                    }
                }
            }
        }
        if drafts.len() + errors.len() >= CHUNK {
            let chunk = Message::Chunk {
                drafts: std::mem::replace(&mut drafts, Vec::with_capacity(CHUNK)),
                errors: std::mem::take(&mut errors),
                warnings: std::mem::take(&mut warnings),
                rows: std::mem::take(&mut rows),
                bad_rows: std::mem::take(&mut bad_rows),
            };
            if tx.send(chunk).is_err() {
                return;
            }
        }
    }
    let _ = tx.send(Message::Chunk { drafts, errors, warnings, rows, bad_rows });
}

fn unknown_columns(map: &HeaderMap, from: usize) -> Vec<RowIssue> {
    map.unknown()
        .iter()
        .filter(|(col, _)| *col >= from)
        .map(|(_, header)| RowIssue {
            row: 1,
            field: Some(header.clone()),
            code: "unknown_column".to_owned(),
            message: format!("column {header:?} is not a field of this item and was ignored"),
        })
        .collect()
}

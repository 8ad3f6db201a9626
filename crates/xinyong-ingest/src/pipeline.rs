//! The ingest pipeline: read and validate on one thread, write on the caller's, one batch transaction
//! per file.
//!
//! ```text
//! reader thread:  file → RowReader → HeaderMap → Validator → chunks of drafts and issues ─┐ bounded
//! caller thread:  begin batch → BatchWriter.write / record_issues → commit ←─────────────┘ channel
//! ```
//! The channel is bounded, so memory stays flat whatever the file size. When several files are loaded
//! in a row ([`ingest_sequence`]), the reader goes on to the next file while the store commits the one
//! before. A file that breaks off (a truncated XLSX) or a store error drops its batch writer, which
//! rolls that whole batch back.

use std::collections::BTreeSet;
use std::sync::mpsc::{self, SyncSender};

use chrono::NaiveDate;
use xinyong_domain::catalog::{Catalog, CatalogItem};
use xinyong_domain::disclosure::Regimes;
use xinyong_domain::record::UpsertOutcome;
use xinyong_domain::value::Cell;
use xinyong_store::vault::Vault;
use xinyong_store::{
    BatchMeta, BatchReport, BatchStatus, BatchWriter, PreparedRecord, RejectedCells, RejectedRow, RowIssue, Store,
    StoreError, Timestamp,
};

use crate::header::{HeaderError, HeaderMap};
use crate::reader::{FileError, Format, RowReader};
use crate::validate::Validator;

/// Rows per chunk sent from the reader thread to the writer. Each chunk costs the store a few
/// statements (on PostgreSQL, round trips while the server waits): with 8,192 rows a 100,000-subject
/// PostgreSQL load took 7–10 % less time than with 2,048, and 16,384 (2 queued) was slower again
/// (`docs/scale.md` §6).
const CHUNK: usize = 8192;
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

/// One file of a [`ingest_sequence`]: its batch request and how to open it. `open` runs on the reader
/// thread, when the file before it has been read.
pub struct Job<'a> {
    pub request: IngestRequest,
    pub open: Box<dyn FnOnce() -> Result<Box<dyn RowReader>, IngestError> + Send + 'a>,
}

/// What one file of a sequence gave: its committed (or rejected) batch and the subjects whose records
/// it created or changed, ascending (what an incremental evaluation recomputes); or why nothing of it
/// was stored.
pub type Outcome = Result<(BatchReport, Vec<i64>), IngestError>;

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
    reader: Box<dyn RowReader>,
) -> Outcome {
    let job = Job { request: req.clone(), open: Box::new(move || Ok(reader)) };
    let mut outcome = None;
    ingest_sequence(store, catalog, std::iter::once(job), |_, result| {
        outcome = Some(result);
        false
    });
    outcome.unwrap_or_else(|| Err(IngestError::File("the file was not read".to_owned())))
}

/// Loads files in order, one batch each. One thread reads and validates file after file while the
/// caller's thread writes and commits them, so the next file is being read while the store commits
/// the one before. `done` gets each file's outcome, in order, once its batch is committed or dropped,
/// and answers whether to go on; the files after a `false` are not stored.
pub fn ingest_sequence<'a>(
    store: &dyn Store,
    catalog: &Catalog,
    jobs: impl Iterator<Item = Job<'a>> + Send,
    mut done: impl FnMut(&IngestRequest, Outcome) -> bool,
) {
    let regimes = match Regimes::default_regimes() {
        Ok(r) => r,
        Err(e) => {
            // No file can be validated; each is answered with the same refusal.
            for job in jobs {
                if !done(&job.request, Err(IngestError::Refused(e.to_string()))) {
                    return;
                }
            }
            return;
        }
    };
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Message>(QUEUE);
        let vault = store.vault();
        let regimes = &regimes;
        scope.spawn(move || {
            for job in jobs {
                if !read_job(job, catalog, regimes, vault, &tx) {
                    return;
                }
            }
        });
        let mut current: Option<Loading<'_>> = None;
        for message in rx {
            let finished = match message {
                Message::Failed { request, error } => Some((request, Err(error))),
                Message::Start { request, item_version, encoding } => {
                    match store.begin_batch(batch_meta(&request, item_version)) {
                        Ok(writer) => {
                            current = Some(Loading::new(request, writer, item_version, encoding));
                            None
                        }
                        Err(e) => Some((request, Err(e.into()))),
                    }
                }
                // Chunks of a file whose batch could not begin are dropped with it.
                Message::Chunk(chunk) => match current.as_mut().map(|l| l.take(chunk)) {
                    Some(Err(e)) => current.take().map(|l| (l.request, Err(e))),
                    _ => None,
                },
                Message::Broken(e) => current.take().map(|l| (l.request, Err(e))),
                Message::End => current.take().map(Loading::commit),
            };
            if let Some((request, outcome)) = finished
                && !done(&request, outcome)
            {
                // Dropping the receiver stops the reader at its next chunk; an open batch rolls back.
                return;
            }
        }
    });
}

/// Chunks the reader may run ahead of the writer: enough to read on through a large batch's commit
/// (32,768 rows; 8 chunks gained another ~2 % on PostgreSQL for 40 MB more memory).
const QUEUE: usize = 4;

enum Message {
    /// The next file's header fits its item: begin its batch.
    Start {
        request: IngestRequest,
        item_version: u32,
        encoding: String,
    },
    Chunk(Chunk),
    /// The file has been read to its end: commit its batch.
    End,
    /// The file broke off after it started: its batch is dropped.
    Broken(IngestError),
    /// The file could not be opened or its header does not fit: nothing of it is stored.
    Failed {
        request: IngestRequest,
        error: IngestError,
    },
}

struct Chunk {
    drafts: Vec<PreparedRecord>,
    errors: Vec<RowIssue>,
    /// The cells of the rows rejected by validation, sealed.
    rejected: Vec<RejectedRow>,
    warnings: Vec<RowIssue>,
    rows: u64,
    bad_rows: u64,
}

fn batch_meta(request: &IngestRequest, item_version: u32) -> BatchMeta {
    BatchMeta {
        id: request.batch_id.clone(),
        unit: request.unit.clone(),
        item: request.item.clone(),
        item_version,
        file_name: request.file_name.clone(),
        all_or_nothing: request.all_or_nothing,
        started_at: request.now,
    }
}

/// The batch of the file being written, on the caller's thread.
struct Loading<'s> {
    request: IngestRequest,
    writer: Box<dyn BatchWriter + 's>,
    report: BatchReport,
    discarded: bool,
    touched: BTreeSet<i64>,
}

impl<'s> Loading<'s> {
    fn new(request: IngestRequest, writer: Box<dyn BatchWriter + 's>, item_version: u32, encoding: String) -> Self {
        let report = BatchReport {
            batch: request.batch_id.clone(),
            unit: request.unit.clone(),
            item: request.item.clone(),
            item_version,
            status: BatchStatus::Committed,
            format: request.format.as_str().to_owned(),
            encoding,
            file_name: request.file_name.clone(),
            rows: 0,
            accepted: 0,
            rejected: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            linked: 0,
            errors: Vec::new(),
            warnings: Vec::new(),
            started_at: request.now,
            finished_at: request.now,
        };
        Loading { request, writer, report, discarded: false, touched: BTreeSet::new() }
    }

    fn take(&mut self, chunk: Chunk) -> Result<(), IngestError> {
        let Chunk { drafts, errors, rejected, warnings, rows, bad_rows } = chunk;
        let report = &mut self.report;
        report.rows += rows;
        report.rejected += bad_rows;
        if !errors.is_empty() || !warnings.is_empty() {
            self.writer.record_issues(&errors, &warnings)?;
            self.writer.record_rejected_rows(&rejected)?;
            keep_some(&mut report.errors, errors);
            keep_some(&mut report.warnings, warnings);
        }
        if self.request.all_or_nothing && report.rejected > 0 {
            if !self.discarded {
                self.writer.discard_rows()?;
                self.discarded = true;
            }
            return Ok(());
        }
        for outcome in self.writer.write(&drafts)? {
            report.accepted += 1;
            report.linked += u64::from(outcome.linked);
            if outcome.outcome != UpsertOutcome::Unchanged {
                self.touched.extend(outcome.subject_id);
                self.touched.extend(outcome.previous_subject_id);
            }
            match outcome.outcome {
                UpsertOutcome::Created => report.created += 1,
                UpsertOutcome::Updated => report.updated += 1,
                UpsertOutcome::Unchanged => report.unchanged += 1,
            }
        }
        Ok(())
    }

    fn commit(self) -> (IngestRequest, Outcome) {
        let Loading { request, writer, mut report, discarded, mut touched } = self;
        if discarded {
            report.status = BatchStatus::Rejected;
            report.accepted = 0;
            report.created = 0;
            report.updated = 0;
            report.unchanged = 0;
            report.linked = 0;
            touched.clear();
        }
        match writer.commit(&report) {
            Ok(()) => (request, Ok((report, touched.into_iter().collect()))),
            Err(e) => (request, Err(e.into())),
        }
    }
}

fn keep_some(kept: &mut Vec<RowIssue>, more: Vec<RowIssue>) {
    let room = MAX_REPORTED_ISSUES.saturating_sub(kept.len());
    kept.extend(more.into_iter().take(room));
}

/// Reads and validates one file on the reader thread, sending its messages; answers whether the writer
/// is still listening.
fn read_job(job: Job<'_>, catalog: &Catalog, regimes: &Regimes, vault: &Vault, tx: &SyncSender<Message>) -> bool {
    let Job { request, open } = job;
    let opened = check_supplier(catalog, &request.unit, &request.item).and_then(|()| {
        let item = catalog
            .item(&request.item)
            .ok_or_else(|| IngestError::Refused(format!("item {} is unknown", request.item)))?;
        let reader = open()?;
        let map = HeaderMap::build(item, reader.headers(), request.format != Format::Jsonl)?;
        Ok((item, reader, map))
    });
    let (item, mut reader, map) = match opened {
        Ok(opened) => opened,
        Err(error) => return tx.send(Message::Failed { request, error }).is_ok(),
    };
    let validator = Validator::new(item, request.today, regimes);
    let encoding = reader.encoding().as_str().to_owned();
    if tx.send(Message::Start { request, item_version: item.version, encoding }).is_err() {
        return false;
    }
    match read_rows(&mut *reader, map, &validator, vault, tx) {
        Ok(true) => tx.send(Message::End).is_ok(),
        Ok(false) => false,
        Err(e) => tx.send(Message::Broken(e)).is_ok(),
    }
}

/// Sends the rows of a file in chunks; `Ok(false)` when the writer stopped listening.
fn read_rows(
    reader: &mut dyn RowReader,
    mut map: HeaderMap,
    validator: &Validator<'_>,
    vault: &Vault,
    tx: &SyncSender<Message>,
) -> Result<bool, IngestError> {
    let item = validator.item();
    let mut chunk = Chunk {
        drafts: Vec::with_capacity(CHUNK),
        errors: Vec::new(),
        rejected: Vec::new(),
        warnings: unknown_columns(&map, 0),
        rows: 0,
        bad_rows: 0,
    };
    while let Some(row) = reader.next_row()? {
        chunk.rows += 1;
        match row {
            Err(e) => {
                chunk.bad_rows += 1;
                chunk.errors.push(RowIssue { row: e.row, field: None, code: e.code.to_owned(), message: e.message });
            }
            Ok(raw) => {
                if reader.headers().len() > map.columns() {
                    let before = map.columns();
                    map.extend(item, reader.headers())?;
                    chunk.warnings.extend(unknown_columns(&map, before));
                }
                match validator.validate(&map, raw.row, &raw.cells) {
                    Ok(valid) => chunk.drafts.push(validator.prepare(valid, vault)?),
                    Err(mut issues) => {
                        chunk.bad_rows += 1;
                        chunk.errors.append(&mut issues);
                        chunk
                            .rejected
                            .push(rejected_cells(item, &map, reader.headers(), &raw.cells).seal(raw.row, vault)?);
                    }
                }
            }
        }
        if chunk.drafts.len() + chunk.errors.len() >= CHUNK {
            let next = Chunk {
                drafts: Vec::with_capacity(CHUNK),
                errors: Vec::new(),
                rejected: Vec::new(),
                warnings: Vec::new(),
                rows: 0,
                bad_rows: 0,
            };
            if tx.send(Message::Chunk(std::mem::replace(&mut chunk, next))).is_err() {
                return Ok(false);
            }
        }
    }
    Ok(tx.send(Message::Chunk(chunk)).is_ok())
}

/// A rejected row's cells under the file's headers, with the columns of fields the catalog marks masked.
fn rejected_cells(item: &CatalogItem, map: &HeaderMap, headers: &[String], cells: &[Cell]) -> RejectedCells {
    let personal = (0..headers.len())
        .filter(|&col| map.field_of(col).and_then(|f| item.fields.get(f)).is_some_and(|f| f.masked))
        .collect();
    let cells = (0..headers.len()).map(|col| cells.get(col).map(Cell::as_written).unwrap_or_default()).collect();
    RejectedCells { headers: headers.to_vec(), cells, personal }
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

//! The ingest pipeline: read on one thread, validate on one per core, write on the caller's, one batch
//! transaction per file.
//!
//! ```text
//! reader thread:      file → RowReader → HeaderMap → numbered chunks of rows ─┐ bounded
//! validator threads:  chunk → Validator → drafts and issues ←─────────────────┘ channel ─┐ bounded
//! caller thread:      in reader order: begin batch → BatchWriter.write / record_issues → commit ←─┘ channel
//! ```
//! The writer handles chunks in the order the reader read them, whichever validator finished first, and
//! gives each chunk's permit back when it is written: the reader needs one to hand on a chunk, so memory
//! stays flat whatever the file size. When several files are loaded in a row ([`ingest_sequence`]), the
//! reader goes on to the next file while the store commits the one before. A file that breaks off (a
//! truncated XLSX) or a store error drops its batch writer, which rolls that whole batch back.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

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
use crate::reader::{FileError, Format, RawRow, RowError, RowReader};
use crate::validate::Validator;

/// Rows per chunk sent from the reader thread through a validator to the writer. Each chunk costs the store a few
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

/// Loads files in order, one batch each. One thread reads file after file and validator threads
/// validate its chunks while the caller's thread writes and commits them, so the next file is being
/// read while the store commits the one before. `done` gets each file's outcome, in order, once its batch is committed or dropped,
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
    let validators = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_VALIDATORS);
    let in_flight = QUEUE + validators;
    let (out_tx, rx) = mpsc::sync_channel::<Numbered>(in_flight);
    let (raw_tx, raw_rx) = mpsc::sync_channel::<RawChunk<'_>>(in_flight);
    let raw_rx = Mutex::new(raw_rx);
    // A permit per chunk read but not yet written: the reader takes one before it hands a chunk to the
    // validators, the writer gives it back once the chunk is written, so memory stays flat however far
    // one validator falls behind the other.
    let (permit_tx, permit_rx) = mpsc::sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = permit_tx.send(());
    }
    let vault = store.vault();
    let regimes = &regimes;
    std::thread::scope(|scope| {
        // Moved in, so that a writer that stops drops them and wakes a reader waiting for a permit.
        let (rx, permit_tx) = (rx, permit_tx);
        for _ in 0..validators {
            let (raw_rx, out) = (&raw_rx, out_tx.clone());
            scope.spawn(move || validate_chunks(raw_rx, vault, &out));
        }
        let mut outbox = Outbox { next: 0, out: out_tx, raw: raw_tx, permits: permit_rx };
        scope.spawn(move || {
            yield_to_writer();
            for job in jobs {
                if !read_job(job, catalog, regimes, &mut outbox) {
                    return;
                }
            }
        });
        let mut current: Option<Loading<'_>> = None;
        // Validators finish chunks out of order; messages are handled in the order the reader made them.
        let mut early = BTreeMap::new();
        let mut next = 0u64;
        for numbered in rx {
            early.insert(numbered.seq, (numbered.message, numbered.holds_permit));
            while let Some((message, holds_permit)) = early.remove(&next) {
                next += 1;
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
                    // Chunks of a file whose batch could not begin, or broke off, are dropped with it.
                    Message::Chunk(chunk) => match current.as_mut().map(|l| l.take(chunk)) {
                        Some(Err(e)) => current.take().map(|l| (l.request, Err(e))),
                        _ => None,
                    },
                    Message::Broken(e) => current.take().map(|l| (l.request, Err(e))),
                    Message::End => current.take().map(Loading::commit),
                };
                if holds_permit {
                    let _ = permit_tx.send(());
                }
                if let Some((request, outcome)) = finished
                    && !done(&request, outcome)
                {
                    // Dropping the receiver and the permits stops the reader and the validators at their
                    // next chunk; an open batch rolls back.
                    return;
                }
            }
        }
    });
}

/// Chunks the reader may run ahead of the writer, besides those being validated: enough to read on
/// through a large batch's commit (32,768 rows; 8 chunks gained another ~2 % on PostgreSQL for 40 MB
/// more memory).
const QUEUE: usize = 4;
/// Threads validating chunks side by side (one per core, at most this many).
const MAX_VALIDATORS: usize = 4;

/// A message for the writer with its place in the order the reader made them; `holds_permit` when it
/// was made from a chunk of rows (its permit goes back once it is handled).
struct Numbered {
    seq: u64,
    message: Message,
    holds_permit: bool,
}

/// Rows of one file read under one view of its header, for a validator.
struct RawChunk<'f> {
    seq: u64,
    file: Arc<FileView<'f>>,
    rows: Vec<Result<RawRow, RowError>>,
    /// Header warnings that arose before these rows.
    warnings: Vec<RowIssue>,
}

/// What validating a file's rows needs; a new one when JSON lines add keys.
struct FileView<'f> {
    validator: Arc<Validator<'f>>,
    map: HeaderMap,
    headers: Vec<String>,
}

/// The reader's side of the channels: numbers every message it sends.
struct Outbox<'f> {
    next: u64,
    out: SyncSender<Numbered>,
    raw: SyncSender<RawChunk<'f>>,
    permits: Receiver<()>,
}

impl<'f> Outbox<'f> {
    /// Sends a message straight to the writer; answers whether it is still listening.
    fn send(&mut self, message: Message) -> bool {
        let seq = self.take_seq();
        self.out.send(Numbered { seq, message, holds_permit: false }).is_ok()
    }

    /// Hands rows to the validators once the writer has room for them; answers whether it still has.
    fn send_rows(
        &mut self,
        file: &Arc<FileView<'f>>,
        rows: Vec<Result<RawRow, RowError>>,
        warnings: Vec<RowIssue>,
    ) -> bool {
        if self.permits.recv().is_err() {
            return false;
        }
        let seq = self.take_seq();
        self.raw.send(RawChunk { seq, file: Arc::clone(file), rows, warnings }).is_ok()
    }

    fn take_seq(&mut self) -> u64 {
        self.next += 1;
        self.next - 1
    }
}

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

/// Reads one file on the reader thread, handing its rows to the validators; answers whether the writer
/// is still listening.
fn read_job<'f>(job: Job<'_>, catalog: &'f Catalog, regimes: &'f Regimes, outbox: &mut Outbox<'f>) -> bool {
    let Job { request, open } = job;
    let opened = check_supplier(catalog, &request.unit, &request.item).and_then(|()| {
        let item = catalog
            .item(&request.item)
            .ok_or_else(|| IngestError::Refused(format!("item {} is unknown", request.item)))?;
        let reader = open()?;
        let map = HeaderMap::build(item, reader.headers(), request.format != Format::Jsonl)?;
        let validator = Validator::new(item, request.today, regimes)?;
        Ok((item, reader, map, validator))
    });
    let (item, mut reader, map, validator) = match opened {
        Ok(opened) => opened,
        Err(error) => return outbox.send(Message::Failed { request, error }),
    };
    let encoding = reader.encoding().as_str().to_owned();
    if !outbox.send(Message::Start { request, item_version: item.version, encoding }) {
        return false;
    }
    match read_rows(&mut *reader, map, validator, outbox) {
        Ok(true) => outbox.send(Message::End),
        Ok(false) => false,
        Err(e) => outbox.send(Message::Broken(e)),
    }
}

/// Reads the rows of a file in chunks for the validators; `Ok(false)` when the writer stopped listening.
fn read_rows<'f>(
    reader: &mut dyn RowReader,
    mut map: HeaderMap,
    validator: Validator<'f>,
    outbox: &mut Outbox<'f>,
) -> Result<bool, IngestError> {
    let validator = Arc::new(validator);
    let view = |map: &HeaderMap, headers: &[String]| {
        Arc::new(FileView { validator: Arc::clone(&validator), map: map.clone(), headers: headers.to_vec() })
    };
    let mut file = view(&map, reader.headers());
    let mut rows = Vec::with_capacity(CHUNK);
    let mut warnings = unknown_columns(&map, 0);
    while let Some(row) = reader.next_row()? {
        if row.is_ok() && reader.headers().len() > map.columns() {
            // The rows before were read under the narrower header: they go with the view they had.
            if !rows.is_empty() && !outbox.send_rows(&file, std::mem::take(&mut rows), std::mem::take(&mut warnings)) {
                return Ok(false);
            }
            let before = map.columns();
            map.extend(validator.item(), reader.headers())?;
            warnings.extend(unknown_columns(&map, before));
            file = view(&map, reader.headers());
        }
        rows.push(row);
        if rows.len() >= CHUNK {
            let full = std::mem::replace(&mut rows, Vec::with_capacity(CHUNK));
            if !outbox.send_rows(&file, full, std::mem::take(&mut warnings)) {
                return Ok(false);
            }
        }
    }
    Ok(outbox.send_rows(&file, rows, warnings))
}

/// A validator thread: validates chunks of rows as they come and sends them to the writer, until the
/// reader is done or the writer stops listening.
fn validate_chunks(raw: &Mutex<Receiver<RawChunk<'_>>>, vault: &Vault, out: &SyncSender<Numbered>) {
    yield_to_writer();
    loop {
        // The lock is held only while waiting for the next chunk, not while validating it.
        let Ok(Ok(chunk)) = raw.lock().map(|raw| raw.recv()) else {
            return;
        };
        let seq = chunk.seq;
        let message = match validate_chunk(chunk, vault) {
            Ok(chunk) => Message::Chunk(chunk),
            Err(e) => Message::Broken(e),
        };
        if out.send(Numbered { seq, message, holds_permit: true }).is_err() {
            return;
        }
    }
}

/// Lowers the calling thread's priority below the writer's. The reader and the validators together
/// can keep both cores busy, and then took CPU from the writer, whose thread is the load's critical
/// path (on PostgreSQL, from the server). With a niceness [`NICER`] above the caller's they get what the
/// writer leaves. Linux sets niceness per thread; elsewhere, or if refused, the thread keeps the
/// caller's priority.
fn yield_to_writer() {
    #[cfg(target_os = "linux")]
    {
        let tid = Some(rustix::thread::gettid());
        if let Ok(nice) = rustix::process::getpriority_process(tid)
            && let Err(e) = rustix::process::setpriority_process(tid, nice + NICER)
        {
            tracing::debug!("ingest thread keeps its priority: {e}");
        }
    }
}

/// How much nicer than the writer the reader and the validators run: at 5, the scheduler gives a
/// runnable writer about three times their share of a core.
#[cfg(target_os = "linux")]
const NICER: i32 = 5;

/// Validates and prepares a chunk's rows; a rejected row becomes issues and its sealed cells.
fn validate_chunk(raw: RawChunk<'_>, vault: &Vault) -> Result<Chunk, IngestError> {
    let RawChunk { file, rows, warnings, .. } = raw;
    let FileView { validator, map, headers } = &*file;
    let item = validator.item();
    let mut chunk = Chunk {
        drafts: Vec::with_capacity(rows.len()),
        errors: Vec::new(),
        rejected: Vec::new(),
        warnings,
        rows: rows.len() as u64,
        bad_rows: 0,
    };
    for row in rows {
        match row {
            Err(e) => {
                chunk.bad_rows += 1;
                chunk.errors.push(RowIssue { row: e.row, field: None, code: e.code.to_owned(), message: e.message });
            }
            Ok(raw) => match validator.validate(map, raw.row, &raw.cells) {
                Ok(valid) => chunk.drafts.push(validator.prepare(valid, vault)?),
                Err(mut issues) => {
                    chunk.bad_rows += 1;
                    chunk.errors.append(&mut issues);
                    chunk.rejected.push(rejected_cells(item, map, headers, &raw.cells).seal(raw.row, vault)?);
                }
            },
        }
    }
    Ok(chunk)
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

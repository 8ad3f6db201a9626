//! The storage interface of xinyong. Everything above the store (ingest, server, CLI) talks to these
//! traits and never learns which backend runs: SQLite (embedded, default) or PostgreSQL.
//!
//! Small traits per aggregate, one [`Store`] that is all of them. Writes of a batch go through a
//! [`BatchWriter`], which is one transaction: dropped without [`BatchWriter::commit`], nothing of the
//! batch remains. Personal data passes through the [`vault::Vault`]: resident IDs and masked fields are
//! encrypted before they reach a backend, and resident IDs are found by a keyed hash.

pub mod access;
pub mod activity;
pub mod audit;
pub mod audit_verify;
pub mod commitment;
pub mod conformance;
pub mod error;
pub mod evaluation;
pub mod field_codes;
pub mod group_commit;
pub mod joint;
pub mod keyring;
pub mod outbox;
pub mod reports;
pub mod search;
pub mod session;
pub mod subject_cache;
pub mod types;
pub mod vault;
pub mod workflow;

pub use error::{Result, StoreError};
pub use types::*;

use xinyong_domain::catalog::{Catalog, UnitDef};
use xinyong_domain::record::UpsertOutcome;

/// The catalog and the units.
pub trait CatalogStore {
    /// The current catalog: the newest version of every item, and the units with what they supply.
    /// Cheap to call per request: backends cache it and reload only when it changed.
    fn load_catalog(&self) -> Result<std::sync::Arc<Catalog>>;

    /// Installs a catalog: every item whose definition changed gets a new version (records keep the
    /// version they were filed under); units are added or their names and supplies updated.
    fn install_catalog(&self, catalog: &Catalog, now: Timestamp) -> Result<InstallSummary>;

    /// Registers a unit, or updates its name and the items it supplies.
    fn put_unit(&self, unit: &UnitDef, now: Timestamp) -> Result<()>;
}

/// Batches of ingestion.
pub trait BatchStore {
    /// Opens the transaction of one batch.
    fn begin_batch(&self, meta: BatchMeta) -> Result<Box<dyn BatchWriter + '_>>;

    /// Readies a store that holds no records yet for a load of many: it may leave out what is
    /// cheaper to build in one pass once the rows are in (on SQLite, the secondary indexes of the
    /// records). Answers whether it left anything out; if so, [`BatchStore::finish_initial_load`]
    /// builds it. Meanwhile every query answers the same, only slower, and a store opened after a
    /// crash in between builds what is missing as it opens.
    fn begin_initial_load(&self) -> Result<bool>;

    /// Builds what [`BatchStore::begin_initial_load`] left out; nothing when nothing is missing.
    fn finish_initial_load(&self) -> Result<()>;

    /// The vault that encodes rows for this store ([`PreparedRecord::new`]), shareable with other threads.
    fn vault(&self) -> &vault::Vault;

    /// A batch and its errors.
    fn batch(&self, id: &str) -> Result<Option<BatchReport>>;

    /// The newest batches first, without their errors.
    fn recent_batches(&self, limit: u32) -> Result<Vec<BatchReport>>;

    /// The cells of a batch's rejected rows, by row number (none for an unknown batch).
    fn rejected_rows(&self, batch_id: &str) -> Result<Vec<RejectedRow>>;
}

/// One batch being written: one transaction. Dropping it without `commit` rolls everything back.
///
/// A backend may write ahead: a call that writes (`write`, `record_issues`, `record_rejected_rows`)
/// may return before the store has taken its rows, and then its failure is returned by a later call
/// of the batch, at the latest by `commit`. Any error fails the whole batch, so callers drop it.
pub trait BatchWriter {
    /// Links and upserts validated rows, in order; returns what happened to each.
    fn write(&mut self, records: &[PreparedRecord]) -> Result<Vec<WriteOutcome>>;

    /// Records problems with rows or the header (kept in full; the report may show only the first ones).
    fn record_issues(&mut self, errors: &[RowIssue], warnings: &[RowIssue]) -> Result<()>;

    /// Keeps the cells of rejected rows (kept, like the issues, when the rows are discarded). A row
    /// number given twice in one batch is an error.
    fn record_rejected_rows(&mut self, rows: &[RejectedRow]) -> Result<()>;

    /// Forgets every row written so far but keeps the recorded issues (all-or-nothing with a bad row).
    /// Rows written afterwards are stored again, so callers stop writing after this.
    fn discard_rows(&mut self) -> Result<()>;

    /// Moves a commitment to `step.to` inside this batch and links it to the record the batch wrote
    /// under `source_key` (of the batch's item): a breach of a commitment and the dishonesty record
    /// that lists it are committed together or not at all. A conflict when the commitment is no
    /// longer in `step.from`, not found when the batch wrote no such record. Answers the record's id.
    fn settle_commitment(&mut self, step: &commitment::CommitmentStep, source_key: &str) -> Result<i64>;

    /// Commits the batch durably with its summary; only then may it be reported.
    fn commit(self: Box<Self>, report: &BatchReport) -> Result<()>;
}

/// What writing one row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOutcome {
    pub outcome: UpsertOutcome,
    pub linked: bool,
    /// The subject the record is linked to now (what an incremental evaluation recomputes).
    pub subject_id: Option<i64>,
    /// An update that moved the record from another subject names that subject (it is touched too).
    pub previous_subject_id: Option<i64>,
}

/// Subjects and their records.
pub trait SubjectStore {
    fn find_subject(&self, key: &SubjectKey) -> Result<Option<Subject>>;
    fn records_of(&self, subject_id: i64) -> Result<Vec<Record>>;
    fn record(&self, id: i64) -> Result<Option<Record>>;
    /// Superseded versions of a record, oldest first (the current version is the record itself).
    fn record_history(&self, id: i64) -> Result<Vec<RecordVersion>>;
    fn subject_count(&self) -> Result<u64>;
}

/// Figures of the operating report.
pub trait StatsStore {
    fn collection_stats(&self) -> Result<CollectionStats>;
}

/// A whole store.
pub trait Store:
    CatalogStore
    + BatchStore
    + SubjectStore
    + StatsStore
    + access::AccountStore
    + audit::AuditStore
    + search::PublicationStore
    + search::SearchStore
    + workflow::WorkflowStore
    + joint::JointStore
    + outbox::OutboxStore
    + session::SessionStore
    + reports::ReportStore
    + activity::ActivityStore
    + evaluation::EvaluationStore
    + commitment::CommitmentStore
    + Send
    + Sync
{
    /// Which backend this is (`sqlite`, `postgres`), for logs and `/healthz`.
    fn backend(&self) -> &'static str;
}

//! Batches: the ingest hot path. A batch is one `BEGIN IMMEDIATE … COMMIT` on the writer connection, so
//! a crash or kill at any point leaves it wholly absent; `synchronous=FULL` makes the commit durable
//! before the caller reports it.
//!
//! Per row: resolve the subject (a bounded in-memory cache, kept across batches, in front of an indexed
//! lookup; created on first sight, every name kept), then look the record up by (item, source key):
//! absent → insert, same keyed content hash → unchanged, other content → the old version moves to
//! `record_versions`.
//!
//! The subject cache (`xinyong_store::subject_cache`) is stamped with `PRAGMA data_version` after each
//! commit: only batches write subjects, on the one writer connection, so a version that moved means
//! another connection (another process) committed since our last batch.

use std::sync::MutexGuard;

use rusqlite::{CachedStatement, Connection, OptionalExtension, params};
use xinyong_domain::ids::Identifier;
use xinyong_domain::record::UpsertOutcome;
use xinyong_domain::subject::SubjectClaim;
use xinyong_domain::value::date_text;
use xinyong_store::commitment::CommitmentStep;
use xinyong_store::subject_cache::SubjectCache;
use xinyong_store::vault::Vault;
use xinyong_store::{
    BatchMeta, BatchReport, BatchStatus, BatchStore, BatchWriter, PreparedRecord, RejectedRow, Result, RowIssue,
    StoreError, WriteOutcome,
};

use crate::checkpoint::Checkpointer;
use crate::{SqliteStore, db_err, poisoned, search};

/// A record's first version; a key already stored inserts nothing, and the caller compares.
const INSERT_RECORD: &str = "INSERT INTO records (item, source_key, subject_id, unit, item_version, version, status,
        record_date, end_date, severity, published, public_until, fields, secret, content_hash,
        batch_id, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, 1, 'active', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)
     ON CONFLICT (item, source_key) DO NOTHING";

fn data_version(conn: &Connection) -> Result<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0)).map_err(db_err)
}

struct SqliteBatch<'a> {
    conn: MutexGuard<'a, Connection>,
    checkpointer: &'a Checkpointer,
    vault: &'a Vault,
    meta: BatchMeta,
    now: String,
    subjects: MutexGuard<'a, SubjectCache>,
    issue_seq: u64,
    open: bool,
}

impl BatchStore for SqliteStore {
    fn begin_batch(&self, meta: BatchMeta) -> Result<Box<dyn BatchWriter + '_>> {
        // Wait for the checkpoint (when the WAL is past its bound) before taking the writer, so that
        // workflow steps and other writes go on meanwhile.
        self.checkpointer.settle();
        let conn = self.writer.lock().map_err(|_| poisoned())?;
        let mut subjects = self.subjects.lock().map_err(|_| poisoned())?;
        conn.execute_batch("BEGIN IMMEDIATE").map_err(db_err)?;
        // Read inside the write lock: nothing can commit between this and our batch.
        subjects.check(data_version(&conn)?);
        let now = meta.started_at.to_rfc3339();
        let mut batch = SqliteBatch {
            conn,
            checkpointer: &self.checkpointer,
            vault: &self.vault,
            meta,
            now,
            subjects,
            issue_seq: 0,
            open: true,
        };
        batch.insert_batch_row()?;
        batch.conn.execute_batch("SAVEPOINT rows").map_err(db_err)?;
        Ok(Box::new(batch))
    }

    fn begin_initial_load(&self) -> Result<bool> {
        let Some(lock) = self.write(|conn| crate::initial_load::begin(conn, &self.dir))? else { return Ok(false) };
        *self.first_load.lock().map_err(|_| poisoned())? = Some(lock);
        // The load writes with a rollback journal if no other connection has the file open in WAL mode:
        // this store's other connections are closed first (readers reopen as needed).
        self.checkpointer.stop();
        self.readers.lock().map_err(|_| poisoned())?.clear();
        if !self.write(|conn| crate::initial_load::leave_wal(conn))? {
            tracing::info!("another connection has the store open: the first load writes through the WAL");
            self.checkpointer.resume()?;
        }
        Ok(true)
    }

    fn finish_initial_load(&self) -> Result<()> {
        let built = self.write(|conn| crate::initial_load::build_missing(conn).map(|_| ()));
        // Back to WAL mode, which the load left; if a reader of another process keeps the file from it
        // meanwhile, the store works on in rollback mode, and its next opening returns it to WAL mode.
        if let Err(e) = self.write(|conn| crate::conn::use_wal(conn)) {
            tracing::warn!(error = %e, "the store stays in rollback-journal mode until it is next opened");
        }
        let resumed = self.checkpointer.resume();
        // Released even when the build failed: the next store to open builds what is missing.
        self.first_load.lock().map_err(|_| poisoned())?.take();
        built.and(resumed)
    }

    fn batch(&self, id: &str) -> Result<Option<BatchReport>> {
        self.read(|conn| {
            let Some(mut report) = read_batch(conn, id)? else { return Ok(None) };
            let mut stmt = conn
                .prepare_cached(
                    "SELECT kind, row, field, code, message FROM batch_issues WHERE batch_id = ?1 ORDER BY seq",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map([id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        RowIssue {
                            row: r.get::<_, i64>(1)? as u64,
                            field: r.get(2)?,
                            code: r.get(3)?,
                            message: r.get(4)?,
                        },
                    ))
                })
                .map_err(db_err)?;
            for row in rows {
                let (kind, issue) = row.map_err(db_err)?;
                if kind == "warning" { report.warnings.push(issue) } else { report.errors.push(issue) }
            }
            Ok(Some(report))
        })
    }

    fn vault(&self) -> &Vault {
        &self.vault
    }

    fn rejected_rows(&self, batch_id: &str) -> Result<Vec<RejectedRow>> {
        self.read(|conn| saved_rejected_rows(conn, batch_id))
    }

    fn recent_batches(&self, limit: u32) -> Result<Vec<BatchReport>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT id FROM batches ORDER BY finished_at DESC, id DESC LIMIT ?1")
                .map_err(db_err)?;
            let ids: Vec<String> = stmt
                .query_map([limit], |r| r.get(0))
                .map_err(db_err)?
                .collect::<rusqlite::Result<_>>()
                .map_err(db_err)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(b) = read_batch(conn, &id)? {
                    out.push(b);
                }
            }
            Ok(out)
        })
    }
}

type SavedIssue = (i64, String, i64, Option<String>, String, String);

fn saved_issues(conn: &Connection, batch: &str) -> Result<Vec<SavedIssue>> {
    let mut stmt = conn
        .prepare_cached("SELECT seq, kind, row, field, code, message FROM batch_issues WHERE batch_id = ?1")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([batch], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .map_err(db_err)?;
    rows.collect::<rusqlite::Result<_>>().map_err(db_err)
}

fn saved_rejected_rows(conn: &Connection, batch: &str) -> Result<Vec<RejectedRow>> {
    let mut stmt = conn
        .prepare_cached("SELECT row, cells FROM batch_rejected_rows WHERE batch_id = ?1 ORDER BY row")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([batch], |r| Ok(RejectedRow { row: r.get::<_, i64>(0)? as u64, sealed: r.get(1)? }))
        .map_err(db_err)?;
    rows.collect::<rusqlite::Result<_>>().map_err(db_err)
}

fn insert_rejected_rows(conn: &Connection, batch: &str, rows: &[RejectedRow]) -> Result<()> {
    let mut stmt = conn
        .prepare_cached("INSERT INTO batch_rejected_rows (batch_id, row, cells) VALUES (?1, ?2, ?3)")
        .map_err(db_err)?;
    for r in rows {
        stmt.execute(params![batch, r.row as i64, r.sealed]).map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                StoreError::Conflict(format!("row {} of batch {batch} was rejected twice", r.row))
            }
            other => db_err(other),
        })?;
    }
    Ok(())
}

const BATCH_COLUMNS: &str = "id, unit, item, item_version, status, format, encoding, file_name, rows, accepted, \
     rejected, created, updated, unchanged, linked, started_at, finished_at";

fn read_batch(conn: &Connection, id: &str) -> Result<Option<BatchReport>> {
    let sql = format!("SELECT {BATCH_COLUMNS} FROM batches WHERE id = ?1 AND status <> 'open'");
    let row = conn
        .query_row(&sql, [id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, u32>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Option<String>>(7)?,
                [r.get::<_, i64>(8)?, r.get(9)?, r.get(10)?, r.get(11)?, r.get(12)?, r.get(13)?, r.get(14)?],
                r.get::<_, String>(15)?,
                r.get::<_, String>(16)?,
            ))
        })
        .optional()
        .map_err(db_err)?;
    let Some((batch, unit, item, item_version, status, format, encoding, file_name, n, started, finished)) = row else {
        return Ok(None);
    };
    let time = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s).map_err(|e| StoreError::Corrupt(format!("batch time {s:?}: {e}")))
    };
    let status = if status == "rejected" { BatchStatus::Rejected } else { BatchStatus::Committed };
    Ok(Some(BatchReport {
        batch,
        unit,
        item,
        item_version,
        status,
        format,
        encoding,
        file_name,
        rows: n[0] as u64,
        accepted: n[1] as u64,
        rejected: n[2] as u64,
        created: n[3] as u64,
        updated: n[4] as u64,
        unchanged: n[5] as u64,
        linked: n[6] as u64,
        errors: Vec::new(),
        warnings: Vec::new(),
        started_at: time(&started)?,
        finished_at: time(&finished)?,
    }))
}

impl SqliteBatch<'_> {
    /// The batch row is written first (status `open`, invisible to readers until commit) so that issues
    /// can refer to it.
    fn insert_batch_row(&mut self) -> Result<()> {
        let m = &self.meta;
        self.conn
            .execute(
                "INSERT INTO batches (id, unit, item, item_version, status, format, encoding, file_name,
                    all_or_nothing, rows, accepted, rejected, created, updated, unchanged, linked, started_at, finished_at)
                 VALUES (?1, ?2, ?3, ?4, 'open', '', '', ?5, ?6, 0, 0, 0, 0, 0, 0, 0, ?7, ?7)",
                params![m.id, m.unit, m.item, m.item_version, m.file_name, m.all_or_nothing, self.now],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    StoreError::Conflict(format!("batch {} exists already", m.id))
                }
                other => db_err(other),
            })?;
        Ok(())
    }

    fn finish_batch_row(&mut self, r: &BatchReport) -> Result<()> {
        self.conn
            .execute(
                "UPDATE batches SET status = ?2, format = ?3, encoding = ?4, rows = ?5, accepted = ?6, rejected = ?7,
                    created = ?8, updated = ?9, unchanged = ?10, linked = ?11, finished_at = ?12
                 WHERE id = ?1",
                params![
                    r.batch,
                    r.status.as_str(),
                    r.format,
                    r.encoding,
                    r.rows as i64,
                    r.accepted as i64,
                    r.rejected as i64,
                    r.created as i64,
                    r.updated as i64,
                    r.unchanged as i64,
                    r.linked as i64,
                    r.finished_at.to_rfc3339()
                ],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn insert_issues(&mut self, kind: &str, issues: &[RowIssue]) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO batch_issues (batch_id, seq, kind, row, field, code, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(db_err)?;
        for issue in issues {
            self.issue_seq += 1;
            stmt.execute(params![
                self.meta.id,
                self.issue_seq as i64,
                kind,
                issue.row as i64,
                issue.field,
                issue.code,
                issue.message
            ])
            .map_err(db_err)?;
        }
        Ok(())
    }

    fn resolve_subject(&mut self, claim: &SubjectClaim) -> Result<i64> {
        if let Some(id) = self.subjects.get(&claim.id, &claim.name) {
            return Ok(id);
        }
        let found: Option<(i64, String)> = match &claim.id {
            Identifier::Uscc(u) => self.query_subject("SELECT id, name FROM subjects WHERE uscc = ?1", u.as_str())?,
            Identifier::OrgCode(o) => {
                self.query_subject("SELECT id, name FROM subjects WHERE org_code = ?1 ORDER BY id LIMIT 1", o.as_str())?
            }
            Identifier::ResidentId(r) => {
                let hash = self.vault.lookup_hash(r.as_str());
                self.conn
                    .prepare_cached("SELECT id, name FROM subjects WHERE rid_hash = ?1")
                    .map_err(db_err)?
                    .query_row([hash], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(db_err)?
            }
        };
        let id = match found {
            Some((id, name)) if name == claim.name => id,
            Some((id, old_name)) => {
                self.conn
                    .prepare_cached("UPDATE subjects SET name = ?2, updated_at = ?3 WHERE id = ?1")
                    .map_err(db_err)?
                    .execute(params![id, claim.name, self.now])
                    .map_err(db_err)?;
                search::index_name(&self.conn, id, claim.kind, Some(&old_name), &claim.name)?;
                self.add_name(id, &claim.name)?;
                id
            }
            None => self.insert_subject(claim)?,
        };
        self.subjects.bound();
        self.subjects.put(&claim.id, id, &claim.name);
        Ok(id)
    }

    fn query_subject(&self, sql: &str, key: &str) -> Result<Option<(i64, String)>> {
        self.conn
            .prepare_cached(sql)
            .map_err(db_err)?
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db_err)
    }

    fn insert_subject(&mut self, claim: &SubjectClaim) -> Result<i64> {
        let (uscc, org_code, rid_hash, rid_enc) = match &claim.id {
            Identifier::Uscc(u) => (Some(u.as_str()), Some(u.org_code()), None, None),
            Identifier::OrgCode(o) => (None, Some(o.as_str()), None, None),
            Identifier::ResidentId(r) => {
                (None, None, Some(self.vault.lookup_hash(r.as_str())), Some(self.vault.encrypt(r.as_str().as_bytes())?))
            }
        };
        self.conn
            .prepare_cached(
                "INSERT INTO subjects (kind, name, uscc, org_code, rid_hash, rid_enc, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            )
            .map_err(db_err)?
            .execute(params![claim.kind.as_str(), claim.name, uscc, org_code, rid_hash, rid_enc, self.now])
            .map_err(db_err)?;
        let id = self.conn.last_insert_rowid();
        search::index_name(&self.conn, id, claim.kind, None, &claim.name)?;
        self.add_name(id, &claim.name)?;
        Ok(id)
    }

    fn add_name(&self, id: i64, name: &str) -> Result<()> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO subject_names (subject_id, name, first_seen) VALUES (?1, ?2, ?3)")
            .map_err(db_err)?
            .execute(params![id, name, self.now])
            .map_err(db_err)?;
        Ok(())
    }

    /// Upserts one row; answers what happened and, for an update that moved the record to another
    /// subject, the subject it was linked to before. Inserts first, with `insert` ([`INSERT_RECORD`]):
    /// a new record (the common case of a first load) costs one statement; only on a key conflict is
    /// the stored version read and compared.
    fn upsert_record(
        &self,
        insert: &mut CachedStatement<'_>,
        record: &PreparedRecord,
        subject_id: Option<i64>,
    ) -> Result<(UpsertOutcome, Option<i64>)> {
        let draft = &record.head;
        let (fields, secret, hash) = (&record.fields_json, &record.secret, &record.content_hash);
        let date = date_text(draft.date);
        let end = draft.end_date.map(date_text);
        let public_until = draft.public_until.map(date_text);
        let m = &self.meta;
        let inserted = insert
            .execute(params![
                m.item,
                draft.source_key,
                subject_id,
                m.unit,
                m.item_version,
                date,
                end,
                draft.severity.as_str(),
                draft.published,
                public_until,
                fields,
                secret,
                hash,
                m.id,
                self.now
            ])
            .map_err(db_err)?;
        if inserted == 1 {
            return Ok((UpsertOutcome::Created, None));
        }
        let (id, old_hash, old_subject): (i64, Vec<u8>, Option<i64>) = self
            .conn
            .prepare_cached("SELECT id, content_hash, subject_id FROM records WHERE item = ?1 AND source_key = ?2")
            .map_err(db_err)?
            .query_row(params![m.item, draft.source_key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(db_err)?;
        if old_hash == *hash {
            return Ok((UpsertOutcome::Unchanged, None));
        }
        self.conn
            .prepare_cached(
                "INSERT INTO record_versions (record_id, version, fields, secret, content_hash, batch_id, superseded_at)
                 SELECT id, version, fields, secret, content_hash, batch_id, ?2 FROM records WHERE id = ?1",
            )
            .map_err(db_err)?
            .execute(params![id, self.now])
            .map_err(db_err)?;
        self.conn
            .prepare_cached(
                "UPDATE records SET subject_id = ?2, unit = ?3, item_version = ?4, version = version + 1,
                    record_date = ?5, end_date = ?6, fields = ?7, secret = ?8, content_hash = ?9,
                    batch_id = ?10, updated_at = ?11, severity = ?12, published = ?13, public_until = ?14
                 WHERE id = ?1",
            )
            .map_err(db_err)?
            .execute(params![
                id,
                subject_id,
                m.unit,
                m.item_version,
                date,
                end,
                fields,
                secret,
                hash,
                m.id,
                self.now,
                draft.severity.as_str(),
                draft.published,
                public_until
            ])
            .map_err(db_err)?;
        Ok((UpsertOutcome::Updated, old_subject.filter(|old| Some(*old) != subject_id)))
    }
}

impl BatchWriter for SqliteBatch<'_> {
    fn write(&mut self, records: &[PreparedRecord]) -> Result<Vec<WriteOutcome>> {
        // Subjects first, then the records through one statement held for the whole chunk: taking it
        // from the statement cache row by row (hashing its text each time) cost ~5 % of the writer.
        let subject_ids = records
            .iter()
            .map(|record| record.head.subject.as_ref().map(|claim| self.resolve_subject(claim)).transpose())
            .collect::<Result<Vec<_>>>()?;
        let mut insert = self.conn.prepare_cached(INSERT_RECORD).map_err(db_err)?;
        let mut out = Vec::with_capacity(records.len());
        for (record, subject_id) in records.iter().zip(subject_ids) {
            let (outcome, previous_subject_id) = self.upsert_record(&mut insert, record, subject_id)?;
            out.push(WriteOutcome { outcome, linked: subject_id.is_some(), subject_id, previous_subject_id });
        }
        Ok(out)
    }

    fn record_issues(&mut self, errors: &[RowIssue], warnings: &[RowIssue]) -> Result<()> {
        self.insert_issues("error", errors)?;
        self.insert_issues("warning", warnings)
    }

    fn record_rejected_rows(&mut self, rows: &[RejectedRow]) -> Result<()> {
        insert_rejected_rows(&self.conn, &self.meta.id, rows)
    }

    fn discard_rows(&mut self) -> Result<()> {
        // Rolling back to the savepoint takes back the issues and rejected rows recorded since it too:
        // read them first and record them again.
        let issues = saved_issues(&self.conn, &self.meta.id)?;
        let rejected = saved_rejected_rows(&self.conn, &self.meta.id)?;
        self.conn.execute_batch("ROLLBACK TO rows").map_err(db_err)?;
        self.subjects.clear();
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO batch_issues (batch_id, seq, kind, row, field, code, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(db_err)?;
        for (seq, kind, row, field, code, message) in issues {
            stmt.execute(params![self.meta.id, seq, kind, row, field, code, message]).map_err(db_err)?;
        }
        insert_rejected_rows(&self.conn, &self.meta.id, &rejected)
    }

    fn settle_commitment(&mut self, step: &CommitmentStep, source_key: &str) -> Result<i64> {
        let record: i64 = self
            .conn
            .query_row(
                "SELECT id FROM records WHERE item = ?1 AND source_key = ?2",
                params![self.meta.item, source_key],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?
            .ok_or_else(|| StoreError::NotFound(format!("record {source_key} of {}", self.meta.item)))?;
        crate::commitments::settle(&self.conn, step, Some(record))?;
        Ok(record)
    }

    fn commit(mut self: Box<Self>, report: &BatchReport) -> Result<()> {
        self.finish_batch_row(report)?;
        self.conn.execute_batch("RELEASE rows; COMMIT").map_err(db_err)?;
        self.open = false;
        match data_version(&self.conn) {
            Ok(version) => self.subjects.stamp(version),
            Err(_) => self.subjects.clear(),
        }
        self.checkpointer.nudge();
        Ok(())
    }
}

impl Drop for SqliteBatch<'_> {
    fn drop(&mut self) {
        if self.open {
            // Subjects this batch created are gone with it.
            self.subjects.clear();
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::error!(error = %e, batch = %self.meta.id, "rolling back an abandoned batch failed");
            }
        }
    }
}

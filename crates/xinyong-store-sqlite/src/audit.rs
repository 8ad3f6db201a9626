//! The audit trail of the embedded store (DOMAIN.md §9), in its own database file `audit.db`.
//!
//! Why a second file: SQLite has one write lock per database, and an ingest batch holds the lock of
//! `xinyong.db` (`BEGIN IMMEDIATE … COMMIT`) for as long as its file takes to load. Were the audit table
//! in that database, every audited query would wait behind the batch, and with audit failing closed,
//! queries would be refused for the length of an upload. `audit.db` has its own write lock, its own
//! writer connection and its own mutex, so audit writes never queue behind ingest; the group committer
//! (`xinyong_store::group_commit`) keeps them to one fsync per group of requests.
//!
//! Invariants:
//! - WAL with `synchronous = FULL`: an appended entry is on disk before `append_audit` returns;
//! - one `BEGIN IMMEDIATE` transaction per append: the head is read and the entries chained inside it,
//!   so two appenders can never fork the chain;
//! - append-only in the database itself: triggers abort every `UPDATE` and `DELETE` of `audit` and
//!   `audit_checkpoints`, and every insert that does not extend the chain (so `INSERT OR REPLACE`
//!   cannot overwrite). Someone with the file can drop the triggers; the hash chain and the signed
//!   checkpoints are what shows that (`xinyong_store::audit_verify`).
//!
//! Its schema has its own migration list (`migrations/audit/`), recorded in its own
//! `schema_migrations` table. A store created before `audit.db` existed gets it on its next open.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use xinyong_store::audit::{AuditCheckpoint, AuditEntry, AuditRecord, AuditStore, GENESIS_HASH, chain_hash};
use xinyong_store::{Result, StoreError};

use crate::subjects::time;
use crate::{SqliteStore, conn, db_err, poisoned};

pub const AUDIT_FILE: &str = "audit.db";

const MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("../migrations/audit/0001_audit.sql"))];

const COLUMNS: &str = "seq, at, account_id, account_name, unit, role, action, subject_id, purpose, channel, \
     outcome, detail, request_id, prev_hash, hash";

/// The audit database: its writer and a small pool of readers.
pub(crate) struct AuditDb {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl AuditDb {
    /// Opens `dir/audit.db`, creating and migrating it as needed.
    pub(crate) fn open(dir: &Path) -> Result<AuditDb> {
        let path = dir.join(AUDIT_FILE);
        let mut writer = Connection::open(&path).map_err(db_err)?;
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA busy_timeout = 10000;",
            )
            .map_err(db_err)?;
        writer.set_prepared_statement_cache_capacity(16);
        migrate(&mut writer)?;
        Ok(AuditDb { path, writer: Mutex::new(writer), readers: Mutex::new(Vec::new()) })
    }

    /// Removes the audit database of a store being replaced (`init --force`).
    pub(crate) fn remove_files(dir: &Path) -> Result<()> {
        for suffix in ["", "-wal", "-shm"] {
            let p = dir.join(format!("{AUDIT_FILE}{suffix}"));
            if p.exists() {
                std::fs::remove_file(&p)?;
            }
        }
        Ok(())
    }

    pub(crate) fn read_with<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.readers.lock().map_err(|_| poisoned())?.pop();
        let conn = match pooled {
            Some(c) => c,
            None => conn::open_reader(&self.path)?,
        };
        let out = f(&conn);
        if let Ok(mut pool) = self.readers.lock()
            && pool.len() < 4
        {
            pool.push(conn);
        }
        out
    }
}

impl AuditStore for SqliteStore {
    fn append_audit(&self, entries: &[AuditEntry]) -> Result<Vec<AuditRecord>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.audit.writer.lock().map_err(|_| poisoned())?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_err)?;
        let head: Option<(i64, Vec<u8>)> = tx
            .query_row("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db_err)?;
        let (mut seq, mut prev_hash) = head.unwrap_or((0, GENESIS_HASH.to_vec()));
        let mut out = Vec::with_capacity(entries.len());
        {
            let sql = format!(
                "INSERT INTO audit ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
            );
            let mut insert = tx.prepare_cached(&sql).map_err(db_err)?;
            for entry in entries {
                seq += 1;
                let hash = chain_hash(&prev_hash, seq, entry);
                let purpose = entry.purpose.map(|p| code(serde_json::to_value(p))).transpose()?;
                insert
                    .execute(params![
                        seq,
                        entry.at.to_rfc3339(),
                        entry.account_id,
                        entry.account_name,
                        entry.unit,
                        code(serde_json::to_value(entry.role))?,
                        entry.action,
                        entry.subject_id,
                        purpose,
                        code(serde_json::to_value(entry.channel))?,
                        entry.outcome,
                        entry.detail,
                        entry.request_id,
                        prev_hash,
                        hash,
                    ])
                    .map_err(db_err)?;
                out.push(AuditRecord { seq, entry: entry.clone(), prev_hash, hash: hash.clone() });
                prev_hash = hash;
            }
        }
        tx.commit().map_err(db_err)?;
        Ok(out)
    }

    fn audit_after(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>> {
        self.audit.read_with(|conn| {
            let sql = format!("SELECT {COLUMNS} FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2");
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            let raw = stmt.query_map(params![after, limit], raw_record).map_err(db_err)?;
            raw.map(|r| r.map_err(db_err).and_then(to_record)).collect()
        })
    }

    fn audit_of_subject(&self, subject_id: i64, limit: u32, offset: u32) -> Result<Vec<AuditRecord>> {
        self.audit.read_with(|conn| {
            let sql = format!("SELECT {COLUMNS} FROM audit WHERE subject_id = ?1 ORDER BY seq DESC LIMIT ?2 OFFSET ?3");
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            let raw = stmt.query_map(params![subject_id, limit, offset], raw_record).map_err(db_err)?;
            raw.map(|r| r.map_err(db_err).and_then(to_record)).collect()
        })
    }

    fn add_checkpoint(&self, checkpoint: &AuditCheckpoint) -> Result<()> {
        let conn = self.audit.writer.lock().map_err(|_| poisoned())?;
        conn.execute(
            "INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                checkpoint.seq,
                checkpoint.hash,
                checkpoint.at.to_rfc3339(),
                checkpoint.key_id,
                checkpoint.signature
            ],
        )
        .map_err(db_err)?;
        Ok(())
    }

    /// In the order they were added.
    fn checkpoints(&self) -> Result<Vec<AuditCheckpoint>> {
        self.audit.read_with(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT seq, hash, at, key_id, signature FROM audit_checkpoints ORDER BY id")
                .map_err(db_err)?;
            let raw = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Vec<u8>>(4)?,
                    ))
                })
                .map_err(db_err)?;
            raw.map(|r| {
                let (seq, hash, at, key_id, signature) = r.map_err(db_err)?;
                Ok(AuditCheckpoint { seq, hash, at: time(&at)?, key_id, signature })
            })
            .collect()
        })
    }
}

/// An `audit` row as stored, before its codes are parsed.
struct RawRecord {
    seq: i64,
    at: String,
    account_id: Option<i64>,
    account_name: String,
    unit: Option<String>,
    role: String,
    action: String,
    subject_id: Option<i64>,
    purpose: Option<String>,
    channel: String,
    outcome: String,
    detail: String,
    request_id: Option<String>,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

fn raw_record(r: &Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok(RawRecord {
        seq: r.get(0)?,
        at: r.get(1)?,
        account_id: r.get(2)?,
        account_name: r.get(3)?,
        unit: r.get(4)?,
        role: r.get(5)?,
        action: r.get(6)?,
        subject_id: r.get(7)?,
        purpose: r.get(8)?,
        channel: r.get(9)?,
        outcome: r.get(10)?,
        detail: r.get(11)?,
        request_id: r.get(12)?,
        prev_hash: r.get(13)?,
        hash: r.get(14)?,
    })
}

fn to_record(raw: RawRecord) -> Result<AuditRecord> {
    let entry = AuditEntry {
        at: time(&raw.at)?,
        account_id: raw.account_id,
        account_name: raw.account_name,
        unit: raw.unit,
        role: parse(&raw.role, serde_json::from_value)?,
        action: raw.action,
        subject_id: raw.subject_id,
        purpose: raw.purpose.as_deref().map(|p| parse(p, serde_json::from_value)).transpose()?,
        channel: parse(&raw.channel, serde_json::from_value)?,
        outcome: raw.outcome,
        detail: raw.detail,
        request_id: raw.request_id,
    };
    Ok(AuditRecord { seq: raw.seq, entry, prev_hash: raw.prev_hash, hash: raw.hash })
}

/// Role, purpose and channel are stored by their serde names, the spelling the API and the chained
/// JSON use, so a new variant needs no second mapping here. `value` is `serde_json::to_value(x)`.
fn code(value: serde_json::Result<serde_json::Value>) -> Result<String> {
    match value {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(StoreError::Invalid("an audit code must serialise to a string".into())),
    }
}

/// The inverse of [`code`], with `serde_json::from_value` for the type wanted.
fn parse<T>(code: &str, from: fn(serde_json::Value) -> serde_json::Result<T>) -> Result<T> {
    from(serde_json::Value::String(code.to_owned()))
        .map_err(|e| StoreError::Corrupt(format!("audit code {code:?}: {e}")))
}

/// Applies the missing audit migrations, each in its own transaction (as `migrate.rs` does for the
/// main database); a newer audit database than this program knows is refused.
fn migrate(conn: &mut Connection) -> Result<()> {
    crate::migrate::apply(conn, MIGRATIONS, "audit database")
}

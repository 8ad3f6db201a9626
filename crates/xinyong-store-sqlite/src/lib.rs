//! The embedded store: one SQLite database in WAL mode inside the data folder (a first load writes
//! with a rollback journal, see `initial_load.rs`), with the vault's keys in `keys/` beside it. One
//! writer connection (SQLite allows one writer at a time) and a small pool of readers, so commands
//! and a running server can share the folder.
//!
//! Layout of a data folder:
//! ```text
//! xinyong-data/
//!   xinyong.db        the database (+ -wal, -shm while open; -journal during a first load)
//!   keys/vault.key    encryption and lookup keys (0600), never inside the database
//!   audit.db          the audit trail, append-only, with its own write lock (see `audit.rs`)
//!   first-load.lock   held by a load into the empty store until its indexes are built (`initial_load.rs`)
//! ```
//! Durability: `synchronous=FULL`, so a committed batch survives power loss before it is reported.

mod accounts;
mod activity;
mod audit;
mod batches;
mod catalog;
mod checkpoint;
mod commitments;
mod conn;
mod evaluation;
mod initial_load;
mod joint;
mod migrate;
mod outbox;
mod publication;
mod reports;
mod search;
mod sessions;
mod stats;
mod subjects;
mod workflow;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::Connection;
use xinyong_store::subject_cache::SubjectCache;
use xinyong_store::vault::Vault;
use xinyong_store::{Result, Store, StoreError};

pub use conn::DB_FILE;

/// The embedded store.
pub struct SqliteStore {
    dir: PathBuf,
    vault: Vault,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// The audit trail's own database (`audit.db`), so audit writes never wait for an ingest batch.
    audit: audit::AuditDb,
    /// The catalog as last read, with the stamp it was read at (see `catalog.rs`).
    catalog_cache: Mutex<Option<(i64, std::sync::Arc<xinyong_domain::catalog::Catalog>)>>,
    /// Copies committed WAL frames into the database off the write path.
    checkpointer: checkpoint::Checkpointer,
    /// Subjects the batches have resolved, kept from one batch to the next, checked against
    /// `PRAGMA data_version` (see `batches.rs`).
    subjects: Mutex<SubjectCache>,
    /// The lock a first load holds until its indexes are built (see `initial_load.rs`).
    first_load: Mutex<Option<std::fs::File>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Creates an empty store in `dir` with new vault keys. With `force`, an existing store there is
    /// removed first; without it, an existing store is an error.
    pub fn create(dir: &Path, force: bool) -> Result<SqliteStore> {
        let db = dir.join(DB_FILE);
        if db.exists() {
            if !force {
                return Err(StoreError::AlreadyInitialised(dir.display().to_string()));
            }
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let p = dir.join(format!("{DB_FILE}{suffix}"));
                if p.exists() {
                    std::fs::remove_file(&p)?;
                }
            }
            audit::AuditDb::remove_files(dir)?;
            let keys = dir.join("keys");
            if keys.exists() {
                std::fs::remove_dir_all(&keys)?;
            }
        }
        std::fs::create_dir_all(dir)?;
        let vault = Vault::create(&dir.join("keys"))?;
        SqliteStore::open_with(dir, vault)
    }

    /// Opens an existing store.
    pub fn open(dir: &Path) -> Result<SqliteStore> {
        if !dir.join(DB_FILE).exists() {
            return Err(StoreError::NotInitialised(dir.display().to_string()));
        }
        let vault = Vault::open(&dir.join("keys"))?;
        SqliteStore::open_with(dir, vault)
    }

    fn open_with(dir: &Path, vault: Vault) -> Result<SqliteStore> {
        let db = dir.join(DB_FILE);
        // A first load in another process may be writing with a rollback journal: its journal mode and
        // its indexes are left to it (it returns the file to WAL mode and builds them at its end).
        let loading_elsewhere = initial_load::try_lock(dir)?.is_none();
        let mut writer = if loading_elsewhere { conn::open_writer_as_found(&db)? } else { conn::open_writer(&db)? };
        migrate::migrate(&mut writer)?;
        // A first load that stopped before its end left indexes out, and perhaps a hot rollback journal,
        // which the writer's first read (switching the file back to WAL mode above) has rolled back.
        if !loading_elsewhere && initial_load::build_missing(&mut writer)? {
            tracing::warn!(dir = %dir.display(), "built the record indexes an unfinished first load had left out");
        }
        let audit = audit::AuditDb::open(dir)?;
        let checkpointer = checkpoint::Checkpointer::start(&db)?;
        Ok(SqliteStore {
            dir: dir.to_path_buf(),
            vault,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            audit,
            catalog_cache: Mutex::new(None),
            checkpointer,
            subjects: Mutex::new(SubjectCache::default()),
            first_load: Mutex::new(None),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `f` on a pooled read connection.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.readers.lock().map_err(|_| poisoned())?.pop();
        let conn = match pooled {
            Some(c) => c,
            None => conn::open_reader(&self.dir.join(DB_FILE))?,
        };
        let out = f(&conn);
        if let Ok(mut pool) = self.readers.lock()
            && pool.len() < 8
        {
            pool.push(conn);
        }
        out
    }

    /// Runs `f` on the writer connection.
    fn write<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut guard = self.writer.lock().map_err(|_| poisoned())?;
        let out = f(&mut guard);
        drop(guard);
        self.checkpointer.nudge();
        out
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

pub(crate) fn poisoned() -> StoreError {
    StoreError::Backend("a store lock was poisoned by a panic".into())
}

/// Maps a driver error; SQLite messages carry no row content.
pub(crate) fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

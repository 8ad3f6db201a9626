//! The scale store: PostgreSQL behind the same traits as the embedded store, with the same behaviour in
//! everything users see. One schema (`xinyong`) in the database the URL names; the vault's and the
//! signing keys stay files in `keys/` of the data folder, never in the database (DOMAIN.md §9).
//!
//! ```no_run
//! # fn main() -> xinyong_store::Result<()> {
//! use xinyong_store_pg::PgStore;
//! let url = "postgresql:///xinyong?host=/var/run/postgresql";
//! let store = PgStore::create(url, std::path::Path::new("xinyong-data"), false)?;
//! # Ok(()) }
//! ```
//!
//! - Connections: a small pool ([`pool`]), at most 16 per process, prepared statements cached per
//!   connection.
//! - Batches: one transaction each; rows go in through `COPY` and set-based statements
//!   (`batches.rs`), so ingest runs near the speed of a raw `COPY`.
//! - Layout: ready to distribute on Citus by subject (`migrations/0001_init.sql`, docs/scale.md).

mod accounts;
mod activity;
mod audit;
mod batches;
mod catalog;
mod commitments;
mod conn_thread;
mod copy;
mod evaluation;
mod fresh_keys;
mod id_blocks;
mod initial_load;
mod joint;
mod migrate;
mod outbox;
pub mod pool;
mod publication;
mod reports;
pub mod scratch;
mod search;
mod sessions;
mod stats;
mod subjects;
mod workflow;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use xinyong_domain::catalog::Catalog;
use xinyong_store::subject_cache::SubjectCache;
use xinyong_store::vault::Vault;
use xinyong_store::{Result, Store, StoreError};

pub use postgres::Config;

use crate::pool::{Pool, SCHEMA};

/// The PostgreSQL store.
pub struct PgStore {
    pool: Pool,
    keys: PathBuf,
    vault: Vault,
    /// The catalog as last read, with the stamp it was read at (see `catalog.rs`).
    catalog_cache: Mutex<Option<(i64, Arc<Catalog>)>>,
    /// Audit partitions known to exist (see `audit.rs`).
    audit_months: Mutex<std::collections::HashSet<String>>,
    /// Subjects the batches have resolved, kept from one batch to the next while no other process's
    /// batch commits (see `batches.rs`).
    subjects: Mutex<SubjectCache>,
    /// A first load of this store in progress, with the indexes it left out (see `initial_load.rs`).
    first_load: Mutex<Option<initial_load::FirstLoad>>,
    /// Subject and record ids reserved and not yet used, kept from one batch to the next while no other
    /// process's batch commits (see `id_blocks.rs`).
    ids: Mutex<id_blocks::ProcessIds>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("database", &describe(self.pool.config())).finish_non_exhaustive()
    }
}

/// Parses a `postgres://` / `postgresql://` URL or a `key=value` connection string.
pub fn parse_url(url: &str) -> Result<Config> {
    Config::from_str(url).map_err(|e| {
        StoreError::Invalid(format!(
            "--database-url: {e} (expected postgresql://USER@HOST/DATABASE or key=value pairs)"
        ))
    })
}

/// The database for messages: its name and host, never the password.
pub fn describe(config: &Config) -> String {
    let db = config.get_dbname().unwrap_or("(default database)");
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    format!("PostgreSQL database {db} on {host}")
}

impl PgStore {
    /// Creates the schema in the database `url` names, with new vault keys in `data/keys`. With
    /// `force`, an existing platform there (schema and keys) is removed first; without, it is an error.
    pub fn create(url: &str, data: &Path, force: bool) -> Result<PgStore> {
        PgStore::create_with(parse_url(url)?, data, force)
    }

    pub fn create_with(config: Config, data: &Path, force: bool) -> Result<PgStore> {
        let pool = Pool::new(config);
        {
            let mut conn = pool.get()?;
            if migrate::is_initialised(&mut conn)? {
                if !force {
                    return Err(StoreError::AlreadyInitialised(describe(pool.config())));
                }
                conn.client.batch_execute(&format!("DROP SCHEMA {SCHEMA} CASCADE")).map_err(db_err)?;
            }
        }
        pool.clear_idle();
        let keys = data.join("keys");
        if force && keys.exists() {
            std::fs::remove_dir_all(&keys)?;
        }
        std::fs::create_dir_all(data)?;
        let vault = Vault::create(&keys)?;
        PgStore::open_with(pool, keys, vault)
    }

    /// Opens the platform in the database `url` names, with its keys in `data/keys`.
    pub fn open(url: &str, data: &Path) -> Result<PgStore> {
        PgStore::open_config(parse_url(url)?, data)
    }

    pub fn open_config(config: Config, data: &Path) -> Result<PgStore> {
        let pool = Pool::new(config);
        if !migrate::is_initialised(&mut *pool.get()?)? {
            return Err(StoreError::NotInitialised(describe(pool.config())));
        }
        let keys = data.join("keys");
        let vault = Vault::open(&keys)?;
        PgStore::open_with(pool, keys, vault)
    }

    fn open_with(pool: Pool, keys: PathBuf, vault: Vault) -> Result<PgStore> {
        {
            let mut conn = pool.get()?;
            migrate::migrate(&mut conn)?;
            initial_load::repair(pool.config(), &mut conn)?;
        }
        Ok(PgStore {
            pool,
            keys,
            vault,
            catalog_cache: Mutex::new(None),
            audit_months: Mutex::new(std::collections::HashSet::new()),
            subjects: Mutex::new(SubjectCache::default()),
            first_load: Mutex::new(None),
            ids: Mutex::new(id_blocks::ProcessIds::default()),
        })
    }

    /// The folder of the vault's keys.
    pub fn keys_dir(&self) -> &Path {
        &self.keys
    }

    fn with<T>(&self, f: impl FnOnce(&mut pool::Conn) -> Result<T>) -> Result<T> {
        self.pool.with(f)
    }
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }
}

fn poisoned() -> StoreError {
    StoreError::Backend("a store lock was poisoned by a panic".into())
}

/// Maps a driver error. Only the server's message is kept, never its DETAIL, which may quote row
/// values; a unique violation is a conflict.
pub(crate) fn db_err(e: postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) if db.code() == &postgres::error::SqlState::UNIQUE_VIOLATION => {
            StoreError::Conflict(db.message().to_owned())
        }
        Some(db) => StoreError::Backend(format!("{}: {}", db.severity(), db.message())),
        None => StoreError::Backend(e.to_string()),
    }
}

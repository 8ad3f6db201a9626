//! The PostgreSQL store against the shared conformance suite, on a real server (never a mock): each
//! test gets a database of its own. Without a reachable server these tests fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tempfile::TempDir;
use xinyong_store::Store;
use xinyong_store_pg::PgStore;
use xinyong_store_pg::scratch::ScratchDatabase;

/// A fresh store, its key folder and its database; the database is dropped last.
pub struct Fresh {
    dir: TempDir,
    pub db: ScratchDatabase,
}

impl Fresh {
    /// The store's data folder (its keys).
    pub fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }
}

pub fn fresh_store() -> (PgStore, Fresh) {
    let db = ScratchDatabase::create().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let store = PgStore::create(db.url(), &dir.path().join("data"), false).unwrap();
    (store, Fresh { dir, db })
}

fn fresh() -> (Box<dyn Store>, Fresh) {
    let (store, guard) = fresh_store();
    (Box::new(store), guard)
}

mod conformance {
    use super::fresh;
    xinyong_store::run_conformance!(fresh);
}

mod ingest;
mod initial_load;
mod workflow;

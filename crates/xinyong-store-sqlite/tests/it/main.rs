//! The embedded store against the shared conformance suite, plus what only a file-based store can show.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tempfile::TempDir;
use xinyong_store::Store;
use xinyong_store_sqlite::SqliteStore;

fn fresh() -> (Box<dyn Store>, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::create(&dir.path().join("data"), false).unwrap();
    (Box::new(store), dir)
}

mod conformance {
    use super::fresh;
    xinyong_store::run_conformance!(fresh);
}

mod audit;
mod files;
mod search;

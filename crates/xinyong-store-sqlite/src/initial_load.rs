//! A first load builds the secondary indexes of `records` after its rows are in.
//!
//! Kept row by row, the subject index and the publication index (item, date) take their entries in
//! random order, and past a few hundred thousand subjects they outgrow the writer's page cache: every
//! batch then reads, dirties and writes back most of their pages. Built once at the end, they are a
//! sort and one sequential write. Copying the 9.9 M stored records of a 1,000,000-subject load into an
//! empty `records` table batch by batch (`sqlite3` shell, this machine, 2026-12-04) took 114.6 s with
//! the indexes kept, and 67.5 s without them plus 25.5 s to build both afterwards.
//!
//! So [`begin`] drops them when the store holds no records, and [`build_missing`] creates whichever is
//! missing: at the end of the load, and whenever the store opens, which repairs a load that crashed
//! in between. The `UNIQUE (item, source_key)` constraint stays: every upsert looks the key up.
//!
//! The load holds [`LOCK_FILE`] locked from its beginning to its end, so that a store opening meanwhile
//! in another process (`xinyong stats` beside a long load) leaves the indexes to it, rather than
//! building them under the load's feet and holding the write lock past the load's busy timeout. A
//! crashed load's lock goes with its process.
//!
//! While the load holds the lock, the store writes with a rollback journal instead of the WAL
//! ([`leave_wal`]; the store returns to WAL mode at the end, or at the next opening after a crash). A
//! rollback journal keeps the old content of the pages a transaction changes, and a load into an empty
//! store appends nearly all of its pages, which need none: its rows are written once, into the
//! database file, where the WAL writes them twice (into the WAL, then into the file by a checkpoint).
//! The same copy of a million-subject load's records into an empty table took 49.2–49.7 s with a
//! rollback journal and 85.4 s with the WAL and its checkpoint (`sqlite3` shell, this machine,
//! 2026-12-05). Commits stay atomic and durable (`synchronous = FULL`): a crash leaves a hot journal
//! that the next connection rolls back. A database that another connection has open in WAL mode
//! cannot leave it, so then the load goes on in WAL mode.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use xinyong_store::Result;

use crate::conn::{BUSY_TIMEOUT_MS, WRITER_CACHE_KIB, journal_mode};
use crate::db_err;

/// The indexes a first load leaves out, exactly as the migrations create them (0001, and 0013 for the
/// publication index; a test holds the two to the same text).
const DEFERRED: &[(&str, &str)] = &[
    ("records_subject", "CREATE INDEX records_subject ON records(subject_id)"),
    (
        "records_item_date",
        "CREATE INDEX records_item_date ON records (item || ' ' || record_date, public_until, unit) \
         WHERE status = 'active' AND published = 1",
    ),
];

/// The sorter's memory while an index is built, in KiB. SQLite sorts in runs as large as the page
/// cache; the writer's own cache (384 MB) on top of a full one would take a load past 1 GiB. Small runs
/// sort in the CPU's caches and leave the rest to the merge, which the sorter thread shares: the two
/// indexes of a million-subject store took 5.2 and 8.1-9.3 s with 2 MB, 5.1-6.4 and 7.9-11.0 s with
/// 4 MB, 5.6-7.0 and 11.4-13.1 s with 64 MB (`sqlite3` shell, this machine, 2026-12-07).
const BUILD_CACHE_KIB: u32 = 2_048;

/// The threads SQLite's sorter may start beside the writer's own while an index is built, on cores
/// otherwise idle at the end of a load. With one, building both indexes of a million-subject store
/// took 18.0–18.2 s against 22.3–22.7 s without (runs of 64 MB; `sqlite3` shell, this machine,
/// 2026-12-05), and a second took ~65 MB more memory and gained nothing. With runs of 2 MB, a second
/// costs no memory to speak of and gains a little even on two cores: 7.1–7.9 and 4.6–5.0 s for the two
/// indexes against 7.5–8.9 and 5.0–6.6 s with one (four runs each, alternating, 2026-12-07).
const BUILD_SORT_THREADS: u32 = 2;

/// The data folder's file that a first load holds locked.
pub(crate) const LOCK_FILE: &str = "first-load.lock";

/// Locks [`LOCK_FILE`] in `dir` unless another first load holds it (answers `None` then).
pub(crate) fn try_lock(dir: &Path) -> Result<Option<File>> {
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(LOCK_FILE))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e.into()),
    }
}

/// Drops the deferred indexes if the store holds no records and no other first load runs; answers the
/// lock to hold until [`build_missing`] when it did.
pub(crate) fn begin(conn: &mut Connection, dir: &Path) -> Result<Option<File>> {
    let Some(lock) = try_lock(dir)? else { return Ok(None) };
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_err)?;
    let empty = tx.query_row("SELECT 1 FROM records LIMIT 1", [], |_| Ok(())).optional().map_err(db_err)?.is_none();
    if empty {
        for (name, _) in DEFERRED {
            tx.execute_batch(&format!("DROP INDEX IF EXISTS {name}")).map_err(db_err)?;
        }
    }
    tx.commit().map_err(db_err)?;
    Ok(empty.then_some(lock))
}

/// The rollback journal a first load writes with: truncated, not deleted, after each commit.
const LOAD_JOURNAL: &str = "truncate";

/// Switches the writer from the WAL to a rollback journal for a first load; answers whether it could.
/// It cannot while any other connection has the database open in WAL mode: the caller closes its own
/// others first, and one of another process keeps the load in WAL mode. Gives up at once rather than
/// wait for the other connections.
pub(crate) fn leave_wal(conn: &Connection) -> Result<bool> {
    conn.execute_batch("PRAGMA busy_timeout = 0").map_err(db_err)?;
    let switched = match journal_mode(conn, LOAD_JOURNAL) {
        Ok(mode) => Ok(mode == LOAD_JOURNAL),
        Err(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::DatabaseBusy => Ok(false),
        Err(e) => Err(db_err(e)),
    };
    conn.execute_batch(&format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")).map_err(db_err)?;
    switched
}

/// Creates whichever deferred index is missing, in one transaction; answers whether any was.
pub(crate) fn build_missing(conn: &mut Connection) -> Result<bool> {
    let mut missing = Vec::new();
    for (name, sql) in DEFERRED {
        let exists = conn
            .query_row("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1", [name], |_| Ok(()))
            .optional()
            .map_err(db_err)?
            .is_some();
        if !exists {
            missing.push(*sql);
        }
    }
    if missing.is_empty() {
        return Ok(false);
    }
    with_build_settings(conn, |conn| build(conn, &missing))?;
    Ok(true)
}

/// Runs `f` on the writer with the settings of an index build, then gives the writer its own back:
/// sorted runs of [`BUILD_CACHE_KIB`] in temporary files rather than memory, [`BUILD_SORT_THREADS`]
/// sorter threads. Also for the migrations, some of which build an index over every record: with the
/// writer's settings (a 384 MB cache, runs kept in memory, no sorter thread), migrations 12 and 13 took
/// 69 s and 1.4 GB on a million-subject store (docs/ingest.md, "The public lists counted from the
/// index"). The small cache suits nothing else: a migration that rewrites a table sets its own.
pub(crate) fn with_build_settings<T>(conn: &mut Connection, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
    conn.execute_batch(&format!(
        "PRAGMA temp_store = FILE; PRAGMA cache_size = -{BUILD_CACHE_KIB}; PRAGMA threads = {BUILD_SORT_THREADS};"
    ))
    .map_err(db_err)?;
    let done = f(conn);
    let restored = conn
        .execute_batch(&format!(
            "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{WRITER_CACHE_KIB}; PRAGMA threads = 0;"
        ))
        .map_err(db_err);
    let done = done?;
    restored?;
    Ok(done)
}

fn build(conn: &mut Connection, statements: &[&str]) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_err)?;
    for sql in statements {
        tx.execute_batch(sql).map_err(db_err)?;
    }
    tx.commit().map_err(db_err)
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn migrated() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = crate::conn::open_writer(&dir.path().join("t.db")).unwrap();
        crate::migrate::migrate(&mut conn).unwrap();
        (dir, conn)
    }

    fn index_sql(conn: &Connection, name: &str) -> Option<String> {
        conn.query_row("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1", [name], |r| r.get(0))
            .optional()
            .unwrap()
    }

    /// Every deferred index exists, with the migration's definition.
    fn assert_built(conn: &Connection) {
        for (name, sql) in DEFERRED {
            assert_eq!(index_sql(conn, name).as_deref(), Some(*sql), "{name}");
        }
    }

    /// A new store in a temporary folder whose first load has begun (and left the indexes out).
    fn loading_store() -> (tempfile::TempDir, crate::SqliteStore) {
        use xinyong_store::BatchStore;
        let dir = tempfile::tempdir().unwrap();
        let store = crate::SqliteStore::create(dir.path(), false).unwrap();
        assert!(store.begin_initial_load().unwrap());
        (dir, store)
    }

    /// What the database file's header records (bytes 18 and 19): 1 for a rollback journal, 2 for WAL.
    fn file_journal(dir: &Path) -> u8 {
        use std::io::Read;
        let mut header = [0_u8; 20];
        File::open(dir.join(crate::DB_FILE)).unwrap().read_exact(&mut header).unwrap();
        assert_eq!(header[18], header[19]);
        header[18]
    }

    /// Stores one record, as a batch would.
    pub(crate) fn insert_record(conn: &Connection) {
        conn.execute_batch(
            "INSERT INTO records (item, source_key, subject_id, unit, item_version, version, record_date, severity,
                 published, fields, content_hash, batch_id, created_at, updated_at)
             VALUES ('admin_penalty', 'k1', NULL, 'u', 1, 1, '2026-01-02', 'minor', 1, '{}', x'00', 'b', 't', 't')",
        )
        .unwrap();
    }

    fn records(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM records", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_first_load_writes_with_a_rollback_journal_and_leaves_the_store_in_wal_mode() {
        use xinyong_store::BatchStore;
        let (dir, store) = loading_store();
        assert_eq!(file_journal(dir.path()), 1);
        assert!(!dir.path().join(format!("{}-wal", crate::DB_FILE)).exists());
        insert_record(&store.writer.lock().unwrap());
        store.finish_initial_load().unwrap();
        assert_eq!(file_journal(dir.path()), 2);
        assert!(!dir.path().join(format!("{}-journal", crate::DB_FILE)).exists(), "no journal file is left");
        drop(store);
        let store = crate::SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.read(|conn| Ok(records(conn))).unwrap(), 1);
    }

    #[test]
    fn a_store_open_in_another_process_keeps_a_first_load_in_wal_mode() {
        use xinyong_store::BatchStore;
        let dir = tempfile::tempdir().unwrap();
        let store = crate::SqliteStore::create(dir.path(), false).unwrap();
        // A second store stands for another process (the lock is per open file), open in WAL mode.
        let other = crate::SqliteStore::open(dir.path()).unwrap();
        assert!(store.begin_initial_load().unwrap(), "the indexes are still left out");
        assert_eq!(file_journal(dir.path()), 2);
        assert_eq!(other.read(|conn| Ok(records(conn))).unwrap(), 0, "the other store reads on");
        store.finish_initial_load().unwrap();
        assert_built(&other.writer.lock().unwrap());
    }

    #[test]
    fn a_store_opened_during_a_first_load_leaves_its_journal_to_it() {
        use xinyong_store::BatchStore;
        let (dir, loading) = loading_store();
        let other = crate::SqliteStore::open(dir.path()).unwrap();
        assert_eq!(file_journal(dir.path()), 1, "the file stays in rollback mode");
        assert_eq!(other.read(|conn| Ok(records(conn))).unwrap(), 0);
        loading.finish_initial_load().unwrap();
        assert_eq!(file_journal(dir.path()), 2, "back in WAL mode with the other store open");
        assert_eq!(other.read(|conn| Ok(records(conn))).unwrap(), 0);
    }

    #[test]
    fn the_bundled_sqlite_lets_the_index_build_sort_on_another_thread() {
        let (_dir, conn) = migrated();
        let threads: i64 = conn.query_row(&format!("PRAGMA threads = {BUILD_SORT_THREADS}"), [], |r| r.get(0)).unwrap();
        assert_eq!(threads, i64::from(BUILD_SORT_THREADS), "SQLite caps the setting at its compiled maximum");
    }

    #[test]
    fn the_deferred_indexes_are_those_the_migrations_create() {
        let (_dir, conn) = migrated();
        assert_built(&conn);
    }

    #[test]
    fn only_a_store_without_records_leaves_them_out_until_they_are_built() {
        let (dir, mut conn) = migrated();
        let lock = begin(&mut conn, dir.path()).unwrap();
        assert!(lock.is_some());
        for (name, _) in DEFERRED {
            assert_eq!(index_sql(&conn, name), None, "{name}");
        }
        insert_record(&conn);
        assert!(build_missing(&mut conn).unwrap());
        assert_built(&conn);
        let temp_store: i64 = conn.query_row("PRAGMA temp_store", [], |r| r.get(0)).unwrap();
        let cache: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0)).unwrap();
        let threads: i64 = conn.query_row("PRAGMA threads", [], |r| r.get(0)).unwrap();
        assert_eq!((temp_store, cache, threads), (2, -i64::from(WRITER_CACHE_KIB), 0), "the writer's pragmas are back");
        assert!(!build_missing(&mut conn).unwrap(), "nothing was missing the second time");

        drop(lock);

        // With a record in, nothing is dropped.
        assert!(begin(&mut conn, dir.path()).unwrap().is_none());
        assert_built(&conn);
    }

    #[test]
    fn a_store_opened_after_an_unfinished_first_load_builds_the_indexes() {
        let (dir, store) = loading_store();
        drop(store);
        let probe = Connection::open(dir.path().join(crate::DB_FILE)).unwrap();
        assert_eq!(index_sql(&probe, "records_subject"), None, "the load stopped before its end");
        let _store = crate::SqliteStore::open(dir.path()).unwrap();
        assert_built(&probe);
    }

    #[test]
    fn a_store_opened_during_a_first_load_in_another_process_leaves_the_indexes_to_it() {
        use xinyong_store::BatchStore;
        let (dir, loading) = loading_store();
        // The lock is per open file, so a second store in this process stands for another process.
        let other = crate::SqliteStore::open(dir.path()).unwrap();
        let probe = Connection::open(dir.path().join(crate::DB_FILE)).unwrap();
        assert_eq!(index_sql(&probe, "records_subject"), None, "left to the load");
        assert!(!other.begin_initial_load().unwrap(), "one first load at a time");
        loading.finish_initial_load().unwrap();
        assert_built(&probe);
        // Finished, the lock is free again.
        assert!(try_lock(dir.path()).unwrap().is_some());
    }
}

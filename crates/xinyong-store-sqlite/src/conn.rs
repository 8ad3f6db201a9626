//! Opening connections with the pragmas the store relies on.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use xinyong_store::{Result, StoreError};

use crate::db_err;

pub const DB_FILE: &str = "xinyong.db";

/// Pages of a new database file, in bytes (SQLite's default is 4,096). A stored record is ~900 bytes, so
/// a 4 KiB leaf holds four and wastes about a tenth of itself; 16 KiB pages also halve the B-tree pages
/// an insert touches and the WAL frames it writes. A bulk copy of 1 M records into the `records` table
/// took 8.7–10.1 s instead of 12.3–13.4 s (sqlite3 shell, 20 transactions, this machine, 2026-12-04).
/// 32 and 64 KiB were tried on 2026-12-06 and loaded no faster (`docs/ingest.md`, "Page size").
/// It applies only when the file is created: an existing store keeps its page size.
const PAGE_SIZE: u32 = 16_384;

/// How long a connection waits for another's lock before it gives up, in milliseconds.
pub const BUSY_TIMEOUT_MS: u32 = 10_000;

fn pragmas(conn: &Connection) -> Result<()> {
    conn.execute_batch(&format!(
        "PRAGMA page_size = {PAGE_SIZE};
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};
         PRAGMA temp_store = MEMORY;"
    ))
    .map_err(db_err)
}

/// The writer's page cache, in KiB: large, for ingest.
pub const WRITER_CACHE_KIB: u32 = 393_216;

/// The writer: a larger page cache for ingest; checkpoints are left to [`crate::checkpoint`]. The file is
/// switched to WAL mode, which it keeps: readers never wait for the writer.
pub fn open_writer(path: &Path) -> Result<Connection> {
    let conn = open_writer_as_found(path)?;
    use_wal(&conn)?;
    Ok(conn)
}

/// The writer, in whatever journal mode the file is in: for a store that opens while a first load in
/// another process writes with a rollback journal (see [`crate::initial_load`]).
pub fn open_writer_as_found(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).map_err(db_err)?;
    pragmas(&conn)?;
    conn.execute_batch(&format!("PRAGMA cache_size = -{WRITER_CACHE_KIB}; PRAGMA wal_autocheckpoint = 0;"))
        .map_err(db_err)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Switches the file to WAL mode; it stays in it until a connection switches it back.
pub fn use_wal(conn: &Connection) -> Result<()> {
    let mode = journal_mode(conn, "WAL").map_err(db_err)?;
    if mode != "wal" {
        return Err(StoreError::Backend(format!("the database stayed in journal mode {mode} instead of WAL")));
    }
    Ok(())
}

/// Sets the journal mode and answers the one in force afterwards (SQLite answers the old one when it
/// cannot change it).
pub fn journal_mode(conn: &Connection, mode: &str) -> rusqlite::Result<String> {
    conn.query_row(&format!("PRAGMA journal_mode = {mode}"), [], |r| r.get(0))
}

/// The checkpoint thread's connection.
pub fn open_checkpointer(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).map_err(db_err)?;
    pragmas(&conn)?;
    Ok(conn)
}

pub fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(db_err)?;
    conn.execute_batch(&format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA cache_size = -32768;"))
        .map_err(db_err)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn page_size(conn: &Connection) -> u32 {
        conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_new_file_gets_large_pages_and_an_old_file_keeps_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.db");
        let writer = open_writer(&new).unwrap();
        writer.execute_batch("CREATE TABLE t (x)").unwrap();
        assert_eq!(page_size(&writer), PAGE_SIZE);
        assert_eq!(page_size(&open_reader(&new).unwrap()), PAGE_SIZE);

        // A store created before the change: 4 KiB pages, already in WAL mode, with a row in it.
        let old = dir.path().join("old.db");
        let plain = Connection::open(&old).unwrap();
        plain.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
        drop(plain);
        let writer = open_writer(&old).unwrap();
        assert_eq!(page_size(&writer), 4096);
        writer.execute_batch("INSERT INTO t VALUES (2)").unwrap();
        let n: i64 = writer.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 2);
    }
}

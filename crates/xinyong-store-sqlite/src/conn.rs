//! Opening connections with the pragmas the store relies on.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use xinyong_store::Result;

use crate::db_err;

pub const DB_FILE: &str = "xinyong.db";

fn pragmas(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 10000;
         PRAGMA temp_store = MEMORY;",
    )
    .map_err(db_err)
}

/// The writer: a larger page cache for ingest; checkpoints are left to [`crate::checkpoint`].
pub fn open_writer(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).map_err(db_err)?;
    pragmas(&conn)?;
    conn.execute_batch("PRAGMA cache_size = -393216; PRAGMA wal_autocheckpoint = 0;").map_err(db_err)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
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
    conn.execute_batch("PRAGMA busy_timeout = 10000; PRAGMA cache_size = -32768;").map_err(db_err)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

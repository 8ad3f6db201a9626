//! Schema migrations: numbered SQL files in `migrations/`, applied in order, each in its own transaction,
//! recorded in `schema_migrations`. A database newer than this binary is refused rather than guessed at.

use rusqlite::Connection;
use xinyong_store::{Result, StoreError};

use crate::db_err;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_search.sql")),
    (3, include_str!("../migrations/0003_accounts.sql")),
];

pub fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    )
    .map_err(db_err)?;
    let newest = MIGRATIONS.last().map(|(v, _)| *v).unwrap_or(0);
    let current: i64 =
        conn.query_row("SELECT coalesce(max(version), 0) FROM schema_migrations", [], |r| r.get(0)).map_err(db_err)?;
    if current > newest {
        return Err(StoreError::Invalid(format!(
            "the database has schema version {current}, newer than this program knows ({newest}); upgrade xinyong"
        )));
    }
    // Every missing version is applied, not only those above the highest: a version may be added
    // between two others while a branch is open.
    for (version, sql) in MIGRATIONS {
        let applied: bool = conn
            .query_row("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)", [version], |r| r.get(0))
            .map_err(db_err)?;
        if applied {
            continue;
        }
        let tx = conn.transaction().map_err(db_err)?;
        tx.execute_batch(sql).map_err(db_err)?;
        tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, datetime('now'))", [version])
            .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
    }
    Ok(())
}

//! Schema migrations: numbered SQL files in `migrations/`, applied in order, each in its own transaction,
//! recorded in `schema_migrations`. A database newer than this binary is refused rather than guessed at.

use std::collections::HashSet;

use rusqlite::{Connection, TransactionBehavior};
use xinyong_store::{Result, StoreError};

use crate::db_err;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_search.sql")),
    (3, include_str!("../migrations/0003_accounts.sql")),
    (4, include_str!("../migrations/0004_workflow.sql")),
    (5, include_str!("../migrations/0005_joint.sql")),
    (6, include_str!("../migrations/0006_outbox.sql")),
    (7, include_str!("../migrations/0007_sessions.sql")),
    (8, include_str!("../migrations/0008_reports.sql")),
    (9, include_str!("../migrations/0009_evaluation.sql")),
    (10, include_str!("../migrations/0010_rejected_rows.sql")),
    (11, include_str!("../migrations/0011_login_failures.sql")),
    (12, include_str!("../migrations/0012_publication_key.sql")),
    (13, include_str!("../migrations/0013_publication_window.sql")),
];

/// Applies the main database's missing migrations, with the writer set for building indexes (some
/// migrations build one over every record).
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let pending = pending(conn, MIGRATIONS, "database")?;
    if pending.is_empty() {
        return Ok(());
    }
    crate::initial_load::with_build_settings(conn, |conn| apply_pending(conn, MIGRATIONS, &pending))
}

/// The versions of `migrations` that `conn` has not applied, found by reading alone: a store opened
/// while another process writes a batch (the write lock held for the whole batch) must not wait for
/// that lock when nothing is to be applied, as a read of a WAL database does not. Refuses a database
/// newer than this program.
fn pending(conn: &Connection, migrations: &[(i64, &str)], what: &str) -> Result<Vec<i64>> {
    let exists: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')",
            [],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    let applied: HashSet<i64> = if exists {
        let mut stmt = conn.prepare("SELECT version FROM schema_migrations").map_err(db_err)?;
        stmt.query_map([], |r| r.get(0)).map_err(db_err)?.collect::<rusqlite::Result<_>>().map_err(db_err)?
    } else {
        HashSet::new()
    };
    let newest = migrations.last().map_or(0, |(v, _)| *v);
    let current = applied.iter().copied().max().unwrap_or(0);
    if current > newest {
        return Err(StoreError::Invalid(format!(
            "the {what} has schema version {current}, newer than this program knows ({newest}); upgrade xinyong"
        )));
    }
    Ok(migrations.iter().map(|(v, _)| *v).filter(|v| !applied.contains(v)).collect())
}

/// Applies every missing migration of `migrations` to `conn` (shared by the main and the audit
/// database). Each runs in an IMMEDIATE transaction that re-checks whether it was applied, so two
/// processes opening the same store at once cannot both apply it. Every missing version is applied,
/// not only those above the highest: a version may be added between two others while a branch is open.
/// Versions already applied are found by reading first, so that opening a store takes the write lock
/// only when there is something to apply.
pub(crate) fn apply(conn: &mut Connection, migrations: &[(i64, &str)], what: &str) -> Result<()> {
    let pending = pending(conn, migrations, what)?;
    apply_pending(conn, migrations, &pending)
}

/// Applies the versions of `migrations` listed in `pending` (as [`pending`] found them), each
/// re-checked under the write lock.
fn apply_pending(conn: &mut Connection, migrations: &[(i64, &str)], pending: &[i64]) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    )
    .map_err(db_err)?;
    for (version, sql) in migrations.iter().filter(|(v, _)| pending.contains(v)) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_err)?;
        let applied: bool = tx
            .query_row("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)", [version], |r| r.get(0))
            .map_err(db_err)?;
        if applied {
            continue;
        }
        tx.execute_batch(sql).map_err(db_err)?;
        tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, datetime('now'))", [version])
            .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// Opening a store with nothing to migrate takes no write lock: it succeeds while another
    /// connection (another process's batch) holds one, as reading a WAL database does. Before, every
    /// opening checked each migration in a write transaction and failed with "database is locked"
    /// after the busy timeout.
    #[test]
    fn a_store_opens_while_another_connection_holds_the_write_lock() {
        let dir = tempfile::tempdir().unwrap();
        drop(crate::SqliteStore::create(dir.path(), false).unwrap());
        let holder = Connection::open(dir.path().join(crate::conn::DB_FILE)).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE; INSERT INTO meta (key, value) VALUES ('held', 'yes')").unwrap();
        let store = crate::SqliteStore::open(dir.path()).unwrap();
        let applied: i64 = store
            .read(|conn| conn.query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0)).map_err(db_err))
            .unwrap();
        assert_eq!(applied, MIGRATIONS.len() as i64);
        holder.execute_batch("ROLLBACK").unwrap();
    }

    /// A store newer than this program is refused, by reading alone.
    #[test]
    fn a_store_newer_than_the_program_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = crate::conn::open_writer(&dir.path().join("t.db")).unwrap();
        migrate(&mut conn).unwrap();
        conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 'now')", []).unwrap();
        let refused = migrate(&mut conn).unwrap_err().to_string();
        assert!(refused.contains("schema version 999, newer than this program knows"), "{refused}");
    }

    /// A store from before migration 12 (the publication index on one key) or 13 (the index partial,
    /// with the window and the unit) finds its published record through the index once migrated.
    #[test]
    fn a_store_from_before_the_publication_index_finds_its_records_through_it() {
        for first_missing in [12, 13] {
            let dir = tempfile::tempdir().unwrap();
            let mut conn = crate::conn::open_writer(&dir.path().join("t.db")).unwrap();
            let before = MIGRATIONS.iter().position(|(v, _)| *v == first_missing).unwrap();
            apply(&mut conn, &MIGRATIONS[..before], "database").unwrap();
            crate::initial_load::tests::insert_record(&conn);
            migrate(&mut conn).unwrap();
            let sql: String = conn
                .query_row("SELECT sql FROM sqlite_master WHERE name = 'records_item_date'", [], |r| r.get(0))
                .unwrap();
            assert!(sql.contains("(item || ' ' || record_date, public_until, unit) WHERE"), "{sql}");
            let found: String = conn
                .query_row(
                    "SELECT source_key FROM records INDEXED BY records_item_date
                     WHERE item || ' ' || record_date BETWEEN 'admin_penalty 2026-01-01' AND 'admin_penalty 2026-01-31'
                         AND status = 'active' AND published = 1",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(found, "k1", "from before migration {first_missing}");
        }
    }
}

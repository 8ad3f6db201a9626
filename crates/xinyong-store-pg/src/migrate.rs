//! Schema migrations: numbered SQL files in `migrations/`, applied in order, each in its own
//! transaction, recorded in `schema_migrations` (as in the embedded store). Every missing version is
//! applied, not only those above the highest; a database newer than this binary is refused.
//!
//! Two processes opening a fresh database at once are serialised by a transaction-level advisory lock,
//! and each migration re-checks inside it whether it was applied meanwhile.

use xinyong_store::{Result, StoreError};

use crate::pool::{Conn, SCHEMA};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_audit.sql")),
    (3, include_str!("../migrations/0003_workflow.sql")),
    (4, include_str!("../migrations/0004_joint.sql")),
    (5, include_str!("../migrations/0005_outbox.sql")),
    (6, include_str!("../migrations/0006_sessions.sql")),
    (7, include_str!("../migrations/0007_reports.sql")),
    (8, include_str!("../migrations/0008_evaluation.sql")),
    (9, include_str!("../migrations/0009_rejected_rows.sql")),
    (10, include_str!("../migrations/0010_ingest_commits.sql")),
    (11, include_str!("../migrations/0011_ingest_commits_random_start.sql")),
    (12, include_str!("../migrations/0012_login_failures.sql")),
    (13, include_str!("../migrations/0013_item_numbers.sql")),
    (14, include_str!("../migrations/0014_deferred_indexes.sql")),
    (15, include_str!("../migrations/0015_publication_window.sql")),
];

/// Advisory lock key of migrations ("xymigr" in ASCII).
const LOCK: i64 = 0x78_79_6d_69_67_72;

/// Whether the schema exists with its migration ledger (a platform was made here).
pub fn is_initialised(conn: &mut Conn) -> Result<bool> {
    let row = conn.query_one(
        "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'schema_migrations')",
        &[&SCHEMA],
    )?;
    Ok(row.get(0))
}

pub fn migrate(conn: &mut Conn) -> Result<()> {
    let newest = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    conn.transaction(|c| {
        c.client.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK]).map_err(crate::db_err)?;
        c.client
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {SCHEMA};
                 CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_migrations (version bigint PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            ))
            .map_err(crate::db_err)
    })?;
    let current: i64 = conn.query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[])?.get(0);
    if current > newest {
        return Err(StoreError::Invalid(format!(
            "the database has schema version {current}, newer than this program knows ({newest}); upgrade xinyong"
        )));
    }
    for (version, sql) in MIGRATIONS {
        conn.transaction(|c| {
            c.client.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK]).map_err(crate::db_err)?;
            let applied: bool = c
                .client
                .query_one("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)", &[version])
                .map_err(crate::db_err)?
                .get(0);
            if applied {
                return Ok(());
            }
            c.client.batch_execute(sql).map_err(crate::db_err)?;
            c.client
                .execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[version])
                .map_err(crate::db_err)?;
            Ok(())
        })?;
    }
    Ok(())
}

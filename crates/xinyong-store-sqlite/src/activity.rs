//! Use figures for the dashboards: the query log (its own database file) and the workflow cases.

use rusqlite::Connection;
use xinyong_store::Result;
use xinyong_store::activity::{ActivityStats, ActivityStore, CaseCount};

use crate::{SqliteStore, db_err};

fn pairs(conn: &Connection, sql: &str) -> Result<Vec<(String, u64)>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))).map_err(db_err)?;
    rows.map(|r| r.map_err(db_err)).collect()
}

impl ActivityStore for SqliteStore {
    fn activity_stats(&self) -> Result<ActivityStats> {
        let mut stats = self.audit.read_with(|conn| {
            Ok(ActivityStats {
                queries_by_channel: pairs(
                    conn,
                    "SELECT channel, count(*) FROM audit WHERE purpose IS NOT NULL GROUP BY channel ORDER BY 2 DESC",
                )?,
                queries_by_purpose: pairs(
                    conn,
                    "SELECT purpose, count(*) FROM audit WHERE purpose IS NOT NULL GROUP BY purpose ORDER BY 2 DESC",
                )?,
                queries_by_month: pairs(
                    conn,
                    "SELECT substr(at, 1, 7), count(*) FROM audit WHERE purpose IS NOT NULL GROUP BY 1 ORDER BY 1",
                )?,
                cases: Vec::new(),
            })
        })?;
        stats.cases = self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT kind, status, open, count(*),
                            sum(EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.late = 1))
                     FROM cases c GROUP BY kind, status, open ORDER BY kind, open DESC, status",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(CaseCount {
                        kind: r.get(0)?,
                        status: r.get(1)?,
                        open: r.get(2)?,
                        cases: r.get::<_, i64>(3)? as u64,
                        late: r.get::<_, i64>(4)? as u64,
                    })
                })
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })?;
        Ok(stats)
    }
}

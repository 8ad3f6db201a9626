//! Use figures for the dashboards: the query log and the workflow cases.

use xinyong_store::Result;
use xinyong_store::activity::{ActivityStats, ActivityStore, CaseCount};

use crate::PgStore;
use crate::pool::Conn;

fn pairs(c: &mut Conn, sql: &'static str) -> Result<Vec<(String, u64)>> {
    Ok(c.query(sql, &[])?.into_iter().map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64)).collect())
}

impl ActivityStore for PgStore {
    fn activity_stats(&self) -> Result<ActivityStats> {
        self.with(|c| {
            let queries_by_channel = pairs(
                c,
                "SELECT channel, count(*) FROM audit WHERE purpose IS NOT NULL GROUP BY channel ORDER BY 2 DESC",
            )?;
            let queries_by_purpose = pairs(
                c,
                "SELECT purpose, count(*) FROM audit WHERE purpose IS NOT NULL GROUP BY purpose ORDER BY 2 DESC",
            )?;
            let queries_by_month = pairs(
                c,
                "SELECT substr(at, 1, 7), count(*) FROM audit WHERE purpose IS NOT NULL GROUP BY 1 ORDER BY 1",
            )?;
            let cases = c
                .query(
                    "SELECT kind, status, open, count(*),
                            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM case_events e WHERE e.subject_id = c.subject_id AND e.case_id = c.id AND e.late))
                     FROM cases c GROUP BY kind, status, open ORDER BY kind, open DESC, status",
                    &[],
                )?
                .into_iter()
                .map(|r| CaseCount {
                    kind: r.get(0),
                    status: r.get(1),
                    open: r.get(2),
                    cases: r.get::<_, i64>(3) as u64,
                    late: r.get::<_, i64>(4) as u64,
                })
                .collect();
            Ok(ActivityStats { queries_by_channel, queries_by_purpose, queries_by_month, cases })
        })
    }
}

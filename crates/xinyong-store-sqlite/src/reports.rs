//! Credit reports issued, in the embedded store. The free-report count and the insert share the
//! writer's transaction, so the quota holds under concurrent requests.

use rusqlite::{Connection, OptionalExtension, Row, params};
use xinyong_store::reports::{FreeQuota, NewReport, ReportStore, Saved, StoredReport};
use xinyong_store::{Result, StoreError, Timestamp};

use crate::subjects::time;
use crate::{SqliteStore, db_err};

const COLUMNS: &str = "id, number, subject_id, kind, issued_at, account_id, issued_to, purpose, free, body";

type Raw = (i64, String, i64, String, String, Option<i64>, String, String, bool, String);

fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?))
}

fn into_report(raw: Raw) -> Result<StoredReport> {
    let (id, number, subject_id, kind, issued_at, account_id, issued_to, purpose, free, body) = raw;
    Ok(StoredReport {
        id,
        number,
        subject_id,
        kind,
        issued_at: time(&issued_at)?,
        account_id,
        issued_to,
        purpose,
        free,
        body,
    })
}

/// Free reports at or after `since` (times compared as instants, whatever their offsets).
fn count_free(conn: &Connection, subject_id: i64, since: Timestamp) -> Result<u64> {
    let mut stmt =
        conn.prepare_cached("SELECT issued_at FROM reports WHERE subject_id = ?1 AND free = 1").map_err(db_err)?;
    let times = stmt.query_map([subject_id], |r| r.get::<_, String>(0)).map_err(db_err)?;
    let mut n = 0;
    for t in times {
        if time(&t.map_err(db_err)?)? >= since {
            n += 1;
        }
    }
    Ok(n)
}

impl ReportStore for SqliteStore {
    fn save_report(&self, new: &NewReport, quota: Option<FreeQuota>) -> Result<Saved> {
        self.write(|conn| {
            let tx = conn.transaction().map_err(db_err)?;
            if let Some(q) = quota {
                let used = count_free(&tx, new.subject_id, q.since)?;
                if used >= q.limit {
                    return Ok(Saved::QuotaUsed { used });
                }
            }
            let taken: bool = tx
                .query_row("SELECT EXISTS (SELECT 1 FROM reports WHERE number = ?1)", [&new.number], |r| r.get(0))
                .map_err(db_err)?;
            if taken {
                return Err(StoreError::Conflict(format!("report number {} exists", new.number)));
            }
            let row = tx
                .query_row(
                    &format!(
                        "INSERT INTO reports (number, subject_id, kind, issued_at, account_id, issued_to, purpose, free, body)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING {COLUMNS}"
                    ),
                    params![
                        new.number,
                        new.subject_id,
                        new.kind,
                        new.issued_at.to_rfc3339(),
                        new.account_id,
                        new.issued_to,
                        new.purpose,
                        new.free,
                        new.body
                    ],
                    raw,
                )
                .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            Ok(Saved::Stored(into_report(row)?))
        })
    }

    fn report(&self, id: i64) -> Result<Option<StoredReport>> {
        let row = self.read(|conn| {
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM reports WHERE id = ?1"))
                .map_err(db_err)?
                .query_row([id], raw)
                .optional()
                .map_err(db_err)
        })?;
        row.map(into_report).transpose()
    }

    fn report_by_number(&self, number: &str) -> Result<Option<StoredReport>> {
        let row = self.read(|conn| {
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM reports WHERE number = ?1"))
                .map_err(db_err)?
                .query_row([number], raw)
                .optional()
                .map_err(db_err)
        })?;
        row.map(into_report).transpose()
    }

    fn free_reports_since(&self, subject_id: i64, since: Timestamp) -> Result<u64> {
        self.read(|conn| count_free(conn, subject_id, since))
    }
}

//! Credit reports issued, on PostgreSQL. The free-report quota is checked and the report inserted in
//! one transaction holding a per-subject advisory lock, so concurrent requests cannot both take the
//! last free report; the number's uniqueness is checked under a lock on the number.

use postgres::Row;
use xinyong_store::reports::{FreeQuota, NewReport, ReportStore, Saved, StoredReport};
use xinyong_store::{Result, StoreError, Timestamp};

use crate::PgStore;

macro_rules! columns {
    () => {
        "id, number, subject_id, kind, issued_at, account_id, issued_to, purpose, free, body"
    };
}

/// Advisory lock namespace of report issuing ("xyrp" in ASCII).
const LOCK_SPACE: i32 = 0x7879_7270;

fn from_row(r: &Row) -> StoredReport {
    StoredReport {
        id: r.get(0),
        number: r.get(1),
        subject_id: r.get(2),
        kind: r.get(3),
        issued_at: r.get(4),
        account_id: r.get(5),
        issued_to: r.get(6),
        purpose: r.get(7),
        free: r.get(8),
        body: r.get(9),
    }
}

fn lock_key(text: &str) -> i32 {
    text.bytes().fold(0i32, |h, b| h.wrapping_mul(31).wrapping_add(i32::from(b)))
}

impl ReportStore for PgStore {
    fn save_report(&self, new: &NewReport, quota: Option<FreeQuota>) -> Result<Saved> {
        self.with(|c| {
            c.transaction(|c| {
                let subject_lock = i32::try_from(new.subject_id.rem_euclid(i64::from(i32::MAX))).unwrap_or(0);
                c.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&LOCK_SPACE, &subject_lock])?;
                c.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&(LOCK_SPACE + 1), &lock_key(&new.number)])?;
                if let Some(q) = quota {
                    let used: i64 = c
                        .query_one(
                            "SELECT count(*) FROM reports WHERE subject_id = $1 AND free AND issued_at >= $2",
                            &[&new.subject_id, &q.since],
                        )?
                        .get(0);
                    let used = u64::try_from(used).unwrap_or(0);
                    if used >= q.limit {
                        return Ok(Saved::QuotaUsed { used });
                    }
                }
                let taken: bool =
                    c.query_one("SELECT EXISTS (SELECT 1 FROM reports WHERE number = $1)", &[&new.number])?.get(0);
                if taken {
                    return Err(StoreError::Conflict(format!("report number {} exists", new.number)));
                }
                let row = c.query_one(
                    concat!(
                        "INSERT INTO reports (number, subject_id, kind, issued_at, account_id, issued_to, purpose, free, body)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ",
                        columns!()
                    ),
                    &[
                        &new.number,
                        &new.subject_id,
                        &new.kind,
                        &new.issued_at,
                        &new.account_id,
                        &new.issued_to,
                        &new.purpose,
                        &new.free,
                        &new.body,
                    ],
                )?;
                Ok(Saved::Stored(from_row(&row)))
            })
        })
    }

    fn report(&self, id: i64) -> Result<Option<StoredReport>> {
        let row = self.with(|c| c.query_opt(concat!("SELECT ", columns!(), " FROM reports WHERE id = $1"), &[&id]))?;
        Ok(row.as_ref().map(from_row))
    }

    fn report_by_number(&self, number: &str) -> Result<Option<StoredReport>> {
        let row =
            self.with(|c| c.query_opt(concat!("SELECT ", columns!(), " FROM reports WHERE number = $1"), &[&number]))?;
        Ok(row.as_ref().map(from_row))
    }

    fn free_reports_since(&self, subject_id: i64, since: Timestamp) -> Result<u64> {
        let row = self.with(|c| {
            c.query_one(
                "SELECT count(*) FROM reports WHERE subject_id = $1 AND free AND issued_at >= $2",
                &[&subject_id, &since],
            )
        })?;
        let n: i64 = row.get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

//! The audit trail (DOMAIN.md §9) in the `audit` table, partitioned by month (migration 0002).
//!
//! Invariants:
//! - one transaction per append, durable at commit (`synchronous_commit` on);
//! - the head (`audit_head`, one row) is locked first, so appenders queue and the chain never forks;
//!   the insert trigger checks that each entry extends the head and advances it;
//! - append-only in the database itself (triggers refuse UPDATE, DELETE, TRUNCATE); the chain and the
//!   signed checkpoints show it if someone drops them;
//! - `at` keeps the entry's time as the chain hash covered it (RFC 3339 text with its offset);
//!   `at_utc` is the same moment as `timestamptz`, for partitioning and retention.
//!
//! The embedded store keeps its trail in a second file so that audit writes never queue behind an
//! ingest batch (SQLite has one write lock per file). PostgreSQL locks rows, so one database serves
//! both: an append waits only for another append.

use chrono::{Datelike, Months, NaiveDate, Utc};
use postgres::Row;
use xinyong_store::audit::{AuditCheckpoint, AuditEntry, AuditRecord, AuditStore, chain_hash};
use xinyong_store::{Result, StoreError};

use crate::pool::Conn;
use crate::subjects::time;
use crate::{PgStore, db_err, poisoned};

macro_rules! audit_columns {
    () => {
        "seq, at, account_id, account_name, unit, role, action, subject_id, purpose, channel, outcome, detail, \
         request_id, prev_hash, hash"
    };
}

/// The partition of a month: its name and its bounds (UTC).
fn month_partition(day: NaiveDate) -> Option<(String, String, String)> {
    let first = day.with_day(1)?;
    let next = first.checked_add_months(Months::new(1))?;
    let bound = |d: NaiveDate| format!("{}T00:00:00Z", d.format("%Y-%m-%d"));
    Some((format!("audit_{}", first.format("%Y_%m")), bound(first), bound(next)))
}

impl PgStore {
    /// Makes the monthly partitions the entries need. Runs under the head's lock, so two appenders
    /// never make the same partition at once.
    fn ensure_partitions(&self, c: &mut Conn, entries: &[AuditEntry]) -> Result<()> {
        for entry in entries {
            let day = entry.at.with_timezone(&Utc).date_naive();
            let (name, from, to) = month_partition(day)
                .ok_or_else(|| StoreError::Invalid(format!("audit time {} is out of range", entry.at)))?;
            if self.audit_months.lock().map_err(|_| poisoned())?.contains(&name) {
                continue;
            }
            c.client
                .batch_execute(&format!(
                    "CREATE TABLE IF NOT EXISTS {name} PARTITION OF audit FOR VALUES FROM ('{from}') TO ('{to}')"
                ))
                .map_err(db_err)?;
            self.audit_months.lock().map_err(|_| poisoned())?.insert(name);
        }
        Ok(())
    }
}

impl AuditStore for PgStore {
    fn append_audit(&self, entries: &[AuditEntry]) -> Result<Vec<AuditRecord>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let out = self.with(|conn| {
            conn.transaction(|c| {
                let head = c.query_one("SELECT seq, hash FROM audit_head FOR UPDATE", &[])?;
                let (mut seq, mut prev_hash): (i64, Vec<u8>) = (head.get(0), head.get(1));
                self.ensure_partitions(c, entries)?;
                let mut out = Vec::with_capacity(entries.len());
                for entry in entries {
                    seq += 1;
                    let hash = chain_hash(&prev_hash, seq, entry);
                    let purpose = entry.purpose.map(|p| code(serde_json::to_value(p))).transpose()?;
                    c.execute(
                        concat!(
                            "INSERT INTO audit (",
                            audit_columns!(),
                            ", at_utc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
                        ),
                        &[
                            &seq,
                            &entry.at.to_rfc3339(),
                            &entry.account_id,
                            &entry.account_name,
                            &entry.unit,
                            &code(serde_json::to_value(entry.role))?,
                            &entry.action,
                            &entry.subject_id,
                            &purpose,
                            &code(serde_json::to_value(entry.channel))?,
                            &entry.outcome,
                            &entry.detail,
                            &entry.request_id,
                            &prev_hash,
                            &hash,
                            &entry.at.with_timezone(&Utc),
                        ],
                    )?;
                    out.push(AuditRecord { seq, entry: entry.clone(), prev_hash, hash: hash.clone() });
                    prev_hash = hash;
                }
                Ok(out)
            })
        });
        if out.is_err() {
            // A partition made in a rolled-back transaction is gone again.
            self.audit_months.lock().map_err(|_| poisoned())?.clear();
        }
        out
    }

    fn audit_after(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>> {
        let rows = self.with(|c| {
            c.query(
                concat!("SELECT ", audit_columns!(), " FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2"),
                &[&after, &i64::from(limit)],
            )
        })?;
        rows.iter().map(to_record).collect()
    }

    fn audit_of_subject(&self, subject_id: i64, limit: u32, offset: u32) -> Result<Vec<AuditRecord>> {
        let rows = self.with(|c| {
            c.query(
                concat!(
                    "SELECT ",
                    audit_columns!(),
                    " FROM audit WHERE subject_id = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3"
                ),
                &[&subject_id, &i64::from(limit), &i64::from(offset)],
            )
        })?;
        rows.iter().map(to_record).collect()
    }

    fn add_checkpoint(&self, checkpoint: &AuditCheckpoint) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES ($1, $2, $3, $4, $5)",
                &[
                    &checkpoint.seq,
                    &checkpoint.hash,
                    &checkpoint.at.to_rfc3339(),
                    &checkpoint.key_id,
                    &checkpoint.signature,
                ],
            )
        })?;
        Ok(())
    }

    /// In the order they were added.
    fn checkpoints(&self) -> Result<Vec<AuditCheckpoint>> {
        let rows =
            self.with(|c| c.query("SELECT seq, hash, at, key_id, signature FROM audit_checkpoints ORDER BY id", &[]))?;
        rows.iter()
            .map(|r| {
                Ok(AuditCheckpoint {
                    seq: r.get(0),
                    hash: r.get(1),
                    at: time(r.get(2))?,
                    key_id: r.get(3),
                    signature: r.get(4),
                })
            })
            .collect()
    }
}

fn to_record(r: &Row) -> Result<AuditRecord> {
    let entry = AuditEntry {
        at: time(r.get(1))?,
        account_id: r.get(2),
        account_name: r.get(3),
        unit: r.get(4),
        role: parse(r.get(5), serde_json::from_value)?,
        action: r.get(6),
        subject_id: r.get(7),
        purpose: r.get::<_, Option<&str>>(8).map(|p| parse(p, serde_json::from_value)).transpose()?,
        channel: parse(r.get(9), serde_json::from_value)?,
        outcome: r.get(10),
        detail: r.get(11),
        request_id: r.get(12),
    };
    Ok(AuditRecord { seq: r.get(0), entry, prev_hash: r.get(13), hash: r.get(14) })
}

/// Role, purpose and channel are stored by their serde names, the spelling the API and the chained
/// JSON use. `value` is `serde_json::to_value(x)`.
fn code(value: serde_json::Result<serde_json::Value>) -> Result<String> {
    match value {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(StoreError::Invalid("an audit code must serialise to a string".into())),
    }
}

/// The inverse of [`code`], with `serde_json::from_value` for the type wanted.
fn parse<T>(code: &str, from: fn(serde_json::Value) -> serde_json::Result<T>) -> Result<T> {
    from(serde_json::Value::String(code.to_owned()))
        .map_err(|e| StoreError::Corrupt(format!("audit code {code:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_partition_spans_its_month_in_utc() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default();
        assert_eq!(
            month_partition(day),
            Some(("audit_2026_12".into(), "2026-12-01T00:00:00Z".into(), "2027-01-01T00:00:00Z".into()))
        );
    }
}

//! Commitments (`xinyong_store::commitment`) on the writer connection: filing and recording fulfilment
//! are one IMMEDIATE transaction each, with the history event in it.

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use xinyong_store::commitment::{Commitment, CommitmentFilter, CommitmentStep, CommitmentStore, NewCommitment};
use xinyong_store::workflow::NewEvent;
use xinyong_store::{Result, StoreError, Timestamp};

use crate::subjects::{corrupt, date, time};
use crate::workflow::events;
use crate::{SqliteStore, db_err};

const COLUMNS: &str = "id, subject_id, kind, matter, unit, content, made_on, due, status, record_id, data, opened_by, created_at, updated_at";

type Raw = (i64, i64, String, String, String, String, String, String, String, Option<i64>, String, i64, String, String);

fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
        r.get(13)?,
    ))
}

fn commitment(conn: &Connection, raw: Raw) -> Result<Commitment> {
    let (
        id,
        subject_id,
        kind,
        matter,
        unit,
        content,
        made_on,
        due,
        status,
        record_id,
        data,
        opened_by,
        created,
        updated,
    ) = raw;
    Ok(Commitment {
        id,
        subject_id,
        kind,
        matter,
        unit,
        content,
        date: date(&made_on)?,
        due: date(&due)?,
        status,
        record_id,
        data: serde_json::from_str(&data).map_err(|e| corrupt("commitment data", e))?,
        opened_by,
        created_at: time(&created)?,
        updated_at: time(&updated)?,
        history: events(conn, "commitment_events", "commitment_id", id)?,
    })
}

fn append_event(
    tx: &Connection,
    id: i64,
    at: Timestamp,
    e: &NewEvent,
    from: Option<&str>,
    to: &str,
    deadline: Option<NaiveDate>,
) -> Result<()> {
    let seq: i64 = tx
        .query_row("SELECT coalesce(max(seq), 0) + 1 FROM commitment_events WHERE commitment_id = ?1", [id], |r| {
            r.get(0)
        })
        .map_err(db_err)?;
    tx.execute(
        "INSERT INTO commitment_events (commitment_id, seq, at, actor, actor_name, action, from_status, to_status,
            note, deadline, late)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            id,
            seq,
            at.to_rfc3339(),
            e.actor,
            e.actor_name,
            e.action,
            from,
            to,
            e.note,
            deadline.map(|d| d.to_string()),
            e.late
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

/// Moves a commitment from `step.from` to `step.to` with its history event, inside the caller's
/// transaction; `record` links the dishonesty record a breach filed in the same transaction.
pub(crate) fn settle(tx: &Connection, step: &CommitmentStep, record: Option<i64>) -> Result<()> {
    let current: Option<(String, String)> = tx
        .query_row("SELECT status, data FROM commitments WHERE id = ?1", [step.id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db_err)?;
    let Some((status, data)) = current else {
        return Err(StoreError::NotFound(format!("commitment {}", step.id)));
    };
    if status != step.from {
        return Err(StoreError::Conflict(format!(
            "commitment {} is {status} now, not {}: reload it and try again",
            step.id, step.from
        )));
    }
    let mut data: serde_json::Value = serde_json::from_str(&data).map_err(|e| corrupt("commitment data", e))?;
    if let Some(obj) = data.as_object_mut() {
        obj.extend(step.data.clone());
    }
    tx.execute(
        "UPDATE commitments SET status = ?2, data = ?3, updated_at = ?4, record_id = coalesce(?5, record_id)
         WHERE id = ?1",
        params![step.id, step.to, data.to_string(), step.at.to_rfc3339(), record],
    )
    .map_err(db_err)?;
    append_event(tx, step.id, step.at, &step.event, Some(&step.from), &step.to, None)
}

impl SqliteStore {
    fn commitment_tx<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_err)?;
            let out = f(&tx)?;
            tx.commit().map_err(db_err)?;
            Ok(out)
        })
    }
}

impl CommitmentStore for SqliteStore {
    fn file_commitment(&self, new: &NewCommitment) -> Result<Commitment> {
        let id = self.commitment_tx(|tx| {
            tx.execute(
                "INSERT INTO commitments (subject_id, kind, matter, unit, content, made_on, due, status, data,
                    opened_by, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', '{}', ?8, ?9, ?9)",
                params![
                    new.subject_id,
                    new.kind,
                    new.matter,
                    new.unit,
                    new.content,
                    new.date.to_string(),
                    new.due.to_string(),
                    new.event.actor,
                    new.at.to_rfc3339()
                ],
            )
            .map_err(db_err)?;
            let id = tx.last_insert_rowid();
            append_event(tx, id, new.at, &new.event, None, "pending", Some(new.due))?;
            Ok(id)
        })?;
        self.commitment(id)?.ok_or_else(|| StoreError::NotFound(format!("commitment {id}")))
    }

    fn commitment(&self, id: i64) -> Result<Option<Commitment>> {
        self.read(|conn| {
            let row = conn
                .query_row(&format!("SELECT {COLUMNS} FROM commitments WHERE id = ?1"), [id], raw)
                .optional()
                .map_err(db_err)?;
            row.map(|r| commitment(conn, r)).transpose()
        })
    }

    fn settle_commitment(&self, step: &CommitmentStep) -> Result<Commitment> {
        self.commitment_tx(|tx| settle(tx, step, None))?;
        self.commitment(step.id)?.ok_or_else(|| StoreError::NotFound(format!("commitment {}", step.id)))
    }

    fn commitments(&self, f: &CommitmentFilter) -> Result<(Vec<Commitment>, u64)> {
        use rusqlite::types::Value as V;
        let mut clauses: Vec<&str> = Vec::new();
        let mut args: Vec<V> = Vec::new();
        if let Some(s) = f.subject_id {
            clauses.push("subject_id = ?");
            args.push(V::Integer(s));
        }
        if let Some(u) = &f.unit {
            clauses.push("unit = ?");
            args.push(V::Text(u.clone()));
        }
        if let Some(s) = &f.status {
            clauses.push("status = ?");
            args.push(V::Text(s.clone()));
        }
        if let Some(day) = f.overdue_on {
            clauses.push("status = 'pending' AND due < ?");
            args.push(V::Text(day.to_string()));
        }
        let filter = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        self.read(|conn| {
            let total: i64 = conn
                .query_row(
                    &format!("SELECT count(*) FROM commitments {filter}"),
                    rusqlite::params_from_iter(&args),
                    |r| r.get(0),
                )
                .map_err(db_err)?;
            let mut page = args.clone();
            page.push(V::Integer(i64::from(f.limit.max(1))));
            page.push(V::Integer(i64::from(f.offset)));
            let sql = format!("SELECT {COLUMNS} FROM commitments {filter} ORDER BY id DESC LIMIT ? OFFSET ?");
            let mut stmt = conn.prepare(&sql).map_err(db_err)?;
            let raws = stmt
                .query_map(rusqlite::params_from_iter(&page), raw)
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            let items = raws.into_iter().map(|r| commitment(conn, r)).collect::<Result<Vec<_>>>()?;
            Ok((items, total as u64))
        })
    }

    fn overdue_commitments(&self, today: NaiveDate) -> Result<u64> {
        self.read(|conn| {
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM commitments WHERE status = 'pending' AND due < ?1",
                    [today.to_string()],
                    |r| r.get(0),
                )
                .map_err(db_err)?;
            Ok(n as u64)
        })
    }
}

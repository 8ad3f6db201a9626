//! Commitments (`xinyong_store::commitment`), as the embedded store keeps them: filing and recording
//! fulfilment are one transaction each; a step locks the commitment's row, checks its status, updates
//! it and appends the history event. Commitments and their events carry the subject id as their
//! distribution column (migrations/0008_evaluation.sql).

use chrono::NaiveDate;
use postgres::Row;
use xinyong_store::commitment::{Commitment, CommitmentFilter, CommitmentStep, CommitmentStore, NewCommitment};
use xinyong_store::workflow::NewEvent;
use xinyong_store::{Result, StoreError, Timestamp};

use crate::PgStore;
use crate::pool::Conn;
use crate::subjects::{corrupt, time};
use crate::workflow::event_from_row;

macro_rules! columns {
    () => {
        "id, subject_id, kind, matter, unit, content, made_on, due, status, record_id, data, opened_by, created_at, \
         updated_at"
    };
}

macro_rules! filter {
    () => {
        " FROM commitments
         WHERE ($1::bigint IS NULL OR subject_id = $1)
           AND ($2::text IS NULL OR unit = $2)
           AND ($3::text IS NULL OR status = $3)
           AND ($4::date IS NULL OR (status = 'pending' AND due < $4))"
    };
}

fn from_row(r: &Row) -> Result<Commitment> {
    let data: &str = r.try_get(10).map_err(crate::db_err)?;
    Ok(Commitment {
        id: r.try_get(0).map_err(crate::db_err)?,
        subject_id: r.try_get(1).map_err(crate::db_err)?,
        kind: r.try_get(2).map_err(crate::db_err)?,
        matter: r.try_get(3).map_err(crate::db_err)?,
        unit: r.try_get(4).map_err(crate::db_err)?,
        content: r.try_get(5).map_err(crate::db_err)?,
        date: r.try_get(6).map_err(crate::db_err)?,
        due: r.try_get(7).map_err(crate::db_err)?,
        status: r.try_get(8).map_err(crate::db_err)?,
        record_id: r.try_get(9).map_err(crate::db_err)?,
        data: serde_json::from_str(data).map_err(|e| corrupt("commitment data", e))?,
        opened_by: r.try_get(11).map_err(crate::db_err)?,
        created_at: time(r.try_get(12).map_err(crate::db_err)?)?,
        updated_at: time(r.try_get(13).map_err(crate::db_err)?)?,
        history: Vec::new(),
    })
}

fn attach_history(c: &mut Conn, items: &mut [Commitment]) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = items.iter().map(|x| x.id).collect();
    let rows = c.query(
        "SELECT commitment_id, seq, at, actor, actor_name, action, from_status, to_status, note, deadline, late
         FROM commitment_events WHERE commitment_id = ANY($1) ORDER BY commitment_id, seq",
        &[&ids],
    )?;
    for row in &rows {
        let id: i64 = row.try_get(0).map_err(crate::db_err)?;
        let event = event_from_row(row)?;
        if let Some(item) = items.iter_mut().find(|x| x.id == id) {
            item.history.push(event);
        }
    }
    Ok(())
}

fn read(c: &mut Conn, id: i64) -> Result<Option<Commitment>> {
    let Some(row) = c.query_opt(concat!("SELECT ", columns!(), " FROM commitments WHERE id = $1"), &[&id])? else {
        return Ok(None);
    };
    let mut items = [from_row(&row)?];
    attach_history(c, &mut items)?;
    let [item] = items;
    Ok(Some(item))
}

#[allow(clippy::too_many_arguments)]
fn append_event(
    c: &mut Conn,
    subject_id: i64,
    id: i64,
    at: Timestamp,
    e: &NewEvent,
    from: Option<&str>,
    to: &str,
    deadline: Option<NaiveDate>,
) -> Result<()> {
    let at = at.to_rfc3339();
    c.execute(
        "INSERT INTO commitment_events (subject_id, commitment_id, seq, at, actor, actor_name, action, from_status,
            to_status, note, deadline, late)
         SELECT $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $5, $6, $7, $8, $9, $10, $11
         FROM commitment_events WHERE subject_id = $1 AND commitment_id = $2",
        &[&subject_id, &id, &at, &e.actor, &e.actor_name, &e.action, &from, &to, &e.note, &deadline, &e.late],
    )?;
    Ok(())
}

/// Moves a commitment from `step.from` to `step.to` with its history event, inside the caller's
/// transaction (the commitment's row locked); `record` links the dishonesty record a breach filed in
/// the same transaction.
pub(crate) fn settle(c: &mut Conn, step: &CommitmentStep, record: Option<i64>) -> Result<()> {
    let Some(row) =
        c.query_opt("SELECT subject_id, status, data FROM commitments WHERE id = $1 FOR UPDATE", &[&step.id])?
    else {
        return Err(StoreError::NotFound(format!("commitment {}", step.id)));
    };
    let subject_id: i64 = row.try_get(0).map_err(crate::db_err)?;
    let status: String = row.try_get(1).map_err(crate::db_err)?;
    let data: &str = row.try_get(2).map_err(crate::db_err)?;
    if status != step.from {
        return Err(StoreError::Conflict(format!(
            "commitment {} is {status} now, not {}: reload it and try again",
            step.id, step.from
        )));
    }
    let mut data: serde_json::Value = serde_json::from_str(data).map_err(|e| corrupt("commitment data", e))?;
    if let Some(obj) = data.as_object_mut() {
        obj.extend(step.data.clone());
    }
    let (data, at) = (data.to_string(), step.at.to_rfc3339());
    c.execute(
        "UPDATE commitments SET status = $3, data = $4, updated_at = $5, record_id = coalesce($6, record_id)
         WHERE subject_id = $1 AND id = $2",
        &[&subject_id, &step.id, &step.to, &data, &at, &record],
    )?;
    append_event(c, subject_id, step.id, step.at, &step.event, Some(&step.from), &step.to, None)
}

impl CommitmentStore for PgStore {
    fn file_commitment(&self, new: &NewCommitment) -> Result<Commitment> {
        let at = new.at.to_rfc3339();
        self.with(|c| {
            let id = c.transaction(|c| {
                let row = c.query_one(
                    "INSERT INTO commitments (subject_id, kind, matter, unit, content, made_on, due, status, data,
                        opened_by, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', '{}', $8, $9, $9) RETURNING id",
                    &[
                        &new.subject_id,
                        &new.kind,
                        &new.matter,
                        &new.unit,
                        &new.content,
                        &new.date,
                        &new.due,
                        &new.event.actor,
                        &at,
                    ],
                )?;
                let id: i64 = row.try_get(0).map_err(crate::db_err)?;
                append_event(c, new.subject_id, id, new.at, &new.event, None, "pending", Some(new.due))?;
                Ok(id)
            })?;
            read(c, id)?.ok_or_else(|| StoreError::NotFound(format!("commitment {id}")))
        })
    }

    fn commitment(&self, id: i64) -> Result<Option<Commitment>> {
        self.with(|c| read(c, id))
    }

    fn settle_commitment(&self, step: &CommitmentStep) -> Result<Commitment> {
        self.with(|c| {
            c.transaction(|c| settle(c, step, None))?;
            read(c, step.id)?.ok_or_else(|| StoreError::NotFound(format!("commitment {}", step.id)))
        })
    }

    fn commitments(&self, f: &CommitmentFilter) -> Result<(Vec<Commitment>, u64)> {
        let (limit, offset) = (i64::from(f.limit.max(1)), i64::from(f.offset));
        self.with(|c| {
            let params: [&(dyn postgres::types::ToSql + Sync); 4] = [&f.subject_id, &f.unit, &f.status, &f.overdue_on];
            let total: i64 =
                c.query_one(concat!("SELECT count(*)", filter!()), &params)?.try_get(0).map_err(crate::db_err)?;
            let rows = c.query(
                concat!("SELECT ", columns!(), filter!(), " ORDER BY id DESC LIMIT $5 OFFSET $6"),
                &[&f.subject_id, &f.unit, &f.status, &f.overdue_on, &limit, &offset],
            )?;
            let mut items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
            attach_history(c, &mut items)?;
            Ok((items, total as u64))
        })
    }

    fn overdue_commitments(&self, today: NaiveDate) -> Result<u64> {
        let row = self.with(|c| {
            c.query_one("SELECT count(*) FROM commitments WHERE status = 'pending' AND due < $1", &[&today])
        })?;
        let n: i64 = row.try_get(0).map_err(crate::db_err)?;
        Ok(n as u64)
    }
}

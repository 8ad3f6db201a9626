//! Workflow cases (`xinyong_store::workflow`), as the embedded store keeps them: a step is one
//! transaction that locks the case, checks its status, updates it, appends the history event, applies
//! the record effect and files the notices; any failure rolls all of it back.
//!
//! Opening an objection or a repair locks the record's row first and then checks for an open case of
//! the kind, so two openings on one record are serialised and the second is a conflict. Cases, their
//! events and notices carry the case's subject id (0 for none) as their distribution column
//! (migrations/0003_workflow.sql, docs/scale.md).
//!
//! A revision keeps `record_keys.content_hash` in step with the record: the ingest path compares
//! against it, so a later load of the uncorrected row is an update, as in the embedded store.

use chrono::NaiveDate;
use postgres::Row;
use xinyong_store::workflow::{
    Case, CaseEvent, CaseFilter, CaseKind, CaseStep, InboxItem, NewCase, NewEvent, Notice, Recipient, RecordEffect,
    WorkflowStore,
};
use xinyong_store::{Result, StoreError, Timestamp};

use crate::PgStore;
use crate::pool::Conn;
use crate::subjects::{corrupt, time};

macro_rules! case_columns {
    () => {
        "id, kind, record_id, subject_id, unit, status, deadline, deadline_provisional, open, data, opened_by, \
         created_at, updated_at"
    };
}

/// The filter of `cases`: every condition is off when its parameter is NULL (plans are custom per
/// call, `pool.rs`, so the planner drops the conditions that are off).
macro_rules! case_filter {
    () => {
        " FROM cases
         WHERE ($1::text IS NULL OR kind = $1)
           AND ($2::text IS NULL OR status = $2)
           AND ($3::boolean IS NULL OR open = $3)
           AND ($4::text IS NULL OR unit = $4)
           AND ($5::bigint IS NULL OR subject_id = $5)
           AND ($6::bigint IS NULL OR record_id = $6)
           AND ($7::date IS NULL OR (open AND deadline < $7))"
    };
}

fn recipient_key(r: &Recipient) -> String {
    match r {
        Recipient::Subject(id) => format!("subject:{id}"),
        Recipient::Unit(code) => format!("unit:{code}"),
        Recipient::Centre => "centre".to_owned(),
    }
}

/// The stored subject id: 0 stands for none, as in `records`.
fn stored_subject(subject_id: Option<i64>) -> i64 {
    subject_id.unwrap_or(0)
}

fn case_from_row(r: &Row) -> Result<Case> {
    let kind: &str = r.try_get(1).map_err(crate::db_err)?;
    let subject_id: i64 = r.try_get(3).map_err(crate::db_err)?;
    let data: &str = r.try_get(9).map_err(crate::db_err)?;
    Ok(Case {
        id: r.try_get(0).map_err(crate::db_err)?,
        kind: CaseKind::parse(kind).ok_or_else(|| corrupt("case kind", kind))?,
        record_id: r.try_get(2).map_err(crate::db_err)?,
        subject_id: (subject_id != 0).then_some(subject_id),
        unit: r.try_get(4).map_err(crate::db_err)?,
        status: r.try_get(5).map_err(crate::db_err)?,
        deadline: r.try_get(6).map_err(crate::db_err)?,
        deadline_provisional: r.try_get(7).map_err(crate::db_err)?,
        open: r.try_get(8).map_err(crate::db_err)?,
        data: serde_json::from_str(data).map_err(|e| corrupt("case data", e))?,
        opened_by: r.try_get(10).map_err(crate::db_err)?,
        created_at: time(r.try_get(11).map_err(crate::db_err)?)?,
        updated_at: time(r.try_get(12).map_err(crate::db_err)?)?,
        history: Vec::new(),
    })
}

pub(crate) fn event_from_row(r: &Row) -> Result<CaseEvent> {
    let seq: i32 = r.try_get(1).map_err(crate::db_err)?;
    Ok(CaseEvent {
        seq: u32::try_from(seq).map_err(|e| corrupt("case event seq", e))?,
        at: time(r.try_get(2).map_err(crate::db_err)?)?,
        actor: r.try_get(3).map_err(crate::db_err)?,
        actor_name: r.try_get(4).map_err(crate::db_err)?,
        action: r.try_get(5).map_err(crate::db_err)?,
        from: r.try_get(6).map_err(crate::db_err)?,
        to: r.try_get(7).map_err(crate::db_err)?,
        note: r.try_get(8).map_err(crate::db_err)?,
        deadline: r.try_get(9).map_err(crate::db_err)?,
        late: r.try_get(10).map_err(crate::db_err)?,
    })
}

/// The histories of these cases, attached to them (one statement for the page).
fn attach_history(c: &mut Conn, cases: &mut [Case]) -> Result<()> {
    if cases.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
    let rows = c.query(
        "SELECT case_id, seq, at, actor, actor_name, action, from_status, to_status, note, deadline, late
         FROM case_events WHERE case_id = ANY($1) ORDER BY case_id, seq",
        &[&ids],
    )?;
    for row in &rows {
        let case_id: i64 = row.get(0);
        let event = event_from_row(row)?;
        if let Some(case) = cases.iter_mut().find(|c| c.id == case_id) {
            case.history.push(event);
        }
    }
    Ok(())
}

fn read_case(c: &mut Conn, id: i64) -> Result<Option<Case>> {
    let Some(row) = c.query_opt(concat!("SELECT ", case_columns!(), " FROM cases WHERE id = $1"), &[&id])? else {
        return Ok(None);
    };
    let mut cases = [case_from_row(&row)?];
    attach_history(c, &mut cases)?;
    let [case] = cases;
    Ok(Some(case))
}

/// The case as it is after a write of this call; missing only if removed meanwhile, which nothing does.
fn reread(c: &mut Conn, id: i64) -> Result<Case> {
    read_case(c, id)?.ok_or_else(|| StoreError::NotFound(format!("case {id}")))
}

struct Step<'a> {
    subject_id: i64,
    case_id: i64,
    at: &'a str,
}

impl Step<'_> {
    fn append_event(
        &self,
        c: &mut Conn,
        e: &NewEvent,
        from: Option<&str>,
        to: &str,
        deadline: Option<NaiveDate>,
    ) -> Result<()> {
        // The case's row is locked (new or `FOR UPDATE`), so the next number cannot race.
        c.execute(
            "INSERT INTO case_events (subject_id, case_id, seq, at, actor, actor_name, action, from_status, to_status,
                note, deadline, late)
             SELECT $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $5, $6, $7, $8, $9, $10, $11
             FROM case_events WHERE subject_id = $1 AND case_id = $2",
            &[
                &self.subject_id,
                &self.case_id,
                &self.at,
                &e.actor,
                &e.actor_name,
                &e.action,
                &from,
                &to,
                &e.note,
                &deadline,
                &e.late,
            ],
        )?;
        Ok(())
    }

    fn file_notices(&self, c: &mut Conn, notices: &[Notice]) -> Result<()> {
        for n in notices {
            c.execute(
                "INSERT INTO notices (subject_id, case_id, recipient, at, title, body) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&self.subject_id, &self.case_id, &recipient_key(&n.to), &self.at, &n.title, &n.body],
            )?;
        }
        Ok(())
    }

    /// Changes the record as the step says. The record's row is locked and found by (subject, id), so
    /// every statement here goes to the record's shard (and `record_keys` to its key's).
    fn apply_effect(&self, c: &mut Conn, record_id: i64, effect: &RecordEffect) -> Result<()> {
        match effect {
            RecordEffect::None => Ok(()),
            RecordEffect::Status(status) => {
                let owner = lock_record(c, record_id)?;
                c.execute(
                    "UPDATE records SET status = $3, updated_at = $4 WHERE subject_id = $1 AND id = $2",
                    &[&owner, &record_id, &status.as_str(), &self.at],
                )?;
                Ok(())
            }
            RecordEffect::Revise { fields_json, secret, content_hash } => {
                let owner = lock_record(c, record_id)?;
                c.execute(
                    "INSERT INTO record_versions (subject_id, record_id, version, fields, secret, content_hash,
                        batch_id, superseded_at)
                     SELECT subject_id, id, version, fields, secret, content_hash, batch_id, $3
                     FROM records WHERE subject_id = $1 AND id = $2",
                    &[&owner, &record_id, &self.at],
                )?;
                let batch = format!("case:{}", self.case_id);
                let row = c.query_one(
                    "UPDATE records SET version = version + 1, fields = $3, secret = $4, content_hash = $5,
                        batch_id = $6, updated_at = $7
                     WHERE subject_id = $1 AND id = $2
                     RETURNING item, source_key",
                    &[&owner, &record_id, fields_json, secret, content_hash, &batch, &self.at],
                )?;
                let (item, source_key): (&str, &str) = (row.get(0), row.get(1));
                let keys = c.execute(
                    "UPDATE record_keys SET content_hash = $3 WHERE source_key = $1 AND item = $2",
                    &[&source_key, &item, content_hash],
                )?;
                if keys != 1 {
                    return Err(corrupt("record key", format!("record {record_id} has {keys} keys")));
                }
                Ok(())
            }
        }
    }
}

/// Locks a record's row for the rest of the transaction and returns its subject id (0: none). By id
/// first, then by (subject, id): on a distributed cluster a row lock must name the distribution
/// column. A batch that moves the record to another subject meanwhile deletes the row and inserts it
/// again; the lock then finds nothing and the record is looked up afresh.
fn lock_record(c: &mut Conn, record_id: i64) -> Result<i64> {
    for _ in 0..3 {
        let Some(row) = c.query_opt("SELECT subject_id FROM records WHERE id = $1", &[&record_id])? else {
            return Err(StoreError::NotFound(format!("record {record_id}")));
        };
        let owner: i64 = row.get(0);
        if c.query_opt("SELECT 1 FROM records WHERE subject_id = $1 AND id = $2 FOR UPDATE", &[&owner, &record_id])?
            .is_some()
        {
            return Ok(owner);
        }
    }
    Err(StoreError::Conflict(format!("record {record_id} is being moved by a batch: try again")))
}

impl WorkflowStore for PgStore {
    fn open_case(&self, new: &NewCase) -> Result<Case> {
        let at = new.at.to_rfc3339();
        let subject_id = stored_subject(new.subject_id);
        let kind = new.kind.as_str();
        self.with(|c| {
            let id = c.transaction(|c| {
                // Serialises openings on this record (and finds a missing one).
                lock_record(c, new.record_id)?;
                if matches!(new.kind, CaseKind::Objection | CaseKind::Repair)
                    && c.query_opt(
                        "SELECT 1 FROM cases WHERE record_id = $1 AND kind = $2 AND open LIMIT 1",
                        &[&new.record_id, &kind],
                    )?
                    .is_some()
                {
                    return Err(StoreError::Conflict(format!("record {} already has an open {kind}", new.record_id)));
                }
                let id: i64 = c
                    .query_one(
                        "INSERT INTO cases (subject_id, kind, record_id, unit, status, deadline, deadline_provisional,
                            open, data, opened_by, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
                         RETURNING id",
                        &[
                            &subject_id,
                            &kind,
                            &new.record_id,
                            &new.unit,
                            &new.status,
                            &new.deadline,
                            &new.deadline_provisional,
                            &new.open,
                            &new.data.to_string(),
                            &new.event.actor,
                            &at,
                        ],
                    )?
                    .get(0);
                let step = Step { subject_id, case_id: id, at: &at };
                step.append_event(c, &new.event, None, &new.status, new.deadline)?;
                step.apply_effect(c, new.record_id, &new.effect)?;
                step.file_notices(c, &new.notices)?;
                Ok(id)
            })?;
            reread(c, id)
        })
    }

    fn case(&self, id: i64) -> Result<Option<Case>> {
        self.with(|c| read_case(c, id))
    }

    fn advance_case(&self, step: &CaseStep) -> Result<Case> {
        let at = step.at.to_rfc3339();
        self.with(|c| {
            c.transaction(|c| {
                let Some(row) = c.query_opt(
                    "SELECT subject_id, status, record_id, data FROM cases WHERE id = $1 FOR UPDATE",
                    &[&step.case_id],
                )?
                else {
                    return Err(StoreError::NotFound(format!("case {}", step.case_id)));
                };
                let (subject_id, status, record_id): (i64, String, i64) = (row.get(0), row.get(1), row.get(2));
                if status != step.from {
                    return Err(StoreError::Conflict(format!(
                        "case {} is {status} now, not {}: reload it and try again",
                        step.case_id, step.from
                    )));
                }
                let mut data: serde_json::Value =
                    serde_json::from_str(row.get(3)).map_err(|e| corrupt("case data", e))?;
                if let Some(obj) = data.as_object_mut() {
                    obj.extend(step.data.clone());
                }
                c.execute(
                    "UPDATE cases SET status = $3, deadline = $4, deadline_provisional = $5, open = $6, data = $7,
                        updated_at = $8
                     WHERE subject_id = $1 AND id = $2",
                    &[
                        &subject_id,
                        &step.case_id,
                        &step.to,
                        &step.deadline,
                        &step.deadline_provisional,
                        &step.open,
                        &data.to_string(),
                        &at,
                    ],
                )?;
                let s = Step { subject_id, case_id: step.case_id, at: &at };
                s.append_event(c, &step.event, Some(&step.from), &step.to, step.deadline)?;
                s.apply_effect(c, record_id, &step.effect)?;
                s.file_notices(c, &step.notices)
            })?;
            reread(c, step.case_id)
        })
    }

    fn cases(&self, f: &CaseFilter) -> Result<(Vec<Case>, u64)> {
        let kind = f.kind.map(CaseKind::as_str);
        let limit = i64::from(f.limit.max(1));
        let offset = i64::from(f.offset);
        self.with(|c| {
            let params: [&(dyn postgres::types::ToSql + Sync); 7] =
                [&kind, &f.status, &f.open, &f.unit, &f.subject_id, &f.record_id, &f.overdue_on];
            let total: i64 = c.query_one(concat!("SELECT count(*)", case_filter!()), &params)?.get(0);
            let mut page_params = params.to_vec();
            page_params.extend([&limit as &(dyn postgres::types::ToSql + Sync), &offset]);
            let rows = c.query(
                concat!("SELECT ", case_columns!(), case_filter!(), " ORDER BY id DESC LIMIT $8 OFFSET $9"),
                &page_params,
            )?;
            let mut cases = rows.iter().map(case_from_row).collect::<Result<Vec<_>>>()?;
            attach_history(c, &mut cases)?;
            Ok((cases, total as u64))
        })
    }

    fn records_with_open_case(&self, kind: CaseKind, record_ids: &[i64]) -> Result<Vec<i64>> {
        if record_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.with(|c| {
            c.query(
                "SELECT DISTINCT record_id FROM cases WHERE open AND kind = $1 AND record_id = ANY($2) ORDER BY record_id",
                &[&kind.as_str(), &record_ids],
            )
        })?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn overdue_counts(&self, today: NaiveDate) -> Result<Vec<(CaseKind, u64)>> {
        let rows = self.with(|c| {
            c.query(
                "SELECT kind, count(*) FROM cases WHERE open AND deadline < $1 GROUP BY kind ORDER BY kind",
                &[&today],
            )
        })?;
        rows.iter()
            .map(|r| {
                let kind: &str = r.get(0);
                let n: i64 = r.get(1);
                Ok((CaseKind::parse(kind).ok_or_else(|| corrupt("case kind", kind))?, n as u64))
            })
            .collect()
    }

    fn inbox(&self, to: &[Recipient], limit: u32, offset: u32) -> Result<Vec<InboxItem>> {
        let keys: Vec<String> = to.iter().map(recipient_key).collect();
        let rows = self.with(|c| {
            c.query(
                "SELECT id, case_id, at, title, body FROM notices
                 WHERE recipient = ANY($1) ORDER BY id DESC LIMIT $2 OFFSET $3",
                &[&keys, &i64::from(limit), &i64::from(offset)],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(InboxItem { id: r.get(0), case_id: r.get(1), at: time(r.get(2))?, title: r.get(3), body: r.get(4) })
            })
            .collect()
    }

    fn calendar_years(&self) -> Result<Vec<String>> {
        let rows = self.with(|c| c.query("SELECT plan FROM calendar_years ORDER BY year", &[]))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn put_calendar_year(&self, year: i32, plan_json: &str, at: Timestamp) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO calendar_years (year, plan, loaded_at) VALUES ($1, $2, $3)
                 ON CONFLICT (year) DO UPDATE SET plan = excluded.plan, loaded_at = excluded.loaded_at",
                &[&year, &plan_json, &at.to_rfc3339()],
            )?;
            Ok(())
        })
    }
}

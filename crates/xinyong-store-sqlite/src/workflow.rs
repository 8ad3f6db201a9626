//! Workflow cases on the writer connection: a step is one IMMEDIATE transaction that checks the status,
//! applies the record effect, appends the history event and files the notices.

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use xinyong_store::workflow::{
    Case, CaseEvent, CaseFilter, CaseKind, CaseStep, InboxItem, NewCase, NewEvent, Notice, Recipient, RecordEffect,
    WorkflowStore,
};
use xinyong_store::{Result, StoreError, Timestamp};

use crate::subjects::time;
use crate::{SqliteStore, db_err};

const CASE_COLUMNS: &str = "id, kind, record_id, subject_id, unit, status, deadline, deadline_provisional, open, data, \
     opened_by, created_at, updated_at";

fn recipient_key(r: &Recipient) -> String {
    match r {
        Recipient::Subject(id) => format!("subject:{id}"),
        Recipient::Unit(code) => format!("unit:{code}"),
        Recipient::Centre => "centre".to_owned(),
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn date(s: Option<String>) -> Result<Option<NaiveDate>> {
    s.map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| corrupt("case date", e))).transpose()
}

pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

impl SqliteStore {
    fn in_transaction<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_err)?;
            let out = f(&tx)?;
            tx.commit().map_err(db_err)?;
            Ok(out)
        })
    }
}

fn append_event(
    tx: &Transaction<'_>,
    case_id: i64,
    at: Timestamp,
    e: &NewEvent,
    from: Option<&str>,
    to: &str,
    deadline: Option<NaiveDate>,
) -> Result<()> {
    let seq: i64 = tx
        .query_row("SELECT coalesce(max(seq), 0) + 1 FROM case_events WHERE case_id = ?1", [case_id], |r| r.get(0))
        .map_err(db_err)?;
    tx.execute(
        "INSERT INTO case_events (case_id, seq, at, actor, actor_name, action, from_status, to_status, note, deadline, late)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            case_id,
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

fn file_notices(tx: &Transaction<'_>, case_id: i64, at: Timestamp, notices: &[Notice]) -> Result<()> {
    for n in notices {
        tx.execute(
            "INSERT INTO notices (case_id, recipient, at, title, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![case_id, recipient_key(&n.to), at.to_rfc3339(), n.title, n.body],
        )
        .map_err(db_err)?;
    }
    Ok(())
}

fn apply_effect(
    tx: &Transaction<'_>,
    record_id: i64,
    case_id: i64,
    at: Timestamp,
    effect: &RecordEffect,
) -> Result<()> {
    let at = at.to_rfc3339();
    let changed = match effect {
        RecordEffect::None => return Ok(()),
        RecordEffect::Status(status) => tx
            .execute(
                "UPDATE records SET status = ?2, updated_at = ?3 WHERE id = ?1",
                params![record_id, status.as_str(), at],
            )
            .map_err(db_err)?,
        RecordEffect::Revise { fields_json, secret, content_hash } => {
            tx.execute(
                "INSERT INTO record_versions (record_id, version, fields, secret, content_hash, batch_id, superseded_at)
                 SELECT id, version, fields, secret, content_hash, batch_id, ?2 FROM records WHERE id = ?1",
                params![record_id, at],
            )
            .map_err(db_err)?;
            tx.execute(
                "UPDATE records SET version = version + 1, fields = ?2, secret = ?3, content_hash = ?4,
                    batch_id = ?5, updated_at = ?6
                 WHERE id = ?1",
                params![record_id, fields_json, secret, content_hash, format!("case:{case_id}"), at],
            )
            .map_err(db_err)?
        }
    };
    if changed != 1 {
        return Err(StoreError::NotFound(format!("record {record_id}")));
    }
    Ok(())
}

fn read_case(conn: &Connection, id: i64) -> Result<Option<Case>> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = ?1");
    let case = conn.query_row(&sql, [id], raw_case).optional().map_err(db_err)?;
    let Some(raw) = case else { return Ok(None) };
    let mut case = raw.into_case()?;
    case.history = history(conn, id)?;
    Ok(Some(case))
}

struct RawCase {
    id: i64,
    kind: String,
    record_id: i64,
    subject_id: Option<i64>,
    unit: String,
    status: String,
    deadline: Option<String>,
    provisional: bool,
    open: bool,
    data: String,
    opened_by: i64,
    created_at: String,
    updated_at: String,
}

fn raw_case(r: &Row<'_>) -> rusqlite::Result<RawCase> {
    Ok(RawCase {
        id: r.get(0)?,
        kind: r.get(1)?,
        record_id: r.get(2)?,
        subject_id: r.get(3)?,
        unit: r.get(4)?,
        status: r.get(5)?,
        deadline: r.get(6)?,
        provisional: r.get(7)?,
        open: r.get(8)?,
        data: r.get(9)?,
        opened_by: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

impl RawCase {
    fn into_case(self) -> Result<Case> {
        Ok(Case {
            id: self.id,
            kind: CaseKind::parse(&self.kind).ok_or_else(|| corrupt("case kind", &self.kind))?,
            record_id: self.record_id,
            subject_id: self.subject_id,
            unit: self.unit,
            status: self.status,
            deadline: date(self.deadline)?,
            deadline_provisional: self.provisional,
            open: self.open,
            data: serde_json::from_str(&self.data).map_err(|e| corrupt("case data", e))?,
            opened_by: self.opened_by,
            created_at: time(&self.created_at)?,
            updated_at: time(&self.updated_at)?,
            history: Vec::new(),
        })
    }
}

fn history(conn: &Connection, case_id: i64) -> Result<Vec<CaseEvent>> {
    events(conn, "case_events", "case_id", case_id)
}

/// The history of a case or a commitment (`table` keyed by `key`), oldest first.
pub(crate) fn events(conn: &Connection, table: &str, key: &str, id: i64) -> Result<Vec<CaseEvent>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT seq, at, actor, actor_name, action, from_status, to_status, note, deadline, late
             FROM {table} WHERE {key} = ?1 ORDER BY seq"
        ))
        .map_err(db_err)?;
    let rows = stmt
        .query_map([id], |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, bool>(9)?,
            ))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, at, actor, actor_name, action, from, to, note, deadline, late) = row.map_err(db_err)?;
        out.push(CaseEvent {
            seq,
            at: time(&at)?,
            actor,
            actor_name,
            action,
            from,
            to,
            note,
            deadline: date(deadline)?,
            late,
        });
    }
    Ok(out)
}

impl WorkflowStore for SqliteStore {
    fn open_case(&self, new: &NewCase) -> Result<Case> {
        let id = self.in_transaction(|tx| {
            let inserted = tx.execute(
                &format!(
                    "INSERT INTO cases ({})
                     VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
                    CASE_COLUMNS
                ),
                params![
                    new.kind.as_str(),
                    new.record_id,
                    new.subject_id,
                    new.unit,
                    new.status,
                    new.deadline.map(|d| d.to_string()),
                    new.deadline_provisional,
                    new.open,
                    new.data.to_string(),
                    new.event.actor,
                    new.at.to_rfc3339()
                ],
            );
            match inserted {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict(format!(
                        "record {} already has an open {}",
                        new.record_id,
                        new.kind.as_str()
                    )));
                }
                Err(e) => return Err(db_err(e)),
            }
            let id = tx.last_insert_rowid();
            append_event(tx, id, new.at, &new.event, None, &new.status, new.deadline)?;
            apply_effect(tx, new.record_id, id, new.at, &new.effect)?;
            file_notices(tx, id, new.at, &new.notices)?;
            Ok(id)
        })?;
        self.case(id)?.ok_or_else(|| StoreError::NotFound(format!("case {id}")))
    }

    fn case(&self, id: i64) -> Result<Option<Case>> {
        self.read(|conn| read_case(conn, id))
    }

    fn advance_case(&self, step: &CaseStep) -> Result<Case> {
        self.in_transaction(|tx| {
            let current: Option<(String, i64, String)> = tx
                .query_row("SELECT status, record_id, data FROM cases WHERE id = ?1", [step.case_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()
                .map_err(db_err)?;
            let Some((status, record_id, data)) = current else {
                return Err(StoreError::NotFound(format!("case {}", step.case_id)));
            };
            if status != step.from {
                return Err(StoreError::Conflict(format!(
                    "case {} is {status} now, not {}: reload it and try again",
                    step.case_id, step.from
                )));
            }
            let mut data: serde_json::Value = serde_json::from_str(&data).map_err(|e| corrupt("case data", e))?;
            if let Some(obj) = data.as_object_mut() {
                obj.extend(step.data.clone());
            }
            tx.execute(
                "UPDATE cases SET status = ?2, deadline = ?3, deadline_provisional = ?4, open = ?5, data = ?6,
                    updated_at = ?7
                 WHERE id = ?1",
                params![
                    step.case_id,
                    step.to,
                    step.deadline.map(|d| d.to_string()),
                    step.deadline_provisional,
                    step.open,
                    data.to_string(),
                    step.at.to_rfc3339()
                ],
            )
            .map_err(db_err)?;
            append_event(tx, step.case_id, step.at, &step.event, Some(&step.from), &step.to, step.deadline)?;
            apply_effect(tx, record_id, step.case_id, step.at, &step.effect)?;
            file_notices(tx, step.case_id, step.at, &step.notices)?;
            Ok(())
        })?;
        self.case(step.case_id)?.ok_or_else(|| StoreError::NotFound(format!("case {}", step.case_id)))
    }

    fn cases(&self, f: &CaseFilter) -> Result<(Vec<Case>, u64)> {
        let mut clauses: Vec<&str> = Vec::new();
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        use rusqlite::types::Value as V;
        if let Some(k) = f.kind {
            clauses.push("kind = ?");
            args.push(V::Text(k.as_str().to_owned()));
        }
        if let Some(s) = &f.status {
            clauses.push("status = ?");
            args.push(V::Text(s.clone()));
        }
        if let Some(open) = f.open {
            clauses.push("open = ?");
            args.push(V::Integer(i64::from(open)));
        }
        if let Some(u) = &f.unit {
            clauses.push("unit = ?");
            args.push(V::Text(u.clone()));
        }
        if let Some(s) = f.subject_id {
            clauses.push("subject_id = ?");
            args.push(V::Integer(s));
        }
        if let Some(r) = f.record_id {
            clauses.push("record_id = ?");
            args.push(V::Integer(r));
        }
        if let Some(day) = f.overdue_on {
            clauses.push("open = 1 AND deadline < ?");
            args.push(V::Text(day.to_string()));
        }
        let filter = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        self.read(|conn| {
            let total: i64 = conn
                .query_row(&format!("SELECT count(*) FROM cases {filter}"), rusqlite::params_from_iter(&args), |r| {
                    r.get(0)
                })
                .map_err(db_err)?;
            let mut page_args = args.clone();
            page_args.push(V::Integer(i64::from(f.limit.max(1))));
            page_args.push(V::Integer(i64::from(f.offset)));
            let sql = format!("SELECT {CASE_COLUMNS} FROM cases {filter} ORDER BY id DESC LIMIT ? OFFSET ?");
            let mut stmt = conn.prepare(&sql).map_err(db_err)?;
            let raws = stmt
                .query_map(rusqlite::params_from_iter(&page_args), raw_case)
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            let mut out = Vec::with_capacity(raws.len());
            for raw in raws {
                let mut case = raw.into_case()?;
                case.history = history(conn, case.id)?;
                out.push(case);
            }
            Ok((out, total as u64))
        })
    }

    fn records_with_open_case(&self, kind: CaseKind, record_ids: &[i64]) -> Result<Vec<i64>> {
        if record_ids.is_empty() {
            return Ok(Vec::new());
        }
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT DISTINCT record_id FROM cases
                     WHERE open = 1 AND kind = ?1 AND record_id IN (SELECT value FROM json_each(?2))",
                )
                .map_err(db_err)?;
            let ids = serde_json::to_string(record_ids).map_err(|e| StoreError::Invalid(e.to_string()))?;
            stmt.query_map(params![kind.as_str(), ids], |r| r.get(0))
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<i64>>>()
                .map_err(db_err)
        })
    }

    fn overdue_counts(&self, today: NaiveDate) -> Result<Vec<(CaseKind, u64)>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT kind, count(*) FROM cases WHERE open = 1 AND deadline < ?1 GROUP BY kind ORDER BY kind",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map([today.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(db_err)?;
            let mut out = Vec::new();
            for row in rows {
                let (kind, n) = row.map_err(db_err)?;
                out.push((CaseKind::parse(&kind).ok_or_else(|| corrupt("case kind", &kind))?, n as u64));
            }
            Ok(out)
        })
    }

    fn inbox(&self, to: &[Recipient], limit: u32, offset: u32) -> Result<Vec<InboxItem>> {
        let keys: Vec<String> = to.iter().map(recipient_key).collect();
        let keys = serde_json::to_string(&keys).map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, case_id, at, title, body FROM notices
                     WHERE recipient IN (SELECT value FROM json_each(?1)) ORDER BY id DESC LIMIT ?2 OFFSET ?3",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![keys, limit, offset], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?))
                })
                .map_err(db_err)?;
            let mut out = Vec::new();
            for row in rows {
                let (id, case_id, at, title, body) = row.map_err(db_err)?;
                out.push(InboxItem { id, case_id, at: time(&at)?, title, body });
            }
            Ok(out)
        })
    }

    fn calendar_years(&self) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT plan FROM calendar_years ORDER BY year").map_err(db_err)?;
            stmt.query_map([], |r| r.get(0)).map_err(db_err)?.collect::<rusqlite::Result<Vec<String>>>().map_err(db_err)
        })
    }

    fn put_calendar_year(&self, year: i32, plan_json: &str, at: Timestamp) -> Result<()> {
        self.write(|conn| {
            conn.execute(
                "INSERT INTO calendar_years (year, plan, loaded_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (year) DO UPDATE SET plan = excluded.plan, loaded_at = excluded.loaded_at",
                params![year, plan_json, at.to_rfc3339()],
            )
            .map_err(db_err)?;
            Ok(())
        })
    }
}

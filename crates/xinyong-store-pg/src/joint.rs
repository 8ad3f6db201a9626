//! Checks, feedback and the bulk lookups of joint rewards and punishments (`xinyong_store::joint`), as
//! the embedded store keeps them. A check carries its subject id as the first column of its key
//! (migrations/0004_joint.sql, docs/scale.md); the bulk lookups are one set-based statement each
//! (`= ANY($1)`), whatever the number of identifiers or subjects.

use std::collections::HashMap;

use postgres::Row;
use serde_json::{Value, json};
use xinyong_domain::ids::Identifier;
use xinyong_store::joint::{Check, Feedback, JointStore, LoopStats, NewCheck, SubjectRef};
use xinyong_store::{Record, Result, StoreError};

use crate::PgStore;
use crate::subjects::{corrupt, identifier_key, record_columns, time};

macro_rules! check_columns {
    () => {
        "id, subject_id, scenario, unit, account, at, result, measures, feedback"
    };
}

/// The stored feedback: the same JSON object as the embedded store's.
fn feedback_json(f: &Feedback) -> Value {
    json!({
        "outcome": f.outcome,
        "applied": f.applied,
        "note": f.note,
        "account": f.account,
        "at": f.at.to_rfc3339(),
    })
}

fn feedback_from_json(text: &str) -> Result<Feedback> {
    let bad = |what: &str| corrupt("check feedback", what);
    let v: Value = serde_json::from_str(text).map_err(|e| corrupt("check feedback", e))?;
    let outcome = v.get("outcome").and_then(Value::as_str).ok_or_else(|| bad("outcome"))?.to_owned();
    let applied = v
        .get("applied")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("applied"))?
        .iter()
        .map(|m| m.as_str().map(str::to_owned).ok_or_else(|| bad("applied")))
        .collect::<Result<Vec<_>>>()?;
    let note = match v.get("note") {
        None | Some(Value::Null) => None,
        Some(n) => Some(n.as_str().ok_or_else(|| bad("note"))?.to_owned()),
    };
    let account = v.get("account").and_then(Value::as_i64).ok_or_else(|| bad("account"))?;
    let at = time(v.get("at").and_then(Value::as_str).ok_or_else(|| bad("at"))?)?;
    Ok(Feedback { outcome, applied, note, account, at })
}

fn check_from_row(r: &Row) -> Result<Check> {
    let measures: i32 = r.try_get(7).map_err(crate::db_err)?;
    let result: &str = r.try_get(6).map_err(crate::db_err)?;
    let feedback: Option<&str> = r.try_get(8).map_err(crate::db_err)?;
    Ok(Check {
        id: r.try_get(0).map_err(crate::db_err)?,
        subject_id: r.try_get(1).map_err(crate::db_err)?,
        scenario: r.try_get(2).map_err(crate::db_err)?,
        unit: r.try_get(3).map_err(crate::db_err)?,
        account: r.try_get(4).map_err(crate::db_err)?,
        at: time(r.try_get(5).map_err(crate::db_err)?)?,
        result: serde_json::from_str(result).map_err(|e| corrupt("check result", e))?,
        measures: u32::try_from(measures).map_err(|e| corrupt("check measures", e))?,
        feedback: feedback.map(feedback_from_json).transpose()?,
    })
}

impl JointStore for PgStore {
    fn record_check(&self, new: &NewCheck) -> Result<Check> {
        let measures = i32::try_from(new.measures).map_err(|e| StoreError::Invalid(format!("measures: {e}")))?;
        let row = self.with(|c| {
            c.query_one(
                concat!(
                    "INSERT INTO checks (subject_id, scenario, unit, account, at, result, measures)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
                    check_columns!()
                ),
                &[
                    &new.subject_id,
                    &new.scenario,
                    &new.unit,
                    &new.account,
                    &new.at.to_rfc3339(),
                    &new.result.to_string(),
                    &measures,
                ],
            )
        })?;
        check_from_row(&row)
    }

    fn check(&self, id: i64) -> Result<Option<Check>> {
        let row =
            self.with(|c| c.query_opt(concat!("SELECT ", check_columns!(), " FROM checks WHERE id = $1"), &[&id]))?;
        row.map(|r| check_from_row(&r)).transpose()
    }

    fn give_feedback(&self, id: i64, f: &Feedback) -> Result<Check> {
        let text = feedback_json(f).to_string();
        let at = f.at.to_rfc3339();
        let row = self.with(|c| {
            // Only a check without feedback is updated, so two concurrent answers cannot both win.
            if let Some(row) = c.query_opt(
                concat!(
                    "UPDATE checks SET feedback = $2, feedback_at = $3 WHERE id = $1 AND feedback IS NULL RETURNING ",
                    check_columns!()
                ),
                &[&id, &text, &at],
            )? {
                return Ok(row);
            }
            let exists: bool = c.query_one("SELECT EXISTS (SELECT 1 FROM checks WHERE id = $1)", &[&id])?.get(0);
            Err(if exists {
                StoreError::Conflict(format!("check {id} has its feedback already"))
            } else {
                StoreError::NotFound(format!("check {id}"))
            })
        })?;
        check_from_row(&row)
    }

    fn loop_stats(&self) -> Result<Vec<LoopStats>> {
        let rows = self.with(|c| {
            c.query(
                "SELECT unit, substr(at, 1, 7) AS month, count(*), count(*) FILTER (WHERE measures > 0), count(feedback)
                 FROM checks GROUP BY unit, month ORDER BY unit, month",
                &[],
            )
        })?;
        rows.iter()
            .map(|r| {
                let count = |i: usize| -> Result<u64> {
                    let n: i64 = r.try_get(i).map_err(crate::db_err)?;
                    u64::try_from(n).map_err(|e| corrupt("loop statistics", e))
                };
                Ok(LoopStats {
                    unit: r.try_get(0).map_err(crate::db_err)?,
                    month: r.try_get(1).map_err(crate::db_err)?,
                    checks: count(2)?,
                    hits: count(3)?,
                    feedback: count(4)?,
                })
            })
            .collect()
    }

    fn subjects_by_identifiers(&self, ids: &[Identifier]) -> Result<Vec<Option<SubjectRef>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // The keys of `subject_keys` (as the ingest path looks them up); an organisation code names the
        // lowest subject id carrying it.
        let keys: Vec<String> = ids.iter().map(|id| identifier_key(&self.vault, id)).collect();
        // Two statements, as in the ingest path: `subject_keys` is distributed by key and `subjects` by
        // id, so a join of the two would cross shards on Citus.
        let found: HashMap<String, SubjectRef> = self.with(|c| {
            let mut of_key: Vec<(String, i64)> = Vec::new();
            for r in
                c.query("SELECT key, min(subject_id) FROM subject_keys WHERE key = ANY($1) GROUP BY key", &[&keys])?
            {
                of_key.push((r.try_get(0).map_err(crate::db_err)?, r.try_get(1).map_err(crate::db_err)?));
            }
            if of_key.is_empty() {
                return Ok(HashMap::new());
            }
            let subject_ids: Vec<i64> = of_key.iter().map(|(_, id)| *id).collect();
            let mut names: HashMap<i64, String> = HashMap::new();
            for r in c.query("SELECT id, name FROM subjects WHERE id = ANY($1)", &[&subject_ids])? {
                names.insert(r.try_get(0).map_err(crate::db_err)?, r.try_get(1).map_err(crate::db_err)?);
            }
            Ok(of_key
                .into_iter()
                .filter_map(|(key, id)| names.get(&id).map(|name| (key, SubjectRef { id, name: name.clone() })))
                .collect())
        })?;
        Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
    }

    fn records_of_items(&self, subject_ids: &[i64], items: &[String]) -> Result<Vec<Record>> {
        // 0 marks unlinked records; no subject has it.
        let subject_ids: Vec<i64> = subject_ids.iter().copied().filter(|id| *id != 0).collect();
        if subject_ids.is_empty() || items.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.with(|c| {
            c.query(
                concat!(
                    "SELECT ",
                    record_columns!(),
                    " FROM records WHERE subject_id = ANY($1) AND item = ANY($2)
                     ORDER BY subject_id, record_date, id"
                ),
                &[&subject_ids, &items],
            )
        })?;
        rows.iter().map(|r| self.record_from_row(r)).collect()
    }
}

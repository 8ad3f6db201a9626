//! Checks, feedback and the bulk lookups of joint rewards and punishments.

use rusqlite::{OptionalExtension, Row, params};
use xinyong_domain::ids::Identifier;
use xinyong_store::joint::{Check, Feedback, JointStore, LoopStats, NewCheck, SubjectRef};
use xinyong_store::{Record, Result, StoreError};

use crate::subjects::{RECORD_COLUMNS, time};
use crate::{SqliteStore, db_err};

const CHECK_COLUMNS: &str = "id, subject_id, scenario, unit, account, at, result, measures, feedback";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn json_list<T: serde::Serialize>(v: &[T]) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Invalid(e.to_string()))
}

type RawCheck = (i64, i64, String, String, i64, String, String, u32, Option<String>);

fn raw_check(r: &Row<'_>) -> rusqlite::Result<RawCheck> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredFeedback {
    outcome: String,
    applied: Vec<String>,
    note: Option<String>,
    account: i64,
    at: String,
}

fn into_check(raw: RawCheck) -> Result<Check> {
    let (id, subject_id, scenario, unit, account, at, result, measures, feedback) = raw;
    let feedback = match feedback {
        None => None,
        Some(text) => {
            let f: StoredFeedback = serde_json::from_str(&text).map_err(|e| corrupt("check feedback", e))?;
            Some(Feedback {
                outcome: f.outcome,
                applied: f.applied,
                note: f.note,
                account: f.account,
                at: time(&f.at)?,
            })
        }
    };
    Ok(Check {
        id,
        subject_id,
        scenario,
        unit,
        account,
        at: time(&at)?,
        result: serde_json::from_str(&result).map_err(|e| corrupt("check result", e))?,
        measures,
        feedback,
    })
}

impl JointStore for SqliteStore {
    fn record_check(&self, new: &NewCheck) -> Result<Check> {
        let id = self.write(|conn| {
            conn.execute(
                "INSERT INTO checks (subject_id, scenario, unit, account, at, result, measures)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    new.subject_id,
                    new.scenario,
                    new.unit,
                    new.account,
                    new.at.to_rfc3339(),
                    new.result.to_string(),
                    new.measures
                ],
            )
            .map_err(db_err)?;
            Ok(conn.last_insert_rowid())
        })?;
        self.check(id)?.ok_or_else(|| StoreError::NotFound(format!("check {id}")))
    }

    fn check(&self, id: i64) -> Result<Option<Check>> {
        let raw = self.read(|conn| {
            conn.query_row(&format!("SELECT {CHECK_COLUMNS} FROM checks WHERE id = ?1"), [id], raw_check)
                .optional()
                .map_err(db_err)
        })?;
        raw.map(into_check).transpose()
    }

    fn give_feedback(&self, id: i64, f: &Feedback) -> Result<Check> {
        let stored = StoredFeedback {
            outcome: f.outcome.clone(),
            applied: f.applied.clone(),
            note: f.note.clone(),
            account: f.account,
            at: f.at.to_rfc3339(),
        };
        let text = serde_json::to_string(&stored).map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.write(|conn| {
            let changed = conn
                .execute(
                    "UPDATE checks SET feedback = ?2, feedback_at = ?3 WHERE id = ?1 AND feedback IS NULL",
                    params![id, text, stored.at],
                )
                .map_err(db_err)?;
            if changed == 1 {
                return Ok(());
            }
            let exists: bool = conn
                .query_row("SELECT EXISTS (SELECT 1 FROM checks WHERE id = ?1)", [id], |r| r.get(0))
                .map_err(db_err)?;
            Err(if exists {
                StoreError::Conflict(format!("check {id} has its feedback already"))
            } else {
                StoreError::NotFound(format!("check {id}"))
            })
        })?;
        self.check(id)?.ok_or_else(|| StoreError::NotFound(format!("check {id}")))
    }

    fn loop_stats(&self) -> Result<Vec<LoopStats>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT unit, substr(at, 1, 7) AS month, count(*), sum(measures > 0), count(feedback)
                     FROM checks GROUP BY unit, month ORDER BY unit, month",
                )
                .map_err(db_err)?;
            stmt.query_map([], |r| {
                Ok(LoopStats {
                    unit: r.get(0)?,
                    month: r.get(1)?,
                    checks: r.get::<_, i64>(2)? as u64,
                    hits: r.get::<_, i64>(3)? as u64,
                    feedback: r.get::<_, i64>(4)? as u64,
                })
            })
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)
        })
    }

    fn subjects_by_identifiers(&self, ids: &[Identifier]) -> Result<Vec<Option<SubjectRef>>> {
        let mut usccs = Vec::new();
        let mut orgs = Vec::new();
        let mut rids = Vec::new();
        for id in ids {
            match id {
                Identifier::Uscc(u) => usccs.push(u.as_str().to_owned()),
                Identifier::OrgCode(o) => orgs.push(o.as_str().to_owned()),
                Identifier::ResidentId(r) => rids.push(hex::encode(self.vault.lookup_hash(r.as_str()))),
            }
        }
        let (usccs, orgs, rids) = (json_list(&usccs)?, json_list(&orgs)?, json_list(&rids)?);
        let found = self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT 'u', uscc, id, name FROM subjects WHERE uscc IN (SELECT value FROM json_each(?1))
                     UNION ALL
                     SELECT 'o', org_code, min(id), name FROM subjects
                        WHERE org_code IN (SELECT value FROM json_each(?2)) GROUP BY org_code
                     UNION ALL
                     SELECT 'r', hex(rid_hash), id, name FROM subjects
                        WHERE rid_hash IN (SELECT unhex(value) FROM json_each(?3))",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![usccs, orgs, rids], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, String>(3)?))
                })
                .map_err(db_err)?;
            let mut map = std::collections::HashMap::new();
            for row in rows {
                let (kind, key, id, name) = row.map_err(db_err)?;
                map.insert((kind, key.to_uppercase()), SubjectRef { id, name });
            }
            Ok(map)
        })?;
        Ok(ids
            .iter()
            .map(|id| {
                let key = match id {
                    Identifier::Uscc(u) => ("u".to_owned(), u.as_str().to_owned()),
                    Identifier::OrgCode(o) => ("o".to_owned(), o.as_str().to_owned()),
                    Identifier::ResidentId(r) => {
                        ("r".to_owned(), hex::encode_upper(self.vault.lookup_hash(r.as_str())))
                    }
                };
                found.get(&key).cloned()
            })
            .collect())
    }

    fn records_of_items(&self, subject_ids: &[i64], items: &[String]) -> Result<Vec<Record>> {
        if subject_ids.is_empty() || items.is_empty() {
            return Ok(Vec::new());
        }
        let (subjects, items) = (json_list(subject_ids)?, json_list(items)?);
        self.read(|conn| {
            let sql = format!(
                "SELECT {RECORD_COLUMNS} FROM records
                 WHERE subject_id IN (SELECT value FROM json_each(?1)) AND item IN (SELECT value FROM json_each(?2))
                 ORDER BY subject_id, record_date, id"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            let mut rows = stmt.query(params![subjects, items]).map_err(db_err)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(db_err)? {
                out.push(self.record_from_row(row)?);
            }
            Ok(out)
        })
    }
}

//! Evaluation facts, scores, runs and inspection plans (`xinyong_store::evaluation`) in the embedded
//! store. Facts are read a chunk of subjects at a time by ascending id (keyset paging), so a full run
//! over millions of subjects keeps memory flat; scores of a chunk are written in one transaction.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use xinyong_domain::record::RecordStatus;
use xinyong_domain::subject::SubjectKind;
use xinyong_store::evaluation::{
    CurrentScore, Evaluation, EvaluationRun, EvaluationStore, FactCommitment, FactRecord, Inspection, NewEvaluation,
    NewRun, Population, RunKind, SubjectFacts,
};
use xinyong_store::{Result, StoreError, Timestamp};

use crate::subjects::{corrupt, date, severity, time};
use crate::{SqliteStore, db_err};

const RUN_COLUMNS: &str = "id, kind, model, cause, at, subjects, changed, grades";
const EVALUATION_COLUMNS: &str = "id, subject_id, run_id, score, grade, model, at, explanation";

fn json_ids(ids: &[i64]) -> Result<String> {
    serde_json::to_string(ids).map_err(|e| StoreError::Invalid(e.to_string()))
}

fn insert_run(conn: &Connection, run: &NewRun) -> Result<i64> {
    conn.execute(
        "INSERT INTO evaluation_runs (kind, model, model_text, cause, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![run.kind.as_str(), run.model, run.model_text, run.cause, run.at.to_rfc3339()],
    )
    .map_err(db_err)?;
    Ok(conn.last_insert_rowid())
}

/// When the newest full run began.
fn latest_full_run(conn: &Connection) -> Result<Option<Timestamp>> {
    let at: Option<String> = conn
        .query_row("SELECT at FROM evaluation_runs WHERE kind = 'full' ORDER BY id DESC LIMIT 1", [], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    at.as_deref().map(time).transpose()
}

type RawSubject = (i64, String, Option<i32>, Option<String>, Option<String>, Option<i64>);

/// Subjects of one chunk with their current score.
fn chunk_subjects(conn: &Connection, after: i64, ids: Option<&[i64]>, limit: usize) -> Result<Vec<SubjectFacts>> {
    let map = |r: &Row<'_>| -> rusqlite::Result<RawSubject> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
    };
    let rows = match ids {
        None => {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT s.id, s.kind, l.score, l.grade, l.model, l.fingerprint
                     FROM subjects s LEFT JOIN evaluation_latest l ON l.subject_id = s.id
                     WHERE s.id > ?1 ORDER BY s.id LIMIT ?2",
                )
                .map_err(db_err)?;
            stmt.query_map(params![after, limit as i64], map).map_err(db_err)?.collect::<rusqlite::Result<Vec<_>>>()
        }
        Some(ids) => {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT s.id, s.kind, l.score, l.grade, l.model, l.fingerprint
                     FROM subjects s LEFT JOIN evaluation_latest l ON l.subject_id = s.id
                     WHERE s.id IN (SELECT value FROM json_each(?1)) ORDER BY s.id",
                )
                .map_err(db_err)?;
            stmt.query_map([json_ids(ids)?], map).map_err(db_err)?.collect::<rusqlite::Result<Vec<_>>>()
        }
    }
    .map_err(db_err)?;
    rows.into_iter()
        .map(|(id, kind, score, grade, model, fingerprint)| {
            let kind = SubjectKind::parse(&kind).ok_or_else(|| corrupt("subject kind", &kind))?;
            let current = match (score, grade, model, fingerprint) {
                (Some(score), Some(grade), Some(model), Some(fingerprint)) => {
                    Some(CurrentScore { score, grade, model, fingerprint })
                }
                _ => None,
            };
            Ok(SubjectFacts { id, kind, records: Vec::new(), commitments: Vec::new(), current })
        })
        .collect()
}

/// Attaches the records and commitments of the chunk's subjects (sorted by id). A contiguous chunk (a
/// full run) reads the id range; a sparse one (an incremental run) looks each subject up.
fn attach(conn: &Connection, chunk: &mut [SubjectFacts], contiguous: bool) -> Result<()> {
    let (Some(lo), Some(hi)) = (chunk.first().map(|s| s.id), chunk.last().map(|s| s.id)) else {
        return Ok(());
    };
    let index: std::collections::HashMap<i64, usize> = chunk.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let ids = json_ids(&chunk.iter().map(|s| s.id).collect::<Vec<_>>())?;
    let (records_sql, commitments_sql) = if contiguous {
        (
            "SELECT subject_id, id, item, status, record_date, end_date, severity FROM records
             WHERE subject_id BETWEEN ?1 AND ?2",
            "SELECT subject_id, id, status, CASE WHEN status = 'pending' THEN made_on ELSE substr(updated_at, 1, 10) END, record_id
             FROM commitments WHERE subject_id BETWEEN ?1 AND ?2 ORDER BY id",
        )
    } else {
        (
            "SELECT subject_id, id, item, status, record_date, end_date, severity FROM records
             WHERE subject_id IN (SELECT value FROM json_each(?3)) AND ?1 <= ?2",
            "SELECT subject_id, id, status, CASE WHEN status = 'pending' THEN made_on ELSE substr(updated_at, 1, 10) END, record_id
             FROM commitments WHERE subject_id IN (SELECT value FROM json_each(?3)) AND ?1 <= ?2 ORDER BY id",
        )
    };
    let mut stmt = conn.prepare_cached(records_sql).map_err(db_err)?;
    let mut rows =
        if contiguous { stmt.query(params![lo, hi]) } else { stmt.query(params![lo, hi, ids]) }.map_err(db_err)?;
    while let Some(r) = rows.next().map_err(db_err)? {
        let subject: i64 = r.get(0).map_err(db_err)?;
        let Some(&i) = index.get(&subject) else { continue };
        let status: String = r.get(3).map_err(db_err)?;
        let end: Option<String> = r.get(5).map_err(db_err)?;
        chunk[i].records.push(FactRecord {
            id: r.get(1).map_err(db_err)?,
            item: r.get(2).map_err(db_err)?,
            status: RecordStatus::parse(&status).ok_or_else(|| corrupt("record status", &status))?,
            date: date(&r.get::<_, String>(4).map_err(db_err)?)?,
            end_date: end.as_deref().map(date).transpose()?,
            severity: severity(&r.get::<_, String>(6).map_err(db_err)?)?,
        });
    }
    let mut stmt = conn.prepare_cached(commitments_sql).map_err(db_err)?;
    let mut rows =
        if contiguous { stmt.query(params![lo, hi]) } else { stmt.query(params![lo, hi, ids]) }.map_err(db_err)?;
    while let Some(r) = rows.next().map_err(db_err)? {
        let subject: i64 = r.get(0).map_err(db_err)?;
        let Some(&i) = index.get(&subject) else { continue };
        chunk[i].commitments.push(FactCommitment {
            id: r.get(1).map_err(db_err)?,
            status: r.get(2).map_err(db_err)?,
            date: date(&r.get::<_, String>(3).map_err(db_err)?)?,
            record_id: r.get(4).map_err(db_err)?,
        });
    }
    Ok(())
}

fn run_from_row(r: &Row<'_>) -> rusqlite::Result<RawRun> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
}

type RawRun = (i64, String, String, String, String, i64, i64, Option<String>);

fn run(raw: RawRun) -> Result<EvaluationRun> {
    let (id, kind, model, cause, at, subjects, changed, grades) = raw;
    let grades: BTreeMap<String, u64> = match grades {
        Some(g) => serde_json::from_str(&g).map_err(|e| corrupt("run grades", e))?,
        None => BTreeMap::new(),
    };
    Ok(EvaluationRun {
        id,
        kind: RunKind::parse(&kind).ok_or_else(|| corrupt("run kind", &kind))?,
        model,
        cause,
        at: time(&at)?,
        subjects: subjects as u64,
        changed: changed as u64,
        grades,
    })
}

type RawEvaluation = (i64, i64, i64, i32, String, String, String, String);

fn evaluation_row(r: &Row<'_>) -> rusqlite::Result<RawEvaluation> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
}

fn evaluation(raw: RawEvaluation) -> Result<Evaluation> {
    let (id, subject_id, run_id, score, grade, model, at, explanation) = raw;
    Ok(Evaluation {
        id,
        subject_id,
        run_id,
        score,
        grade,
        model,
        at: time(&at)?,
        explanation: serde_json::from_str(&explanation).map_err(|e| corrupt("explanation", e))?,
    })
}

fn inspection_row(r: &Row<'_>) -> rusqlite::Result<(i64, i64, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn inspection(raw: (i64, i64, String, String)) -> Result<Inspection> {
    let (id, created_by, created_at, plan) = raw;
    Ok(Inspection {
        id,
        created_by,
        created_at: time(&created_at)?,
        plan: serde_json::from_str(&plan).map_err(|e| corrupt("inspection plan", e))?,
    })
}

impl EvaluationStore for SqliteStore {
    fn evaluation_facts(
        &self,
        subjects: Option<&[i64]>,
        chunk: usize,
        each: &mut dyn FnMut(Vec<SubjectFacts>) -> Result<()>,
    ) -> Result<()> {
        let chunk = chunk.max(1);
        match subjects {
            Some(ids) => {
                let mut ids = ids.to_vec();
                ids.sort_unstable();
                ids.dedup();
                for part in ids.chunks(chunk) {
                    let facts = self.read(|conn| {
                        let mut facts = chunk_subjects(conn, 0, Some(part), chunk)?;
                        attach(conn, &mut facts, false)?;
                        Ok(facts)
                    })?;
                    if !facts.is_empty() {
                        each(facts)?;
                    }
                }
            }
            None => {
                let mut after = i64::MIN;
                loop {
                    let facts = self.read(|conn| {
                        let mut facts = chunk_subjects(conn, after, None, chunk)?;
                        attach(conn, &mut facts, true)?;
                        Ok(facts)
                    })?;
                    let Some(last) = facts.last().map(|s| s.id) else { break };
                    after = last;
                    each(facts)?;
                }
            }
        }
        Ok(())
    }

    fn begin_evaluation_run(&self, run: &NewRun) -> Result<i64> {
        self.write(|conn| insert_run(conn, run))
    }

    fn claim_full_run(&self, run: &NewRun, since: Timestamp) -> Result<Option<i64>> {
        if run.kind != RunKind::Full {
            return Err(StoreError::Invalid("only a full run is claimed".into()));
        }
        // IMMEDIATE takes the database's write lock before the check: another process on the same file
        // waits for this claim, then sees its run.
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_err)?;
            if latest_full_run(&tx)?.is_some_and(|at| at >= since) {
                return Ok(None);
            }
            let id = insert_run(&tx, run)?;
            tx.commit().map_err(db_err)?;
            Ok(Some(id))
        })
    }

    fn save_evaluations(&self, run_id: i64, evaluations: &[NewEvaluation]) -> Result<()> {
        if evaluations.is_empty() {
            return Ok(());
        }
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_err)?;
            let (model, at): (String, String) = tx
                .query_row("SELECT model, at FROM evaluation_runs WHERE id = ?1", [run_id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
                .map_err(db_err)?
                .ok_or_else(|| StoreError::NotFound(format!("evaluation run {run_id}")))?;
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO evaluations (subject_id, run_id, score, grade, model, at, explanation)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )
                    .map_err(db_err)?;
                let mut latest = tx
                    .prepare_cached(
                        "INSERT INTO evaluation_latest (subject_id, evaluation_id, score, grade, model, fingerprint)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT (subject_id) DO UPDATE SET evaluation_id = excluded.evaluation_id,
                            score = excluded.score, grade = excluded.grade, model = excluded.model,
                            fingerprint = excluded.fingerprint",
                    )
                    .map_err(db_err)?;
                // The run that set a subject's current score (a later run's score stays).
                let mut newer = tx
                    .prepare_cached(
                        "SELECT 1 FROM evaluation_latest l JOIN evaluations e ON e.id = l.evaluation_id
                         WHERE l.subject_id = ?1 AND e.run_id > ?2",
                    )
                    .map_err(db_err)?;
                for e in evaluations {
                    if newer.exists(params![e.subject_id, run_id]).map_err(db_err)? {
                        continue;
                    }
                    insert
                        .execute(params![e.subject_id, run_id, e.score, e.grade, model, at, e.explanation.to_string()])
                        .map_err(db_err)?;
                    let id = tx.last_insert_rowid();
                    latest
                        .execute(params![e.subject_id, id, e.score, e.grade, model, e.fingerprint])
                        .map_err(db_err)?;
                }
            }
            tx.commit().map_err(db_err)
        })
    }

    fn finish_evaluation_run(&self, run_id: i64, subjects: u64, changed: u64) -> Result<EvaluationRun> {
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_err)?;
            let mut grades = BTreeMap::new();
            {
                let mut stmt = tx
                    .prepare_cached("SELECT grade, count(*) FROM evaluation_latest GROUP BY grade")
                    .map_err(db_err)?;
                let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).map_err(db_err)?;
                for row in rows {
                    let (g, n) = row.map_err(db_err)?;
                    grades.insert(g, n as u64);
                }
            }
            let text = serde_json::to_string(&grades).map_err(|e| StoreError::Invalid(e.to_string()))?;
            let updated = tx
                .execute(
                    "UPDATE evaluation_runs SET subjects = ?2, changed = ?3, grades = ?4 WHERE id = ?1",
                    params![run_id, subjects as i64, changed as i64, text],
                )
                .map_err(db_err)?;
            if updated != 1 {
                return Err(StoreError::NotFound(format!("evaluation run {run_id}")));
            }
            let raw = tx
                .query_row(&format!("SELECT {RUN_COLUMNS} FROM evaluation_runs WHERE id = ?1"), [run_id], run_from_row)
                .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            run(raw)
        })
    }

    fn latest_evaluation(&self, subject_id: i64) -> Result<Option<Evaluation>> {
        self.read(|conn| {
            let raw = conn
                .query_row(
                    &format!(
                        "SELECT {EVALUATION_COLUMNS} FROM evaluations
                         WHERE id = (SELECT evaluation_id FROM evaluation_latest WHERE subject_id = ?1)"
                    ),
                    [subject_id],
                    evaluation_row,
                )
                .optional()
                .map_err(db_err)?;
            raw.map(evaluation).transpose()
        })
    }

    fn evaluation_history(&self, subject_id: i64) -> Result<Vec<Evaluation>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {EVALUATION_COLUMNS} FROM evaluations WHERE subject_id = ?1 ORDER BY id DESC"
                ))
                .map_err(db_err)?;
            let raws = stmt
                .query_map([subject_id], evaluation_row)
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            raws.into_iter().map(evaluation).collect()
        })
    }

    fn evaluation_runs(&self, limit: u32) -> Result<Vec<EvaluationRun>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {RUN_COLUMNS} FROM evaluation_runs WHERE grades IS NOT NULL ORDER BY id DESC LIMIT ?1"
                ))
                .map_err(db_err)?;
            let raws = stmt
                .query_map([limit], run_from_row)
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            raws.into_iter().map(run).collect()
        })
    }

    fn active_model(&self) -> Result<Option<String>> {
        self.read(|conn| {
            conn.query_row(
                "SELECT model_text FROM evaluation_runs WHERE kind = 'full' AND grades IS NOT NULL ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)
        })
    }

    fn latest_full_run_at(&self) -> Result<Option<Timestamp>> {
        self.read(latest_full_run)
    }

    fn graded_population(&self, population: &Population) -> Result<Vec<(i64, String)>> {
        // Registrations stored before field codes hold the district under its full key.
        let district_path = format!("$.\"{}\"", xinyong_store::field_codes::stored_key("district"));
        let (sql, args): (&str, Vec<&str>) = match population {
            Population::All => ("SELECT subject_id, grade FROM evaluation_latest ORDER BY subject_id", vec![]),
            Population::Unit(u) => (
                "SELECT l.subject_id, l.grade FROM evaluation_latest l
                 WHERE EXISTS (SELECT 1 FROM records r WHERE r.subject_id = l.subject_id AND r.unit = ?1)
                 ORDER BY l.subject_id",
                vec![u.as_str()],
            ),
            Population::Item(i) => (
                "SELECT l.subject_id, l.grade FROM evaluation_latest l
                 WHERE EXISTS (SELECT 1 FROM records r WHERE r.subject_id = l.subject_id AND r.item = ?1)
                 ORDER BY l.subject_id",
                vec![i.as_str()],
            ),
            Population::District(d) => (
                "SELECT l.subject_id, l.grade FROM evaluation_latest l
                 WHERE EXISTS (SELECT 1 FROM records r WHERE r.subject_id = l.subject_id
                    AND r.item = 'legal_person_registration'
                    AND coalesce(json_extract(r.fields, ?2), json_extract(r.fields, '$.district')) = ?1)
                 ORDER BY l.subject_id",
                vec![d.as_str(), district_path.as_str()],
            ),
        };
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
            let map = |r: &Row<'_>| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?));
            let rows = stmt.query_map(rusqlite::params_from_iter(args), map);
            rows.map_err(db_err)?.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
    }

    fn save_inspection(&self, plan: &serde_json::Value, created_by: i64, at: Timestamp) -> Result<Inspection> {
        let id = self.write(|conn| {
            conn.execute(
                "INSERT INTO inspections (created_by, created_at, plan) VALUES (?1, ?2, ?3)",
                params![created_by, at.to_rfc3339(), plan.to_string()],
            )
            .map_err(db_err)?;
            Ok(conn.last_insert_rowid())
        })?;
        self.inspection(id)?.ok_or_else(|| StoreError::NotFound(format!("inspection {id}")))
    }

    fn inspection(&self, id: i64) -> Result<Option<Inspection>> {
        self.read(|conn| {
            let raw = conn
                .query_row(
                    "SELECT id, created_by, created_at, plan FROM inspections WHERE id = ?1",
                    [id],
                    inspection_row,
                )
                .optional()
                .map_err(db_err)?;
            raw.map(inspection).transpose()
        })
    }

    fn inspections(&self, limit: u32) -> Result<Vec<Inspection>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT id, created_by, created_at, plan FROM inspections ORDER BY id DESC LIMIT ?1")
                .map_err(db_err)?;
            let raws = stmt
                .query_map([limit], inspection_row)
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            raws.into_iter().map(inspection).collect()
        })
    }
}

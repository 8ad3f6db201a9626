//! Evaluation facts, scores, runs and inspection plans (`xinyong_store::evaluation`), as the embedded
//! store keeps them. Facts are read a chunk of subjects at a time (keyset paging by id, or `= ANY` for
//! the subjects of an incremental run); the scores of a chunk are one set-based statement (`unnest`)
//! that appends the history rows and upserts the current scores.

use std::collections::BTreeMap;

use postgres::Row;
use xinyong_domain::record::RecordStatus;
use xinyong_domain::subject::SubjectKind;
use xinyong_store::evaluation::{
    CurrentScore, Evaluation, EvaluationRun, EvaluationStore, FactCommitment, FactRecord, Inspection, NewEvaluation,
    NewRun, Population, RunKind, SubjectFacts,
};
use xinyong_store::{Result, StoreError, Timestamp};

use crate::PgStore;
use crate::pool::Conn;
use crate::subjects::{corrupt, severity, time};

/// The advisory lock that serialises claims of the daily full run ("xyfullrn").
const FULL_RUN_LOCK: i64 = 0x78_79_66_75_6c_6c_72_6e;

fn insert_run(c: &mut Conn, run: &NewRun) -> Result<i64> {
    let row = c.query_one(
        "INSERT INTO evaluation_runs (kind, model, model_text, cause, at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        &[&run.kind.as_str(), &run.model, &run.model_text, &run.cause, &run.at.to_rfc3339()],
    )?;
    row.try_get(0).map_err(crate::db_err)
}

/// When the newest full run began.
fn latest_full_run(c: &mut Conn) -> Result<Option<Timestamp>> {
    let row = c.query_opt("SELECT at FROM evaluation_runs WHERE kind = 'full' ORDER BY id DESC LIMIT 1", &[])?;
    row.map(|r| time(r.try_get(0).map_err(crate::db_err)?)).transpose()
}

macro_rules! run_columns {
    () => {
        "id, kind, model, cause, at, subjects, changed, grades"
    };
}

macro_rules! evaluation_columns {
    () => {
        "id, subject_id, run_id, score, grade, model, at, explanation"
    };
}

fn subject_from_row(r: &Row) -> Result<SubjectFacts> {
    let kind: &str = r.try_get(1).map_err(crate::db_err)?;
    let score: Option<i32> = r.try_get(2).map_err(crate::db_err)?;
    let grade: Option<String> = r.try_get(3).map_err(crate::db_err)?;
    let model: Option<String> = r.try_get(4).map_err(crate::db_err)?;
    let fingerprint: Option<i64> = r.try_get(5).map_err(crate::db_err)?;
    let current = match (score, grade, model, fingerprint) {
        (Some(score), Some(grade), Some(model), Some(fingerprint)) => {
            Some(CurrentScore { score, grade, model, fingerprint })
        }
        _ => None,
    };
    Ok(SubjectFacts {
        id: r.try_get(0).map_err(crate::db_err)?,
        kind: SubjectKind::parse(kind).ok_or_else(|| corrupt("subject kind", kind))?,
        records: Vec::new(),
        commitments: Vec::new(),
        current,
    })
}

fn attach(c: &mut Conn, chunk: &mut [SubjectFacts]) -> Result<()> {
    if chunk.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = chunk.iter().map(|s| s.id).collect();
    let index: std::collections::HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    for r in c.query(
        "SELECT subject_id, id, item, status, record_date, end_date, severity FROM records WHERE subject_id = ANY($1)",
        &[&ids],
    )? {
        let subject: i64 = r.try_get(0).map_err(crate::db_err)?;
        let Some(&i) = index.get(&subject) else { continue };
        let status: &str = r.try_get(3).map_err(crate::db_err)?;
        chunk[i].records.push(FactRecord {
            id: r.try_get(1).map_err(crate::db_err)?,
            item: r.try_get(2).map_err(crate::db_err)?,
            status: RecordStatus::parse(status).ok_or_else(|| corrupt("record status", status))?,
            date: r.try_get(4).map_err(crate::db_err)?,
            end_date: r.try_get(5).map_err(crate::db_err)?,
            severity: severity(r.try_get(6).map_err(crate::db_err)?)?,
        });
    }
    for r in c.query(
        "SELECT subject_id, id, status,
            CASE WHEN status = 'pending' THEN made_on ELSE substr(updated_at, 1, 10)::date END, record_id
         FROM commitments WHERE subject_id = ANY($1) ORDER BY id",
        &[&ids],
    )? {
        let subject: i64 = r.try_get(0).map_err(crate::db_err)?;
        let Some(&i) = index.get(&subject) else { continue };
        chunk[i].commitments.push(FactCommitment {
            id: r.try_get(1).map_err(crate::db_err)?,
            status: r.try_get(2).map_err(crate::db_err)?,
            date: r.try_get(3).map_err(crate::db_err)?,
            record_id: r.try_get(4).map_err(crate::db_err)?,
        });
    }
    Ok(())
}

fn run_from_row(r: &Row) -> Result<EvaluationRun> {
    let kind: &str = r.try_get(1).map_err(crate::db_err)?;
    let grades: Option<&str> = r.try_get(7).map_err(crate::db_err)?;
    let subjects: i64 = r.try_get(5).map_err(crate::db_err)?;
    let changed: i64 = r.try_get(6).map_err(crate::db_err)?;
    Ok(EvaluationRun {
        id: r.try_get(0).map_err(crate::db_err)?,
        kind: RunKind::parse(kind).ok_or_else(|| corrupt("run kind", kind))?,
        model: r.try_get(2).map_err(crate::db_err)?,
        cause: r.try_get(3).map_err(crate::db_err)?,
        at: time(r.try_get(4).map_err(crate::db_err)?)?,
        subjects: subjects as u64,
        changed: changed as u64,
        grades: match grades {
            Some(g) => serde_json::from_str(g).map_err(|e| corrupt("run grades", e))?,
            None => BTreeMap::new(),
        },
    })
}

fn evaluation_from_row(r: &Row) -> Result<Evaluation> {
    let explanation: &str = r.try_get(7).map_err(crate::db_err)?;
    Ok(Evaluation {
        id: r.try_get(0).map_err(crate::db_err)?,
        subject_id: r.try_get(1).map_err(crate::db_err)?,
        run_id: r.try_get(2).map_err(crate::db_err)?,
        score: r.try_get(3).map_err(crate::db_err)?,
        grade: r.try_get(4).map_err(crate::db_err)?,
        model: r.try_get(5).map_err(crate::db_err)?,
        at: time(r.try_get(6).map_err(crate::db_err)?)?,
        explanation: serde_json::from_str(explanation).map_err(|e| corrupt("explanation", e))?,
    })
}

fn inspection_from_row(r: &Row) -> Result<Inspection> {
    let plan: &str = r.try_get(3).map_err(crate::db_err)?;
    Ok(Inspection {
        id: r.try_get(0).map_err(crate::db_err)?,
        created_by: r.try_get(1).map_err(crate::db_err)?,
        created_at: time(r.try_get(2).map_err(crate::db_err)?)?,
        plan: serde_json::from_str(plan).map_err(|e| corrupt("inspection plan", e))?,
    })
}

impl EvaluationStore for PgStore {
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
                    let part = part.to_vec();
                    let facts = self.with(|c| {
                        let mut facts = c
                            .query(
                                "SELECT s.id, s.kind, l.score, l.grade, l.model, l.fingerprint
                                 FROM subjects s LEFT JOIN evaluation_latest l ON l.subject_id = s.id
                                 WHERE s.id = ANY($1) ORDER BY s.id",
                                &[&part],
                            )?
                            .iter()
                            .map(subject_from_row)
                            .collect::<Result<Vec<_>>>()?;
                        attach(c, &mut facts)?;
                        Ok(facts)
                    })?;
                    if !facts.is_empty() {
                        each(facts)?;
                    }
                }
            }
            None => {
                let mut after = i64::MIN;
                let limit = i64::try_from(chunk).unwrap_or(i64::MAX);
                loop {
                    let facts = self.with(|c| {
                        let mut facts = c
                            .query(
                                "SELECT s.id, s.kind, l.score, l.grade, l.model, l.fingerprint
                                 FROM subjects s LEFT JOIN evaluation_latest l ON l.subject_id = s.id
                                 WHERE s.id > $1 ORDER BY s.id LIMIT $2",
                                &[&after, &limit],
                            )?
                            .iter()
                            .map(subject_from_row)
                            .collect::<Result<Vec<_>>>()?;
                        attach(c, &mut facts)?;
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
        self.with(|c| insert_run(c, run))
    }

    fn claim_full_run(&self, run: &NewRun, since: Timestamp) -> Result<Option<i64>> {
        if run.kind != RunKind::Full {
            return Err(StoreError::Invalid("only a full run is claimed".into()));
        }
        // Under READ COMMITTED two servers could both see no run and both insert one; the lock, held to
        // the commit, makes the second wait and then see the first one's run.
        self.with(|c| {
            c.transaction(|c| {
                c.execute("SELECT pg_advisory_xact_lock($1)", &[&FULL_RUN_LOCK])?;
                if latest_full_run(c)?.is_some_and(|at| at >= since) {
                    return Ok(None);
                }
                insert_run(c, run).map(Some)
            })
        })
    }

    fn save_evaluations(&self, run_id: i64, evaluations: &[NewEvaluation]) -> Result<()> {
        if evaluations.is_empty() {
            return Ok(());
        }
        let subjects: Vec<i64> = evaluations.iter().map(|e| e.subject_id).collect();
        let scores: Vec<i32> = evaluations.iter().map(|e| e.score).collect();
        let grades: Vec<&str> = evaluations.iter().map(|e| e.grade.as_str()).collect();
        let explanations: Vec<String> = evaluations.iter().map(|e| e.explanation.to_string()).collect();
        let fingerprints: Vec<i64> = evaluations.iter().map(|e| e.fingerprint).collect();
        self.with(|c| {
            c.transaction(|c| {
                if c.query_opt("SELECT 1 FROM evaluation_runs WHERE id = $1", &[&run_id])?.is_none() {
                    return Err(StoreError::NotFound(format!("evaluation run {run_id}")));
                }
                // A subject whose current score came from a later run keeps it. The upsert checks
                // again on the row it locked, so a later run committing meanwhile keeps its score too.
                c.execute(
                    "WITH run AS (SELECT model, at FROM evaluation_runs WHERE id = $1),
                     input AS (SELECT * FROM unnest($2::bigint[], $3::integer[], $4::text[], $5::text[], $6::bigint[])
                               AS u(subject_id, score, grade, explanation, fingerprint)
                               WHERE NOT EXISTS (
                                   SELECT 1 FROM evaluation_latest l
                                   JOIN evaluations e ON e.subject_id = l.subject_id AND e.id = l.evaluation_id
                                   WHERE l.subject_id = u.subject_id AND e.run_id > $1)),
                     ins AS (
                        INSERT INTO evaluations (subject_id, run_id, score, grade, model, at, explanation)
                        SELECT i.subject_id, $1, i.score, i.grade, run.model, run.at, i.explanation FROM input i, run
                        RETURNING subject_id, id, score, grade, model)
                     INSERT INTO evaluation_latest (subject_id, evaluation_id, score, grade, model, fingerprint)
                     SELECT ins.subject_id, ins.id, ins.score, ins.grade, ins.model, i.fingerprint
                     FROM ins JOIN input i ON i.subject_id = ins.subject_id
                     ON CONFLICT (subject_id) DO UPDATE SET evaluation_id = excluded.evaluation_id,
                        score = excluded.score, grade = excluded.grade, model = excluded.model,
                        fingerprint = excluded.fingerprint
                     WHERE NOT EXISTS (SELECT 1 FROM evaluations e WHERE e.subject_id = evaluation_latest.subject_id
                        AND e.id = evaluation_latest.evaluation_id AND e.run_id > $1)",
                    &[&run_id, &subjects, &scores, &grades, &explanations, &fingerprints],
                )?;
                Ok(())
            })
        })
    }

    fn finish_evaluation_run(&self, run_id: i64, subjects: u64, changed: u64) -> Result<EvaluationRun> {
        let row = self.with(|c| {
            c.transaction(|c| {
                let mut grades = BTreeMap::new();
                for r in c.query("SELECT grade, count(*) FROM evaluation_latest GROUP BY grade", &[])? {
                    let n: i64 = r.try_get(1).map_err(crate::db_err)?;
                    grades.insert(r.try_get::<_, String>(0).map_err(crate::db_err)?, n as u64);
                }
                let text = serde_json::to_string(&grades).map_err(|e| StoreError::Invalid(e.to_string()))?;
                let (subjects, changed) = (subjects as i64, changed as i64);
                c.query_opt(
                    concat!(
                        "UPDATE evaluation_runs SET subjects = $2, changed = $3, grades = $4 WHERE id = $1 RETURNING ",
                        run_columns!()
                    ),
                    &[&run_id, &subjects, &changed, &text],
                )
            })
        })?;
        let row = row.ok_or_else(|| StoreError::NotFound(format!("evaluation run {run_id}")))?;
        run_from_row(&row)
    }

    fn latest_evaluation(&self, subject_id: i64) -> Result<Option<Evaluation>> {
        let row = self.with(|c| {
            c.query_opt(
                concat!(
                    "SELECT ",
                    evaluation_columns!(),
                    " FROM evaluations WHERE subject_id = $1
                      AND id = (SELECT evaluation_id FROM evaluation_latest WHERE subject_id = $1)"
                ),
                &[&subject_id],
            )
        })?;
        row.as_ref().map(evaluation_from_row).transpose()
    }

    fn evaluation_history(&self, subject_id: i64) -> Result<Vec<Evaluation>> {
        let rows = self.with(|c| {
            c.query(
                concat!("SELECT ", evaluation_columns!(), " FROM evaluations WHERE subject_id = $1 ORDER BY id DESC"),
                &[&subject_id],
            )
        })?;
        rows.iter().map(evaluation_from_row).collect()
    }

    fn evaluation_runs(&self, limit: u32) -> Result<Vec<EvaluationRun>> {
        let limit = i64::from(limit);
        let rows = self.with(|c| {
            c.query(
                concat!(
                    "SELECT ",
                    run_columns!(),
                    " FROM evaluation_runs WHERE grades IS NOT NULL ORDER BY id DESC LIMIT $1"
                ),
                &[&limit],
            )
        })?;
        rows.iter().map(run_from_row).collect()
    }

    fn active_model(&self) -> Result<Option<String>> {
        let row = self.with(|c| {
            c.query_opt(
                "SELECT model_text FROM evaluation_runs WHERE kind = 'full' AND grades IS NOT NULL ORDER BY id DESC LIMIT 1",
                &[],
            )
        })?;
        row.map(|r| r.try_get(0).map_err(crate::db_err)).transpose()
    }

    fn latest_full_run_at(&self) -> Result<Option<Timestamp>> {
        self.with(latest_full_run)
    }

    fn graded_population(&self, population: &Population) -> Result<Vec<(i64, String)>> {
        // Registrations stored before field codes hold the district under its full key.
        let district = xinyong_store::field_codes::stored_key("district");
        let rows = self.with(|c| match population {
            Population::All => c.query("SELECT subject_id, grade FROM evaluation_latest ORDER BY subject_id", &[]),
            Population::Unit(u) => c.query(
                "SELECT l.subject_id, l.grade FROM evaluation_latest l
                 WHERE EXISTS (SELECT 1 FROM records r WHERE r.subject_id = l.subject_id AND r.unit = $1)
                 ORDER BY l.subject_id",
                &[u],
            ),
            Population::Item(i) => c.query(
                "SELECT l.subject_id, l.grade FROM evaluation_latest l
                 WHERE EXISTS (SELECT 1 FROM records r WHERE r.subject_id = l.subject_id AND r.item = $1)
                 ORDER BY l.subject_id",
                &[i],
            ),
            Population::District(d) => c.query(
                "SELECT l.subject_id, l.grade FROM evaluation_latest l
                 WHERE EXISTS (SELECT 1 FROM records r WHERE r.subject_id = l.subject_id
                    AND r.item = 'legal_person_registration'
                    AND coalesce(r.fields::jsonb ->> $2, r.fields::jsonb ->> 'district') = $1)
                 ORDER BY l.subject_id",
                &[d, &district],
            ),
        })?;
        rows.iter().map(|r| Ok((r.try_get(0).map_err(crate::db_err)?, r.try_get(1).map_err(crate::db_err)?))).collect()
    }

    fn save_inspection(&self, plan: &serde_json::Value, created_by: i64, at: Timestamp) -> Result<Inspection> {
        let (plan, at) = (plan.to_string(), at.to_rfc3339());
        let row = self.with(|c| {
            c.query_one(
                "INSERT INTO inspections (created_by, created_at, plan) VALUES ($1, $2, $3)
                 RETURNING id, created_by, created_at, plan",
                &[&created_by, &at, &plan],
            )
        })?;
        inspection_from_row(&row)
    }

    fn inspection(&self, id: i64) -> Result<Option<Inspection>> {
        let row = self
            .with(|c| c.query_opt("SELECT id, created_by, created_at, plan FROM inspections WHERE id = $1", &[&id]))?;
        row.as_ref().map(inspection_from_row).transpose()
    }

    fn inspections(&self, limit: u32) -> Result<Vec<Inspection>> {
        let limit = i64::from(limit);
        let rows = self.with(|c| {
            c.query("SELECT id, created_by, created_at, plan FROM inspections ORDER BY id DESC LIMIT $1", &[&limit])
        })?;
        rows.iter().map(inspection_from_row).collect()
    }
}

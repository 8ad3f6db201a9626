//! Evaluation runs over a store: a full recompute of every subject (`xinyong evaluate`), or an
//! incremental one of the subjects a batch or a workflow step touched. Only scores that changed (score,
//! grade, model or explanation) are written, each as a new history entry; the run records the grade
//! distribution after it.
//!
//! Incremental runs use the platform's active model (that of the newest full run), or the default
//! model before the first full run.
//!
//! Scores also move with time alone: a penalty leaves its window, a registration reaches another
//! anniversary. So a server runs a full recompute once a day ([`daily`]); only the scores that moved
//! are written.

use chrono::NaiveDate;
use xinyong_domain::catalog::Catalog;
use xinyong_store::evaluation::{EvaluationRun, NewEvaluation, NewRun, RunKind, SubjectFacts};
use xinyong_store::{Store, StoreError, Timestamp};

use crate::model::{DEFAULT_MODEL_TOML, Model, ModelError};
use crate::score::{Evaluator, fingerprint};

/// Subjects read and scored per chunk.
pub const CHUNK: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("evaluation model: {0}")]
    Model(#[from] ModelError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A model with the text it was read from (kept with full runs).
#[derive(Debug, Clone)]
pub struct LoadedModel {
    pub model: Model,
    pub text: String,
}

impl LoadedModel {
    /// Parses and checks a model file's text against the catalog.
    pub fn parse(text: &str, catalog: &Catalog) -> Result<LoadedModel, ModelError> {
        let model = Model::from_toml(text)?;
        model.check_against(catalog)?;
        Ok(LoadedModel { model, text: text.to_owned() })
    }

    /// The platform's active model: that of the newest full run, else the shipped default.
    pub fn active(store: &dyn Store, catalog: &Catalog) -> Result<LoadedModel, RunError> {
        let text = store.active_model()?.unwrap_or_else(|| DEFAULT_MODEL_TOML.to_owned());
        Ok(LoadedModel::parse(&text, catalog)?)
    }
}

/// Scores one chunk; answers the scores that changed.
pub fn score_chunk(evaluator: &Evaluator, facts: &[SubjectFacts], as_of: NaiveDate) -> Vec<NewEvaluation> {
    let version = &evaluator.model.version;
    facts
        .iter()
        .filter_map(|f| {
            let scored = evaluator.score(f, as_of);
            let explanation = scored.explanation(as_of);
            // The day is part of the explanation but not of what counts as a change.
            let mut stable = explanation.clone();
            if let Some(o) = stable.as_object_mut() {
                o.remove("as_of");
            }
            let print = fingerprint(&stable.to_string());
            let same = f.current.as_ref().is_some_and(|c| {
                c.score == scored.score && c.grade == scored.grade && &c.model == version && c.fingerprint == print
            });
            (!same).then_some(NewEvaluation {
                subject_id: f.id,
                score: scored.score,
                grade: scored.grade,
                explanation,
                fingerprint: print,
            })
        })
        .collect()
}

/// Recomputes the scores of `subjects` (every subject when `None`) with `model`.
pub fn recompute(
    store: &dyn Store,
    catalog: &Catalog,
    model: &LoadedModel,
    subjects: Option<&[i64]>,
    cause: &str,
    now: Timestamp,
) -> Result<EvaluationRun, RunError> {
    let kind = if subjects.is_none() { RunKind::Full } else { RunKind::Incremental };
    let run = store.begin_evaluation_run(&new_run(kind, model, cause, now))?;
    score(store, catalog, model, subjects, run, now)
}

fn new_run(kind: RunKind, model: &LoadedModel, cause: &str, now: Timestamp) -> NewRun {
    NewRun {
        kind,
        model: model.model.version.clone(),
        model_text: model.text.clone(),
        cause: cause.to_owned(),
        at: now,
    }
}

/// Scores the subjects of a begun run (every subject when `subjects` is `None`) and finishes it.
fn score(
    store: &dyn Store,
    catalog: &Catalog,
    model: &LoadedModel,
    subjects: Option<&[i64]>,
    run: i64,
    now: Timestamp,
) -> Result<EvaluationRun, RunError> {
    let evaluator = Evaluator::new(model.model.clone(), catalog);
    let as_of = now.date_naive();
    let (mut seen, mut changed) = (0u64, 0u64);
    store.evaluation_facts(subjects, CHUNK, &mut |facts| {
        seen += facts.len() as u64;
        let fresh = score_chunk(&evaluator, &facts, as_of);
        changed += fresh.len() as u64;
        store.save_evaluations(run, &fresh)
    })?;
    Ok(store.finish_evaluation_run(run, seen, changed)?)
}

/// The incremental recompute after a change: the subjects touched, with the active model. Nothing to do
/// (and no run recorded) when no subject was touched.
pub fn after_change(
    store: &dyn Store,
    catalog: &Catalog,
    subjects: &[i64],
    cause: &str,
    now: Timestamp,
) -> Result<Option<EvaluationRun>, RunError> {
    if subjects.is_empty() {
        return Ok(None);
    }
    let model = LoadedModel::active(store, catalog)?;
    recompute(store, catalog, &model, Some(subjects), cause, now).map(Some)
}

/// The day's full run with the active model, once the platform clock `now` is past `hour` (0–23) and
/// no full run began today yet (on this server or another, finished or not). Answers the run, or
/// nothing when it is not due.
pub fn daily(store: &dyn Store, hour: u32, now: Timestamp) -> Result<Option<EvaluationRun>, RunError> {
    use chrono::Timelike;
    let today = now.date_naive();
    if now.hour() < hour {
        return Ok(None);
    }
    let Some(midnight) = today.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(now.timezone()).single()) else {
        return Ok(None);
    };
    // The cheap check first: on most of the day's checks the run has begun already.
    if store.latest_full_run_at()?.is_some_and(|at| at >= midnight) {
        return Ok(None);
    }
    let catalog = store.load_catalog()?;
    let model = LoadedModel::active(store, &catalog)?;
    let cause = format!("daily: scores as of {today}");
    match store.claim_full_run(&new_run(RunKind::Full, &model, &cause, now), midnight)? {
        Some(run) => score(store, &catalog, &model, None, run, now).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::DateTime;
    use xinyong_store::conformance::{company, draft, install_default, load};
    use xinyong_store::evaluation::EvaluationStore;
    use xinyong_store::{SubjectKey, SubjectStore};
    use xinyong_store_sqlite::SqliteStore;

    use super::daily;

    fn at(s: &str) -> xinyong_store::Timestamp {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    /// A general penalty of 2026-05-06 counts for 36 months: on 2029-05-06 it leaves the window, and the
    /// day's run raises the score with no change to the subject's records.
    #[test]
    fn the_daily_run_moves_a_score_when_a_penalty_leaves_its_window() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::create(dir.path(), true).unwrap();
        install_default(&store).unwrap();
        load(&store, "b1", 2, &[draft(2, "k1", Some(company(1)), "罚款")]).unwrap();
        let key = SubjectKey::Identifier(company(1).id);
        let sid = store.find_subject(&key).unwrap().unwrap().id;

        assert!(daily(&store, 2, at("2029-05-05T01:59:00+08:00")).unwrap().is_none(), "before the hour");
        let first = daily(&store, 2, at("2029-05-05T02:00:00+08:00")).unwrap().expect("the day's run");
        assert_eq!((first.subjects, first.cause.as_str()), (1, "daily: scores as of 2029-05-05"));
        let before = store.latest_evaluation(sid).unwrap().unwrap();
        assert!(daily(&store, 2, at("2029-05-05T23:00:00+08:00")).unwrap().is_none(), "once a day");
        assert!(daily(&store, 2, at("2029-05-06T01:00:00+08:00")).unwrap().is_none(), "the 6th, before the hour");
        let second = daily(&store, 2, at("2029-05-06T02:30:00+08:00")).unwrap().expect("the next day's run");
        assert_eq!(second.changed, 1, "the penalty left its window: {second:?}");
        let after = store.latest_evaluation(sid).unwrap().unwrap();
        assert!(after.score > before.score, "{} → {}", before.score, after.score);
        let unchanged = daily(&store, 2, at("2029-05-07T02:30:00+08:00")).unwrap().expect("the third day's run");
        assert_eq!(unchanged.changed, 0, "nothing moved on the 7th");
    }
}

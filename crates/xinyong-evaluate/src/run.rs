//! Evaluation runs over a store: a full recompute of every subject (`xinyong evaluate`), or an
//! incremental one of the subjects a batch or a workflow step touched. Only scores that changed (score,
//! grade, model or explanation) are written, each as a new history entry; the run records the grade
//! distribution after it.
//!
//! Incremental runs use the platform's active model (that of the newest full run), or the default
//! model before the first full run.

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
    let evaluator = Evaluator::new(model.model.clone(), catalog);
    let kind = if subjects.is_none() { RunKind::Full } else { RunKind::Incremental };
    let run = store.begin_evaluation_run(&NewRun {
        kind,
        model: model.model.version.clone(),
        model_text: model.text.clone(),
        cause: cause.to_owned(),
        at: now,
    })?;
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

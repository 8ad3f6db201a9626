//! Evaluation scores in the API (公共信用综合评价): the profile's `evaluation`, the incremental recompute
//! after a change (a batch, a workflow step, a commitment settled), and `GET /stats/evaluation`: the
//! grade distribution now and after each run.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use xinyong_domain::access::Role;
use xinyong_evaluate::run::after_change;
use xinyong_store::evaluation::{Evaluation, RunKind};
use xinyong_store::{Store, Timestamp};

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;

/// Recomputes the scores of the subjects a change touched. The change is committed already: a failure
/// here is logged (the next change, the server's daily run or `xinyong evaluate` catches up), never
/// answered as the change's failure.
pub fn refresh(store: &dyn Store, subjects: &[i64], cause: &str, now: Timestamp) {
    let result = store
        .load_catalog()
        .map_err(xinyong_evaluate::run::RunError::from)
        .and_then(|catalog| after_change(store, &catalog, subjects, cause, now));
    match result {
        Ok(Some(run)) => {
            tracing::debug!(run = run.id, subjects = run.subjects, changed = run.changed, cause, "re-evaluated")
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, cause, "incremental evaluation failed"),
    }
}

/// The profile's `evaluation`: score, grade and model; with the explanation for those who may see every
/// record it names (admins, government units, the subject itself).
pub fn profile_view(e: &Evaluation, explained: bool) -> Value {
    let mut v = json!({
        "score": e.score,
        "grade": e.grade,
        "model": e.model,
        "at": e.at.to_rfc3339(),
    });
    if explained && let Some(o) = v.as_object_mut() {
        o.insert("explanation".into(), e.explanation.clone());
    }
    v
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EvaluationStatsParams {
    /// How many runs to show (newest first; default 20).
    pub runs: Option<u32>,
}

/// The grade distribution of every subject's current score and its change over the runs.
#[utoipa::path(get, path = "/api/v1/stats/evaluation", params(EvaluationStatsParams),
    responses((status = 200, description = "grades now and after each run")), security(("bearer" = [])), tag = "stats")]
pub async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<EvaluationStatsParams>,
) -> ApiResult<Json<Value>> {
    caller.require(&[Role::Admin, Role::Department, Role::Supplier])?;
    let limit = p.runs.unwrap_or(20).clamp(1, 1000);
    let runs = state.blocking(move |store| Ok(store.evaluation_runs(limit)?)).await?;
    Ok(Json(evaluation_stats(&runs)))
}

/// The figures of `GET /stats/evaluation` and `xinyong stats` (shared so both say the same).
pub fn evaluation_stats(runs: &[xinyong_store::evaluation::EvaluationRun]) -> Value {
    let current = runs.first();
    let total: u64 = current.map_or(0, |r| r.grades.values().sum());
    let shares: serde_json::Map<String, Value> = current
        .map(|r| {
            r.grades
                .iter()
                .map(|(g, n)| (g.clone(), json!(if total == 0 { 0.0 } else { *n as f64 / total as f64 })))
                .collect()
        })
        .unwrap_or_default();
    // Change since the newest full run before the current state.
    let previous_full = runs.iter().skip(1).find(|r| r.kind == RunKind::Full);
    let change: serde_json::Map<String, Value> = match (current, previous_full) {
        (Some(now), Some(before)) => {
            let grades: std::collections::BTreeSet<&String> = now.grades.keys().chain(before.grades.keys()).collect();
            grades
                .into_iter()
                .map(|g| {
                    let a = now.grades.get(g).copied().unwrap_or(0) as i64;
                    let b = before.grades.get(g).copied().unwrap_or(0) as i64;
                    (g.clone(), json!(a - b))
                })
                .collect()
        }
        _ => serde_json::Map::new(),
    };
    json!({
        "model": current.map(|r| r.model.clone()),
        "evaluated": total,
        "grades": current.map(|r| r.grades.clone()).unwrap_or_default(),
        "shares": shares,
        "change_since_previous_full_run": change,
        "runs": runs.iter().map(|r| json!({
            "id": r.id, "kind": r.kind, "model": r.model, "cause": r.cause, "at": r.at.to_rfc3339(),
            "subjects": r.subjects, "changed": r.changed, "grades": r.grades,
        })).collect::<Vec<_>>(),
    })
}

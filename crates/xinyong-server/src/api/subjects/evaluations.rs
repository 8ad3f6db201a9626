//! `GET /subjects/{key}/evaluations`: every score kept for a subject, newest first, each with its model
//! version, time and explanation (the history of 公共信用综合评价). Seen by admins, government units
//! and the subject itself; every call is logged like a profile query.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use xinyong_domain::access::Role;
use xinyong_store::evaluation::Evaluation;

use crate::audit::Access;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationHistory {
    pub subject: i64,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Evaluation>,
}

#[utoipa::path(get, path = "/api/v1/subjects/{key}/evaluations", params(("key" = String, Path)),
    responses((status = 200, body = EvaluationHistory), (status = 403), (status = 404)),
    security(("bearer" = [])), tag = "subjects")]
pub async fn evaluations(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<EvaluationHistory>> {
    let key = super::parse_key(&key, state.clock.today())?;
    let subject = super::find(&state, key).await?.ok_or_else(|| ApiError::not_found("no such subject"))?;
    let own = caller.account.subject_id == Some(subject.id);
    let access = Access { caller: &caller, action: "evaluation_history", subject_id: Some(subject.id), purpose: None };
    if !(own || matches!(caller.role(), Role::Admin | Role::Department | Role::Supplier)) {
        let reason = "the evaluation history is seen by the subject itself and government units";
        state.auditor.record(access.entry(&*state.clock, "denied", reason)).await?;
        return Err(ApiError::forbidden(reason));
    }
    let id = subject.id;
    let items = state.blocking(move |store| Ok(store.evaluation_history(id)?)).await?;
    state.auditor.record(access.entry(&*state.clock, "allowed", format!("{} evaluations", items.len()))).await?;
    Ok(Json(EvaluationHistory { subject: id, items }))
}

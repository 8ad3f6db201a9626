//! `GET /subjects/{key}/queries`: who looked at a subject, when and for what purpose (the subject
//! itself and admins). Like the central bank's 查询记录: units and purposes are shown; the names of
//! individual officers only to admins.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xinyong_domain::access::Role;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct QueriesParams {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueryEntry {
    pub seq: i64,
    pub at: String,
    pub unit: Option<String>,
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub action: String,
    pub purpose: Option<String>,
    pub purpose_label: Option<String>,
    pub channel: String,
    pub outcome: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueryLog {
    pub items: Vec<QueryEntry>,
    pub page: u32,
    pub per_page: u32,
}

#[utoipa::path(get, path = "/api/v1/subjects/{key}/queries", params(("key" = String, Path), QueriesParams),
    responses((status = 200, body = QueryLog), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])), tag = "subjects")]
pub async fn queries(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Query(params): Query<QueriesParams>,
) -> ApiResult<Json<QueryLog>> {
    let key = super::parse_key(&key, state.clock.today())?;
    let subject = super::find(&state, key).await?.ok_or_else(|| ApiError::not_found("no such subject"))?;
    let own = caller.account.subject_id == Some(subject.id);
    if !(own || caller.role() == Role::Admin) {
        return Err(ApiError::forbidden("only the subject itself and admins see who queried it"));
    }
    let page = params.page.unwrap_or(1).max(1);
    let per_page = params.per_page.unwrap_or(50).clamp(1, 500);
    let subject_id = subject.id;
    let records =
        state.blocking(move |store| Ok(store.audit_of_subject(subject_id, per_page, (page - 1) * per_page)?)).await?;
    let admin = caller.role() == Role::Admin;
    let items = records
        .into_iter()
        .map(|r| QueryEntry {
            seq: r.seq,
            at: r.entry.at.to_rfc3339(),
            unit: r.entry.unit,
            role: r.entry.role.as_str().to_owned(),
            account: admin.then_some(r.entry.account_name),
            action: r.entry.action,
            purpose: r.entry.purpose.map(|p| p.code().to_owned()),
            purpose_label: r.entry.purpose.map(|p| p.label().to_owned()),
            channel: r.entry.channel.as_str().to_owned(),
            outcome: r.entry.outcome,
        })
        .collect();
    Ok(Json(QueryLog { items, page, per_page }))
}

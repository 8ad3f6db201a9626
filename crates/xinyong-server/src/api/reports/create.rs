//! `POST /reports {"subject", "kind": "standard"|"special", "domains": [], "from", "to", "purpose"}`.
//!
//! 201 with the report's id, number and links; 400 for bad input (naming the field); 403 when the
//! caller may not have the subject's report, or a natural person's free reports of the year are used
//! (`free_report_limit`); 404 for an unknown subject. The issue is logged in the subject's query log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use xinyong_report::model::ReportKind;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::reports::{IssueRequest, issue, verify_url};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReport {
    /// USCC, resident ID or subject id.
    pub subject: String,
    /// `standard` (default) or `special`.
    pub kind: Option<String>,
    /// Special reports: domain codes or names (`market`, `市场监管`, …).
    #[serde(default)]
    pub domains: Vec<String>,
    /// Special reports: the period (default: the three years up to today).
    #[schema(value_type = Option<String>)]
    pub from: Option<NaiveDate>,
    #[schema(value_type = Option<String>)]
    pub to: Option<NaiveDate>,
    /// 查询用途 (default by role: a subject `self`, a market institution `authorised`, a department `approval`).
    pub purpose: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Issued {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub subject: i64,
    pub issued_at: String,
    pub pdf: String,
    pub html: String,
    pub json: String,
    pub verify_url: String,
}

#[utoipa::path(post, path = "/api/v1/reports", request_body = CreateReport,
    responses((status = 201, body = Issued), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])), tag = "reports")]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateReport>,
) -> ApiResult<(StatusCode, Json<Issued>)> {
    let kind = match body.kind.as_deref() {
        None => ReportKind::Standard,
        Some(k) => ReportKind::parse(k).ok_or_else(|| {
            ApiError::bad_request("bad_kind", format!("kind: {k:?} is not a report kind (standard, special)"))
        })?,
    };
    let req = IssueRequest {
        subject: body.subject,
        kind,
        domains: body.domains,
        from: body.from,
        to: body.to,
        purpose: body.purpose,
    };
    let stored = issue(&state, &caller, req).await?;
    let base = format!("/api/v1/reports/{}", stored.id);
    Ok((
        StatusCode::CREATED,
        Json(Issued {
            id: stored.id,
            verify_url: verify_url(&state.settings.public_url, &stored.number),
            number: stored.number,
            kind: stored.kind,
            subject: stored.subject_id,
            issued_at: stored.issued_at.to_rfc3339(),
            pdf: format!("{base}.pdf"),
            html: format!("{base}.html"),
            json: format!("{base}.json"),
        }),
    ))
}

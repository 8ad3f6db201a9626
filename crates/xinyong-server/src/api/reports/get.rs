//! `GET /reports/{id}.pdf|.html|.json`: an issued report, signed with the platform's current key.
//! Admins, the account that asked for it and the subject itself may fetch it; every fetch is logged.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use xinyong_report::sign::Format;

use crate::audit::Access;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::reports::{fetch, render};
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/reports/{file}", params(("file" = String, Path, description = "`{id}.pdf`, `{id}.html` or `{id}.json`")),
    responses((status = 200, description = "the signed report file"), (status = 401), (status = 403), (status = 404), (status = 503)),
    security(("bearer" = [])), tag = "reports")]
pub async fn get(State(state): State<AppState>, caller: Caller, Path(file): Path<String>) -> ApiResult<Response> {
    let bad = || ApiError::not_found(format!("{file:?}: ask for /reports/{{id}}.pdf, .html or .json"));
    let (id, ext) = file.rsplit_once('.').ok_or_else(bad)?;
    let id: i64 = id.parse().map_err(|_| bad())?;
    let format = Format::parse(ext).ok_or_else(bad)?;
    let stored = fetch(&state, &caller, id).await?;
    let bytes = render(&state, &stored, format).await?;
    let access =
        Access { caller: &caller, action: "report_download", subject_id: Some(stored.subject_id), purpose: None };
    let detail = format!("report {} as {}", stored.number, format.extension());
    state.auditor.record(access.entry(&*state.clock, "allowed", detail)).await?;
    let disposition = format!("inline; filename=\"{}.{}\"", stored.number, format.extension());
    Ok(([(header::CONTENT_TYPE, format.content_type().to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response())
}

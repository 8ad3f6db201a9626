//! `GET /batches/{id}`: a batch and its errors (its unit's suppliers and admins).

use axum::Json;
use axum::extract::{Path, State};
use xinyong_store::BatchReport;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/batches/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "the batch and its errors"), (status = 403), (status = 404)),
    security(("bearer" = [])), tag = "batches")]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<BatchReport>> {
    let report = state
        .blocking(move |store| Ok(store.batch(&id)?))
        .await?
        .ok_or_else(|| ApiError::not_found("no such batch"))?;
    super::may_act_for(&caller, &report.unit)?;
    Ok(Json(report))
}

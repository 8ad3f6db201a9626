//! Service endpoints: health, metrics, the OpenAPI document, the platform's public keys.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use serde_json::json;
use utoipa::{OpenApi, ToSchema};

use xinyong_store::workflow::CaseKind;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub backend: String,
}

#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health), (status = 503)), tag = "service")]
pub async fn healthz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    let backend = state.store.backend().to_owned();
    state.blocking(|store| Ok(store.subject_count()?)).await.map_err(|_| {
        ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "unhealthy", "the store does not answer")
    })?;
    Ok(Json(Health { status: "ok".to_owned(), backend }))
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    // Overdue cases are counted from the store at each scrape: correct whichever server handled them.
    let today = state.clock.today();
    match state.blocking(move |store| Ok(store.overdue_counts(today)?)).await {
        Ok(counts) => {
            for kind in [CaseKind::Objection, CaseKind::Repair, CaseKind::Revocation] {
                let n = counts.iter().find(|(k, _)| *k == kind).map_or(0, |(_, n)| *n);
                state.metrics.overdue.with_label_values(&[kind.as_str()]).set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
        Err(e) => tracing::error!(error = %e.message, "counting overdue cases for /metrics"),
    }
    match state.blocking(move |store| Ok(store.overdue_commitments(today)?)).await {
        Ok(n) => state.metrics.overdue.with_label_values(&["commitment"]).set(i64::try_from(n).unwrap_or(i64::MAX)),
        Err(e) => tracing::error!(error = %e.message, "counting overdue commitments for /metrics"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}

pub async fn openapi() -> impl IntoResponse {
    Json(super::ApiDoc::openapi())
}

#[utoipa::path(get, path = "/api/v1/keys", responses((status = 200, description = "public signing keys with validity periods")), tag = "service")]
pub async fn keys(State(state): State<AppState>) -> impl IntoResponse {
    let keys = state.keyring.as_ref().map(|k| k.public_keys().to_vec()).unwrap_or_default();
    Json(json!({ "keys": keys }))
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

//! `POST /reports/verify` (public): the body is a report file (PDF, HTML or JSON). Answers
//! `{"valid", "number", "subject", "kind", "issued_at"}`; `valid` is false, with a `reason`, when any
//! byte was changed or the signing key is not one of the platform's published keys.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Whether the platform's register holds the number (a valid file always should).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_file: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/reports/verify", request_body(content = Vec<u8>, description = "a report file"),
    responses((status = 200, body = Verification)), tag = "reports")]
pub async fn verify(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<Verification>> {
    let keys = state.keyring.as_ref().map(|k| k.public_keys().to_vec()).unwrap_or_default();
    let checked = tokio::task::spawn_blocking(move || xinyong_report::sign::verify(&body, Some(&keys)))
        .await
        .map_err(crate::error::ApiError::internal)?;
    let v = match checked {
        Ok(v) => v,
        Err(e) => {
            return Ok(Json(Verification {
                valid: false,
                number: None,
                subject: None,
                kind: None,
                issued_at: None,
                format: None,
                key_id: None,
                on_file: None,
                reason: Some(e.to_string()),
            }));
        }
    };
    let number = v.number.clone();
    let on_file = state.blocking(move |store| Ok(store.report_by_number(&number)?.is_some())).await?;
    Ok(Json(Verification {
        valid: true,
        number: Some(v.number),
        subject: Some(v.subject),
        kind: Some(v.kind),
        issued_at: Some(v.issued_at),
        format: Some(v.format.extension().to_owned()),
        key_id: Some(v.key_id),
        on_file: Some(on_file),
        reason: None,
    }))
}

//! `POST /batches?unit=&item=[&format=&encoding=&all_or_nothing=&file_name=]`: the body is the file.
//!
//! The body streams to a temporary file (never into memory; 413 past `max_batch_bytes`), then the same
//! pipeline as `xinyong ingest` loads it on a blocking thread. The answer is the `ingest --json` object:
//! 201 when the batch committed, 422 with the report when `all_or_nothing` rejected it.

use std::io::Write;

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use xinyong_ingest::pipeline::{self, IngestError, IngestRequest};
use xinyong_ingest::reader::{self, EncodingChoice, Format};
use xinyong_store::BatchStatus;

use crate::audit::Access;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct BatchParams {
    /// The supplying unit; a supplier's own unit when omitted.
    pub unit: Option<String>,
    pub item: String,
    /// csv, xlsx or jsonl; from `file_name` or Content-Type when omitted.
    pub format: Option<String>,
    /// auto (default), utf-8 or gb18030.
    pub encoding: Option<String>,
    #[serde(default)]
    pub all_or_nothing: bool,
    pub file_name: Option<String>,
}

fn format_of(params: &BatchParams, headers: &HeaderMap) -> ApiResult<Format> {
    if let Some(f) = &params.format {
        return Format::parse(f).ok_or_else(|| ApiError::bad_request("bad_format", "format is csv, xlsx or jsonl"));
    }
    if let Some(f) = params.file_name.as_deref().and_then(|n| Format::from_path(std::path::Path::new(n))) {
        return Ok(f);
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.contains("spreadsheetml") {
        Ok(Format::Xlsx)
    } else if content_type.contains("ndjson") || content_type.contains("jsonl") || content_type.contains("json") {
        Ok(Format::Jsonl)
    } else if content_type.contains("csv") || content_type.starts_with("text/") {
        Ok(Format::Csv)
    } else {
        Err(ApiError::bad_request("bad_format", "give ?format=csv|xlsx|jsonl, a file_name, or a Content-Type"))
    }
}

#[utoipa::path(post, path = "/api/v1/batches", params(BatchParams), request_body(content = String, description = "the file"),
    responses((status = 201, description = "the batch result (as `ingest --json`)"), (status = 403), (status = 413), (status = 422)),
    security(("bearer" = [])), tag = "batches")]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BatchParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let unit = params
        .unit
        .clone()
        .or_else(|| caller.account.unit.clone())
        .ok_or_else(|| ApiError::bad_request("unit_required", "name the supplying unit (?unit=…)"))?;
    let access = Access { caller: &caller, action: "batch", subject_id: None, purpose: None };
    if let Err(e) = super::may_act_for(&caller, &unit) {
        state.auditor.record(access.entry(&*state.clock, "denied", e.message.clone())).await?;
        return Err(e);
    }
    let format = format_of(&params, &headers)?;
    let encoding = match params.encoding.as_deref() {
        None => EncodingChoice::Auto,
        Some(e) => {
            EncodingChoice::parse(e).ok_or_else(|| ApiError::bad_request("bad_encoding", "auto, utf-8 or gb18030"))?
        }
    };
    let file = spool(body, state.settings.max_batch_bytes).await?;

    let now = state.clock.now();
    let suffix: u32 = rand::random();
    let request = IngestRequest {
        batch_id: format!("b-{}-{suffix:08x}", now.format("%Y%m%d%H%M%S")),
        unit,
        item: params.item.clone(),
        format,
        file_name: params.file_name.clone(),
        all_or_nothing: params.all_or_nothing,
        now,
        today: now.date_naive(),
    };
    let outcome = state
        .blocking(move |store| {
            let catalog = store.load_catalog()?;
            pipeline::check_supplier(&catalog, &request.unit, &request.item).map_err(refusal)?;
            let reader = reader::open_path(file.path(), request.format, encoding)
                .map_err(|e| ApiError::unprocessable("bad_file", e.message))?;
            let (report, touched) = pipeline::ingest_tracked(store, &catalog, &request, reader).map_err(refusal)?;
            crate::api::evaluation::refresh(store, &touched, &format!("batch {}", report.batch), request.now);
            Ok(report)
        })
        .await;
    let report = match outcome {
        Ok(r) => r,
        Err(e) => {
            state.auditor.record(access.entry(&*state.clock, "failed", e.message.clone())).await?;
            return Err(e);
        }
    };
    let m = &state.metrics;
    m.batches.with_label_values(&[report.status.as_str()]).inc();
    m.rows.with_label_values(&["accepted"]).inc_by(report.accepted);
    m.rows.with_label_values(&["rejected"]).inc_by(report.rejected);
    state.auditor.record(access.entry(&*state.clock, "allowed", format!("batch {}", report.batch))).await?;
    if report.status == BatchStatus::Rejected {
        let message = format!("{} bad row(s) and all_or_nothing: nothing was stored", report.rejected);
        let body = json!({ "error": { "code": "batch_rejected", "message": message }, "batch": report });
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
    }
    Ok((StatusCode::CREATED, Json(report)).into_response())
}

fn refusal(e: IngestError) -> ApiError {
    match e {
        IngestError::File(m) => ApiError::unprocessable("bad_file", m),
        IngestError::Refused(m) => ApiError::forbidden(m),
        IngestError::Store(s) => s.into(),
    }
}

/// Streams the request body into a temporary file, refusing bodies over `limit` bytes.
async fn spool(body: Body, limit: u64) -> ApiResult<tempfile::NamedTempFile> {
    let file = tokio::task::spawn_blocking(tempfile::NamedTempFile::new).await.map_err(ApiError::internal)?;
    let file = file.map_err(ApiError::internal)?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(16);
    let mut writer = file.reopen().map_err(ApiError::internal)?;
    let write = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        for chunk in rx {
            writer.write_all(&chunk)?;
        }
        writer.flush()
    });
    let mut body = body;
    let mut total: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::bad_request("bad_body", format!("reading the upload: {e}")))?;
        if let Ok(data) = frame.into_data() {
            total += data.len() as u64;
            if total > limit {
                return Err(ApiError::too_large(format!("a batch may be at most {limit} bytes")));
            }
            if tx.send(data.to_vec()).is_err() {
                break;
            }
        }
    }
    drop(tx);
    write.await.map_err(ApiError::internal)?.map_err(ApiError::internal)?;
    Ok(file)
}

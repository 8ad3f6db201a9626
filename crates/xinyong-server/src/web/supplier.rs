//! The supplier's workbench: upload a batch (a plain form, or drag and drop with progress through the
//! API), see its result, download its errors as CSV or XLSX, and the unit's data-quality history.

use askama::Template;
use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use tokio::io::AsyncWriteExt;
use xinyong_domain::access::Role;
use xinyong_store::BatchReport;

use super::session::Visitor;
use super::{Chrome, OrPage, WebResult, render};
use crate::api::batches::create::BatchParams;
use crate::api::batches::rejected::rejected_rows_file;
use crate::error::ApiError;
use crate::sheet::{self, Sheet};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "upload.html")]
struct UploadPage {
    c: Chrome,
    /// (unit, item, item name) pairs the account may file.
    choices: Vec<(String, String, String)>,
    max_mb: u64,
}

pub async fn upload_form(State(state): State<AppState>, v: Visitor) -> WebResult {
    let user = v.signed_in().page(&v)?;
    let account = user.account().clone();
    if !matches!(account.role, Role::Supplier | Role::Admin) {
        return Err(ApiError::forbidden("only suppliers and admins file batches")).page(&v);
    }
    let catalog = state.blocking(|store| Ok(store.load_catalog()?)).await.page(&v)?;
    let mut choices = Vec::new();
    for unit in &catalog.units {
        if account.role == Role::Supplier && account.unit.as_deref() != Some(unit.code.as_str()) {
            continue;
        }
        for item in &unit.supplies {
            let name = catalog.item(item).map_or_else(|| item.clone(), |i| i.name.clone());
            choices.push((unit.code.clone(), item.clone(), format!("{} · {name}", unit.name)));
        }
    }
    let max_mb = state.settings.max_batch_bytes >> 20;
    render(&UploadPage { c: Chrome::new(&v, v.lang.text().upload), choices, max_mb }, &v)
}

/// The form without JavaScript: multipart with `csrf`, `target` (`unit|item`), `all_or_nothing` and
/// `file`. The file is spooled to disk, then handed to the API's batch handler as its body.
pub async fn upload(State(state): State<AppState>, v: Visitor, mut form: Multipart) -> WebResult {
    let mut csrf = String::new();
    let mut target = String::new();
    let mut all_or_nothing = false;
    let mut file: Option<(tempfile::TempPath, String)> = None;
    let limit = state.settings.max_batch_bytes;
    let bad = |e: axum::extract::multipart::MultipartError| ApiError::bad_request("bad_form", e.body_text());
    while let Some(mut field) = form.next_field().await.map_err(bad).page(&v)? {
        match field.name().unwrap_or_default() {
            "csrf" => csrf = field.text().await.map_err(bad).page(&v)?,
            "target" => target = field.text().await.map_err(bad).page(&v)?,
            "all_or_nothing" => all_or_nothing = !field.text().await.map_err(bad).page(&v)?.is_empty(),
            "file" => {
                let name = field.file_name().unwrap_or("upload").to_owned();
                let path = tempfile::NamedTempFile::new().map_err(ApiError::internal).page(&v)?.into_temp_path();
                let mut out = tokio::fs::File::create(&path).await.map_err(ApiError::internal).page(&v)?;
                let mut total = 0u64;
                while let Some(chunk) = field.chunk().await.map_err(bad).page(&v)? {
                    total += chunk.len() as u64;
                    if total > limit {
                        return Err(ApiError::too_large(format!("a batch may be at most {limit} bytes"))).page(&v);
                    }
                    out.write_all(&chunk).await.map_err(ApiError::internal).page(&v)?;
                }
                out.flush().await.map_err(ApiError::internal).page(&v)?;
                file = Some((path, name));
            }
            _ => {}
        }
    }
    let caller = v.check_csrf(&csrf).page(&v)?.caller.clone();
    let Some((path, file_name)) = file.filter(|(_, n)| !n.is_empty()) else {
        return Err(ApiError::bad_request("no_file", "choose a file to upload")).page(&v);
    };
    let (unit, item) = target
        .split_once('|')
        .ok_or_else(|| ApiError::bad_request("no_item", "choose the information item of the file"))
        .page(&v)?;
    let params = BatchParams {
        unit: Some(unit.to_owned()),
        item: item.to_owned(),
        format: None,
        encoding: None,
        all_or_nothing,
        file_name: Some(file_name),
    };
    let reader = tokio::fs::File::open(&path).await.map_err(ApiError::internal).page(&v)?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(reader));
    let answer = crate::api::batches::create::create(State(state), caller, Query(params), HeaderMap::new(), body)
        .await
        .page(&v)?;
    let bytes = axum::body::to_bytes(answer.into_body(), 64 << 20).await.map_err(ApiError::internal).page(&v)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(ApiError::internal).page(&v)?;
    // 201: the report; 422 (all or nothing with a bad row): the report under "batch".
    let id = value["batch"]["batch"].as_str().or_else(|| value["batch"].as_str()).unwrap_or_default();
    Ok(Redirect::to(&format!("/workbench/batches/{}", super::urlencode(id))).into_response())
}

#[derive(Template)]
#[template(path = "batch.html")]
struct BatchPage {
    c: Chrome,
    b: BatchReport,
    shown: usize,
}

async fn report(state: &AppState, v: &Visitor, id: String) -> WebResult<BatchReport> {
    let caller = v.signed_in().page(v)?.caller.clone();
    let Json(b) = crate::api::batches::get::get(State(state.clone()), caller, Path(id)).await.page(v)?;
    Ok(b)
}

pub async fn batch(State(state): State<AppState>, v: Visitor, Path(id): Path<String>) -> WebResult {
    let mut b = report(&state, &v, id).await?;
    let shown = b.errors.len().min(200);
    b.errors.truncate(shown);
    let c = Chrome::new(&v, format!("{} {}", v.lang.text().batch, b.batch));
    render(&BatchPage { c, b, shown }, &v)
}

fn download(content_type: &'static str, name: &str, body: Vec<u8>) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

const ERROR_HEADER: [&str; 4] = ["行号 row", "字段 field", "错误代码 code", "原因 reason"];

pub async fn errors_csv(State(state): State<AppState>, v: Visitor, Path(id): Path<String>) -> WebResult {
    let b = report(&state, &v, id).await?;
    let lines: Vec<[String; 4]> = b
        .errors
        .iter()
        .map(|e| [e.row.to_string(), e.field.clone().unwrap_or_default(), e.code.clone(), e.message.clone()])
        .collect();
    let bytes = sheet::csv(&ERROR_HEADER, &lines).map_err(ApiError::internal).page(&v)?;
    Ok(download(Sheet::Csv.content_type(), &format!("{}-errors.csv", b.batch), bytes))
}

/// The rejected rows as the file gave them, to correct and file again (`api::batches::rejected`).
async fn rejected(state: AppState, v: Visitor, id: String, sheet: Sheet) -> WebResult {
    let caller = v.signed_in().page(&v)?.caller.clone();
    let (batch, bytes) = rejected_rows_file(&state, &caller, id, sheet).await.page(&v)?;
    Ok(download(sheet.content_type(), &format!("{batch}-rejected.{}", sheet.extension()), bytes))
}

pub async fn rejected_csv(State(state): State<AppState>, v: Visitor, Path(id): Path<String>) -> WebResult {
    rejected(state, v, id, Sheet::Csv).await
}

pub async fn rejected_xlsx(State(state): State<AppState>, v: Visitor, Path(id): Path<String>) -> WebResult {
    rejected(state, v, id, Sheet::Xlsx).await
}

pub async fn errors_xlsx(State(state): State<AppState>, v: Visitor, Path(id): Path<String>) -> WebResult {
    let b = report(&state, &v, id).await?;
    let build = || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("errors")?;
        let bold = rust_xlsxwriter::Format::new().set_bold();
        for (col, title) in (0u16..).zip(ERROR_HEADER) {
            sheet.write_string_with_format(0, col, title, &bold)?;
        }
        for (row, e) in (1u32..).zip(&b.errors) {
            sheet.write_number(row, 0, e.row as f64)?;
            sheet.write_string(row, 1, e.field.as_deref().unwrap_or(""))?;
            sheet.write_string(row, 2, &e.code)?;
            sheet.write_string(row, 3, &e.message)?;
        }
        sheet.set_column_width(1, 24)?;
        sheet.set_column_width(3, 60)?;
        book.save_to_buffer()
    };
    let bytes = build().map_err(ApiError::internal).page(&v)?;
    Ok(download(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &format!("{}-errors.xlsx", b.batch),
        bytes,
    ))
}

#[derive(Template)]
#[template(path = "batches.html")]
struct BatchesPage {
    c: Chrome,
    batches: Vec<BatchReport>,
}

/// The unit's batches, newest first, with their accept rates (admins see every unit's).
pub async fn batches(State(state): State<AppState>, v: Visitor) -> WebResult {
    let account = v.signed_in().page(&v)?.account().clone();
    if !matches!(account.role, Role::Supplier | Role::Admin) {
        return Err(ApiError::forbidden("only suppliers and admins see batches")).page(&v);
    }
    let mut batches = state.blocking(|store| Ok(store.recent_batches(1000)?)).await.page(&v)?;
    if account.role == Role::Supplier {
        batches.retain(|b| Some(&b.unit) == account.unit.as_ref());
    }
    batches.truncate(200);
    render(&BatchesPage { c: Chrome::new(&v, v.lang.text().quality_history), batches }, &v)
}

/// Accepted share of a batch's rows, in percent, for templates.
pub fn accept_rate(b: &BatchReport) -> String {
    if b.rows == 0 { "—".to_owned() } else { format!("{:.1}%", b.accepted as f64 * 100.0 / b.rows as f64) }
}

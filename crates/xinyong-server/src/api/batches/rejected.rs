//! `GET /batches/{id}/rejected-rows`: the rejected rows of a batch as the file gave them, one line per
//! row with its reasons (CSV, or XLSX with `?format=xlsx`), so that the unit can correct them and file
//! them again (the two added columns are ignored with a warning on the next upload). Personal data (the
//! catalog's masked fields, and any cell shaped like a resident ID) is masked unless the caller's role
//! sees it in full; every download is in the audit log.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use xinyong_domain::access::{View, personal_view};
use xinyong_domain::masking::{mask_personal_value, mask_resident_id};
use xinyong_store::{BatchReport, RejectedCells};

use crate::audit::Access;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::sheet::{self, Sheet};
use crate::state::AppState;

/// The two columns before the file's own.
pub const LEAD: [&str; 2] = ["行号 row", "错误 errors"];

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct SheetParams {
    /// `csv` (default) or `xlsx`.
    #[serde(default)]
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/batches/{id}/rejected-rows", params(("id" = String, Path), SheetParams),
    responses(
        (status = 200, description = "the rejected rows as CSV (UTF-8 with BOM) or XLSX", content_type = "text/csv"),
        (status = 400), (status = 403), (status = 404)),
    security(("bearer" = [])), tag = "batches")]
pub async fn rejected_rows(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<SheetParams>,
) -> ApiResult<Response> {
    let sheet = Sheet::from_param(params.format.as_deref())?;
    let (batch, bytes) = rejected_rows_file(&state, &caller, id, sheet).await?;
    let mut r = bytes.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(sheet.content_type()));
    let name = format!("attachment; filename=\"{batch}-rejected.{}\"", sheet.extension());
    if let Ok(v) = header::HeaderValue::from_str(&name) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// The batch id and the file, for the API and the workbench alike: the batch's unit's suppliers and
/// admins only.
pub async fn rejected_rows_file(
    state: &AppState,
    caller: &Caller,
    id: String,
    sheet: Sheet,
) -> ApiResult<(String, Vec<u8>)> {
    let (report, rows) = state
        .blocking(move |store| {
            let Some(report) = store.batch(&id)? else { return Ok(None) };
            let rows = store
                .rejected_rows(&id)?
                .iter()
                .map(|r| Ok((r.row, r.open(store.vault())?)))
                .collect::<xinyong_store::Result<Vec<_>>>()?;
            Ok(Some((report, rows)))
        })
        .await?
        .ok_or_else(|| ApiError::not_found("no such batch"))?;
    super::may_act_for(caller, &report.unit)?;
    let view = personal_view(caller.role(), false);
    let (head, lines) = table(&report, &rows, view);
    let bytes = match sheet {
        Sheet::Csv => sheet::csv(&head, &lines).map_err(ApiError::internal)?,
        Sheet::Xlsx => sheet::xlsx("rejected", &head, &lines).map_err(ApiError::internal)?,
    };
    let access = Access { caller, action: "rejected_rows", subject_id: None, purpose: None };
    let shown = if view == View::Full { "in full" } else { "masked" };
    let detail = format!("batch {}: {} rejected rows, personal data {shown}", report.batch, rows.len());
    state.auditor.record(access.entry(&*state.clock, "allowed", detail)).await?;
    Ok((report.batch, bytes))
}

/// The header line and one line per rejected row: its number, its reasons, its cells.
fn table<'a>(report: &BatchReport, rows: &'a [(u64, RejectedCells)], view: View) -> (Vec<&'a str>, Vec<Vec<String>>) {
    // Every header seen, in first-seen order (JSON lines may add keys as they go).
    let mut headers: Vec<&str> = Vec::new();
    for (_, cells) in rows {
        for h in &cells.headers {
            if !headers.contains(&h.as_str()) {
                headers.push(h);
            }
        }
    }
    let mut reasons: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for e in &report.errors {
        let reason = match &e.field {
            Some(field) => format!("{field}: {}", e.message),
            None => e.message.clone(),
        };
        reasons.entry(e.row).or_default().push(reason);
    }
    let head = LEAD.iter().copied().chain(headers.iter().copied()).collect();
    let lines = rows
        .iter()
        .map(|(row, cells)| {
            let mut line = vec![row.to_string(), reasons.get(row).map(|r| r.join("; ")).unwrap_or_default()];
            for h in &headers {
                let col = cells.headers.iter().position(|x| x == h);
                let value = col.and_then(|c| cells.cells.get(c)).map(String::as_str).unwrap_or("");
                let personal = col.is_some_and(|c| cells.personal.contains(&c));
                line.push(shown(value, personal, view));
            }
            line
        })
        .collect();
    (head, lines)
}

fn shown(value: &str, personal: bool, view: View) -> String {
    if view == View::Full || value.trim().is_empty() {
        value.to_owned()
    } else if looks_like_resident_id(value.trim()) {
        mask_resident_id(value.trim())
    } else if personal {
        mask_personal_value(value)
    } else {
        value.to_owned()
    }
}

/// 18 characters of which 17 digits and a digit or X last, or 15 digits: a resident ID, valid or not.
fn looks_like_resident_id(s: &str) -> bool {
    let b = s.as_bytes();
    match b.len() {
        18 => b[..17].iter().all(u8::is_ascii_digit) && (b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x'),
        15 => b.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_masked_view_hides_personal_columns_and_anything_shaped_like_a_resident_id() {
        assert_eq!(shown("310101199001011234", false, View::Masked), "310***********1234");
        assert_eq!(shown("31010119900101123X", false, View::Masked), mask_resident_id("31010119900101123X"));
        assert_eq!(shown("张三丰", true, View::Masked), mask_personal_value("张三丰"));
        assert_eq!(shown("上海某某有限公司", false, View::Masked), "上海某某有限公司");
        assert_eq!(shown("310101199001011234", true, View::Full), "310101199001011234");
        assert_eq!(shown("", true, View::Masked), "");
        assert!(!looks_like_resident_id("91310116622205772A"), "a USCC is not a resident ID");
    }
}

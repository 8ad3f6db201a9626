//! `GET /verify/{number}` (public): the page a report's QR code opens. Says whether the platform issued
//! a report with this number, for whom (a natural person's name masked) and when, and lets the reader
//! upload the file to check that not a byte of it changed (`POST /api/v1/reports/verify`). Plain
//! server-rendered HTML; the web portal styles it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use xinyong_domain::masking::mask_name;
use xinyong_domain::subject::SubjectKind;
use xinyong_report::html::escape;
use xinyong_report::model::ReportKind;

use crate::error::ApiResult;
use crate::reports::by_number;
use crate::state::AppState;

const SCRIPT: &str = r#"<script>
document.getElementById('file').addEventListener('change', async (ev) => {
  const out = document.getElementById('result');
  const file = ev.target.files[0];
  if (!file) return;
  out.textContent = '核验中…';
  const resp = await fetch('/api/v1/reports/verify', { method: 'POST', body: await file.arrayBuffer() });
  const v = await resp.json();
  out.textContent = v.valid
    ? '文件真实有效：报告编号 ' + v.number + '，信息主体 ' + v.subject + '，出具时间 ' + v.issued_at
    : '核验失败：' + (v.reason || '文件已被改动或非本平台出具');
  out.className = v.valid ? 'ok' : 'bad';
});
</script>"#;

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}}\
         th{{text-align:left;padding-right:1em}} .ok{{color:#1d6b2f}} .bad{{color:#b00000}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>\n"
    )
}

pub async fn verify_page(State(state): State<AppState>, Path(number): Path<String>) -> ApiResult<Response> {
    let number = number.trim().to_owned();
    let valid_shape = !number.is_empty() && number.len() <= 40 && number.bytes().all(|b| b.is_ascii_alphanumeric());
    let found = if valid_shape { by_number(&state, number.clone()).await? } else { None };
    let Some((report, subject)) = found else {
        let body = format!(
            "<p class=\"bad\">未找到编号为 <strong>{}</strong> 的信用报告：该编号不是{}出具的报告编号。</p>",
            escape(&number),
            escape(&state.settings.platform_name)
        );
        return Ok((StatusCode::NOT_FOUND, Html(page("信用报告核验", &body))).into_response());
    };
    let name = match &subject {
        Some(s) if s.kind == SubjectKind::NaturalPerson => mask_name(&s.name),
        Some(s) => s.name.clone(),
        None => "—".to_owned(),
    };
    let kind = ReportKind::parse(&report.kind).map_or(report.kind.clone(), |k| k.title().to_owned());
    let body = format!(
        "<p class=\"ok\">该报告编号由{platform}出具，真实有效。</p>\
         <table><tr><th>报告编号</th><td>{number}</td></tr><tr><th>报告类型</th><td>{kind}</td></tr>\
         <tr><th>信息主体</th><td>{name}</td></tr><tr><th>出具时间</th><td>{at}</td></tr></table>\
         <h2>核验报告文件</h2><p>选择报告文件（PDF、HTML 或 JSON），核验其内容是否与平台签发时一致：</p>\
         <input type=\"file\" id=\"file\" accept=\".pdf,.html,.json\"><p id=\"result\"></p>{SCRIPT}",
        platform = escape(&state.settings.platform_name),
        number = escape(&report.number),
        kind = escape(&kind),
        name = escape(&name),
        at = report.issued_at.format("%Y-%m-%d %H:%M:%S"),
    );
    Ok(Html(page("信用报告核验", &body)).into_response())
}

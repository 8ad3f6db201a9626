//! Credit reports in the portal: issuing one from the workbench (departments, market institutions
//! with an authorisation, a subject for itself, admins), downloading it, and the public verification
//! pages — the one a report's QR code opens (`/verify/{number}`) and the upload form (`/verify`).
//! Verification runs on the server, so it works without JavaScript.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::{Form, Json};
use serde::Deserialize;
use xinyong_domain::access::Role;
use xinyong_domain::masking::mask_name;
use xinyong_domain::subject::SubjectKind;
use xinyong_report::model::ReportKind;

use super::session::Visitor;
use super::{Chrome, OrPage, WebResult, render};
use crate::api::reports::create::CreateReport;
use crate::api::reports::verify::Verification;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "report_form.html")]
struct ReportForm {
    c: Chrome,
    subject: String,
    own: bool,
    domains: Vec<(String, String)>,
    purposes: Vec<(&'static str, &'static str)>,
    problem: Option<String>,
}

fn form_page(state: &AppState, v: &Visitor, subject: String, problem: Option<String>) -> WebResult {
    let user = v.signed_in().page(v)?;
    let role = user.account().role;
    let own = role == Role::Subject;
    let subject = if own { user.account().subject_id.map(|s| s.to_string()).unwrap_or_default() } else { subject };
    let domains = state.reports.domains.all().iter().map(|d| (d.code.clone(), d.name.clone())).collect();
    let purposes = super::purposes_for(role);
    let status =
        if problem.is_some() { axum::http::StatusCode::UNPROCESSABLE_ENTITY } else { axum::http::StatusCode::OK };
    let c = Chrome::new(v, v.lang.text().issue_report);
    let mut r = render(&ReportForm { c, subject, own, domains, purposes, problem }, v)?;
    *r.status_mut() = status;
    Ok(r)
}

#[derive(Deserialize)]
pub struct Prefill {
    subject: Option<String>,
}

pub async fn report_form(State(state): State<AppState>, v: Visitor, Query(q): Query<Prefill>) -> WebResult {
    form_page(&state, &v, q.subject.unwrap_or_default(), None)
}

/// The form as pairs: `domain` repeats, one checkbox per domain.
pub async fn issue(State(state): State<AppState>, v: Visitor, Form(pairs): Form<Vec<(String, String)>>) -> WebResult {
    let field = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, val)| val.trim().to_owned());
    let caller = v.check_csrf(&field("csrf").unwrap_or_default()).page(&v)?.caller.clone();
    let subject = field("subject").unwrap_or_default();
    let date = |k: &str| super::form_date(k, field(k).as_deref());
    let (from, to) = match (date("from"), date("to")) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => return form_page(&state, &v, subject, Some(e.message)),
    };
    let body = CreateReport {
        subject: subject.clone(),
        kind: field("kind"),
        domains: pairs.iter().filter(|(k, _)| k == "domain").map(|(_, d)| d.clone()).collect(),
        from,
        to,
        purpose: field("purpose").filter(|p| !p.is_empty()),
    };
    match crate::api::reports::create::create(State(state.clone()), caller, Json(body)).await {
        Ok((_, Json(issued))) => Ok(Redirect::to(&format!("/workbench/reports/{}", issued.id)).into_response()),
        Err(e) if e.status.is_client_error() && e.status != axum::http::StatusCode::UNAUTHORIZED => {
            form_page(&state, &v, subject, Some(e.message))
        }
        Err(e) => Err(e).page(&v),
    }
}

#[derive(Template)]
#[template(path = "report_issued.html")]
struct Issued {
    c: Chrome,
    id: i64,
    number: String,
    kind: String,
    issued_at: String,
    verify_url: String,
}

/// One issued report: its number and the links to its files (PDF, HTML, JSON).
pub async fn issued(State(state): State<AppState>, v: Visitor, Path(id): Path<i64>) -> WebResult {
    let caller = v.signed_in().page(&v)?.caller.clone();
    let stored = crate::reports::fetch(&state, &caller, id).await.page(&v)?;
    let kind = ReportKind::parse(&stored.kind).map_or_else(|| stored.kind.clone(), |k| k.title().to_owned());
    let page = Issued {
        c: Chrome::new(&v, stored.number.clone()),
        id: stored.id,
        verify_url: crate::reports::verify_url(&state.settings.public_url, &stored.number),
        number: stored.number,
        kind,
        issued_at: stored.issued_at.format("%Y-%m-%d %H:%M:%S").to_string(),
    };
    render(&page, &v)
}

/// `/workbench/reports/{id}.pdf|html|json`: the file, through the API's handler with the session.
pub async fn file(State(state): State<AppState>, v: Visitor, Path((id, ext)): Path<(i64, String)>) -> WebResult {
    let caller = v.signed_in().page(&v)?.caller.clone();
    crate::api::reports::get::get(State(state), caller, Path(format!("{id}.{ext}"))).await.page(&v)
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    c: Chrome,
    /// The register's answer for a number (the QR code's page).
    register: Option<RegisterEntry>,
    /// The answer for an uploaded file.
    result: Option<Verification>,
    number: String,
}

struct RegisterEntry {
    found: bool,
    kind: String,
    subject: String,
    issued_at: String,
}

pub async fn verify_form(v: Visitor) -> WebResult {
    render(
        &VerifyPage { c: Chrome::new(&v, v.lang.text().verify), register: None, result: None, number: String::new() },
        &v,
    )
}

/// The page a report's QR code opens: whether the platform issued this number, for whom and when.
pub async fn verify_number(State(state): State<AppState>, v: Visitor, Path(number): Path<String>) -> WebResult {
    let number = number.trim().to_owned();
    let valid_shape = !number.is_empty() && number.len() <= 40 && number.bytes().all(|b| b.is_ascii_alphanumeric());
    let found = if valid_shape { crate::reports::by_number(&state, number.clone()).await.page(&v)? } else { None };
    let register = match found {
        None => RegisterEntry { found: false, kind: String::new(), subject: String::new(), issued_at: String::new() },
        Some((report, subject)) => RegisterEntry {
            found: true,
            kind: ReportKind::parse(&report.kind).map_or_else(|| report.kind.clone(), |k| k.title().to_owned()),
            subject: match &subject {
                Some(s) if s.kind == SubjectKind::NaturalPerson => mask_name(&s.name),
                Some(s) => s.name.clone(),
                None => "—".to_owned(),
            },
            issued_at: report.issued_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        },
    };
    let status = if register.found { axum::http::StatusCode::OK } else { axum::http::StatusCode::NOT_FOUND };
    let c = Chrome::new(&v, v.lang.text().verify);
    let mut r = render(&VerifyPage { c, register: Some(register), result: None, number }, &v)?;
    *r.status_mut() = status;
    Ok(r)
}

/// An uploaded report file, checked byte for byte against its signature and the platform's keys.
pub async fn verify_upload(State(state): State<AppState>, v: Visitor, mut form: Multipart) -> WebResult {
    let bad = |e: axum::extract::multipart::MultipartError| ApiError::bad_request("bad_form", e.body_text());
    let mut bytes = None;
    while let Some(field) = form.next_field().await.map_err(bad).page(&v)? {
        if field.name() == Some("file") {
            bytes = Some(field.bytes().await.map_err(bad).page(&v)?);
        }
    }
    let bytes: Bytes = bytes
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ApiError::bad_request("no_file", "choose a report file"))
        .page(&v)?;
    let Json(result) = crate::api::reports::verify::verify(State(state), bytes).await.page(&v)?;
    let c = Chrome::new(&v, v.lang.text().verify);
    render(&VerifyPage { c, register: None, result: Some(result), number: String::new() }, &v)
}

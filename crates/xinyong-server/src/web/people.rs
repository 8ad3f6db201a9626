//! The workbench of departments and subjects: the role's landing page, profile queries with a purpose,
//! joint reward/punishment checks and their feedback, and a subject's own credit, query log,
//! objections and repairs. Every action goes through the API handler of the same name.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::Value;
use xinyong_domain::access::Role;

use super::session::Visitor;
use super::{Chrome, OrPage, WebResult, render};
use crate::api::cases::{CaseList, CaseView, ListParams, NewObjection, NewRepair};
use crate::api::checks::{CheckRequest, CheckView, FeedbackRequest};
use crate::api::subjects::get::{Profile, ProfileParams};
use crate::api::subjects::queries::{QueriesParams, QueryLog};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "workbench.html")]
struct Workbench {
    c: Chrome,
}

#[derive(Deserialize)]
pub struct Changed {
    changed: Option<u8>,
}

pub async fn workbench(v: Visitor, Query(q): Query<Changed>) -> WebResult {
    let user = v.signed_in().page(&v)?;
    if user.account().role == Role::Subject {
        return Ok(
            Redirect::to(if q.changed.is_some() { "/workbench/me?changed=1" } else { "/workbench/me" }).into_response()
        );
    }
    let mut c = Chrome::new(&v, v.lang.text().workbench);
    if q.changed.is_some() {
        c = c.with_flash(v.lang.text().password_changed);
    }
    render(&Workbench { c }, &v)
}

#[derive(Template)]
#[template(path = "query.html")]
struct QueryPage {
    c: Chrome,
    key: String,
    purpose: String,
    purposes: Vec<(&'static str, &'static str)>,
    profile: Option<Profile>,
    records: Vec<super::view::RecordRow>,
    problem: Option<String>,
}

#[derive(Deserialize)]
pub struct QueryForm {
    key: Option<String>,
    purpose: Option<String>,
}

/// A profile query: the form, and the profile when a key and purpose were given (logged as a query).
pub async fn query(State(state): State<AppState>, v: Visitor, Query(f): Query<QueryForm>) -> WebResult {
    let user = v.signed_in().page(&v)?;
    let caller = user.caller.clone();
    let key = f.key.unwrap_or_default().trim().to_owned();
    let purpose = f.purpose.unwrap_or_default();
    let mut page = QueryPage {
        c: Chrome::new(&v, v.lang.text().profile_query),
        key: key.clone(),
        purpose: purpose.clone(),
        purposes: super::purposes_for(caller.role()),
        profile: None,
        records: Vec::new(),
        problem: None,
    };
    if !key.is_empty() {
        let params = ProfileParams { purpose: Some(purpose), openness: None };
        let catalog = state.blocking(|store| Ok(store.load_catalog()?)).await.page(&v)?;
        match crate::api::subjects::get::profile(State(state), caller, Path(key), Query(params)).await {
            Ok(Json(mut p)) => {
                page.records = super::view::rows(std::mem::take(&mut p.records), &catalog, v.lang);
                page.profile = Some(p);
            }
            Err(e) if e.status.is_client_error() => page.problem = Some(e.message),
            Err(e) => return Err(e).page(&v),
        }
    }
    render(&page, &v)
}

#[derive(Template)]
#[template(path = "check_form.html")]
struct CheckForm {
    c: Chrome,
    subject: String,
    scenarios: Vec<(&'static str, &'static str)>,
    problem: Option<String>,
}

pub async fn check_form(v: Visitor) -> WebResult {
    v.signed_in().page(&v)?;
    let scenarios = super::scenarios();
    render(&CheckForm { c: Chrome::new(&v, v.lang.text().check), subject: String::new(), scenarios, problem: None }, &v)
}

#[derive(Deserialize)]
pub struct CheckInput {
    csrf: String,
    subject: String,
    scenario: String,
}

pub async fn check(State(state): State<AppState>, v: Visitor, Form(f): Form<CheckInput>) -> WebResult {
    let caller = v.check_csrf(&f.csrf).page(&v)?.caller.clone();
    let req = CheckRequest { subject: f.subject.trim().to_owned(), scenario: f.scenario, unit: None };
    match crate::api::checks::check(State(state), caller, Json(req)).await {
        Ok((_, Json(check))) => Ok(Redirect::to(&format!("/workbench/checks/{}", check.id)).into_response()),
        Err(e) if e.status.is_client_error() && e.status != axum::http::StatusCode::UNAUTHORIZED => {
            let scenarios = super::scenarios();
            let c = Chrome::new(&v, v.lang.text().check);
            let mut r = render(&CheckForm { c, subject: f.subject, scenarios, problem: Some(e.message) }, &v)?;
            *r.status_mut() = e.status;
            Ok(r)
        }
        Err(e) => Err(e).page(&v),
    }
}

/// One measure of a check, as the page lists it.
pub struct MeasureRow {
    pub id: String,
    pub content: String,
    pub kind: String,
    pub basis: String,
    pub lists: String,
}

#[derive(Template)]
#[template(path = "check.html")]
struct CheckPage {
    c: Chrome,
    check: CheckView,
    measures: Vec<MeasureRow>,
    entries: Vec<(String, String)>,
}

fn measure_rows(result: &Value) -> Vec<MeasureRow> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    result["measures"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .map(|m| MeasureRow {
                    id: text(&m["measure"]["id"]),
                    content: text(&m["measure"]["content"]),
                    kind: text(&m["measure"]["kind"]),
                    basis: text(&m["measure"]["legal_basis"]),
                    lists: m["lists"]
                        .as_array()
                        .map(|l| l.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("、"))
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

pub async fn check_page(State(state): State<AppState>, v: Visitor, Path(id): Path<i64>) -> WebResult {
    let caller = v.signed_in().page(&v)?.caller.clone();
    let Json(check) = crate::api::checks::get(State(state), caller, Path(id)).await.page(&v)?;
    let measures = measure_rows(&check.result);
    let entries = check.result["entries"]
        .as_array()
        .map(|es| {
            es.iter()
                .map(|e| {
                    let name = e["name"].as_str().unwrap_or_default().to_owned();
                    let from = e["from"].as_str().unwrap_or_default().to_owned();
                    (name, from)
                })
                .collect()
        })
        .unwrap_or_default();
    render(&CheckPage { c: Chrome::new(&v, v.lang.text().check), check, measures, entries }, &v)
}

/// Feedback comes as repeated `applied` fields (one checkbox per measure), so the form is read as pairs.
pub async fn feedback(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    let field = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, val)| val.clone());
    let caller = v.check_csrf(&field("csrf").unwrap_or_default()).page(&v)?.caller.clone();
    let req = FeedbackRequest {
        outcome: field("outcome").unwrap_or_default(),
        applied: pairs.iter().filter(|(k, _)| k == "applied").map(|(_, val)| val.clone()).collect(),
        note: field("note").filter(|n| !n.trim().is_empty()),
    };
    let Json(_) = crate::api::checks::feedback(State(state), caller, Path(id), Json(req)).await.page(&v)?;
    Ok(Redirect::to(&format!("/workbench/checks/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    c: Chrome,
    profile: Profile,
    records: Vec<super::view::RecordRow>,
    queries: QueryLog,
    objections: CaseList,
    repairs: CaseList,
}

/// A subject's own page: its credit information (purpose 本人查询), who queried it, its cases.
pub async fn me(State(state): State<AppState>, v: Visitor, Query(q): Query<Changed>) -> WebResult {
    let caller = v.signed_in().page(&v)?.caller.clone();
    let subject = caller
        .account
        .subject_id
        .ok_or_else(|| ApiError::forbidden("this account is not a credit subject's"))
        .page(&v)?;
    let key = subject.to_string();
    let params = ProfileParams { purpose: Some("self".into()), openness: None };
    let catalog = state.blocking(|store| Ok(store.load_catalog()?)).await.page(&v)?;
    let Json(mut profile) =
        crate::api::subjects::get::profile(State(state.clone()), caller.clone(), Path(key.clone()), Query(params))
            .await
            .page(&v)?;
    let Json(queries) = crate::api::subjects::queries::queries(
        State(state.clone()),
        caller.clone(),
        Path(key),
        Query(QueriesParams { page: None, per_page: Some(50) }),
    )
    .await
    .page(&v)?;
    let list = || ListParams {
        status: None,
        overdue: None,
        open: None,
        unit: None,
        record: None,
        page: None,
        per_page: Some(50),
    };
    let Json(objections) =
        crate::api::cases::list_objections(State(state.clone()), caller.clone(), Query(list())).await.page(&v)?;
    let Json(repairs) = crate::api::cases::list_repairs(State(state), caller, Query(list())).await.page(&v)?;
    let mut c = Chrome::new(&v, v.lang.text().my_credit);
    if q.changed.is_some() {
        c = c.with_flash(v.lang.text().password_changed);
    }
    let records = super::view::rows(std::mem::take(&mut profile.records), &catalog, v.lang);
    render(&MePage { c, profile, records, queries, objections, repairs }, &v)
}

#[derive(Deserialize)]
pub struct ObjectionInput {
    csrf: String,
    record: i64,
    reason: String,
    evidence: Option<String>,
}

fn lines(text: Option<String>) -> Vec<String> {
    text.unwrap_or_default().lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

pub async fn file_objection(State(state): State<AppState>, v: Visitor, Form(f): Form<ObjectionInput>) -> WebResult {
    let caller = v.check_csrf(&f.csrf).page(&v)?.caller.clone();
    let req = NewObjection { record: f.record, reason: f.reason, evidence: lines(f.evidence) };
    let (_, Json(case)) = crate::api::cases::file_objection(State(state), caller, Json(req)).await.page(&v)?;
    Ok(Redirect::to(&format!("/workbench/cases/objections/{}", case.id)).into_response())
}

#[derive(Deserialize)]
pub struct RepairInput {
    csrf: String,
    record: i64,
    evidence: Option<String>,
    commitment: Option<String>,
    note: Option<String>,
}

pub async fn apply_repair(State(state): State<AppState>, v: Visitor, Form(f): Form<RepairInput>) -> WebResult {
    let caller = v.check_csrf(&f.csrf).page(&v)?.caller.clone();
    let req = NewRepair {
        record: f.record,
        evidence: lines(f.evidence),
        commitment: f.commitment.is_some(),
        note: f.note.filter(|n| !n.trim().is_empty()),
    };
    let answer = crate::api::cases::apply_repair(State(state), caller, Json(req)).await.page(&v)?;
    let status = answer.status();
    let body = axum::body::to_bytes(answer.into_body(), 1 << 20).await.map_err(ApiError::internal).page(&v)?;
    let value: Value = serde_json::from_slice(&body).map_err(ApiError::internal).page(&v)?;
    if status.is_success() {
        let id = value["id"].as_i64().unwrap_or_default();
        return Ok(Redirect::to(&format!("/workbench/cases/repairs/{id}")).into_response());
    }
    // Not eligible: every failing condition, in words.
    let reasons: Vec<String> = value["reasons"]
        .as_array()
        .map(|rs| rs.iter().map(|r| r.as_str().map_or_else(|| r.to_string(), str::to_owned)).collect())
        .unwrap_or_default();
    Err(ApiError::unprocessable("not_eligible", reasons.join("；"))).page(&v)
}

/// For templates: the case's own fields (reason, outcome …) as text.
pub fn case_data(c: &CaseView, lang: super::i18n::Lang) -> Vec<(String, String)> {
    c.data
        .iter()
        .map(|(k, val)| {
            let text = match val {
                Value::String(s) => s.clone(),
                Value::Array(a) => a
                    .iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join("、"),
                other => other.to_string(),
            };
            (super::view::case_field_label(k, lang), text)
        })
        .collect()
}

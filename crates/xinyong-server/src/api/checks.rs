//! Checks and feedback of joint rewards and punishments (联合奖惩核查与反馈, CONTRACT.md §4, DOMAIN.md §6).
//!
//! A department handling a subject's business asks which measures apply to it, as implementing unit, for
//! that scenario; the answer names the list entries that triggered each measure. Its feedback (what it
//! did) closes the loop; the pair is a case. Both are logged like queries.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use xinyong_domain::access::{Purpose, Role, View};
use xinyong_store::joint::{Check, Feedback, NewCheck, entry_in_force};

use crate::audit::Access;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::present::Presenter;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckRequest {
    /// USCC, resident ID or subject id.
    pub subject: String,
    /// A scenario (purpose) by code or Chinese name: `approval`/行政审批, `procurement`/政府采购 …
    pub scenario: String,
    /// The implementing unit; only an admin may name one (a department checks as its own unit).
    #[serde(default)]
    pub unit: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FeedbackRequest {
    /// `applied`, `partly_applied` or `not_applied` (`not_applicable` is read as `not_applied`).
    pub outcome: String,
    /// Ids of the measures applied (a subset of the check's measures); with `applied` and none named,
    /// every measure of the check was applied.
    #[serde(default)]
    pub applied: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A check as the API shows it: a workflow object (`id`, `status`, `deadline`, `history`) with the
/// measures and the entries that triggered them.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckView {
    pub id: i64,
    /// `open` until feedback is given, then `closed`.
    pub status: String,
    pub deadline: Option<String>,
    pub subject: i64,
    pub scenario: String,
    pub unit: String,
    pub at: String,
    #[schema(value_type = Object)]
    pub result: Value,
    #[schema(value_type = Option<Object>)]
    pub feedback: Option<Feedback>,
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<Value>,
}

impl From<Check> for CheckView {
    fn from(c: Check) -> CheckView {
        let mut history = vec![json!({ "action": "check", "at": c.at.to_rfc3339(), "account": c.account })];
        if let Some(f) = &c.feedback {
            history.push(
                json!({ "action": "feedback", "at": f.at.to_rfc3339(), "account": f.account, "outcome": f.outcome }),
            );
        }
        CheckView {
            id: c.id,
            status: if c.feedback.is_some() { "closed" } else { "open" }.to_owned(),
            deadline: None,
            subject: c.subject_id,
            scenario: c.scenario,
            unit: c.unit,
            at: c.at.to_rfc3339(),
            result: c.result,
            feedback: c.feedback,
            history,
        }
    }
}

fn checking_unit(caller: &Caller, asked: Option<String>) -> ApiResult<String> {
    match caller.role() {
        Role::Admin => {
            asked.ok_or_else(|| ApiError::bad_request("missing_unit", "an admin names the implementing unit"))
        }
        Role::Department | Role::Supplier => {
            let own = caller.account.unit.clone().ok_or_else(|| ApiError::forbidden("this account has no unit"))?;
            match asked {
                Some(u) if u != own => Err(ApiError::forbidden("a department checks as its own unit")),
                _ => Ok(own),
            }
        }
        other => Err(ApiError::forbidden(format!("the {} role does not run checks", other.as_str()))),
    }
}

#[utoipa::path(post, path = "/api/v1/checks", request_body = CheckRequest,
    responses((status = 201, body = CheckView), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = [])), tag = "joint")]
pub async fn check(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<CheckRequest>,
) -> ApiResult<(StatusCode, Json<CheckView>)> {
    let scenario = Purpose::parse(&req.scenario)
        .ok_or_else(|| ApiError::bad_request("bad_scenario", format!("{:?} is not a scenario", req.scenario)))?;
    let unit = checking_unit(&caller, req.unit)?;
    let now = state.clock.now();
    let today = now.date_naive();
    let key = super::subjects::parse_key(&req.subject, today)?;
    let subject = super::subjects::find(&state, key).await?;
    let mut access = Access { caller: &caller, action: "check", subject_id: None, purpose: Some(scenario) };
    let Some(subject) = subject else {
        state.auditor.record(access.entry(&*state.clock, "not_found", "no such subject")).await?;
        return Err(ApiError::not_found("no such subject"));
    };
    access.subject_id = Some(subject.id);
    let (policy, account, sid) = (state.policy.clone(), caller.account.id, subject.id);
    let check_unit = unit.clone();
    let check = state
        .blocking(move |store| {
            let catalog = store.load_catalog()?;
            let lists: Vec<String> = catalog.lists().map(|i| i.code.clone()).collect();
            let entries: Vec<_> =
                store.records_of_items(&[sid], &lists)?.into_iter().filter(|r| entry_in_force(r, today)).collect();
            let hit: Vec<&str> = entries.iter().map(|r| r.item.as_str()).collect();
            let presenter = Presenter { catalog: &catalog, view: View::Masked, today };
            let measures: Vec<Value> = policy
                .measures
                .applicable(&hit, scenario.code(), &check_unit)
                .into_iter()
                .map(|(m, by)| {
                    let triggered: Vec<i64> = entries.iter().filter(|e| by.contains(&e.item)).map(|e| e.id).collect();
                    json!({ "measure": m, "lists": by, "entries": triggered })
                })
                .collect();
            let shown: Vec<Value> = entries
                .iter()
                .filter_map(|r| presenter.list_entry(r))
                .map(|l| serde_json::to_value(l).unwrap_or(Value::Null))
                .collect();
            let n = u32::try_from(measures.len()).unwrap_or(u32::MAX);
            let new = NewCheck {
                subject_id: sid,
                scenario: scenario.code().to_owned(),
                unit: check_unit,
                account,
                at: now,
                result: json!({ "measures": measures, "entries": shown }),
                measures: n,
            };
            Ok(store.record_check(&new)?)
        })
        .await?;
    let detail = format!("check {} at {unit}: {} measures", check.id, check.measures);
    state.auditor.record(access.entry(&*state.clock, "allowed", detail)).await?;
    Ok((StatusCode::CREATED, Json(check.into())))
}

#[utoipa::path(post, path = "/api/v1/checks/{id}/feedback", request_body = FeedbackRequest, params(("id" = i64, Path)),
    responses((status = 200, body = CheckView), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])), tag = "joint")]
pub async fn feedback(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(mut req): Json<FeedbackRequest>,
) -> ApiResult<Json<CheckView>> {
    if req.outcome == "not_applicable" {
        req.outcome = "not_applied".to_owned();
    }
    if !matches!(req.outcome.as_str(), "applied" | "partly_applied" | "not_applied") {
        return Err(ApiError::bad_request("bad_outcome", "outcome is applied, partly_applied or not_applied"));
    }
    if req.outcome == "not_applied" && req.note.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(ApiError::bad_request("missing_note", "say why the measures were not applied"));
    }
    let now = state.clock.now();
    let who = caller.clone();
    let check = state
        .blocking(move |store| {
            let check = store.check(id)?.ok_or_else(|| ApiError::not_found(format!("check {id}")))?;
            let own = who.account.unit.as_deref() == Some(check.unit.as_str());
            if who.role() != Role::Admin && !own {
                return Err(ApiError::forbidden("only the checking unit gives feedback on its check"));
            }
            let offered: Vec<&str> = check.result["measures"]
                .as_array()
                .map(|ms| ms.iter().filter_map(|m| m["measure"]["id"].as_str()).collect())
                .unwrap_or_default();
            if let Some(bad) = req.applied.iter().find(|a| !offered.contains(&a.as_str())) {
                return Err(ApiError::bad_request(
                    "unknown_measure",
                    format!("{bad} was not among this check's measures"),
                ));
            }
            let mut applied = req.applied;
            match req.outcome.as_str() {
                "applied" if applied.is_empty() => applied = offered.iter().map(|m| (*m).to_owned()).collect(),
                "partly_applied" if applied.is_empty() => {
                    return Err(ApiError::bad_request("missing_measures", "name the measures applied"));
                }
                "not_applied" => applied.clear(),
                _ => {}
            }
            let fb = Feedback { outcome: req.outcome, applied, note: req.note, account: who.account.id, at: now };
            Ok(store.give_feedback(id, &fb)?)
        })
        .await?;
    let access =
        Access { caller: &caller, action: "check_feedback", subject_id: Some(check.subject_id), purpose: None };
    let outcome = check.feedback.as_ref().map(|f| f.outcome.clone()).unwrap_or_default();
    state.auditor.record(access.entry(&*state.clock, "allowed", format!("feedback on check {id}: {outcome}"))).await?;
    Ok(Json(check.into()))
}

#[utoipa::path(get, path = "/api/v1/checks/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = CheckView), (status = 403), (status = 404)), security(("bearer" = [])), tag = "joint")]
pub async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<CheckView>> {
    let check = state.blocking(move |store| Ok(store.check(id)?)).await?;
    let check = check.ok_or_else(|| ApiError::not_found(format!("check {id}")))?;
    if caller.role() != Role::Admin && caller.account.unit.as_deref() != Some(check.unit.as_str()) {
        return Err(ApiError::forbidden("a check is seen by its unit and the centre"));
    }
    Ok(Json(check.into()))
}

/// The closed loop per unit and month: checks, those with measures, feedback given and its rate.
#[utoipa::path(get, path = "/api/v1/stats/joint", responses((status = 200, description = "the loop per unit and month")),
    security(("bearer" = [])), tag = "stats")]
pub async fn stats(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require(&[Role::Admin, Role::Department, Role::Supplier])?;
    let today = state.clock.today();
    let (rows, catalog, subscriptions, delivered, in_force) = state
        .blocking(move |store| {
            let delivered = store.deliveries(None, Some(xinyong_store::outbox::DeliveryStatus::Delivered), 100_000)?;
            let catalog = store.load_catalog()?;
            // Entries in force per list: the list publication's own count.
            let mut in_force = std::collections::BTreeMap::new();
            for list in catalog.lists() {
                let q = xinyong_store::search::PublishedQuery {
                    items: vec![list.code.clone()],
                    today,
                    unit: None,
                    from: None,
                    to: None,
                    page: 1,
                    per_page: 1,
                };
                in_force.insert(list.code.clone(), store.published_records(&q)?.1);
            }
            Ok((store.loop_stats()?, catalog, store.subscriptions(None)?, delivered, in_force))
        })
        .await?;
    // 联合奖惩名单接收情况: which units receive which lists, and how many changes reached them.
    let receiving: Vec<Value> = subscriptions
        .iter()
        .map(|s| {
            let reached = delivered.iter().filter(|d| d.subscription == s.id).count();
            json!({ "unit": s.unit, "lists": s.lists, "deliveries_delivered": reached })
        })
        .collect();
    let lists: Vec<Value> = catalog
        .lists()
        .map(|i| {
            let entries = in_force.get(&i.code).copied().unwrap_or(0);
            json!({ "list": i.code, "name": i.name, "kind": i.list_kind, "entries_in_force": entries })
        })
        .collect();
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let rate = if r.checks == 0 { 0.0 } else { r.feedback as f64 / r.checks as f64 };
            json!({ "unit": r.unit, "month": r.month, "checks": r.checks, "hits": r.hits,
                    "feedback": r.feedback, "feedback_rate": rate })
        })
        .collect();
    let measures = state.policy.measures.published().count();
    Ok(Json(json!({ "lists": lists, "published_measures": measures, "receiving": receiving, "loop": rows })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ScreenParams {
    /// Add the measures the lists trigger in this scenario (code or Chinese name).
    pub scenario: Option<String>,
}

/// Batch screening (批量核查) as an upload: the body is one identifier per line or a CSV with an
/// identifier column; the answer is the result CSV, one row per input row, in order.
#[utoipa::path(post, path = "/api/v1/screenings", params(ScreenParams), request_body(content = String, content_type = "text/csv"),
    responses((status = 200, description = "the result CSV", content_type = "text/csv"), (status = 400), (status = 403)),
    security(("bearer" = [])), tag = "joint")]
pub async fn screening(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::Query(params): axum::extract::Query<ScreenParams>,
    body: axum::body::Bytes,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    caller.require(&[Role::Admin, Role::Department, Role::Supplier])?;
    let scenario = match params.scenario.as_deref() {
        None => None,
        Some(s) => Some(
            Purpose::parse(s)
                .ok_or_else(|| ApiError::bad_request("bad_scenario", format!("{s:?} is not a scenario")))?
                .code(),
        ),
    };
    let today = state.clock.today();
    let policy = state.policy.clone();
    let (csv, summary) = state
        .blocking(move |store| {
            let catalog = store.load_catalog()?;
            let mut out = Vec::new();
            let summary =
                xinyong_ingest::screen::screen(store, &catalog, &policy.measures, scenario, today, &body[..], &mut out)
                    .map_err(|e| match e {
                        xinyong_ingest::screen::ScreenError::Input(m) => ApiError::bad_request("bad_input", m),
                        other => ApiError::internal(other),
                    })?;
            Ok((out, summary))
        })
        .await?;
    let access = Access { caller: &caller, action: "screen", subject_id: None, purpose: None };
    let detail = format!("screened {} rows: {} on a list, {} invalid", summary.rows, summary.listed, summary.invalid);
    state.auditor.record(access.entry(&*state.clock, "allowed", detail)).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

//! Objections (异议), credit repair (信用修复) and revocation (撤销) over HTTP (CONTRACT.md §4).
//!
//! The rules are `xinyong_domain::workflow`; this module finds who is acting (the centre = an admin,
//! the unit = a supplier of the record's unit, the subject = the record's subject's own account),
//! computes the step and its deadline on the working-day calendar, and has the store apply it with
//! its record effect and notices in one transaction. Every step is written to the audit trail.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use xinyong_domain::access::{Role, View};
use xinyong_domain::calendar::{Calendar, Deadline};
use xinyong_domain::catalog::Catalog;
use xinyong_domain::record::{RecordDraft, RecordHead, RecordStatus};
use xinyong_domain::value::{self, Cell};
use xinyong_domain::workflow::{
    self, Actor, ObjectionAction, ObjectionStatus, Outcome, RepairAction, RepairFacts, RepairStatus, RevocationBasis,
    StepError,
};
use xinyong_store::workflow::{
    Case, CaseFilter, CaseKind, CaseStep, InboxItem, NewCase, NewEvent, Notice, Recipient, RecordEffect,
};
use xinyong_store::{PreparedRecord, Record, Store, Timestamp};

use crate::audit::Access;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::policy::{Policy, is_dishonesty};
use crate::present::Presenter;
use crate::state::AppState;

/// A case as the API shows it: the workflow object of CONTRACT.md §4, with the kind's own data
/// (reason, evidence, outcome, eligibility …) at the top level.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    pub id: i64,
    pub kind: String,
    pub record: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<i64>,
    pub unit: String,
    pub status: String,
    pub open: bool,
    /// The current step's deadline (`null` once closed).
    pub deadline: Option<NaiveDate>,
    /// Counted in a year without an official holiday notice.
    pub deadline_provisional: bool,
    /// Open and past its deadline today.
    pub overdue: bool,
    pub created_at: String,
    pub updated_at: String,
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<xinyong_store::workflow::CaseEvent>,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, Value>,
}

impl CaseView {
    fn new(c: Case, today: NaiveDate) -> CaseView {
        let overdue = c.open && c.deadline.is_some_and(|d| d < today);
        let data = match c.data {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        CaseView {
            id: c.id,
            kind: c.kind.as_str().to_owned(),
            record: c.record_id,
            subject: c.subject_id,
            unit: c.unit,
            status: c.status,
            open: c.open,
            deadline: c.deadline,
            deadline_provisional: c.deadline_provisional,
            overdue,
            created_at: c.created_at.to_rfc3339(),
            updated_at: c.updated_at.to_rfc3339(),
            history: c.history,
            data,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseView>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewObjection {
    /// The record disputed.
    pub record: i64,
    pub reason: String,
    /// Names or references of the evidence files.
    #[serde(default)]
    pub evidence: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRepair {
    pub record: i64,
    #[serde(default)]
    pub evidence: Vec<String>,
    /// The subject signed a credit-repair commitment (信用修复承诺书).
    #[serde(default)]
    pub commitment: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRevocation {
    /// `authority`, `reconsideration` or `court`.
    pub basis: String,
    /// The revoking decision (document number and what it says).
    pub note: String,
    /// The day the platform learnt of the revocation (default today): the 3-working-day duty runs from it.
    #[serde(default)]
    pub notified_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Transition {
    pub action: String,
    #[serde(default)]
    pub note: Option<String>,
    /// For `decide`: `corrected`, `deleted` or `upheld`.
    #[serde(default)]
    pub outcome: Option<String>,
    /// For `decide` with `corrected`: the fields that change, by key.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    pub status: Option<String>,
    /// `true`: only open cases past their deadline.
    pub overdue: Option<bool>,
    pub open: Option<bool>,
    pub unit: Option<String>,
    pub record: Option<i64>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Who the caller is in a case about `record`.
fn actor(caller: &Caller, record: &Record) -> Option<Actor> {
    match caller.role() {
        Role::Admin => Some(Actor::Centre),
        Role::Supplier if caller.account.unit.as_deref() == Some(record.unit.as_str()) => Some(Actor::Unit),
        Role::Subject if caller.account.subject_id.is_some() && caller.account.subject_id == record.subject_id => {
            Some(Actor::Subject)
        }
        _ => None,
    }
}

fn may_see_case(caller: &Caller, c: &Case) -> bool {
    match caller.role() {
        Role::Admin => true,
        Role::Supplier => caller.account.unit.as_deref() == Some(c.unit.as_str()),
        Role::Subject => caller.account.subject_id.is_some() && caller.account.subject_id == c.subject_id,
        _ => false,
    }
}

fn step_error(e: StepError) -> ApiError {
    match e {
        StepError::Forbidden(m) => ApiError::forbidden(m),
        StepError::NotAllowed(m) => ApiError::conflict(m),
        StepError::Invalid(m) => ApiError::bad_request("invalid_step", m),
    }
}

fn event(caller: &Caller, action: &str, note: Option<String>, late: bool) -> NewEvent {
    NewEvent {
        actor: caller.account.id,
        actor_name: caller.account.name.clone(),
        action: action.to_owned(),
        note: note.filter(|n| !n.trim().is_empty()),
        late,
    }
}

/// A case of `kind` on `record`, opened now, open, with no deadline, data, effect or notices yet: callers
/// set what differs with struct update syntax.
fn case_on(
    kind: CaseKind,
    record: &Record,
    status: &str,
    deadline: Option<Deadline>,
    at: Timestamp,
    event: NewEvent,
) -> NewCase {
    NewCase {
        kind,
        record_id: record.id,
        subject_id: record.subject_id,
        unit: record.unit.clone(),
        status: status.to_owned(),
        deadline: deadline.map(|d| d.date),
        deadline_provisional: deadline.is_some_and(|d| d.provisional),
        open: true,
        data: Value::Null,
        at,
        event,
        effect: RecordEffect::None,
        notices: Vec::new(),
    }
}

/// A step that changed the record (corrected, deleted, repaired, revoked) changes its subject's evaluation.
fn reevaluate(store: &dyn Store, record: &Record, effect: &RecordEffect, cause: &str, now: Timestamp) {
    if let (Some(subject), false) = (record.subject_id, matches!(effect, RecordEffect::None)) {
        super::evaluation::refresh(store, &[subject], cause, now);
    }
}

fn notice(to: Recipient, title: impl Into<String>, body: impl Into<String>) -> Notice {
    Notice { to, title: title.into(), body: body.into() }
}

/// Notices to the record's subject, when it has one.
fn to_subject(record: &Record, title: &str, body: String) -> Vec<Notice> {
    record.subject_id.map(|s| notice(Recipient::Subject(s), title, body)).into_iter().collect()
}

fn record_label(record: &Record, catalog: &Catalog) -> String {
    let item = catalog.item(&record.item).map_or(record.item.as_str(), |i| i.name.as_str());
    format!("{item}记录 {}（{}）", record.source_key, record.date)
}

fn load_record(store: &dyn Store, id: i64) -> ApiResult<Record> {
    store.record(id)?.ok_or_else(|| ApiError::not_found(format!("record {id} does not exist")))
}

fn kind_of(path_kind: CaseKind, c: &Case) -> ApiResult<()> {
    if c.kind == path_kind { Ok(()) } else { Err(ApiError::not_found(format!("no such {}", path_kind.as_str()))) }
}

async fn audit(
    state: &AppState,
    caller: &Caller,
    action: &'static str,
    subject: Option<i64>,
    detail: String,
) -> ApiResult<()> {
    let access = Access { caller, action, subject_id: subject, purpose: None };
    state.auditor.record(access.entry(&*state.clock, "allowed", detail)).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Objections

#[utoipa::path(post, path = "/api/v1/objections", request_body = NewObjection,
    responses((status = 201, body = CaseView), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])), tag = "workflows")]
pub async fn file_objection(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<NewObjection>,
) -> ApiResult<(StatusCode, Json<CaseView>)> {
    if req.reason.trim().is_empty() {
        return Err(ApiError::bad_request("missing_reason", "an objection needs a reason"));
    }
    let now = state.clock.now();
    let today = now.date_naive();
    let (policy, who) = (state.policy.clone(), caller.clone());
    let case = state
        .blocking(move |store| {
            let record = load_record(store, req.record)?;
            match actor(&who, &record) {
                Some(Actor::Subject | Actor::Centre) => {}
                _ => return Err(ApiError::forbidden("the record's subject or the centre files an objection")),
            }
            if matches!(record.status, RecordStatus::Deleted | RecordStatus::Revoked) {
                return Err(ApiError::conflict(format!(
                    "the record is {}: nothing to object to",
                    record.status.as_str()
                )));
            }
            let calendar = policy.calendar(store)?;
            let step = workflow::file_objection(today, &policy.schedule(&calendar));
            let catalog = store.load_catalog()?;
            let label = record_label(&record, &catalog);
            let mut notices = vec![notice(Recipient::Centre, "收到异议申请", format!("{label}：{}", req.reason))];
            notices.extend(to_subject(&record, "异议已提交", format!("{label} 已标注为异议信息，正在处理。")));
            let filed = event(&who, "file", Some(req.reason.clone()), false);
            let new = NewCase {
                data: json!({ "reason": req.reason, "evidence": req.evidence }),
                notices,
                ..case_on(CaseKind::Objection, &record, step.status.as_str(), step.deadline, now, filed)
            };
            Ok(store.open_case(&new)?)
        })
        .await?;
    audit(
        &state,
        &caller,
        "objection",
        case.subject_id,
        format!("filed objection {} on record {}", case.id, case.record_id),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CaseView::new(case, today))))
}

#[utoipa::path(post, path = "/api/v1/objections/{id}/transition", request_body = Transition,
    params(("id" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])), tag = "workflows")]
pub async fn objection_transition(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<Transition>,
) -> ApiResult<Json<CaseView>> {
    let action = ObjectionAction::parse(&req.action).ok_or_else(|| {
        ApiError::bad_request(
            "bad_action",
            format!("{:?} is not an objection action (accept, reject, forward, decide)", req.action),
        )
    })?;
    let outcome = match req.outcome.as_deref() {
        None => None,
        Some(o) => Some(Outcome::parse(o).ok_or_else(|| {
            ApiError::bad_request("bad_outcome", format!("{o:?} is not an outcome (corrected, deleted, upheld)"))
        })?),
    };
    let now = state.clock.now();
    let today = now.date_naive();
    let (policy, who) = (state.policy.clone(), caller.clone());
    let case = state
        .blocking(move |store| {
            let case = store.case(id)?.ok_or_else(|| ApiError::not_found(format!("objection {id}")))?;
            kind_of(CaseKind::Objection, &case)?;
            let record = load_record(store, case.record_id)?;
            let Some(actor) = actor(&who, &record) else {
                return Err(ApiError::forbidden(
                    "only the centre, the supplying unit or the subject act on an objection",
                ));
            };
            let status = ObjectionStatus::parse(&case.status)
                .ok_or_else(|| ApiError::internal(format!("objection {id} has status {:?}", case.status)))?;
            let calendar = policy.calendar(store)?;
            let schedule = policy.schedule(&calendar);
            let next = workflow::objection_step(status, action, actor, outcome, req.note.as_deref(), today, &schedule)
                .map_err(step_error)?;
            let catalog = store.load_catalog()?;
            let label = record_label(&record, &catalog);
            let mut data = serde_json::Map::new();
            let mut notices = Vec::new();
            let mut effect = RecordEffect::None;
            match (action, outcome) {
                (ObjectionAction::Accept, _) => {
                    let forward_by = workflow::objection_forward_by(today, &schedule);
                    data.insert("forward_by".into(), json!(forward_by.date));
                    notices.extend(to_subject(&record, "异议已受理", format!("{label} 的异议已受理。")));
                }
                (ObjectionAction::Reject, _) => {
                    let why = req.note.clone().unwrap_or_default();
                    notices.extend(to_subject(&record, "异议不予受理", format!("{label}：{why}")));
                }
                (ObjectionAction::Forward, _) => {
                    data.insert("forwarded_on".into(), json!(today));
                    notices.push(notice(
                        Recipient::Unit(record.unit.clone()),
                        "异议转办",
                        format!(
                            "{label} 的异议请于 {} 前核实处理。",
                            next.deadline.map(|d| d.date.to_string()).unwrap_or_default()
                        ),
                    ));
                    notices.extend(to_subject(&record, "异议已转数据提供单位核实", label.clone()));
                }
                (ObjectionAction::Decide, Some(o)) => {
                    data.insert("outcome".into(), json!(o.as_str()));
                    if let Some(n) = &req.note {
                        data.insert("decision".into(), json!(n));
                    }
                    effect = match o {
                        Outcome::Corrected => corrected(store, &catalog, &record, &req.fields, today)?,
                        Outcome::Deleted => RecordEffect::Status(RecordStatus::Deleted),
                        Outcome::Upheld => RecordEffect::None,
                    };
                    let text = match o {
                        Outcome::Corrected => "异议成立，记录已更正",
                        Outcome::Deleted => "异议成立，记录已删除",
                        Outcome::Upheld => "异议不成立，记录维持",
                    };
                    notices.extend(to_subject(&record, "异议处理结果", format!("{label}：{text}。")));
                    notices.push(notice(Recipient::Centre, "异议已办结", format!("{label}：{text}")));
                }
                (ObjectionAction::Decide, None) => {
                    return Err(ApiError::bad_request("bad_outcome", "decide needs an outcome"));
                }
            }
            let late = case.deadline.is_some_and(|d| today > d);
            let step = CaseStep {
                case_id: id,
                from: case.status.clone(),
                to: next.status.as_str().to_owned(),
                deadline: next.deadline.map(|d| d.date),
                deadline_provisional: next.deadline.is_some_and(|d| d.provisional),
                open: next.status.is_open(),
                data,
                at: now,
                event: event(&who, action.as_str(), req.note.clone(), late),
                effect,
                notices,
            };
            let case = store.advance_case(&step)?;
            reevaluate(store, &record, &step.effect, &format!("{} {id} {}", case.kind.as_str(), action.as_str()), now);
            Ok(case)
        })
        .await?;
    audit(&state, &caller, "objection", case.subject_id, format!("objection {id}: {} → {}", req.action, case.status))
        .await?;
    Ok(Json(CaseView::new(case, today)))
}

/// The corrected version: the record's fields with the given ones replaced, encoded like an ingested
/// row (personal fields sealed).
fn corrected(
    store: &dyn Store,
    catalog: &Catalog,
    record: &Record,
    changes: &BTreeMap<String, String>,
    today: NaiveDate,
) -> ApiResult<RecordEffect> {
    if changes.is_empty() {
        return Err(ApiError::bad_request("missing_fields", "a correction carries the corrected fields"));
    }
    let item = catalog.item(&record.item).ok_or_else(|| {
        ApiError::unprocessable("unknown_item", format!("item {} is no longer in the catalog", record.item))
    })?;
    let mut fields = record.fields.clone();
    for (key, value) in changes {
        let Some(field) = item.field(key) else {
            return Err(ApiError::bad_request("unknown_field", format!("{key} is not a field of {}", item.name)));
        };
        if *key == item.source_key {
            return Err(ApiError::bad_request(
                "source_key",
                "the source-record key identifies the record and cannot be corrected",
            ));
        }
        // A corrected value passes the same checks as a filed one and is kept in its canonical form.
        match value::parse_cell(field, &Cell::Text(value.as_str().into()), today) {
            Ok(Some(v)) => fields.insert(key.clone(), v.into_string()),
            Ok(None) => fields.remove(key),
            Err(e) => {
                let message = format!("{} ({key}): {}: {}", field.label, e.code, e.message);
                return Err(ApiError::bad_request("bad_field", message));
            }
        };
    }
    let (public, secret): (BTreeMap<_, _>, BTreeMap<_, _>) =
        fields.into_iter().partition(|(k, _)| !item.field(k).is_some_and(|f| f.masked));
    let head = RecordHead {
        row: 0,
        source_key: record.source_key.clone(),
        date: record.date,
        end_date: record.end_date,
        severity: record.severity,
        published: record.published,
        public_until: record.public_until,
        subject: None,
    };
    let prepared = PreparedRecord::new(RecordDraft { head, fields: public, secret_fields: secret }, store.vault())?;
    Ok(RecordEffect::Revise {
        fields_json: prepared.fields_json,
        secret: prepared.secret,
        content_hash: prepared.content_hash,
    })
}

// ---------------------------------------------------------------------------------------------------
// Repairs

fn repair_facts(
    policy: &Policy,
    catalog: &Catalog,
    record: &Record,
    req: &NewRepair,
    open_repair: bool,
    today: NaiveDate,
    calendar: &Calendar,
) -> RepairFacts {
    let item = catalog.item(&record.item);
    let window = item.and_then(|i| policy.window(i, record, calendar));
    // The status every output shows right now (past its window or the five-year limit: expired).
    let status = Presenter { catalog, view: View::Masked, today }.status(record);
    RepairFacts {
        dishonesty: item.is_some_and(|i| is_dishonesty(i, record.severity)),
        status,
        min_end: window.map(|w| w.min_end),
        repairable: policy.repairable(&record.item),
        evidence: req.evidence.iter().any(|e| !e.trim().is_empty()),
        commitment: req.commitment,
        open_repair,
    }
}

#[utoipa::path(post, path = "/api/v1/repairs", request_body = NewRepair,
    responses((status = 201, body = CaseView), (status = 403), (status = 404), (status = 422, description = "not eligible, with reasons")),
    security(("bearer" = [])), tag = "workflows")]
pub async fn apply_repair(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<NewRepair>,
) -> ApiResult<Response> {
    let now = state.clock.now();
    let today = now.date_naive();
    let (policy, who) = (state.policy.clone(), caller.clone());
    let result = state
        .blocking(move |store| {
            let record = load_record(store, req.record)?;
            match actor(&who, &record) {
                Some(Actor::Subject | Actor::Centre) => {}
                _ => return Err(ApiError::forbidden("the record's subject or the centre applies for repair")),
            }
            let catalog = store.load_catalog()?;
            let calendar = policy.calendar(store)?;
            let open = CaseFilter { kind: Some(CaseKind::Repair), open: Some(true), record_id: Some(record.id), limit: 1, ..CaseFilter::default() };
            let open_repair = store.cases(&open)?.1 > 0;
            let facts = repair_facts(&policy, &catalog, &record, &req, open_repair, today, &calendar);
            let reasons = workflow::repair_reasons(&facts, today);
            if !reasons.is_empty() {
                return Ok(Err((record.subject_id, reasons)));
            }
            let step = workflow::file_repair(today, &policy.schedule(&calendar));
            let label = record_label(&record, &catalog);
            let unit_deadline = step.deadline.map(|d| d.date.to_string()).unwrap_or_default();
            let mut notices = vec![
                notice(Recipient::Unit(record.unit.clone()), "信用修复申请", format!("{label}，请于 {unit_deadline} 前作出决定。")),
                notice(Recipient::Centre, "信用修复申请", label.clone()),
            ];
            notices.extend(to_subject(&record, "信用修复申请已受理", label));
            let applied = event(&who, "apply", req.note.clone(), false);
            let new = NewCase {
                data: json!({ "eligible": true, "evidence": req.evidence, "commitment": req.commitment, "min_end": facts.min_end }),
                notices,
                ..case_on(CaseKind::Repair, &record, step.status.as_str(), step.deadline, now, applied)
            };
            Ok(Ok(store.open_case(&new)?))
        })
        .await?;
    match result {
        Ok(case) => {
            audit(
                &state,
                &caller,
                "repair",
                case.subject_id,
                format!("repair {} on record {}", case.id, case.record_id),
            )
            .await?;
            Ok((StatusCode::CREATED, Json(CaseView::new(case, today))).into_response())
        }
        Err((subject, reasons)) => {
            audit(&state, &caller, "repair", subject, format!("not eligible: {}", reasons.join("; "))).await?;
            let body = json!({
                "eligible": false,
                "reasons": reasons,
                "error": { "code": "not_eligible", "message": reasons.join("; ") },
            });
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response())
        }
    }
}

#[utoipa::path(post, path = "/api/v1/repairs/{id}/transition", request_body = Transition,
    params(("id" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])), tag = "workflows")]
pub async fn repair_transition(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<Transition>,
) -> ApiResult<Json<CaseView>> {
    let action = RepairAction::parse(&req.action).ok_or_else(|| {
        ApiError::bad_request("bad_action", format!("{:?} is not a repair action (approve, refuse)", req.action))
    })?;
    let now = state.clock.now();
    let today = now.date_naive();
    let who = caller.clone();
    let case = state
        .blocking(move |store| {
            let case = store.case(id)?.ok_or_else(|| ApiError::not_found(format!("repair {id}")))?;
            kind_of(CaseKind::Repair, &case)?;
            let record = load_record(store, case.record_id)?;
            let actor = actor(&who, &record)
                .ok_or_else(|| ApiError::forbidden("only the supplying unit or the centre decides a repair"))?;
            let status = RepairStatus::parse(&case.status)
                .ok_or_else(|| ApiError::internal(format!("repair {id} has status {:?}", case.status)))?;
            let next = workflow::repair_step(status, action, actor, req.note.as_deref()).map_err(step_error)?;
            let catalog = store.load_catalog()?;
            let label = record_label(&record, &catalog);
            let (effect, text) = match action {
                RepairAction::Approve => {
                    (RecordEffect::Status(RecordStatus::Repaired), "信用修复已通过：该信息停止公示和共享".to_owned())
                }
                RepairAction::Refuse => {
                    (RecordEffect::None, format!("信用修复未通过：{}", req.note.clone().unwrap_or_default()))
                }
            };
            let mut notices = to_subject(&record, "信用修复结果", format!("{label}：{text}"));
            notices.push(notice(Recipient::Centre, "信用修复已办结", format!("{label}：{text}")));
            let mut data = serde_json::Map::new();
            data.insert("decision".into(), json!(action.as_str()));
            let step = CaseStep {
                case_id: id,
                from: case.status.clone(),
                to: next.status.as_str().to_owned(),
                deadline: None,
                deadline_provisional: false,
                open: false,
                data,
                at: now,
                event: event(&who, action.as_str(), req.note.clone(), case.deadline.is_some_and(|d| today > d)),
                effect,
                notices,
            };
            let case = store.advance_case(&step)?;
            reevaluate(store, &record, &step.effect, &format!("{} {id} {}", case.kind.as_str(), action.as_str()), now);
            Ok(case)
        })
        .await?;
    audit(&state, &caller, "repair", case.subject_id, format!("repair {id}: {}", req.action)).await?;
    Ok(Json(CaseView::new(case, today)))
}

// ---------------------------------------------------------------------------------------------------
// Revocation

#[utoipa::path(post, path = "/api/v1/records/{id}/revocation", request_body = NewRevocation,
    params(("id" = i64, Path)),
    responses((status = 201, body = CaseView), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])), tag = "workflows")]
pub async fn revoke_record(
    State(state): State<AppState>,
    caller: Caller,
    Path(record_id): Path<i64>,
    Json(req): Json<NewRevocation>,
) -> ApiResult<(StatusCode, Json<CaseView>)> {
    let basis = RevocationBasis::parse(&req.basis).ok_or_else(|| {
        ApiError::bad_request(
            "bad_basis",
            format!("{:?} is not a basis (authority, reconsideration, court)", req.basis),
        )
    })?;
    if req.note.trim().is_empty() {
        return Err(ApiError::bad_request("missing_note", "name the revoking decision in the note"));
    }
    let now = state.clock.now();
    let today = now.date_naive();
    let notified_on = req.notified_on.unwrap_or(today);
    if notified_on > today {
        return Err(ApiError::bad_request("bad_date", "notified_on lies in the future"));
    }
    let (policy, who) = (state.policy.clone(), caller.clone());
    let case = state
        .blocking(move |store| {
            let record = load_record(store, record_id)?;
            match actor(&who, &record) {
                Some(Actor::Unit | Actor::Centre) => {}
                _ => return Err(ApiError::forbidden("the supplying unit or the centre records a revocation")),
            }
            if matches!(record.status, RecordStatus::Revoked | RecordStatus::Deleted) {
                return Err(ApiError::conflict(format!("the record is {} already", record.status.as_str())));
            }
            let calendar = policy.calendar(store)?;
            let due = workflow::revocation_deadline(notified_on, &policy.schedule(&calendar));
            let catalog = store.load_catalog()?;
            let label = record_label(&record, &catalog);
            let mut notices = to_subject(&record, "信息已撤销", format!("{label} 所依据的决定已被撤销，该信息已停止提供。"));
            notices.push(notice(Recipient::Centre, "决定撤销", format!("{label}：{}", req.note)));
            let revoked = event(&who, "revoke", Some(req.note.clone()), today > due.date);
            let new = NewCase {
                open: false,
                data: json!({ "basis": basis, "notified_on": notified_on, "done_on": today, "within_deadline": today <= due.date }),
                effect: RecordEffect::Status(RecordStatus::Revoked),
                notices,
                ..case_on(CaseKind::Revocation, &record, "done", Some(due), now, revoked)
            };
            let case = store.open_case(&new)?;
            reevaluate(store, &record, &new.effect, &format!("revocation {}", case.id), now);
            Ok(case)
        })
        .await?;
    audit(&state, &caller, "revocation", case.subject_id, format!("record {record_id} revoked")).await?;
    Ok((StatusCode::CREATED, Json(CaseView::new(case, today))))
}

// ---------------------------------------------------------------------------------------------------
// Reading cases, queues and the inbox

async fn get_case(state: AppState, caller: Caller, id: i64, kind: CaseKind) -> ApiResult<Json<CaseView>> {
    let today = state.clock.today();
    let case = state.blocking(move |store| Ok(store.case(id)?)).await?;
    let case =
        case.filter(|c| c.kind == kind).ok_or_else(|| ApiError::not_found(format!("no such {}", kind.as_str())))?;
    if !may_see_case(&caller, &case) {
        return Err(ApiError::forbidden(format!("this {} is not yours to see", kind.as_str())));
    }
    Ok(Json(CaseView::new(case, today)))
}

#[utoipa::path(get, path = "/api/v1/objections/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 403), (status = 404)), security(("bearer" = [])), tag = "workflows")]
pub async fn get_objection(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<CaseView>> {
    get_case(state, caller, id, CaseKind::Objection).await
}

#[utoipa::path(get, path = "/api/v1/repairs/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 403), (status = 404)), security(("bearer" = [])), tag = "workflows")]
pub async fn get_repair(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<CaseView>> {
    get_case(state, caller, id, CaseKind::Repair).await
}

async fn list_cases(state: AppState, caller: Caller, p: ListParams, kind: CaseKind) -> ApiResult<Json<CaseList>> {
    let today = state.clock.today();
    let per_page = p.per_page.unwrap_or(20).clamp(1, 200);
    let page = p.page.unwrap_or(1).max(1);
    let mut filter = CaseFilter {
        kind: Some(kind),
        status: p.status,
        open: p.open,
        unit: p.unit,
        subject_id: None,
        record_id: p.record,
        overdue_on: p.overdue.filter(|o| *o).map(|_| today),
        limit: per_page,
        offset: (page - 1).saturating_mul(per_page),
    };
    match caller.role() {
        Role::Admin => {}
        Role::Supplier => filter.unit = caller.account.unit.clone(),
        Role::Subject => {
            filter.subject_id =
                Some(caller.account.subject_id.ok_or_else(|| ApiError::forbidden("no subject bound to this account"))?)
        }
        other => {
            return Err(ApiError::forbidden(format!("the {} role has no {} queue", other.as_str(), kind.as_str())));
        }
    }
    let (cases, total) = state.blocking(move |store| Ok(store.cases(&filter)?)).await?;
    Ok(Json(CaseList { items: cases.into_iter().map(|c| CaseView::new(c, today)).collect(), total, page, per_page }))
}

#[utoipa::path(get, path = "/api/v1/objections", params(ListParams),
    responses((status = 200, body = CaseList)), security(("bearer" = [])), tag = "workflows")]
pub async fn list_objections(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<CaseList>> {
    list_cases(state, caller, p, CaseKind::Objection).await
}

#[utoipa::path(get, path = "/api/v1/repairs", params(ListParams),
    responses((status = 200, body = CaseList)), security(("bearer" = [])), tag = "workflows")]
pub async fn list_repairs(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<CaseList>> {
    list_cases(state, caller, p, CaseKind::Repair).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Inbox {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<InboxItem>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InboxParams {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// The notices addressed to the caller: its subject, its unit, or (admins) the centre.
#[utoipa::path(get, path = "/api/v1/inbox", params(InboxParams),
    responses((status = 200, body = Inbox)), security(("bearer" = [])), tag = "workflows")]
pub async fn inbox(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<InboxParams>,
) -> ApiResult<Json<Inbox>> {
    let mut to = Vec::new();
    if caller.role() == Role::Admin {
        to.push(Recipient::Centre);
    }
    if let Some(unit) = &caller.account.unit {
        to.push(Recipient::Unit(unit.clone()));
    }
    if let Some(subject) = caller.account.subject_id {
        to.push(Recipient::Subject(subject));
    }
    let per_page = p.per_page.unwrap_or(50).clamp(1, 200);
    let offset = (p.page.unwrap_or(1).max(1) - 1).saturating_mul(per_page);
    let items = state.blocking(move |store| Ok(store.inbox(&to, per_page, offset)?)).await?;
    Ok(Json(Inbox { items }))
}

//! Credit commitments (信用承诺) over HTTP: filing, the accepting unit's queue (overdue marked), and
//! fulfilment (`POST /commitments/{id}/fulfilment`). The rules are `xinyong_domain::commitment`.
//!
//! A breach files an entry of the `list_commitment_breach` list on behalf of the accepting unit (a
//! one-row batch, like any list entry): that entry is the dishonesty record of the breach, it lowers
//! the subject's evaluation, and while it is in force the subject cannot file a new commitment and
//! joint-punishment checks in approval answer the `commitment_breach` measures.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use xinyong_domain::access::Role;
use xinyong_domain::catalog::Severity;
use xinyong_domain::commitment::{self, BREACH_LIST, CommitmentKind, CommitmentStatus, Fulfilment};
use xinyong_domain::ids::{Identifier, Uscc};
use xinyong_domain::record::{RecordDraft, RecordHead};
use xinyong_domain::subject::SubjectClaim;
use xinyong_store::commitment::{Commitment, CommitmentFilter, CommitmentStep, NewCommitment};
use xinyong_store::joint::entry_in_force;
use xinyong_store::workflow::{CaseEvent, NewEvent};
use xinyong_store::{BatchMeta, BatchReport, BatchStatus, PreparedRecord, Store, Subject, SubjectKey, Timestamp};

use crate::audit::Access;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCommitmentRequest {
    /// USCC, resident ID or subject id.
    pub subject: String,
    /// 告知承诺 `notification`, 容缺受理 `deficiency`, 主动承诺 `voluntary`, 行业自律 `industry`, 修复承诺 `repair`.
    pub kind: String,
    /// The matter the commitment is made in (the licence applied for …).
    pub matter: String,
    pub content: String,
    /// The accepting unit; a unit's own account files for its unit.
    #[serde(default)]
    pub unit: Option<String>,
    /// The day the commitment was made (default today).
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// Fulfilment is due by this day.
    pub due: NaiveDate,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FulfilmentRequest {
    /// `fulfilled` or `breached`.
    pub outcome: String,
    /// Reasons; required for a breach.
    #[serde(default)]
    pub note: Option<String>,
}

/// A commitment as the API shows it: the workflow object of CONTRACT.md §4.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitmentView {
    pub id: i64,
    pub status: String,
    /// The due date while pending (`null` once fulfilment is recorded).
    pub deadline: Option<NaiveDate>,
    /// Pending and past its due date today.
    pub overdue: bool,
    pub subject: i64,
    pub kind: String,
    pub kind_label: String,
    pub matter: String,
    pub unit: String,
    pub content: String,
    pub date: NaiveDate,
    pub due: NaiveDate,
    /// The dishonesty record a breach created.
    pub record: Option<i64>,
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<CaseEvent>,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, Value>,
}

impl CommitmentView {
    fn new(c: Commitment, today: NaiveDate) -> CommitmentView {
        let pending = c.status == CommitmentStatus::Pending.as_str();
        let kind_label = CommitmentKind::parse(&c.kind).map(|k| k.label().to_owned()).unwrap_or_default();
        CommitmentView {
            id: c.id,
            overdue: pending && c.due < today,
            deadline: pending.then_some(c.due),
            status: c.status,
            subject: c.subject_id,
            kind: c.kind,
            kind_label,
            matter: c.matter,
            unit: c.unit,
            content: c.content,
            date: c.date,
            due: c.due,
            record: c.record_id,
            history: c.history,
            data: match c.data {
                Value::Object(m) => m,
                _ => serde_json::Map::new(),
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommitmentList {
    pub items: Vec<CommitmentView>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    pub status: Option<String>,
    /// `true`: only pending commitments past their due date.
    pub overdue: Option<bool>,
    pub unit: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
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

/// The bar: a breach entry in force on `today`, with the day it ends.
pub fn barred_until(store: &dyn Store, subject_id: i64, today: NaiveDate) -> ApiResult<Option<NaiveDate>> {
    let entries = store.records_of_items(&[subject_id], &[BREACH_LIST.to_owned()])?;
    Ok(entries.iter().filter(|r| entry_in_force(r, today)).map(|r| r.end_date.unwrap_or(NaiveDate::MAX)).max())
}

fn may_see(caller: &Caller, c: &Commitment) -> bool {
    match caller.role() {
        Role::Admin => true,
        Role::Supplier | Role::Department => caller.account.unit.as_deref() == Some(c.unit.as_str()),
        Role::Subject => caller.account.subject_id == Some(c.subject_id),
        _ => false,
    }
}

#[utoipa::path(post, path = "/api/v1/commitments", request_body = NewCommitmentRequest,
    responses((status = 201, body = CommitmentView), (status = 400), (status = 403), (status = 404),
        (status = 409, description = "the subject is barred from commitment-based handling")),
    security(("bearer" = [])), tag = "workflows")]
pub async fn file(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<NewCommitmentRequest>,
) -> ApiResult<(StatusCode, Json<CommitmentView>)> {
    let kind = CommitmentKind::parse(&req.kind).ok_or_else(|| {
        ApiError::bad_request(
            "bad_kind",
            format!("kind {:?}: use 告知承诺, 容缺受理, 主动承诺, 行业自律 or 修复承诺 (or their codes)", req.kind),
        )
    })?;
    for (field, value) in [("matter", &req.matter), ("content", &req.content)] {
        if value.trim().is_empty() {
            return Err(ApiError::bad_request("missing_field", format!("{field} must not be empty")));
        }
    }
    let now = state.clock.now();
    let today = now.date_naive();
    let date = req.date.unwrap_or(today);
    commitment::check_dates(date, req.due).map_err(|e| ApiError::bad_request("bad_due", e.to_string()))?;
    let unit = match caller.role() {
        Role::Admin | Role::Subject => {
            req.unit.clone().ok_or_else(|| ApiError::bad_request("missing_unit", "name the accepting unit"))?
        }
        Role::Supplier | Role::Department => {
            let own = caller.account.unit.clone().ok_or_else(|| ApiError::forbidden("this account has no unit"))?;
            if req.unit.as_ref().is_some_and(|u| *u != own) {
                return Err(ApiError::forbidden("a unit accepts commitments for itself only"));
            }
            own
        }
        other => return Err(ApiError::forbidden(format!("the {} role does not file commitments", other.as_str()))),
    };
    let key = super::subjects::parse_key(&req.subject, today)?;
    let who = caller.clone();
    let filed = state
        .blocking(move |store| {
            let catalog = store.load_catalog()?;
            if !catalog.units.iter().any(|u| u.code == unit) {
                return Err(ApiError::bad_request("unknown_unit", format!("unit {unit} is not registered")));
            }
            let subject = store.find_subject(&key)?.ok_or_else(|| ApiError::not_found("no such subject"))?;
            if who.role() == Role::Subject && who.account.subject_id != Some(subject.id) {
                return Err(ApiError::forbidden("a subject files its own commitments"));
            }
            if let Some(until) = barred_until(store, subject.id, today)? {
                return Err(ApiError::conflict(format!(
                    "the subject broke a credit commitment and may not use commitment-based handling until {until}"
                )));
            }
            let new = NewCommitment {
                subject_id: subject.id,
                kind: kind.as_str().to_owned(),
                matter: req.matter.trim().to_owned(),
                unit,
                content: req.content.trim().to_owned(),
                date,
                due: req.due,
                at: now,
                event: event(&who, "file", None, false),
            };
            Ok(store.file_commitment(&new)?)
        })
        .await?;
    let access = Access { caller: &caller, action: "commitment", subject_id: Some(filed.subject_id), purpose: None };
    let detail = format!("commitment {} ({}) filed with {}", filed.id, filed.kind, filed.unit);
    state.auditor.record(access.entry(&*state.clock, "allowed", detail)).await?;
    Ok((StatusCode::CREATED, Json(CommitmentView::new(filed, today))))
}

/// Field values by key.
type Fields = BTreeMap<String, String>;

/// The identifier a breach entry names its subject by, with its party fields (public and personal).
fn claim_of(subject: &Subject) -> ApiResult<(SubjectClaim, Fields, Fields)> {
    let mut fields = BTreeMap::new();
    let mut secret = BTreeMap::new();
    fields.insert("subject_name".to_owned(), subject.name.clone());
    fields.insert("subject_kind".to_owned(), subject.kind.label().to_owned());
    let id = match (&subject.uscc, &subject.resident_id) {
        (Some(u), _) => {
            fields.insert("uscc".to_owned(), u.clone());
            Identifier::Uscc(Uscc::parse(u).map_err(|e| ApiError::internal(format!("stored USCC: {e:?}")))?)
        }
        (None, Some(r)) => {
            secret.insert("id_number".to_owned(), r.as_str().to_owned());
            Identifier::ResidentId(r.clone())
        }
        (None, None) => {
            return Err(ApiError::unprocessable(
                "no_identifier",
                "the subject has no USCC or resident ID to list it by",
            ));
        }
    };
    Ok((SubjectClaim { kind: subject.kind, id, name: subject.name.clone() }, fields, secret))
}

/// Files the breach entry as a one-row batch of the accepting unit and settles the commitment in that
/// batch (`step`), so that the breach and its dishonesty record are stored together or not at all.
fn file_breach(
    store: &dyn Store,
    c: &Commitment,
    step: &CommitmentStep,
    reasons: &str,
    bar_months: u32,
    now: Timestamp,
) -> ApiResult<()> {
    let catalog = store.load_catalog()?;
    let item = catalog
        .item(BREACH_LIST)
        .ok_or_else(|| ApiError::internal(format!("the catalog has no {BREACH_LIST}: install the default catalog")))?;
    let subject = store
        .find_subject(&SubjectKey::Id(c.subject_id))?
        .ok_or_else(|| ApiError::internal(format!("commitment {} names a missing subject", c.id)))?;
    let (claim, mut fields, secret) = claim_of(&subject)?;
    let today = now.date_naive();
    let ends = commitment::CommitmentRules { bar_months }.bar_ends(today);
    let source_key = format!("XYCN-{}", c.id);
    let unit_name = catalog.units.iter().find(|u| u.code == c.unit).map_or(c.unit.clone(), |u| u.name.clone());
    let kind = CommitmentKind::parse(&c.kind).map_or(c.kind.as_str(), |k| k.label());
    fields.insert("document_number".to_owned(), source_key.clone());
    fields.insert("reason".to_owned(), format!("违背{kind}（{}）：{reasons}", c.matter));
    fields.insert("start_date".to_owned(), today.to_string());
    fields.insert("end_date".to_owned(), ends.to_string());
    fields.insert("authority".to_owned(), unit_name);
    fields.insert("remarks".to_owned(), format!("信用承诺 {} 违约，{ends} 前不适用信用承诺方式办理", c.id));
    let head = RecordHead {
        row: 2,
        source_key: source_key.clone(),
        date: today,
        end_date: Some(ends),
        severity: if item.severity == Severity::None { Severity::General } else { item.severity },
        published: true,
        public_until: Some(ends),
        subject: Some(claim),
    };
    let prepared = PreparedRecord::new(RecordDraft { head, fields, secret_fields: secret }, store.vault())?;
    let batch = format!("cmt-{}-{}", c.id, now.format("%Y%m%d%H%M%S"));
    let mut writer = store.begin_batch(BatchMeta {
        id: batch.clone(),
        unit: c.unit.clone(),
        item: BREACH_LIST.to_owned(),
        item_version: item.version,
        file_name: None,
        all_or_nothing: true,
        started_at: now,
    })?;
    let outcomes = writer.write(&[prepared])?;
    let linked = outcomes.iter().filter(|o| o.linked).count() as u64;
    writer.settle_commitment(step, &source_key)?;
    writer.commit(&BatchReport {
        batch,
        unit: c.unit.clone(),
        item: BREACH_LIST.to_owned(),
        item_version: item.version,
        status: BatchStatus::Committed,
        format: "commitment".to_owned(),
        encoding: "utf-8".to_owned(),
        file_name: None,
        rows: 1,
        accepted: 1,
        rejected: 0,
        created: 1,
        updated: 0,
        unchanged: 0,
        linked,
        errors: Vec::new(),
        warnings: Vec::new(),
        started_at: now,
        finished_at: now,
    })?;
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/commitments/{id}/fulfilment", request_body = FulfilmentRequest, params(("id" = i64, Path)),
    responses((status = 200, body = CommitmentView), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])), tag = "workflows")]
pub async fn fulfilment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<FulfilmentRequest>,
) -> ApiResult<Json<CommitmentView>> {
    let outcome = Fulfilment::parse(&req.outcome)
        .ok_or_else(|| ApiError::bad_request("bad_outcome", "outcome is fulfilled or breached"))?;
    let now = state.clock.now();
    let today = now.date_naive();
    let bar_months = state.settings.commitment_bar_months;
    let who = caller.clone();
    let settled = state
        .blocking(move |store| {
            let c = store.commitment(id)?.ok_or_else(|| ApiError::not_found(format!("commitment {id}")))?;
            let accepting = who.account.unit.as_deref() == Some(c.unit.as_str())
                && matches!(who.role(), Role::Supplier | Role::Department);
            if who.role() != Role::Admin && !accepting {
                return Err(ApiError::forbidden("the accepting unit (or the centre) records fulfilment"));
            }
            let status = CommitmentStatus::parse(&c.status)
                .ok_or_else(|| ApiError::internal(format!("commitment {id} has status {:?}", c.status)))?;
            let next = commitment::settle(status, outcome, req.note.as_deref()).map_err(|e| match e {
                xinyong_domain::workflow::StepError::NotAllowed(m) => ApiError::conflict(m),
                xinyong_domain::workflow::StepError::Forbidden(m) => ApiError::forbidden(m),
                xinyong_domain::workflow::StepError::Invalid(m) => ApiError::bad_request("missing_note", m),
            })?;
            let mut data = serde_json::Map::new();
            data.insert("settled_on".into(), json!(today));
            data.insert("late".into(), json!(today > c.due));
            if let Some(n) = req.note.as_ref().filter(|n| !n.trim().is_empty()) {
                data.insert("reasons".into(), json!(n.trim()));
            }
            let step = CommitmentStep {
                id,
                from: c.status.clone(),
                to: next.as_str().to_owned(),
                data,
                at: now,
                event: event(&who, outcome.as_str(), req.note.clone(), today > c.due),
            };
            let settled = if next == CommitmentStatus::Breached {
                let reasons = req.note.as_deref().unwrap_or_default().trim();
                file_breach(store, &c, &step, reasons, bar_months, now)?;
                store.commitment(id)?.ok_or_else(|| ApiError::not_found(format!("commitment {id}")))?
            } else {
                store.settle_commitment(&step)?
            };
            super::evaluation::refresh(
                store,
                &[settled.subject_id],
                &format!("commitment {id} {}", next.as_str()),
                now,
            );
            Ok(settled)
        })
        .await?;
    let access = Access { caller: &caller, action: "commitment", subject_id: Some(settled.subject_id), purpose: None };
    let detail = format!("commitment {id}: {}", settled.status);
    state.auditor.record(access.entry(&*state.clock, "allowed", detail)).await?;
    Ok(Json(CommitmentView::new(settled, today)))
}

#[utoipa::path(get, path = "/api/v1/commitments/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = CommitmentView), (status = 403), (status = 404)), security(("bearer" = [])), tag = "workflows")]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<CommitmentView>> {
    let today = state.clock.today();
    let c = state.blocking(move |store| Ok(store.commitment(id)?)).await?;
    let c = c.ok_or_else(|| ApiError::not_found(format!("commitment {id}")))?;
    if !may_see(&caller, &c) {
        return Err(ApiError::forbidden("this commitment is not yours to see"));
    }
    Ok(Json(CommitmentView::new(c, today)))
}

/// The queue: an admin sees all, a unit its own, a subject its own commitments.
#[utoipa::path(get, path = "/api/v1/commitments", params(ListParams),
    responses((status = 200, body = CommitmentList)), security(("bearer" = [])), tag = "workflows")]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<CommitmentList>> {
    let today = state.clock.today();
    let per_page = p.per_page.unwrap_or(20).clamp(1, 200);
    let page = p.page.unwrap_or(1).max(1);
    let mut filter = CommitmentFilter {
        subject_id: None,
        unit: p.unit,
        status: p.status,
        overdue_on: p.overdue.filter(|o| *o).map(|_| today),
        limit: per_page,
        offset: (page - 1).saturating_mul(per_page),
    };
    match caller.role() {
        Role::Admin => {}
        Role::Supplier | Role::Department => filter.unit = caller.account.unit.clone(),
        Role::Subject => {
            filter.subject_id =
                Some(caller.account.subject_id.ok_or_else(|| ApiError::forbidden("no subject bound to this account"))?);
        }
        other => return Err(ApiError::forbidden(format!("the {} role has no commitments queue", other.as_str()))),
    }
    let (items, total) = state.blocking(move |store| Ok(store.commitments(&filter)?)).await?;
    Ok(Json(CommitmentList {
        items: items.into_iter().map(|c| CommitmentView::new(c, today)).collect(),
        total,
        page,
        per_page,
    }))
}

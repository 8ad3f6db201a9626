//! `GET /subjects/{key}?purpose=P[&openness=…]`: a subject's profile.
//!
//! 400 without a purpose or with an unknown one; 403 when the role may not use the purpose, when a
//! subject account asks about another subject, or when the requested openness is not the caller's to
//! see; 404 for an unknown subject. Every outcome — allowed, denied, not found — is written to the
//! query log before the answer leaves; if it cannot be written, the answer is 503 (fail closed).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xinyong_domain::access::{Purpose, Role, may_see, may_use_purpose, personal_view};
use xinyong_domain::catalog::Openness;
use xinyong_domain::record::RecordStatus;
use xinyong_store::access::Authorisation;
use xinyong_store::workflow::CaseKind;

use crate::audit::Access;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::present::{ListView, Presenter, RecordView, SubjectView, shared_with};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ProfileParams {
    /// 应用场景: code or Chinese name (e.g. `supervision` or `日常监管`).
    pub purpose: Option<String>,
    /// Comma-separated openness levels to include (`public,authorised,government`); default: all the
    /// caller may see.
    pub openness: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    pub subject: SubjectView,
    pub records: Vec<RecordView>,
    pub lists: Vec<ListView>,
    #[schema(value_type = Option<Object>)]
    pub evaluation: Option<serde_json::Value>,
    pub purpose: String,
    /// Sequence number of the query-log entry this access wrote.
    pub query_log: i64,
}

#[utoipa::path(get, path = "/api/v1/subjects/{key}", params(("key" = String, Path), ProfileParams),
    responses((status = 200, body = Profile), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])), tag = "subjects")]
pub async fn profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Query(params): Query<ProfileParams>,
) -> ApiResult<Json<Profile>> {
    let today = state.clock.today();
    let raw_purpose = params.purpose.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let Some(raw_purpose) = raw_purpose else {
        return Err(ApiError::bad_request("purpose_required", "a profile query must name its purpose (?purpose=…)"));
    };
    let purpose = Purpose::parse(raw_purpose)
        .ok_or_else(|| ApiError::bad_request("unknown_purpose", format!("{raw_purpose:?} is not a known purpose")))?;
    let key = super::parse_key(&key, today)?;
    let mut access = Access { caller: &caller, action: "profile", subject_id: None, purpose: Some(purpose) };
    let role = caller.role();
    let policy = state.policy.clone();
    // The subject is looked up first so that a refusal, too, shows in that subject's query log. Its
    // records, the catalog and its authorisations come in the same trip to the store.
    let found = state
        .blocking(move |store| {
            let Some(subject) = store.find_subject(&key)? else { return Ok(None) };
            let records = store.records_of(subject.id)?;
            let grants = if role == Role::Market { store.authorisations_of(subject.id)? } else { Vec::new() };
            let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
            let disputed = store.records_with_open_case(CaseKind::Objection, &ids)?;
            let calendar = policy.calendar(store)?;
            let evaluation = store.latest_evaluation(subject.id)?;
            Ok(Some((subject, records, grants, store.load_catalog()?, disputed, calendar, evaluation)))
        })
        .await?;
    let Some((subject, records, grants, catalog, disputed, calendar, evaluation)) = found else {
        state.auditor.record(access.entry(&*state.clock, "not_found", "no such subject")).await?;
        return Err(ApiError::not_found("no such subject"));
    };
    access.subject_id = Some(subject.id);
    if !may_use_purpose(role, purpose) {
        return deny(&state, &access, format!("the {} role may not query for {}", role.as_str(), purpose.code())).await;
    }
    let own = caller.account.subject_id == Some(subject.id);
    if role == Role::Subject && !own {
        return deny(&state, &access, "a subject may query only itself".to_owned()).await;
    }
    let authorised = authorised_by(&caller, &grants, state.clock.now());
    let requested: Vec<Openness> = match params.openness.as_deref() {
        None => vec![Openness::Public, Openness::Authorised, Openness::Government],
        Some(list) => parse_openness(list)?,
    };
    if params.openness.is_some()
        && let Some(o) = requested.iter().find(|o| !may_see(role, **o, authorised, own))
    {
        return deny(&state, &access, format!("{o:?} information is not visible to this caller")).await;
    }

    let presenter = Presenter { catalog: &catalog, view: personal_view(role, own), today };
    let mut shown = Vec::new();
    let mut lists = Vec::new();
    for r in &records {
        let Some(item) = catalog.item(&r.item) else { continue };
        if !requested.contains(&item.openness) || !may_see(role, item.openness, authorised, own) {
            continue;
        }
        if !shared_with(role, own, r) {
            continue;
        }
        if presenter.status(r) == RecordStatus::Active {
            lists.extend(presenter.list_entry(r));
        }
        let mut view = presenter.record(r, disputed.contains(&r.id));
        view.window = state.policy.window(item, r, &calendar);
        shown.push(view);
    }
    let logged =
        state.auditor.record(access.entry(&*state.clock, "allowed", format!("{} records", shown.len()))).await?;
    Ok(Json(Profile {
        subject: presenter.subject(&subject),
        records: shown,
        lists,
        // The explanation names records; it goes to those who may see every record (not the market role).
        evaluation: evaluation.as_ref().map(|e| {
            let explained = matches!(role, Role::Admin | Role::Department | Role::Supplier) || own;
            super::super::evaluation::profile_view(e, explained)
        }),
        purpose: purpose.code().to_owned(),
        query_log: logged.seq,
    }))
}

/// Whether the caller's unit holds the subject's unexpired authorisation to see 授权查询 information.
pub fn authorised_by(caller: &Caller, grants: &[Authorisation], now: xinyong_store::Timestamp) -> bool {
    caller.account.unit.as_ref().is_some_and(|unit| {
        grants.iter().any(|a| &a.grantee_unit == unit && a.is_valid_at(now) && a.scope.contains(&Openness::Authorised))
    })
}

async fn deny<T>(state: &AppState, access: &Access<'_>, reason: String) -> ApiResult<T> {
    state.auditor.record(access.entry(&*state.clock, "denied", reason.clone())).await?;
    Err(ApiError::forbidden(reason))
}

fn parse_openness(list: &str) -> ApiResult<Vec<Openness>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            "public" | "社会公开" => Ok(Openness::Public),
            "authorised" | "authorized" | "授权查询" => Ok(Openness::Authorised),
            "government" | "政务共享" => Ok(Openness::Government),
            other => Err(ApiError::bad_request("unknown_openness", format!("{other:?} is not an openness level"))),
        })
        .collect()
}

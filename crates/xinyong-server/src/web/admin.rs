//! The centre's workbench (and a unit's view of its own cases): queues of objections and repairs with
//! deadlines and overdue marks, one case with its history and next steps, the catalog, accounts, and
//! the query log of a subject.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::{Form, Json};
use serde::Deserialize;
use xinyong_domain::access::Role;
use xinyong_domain::catalog::CatalogItem;
use xinyong_store::access::{Account, NewAccount, new_token, token_hash};

use super::session::{Visitor, hash_password, password_problem};
use super::{Chrome, OrPage, WebResult, render};
use crate::api::cases::{CaseList, CaseView, ListParams, Transition};
use crate::api::subjects::queries::{QueriesParams, QueryLog};
use crate::error::ApiError;
use crate::state::AppState;

fn kind_of(kind: &str) -> Result<&'static str, ApiError> {
    match kind {
        "objections" => Ok("objections"),
        "repairs" => Ok("repairs"),
        other => Err(ApiError::not_found(format!("no case kind {other}"))),
    }
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    c: Chrome,
    kind: &'static str,
    heading: &'static str,
    list: CaseList,
    filter: String,
}

#[derive(Deserialize)]
pub struct QueueForm {
    filter: Option<String>,
    page: Option<u32>,
}

/// `/workbench/cases/{objections|repairs}?filter=open|overdue|all`.
pub async fn queue(
    State(state): State<AppState>,
    v: Visitor,
    Path(kind): Path<String>,
    Query(f): Query<QueueForm>,
) -> WebResult {
    let caller = v.signed_in().page(&v)?.caller.clone();
    let kind = kind_of(&kind).page(&v)?;
    let filter = f.filter.unwrap_or_else(|| "open".to_owned());
    let params = ListParams {
        status: None,
        overdue: (filter == "overdue").then_some(true),
        open: (filter == "open").then_some(true),
        unit: None,
        record: None,
        page: f.page,
        per_page: Some(50),
    };
    let t = v.lang.text();
    let (heading, answer) = if kind == "objections" {
        (t.objections, crate::api::cases::list_objections(State(state), caller, Query(params)).await)
    } else {
        (t.repairs, crate::api::cases::list_repairs(State(state), caller, Query(params)).await)
    };
    let Json(list) = answer.page(&v)?;
    render(&QueuePage { c: Chrome::new(&v, heading), kind, heading, list, filter }, &v)
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    c: Chrome,
    kind: &'static str,
    case: CaseView,
    data: Vec<(String, String)>,
    /// The actions this page offers for the case's status.
    actions: Vec<&'static str>,
}

pub async fn case(State(state): State<AppState>, v: Visitor, Path((kind, id)): Path<(String, i64)>) -> WebResult {
    let caller = v.signed_in().page(&v)?.caller.clone();
    let kind = kind_of(&kind).page(&v)?;
    let role = caller.role();
    let Json(case) = if kind == "objections" {
        crate::api::cases::get_objection(State(state), caller, Path(id)).await
    } else {
        crate::api::cases::get_repair(State(state), caller, Path(id)).await
    }
    .page(&v)?;
    // What the status allows; the API still decides who may take each step (409/403 otherwise).
    let actions = match (kind, case.status.as_str(), role) {
        (_, _, Role::Subject) | (_, _, Role::Department) | (_, _, Role::Market) => vec![],
        ("objections", "submitted", Role::Admin) => vec!["accept", "reject"],
        ("objections", "accepted", Role::Admin) => vec!["forward", "decide"],
        ("objections", "forwarded", _) => vec!["decide"],
        ("repairs", "submitted", Role::Admin) => vec!["approve", "refuse"],
        _ => vec![],
    };
    let data = super::people::case_data(&case, v.lang);
    let c = Chrome::new(&v, format!("#{}", case.id));
    render(&CasePage { c, kind, case, data, actions }, &v)
}

#[derive(Deserialize)]
pub struct TransitionForm {
    csrf: String,
    action: String,
    note: Option<String>,
    outcome: Option<String>,
}

pub async fn transition(
    State(state): State<AppState>,
    v: Visitor,
    Path((kind, id)): Path<(String, i64)>,
    Form(f): Form<TransitionForm>,
) -> WebResult {
    let caller = v.check_csrf(&f.csrf).page(&v)?.caller.clone();
    let kind = kind_of(&kind).page(&v)?;
    let t = Transition {
        action: f.action,
        note: f.note.filter(|n| !n.trim().is_empty()),
        outcome: f.outcome.filter(|o| !o.is_empty()),
        fields: Default::default(),
    };
    if kind == "objections" {
        let Json(_) =
            crate::api::cases::objection_transition(State(state), caller, Path(id), Json(t)).await.page(&v)?;
    } else {
        let Json(_) = crate::api::cases::repair_transition(State(state), caller, Path(id), Json(t)).await.page(&v)?;
    }
    Ok(Redirect::to(&format!("/workbench/cases/{kind}/{id}")).into_response())
}

fn require_admin(v: &Visitor) -> WebResult<Account> {
    let account = v.signed_in().page(v)?.account().clone();
    if account.role != Role::Admin {
        return Err(ApiError::forbidden("for administrators only")).page(v);
    }
    Ok(account)
}

#[derive(Template)]
#[template(path = "catalog.html")]
struct CatalogPage {
    c: Chrome,
    items: Vec<CatalogItem>,
    units: Vec<xinyong_domain::catalog::UnitDef>,
    version: u32,
}

pub async fn catalog(State(state): State<AppState>, v: Visitor) -> WebResult {
    require_admin(&v)?;
    let catalog = state.blocking(|store| Ok(store.load_catalog()?)).await.page(&v)?;
    let c = Chrome::new(&v, v.lang.text().catalog);
    render(
        &CatalogPage { c, items: catalog.items().to_vec(), units: catalog.units.clone(), version: catalog.version },
        &v,
    )
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    c: Chrome,
    accounts: Vec<Account>,
    units: Vec<(String, String)>,
    created: Option<(String, String)>,
    problem: Option<String>,
}

async fn accounts_page(
    state: &AppState,
    v: &Visitor,
    created: Option<(String, String)>,
    problem: Option<String>,
) -> WebResult {
    let (accounts, catalog) = state.blocking(|store| Ok((store.accounts()?, store.load_catalog()?))).await.page(v)?;
    let units = catalog.units.iter().map(|u| (u.code.clone(), u.name.clone())).collect();
    let status =
        if problem.is_some() { axum::http::StatusCode::UNPROCESSABLE_ENTITY } else { axum::http::StatusCode::OK };
    let mut r =
        render(&AccountsPage { c: Chrome::new(v, v.lang.text().accounts), accounts, units, created, problem }, v)?;
    *r.status_mut() = status;
    Ok(r)
}

pub async fn accounts(State(state): State<AppState>, v: Visitor) -> WebResult {
    require_admin(&v)?;
    accounts_page(&state, &v, None, None).await
}

#[derive(Deserialize)]
pub struct NewAccountForm {
    csrf: String,
    name: String,
    role: String,
    unit: Option<String>,
    subject: Option<String>,
    password: Option<String>,
}

/// Creates an account with an API token (shown once) and, if given, a sign-in password.
pub async fn add_account(State(state): State<AppState>, v: Visitor, Form(f): Form<NewAccountForm>) -> WebResult {
    v.check_csrf(&f.csrf).page(&v)?;
    require_admin(&v)?;
    let name = f.name.trim().to_owned();
    let unit = f.unit.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
    let subject = f.subject.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let password = f.password.filter(|p| !p.is_empty());
    let problem = |m: String| accounts_page(&state, &v, None, Some(m));
    let Some(role) = Role::parse(&f.role).filter(|r| *r != Role::Public) else {
        return problem(format!("{:?} is not a role", f.role)).await;
    };
    if name.is_empty() || name.chars().count() > 64 {
        return problem("the name must have 1 to 64 characters".into()).await;
    }
    if matches!(role, Role::Supplier | Role::Department | Role::Market) && unit.is_none() {
        return problem(format!("a {} account needs a unit", role.as_str())).await;
    }
    if let Some(p) = password.as_deref().and_then(|p| password_problem(&name, p)) {
        return problem(p.to_owned()).await;
    }
    let today = state.clock.today();
    let subject_key = match (role, subject) {
        (Role::Subject, None) => return problem("a subject account needs the subject's code".into()).await,
        (Role::Subject, Some(key)) => Some(crate::api::subjects::parse_key(&key, today).page(&v)?),
        (_, _) => None,
    };
    let hash = match password {
        Some(p) => Some(
            tokio::task::spawn_blocking(move || hash_password(&p))
                .await
                .map_err(ApiError::internal)
                .and_then(|r| r)
                .page(&v)?,
        ),
        None => None,
    };
    let token = new_token();
    let (now, token_hashed, account_name) = (state.clock.now(), token_hash(&token), name.clone());
    let made = state
        .blocking(move |store| {
            if let Some(u) = &unit
                && !store.load_catalog()?.units.iter().any(|x| &x.code == u)
            {
                return Err(ApiError::unprocessable("unknown_unit", format!("unit {u} is not registered")));
            }
            let subject_id = match subject_key {
                Some(key) => Some(store.find_subject(&key)?.ok_or_else(|| ApiError::not_found("no such subject"))?.id),
                None => None,
            };
            let new =
                NewAccount { name: account_name, unit, role, subject_id, token_hash: token_hashed, created_at: now };
            let account = store.create_account(&new)?;
            if let Some(hash) = hash {
                store.set_password(account.id, &hash, now)?;
            }
            Ok(account)
        })
        .await;
    match made {
        Ok(account) => {
            tracing::info!(account = account.id, role = account.role.as_str(), "account created on the workbench");
            accounts_page(&state, &v, Some((account.name, token)), None).await
        }
        Err(e) if e.status.is_client_error() => problem(e.message).await,
        Err(e) => Err(e).page(&v),
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    key: String,
    log: Option<QueryLog>,
    problem: Option<String>,
}

#[derive(Deserialize)]
pub struct AuditForm {
    key: Option<String>,
    page: Option<u32>,
}

/// The query log of one subject, with the accounts that queried (admins only).
pub async fn audit(State(state): State<AppState>, v: Visitor, Query(f): Query<AuditForm>) -> WebResult {
    require_admin(&v)?;
    let caller = v.signed_in().page(&v)?.caller.clone();
    let key = f.key.unwrap_or_default().trim().to_owned();
    let mut page = AuditPage { c: Chrome::new(&v, v.lang.text().audit), key: key.clone(), log: None, problem: None };
    if !key.is_empty() {
        let params = QueriesParams { page: f.page, per_page: Some(100) };
        match crate::api::subjects::queries::queries(State(state), caller, Path(key), Query(params)).await {
            Ok(Json(log)) => page.log = Some(log),
            Err(e) if e.status.is_client_error() => page.problem = Some(e.message),
            Err(e) => return Err(e).page(&v),
        }
    }
    render(&page, &v)
}

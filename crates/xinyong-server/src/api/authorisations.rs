//! Authorisations (授权): a subject lets a market institution (a unit) query its non-public
//! information until an expiry; it can revoke at any time. Granted by the subject's own account or
//! an admin on its behalf; every grant and revocation is logged.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use xinyong_domain::access::Role;
use xinyong_domain::catalog::Openness;
use xinyong_store::access::{Authorisation, NewAuthorisation};

use crate::audit::Access;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct GrantRequest {
    /// The subject: USCC, resident ID or subject id.
    pub subject: String,
    /// The market institution's unit code.
    pub grantee_unit: String,
    /// RFC 3339 time or a date (valid until the start of that day).
    pub expires_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorisationList {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Authorisation>,
}

fn parse_expiry(s: &str) -> ApiResult<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t);
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request("bad_expiry", "expires_at is an RFC 3339 time or YYYY-MM-DD"))?;
    let midnight = d.and_hms_opt(0, 0, 0).ok_or_else(|| ApiError::bad_request("bad_expiry", "bad date"))?;
    midnight
        .and_local_timezone(crate::state::platform_offset())
        .single()
        .ok_or_else(|| ApiError::bad_request("bad_expiry", "bad date"))
}

fn may_manage(caller: &Caller, subject_id: i64) -> ApiResult<()> {
    let own = caller.account.subject_id == Some(subject_id);
    if own || caller.role() == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden("only the subject itself or an admin manages its authorisations"))
    }
}

#[utoipa::path(post, path = "/api/v1/authorisations", request_body = GrantRequest,
    responses((status = 201, description = "the authorisation"), (status = 403), (status = 404)),
    security(("bearer" = [])), tag = "subjects")]
pub async fn grant(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<GrantRequest>,
) -> ApiResult<(StatusCode, Json<Authorisation>)> {
    let now = state.clock.now();
    let key = super::subjects::parse_key(&req.subject, now.date_naive())?;
    let subject = super::subjects::find(&state, key).await?.ok_or_else(|| ApiError::not_found("no such subject"))?;
    may_manage(&caller, subject.id)?;
    let expires_at = parse_expiry(&req.expires_at)?;
    if expires_at <= now {
        return Err(ApiError::unprocessable("bad_expiry", "the authorisation would already have expired"));
    }
    let new = NewAuthorisation {
        subject_id: subject.id,
        grantee_unit: req.grantee_unit.clone(),
        scope: vec![Openness::Authorised],
        granted_at: now,
        expires_at,
    };
    let access = Access { caller: &caller, action: "authorise", subject_id: Some(subject.id), purpose: None };
    let granted = state
        .blocking(move |store| {
            let catalog = store.load_catalog()?;
            let units = &catalog.units;
            if !units.iter().any(|u| u.code == new.grantee_unit) {
                return Err(ApiError::unprocessable(
                    "unknown_unit",
                    format!("unit {} is not registered", new.grantee_unit),
                ));
            }
            Ok(store.grant_authorisation(&new)?)
        })
        .await?;
    state.auditor.record(access.entry(&*state.clock, "allowed", format!("authorised {}", req.grantee_unit))).await?;
    Ok((StatusCode::CREATED, Json(granted)))
}

#[utoipa::path(delete, path = "/api/v1/authorisations/{id}", params(("id" = i64, Path)),
    responses((status = 200, description = "the revoked authorisation"), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])), tag = "subjects")]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Authorisation>> {
    let now = state.clock.now();
    // A subject may revoke only its own authorisations; admins any.
    let caller_subject = caller.account.subject_id;
    let is_admin = caller.role() == Role::Admin;
    let revoked = state
        .blocking(move |store| {
            if !is_admin {
                let Some(sid) = caller_subject else {
                    return Err(ApiError::forbidden("only the subject itself or an admin manages its authorisations"));
                };
                if !store.authorisations_of(sid)?.iter().any(|a| a.id == id) {
                    return Err(ApiError::not_found("no such authorisation of this subject"));
                }
            }
            Ok(store.revoke_authorisation(id, now)?)
        })
        .await?;
    let access =
        Access { caller: &caller, action: "revoke_authorisation", subject_id: Some(revoked.subject_id), purpose: None };
    state.auditor.record(access.entry(&*state.clock, "allowed", format!("revoked {id}"))).await?;
    Ok(Json(revoked))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<AuthorisationList>> {
    let key = super::subjects::parse_key(&key, state.clock.today())?;
    let subject = super::subjects::find(&state, key).await?.ok_or_else(|| ApiError::not_found("no such subject"))?;
    may_manage(&caller, subject.id)?;
    let sid = subject.id;
    let items = state.blocking(move |store| Ok(store.authorisations_of(sid)?)).await?;
    Ok(Json(AuthorisationList { items }))
}

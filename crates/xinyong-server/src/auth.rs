//! Who is calling: `Authorization: Bearer TOKEN` → an account. Tokens are looked up by their hash;
//! a missing, unknown or disabled token is 401. Every authenticated request passes the per-account
//! rate limit (429). Without a token, a browser session cookie with its CSRF header also identifies the
//! caller (channel `web`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use xinyong_domain::access::{Channel, Role};
use xinyong_store::access::{Account, token_hash};

use crate::error::ApiError;
use crate::state::AppState;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: Account,
    pub request_id: Option<String>,
    /// Through which door the call came (the query log's channel).
    pub channel: Channel,
}

impl Caller {
    pub fn role(&self) -> Role {
        self.account.role
    }

    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.account.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("the {} role may not do this", self.account.role.as_str())))
        }
    }
}

pub fn request_id(parts: &Parts) -> Option<String> {
    parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let Some(header) = header else { return session_caller(parts, state).await };
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("use Authorization: Bearer TOKEN"))?;
        let hash = token_hash(token);
        let account = match state.accounts.get(&hash) {
            Some(a) => a,
            None => {
                let key = hash.clone();
                let found = state.blocking(move |store| Ok(store.account_by_token(&key)?)).await?;
                let found =
                    found.filter(|a| !a.disabled).ok_or_else(|| ApiError::unauthorized("unknown or disabled token"))?;
                state.accounts.put(hash, found.clone());
                found
            }
        };
        state.limits.check(account.id)?;
        Ok(Caller { account, request_id: request_id(parts), channel: Channel::Api })
    }
}

/// A browser calling the API with its session cookie (the workbench's uploads with progress): allowed
/// only with the session's CSRF token in `X-CSRF-Token`, so another site cannot make the call.
async fn session_caller(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    use crate::web::session::{SESSION_COOKIE, constant_time_eq, cookie, session_account};
    let missing = || ApiError::unauthorized("an API token is required (Authorization: Bearer …)");
    let token = cookie(&parts.headers, SESSION_COOKIE).filter(|t| !t.is_empty()).ok_or_else(missing)?;
    let (account, session, _) =
        session_account(state, token).await?.ok_or_else(|| ApiError::unauthorized("the session has ended"))?;
    let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !constant_time_eq(sent.as_bytes(), session.csrf.as_bytes()) {
        return Err(ApiError::forbidden("a session call needs the session's X-CSRF-Token header"));
    }
    state.limits.check(account.id)?;
    Ok(Caller { account, request_id: request_id(parts), channel: Channel::Web })
}

/// Accounts recently seen, by token hash, for a few seconds: saves a store round trip per request.
/// A disabled account or a revoked token stops working within [`AccountCache::TTL`].
#[derive(Default)]
pub struct AccountCache {
    entries: std::sync::RwLock<std::collections::HashMap<Vec<u8>, (Account, std::time::Instant)>>,
}

impl AccountCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(5);
    const MAX: usize = 10_000;

    fn get(&self, hash: &[u8]) -> Option<Account> {
        let entries = self.entries.read().ok()?;
        let (account, at) = entries.get(hash)?;
        (at.elapsed() < Self::TTL).then(|| account.clone())
    }

    fn put(&self, hash: Vec<u8>, account: Account) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= Self::MAX {
                entries.retain(|_, (_, at)| at.elapsed() < Self::TTL);
            }
            entries.insert(hash, (account, std::time::Instant::now()));
        }
    }
}

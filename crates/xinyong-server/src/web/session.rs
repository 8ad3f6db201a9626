//! People signing in: argon2id passwords, lockout after repeated failures, store-backed sessions with
//! idle and absolute timeouts, and CSRF tokens.
//!
//! The session cookie (`xy_session`) is `HttpOnly; SameSite=Lax; Path=/`, `Secure` unless the request
//! is to a loopback host (see [`crate::Settings::secure_cookies`]). It holds a random token that the
//! store keeps only as a hash. Every form of a signed-in page carries the session's CSRF token; the
//! sign-in form, which has no session yet, uses a double-submit cookie (`xy_login`).

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use chrono::Duration;
use xinyong_domain::access::Channel;
use xinyong_store::access::{Account, token_hash};
use xinyong_store::session::{NewSession, Session};

use super::i18n::Lang;
use crate::auth::{Caller, request_id};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "xy_session";
pub const LOGIN_COOKIE: &str = "xy_login";
pub const LANG_COOKIE: &str = "xy_lang";

/// The argon2id hash (PHC string) of a password, with a fresh random salt.
pub fn hash_password(password: &str) -> ApiResult<String> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(ApiError::internal)
}

/// Whether `password` matches the PHC string `hash`. A malformed hash never matches.
pub fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Why a new password is not acceptable, if it is not.
pub fn password_problem(name: &str, password: &str) -> Option<&'static str> {
    if password.chars().count() < 10 {
        Some("the password must have at least 10 characters")
    } else if !name.is_empty() && password.to_lowercase().contains(&name.to_lowercase()) {
        Some("the password must not contain the user name")
    } else {
        None
    }
}

/// A random token for cookies and CSRF fields (32 bytes, hex).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

/// The value of cookie `name` in the request, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Whether cookies set in answer to this request carry `Secure`.
pub fn secure_cookies(state: &AppState, headers: &HeaderMap) -> bool {
    if let Some(fixed) = state.settings.secure_cookies {
        return fixed;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let host =
        host.rsplit_once(':').map_or(host, |(h, port)| if port.chars().all(|c| c.is_ascii_digit()) { h } else { host });
    !matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// A `Set-Cookie` value. `max_age` `Some(0)` deletes the cookie; `None` makes it last the browser session.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        text.push_str("; Secure");
    }
    if let Some(age) = max_age {
        text.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub caller: Caller,
    pub csrf: String,
    pub token_hash: Vec<u8>,
}

impl SignedIn {
    pub fn account(&self) -> &Account {
        &self.caller.account
    }
}

/// The account behind a session token, if the session is still valid. An expired session is ended.
pub async fn session_account(state: &AppState, token: &str) -> ApiResult<Option<(Account, Session, Vec<u8>)>> {
    let hash = token_hash(token);
    let key = hash.clone();
    let found = state
        .blocking(move |store| {
            let Some(session) = store.session(&key)? else { return Ok(None) };
            Ok(store.account(session.account_id)?.map(|a| (a, session)))
        })
        .await?;
    let Some((account, session)) = found else { return Ok(None) };
    let now = state.clock.now();
    let idle = Duration::minutes(i64::from(state.settings.session_idle_minutes));
    let absolute = Duration::hours(i64::from(state.settings.session_absolute_hours));
    if account.disabled || now - session.last_seen_at > idle || now - session.created_at > absolute {
        let key = hash.clone();
        state.blocking(move |store| Ok(store.end_session(&key)?)).await?;
        return Ok(None);
    }
    // Touch at most once a minute: the idle timeout needs no finer grain, and reads stay reads.
    if now - session.last_seen_at > Duration::minutes(1) {
        let key = hash.clone();
        state.blocking(move |store| Ok(store.touch_session(&key, now)?)).await?;
    }
    Ok(Some((account, session, hash)))
}

/// Starts a session for `account`; returns the cookie token.
pub async fn start_session(state: &AppState, account_id: i64) -> ApiResult<String> {
    let token = random_token();
    let new = NewSession { token_hash: token_hash(&token), account_id, csrf: random_token(), at: state.clock.now() };
    state.blocking(move |store| Ok(store.create_session(&new)?)).await?;
    Ok(token)
}

/// Who is looking at a page: signed in or not, and in which language.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub user: Option<SignedIn>,
    pub lang: Lang,
    /// Cookies set in answer carry `Secure`.
    pub secure: bool,
    /// A session cookie was sent but is no longer valid (the page says so).
    pub expired: bool,
    /// Path and query of the page, for links back to it (language switch, sign-in).
    pub here: String,
}

impl Visitor {
    /// The signed-in person, or a 401 that the page layer turns into a sign-in redirect.
    pub fn signed_in(&self) -> ApiResult<&SignedIn> {
        self.user.as_ref().ok_or_else(|| ApiError::unauthorized("sign in first"))
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, sent: &str) -> ApiResult<&SignedIn> {
        let user = self.signed_in()?;
        if constant_time_eq(sent.as_bytes(), user.csrf.as_bytes()) {
            Ok(user)
        } else {
            Err(ApiError::forbidden(
                "the form has expired or did not come from this site: reload the page and try again",
            ))
        }
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = cookie(&parts.headers, LANG_COOKIE).and_then(Lang::parse).unwrap_or(Lang::Zh);
        let secure = secure_cookies(state, &parts.headers);
        let here = parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
        let mut expired = false;
        let mut user = None;
        if let Some(token) = cookie(&parts.headers, SESSION_COOKIE).filter(|t| !t.is_empty()) {
            match session_account(state, token).await? {
                Some((account, session, token_hash)) => {
                    state.limits.check(account.id)?;
                    let caller = Caller { account, request_id: request_id(parts), channel: Channel::Web };
                    user = Some(SignedIn { caller, csrf: session.csrf, token_hash });
                }
                None => expired = true,
            }
        }
        Ok(Visitor { user, lang, secure, expired, here })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery").unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(password_matches("correct horse battery", &hash));
        assert!(!password_matches("correct horse batterz", &hash));
        assert!(!password_matches("correct horse battery", "not a hash"));
    }

    #[test]
    fn short_passwords_and_ones_with_the_name_are_refused() {
        assert!(password_problem("clerk", "short").is_some());
        assert!(password_problem("clerk", "myCLERKpassword").is_some());
        assert!(password_problem("clerk", "a long enough one").is_none());
    }

    #[test]
    fn cookies_are_found_by_name_among_several() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; xy_session=abc ; b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn set_cookie_carries_the_flags() {
        let v = set_cookie(SESSION_COOKIE, "t", true, Some(0));
        assert_eq!(v.to_str().unwrap_or_default(), "xy_session=t; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0");
    }
}

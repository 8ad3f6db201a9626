//! Sign-in, sign-out, password change and the language switch.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use serde::Deserialize;

use super::session::{
    LANG_COOKIE, LOGIN_COOKIE, SESSION_COOKIE, Visitor, constant_time_eq, cookie, hash_password, password_matches,
    password_problem, random_token, set_cookie, start_session,
};
use super::{Chrome, OrPage, WebResult, local_path, render};
use crate::error::ApiError;
use crate::state::AppState;

/// A hash of a random password nobody knows: unknown names are checked against it, so an answer's
/// timing does not tell whether a name exists.
static DECOY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password(&random_token()).unwrap_or_default());

#[derive(Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

pub async fn switch_lang(
    v: Visitor,
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(q): Query<NextParam>,
) -> Response {
    let lang = super::i18n::Lang::parse(&code).unwrap_or(v.lang);
    let mut r = Redirect::to(&local_path(q.next.as_deref(), "/")).into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(LANG_COOKIE, lang.code(), v.secure, Some(365 * 86_400)));
    r
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    token: String,
    next: String,
    name: String,
    problem: Option<String>,
}

fn login_page(v: &Visitor, headers: &HeaderMap, next: String, name: String, problem: Option<String>) -> WebResult {
    // The double-submit token: reuse the cookie's if the browser has one, so two tabs both work.
    let token = cookie(headers, LOGIN_COOKIE).filter(|t| t.len() == 64).map_or_else(random_token, str::to_owned);
    let c = Chrome::new(v, v.lang.text().sign_in);
    let status = if problem.is_some() { axum::http::StatusCode::UNAUTHORIZED } else { axum::http::StatusCode::OK };
    let mut r = render(&LoginPage { c, token: token.clone(), next, name, problem }, v)?;
    *r.status_mut() = status;
    r.headers_mut().append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, &token, v.secure, Some(3600)));
    Ok(r)
}

pub async fn login_form(v: Visitor, headers: HeaderMap, Query(q): Query<NextParam>) -> WebResult {
    if v.user.is_some() {
        return Ok(Redirect::to(&local_path(q.next.as_deref(), "/workbench")).into_response());
    }
    login_page(&v, &headers, local_path(q.next.as_deref(), "/workbench"), String::new(), None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    token: String,
    next: Option<String>,
}

/// The client's address for the sign-in throttle: the peer's, or behind a trusted load balancer the
/// last `X-Forwarded-For` entry (the one the balancer appended). `None` when neither is known.
fn client_address(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
    if state.settings.trust_forwarded_for
        && let Some(last) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
        && let Ok(addr) = last.trim().parse()
    {
        return Some(addr);
    }
    peer.map(|p| p.ip())
}

pub async fn login(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    Form(f): Form<LoginForm>,
) -> WebResult {
    let t = v.lang.text();
    let next = local_path(f.next.as_deref(), "/workbench");
    let sent = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if sent.is_empty() || !constant_time_eq(sent.as_bytes(), f.token.as_bytes()) {
        return Err(ApiError::forbidden("the sign-in form has expired: reload the page and try again")).page(&v);
    }
    let name = f.name.trim().to_owned();
    let now = state.clock.now();
    let address = client_address(&state, &headers, peer.map(|Extension(ConnectInfo(p))| p));
    let blocked = match address {
        Some(a) => {
            let throttle = Arc::clone(&state.login_throttle);
            state
                .blocking(move |store| Ok(throttle.blocked_until(store, a, now)?))
                .await
                .page(&v)?
                .map(|until| (a, until))
        }
        None => None,
    };
    if let Some((a, until)) = blocked {
        tracing::warn!(address = %a, until = %until.to_rfc3339(), "sign-in refused: too many failures from this address");
        let mut page = login_page(&v, &headers, next, name, Some(t.address_throttled.to_owned()))?;
        *page.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
        return Ok(page);
    }
    let failed = |state: &AppState| {
        let (state, throttle) = (state.clone(), Arc::clone(&state.login_throttle));
        async move {
            match address {
                Some(a) => state.blocking(move |store| Ok(throttle.failed(store, a, now)?)).await,
                None => Ok(()),
            }
        }
    };
    let key = name.clone();
    let creds = state.blocking(move |store| Ok(store.credentials(&key)?)).await.page(&v)?;
    let Some(creds) = creds.filter(|c| !c.account.disabled) else {
        // Same work as a real check, same answer.
        let password = f.password.clone();
        let _ = tokio::task::spawn_blocking(move || password_matches(&password, &DECOY_HASH)).await;
        tracing::warn!(name = %name, "sign-in with an unknown or disabled account");
        failed(&state).await.page(&v)?;
        return login_page(&v, &headers, next, name, Some(t.bad_login.to_owned()));
    };
    if creds.locked_until.is_some_and(|until| until > now) {
        tracing::warn!(account = creds.account.id, "sign-in to a locked account");
        failed(&state).await.page(&v)?;
        return login_page(&v, &headers, next, name, Some(t.locked.to_owned()));
    }
    let Some(hash) = creds.password_hash.clone() else {
        return login_page(&v, &headers, next, name, Some(t.no_password.to_owned()));
    };
    let password = f.password.clone();
    let matches = tokio::task::spawn_blocking(move || password_matches(&password, &hash))
        .await
        .map_err(ApiError::internal)
        .page(&v)?;
    let id = creds.account.id;
    if !matches {
        let failures = creds.failed_logins + 1;
        let lock = (failures >= state.settings.login_max_failures)
            .then(|| now + Duration::minutes(i64::from(state.settings.login_lockout_minutes)));
        failed(&state).await.page(&v)?;
        state.blocking(move |store| Ok(store.login_failed(id, lock)?)).await.page(&v)?;
        tracing::warn!(account = id, failures, locked = lock.is_some(), "failed sign-in");
        let message = if lock.is_some() { t.locked } else { t.bad_login };
        return login_page(&v, &headers, next, name, Some(message.to_owned()));
    }
    state.blocking(move |store| Ok(store.login_succeeded(id)?)).await.page(&v)?;
    let token = start_session(&state, id).await.page(&v)?;
    tracing::info!(account = id, "signed in");
    let mut r = Redirect::to(&next).into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &token, v.secure, None));
    r.headers_mut().append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", v.secure, Some(0)));
    Ok(r)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(State(state): State<AppState>, v: Visitor, Form(f): Form<CsrfForm>) -> WebResult {
    if let Some(user) = &v.user {
        v.check_csrf(&f.csrf).page(&v)?;
        let hash = user.token_hash.clone();
        state.blocking(move |store| Ok(store.end_session(&hash)?)).await.page(&v)?;
    }
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", v.secure, Some(0)));
    Ok(r)
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    c: Chrome,
    problem: Option<String>,
}

pub async fn password_form(v: Visitor) -> WebResult {
    v.signed_in().page(&v)?;
    render(&PasswordPage { c: Chrome::new(&v, v.lang.text().change_password), problem: None }, &v)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
    repeat: String,
}

pub async fn change_password(State(state): State<AppState>, v: Visitor, Form(f): Form<PasswordForm>) -> WebResult {
    let user = v.check_csrf(&f.csrf).page(&v)?.clone();
    let t = v.lang.text();
    let again = |problem: &str| -> WebResult {
        let c = Chrome::new(&v, t.change_password);
        let mut r = render(&PasswordPage { c, problem: Some(problem.to_owned()) }, &v)?;
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        Ok(r)
    };
    let name = user.account().name.clone();
    let key = name.clone();
    let creds = state.blocking(move |store| Ok(store.credentials(&key)?)).await.page(&v)?;
    let current_hash = creds.and_then(|c| c.password_hash).unwrap_or_default();
    let current = f.current.clone();
    let ok = tokio::task::spawn_blocking(move || password_matches(&current, &current_hash))
        .await
        .map_err(ApiError::internal)
        .page(&v)?;
    if !ok {
        return again(t.bad_login);
    }
    if f.new != f.repeat {
        return again("两次输入的新密码不一致 / the two new passwords differ");
    }
    if f.new == f.current {
        return again("新密码不能与当前密码相同 / the new password must differ from the current one");
    }
    if let Some(problem) = password_problem(&name, &f.new) {
        return again(&format!("{} / {problem}", t.password_rule));
    }
    let new = f.new.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(ApiError::internal)
        .page(&v)?
        .page(&v)?;
    let (id, now) = (user.account().id, state.clock.now());
    // Setting the password ends every session of the account; this browser gets a fresh one.
    state.blocking(move |store| Ok(store.set_password(id, &hash, now)?)).await.page(&v)?;
    let token = start_session(&state, id).await.page(&v)?;
    tracing::info!(account = id, "password changed");
    let mut r = Redirect::to("/workbench?changed=1").into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &token, v.secure, None));
    Ok(r)
}

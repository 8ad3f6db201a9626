//! The web portal and workbench: server-rendered pages in Simplified Chinese (English on request),
//! usable without JavaScript wherever a form can do the job.
//!
//! Pages never reach the store with rules of their own: they call the same handlers as the API
//! (`crate::api::…`) with the signed-in person as the caller (channel `web`), so masking, purposes,
//! workflow rules and the query log are the API's. Templates are askama files in `templates/`,
//! escaped by default; the stylesheet, the small script and the charts come from this binary (no CDN).

pub mod account;
pub mod admin;
pub mod chart;
pub mod dashboard;
pub mod i18n;
pub mod people;
pub mod public;
pub mod reports;
pub mod session;
pub mod supplier;
pub mod view;

use askama::Template;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use xinyong_domain::access::Role;

use crate::error::ApiError;
use crate::state::AppState;
use i18n::{Lang, Text};
use session::Visitor;

/// What every page shows around its content: language, who is signed in, the CSRF token for forms.
pub struct Chrome {
    pub t: &'static Text,
    pub lang: Lang,
    pub title: String,
    pub user: Option<UserBar>,
    pub csrf: String,
    pub here: String,
    /// A one-line notice above the content (e.g. "password changed").
    pub flash: Option<String>,
}

pub struct UserBar {
    pub name: String,
    pub role: Role,
    pub role_label: &'static str,
}

impl Chrome {
    pub fn new(v: &Visitor, title: impl Into<String>) -> Chrome {
        let user = v.user.as_ref().map(|u| UserBar {
            name: u.account().name.clone(),
            role: u.account().role,
            role_label: role_label(u.account().role, v.lang),
        });
        Chrome {
            t: v.lang.text(),
            lang: v.lang,
            title: title.into(),
            user,
            csrf: v.user.as_ref().map(|u| u.csrf.clone()).unwrap_or_default(),
            here: v.here.clone(),
            flash: v.expired.then(|| v.lang.text().session_ended.to_owned()),
        }
    }

    pub fn with_flash(mut self, flash: impl Into<String>) -> Chrome {
        self.flash = Some(flash.into());
        self
    }

    /// The role of the signed-in person, if any (templates show each role its own menu).
    pub fn is(&self, role: &str) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.as_str() == role)
    }

    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "en",
            Lang::En => "zh",
        }
    }
}

pub fn role_label(role: Role, lang: Lang) -> &'static str {
    match (role, lang) {
        (Role::Admin, Lang::Zh) => "平台管理员",
        (Role::Supplier, Lang::Zh) => "信息提供单位",
        (Role::Department, Lang::Zh) => "政府部门",
        (Role::Market, Lang::Zh) => "市场机构",
        (Role::Subject, Lang::Zh) => "信用主体",
        (Role::Admin, Lang::En) => "administrator",
        (Role::Supplier, Lang::En) => "supplying unit",
        (Role::Department, Lang::En) => "department",
        (Role::Market, Lang::En) => "market institution",
        (Role::Subject, Lang::En) => "credit subject",
        (Role::Public, Lang::Zh) => "社会公众",
        (Role::Public, Lang::En) => "the public",
    }
}

/// A page's failure, shown as a page in the visitor's language (401 becomes a sign-in redirect).
#[derive(Debug)]
pub struct WebError {
    pub error: ApiError,
    pub lang: Lang,
    pub here: String,
}

pub type WebResult<T = Response> = Result<T, WebError>;

/// Attaches the visitor's language to an API error.
pub trait OrPage<T> {
    fn page(self, v: &Visitor) -> WebResult<T>;
}

impl<T> OrPage<T> for Result<T, ApiError> {
    fn page(self, v: &Visitor) -> WebResult<T> {
        self.map_err(|error| WebError { error, lang: v.lang, here: v.here.clone() })
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    t: &'static Text,
    lang: Lang,
    status: u16,
    heading: &'a str,
    message: &'a str,
}

/// An error page outside any handler (axum's own rejections on page routes).
pub fn error_page(status: StatusCode, message: &str, lang: Lang) -> Response {
    let t = lang.text();
    let heading = match status {
        StatusCode::NOT_FOUND => t.not_found,
        StatusCode::FORBIDDEN => t.forbidden,
        _ => t.error,
    };
    let page = ErrorPage { t, lang, status: status.as_u16(), heading, message };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, message.to_owned()).into_response(),
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if self.error.status == StatusCode::UNAUTHORIZED {
            let next = urlencode(&self.here);
            return Redirect::to(&format!("/login?next={next}")).into_response();
        }
        error_page(self.error.status, &self.error.message, self.lang)
    }
}

/// Renders a template as a page.
pub fn render(page: &impl Template, v: &Visitor) -> WebResult {
    page.render().map(|html| Html(html).into_response()).map_err(ApiError::internal).page(v)
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An optional date field of a form (`YYYY-MM-DD`; empty means absent), with an error naming the field.
pub fn form_date(field: &str, value: Option<&str>) -> Result<Option<chrono::NaiveDate>, ApiError> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::bad_request("bad_date", format!("{field}: {text:?} is not a date (YYYY-MM-DD)"))),
    }
}

/// The purposes a role may name (code, Chinese name), for the purpose selects of forms.
pub fn purposes_for(role: Role) -> Vec<(&'static str, &'static str)> {
    use xinyong_domain::access::{Purpose, may_use_purpose};
    Purpose::all().filter(|p| may_use_purpose(role, *p)).map(|p| (p.code(), p.label())).collect()
}

/// The government scenarios of joint reward/punishment checks (code, Chinese name).
pub fn scenarios() -> Vec<(&'static str, &'static str)> {
    use xinyong_domain::access::Purpose;
    Purpose::all().filter(|p| p.is_government()).map(|p| (p.code(), p.label())).collect()
}

/// A local path to go to after a form, never another site (`//evil`, `https://…`).
pub fn local_path(next: Option<&str>, default: &str) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => default.to_owned(),
    }
}

/// Security headers of every page: no framing, scripts and styles from this origin only.
async fn page_headers(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn stylesheet() -> Response {
    static_file("text/css; charset=utf-8", include_str!("../../static/app.css"))
}

async fn script() -> Response {
    static_file("text/javascript; charset=utf-8", include_str!("../../static/app.js"))
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}

/// The page routes. Uploads take the batch size limit; other forms the JSON limit.
pub fn router(state: &AppState) -> Router<AppState> {
    let settings = state.settings.clone();
    let pages = Router::new()
        .route("/", get(public::home))
        .route("/search", get(public::search))
        .route("/s/{id}", get(public::subject))
        .route("/publicity/{kind}", get(public::publicity))
        .route("/rules", get(public::rules))
        .route("/lang/{code}", get(account::switch_lang))
        .route("/login", get(account::login_form).post(account::login))
        .route("/logout", post(account::logout))
        .route("/account/password", get(account::password_form).post(account::change_password))
        .route("/workbench", get(people::workbench))
        .route("/workbench/batches", get(supplier::batches))
        .route("/workbench/batches/{id}", get(supplier::batch))
        .route("/workbench/batches/{id}/errors.csv", get(supplier::errors_csv))
        .route("/workbench/batches/{id}/errors.xlsx", get(supplier::errors_xlsx))
        .route("/workbench/batches/{id}/rejected.csv", get(supplier::rejected_csv))
        .route("/workbench/batches/{id}/rejected.xlsx", get(supplier::rejected_xlsx))
        .route("/workbench/query", get(people::query))
        .route("/workbench/check", get(people::check_form).post(people::check))
        .route("/workbench/checks/{id}", get(people::check_page))
        .route("/workbench/checks/{id}/feedback", post(people::feedback))
        .route("/workbench/me", get(people::me))
        .route("/workbench/objections", post(people::file_objection))
        .route("/workbench/repairs", post(people::apply_repair))
        .route("/workbench/cases/{kind}", get(admin::queue))
        .route("/workbench/cases/{kind}/{id}", get(admin::case).post(admin::transition))
        .route("/workbench/catalog", get(admin::catalog))
        .route("/workbench/accounts", get(admin::accounts).post(admin::add_account))
        .route("/workbench/audit", get(admin::audit))
        .route("/workbench/reports", get(reports::report_form).post(reports::issue))
        .route("/workbench/reports/{id}", get(reports::issued))
        .route("/workbench/reports/{id}/{ext}", get(reports::file))
        .route("/verify/{number}", get(reports::verify_number))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .layer(DefaultBodyLimit::max(settings.max_body_bytes));
    let uploads = Router::new()
        .route("/workbench/upload", get(supplier::upload_form).post(supplier::upload))
        .layer(DefaultBodyLimit::disable());
    // A report file to verify: PDFs of long reports run to a few MiB.
    let verify = Router::new()
        .route("/verify", get(reports::verify_form).post(reports::verify_upload))
        .layer(DefaultBodyLimit::max(32 << 20));
    pages.merge(uploads).merge(verify).layer(axum::middleware::from_fn(page_headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/workbench?x=1"), "/"), "/workbench?x=1");
        assert_eq!(local_path(Some("//evil.example"), "/"), "/");
        assert_eq!(local_path(Some("https://evil.example"), "/"), "/");
        assert_eq!(local_path(Some("/\\evil"), "/"), "/");
        assert_eq!(local_path(None, "/workbench"), "/workbench");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(urlencode("/s/1?a=b&c"), "/s/1%3Fa%3Db%26c");
        assert_eq!(urlencode("上海"), "%E4%B8%8A%E6%B5%B7");
    }
}

//! The web portal and workbench over HTTP, as a browser without JavaScript uses them: pages, cookies,
//! forms with CSRF tokens, sign-in with lockout, sessions with timeouts, uploads, workflows.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use xinyong_domain::access::Role;
use xinyong_store::access::token_hash;
use xinyong_store::session::NewSession;

use super::{NOW, TestApp, off_runtime, seed};

const PASSWORD: &str = "correct horse battery";

/// A cookie-keeping client that does not follow redirects.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The value of the first hidden input named `name`.
    fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start =
            self.body.find(&marker).unwrap_or_else(|| panic!("no {name} field in {}", self.body)) + marker.len();
        self.body[start..].split('"').next().unwrap().to_owned()
    }
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
        Browser::with_headers(app, HeaderMap::new())
    }

    /// A browser whose requests arrive through a load balancer that appends `chain`'s last address.
    fn behind_proxy(app: &TestApp, chain: &str) -> Browser {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", chain.parse().unwrap());
        Browser::with_headers(app, headers)
    }

    fn with_headers(app: &TestApp, mut headers: HeaderMap) -> Browser {
        headers.insert(reqwest::header::ACCEPT, "text/html,application/xhtml+xml".parse().unwrap());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap();
        Browser { base: app.base.clone(), http, cookies: BTreeMap::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn finish(&mut self, resp: reqwest::Response) -> Page {
        for v in resp.headers().get_all(SET_COOKIE) {
            let text = v.to_str().unwrap();
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (k, val) = pair.split_once('=').unwrap();
            if val.is_empty() || attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        let (status, headers) = (resp.status(), resp.headers().clone());
        Page { status, headers, body: resp.text().await.unwrap() }
    }

    async fn get(&mut self, path: &str) -> Page {
        let resp =
            self.http.get(format!("{}{path}", self.base)).header("cookie", self.cookie_header()).send().await.unwrap();
        self.finish(resp).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(form))
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }

    async fn sign_in(&mut self, name: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        let token = form.hidden("token");
        self.post("/login", &[("name", name), ("password", password), ("token", &token), ("next", "/workbench")]).await
    }

    /// The CSRF token of the signed-in session, read from a page's forms.
    async fn csrf(&mut self) -> String {
        self.get("/account/password").await.hidden("csrf")
    }
}

fn encode(form: &[(&str, &str)]) -> String {
    use xinyong_server::web::urlencode;
    form.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&")
}

fn with_password(app: &TestApp, name: &str, role: Role, unit: Option<&str>, subject: Option<i64>) {
    app.account(name, role, unit, subject);
    let hash = xinyong_server::web::session::hash_password(PASSWORD).unwrap();
    off_runtime(|| {
        let id = app.store.credentials(name).unwrap().unwrap().account.id;
        app.store.set_password(id, &hash, DateTime::parse_from_rfc3339(NOW).unwrap()).unwrap();
    });
}

#[tokio::test]
async fn public_pages_search_and_show_published_records_without_sign_in() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app);
    let mut b = Browser::new(&app);
    let home = b.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("<html lang=\"zh-CN\">") && home.body.contains("公共信用信息服务平台"));
    let csp = home.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(home.headers.get("x-frame-options").unwrap(), "DENY");

    let results = b.get("/search?q=%E6%B5%8B%E8%AF%951").await; // 测试1
    assert!(results.body.contains(&seeded.company.name), "{}", results.body);
    let id = app.subject_id(&seeded.company);
    let page = b.get(&format!("/s/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("沪罚〔2026〕1号") && page.body.contains("行政处罚决定书文号"), "{}", page.body);
    assert!(page.body.contains("失信被执行人"), "public list membership shown");
    assert!(!page.body.contains("沪税欠〔2026〕7号"), "authorised-only records stay off the public page");
    // A natural person has no public page; search does not show people to the public.
    let person = app.subject_id(&seeded.person);
    assert_eq!(b.get(&format!("/s/{person}")).await.status, StatusCode::NOT_FOUND);
    assert!(!b.get("/search?q=%E5%BC%A0%E4%B8%89").await.body.contains("张三丰"));

    let penalties = b.get("/publicity/penalties").await;
    assert!(penalties.body.contains("沪罚〔2026〕1号"));
    assert!(penalties.body.contains("张*"), "a person's name is masked in publication");
    assert!(!penalties.body.contains("张三丰"));
    let bad = b.get("/publicity/penalties?from=2026-13-01").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("2026-13-01") && bad.headers.get("content-type").unwrap().to_str().unwrap().contains("html")
    );
    assert!(b.get("/rules").await.body.contains("个工作日"));

    // English on request, remembered in a cookie.
    let switched = b.get("/lang/en?next=/rules").await;
    assert_eq!((switched.status, switched.location()), (StatusCode::SEE_OTHER, "/rules"));
    let rules = b.get("/rules").await;
    assert!(rules.body.contains("<html lang=\"en\">") && rules.body.contains("working days"));
    // Unknown pages are pages; unknown API paths stay JSON.
    let missing = b.get("/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("<!doctype html>"));
    let (status, body) = app.get("/api/v1/nothing", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}

#[tokio::test]
async fn sign_in_sets_a_safe_cookie_and_repeated_failures_lock_the_account() {
    let app = TestApp::spawn().await;
    with_password(&app, "clerk", Role::Supplier, Some("sh_amr"), None);
    let mut b = Browser::new(&app);
    let anonymous = b.get("/workbench").await;
    assert_eq!((anonymous.status, anonymous.location()), (StatusCode::SEE_OTHER, "/login?next=/workbench"));

    // The sign-in form's token must match its cookie.
    let forged = b.post("/login", &[("name", "clerk"), ("password", PASSWORD), ("token", "x")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let wrong = b.sign_in("clerk", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("用户名或密码错误"));
    assert!(b.sign_in("nobody", PASSWORD).await.body.contains("用户名或密码错误"), "same answer for unknown names");

    let ok = b.sign_in("clerk", PASSWORD).await;
    assert_eq!((ok.status, ok.location()), (StatusCode::SEE_OTHER, "/workbench"));
    let cookie =
        ok.headers.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap()).find(|c| c.starts_with("xy_session="));
    let cookie = cookie.unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP to a loopback host (the demo) gets no Secure flag");
    let bench = b.get("/workbench").await;
    assert!(bench.body.contains("clerk") && bench.body.contains("上报数据"), "{}", bench.body);

    // A form without the session's CSRF token is refused.
    let forged = b.post("/logout", &[("csrf", "nope")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let csrf = b.csrf().await;
    let out = b.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!((out.status, out.location()), (StatusCode::SEE_OTHER, "/"));
    assert_eq!(b.get("/workbench").await.status, StatusCode::SEE_OTHER);

    // Five failures in a row lock the account: then even the right password is refused.
    for _ in 0..5 {
        b.sign_in("clerk", "wrong wrong wrong").await;
    }
    let locked = b.sign_in("clerk", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED);
    assert!(locked.body.contains("锁定"), "{}", locked.body);
}

/// Password spraying: failures from one address across many accounts (none of them locked by its own
/// count) stop that address's password checks, and only that address's.
#[tokio::test]
async fn failed_sign_ins_from_one_address_across_accounts_stop_that_address() {
    let settings = xinyong_server::Settings { login_address_max_failures: 4, ..Default::default() };
    let app = TestApp::spawn_with(settings).await;
    for name in ["a1", "a2", "a3"] {
        with_password(&app, name, Role::Department, Some("sh_housing"), None);
    }
    let mut b = Browser::new(&app);
    for name in ["a1", "a2", "nobody", "a3"] {
        assert_eq!(b.sign_in(name, "spring2026!").await.status, StatusCode::UNAUTHORIZED);
    }
    let stopped = b.sign_in("a2", PASSWORD).await;
    assert_eq!(stopped.status, StatusCode::TOO_MANY_REQUESTS, "{}", stopped.body);
    assert!(stopped.body.contains("本机所在网络登录失败次数过多"), "{}", stopped.body);
    let a2 = off_runtime(|| app.store.credentials("a2").unwrap().unwrap());
    assert!(a2.locked_until.is_none() && a2.failed_logins == 1, "the account itself is not locked: {a2:?}");

    // Behind a trusted load balancer the address is the last X-Forwarded-For entry.
    let settings =
        xinyong_server::Settings { login_address_max_failures: 2, trust_forwarded_for: true, ..Default::default() };
    let app = TestApp::spawn_with(settings).await;
    with_password(&app, "a1", Role::Department, Some("sh_housing"), None);
    let mut sprayer = Browser::behind_proxy(&app, "10.0.0.1, 198.51.100.7");
    let mut sprayer_again = Browser::behind_proxy(&app, "10.0.0.2, 198.51.100.7");
    let mut clerk = Browser::behind_proxy(&app, "10.0.0.1, 198.51.100.8");
    sprayer.sign_in("a1", "wrong one").await;
    sprayer.sign_in("nobody", "wrong two").await;
    let stopped = sprayer_again.sign_in("a1", PASSWORD).await;
    assert_eq!(stopped.status, StatusCode::TOO_MANY_REQUESTS, "the client-chosen first entry does not matter");
    let ok = clerk.sign_in("a1", PASSWORD).await;
    assert_eq!((ok.status, ok.location()), (StatusCode::SEE_OTHER, "/workbench"), "another address signs in");
}

/// Servers behind one load balancer count an address's failures together (in the store): two failures
/// on each of two servers reach a limit of four.
#[tokio::test]
async fn the_address_throttle_counts_the_failures_of_every_server() {
    let settings =
        xinyong_server::Settings { login_address_max_failures: 4, trust_forwarded_for: true, ..Default::default() };
    let one = TestApp::spawn_with(settings.clone()).await;
    let two = one.beside(settings).await;
    with_password(&one, "a1", Role::Department, Some("sh_housing"), None);
    let mut on_one = Browser::behind_proxy(&one, "10.0.0.1, 198.51.100.7");
    let mut on_two = Browser::behind_proxy(&two, "10.0.0.2, 198.51.100.7");
    for name in ["nobody", "a1"] {
        assert_eq!(on_one.sign_in(name, "wrong").await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(on_two.sign_in(name, "wrong").await.status, StatusCode::UNAUTHORIZED);
    }
    let stopped = on_two.sign_in("a1", PASSWORD).await;
    assert_eq!(stopped.status, StatusCode::TOO_MANY_REQUESTS, "{}", stopped.body);
    let stopped = on_one.sign_in("a1", PASSWORD).await;
    assert_eq!(stopped.status, StatusCode::TOO_MANY_REQUESTS, "{}", stopped.body);
    let mut clerk = Browser::behind_proxy(&two, "10.0.0.2, 198.51.100.8");
    let ok = clerk.sign_in("a1", PASSWORD).await;
    assert_eq!((ok.status, ok.location()), (StatusCode::SEE_OTHER, "/workbench"), "another address signs in");
}

#[tokio::test]
async fn sessions_end_when_idle_or_too_old_and_the_api_needs_the_csrf_header() {
    let settings = xinyong_server::Settings { secure_cookies: Some(true), ..Default::default() };
    let app = TestApp::spawn_with(settings).await;
    with_password(&app, "dept", Role::Department, Some("sh_housing"), None);
    let now = DateTime::parse_from_rfc3339(NOW).unwrap();
    let id = off_runtime(|| app.store.credentials("dept").unwrap().unwrap().account.id);
    let session = |token: &str, at| NewSession { token_hash: token_hash(token), account_id: id, csrf: "c".into(), at };
    off_runtime(|| {
        app.store.create_session(&session("idle", now - Duration::minutes(31))).unwrap();
        app.store.create_session(&session("fresh", now - Duration::minutes(5))).unwrap();
    });
    let mut b = Browser::new(&app);
    b.cookies.insert("xy_session".into(), "idle".into());
    let page = b.get("/workbench").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "an idle session no longer signs in");
    assert!(off_runtime(|| app.store.session(&token_hash("idle")).unwrap()).is_none(), "and it was ended");

    b.cookies.insert("xy_session".into(), "fresh".into());
    assert_eq!(b.get("/workbench").await.status, StatusCode::OK);
    // The API accepts the session cookie only with the session's CSRF token in a header.
    let api = |csrf: Option<&str>| {
        let mut req = b.http.get(format!("{}/api/v1/stats/collection", app.base)).header("cookie", "xy_session=fresh");
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        req.send()
    };
    assert_eq!(api(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(api(Some("c")).await.unwrap().status(), StatusCode::OK);

    // With secure_cookies on, the cookie carries Secure.
    let mut b = Browser::new(&app);
    let ok = b.sign_in("dept", PASSWORD).await;
    let cookie = ok.headers.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert!(cookie.iter().any(|c| c.starts_with("xy_session=") && c.contains("; Secure")), "{cookie:?}");
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    with_password(&app, "clerk", Role::Supplier, Some("sh_amr"), None);
    let mut first = Browser::new(&app);
    let mut second = Browser::new(&app);
    first.sign_in("clerk", PASSWORD).await;
    second.sign_in("clerk", PASSWORD).await;
    let csrf = first.csrf().await;
    let wrong = first
        .post(
            "/account/password",
            &[("csrf", &csrf), ("current", "bad"), ("new", "a new long one"), ("repeat", "a new long one")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let short = first
        .post("/account/password", &[("csrf", &csrf), ("current", PASSWORD), ("new", "short"), ("repeat", "short")])
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done = first
        .post(
            "/account/password",
            &[("csrf", &csrf), ("current", PASSWORD), ("new", "a new long one"), ("repeat", "a new long one")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(first.get("/workbench").await.status, StatusCode::OK, "this browser stays signed in");
    assert_eq!(second.get("/workbench").await.status, StatusCode::SEE_OTHER, "the other session ended");
    assert_eq!(second.sign_in("clerk", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(second.sign_in("clerk", "a new long one").await.status, StatusCode::SEE_OTHER);
}

fn multipart(fields: &[(&str, &str)], file_name: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----xinyongtestboundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub const PENALTY_CSV: &str = "行政相对人名称,行政相对人类别,统一社会信用代码,法定代表人,行政处罚决定书文号,违法行为类型,违法事实,处罚依据,处罚类别,处罚内容,罚款金额(万元),处罚决定日期,处罚机关,处罚机关统一社会信用代码,数据来源单位,数据来源单位统一社会信用代码,失信严重程度\n\
上海夏澜文化传媒有限公司,法人及非法人组织,91310117MA17QJCF89,马平,沪市监罚〔2026〕501号,未按规定公示年度报告,当事人未按规定期限公示年度报告。,《企业信息公示暂行条例》第十八条,罚款,罚款人民币5600元,0.56,2026-10-08,上海市松江区市场监督管理局,11310117240000122T,上海市市场监督管理局,11310000240000990F,一般\n\
上海坏码贸易有限公司,法人及非法人组织,91310117MA17QJCF88,赵六,沪市监罚〔2026〕502号,价格违法,当事人未明码标价。,《价格法》第四十二条,罚款,罚款人民币1000元,0.1,2026-10-09,上海市松江区市场监督管理局,11310117240000122T,上海市市场监督管理局,11310000240000990F,一般\n";

#[tokio::test]
async fn a_supplier_uploads_a_batch_and_downloads_the_rejected_rows_reasons() {
    let app = TestApp::spawn().await;
    with_password(&app, "clerk", Role::Supplier, Some("sh_amr"), None);
    let mut b = Browser::new(&app);
    b.sign_in("clerk", PASSWORD).await;
    let form = b.get("/workbench/upload").await;
    assert!(form.body.contains("value=\"sh_amr|admin_penalty\""), "{}", form.body);
    let csrf = form.hidden("csrf");
    let (content_type, body) =
        multipart(&[("csrf", &csrf), ("target", "sh_amr|admin_penalty")], "penalties.csv", PENALTY_CSV.as_bytes());
    let resp = b
        .http
        .post(format!("{}/workbench/upload", app.base))
        .header("cookie", b.cookie_header())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let done = b.finish(resp).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let result = b.get(done.location()).await;
    assert!(
        result.body.contains("id=\"accepted\">1<") && result.body.contains("id=\"rejected\">1<"),
        "{}",
        result.body
    );
    assert!(result.body.contains("bad_check_digit"), "the error row's reason is on the page");
    let csv = b.get(&format!("{}/errors.csv", done.location())).await;
    assert!(csv.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/csv"));
    assert!(csv.body.contains("行号 row") && csv.body.contains("\n3,"), "{}", csv.body);
    let xlsx = b.get(&format!("{}/errors.xlsx", done.location())).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.body.starts_with("PK"), "an XLSX file is a zip");
    assert!(result.body.contains("/rejected.csv"), "the page links the rejected rows");
    let rejected = b.get(&format!("{}/rejected.csv", done.location())).await;
    assert_eq!(rejected.status, StatusCode::OK);
    assert!(rejected.body.contains("行号 row,错误 errors,行政相对人名称,"), "{}", rejected.body);
    assert!(rejected.body.contains("\n3,") && rejected.body.contains(",上海坏码贸易有限公司,"), "{}", rejected.body);
    let rejected = b.get(&format!("{}/rejected.xlsx", done.location())).await;
    assert_eq!(rejected.status, StatusCode::OK);
    assert!(rejected.body.starts_with("PK"), "an XLSX file is a zip");
    let history = b.get("/workbench/batches").await;
    assert!(history.body.contains("50.0%"), "{}", history.body);

    // Without the form's CSRF token nothing is stored.
    let (content_type, body) =
        multipart(&[("csrf", "forged"), ("target", "sh_amr|admin_penalty")], "p.csv", PENALTY_CSV.as_bytes());
    let resp = b
        .http
        .post(format!("{}/workbench/upload", app.base))
        .header("cookie", b.cookie_header())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(off_runtime(|| app.store.recent_batches(10).unwrap()).len(), 1);
}

#[tokio::test]
async fn a_subject_objects_on_the_web_and_the_centre_decides_there() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app);
    let company = app.subject_id(&seeded.company);
    with_password(&app, "firm", Role::Subject, None, Some(company));
    with_password(&app, "centre", Role::Admin, None, None);
    let mut firm = Browser::new(&app);
    firm.sign_in("firm", PASSWORD).await;
    let me = firm.get("/workbench/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(me.body.contains("沪罚〔2026〕1号") && me.body.contains("提出异议"), "{}", me.body);
    let record = off_runtime(|| app.store.records_of(company).unwrap())
        .into_iter()
        .find(|r| r.item == "admin_penalty")
        .unwrap()
        .id
        .to_string();
    let csrf = me.hidden("csrf");
    let filed = firm
        .post(
            "/workbench/objections",
            &[("csrf", &csrf), ("record", &record), ("reason", "罚款已缴清，金额有误"), ("evidence", "缴款凭证.pdf")],
        )
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let case_path = filed.location().to_owned();
    let case = firm.get(&case_path).await;
    assert!(case.body.contains("submitted") && case.body.contains("罚款已缴清"), "{}", case.body);
    assert!(!case.body.contains("id=\"transition\""), "the subject takes no steps itself");
    assert!(firm.get("/workbench/me").await.body.contains("异议处理中"), "the record shows as disputed");

    let mut centre = Browser::new(&app);
    centre.sign_in("centre", PASSWORD).await;
    let queue = centre.get("/workbench/cases/objections").await;
    assert!(queue.body.contains(&case_path), "{}", queue.body);
    let page = centre.get(&case_path).await;
    let csrf = page.hidden("csrf");
    assert_eq!(centre.post(&case_path, &[("csrf", &csrf), ("action", "accept")]).await.status, StatusCode::SEE_OTHER);
    // A step the status does not allow is refused with the API's reason.
    let wrong = centre.post(&case_path, &[("csrf", &csrf), ("action", "accept")]).await;
    assert_eq!(wrong.status, StatusCode::CONFLICT);
    let decided = centre
        .post(&case_path, &[("csrf", &csrf), ("action", "decide"), ("outcome", "upheld"), ("note", "经核实处罚无误")])
        .await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER);
    let closed = firm.get(&case_path).await;
    assert!(closed.body.contains("decided") && closed.body.contains("经核实处罚无误"), "{}", closed.body);

    // The subject sees who queried it: the centre's profile query, with its purpose.
    centre.get(&format!("/workbench/query?key={company}&purpose=supervision")).await;
    let me = firm.get("/workbench/me").await;
    assert!(me.body.contains("日常监管"), "{}", me.body);
}

#[tokio::test]
async fn departments_query_check_and_give_feedback_and_the_dashboard_counts_it() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app);
    let uscc = seeded.company.id.as_str().to_owned();
    with_password(&app, "dept", Role::Department, Some("sh_housing"), None);
    with_password(&app, "clerk", Role::Supplier, Some("sh_amr"), None);
    let mut b = Browser::new(&app);
    b.sign_in("dept", PASSWORD).await;
    let profile = b.get(&format!("/workbench/query?key={uscc}&purpose=supervision")).await;
    assert!(
        profile.body.contains(&seeded.company.name) && profile.body.contains("沪税欠〔2026〕7号"),
        "{}",
        profile.body
    );
    let refused = b.get(&format!("/workbench/query?key={uscc}&purpose=self")).await;
    assert!(refused.body.contains("may not query"), "a purpose the role may not use: {}", refused.body);

    let csrf = b.csrf().await;
    let checked = b.post("/workbench/check", &[("csrf", &csrf), ("subject", &uscc), ("scenario", "bidding")]).await;
    assert_eq!(checked.status, StatusCode::SEE_OTHER, "{}", checked.body);
    let check = b.get(checked.location()).await;
    assert!(check.body.contains("失信被执行人"), "{}", check.body);
    let path = format!("{}/feedback", checked.location());
    let fb = b.post(&path, &[("csrf", &csrf), ("outcome", "applied"), ("note", "已限制投标")]).await;
    assert_eq!(fb.status, StatusCode::SEE_OTHER);
    assert!(b.get(checked.location()).await.body.contains("已限制投标"));

    let dash = b.get("/dashboard").await;
    assert_eq!(dash.status, StatusCode::OK);
    assert!(dash.body.contains("<svg class=\"chart\"") && dash.body.contains("日常监管: 1"), "{}", dash.body);
    assert!(dash.body.contains("web: "), "queries by channel");
    let mut clerk = Browser::new(&app);
    clerk.sign_in("clerk", PASSWORD).await;
    assert_eq!(clerk.get("/dashboard").await.status, StatusCode::FORBIDDEN);
    assert_eq!(clerk.get("/workbench/accounts").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_admin_creates_an_account_that_can_sign_in() {
    let app = TestApp::spawn().await;
    with_password(&app, "centre", Role::Admin, None, None);
    let mut b = Browser::new(&app);
    b.sign_in("centre", PASSWORD).await;
    let csrf = b.csrf().await;
    let bad = b.post("/workbench/accounts", &[("csrf", &csrf), ("name", "x"), ("role", "supplier")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("needs a unit"));
    let made = b
        .post(
            "/workbench/accounts",
            &[
                ("csrf", &csrf),
                ("name", "newclerk"),
                ("role", "supplier"),
                ("unit", "sh_tax"),
                ("password", "a good long one"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK);
    assert!(made.body.contains("id=\"new-token\">xy_"), "the token is shown once");
    let mut other = Browser::new(&app);
    assert_eq!(other.sign_in("newclerk", "a good long one").await.status, StatusCode::SEE_OTHER);
    assert!(b.get("/workbench/catalog").await.body.contains("admin_penalty"));
}

#[tokio::test]
async fn a_report_issued_on_the_workbench_verifies_on_the_public_page_and_a_changed_one_does_not() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app);
    let uscc = seeded.company.id.as_str().to_owned();
    with_password(&app, "dept", Role::Department, Some("sh_housing"), None);
    let mut b = Browser::new(&app);
    b.sign_in("dept", PASSWORD).await;
    let form = b.get("/workbench/reports").await;
    assert!(form.body.contains("name=\"domain\""), "{}", form.body);
    let csrf = form.hidden("csrf");
    let missing = b.post("/workbench/reports", &[("csrf", &csrf), ("subject", &uscc), ("kind", "special")]).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("domains"), "a special report without domains says why: {}", missing.body);
    let issued = b.post("/workbench/reports", &[("csrf", &csrf), ("subject", &uscc), ("kind", "standard")]).await;
    assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.body);
    let page = b.get(issued.location()).await;
    let number = page.body.split("id=\"report-number\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let json = b.get(&format!("{}/json", issued.location())).await;
    assert_eq!(json.status, StatusCode::OK);
    assert!(json.body.contains(&number));

    // The QR code's page, without signing in.
    let mut public = Browser::new(&app);
    let register = public.get(&format!("/verify/{number}")).await;
    assert_eq!(register.status, StatusCode::OK);
    assert!(register.body.contains("真实有效") && register.body.contains(&seeded.company.name), "{}", register.body);
    assert_eq!(public.get("/verify/XY20990101FFFFFFFFFF").await.status, StatusCode::NOT_FOUND);

    // Uploading the file: authentic as issued, not after one changed byte.
    let upload = |bytes: Vec<u8>| {
        let (content_type, body) = multipart(&[], "report.json", &bytes);
        public.http.post(format!("{}/verify", app.base)).header("content-type", content_type).body(body).send()
    };
    let ok = upload(json.body.clone().into_bytes()).await.unwrap().text().await.unwrap();
    assert!(ok.contains("文件真实有效") && ok.contains(&number), "{ok}");
    let tampered = json.body.replacen(&seeded.company.name, "上海改名有限公司", 1);
    let bad = upload(tampered.into_bytes()).await.unwrap().text().await.unwrap();
    assert!(bad.contains("核验失败"), "{bad}");
}

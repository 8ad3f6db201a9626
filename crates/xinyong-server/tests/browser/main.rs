//! The portal in a real headless Chromium, driven through Debian's chromedriver (WebDriver), over the
//! real server on the embedded store: a supplier uploads a batch with an error row, the public
//! searches and opens the company's page, the company objects to a record, the centre decides.
//!
//! Needs `chromium` and `chromium-driver` (`.ci/run` installs them); without them the test fails
//! rather than skips. With `XINYONG_SCREENSHOTS=DIR` it saves screenshots of the main pages there
//! (`scripts/screenshots` does this for `docs/screenshots/`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::DateTime;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use xinyong_domain::access::Role;
use xinyong_domain::ids::{Identifier, Uscc};
use xinyong_server::{FixedClock, Settings};
use xinyong_store::access::{NewAccount, new_token, token_hash};
use xinyong_store::conformance::install_default;
use xinyong_store::{Store, SubjectKey};
use xinyong_store_sqlite::SqliteStore;

const NOW: &str = "2026-11-23T10:00:00+08:00";
const PASSWORD: &str = "correct horse battery";

const CSV: &str = "行政相对人名称,行政相对人类别,统一社会信用代码,法定代表人,行政处罚决定书文号,违法行为类型,违法事实,处罚依据,处罚类别,处罚内容,罚款金额(万元),处罚决定日期,处罚机关,处罚机关统一社会信用代码,数据来源单位,数据来源单位统一社会信用代码,失信严重程度\n\
上海夏澜文化传媒有限公司,法人及非法人组织,91310117MA17QJCF89,马平,沪市监罚〔2026〕501号,未按规定公示年度报告,当事人未按规定期限公示年度报告。,《企业信息公示暂行条例》第十八条,罚款,罚款人民币5600元,0.56,2026-10-08,上海市松江区市场监督管理局,11310117240000122T,上海市市场监督管理局,11310000240000990F,一般\n\
上海坏码贸易有限公司,法人及非法人组织,91310117MA17QJCF88,赵六,沪市监罚〔2026〕502号,价格违法,当事人未明码标价。,《价格法》第四十二条,罚款,罚款人民币1000元,0.1,2026-10-09,上海市松江区市场监督管理局,11310117240000122T,上海市市场监督管理局,11310000240000990F,一般\n";

/// chromedriver on a free port, killed when dropped.
struct Driver(Child, u16);

impl Driver {
    fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver not found: install chromium and chromium-driver (apt-get install chromium chromium-driver)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Driver(child, port);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("chromedriver did not start on port {port}");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Portal {
    base: String,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

impl Portal {
    async fn start() -> Portal {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::create(&dir.path().join("data"), false).unwrap());
        off_runtime(|| install_default(&*store).unwrap());
        let settings = Settings { listen: "127.0.0.1:0".parse().unwrap(), ..Default::default() };
        let listener = tokio::net::TcpListener::bind(settings.listen).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let clock = Arc::new(FixedClock(DateTime::parse_from_rfc3339(NOW).unwrap()));
        let state = xinyong_server::app_state(Arc::clone(&store), settings, clock, None).unwrap();
        tokio::spawn(xinyong_server::serve(listener, state, std::future::pending()));
        Portal { base, store, _dir: dir }
    }

    fn account(&self, name: &str, role: Role, unit: Option<&str>, subject_id: Option<i64>) {
        let hash = xinyong_server::web::session::hash_password(PASSWORD).unwrap();
        off_runtime(|| {
            let new = NewAccount {
                name: name.to_owned(),
                unit: unit.map(str::to_owned),
                role,
                subject_id,
                token_hash: token_hash(&new_token()),
                created_at: DateTime::parse_from_rfc3339(NOW).unwrap(),
            };
            let account = self.store.create_account(&new).unwrap();
            self.store.set_password(account.id, &hash, DateTime::parse_from_rfc3339(NOW).unwrap()).unwrap();
        });
    }
}

async fn browser(driver: &Driver, width: u32) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     format!("--window-size={width},1000"), "--lang=zh-CN"]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.1))
        .await
        .expect("a Chromium session through chromedriver")
}

/// Saves a screenshot when `XINYONG_SCREENSHOTS` names a folder.
async fn shot(c: &Client, name: &str) {
    let Some(dir) = std::env::var_os("XINYONG_SCREENSHOTS").map(PathBuf::from) else { return };
    std::fs::create_dir_all(&dir).unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// Types text, CJK included: WebDriver key input cannot always produce CJK characters, so the value
/// is checked and, if needed, set the way an input method would (an `input` event follows).
async fn type_into(c: &Client, selector: &str, text: &str) {
    let field = c.find(Locator::Css(selector)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
    let value = field.prop("value").await.unwrap().unwrap_or_default();
    if value != text {
        c.execute(
            "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
             e.dispatchEvent(new Event('input', {bubbles: true}));",
            vec![json!(selector), json!(text)],
        )
        .await
        .unwrap();
    }
}

/// The page's visible text; empty while a navigation replaces the page.
async fn body_text(c: &Client) -> String {
    match c.find(Locator::Css("body")).await {
        Ok(body) => body.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn sign_in(c: &Client, base: &str, name: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    type_into(c, "#name", name).await;
    type_into(c, "#password", PASSWORD).await;
    c.find(Locator::Css("form.stack button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("main h1")).await.unwrap();
}

async fn sign_out(c: &Client) {
    c.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css(".hero")).await.unwrap();
}

/// Waits until the page's text contains `needle` (pages load after clicks).
async fn wait_text(c: &Client, needle: &str) -> String {
    for _ in 0..100 {
        let text = body_text(c).await;
        if text.contains(needle) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never showed {needle:?}:\n{}", body_text(c).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_does_its_main_task_in_a_real_browser() {
    let driver = Driver::start();
    let portal = Portal::start().await;
    let base = portal.base.clone();
    portal.account("clerk", Role::Supplier, Some("sh_amr"), None);
    portal.account("centre", Role::Admin, None, None);
    let c = browser(&driver, 1280).await;

    // A supplier signs in and uploads a file with one bad row (drag-and-drop form, progress via the API).
    sign_in(&c, &base, "clerk").await;
    shot(&c, "workbench-supplier").await;
    c.goto(&format!("{base}/workbench/upload")).await.unwrap();
    let file = portal._dir.path().join("penalties.csv");
    std::fs::write(&file, CSV).unwrap();
    c.find(Locator::Css("#target")).await.unwrap().select_by_value("sh_amr|admin_penalty").await.unwrap();
    c.find(Locator::Css("#file")).await.unwrap().send_keys(&file.display().to_string()).await.unwrap();
    shot(&c, "upload").await;
    c.find(Locator::Css("#upload-form button[type=submit]")).await.unwrap().click().await.unwrap();
    let result = wait_text(&c, "批次结果").await;
    assert_eq!(c.find(Locator::Css("#accepted")).await.unwrap().text().await.unwrap(), "1");
    assert_eq!(c.find(Locator::Css("#rejected")).await.unwrap().text().await.unwrap(), "1");
    assert!(result.contains("bad_check_digit") && result.contains("统一社会信用代码"), "{result}");
    shot(&c, "batch-result").await;
    sign_out(&c).await;

    // The public searches by part of the name (Chinese input) and opens the company's page.
    shot(&c, "home").await;
    type_into(&c, "#q", "夏澜").await;
    c.find(Locator::Css(".hero button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_text(&c, "上海夏澜文化传媒有限公司").await;
    shot(&c, "search").await;
    c.find(Locator::LinkText("上海夏澜文化传媒有限公司")).await.unwrap().click().await.unwrap();
    let page = wait_text(&c, "沪市监罚〔2026〕501号").await;
    assert!(page.contains("行政处罚") && page.contains("有效"), "{page}");
    shot(&c, "subject").await;
    c.goto(&format!("{base}/publicity/penalties")).await.unwrap();
    wait_text(&c, "沪市监罚〔2026〕501号").await;
    shot(&c, "publicity").await;
    c.goto(&format!("{base}/rules")).await.unwrap();
    shot(&c, "rules").await;

    // The company signs in, objects to the penalty; the record shows as disputed.
    let uscc = Uscc::parse("91310117MA17QJCF89").unwrap();
    let company =
        off_runtime(|| portal.store.find_subject(&SubjectKey::Identifier(Identifier::Uscc(uscc))).unwrap().unwrap().id);
    portal.account("firm", Role::Subject, None, Some(company));
    sign_in(&c, &base, "firm").await;
    wait_text(&c, "我的信用").await;
    c.find(Locator::Css("details.act summary")).await.unwrap().click().await.unwrap();
    type_into(&c, "details.act[open] textarea[name=reason]", "罚款已缴清，金额有误").await;
    c.find(Locator::Css("details.act[open] button[type=submit]")).await.unwrap().click().await.unwrap();
    let case = wait_text(&c, "已提交").await;
    assert!(case.contains("罚款已缴清"), "{case}");
    let case_url = c.current_url().await.unwrap().to_string();
    c.goto(&format!("{base}/workbench/me")).await.unwrap();
    wait_text(&c, "异议处理中").await;
    shot(&c, "subject-me").await;
    // It asks for its own credit report and opens the verification page its QR code points to.
    c.goto(&format!("{base}/workbench/reports")).await.unwrap();
    c.find(Locator::Css("#report-form button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_text(&c, "报告编号").await;
    shot(&c, "report-issued").await;
    let number = c.find(Locator::Css("#report-number")).await.unwrap().text().await.unwrap();
    c.goto(&format!("{base}/verify/{number}")).await.unwrap();
    wait_text(&c, "真实有效").await;
    shot(&c, "verify").await;
    sign_out(&c).await;

    // The centre accepts and decides it from its queue.
    sign_in(&c, &base, "centre").await;
    c.goto(&format!("{base}/workbench/cases/objections")).await.unwrap();
    shot(&c, "queue").await;
    c.goto(&case_url).await.unwrap();
    c.find(Locator::Css("input[name=action][value=accept]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#transition button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_text(&c, "已受理").await;
    c.find(Locator::Css("input[name=action][value=decide]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#outcome")).await.unwrap().select_by_value("upheld").await.unwrap();
    type_into(&c, "#note", "经核实处罚无误").await;
    shot(&c, "case").await;
    c.find(Locator::Css("#transition button[type=submit]")).await.unwrap().click().await.unwrap();
    let decided = wait_text(&c, "经核实处罚无误").await;
    let status = c.find(Locator::Css("#case-status")).await.unwrap().attr("data-status").await.unwrap();
    assert_eq!(status.as_deref(), Some("decided"), "{decided}");
    c.goto(&format!("{base}/dashboard")).await.unwrap();
    wait_text(&c, "综合监测").await;
    shot(&c, "dashboard").await;
    c.close().await.unwrap();

    // On a phone-sized screen the portal still works (one screenshot for the record).
    let phone = browser(&driver, 390).await;
    phone.goto(&format!("{base}/search?q=%E5%A4%8F%E6%BE%9C")).await.unwrap();
    wait_text(&phone, "上海夏澜文化传媒有限公司").await;
    shot(&phone, "phone-search").await;
    phone.close().await.unwrap();
}

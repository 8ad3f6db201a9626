//! Credit reports over HTTP (CONTRACT.md §4 `/reports`, `/keys`, `/reports/verify`, `/verify/{number}`).

use reqwest::StatusCode;
use serde_json::{Value, json};
use xinyong_domain::access::Role;

use super::{TestApp, seed};

impl TestApp {
    pub async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut req = self.client.post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_bytes(&self, path: &str, token: &str) -> (StatusCode, Vec<u8>) {
        let resp = self.client.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap();
        (resp.status(), resp.bytes().await.unwrap().to_vec())
    }

    pub async fn verify(&self, file: Vec<u8>) -> Value {
        let resp = self.client.post(format!("{}/api/v1/reports/verify", self.base)).body(file).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }

    /// The report's JSON body as fetched.
    pub async fn report_body(&self, id: i64, token: &str) -> Value {
        let (status, bytes) = self.get_bytes(&format!("/api/v1/reports/{id}.json"), token).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        doc["report"].clone()
    }
}

fn section<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["sections"].as_array().unwrap().iter().find(|s| s["key"] == key).unwrap()
}

fn titles(section: &Value) -> Vec<String> {
    section["entries"].as_array().unwrap().iter().map(|e| e["title"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_company_report_is_issued_logged_and_verifies_in_every_format() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let admin = app.account("centre", Role::Admin, None, None);
    let uscc = s.company.id.as_str();
    let (status, issued) = app.post_json("/api/v1/reports", Some(&admin), json!({"subject": uscc})).await;
    assert_eq!(status, 201, "{issued}");
    let id = issued["id"].as_i64().unwrap();
    let number = issued["number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("XY20261123"), "{number}");
    assert_eq!(issued["verify_url"], format!("http://127.0.0.1:8080/verify/{number}"));

    let report = app.report_body(id, &admin).await;
    assert_eq!(report["number"], number.as_str());
    assert_eq!(report["subject"]["identifier"], uscc);
    let keys: Vec<&str> = report["sections"].as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "basic",
            "license",
            "penalty",
            "reward",
            "punishment",
            "watch",
            "commitment",
            "evaluation",
            "judgment",
            "other",
            "advice"
        ]
    );
    assert_eq!(titles(section(&report, "penalty")), ["行政处罚 沪罚〔2026〕1号"]);
    assert_eq!(titles(section(&report, "license")), ["行政许可 沪许〔2025〕9号"]);
    assert_eq!(titles(section(&report, "punishment")), ["失信被执行人 （2026）沪0115执1号"]);
    assert_eq!(section(&report, "evaluation")["text"], "查询期内无相关信息");
    assert_eq!(section(&report, "reward")["text"], "查询期内无相关信息");

    for ext in ["json", "html", "pdf"] {
        let (status, file) = app.get_bytes(&format!("/api/v1/reports/{id}.{ext}"), &admin).await;
        assert_eq!(status, 200, "{ext}: {}", String::from_utf8_lossy(&file));
        let v = app.verify(file.clone()).await;
        assert_eq!((v["valid"].as_bool(), v["number"].as_str()), (Some(true), Some(number.as_str())), "{ext}: {v}");
        assert_eq!((v["kind"].as_str(), v["on_file"].as_bool()), (Some("standard"), Some(true)), "{ext}: {v}");
        let mut bad = file;
        let at = bad.len() / 2;
        bad[at] ^= 0x01;
        let v = app.verify(bad).await;
        assert_eq!(v["valid"], false, "{ext}: one changed byte must fail: {v}");
        assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()), "{v}");
    }

    // The issue is in the subject's query log: by whom, for what purpose.
    let (_, log) = app.get(&format!("/api/v1/subjects/{uscc}/queries"), Some(&admin)).await;
    let issued_entry = log["items"].as_array().unwrap().iter().find(|e| e["action"] == "report").cloned();
    let entry = issued_entry.unwrap_or_else(|| panic!("no report entry in {log}"));
    assert_eq!((entry["purpose"].as_str(), entry["account"].as_str()), (Some("self"), Some("centre")), "{entry}");

    let (status, keys) = app.get("/api/v1/keys", None).await;
    assert_eq!(status, 200);
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1, "{keys}");
}

#[tokio::test]
async fn the_verification_page_answers_for_a_number_without_signing_in() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let admin = app.account("centre", Role::Admin, None, None);
    let (_, issued) = app.post_json("/api/v1/reports", Some(&admin), json!({"subject": s.person_id})).await;
    let number = issued["number"].as_str().unwrap();
    let (status, page) = app.get_text(&format!("/verify/{number}"), None).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(number) && page.contains("真实有效"), "{page}");
    assert!(page.contains("张**") && !page.contains("张三丰"), "a person's name is masked: {page}");
    let (status, page) = app.get_text("/verify/XY20990101FFFFFFFFFF", None).await;
    assert_eq!(status, 404);
    assert!(page.contains("未找到"), "{page}");
}

#[tokio::test]
async fn a_special_report_states_a_verdict_per_domain_and_checks_its_input() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let admin = app.account("centre", Role::Admin, None, None);
    let uscc = s.company.id.as_str();
    let body = json!({"subject": uscc, "kind": "special", "domains": ["market", "税务"], "from": "2026-01-01", "to": "2026-11-22"});
    let (status, issued) = app.post_json("/api/v1/reports", Some(&admin), body).await;
    assert_eq!(status, 201, "{issued}");
    let report = app.report_body(issued["id"].as_i64().unwrap(), &admin).await;
    assert_eq!(report["title"], "专用信用报告");
    assert_eq!(report["period"], json!({"from": "2026-01-01", "to": "2026-11-22"}));
    let verdicts: Vec<(String, bool)> = report["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["domain"].as_str().unwrap().to_owned(), v["found"].as_bool().unwrap()))
        .collect();
    let expected = [
        ("market", true),
        ("tax", false),
        ("enforcement", true),
        ("serious_dishonesty", true),
        ("criminal_judgment", false),
    ];
    assert_eq!(verdicts, expected.map(|(d, f)| (d.to_owned(), f)));

    let (status, err) = app
        .post_json("/api/v1/reports", Some(&admin), json!({"subject": uscc, "kind": "special", "domains": ["nowhere"]}))
        .await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("unknown_domain")), "{err}");
    assert!(err["error"]["message"].as_str().unwrap().starts_with("domains:"), "{err}");
    let (status, err) =
        app.post_json("/api/v1/reports", Some(&admin), json!({"subject": uscc, "kind": "special"})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("domains_required")));
    let body =
        json!({"subject": uscc, "kind": "special", "domains": ["market"], "from": "2026-05-01", "to": "2026-01-01"});
    let (status, err) = app.post_json("/api/v1/reports", Some(&admin), body).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_period")));
    let (status, err) =
        app.post_json("/api/v1/reports", Some(&admin), json!({"subject": uscc, "kind": "weekly"})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_kind")));
}

#[tokio::test]
async fn a_person_gets_two_free_reports_a_year_then_only_an_admin_issues_more() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let admin = app.account("centre", Role::Admin, None, None);
    let person_id = app.subject_id(&s.person);
    let me = app.account("zhang", Role::Subject, None, Some(person_id));
    for _ in 0..2 {
        let (status, issued) = app.post_json("/api/v1/reports", Some(&me), json!({"subject": s.person_id})).await;
        assert_eq!(status, 201, "{issued}");
    }
    let (status, err) = app.post_json("/api/v1/reports", Some(&me), json!({"subject": s.person_id})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("free_report_limit")), "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("2 free credit reports a year"), "{err}");
    let (status, issued) = app.post_json("/api/v1/reports", Some(&admin), json!({"subject": s.person_id})).await;
    assert_eq!(status, 201, "an admin issues beyond the free ones: {issued}");

    // The person's own report: full name, its own sections, who used its information.
    let report = app.report_body(issued["id"].as_i64().unwrap(), &me).await;
    assert_eq!(report["subtitle"], "（自然人版）");
    assert_eq!(report["subject"]["identifier_label"], "居民身份证号码");
    let queries = section(&report, "queries");
    assert!(queries["entries"].as_array().unwrap().len() >= 2, "the earlier issues are listed: {queries}");
    assert_eq!(titles(section(&report, "penalty")), ["行政处罚 沪罚〔2026〕2号"]);
    assert_eq!(report["subject"]["identifier"], s.person_id.as_str(), "the person sees its own ID in full");
    let (_, bytes) = app.get_bytes(&format!("/api/v1/reports/{}.json", issued["id"]), &me).await;
    let text = String::from_utf8(bytes).unwrap();
    let n = text.matches(&s.person_id).count();
    assert_eq!(n, 2, "only in the header and 基础信息: records carry personal data masked");
}

#[tokio::test]
async fn a_subject_may_not_have_anothers_report_nor_fetch_it() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let admin = app.account("centre", Role::Admin, None, None);
    let person_id = app.subject_id(&s.person);
    let me = app.account("zhang", Role::Subject, None, Some(person_id));
    let (status, _) = app.post_json("/api/v1/reports", Some(&me), json!({"subject": s.company.id.as_str()})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, issued) = app.post_json("/api/v1/reports", Some(&admin), json!({"subject": s.company.id.as_str()})).await;
    let (status, _) = app.get_bytes(&format!("/api/v1/reports/{}.pdf", issued["id"]), &me).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.get_bytes(&format!("/api/v1/reports/{}.docx", issued["id"]), &admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.post_json("/api/v1/reports", None, json!({"subject": s.company.id.as_str()})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Penalties of one company through the real ingest path: one to be repaired, one in force, one of
/// 2020 long past its window.
const PENALTIES: &str = "行政相对人名称,统一社会信用代码,行政处罚决定书文号,处罚内容,处罚决定日期,处罚机关,失信严重程度\n\
上海示例贸易有限公司,91310000631696382C,沪罚〔2026〕1号,罚款1万元,2026-05-06,上海市市场监督管理局,一般\n\
上海示例贸易有限公司,91310000631696382C,沪罚〔2026〕2号,罚款50万元,2026-05-06,上海市市场监督管理局,严重\n\
上海示例贸易有限公司,91310000631696382C,沪罚〔2020〕3号,罚款20万元,2020-01-15,上海市市场监督管理局,一般\n";

#[tokio::test]
async fn a_repaired_or_expired_record_never_appears_in_any_report() {
    let app = TestApp::spawn().await;
    let admin = app.account("centre", Role::Admin, None, None);
    let supplier = app.account("amr", Role::Supplier, Some("sh_amr"), None);
    let resp = app
        .client
        .post(format!("{}/api/v1/batches?item=admin_penalty&format=csv", app.base))
        .bearer_auth(&supplier)
        .body(PENALTIES)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let (_, profile) = app.get("/api/v1/subjects/91310000631696382C?purpose=supervision", Some(&admin)).await;
    let records = profile["records"].as_array().unwrap();
    let general = records.iter().find(|r| r["fields"]["decision_number"] == "沪罚〔2026〕1号").unwrap()["id"].clone();
    let subject = app.account("company", Role::Subject, None, profile["subject"]["id"].as_i64());
    let (status, repair) = app
        .post_json(
            "/api/v1/repairs",
            Some(&subject),
            json!({"record": general, "evidence": ["已缴纳罚款"], "commitment": true}),
        )
        .await;
    assert_eq!(status, 201, "{repair}");
    let path = format!("/api/v1/repairs/{}/transition", repair["id"]);
    let (status, done) = app.post_json(&path, Some(&admin), json!({"action": "approve", "note": "已履行"})).await;
    assert_eq!(status, 200, "{done}");

    for token in [&admin, &subject] {
        for body in [
            json!({"subject": "91310000631696382C"}),
            json!({"subject": "91310000631696382C", "kind": "special", "domains": ["market"], "from": "2019-01-01"}),
        ] {
            let (status, issued) = app.post_json("/api/v1/reports", Some(token), body).await;
            assert_eq!(status, 201, "{issued}");
            let (_, bytes) = app.get_bytes(&format!("/api/v1/reports/{}.json", issued["id"]), token).await;
            let text = String::from_utf8(bytes).unwrap();
            assert!(text.contains("沪罚〔2026〕2号"), "the penalty in force is there: {text}");
            assert!(!text.contains("沪罚〔2026〕1号"), "the repaired penalty never appears: {text}");
            assert!(!text.contains("沪罚〔2020〕3号"), "the expired penalty never appears: {text}");
        }
    }
}

//! Objections, repairs and revocations over HTTP with fixed clocks (DOMAIN.md §5, CONTRACT.md §4).

use chrono::{DateTime, NaiveDate};
use reqwest::StatusCode;
use serde_json::{Value, json};
use xinyong_domain::access::Role;
use xinyong_store::workflow::{CaseKind, NewCase, NewEvent, RecordEffect};

use super::TestApp;

/// Penalties of one company, filed through the real ingest path: a general one and a serious one
/// decided 2026-05-06, and a serious one decided 2020-01-15 (the 2019 regime).
const PENALTIES: &str = "行政相对人名称,统一社会信用代码,行政处罚决定书文号,处罚内容,处罚决定日期,处罚机关,失信严重程度\n\
上海示例贸易有限公司,91310000631696382C,沪罚〔2026〕1号,罚款1万元,2026-05-06,上海市市场监督管理局,一般\n\
上海示例贸易有限公司,91310000631696382C,沪罚〔2026〕2号,罚款50万元,2026-05-06,上海市市场监督管理局,严重\n\
上海示例贸易有限公司,91310000631696382C,沪罚〔2020〕3号,罚款20万元,2020-01-15,上海市市场监督管理局,严重\n";

struct World {
    app: TestApp,
    admin: String,
    supplier: String,
    subject: String,
    /// Record ids by decision number.
    general: i64,
    serious: i64,
    old: i64,
}

async fn world(now: &str) -> World {
    let app = TestApp::spawn_at(now).await;
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
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let (_, profile) = app.get("/api/v1/subjects/91310000631696382C?purpose=supervision", Some(&admin)).await;
    // A penalty decided after the world's day is rejected at ingest: its id is then -1.
    let id_of = |number: &str| {
        let records = profile["records"].as_array().unwrap();
        records.iter().find(|r| r["fields"]["decision_number"] == number).map_or(-1, |r| r["id"].as_i64().unwrap())
    };
    let (general, serious, old) = (id_of("沪罚〔2026〕1号"), id_of("沪罚〔2026〕2号"), id_of("沪罚〔2020〕3号"));
    let subject_id = profile["subject"]["id"].as_i64().unwrap();
    let subject = app.account("company", Role::Subject, None, Some(subject_id));
    World { app, admin, supplier, subject, general, serious, old }
}

impl World {
    async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        let resp = self
            .app
            .client
            .post(format!("{}{path}", self.app.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn record(&self, id: i64) -> Value {
        let (status, profile) =
            self.app.get("/api/v1/subjects/91310000631696382C?purpose=supervision", Some(&self.admin)).await;
        assert_eq!(status, 200);
        profile["records"].as_array().unwrap().iter().find(|r| r["id"] == id).cloned().unwrap_or(Value::Null)
    }

    async fn public_numbers(&self) -> Vec<String> {
        let (status, page) = self.app.get("/api/v1/public/penalties?per_page=50", None).await;
        assert_eq!(status, 200, "{page}");
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["fields"]["decision_number"].as_str().unwrap().to_owned())
            .collect()
    }
}

#[tokio::test]
async fn windows_follow_the_regime_of_the_decision_date_and_show_in_the_record() {
    let w = world("2026-11-23T10:00:00+08:00").await;
    let general = w.record(w.general).await;
    assert_eq!(general["window"]["regime"], "2026");
    assert_eq!(general["window"]["min_end"], "2026-08-06");
    assert_eq!(general["window"]["max_end"], "2027-05-06");
    // 7 working days after Wednesday 6 May 2026: 7, 8, 9 (a working Saturday), 11, 12, 13, 14.
    assert_eq!(general["window"]["publish_by"], "2026-05-14");
    assert_eq!((general["status"].as_str(), general["public"].as_bool()), (Some("active"), Some(true)));
    let serious = w.record(w.serious).await;
    assert_eq!(
        (serious["window"]["min_end"].as_str(), serious["window"]["max_end"].as_str()),
        (Some("2027-05-06"), Some("2029-05-06"))
    );
    let old = w.record(w.old).await;
    assert_eq!(old["window"]["regime"], "2019");
    assert_eq!(
        (old["window"]["min_end"].as_str(), old["window"]["max_end"].as_str()),
        (Some("2020-07-15"), Some("2023-01-15"))
    );
    assert_eq!((old["status"].as_str(), old["public"].as_bool()), (Some("expired"), Some(false)));
    let public = w.public_numbers().await;
    assert!(
        public.contains(&"沪罚〔2026〕1号".to_owned()) && !public.contains(&"沪罚〔2020〕3号".to_owned()),
        "{public:?}"
    );
}

#[tokio::test]
async fn a_general_penalty_is_gone_after_its_maximum_whatever_ran_before() {
    let w = world("2027-05-06T00:00:01+08:00").await;
    let general = w.record(w.general).await;
    assert_eq!((general["status"].as_str(), general["public"].as_bool()), (Some("expired"), Some(false)));
    assert!(!w.public_numbers().await.contains(&"沪罚〔2026〕1号".to_owned()));
    assert!(w.public_numbers().await.contains(&"沪罚〔2026〕2号".to_owned()), "the serious one runs three years");
}

#[tokio::test]
async fn repair_is_refused_with_reasons_before_the_minimum_and_approved_after() {
    let early = world("2026-07-01T10:00:00+08:00").await;
    let (status, body) = early
        .post(
            "/api/v1/repairs",
            &early.subject,
            json!({"record": early.general, "evidence": ["缴款凭证.pdf"], "commitment": true}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["eligible"], false);
    assert!(body["reasons"][0].as_str().unwrap().contains("2026-08-06"), "{body}");

    let w = world("2026-11-23T10:00:00+08:00").await;
    let (status, body) =
        w.post("/api/v1/repairs", &w.subject, json!({"record": w.general, "evidence": [], "commitment": false})).await;
    assert_eq!(status, 422);
    assert_eq!(body["reasons"].as_array().map(Vec::len), Some(2), "evidence and commitment: {body}");
    let (status, body) = w
        .post("/api/v1/repairs", &w.subject, json!({"record": w.serious, "evidence": ["x"], "commitment": true}))
        .await;
    assert_eq!(status, 422, "a serious penalty waits a year: {body}");

    let (status, repair) = w
        .post(
            "/api/v1/repairs",
            &w.subject,
            json!({"record": w.general, "evidence": ["缴款凭证.pdf"], "commitment": true}),
        )
        .await;
    assert_eq!(status, 201, "{repair}");
    assert_eq!((repair["eligible"].as_bool(), repair["status"].as_str()), (Some(true), Some("submitted")));
    // Ten working days from Monday 23 November 2026.
    assert_eq!(repair["deadline"], "2026-12-07");
    let id = repair["id"].as_i64().unwrap();
    let (status, again) = w
        .post("/api/v1/repairs", &w.subject, json!({"record": w.general, "evidence": ["x"], "commitment": true}))
        .await;
    assert_eq!(status, 422, "one open repair per record: {again}");

    let (status, _) =
        w.post(&format!("/api/v1/repairs/{id}/transition"), &w.subject, json!({"action": "approve"})).await;
    assert_eq!(status, 403, "the subject does not decide its own repair");
    let (status, _) =
        w.post(&format!("/api/v1/repairs/{id}/transition"), &w.supplier, json!({"action": "refuse"})).await;
    assert_eq!(status, 400, "a refusal carries reasons");
    let (status, done) = w
        .post(&format!("/api/v1/repairs/{id}/transition"), &w.supplier, json!({"action": "approve", "note": "已履行"}))
        .await;
    assert_eq!(
        (status, done["status"].as_str(), done["open"].as_bool()),
        (StatusCode::OK, Some("approved"), Some(false))
    );
    let (status, _) = w.post(&format!("/api/v1/repairs/{id}/transition"), &w.admin, json!({"action": "approve"})).await;
    assert_eq!(status, 409, "approving twice");

    let record = w.record(w.general).await;
    assert_eq!((record["status"].as_str(), record["public"].as_bool()), (Some("repaired"), Some(false)));
    let dept = w.app.account("dept", Role::Department, Some("sh_housing"), None);
    let (_, seen) = w.app.get("/api/v1/subjects/91310000631696382C?purpose=approval", Some(&dept)).await;
    assert!(!seen["records"].as_array().unwrap().iter().any(|r| r["id"] == w.general), "no longer shared: {seen}");
    let (_, own) = w.app.get("/api/v1/subjects/91310000631696382C?purpose=self", Some(&w.subject)).await;
    assert!(
        own["records"].as_array().unwrap().iter().any(|r| r["id"] == w.general && r["status"] == "repaired"),
        "{own}"
    );
    assert!(!w.public_numbers().await.contains(&"沪罚〔2026〕1号".to_owned()), "a repaired record is not published");
    let (_, inbox) = w.app.get("/api/v1/inbox", Some(&w.subject)).await;
    assert!(inbox["items"].as_array().unwrap().iter().any(|n| n["title"] == "信用修复结果"), "{inbox}");
}

#[tokio::test]
async fn an_objection_marks_the_record_disputed_until_decided_with_deadlines_on_working_days() {
    let w = world("2026-11-23T10:00:00+08:00").await;
    let (status, _) = w.post("/api/v1/objections", &w.subject, json!({"record": w.general, "reason": ""})).await;
    assert_eq!(status, 400, "a reason is required");
    let (status, _) = w.post("/api/v1/objections", &w.supplier, json!({"record": w.general, "reason": "x"})).await;
    assert_eq!(status, 403, "the unit does not object to its own record");
    let (status, obj) = w
        .post(
            "/api/v1/objections",
            &w.subject,
            json!({"record": w.general, "reason": "罚款金额有误", "evidence": ["缴款书.pdf"]}),
        )
        .await;
    assert_eq!(status, 201, "{obj}");
    assert_eq!((obj["status"].as_str(), obj["deadline"].as_str()), (Some("submitted"), Some("2026-11-24")));
    assert_eq!(obj["reason"], "罚款金额有误");
    let id = obj["id"].as_i64().unwrap();
    assert_eq!(w.record(w.general).await["disputed"], true);

    let path = format!("/api/v1/objections/{id}/transition");
    let (status, body) = w.post(&path, &w.admin, json!({"action": "decide", "outcome": "deleted"})).await;
    assert_eq!(status, 409, "deciding before accepting: {body}");
    let (status, _) = w.post(&path, &w.admin, json!({"action": "shrug"})).await;
    assert_eq!(status, 400);
    let (status, accepted) = w.post(&path, &w.admin, json!({"action": "accept"})).await;
    assert_eq!((status, accepted["deadline"].as_str()), (StatusCode::OK, Some("2026-11-30")), "{accepted}");
    assert_eq!(accepted["forward_by"], "2026-11-25");
    let (status, fwd) = w.post(&path, &w.admin, json!({"action": "forward"})).await;
    assert_eq!(
        (status, fwd["status"].as_str(), fwd["deadline"].as_str()),
        (StatusCode::OK, Some("forwarded"), Some("2026-11-30"))
    );
    let (status, _) = w.post(&path, &w.supplier, json!({"action": "decide", "outcome": "upheld"})).await;
    assert_eq!(status, 400, "upholding needs reasons");
    let (status, done) =
        w.post(&path, &w.supplier, json!({"action": "decide", "outcome": "upheld", "note": "处罚事实清楚"})).await;
    assert_eq!(
        (status, done["status"].as_str(), done["outcome"].as_str()),
        (StatusCode::OK, Some("decided"), Some("upheld"))
    );
    assert_eq!(done["history"].as_array().map(Vec::len), Some(4));
    assert_eq!(w.record(w.general).await["disputed"], false, "an upheld objection clears the mark");
    let (status, _) = w.post(&path, &w.admin, json!({"action": "accept"})).await;
    assert_eq!(status, 409);

    let (status, mine) = w.app.get("/api/v1/objections", Some(&w.subject)).await;
    assert_eq!((status, mine["total"].as_u64()), (StatusCode::OK, Some(1)));
    let (status, _) = w
        .app
        .get(&format!("/api/v1/objections/{id}"), Some(&w.app.account("x", Role::Department, Some("sh_tax"), None)))
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_corrected_objection_makes_a_new_version_and_a_deleted_one_leaves_every_output() {
    let w = world("2026-11-23T10:00:00+08:00").await;
    let (_, obj) = w.post("/api/v1/objections", &w.admin, json!({"record": w.general, "reason": "金额有误"})).await;
    let path = format!("/api/v1/objections/{}/transition", obj["id"]);
    w.post(&path, &w.admin, json!({"action": "accept"})).await;
    let (status, body) =
        w.post(&path, &w.admin, json!({"action": "decide", "outcome": "corrected", "fields": {"no_such": "x"}})).await;
    assert_eq!(status, 400, "{body}");
    let bad_date = json!({"action": "decide", "outcome": "corrected", "fields": {"decision_date": "2026-13-45"}});
    let (status, body) = w.post(&path, &w.admin, bad_date).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_field")), "{body}");
    let (status, _) = w
        .post(
            &path,
            &w.admin,
            json!({"action": "decide", "outcome": "corrected", "fields": {"penalty_content": "罚款5千元"}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(w.record(w.general).await["fields"]["penalty_content"], "罚款5千元");
    let history = super::off_runtime(|| w.app.store.record_history(w.general).unwrap());
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].fields["penalty_content"], "罚款1万元");

    let (_, obj) = w.post("/api/v1/objections", &w.subject, json!({"record": w.serious, "reason": "并非本公司"})).await;
    let path = format!("/api/v1/objections/{}/transition", obj["id"]);
    w.post(&path, &w.admin, json!({"action": "accept"})).await;
    let (status, _) =
        w.post(&path, &w.admin, json!({"action": "decide", "outcome": "deleted", "note": "主体错误"})).await;
    assert_eq!(status, 200);
    assert!(!w.public_numbers().await.contains(&"沪罚〔2026〕2号".to_owned()));
    assert_eq!(w.record(w.serious).await["status"], "deleted", "the admin still sees it in history");
}

#[tokio::test]
async fn an_objection_forwarded_on_the_friday_before_the_spring_festival() {
    let w = world("2026-02-13T16:00:00+08:00").await;
    // The 2026 penalties are decided after this day (rejected at ingest); the 2020 one is on file.
    let (status, obj) = w.post("/api/v1/objections", &w.subject, json!({"record": w.old, "reason": "已履行"})).await;
    assert_eq!(status, 201, "{obj}");
    assert_eq!(obj["deadline"], "2026-02-14", "Saturday the 14th is a working day");
    let path = format!("/api/v1/objections/{}/transition", obj["id"]);
    let (_, accepted) = w.post(&path, &w.admin, json!({"action": "accept"})).await;
    assert_eq!(accepted["forward_by"], "2026-02-24");
    let (_, fwd) = w.post(&path, &w.admin, json!({"action": "forward"})).await;
    assert_eq!((fwd["status"].as_str(), fwd["deadline"].as_str()), (Some("forwarded"), Some("2026-02-27")));
    let (_, inbox) = w.app.get("/api/v1/inbox", Some(&w.supplier)).await;
    assert!(inbox["items"][0]["body"].as_str().unwrap().contains("2026-02-27"), "{inbox}");
}

#[tokio::test]
async fn a_revoked_decision_leaves_at_once_and_overdue_cases_surface() {
    let w = world("2026-11-23T10:00:00+08:00").await;
    let (status, _) = w
        .post(&format!("/api/v1/records/{}/revocation", w.general), &w.subject, json!({"basis": "court", "note": "x"}))
        .await;
    assert_eq!(status, 403);
    let (status, _) = w
        .post(&format!("/api/v1/records/{}/revocation", w.general), &w.supplier, json!({"basis": "whim", "note": "x"}))
        .await;
    assert_eq!(status, 400);
    let body = json!({"basis": "court", "note": "（2026）沪03行终1号判决撤销", "notified_on": "2026-11-18"});
    let (status, case) = w.post(&format!("/api/v1/records/{}/revocation", w.general), &w.supplier, body.clone()).await;
    assert_eq!(status, 201, "{case}");
    // Notified Wednesday the 18th: due by Monday the 23rd; done today, in time.
    assert_eq!((case["deadline"].as_str(), case["within_deadline"].as_bool()), (Some("2026-11-23"), Some(true)));
    assert_eq!(w.record(w.general).await["status"], "revoked");
    assert!(!w.public_numbers().await.contains(&"沪罚〔2026〕1号".to_owned()));
    let (status, _) = w.post(&format!("/api/v1/records/{}/revocation", w.general), &w.supplier, body).await;
    assert_eq!(status, 409);

    // An objection left past its deadline surfaces in the queue and in /metrics.
    let (_, fresh) = w.post("/api/v1/objections", &w.subject, json!({"record": w.serious, "reason": "x"})).await;
    assert_eq!(fresh["overdue"], false);
    let forgotten = NewCase {
        kind: CaseKind::Objection,
        record_id: w.old,
        subject_id: fresh["subject"].as_i64(),
        unit: "sh_amr".into(),
        status: "submitted".into(),
        deadline: Some(NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()),
        deadline_provisional: false,
        open: true,
        data: json!({"reason": "filed before the weekend"}),
        at: DateTime::parse_from_rfc3339("2026-11-19T09:00:00+08:00").unwrap(),
        event: NewEvent { actor: 1, actor_name: "centre".into(), action: "file".into(), note: None, late: false },
        effect: RecordEffect::None,
        notices: vec![],
    };
    let forgotten = super::off_runtime(|| w.app.store.open_case(&forgotten).unwrap());
    let (_, queue) = w.app.get("/api/v1/objections?overdue=true", Some(&w.admin)).await;
    assert_eq!(queue["total"], 1, "{queue}");
    assert_eq!(
        (queue["items"][0]["id"].as_i64(), queue["items"][0]["overdue"].as_bool()),
        (Some(forgotten.id), Some(true))
    );
    let (_, metrics) = w.app.get_text("/metrics", None).await;
    assert!(metrics.contains("xinyong_cases_overdue{kind=\"objection\"} 1"), "{metrics}");
    // Acting late is recorded as late.
    let (_, accepted) =
        w.post(&format!("/api/v1/objections/{}/transition", forgotten.id), &w.admin, json!({"action": "accept"})).await;
    assert_eq!(accepted["history"][1]["late"], true, "{accepted}");
}

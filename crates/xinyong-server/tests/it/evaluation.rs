//! Commitments, evaluation and graded supervision over HTTP (issue 7): a breach changes the grade of that
//! subject only and bars it from commitment-based handling (checks see the bar as measures), a repair of
//! the breach restores the grade, and an inspection plan's draw is reproducible from its seed.

use reqwest::StatusCode;
use serde_json::{Value, json};
use xinyong_domain::access::Role;
use xinyong_store::conformance::company;

use super::TestApp;

const NOW: &str = "2026-05-06T10:00:00+08:00";

struct World {
    app: TestApp,
    admin: String,
    amr: String,
    /// USCCs of the two companies.
    a: String,
    b: String,
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

    async fn profile(&self, uscc: &str) -> Value {
        let (status, p) =
            self.app.get(&format!("/api/v1/subjects/{uscc}?purpose=supervision"), Some(&self.admin)).await;
        assert_eq!(status, 200, "{p}");
        p
    }

    async fn grade(&self, uscc: &str) -> (i64, String) {
        let e = self.profile(uscc).await["evaluation"].clone();
        (e["score"].as_i64().unwrap_or(-1), e["grade"].as_str().unwrap_or("-").to_owned())
    }
}

/// Two companies registered 2023-05-01 (three full years on 2026-05-06), filed as a batch through the API:
/// the batch re-evaluates them at once.
async fn world() -> World {
    let app = TestApp::spawn_at(NOW).await;
    let admin = app.account("centre", Role::Admin, None, None);
    let amr = app.account("amr", Role::Supplier, Some("sh_amr"), None);
    let (a, b) = (company(21), company(22));
    let csv = format!(
        "企业名称,统一社会信用代码,成立日期\n{},{},2023-05-01\n{},{},2023-05-01\n",
        a.name,
        a.id.as_str(),
        b.name,
        b.id.as_str()
    );
    let resp = app
        .client
        .post(format!("{}/api/v1/batches?item=legal_person_registration&format=csv", app.base))
        .bearer_auth(&amr)
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    World { app, admin, amr, a: a.id.as_str().to_owned(), b: b.id.as_str().to_owned() }
}

#[tokio::test]
async fn a_batch_scores_its_subjects_as_computed_by_hand() {
    let w = world().await;
    let e = w.profile(&w.a).await["evaluation"].clone();
    // 700 base + 3 full years × 10 = 730 → B 良好, explained by the registration record.
    assert_eq!((e["score"].as_i64(), e["grade"].as_str()), (Some(730), Some("B")), "{e}");
    assert_eq!(e["model"], "2026.1-default");
    let moved = &e["explanation"]["indicators"];
    assert_eq!(moved.as_array().map(Vec::len), Some(1), "{e}");
    assert_eq!(moved[0]["indicator"], "years_registered");
    assert_eq!(moved[0]["points"], 30.0);
    let registration = w.profile(&w.a).await["records"][0]["id"].clone();
    assert_eq!(moved[0]["records"], json!([registration]));

    let (status, stats) = w.app.get("/api/v1/stats/evaluation", Some(&w.admin)).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["grades"]["B"], 2, "{stats}");
    assert_eq!(stats["runs"][0]["kind"], "incremental");
}

#[tokio::test]
async fn a_breach_lowers_that_subject_only_bars_it_and_a_repair_restores_it() {
    let w = world().await;
    let filed = json!({
        "subject": w.a, "kind": "告知承诺", "matter": "食品经营许可", "content": "三个月内补交场所证明", "due": "2026-06-30"
    });
    let (status, c) = w.post("/api/v1/commitments", &w.amr, filed.clone()).await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(
        (c["status"].as_str(), c["deadline"].as_str(), c["unit"].as_str()),
        (Some("pending"), Some("2026-06-30"), Some("sh_amr"))
    );
    assert_eq!(c["kind"], "notification");
    let id = c["id"].as_i64().unwrap();

    // Only the accepting unit records fulfilment, and a breach needs reasons.
    let other = w.app.account("tax", Role::Supplier, Some("sh_tax"), None);
    let (status, _) =
        w.post(&format!("/api/v1/commitments/{id}/fulfilment"), &other, json!({"outcome": "fulfilled"})).await;
    assert_eq!(status, 403);
    let (status, body) =
        w.post(&format!("/api/v1/commitments/{id}/fulfilment"), &w.amr, json!({"outcome": "breached"})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("reasons"), "{body}");

    let before_b = w.grade(&w.b).await;
    let breach = json!({"outcome": "breached", "note": "未按期补交场所证明"});
    let (status, c) = w.post(&format!("/api/v1/commitments/{id}/fulfilment"), &w.amr, breach.clone()).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["status"], "breached");
    assert_eq!(c["history"].as_array().map(Vec::len), Some(2), "{c}");
    let record = c["record"].as_i64().expect("a breach files a dishonesty record");
    let (status, _) = w.post(&format!("/api/v1/commitments/{id}/fulfilment"), &w.amr, breach).await;
    assert_eq!(status, 409, "fulfilment is recorded once");

    // 730 − 150 (a broken commitment) = 580 → C; the other company is untouched.
    assert_eq!(w.grade(&w.a).await, (580, "C".to_owned()));
    assert_eq!(w.grade(&w.b).await, before_b);
    let profile = w.profile(&w.a).await;
    assert!(profile["lists"].as_array().unwrap().iter().any(|l| l["list"] == "list_commitment_breach"), "{profile}");

    // Barred: no new commitment, and checks in approval answer the bar as measures.
    let (status, body) = w.post("/api/v1/commitments", &w.amr, filed).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("2027-05-06"), "{body}");
    let (status, check) = w.post("/api/v1/checks", &w.amr, json!({"subject": w.a, "scenario": "行政审批"})).await;
    assert_eq!(status, 201, "{check}");
    let measures: Vec<&str> =
        check["result"]["measures"].as_array().unwrap().iter().filter_map(|m| m["measure"]["id"].as_str()).collect();
    assert_eq!(measures, ["m-commitment-01"], "{check}");

    // The subject repairs the breach record; once approved the grade is restored (a repaired record
    // leaves a small residual, −5).
    let (status, repair) = w
        .post("/api/v1/repairs", &w.admin, json!({"record": record, "evidence": ["补交证明"], "commitment": true}))
        .await;
    assert_eq!(status, 201, "{repair}");
    let rid = repair["id"].as_i64().unwrap();
    let (status, done) =
        w.post(&format!("/api/v1/repairs/{rid}/transition"), &w.amr, json!({"action": "approve"})).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(w.grade(&w.a).await, (725, "B".to_owned()));
    assert_eq!(w.grade(&w.b).await, before_b);
    let (status, history) = w.app.get(&format!("/api/v1/subjects/{}/evaluations", w.a), Some(&w.amr)).await;
    assert_eq!(status, 200, "{history}");
    let scores: Vec<i64> = history["items"].as_array().unwrap().iter().filter_map(|e| e["score"].as_i64()).collect();
    assert_eq!(scores, [725, 580, 730], "newest first, one entry per change");

    // The overdue queue: a pending commitment past its due date.
    let late = json!({"subject": w.b, "kind": "容缺受理", "matter": "道路运输许可", "content": "补交材料", "date": "2026-04-01", "due": "2026-05-01"});
    let (status, c) = w.post("/api/v1/commitments", &w.admin, late.clone()).await;
    assert_eq!(status, 400, "an admin names the unit: {c}");
    let mut with_unit = late;
    with_unit["unit"] = json!("sh_transport");
    let (status, c) = w.post("/api/v1/commitments", &w.admin, with_unit).await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["overdue"], true);
    let (status, queue) = w.app.get("/api/v1/commitments?overdue=true", Some(&w.admin)).await;
    assert_eq!(status, 200);
    assert_eq!(queue["total"], 1, "{queue}");
    let (_, metrics) = w.app.get_text("/metrics", None).await;
    assert!(metrics.contains("xinyong_cases_overdue{kind=\"commitment\"} 1"), "{metrics}");
    let (_, doc) = w.app.get("/api/v1/openapi.json", None).await;
    for path in [
        "/api/v1/commitments",
        "/api/v1/commitments/{id}/fulfilment",
        "/api/v1/stats/evaluation",
        "/api/v1/inspections",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing from OpenAPI");
    }
}

#[tokio::test]
async fn the_same_seed_draws_the_same_inspection_sample_and_exports_it() {
    let w = world().await;
    let plan =
        json!({"name": "2026年第一批双随机抽查", "population": "unit:sh_amr", "ratios": {"B": 0.5}, "seed": 20260506});
    let (status, first) = w.post("/api/v1/inspections", &w.admin, plan.clone()).await;
    assert_eq!(status, 201, "{first}");
    let (_, second) = w.post("/api/v1/inspections", &w.admin, plan).await;
    assert_eq!(first["sample"], second["sample"]);
    assert_eq!(first["sample"].as_array().map(Vec::len), Some(1), "ceil(0.5 × 2) of grade B");
    assert_eq!((first["seed"].as_str(), first["reproducible"].as_bool()), (Some("20260506"), Some(true)));
    assert_eq!(first["population_by_grade"]["B"], 2);

    let id = first["id"].as_i64().unwrap();
    let (status, again) = w.app.get(&format!("/api/v1/inspections/{id}"), Some(&w.amr)).await;
    assert_eq!((status, &again["sample"]), (StatusCode::OK, &first["sample"]));
    let (status, csv) = w.app.get_text(&format!("/api/v1/inspections/{id}/export?format=csv"), Some(&w.admin)).await;
    assert_eq!(status, 200);
    assert!(csv.contains("信用等级") && csv.contains("20260506"), "{csv}");
    let resp = w
        .app
        .client
        .get(format!("{}/api/v1/inspections/{id}/export?format=xlsx", w.app.base))
        .bearer_auth(&w.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.unwrap().starts_with(b"PK"), "an XLSX is a zip");

    let (status, body) = w
        .post("/api/v1/inspections", &w.admin, json!({"name": "x", "population": "unit:sh_amr", "ratios": {"E": 0.5}}))
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = w.post("/api/v1/inspections", &w.amr, json!({"name": "x", "population": "unit:sh_tax"})).await;
    assert_eq!(status, 403, "a unit plans for its own population");
}

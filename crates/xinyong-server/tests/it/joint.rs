//! Checks and feedback of joint rewards and punishments over HTTP.

use chrono::NaiveDate;
use serde_json::json;
use xinyong_domain::access::Role;
use xinyong_domain::measures::Library;
use xinyong_store::conformance::company;

use super::TestApp;

/// A unit and scenario that two punishment lists both trigger, with the two lists.
fn shared_pair(library: &Library) -> (String, String, String, String) {
    for m in library.published() {
        let lists_of = |id: &str| {
            library
                .memoranda()
                .iter()
                .filter(|memo| memo.measures.iter().any(|x| x.id == id))
                .flat_map(|memo| memo.lists.clone())
                .collect::<Vec<_>>()
        };
        for other in library.published() {
            if other.implementing_unit == m.implementing_unit
                && other.scenario == m.scenario
                && other.memorandum != m.memorandum
            {
                let (a, b) = (lists_of(&m.id), lists_of(&other.id));
                if let (Some(la), Some(lb)) = (a.first(), b.iter().find(|l| !a.contains(l))) {
                    return (m.implementing_unit.clone(), m.scenario.clone(), la.clone(), lb.clone());
                }
            }
        }
    }
    panic!("the default library has a unit and scenario triggered by two lists");
}

fn list_entry(app: &TestApp, list: &str, number: &str, start: &str) {
    let c = company(5);
    let uscc = c.id.as_str().to_owned();
    let day = NaiveDate::parse_from_str(start, "%Y-%m-%d").unwrap();
    app.file(
        "sh_court",
        list,
        number,
        Some(c.clone()),
        day,
        &[
            ("subject_name", &c.name),
            ("uscc", &uscc),
            ("document_number", number),
            ("reason", "严重失信"),
            ("start_date", start),
            ("authority", "上海市高级人民法院"),
        ],
    );
}

#[tokio::test]
async fn a_check_returns_the_union_of_measures_for_its_unit_and_scenario_and_feedback_closes_the_loop() {
    let app = TestApp::spawn().await;
    let library = Library::default_library().unwrap();
    let (unit, scenario, list_a, list_b) = shared_pair(&library);
    list_entry(&app, &list_a, "（2026）沪01执1号", "2026-01-05");
    list_entry(&app, &list_b, "沪税稽〔2026〕2号", "2026-02-05");
    let dept = app.account("dept", Role::Department, Some(&unit), None);
    let uscc = company(5).id.as_str().to_owned();

    let resp = app
        .client
        .post(format!("{}/api/v1/checks", app.base))
        .bearer_auth(&dept)
        .json(&json!({"subject": uscc, "scenario": scenario}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let check: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(check["status"], "open");
    let got: Vec<String> = check["result"]["measures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["measure"]["id"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = library
        .applicable(&[list_a.as_str(), list_b.as_str()], &scenario, &unit)
        .into_iter()
        .map(|(m, _)| m.id.clone())
        .collect();
    assert_eq!(got, expected, "the union, each once, in library order");
    assert!(got.len() >= 2, "{check}");
    for m in check["result"]["measures"].as_array().unwrap() {
        assert_eq!(
            (m["measure"]["implementing_unit"].as_str(), m["measure"]["scenario"].as_str()),
            (Some(unit.as_str()), Some(scenario.as_str()))
        );
        assert_eq!(m["measure"]["published"], true);
        assert!(!m["entries"].as_array().unwrap().is_empty(), "each measure names its entries: {m}");
    }
    assert_eq!(check["result"]["entries"].as_array().map(Vec::len), Some(2));

    let id = check["id"].as_i64().unwrap();
    let fb = |body: serde_json::Value, token: &str| {
        app.client
            .post(format!("{}/api/v1/checks/{id}/feedback", app.base))
            .bearer_auth(token.to_owned())
            .json(&body)
            .send()
    };
    let other = app.account("other", Role::Department, Some("sh_customs"), None);
    assert_eq!(fb(json!({"outcome": "applied", "applied": [got[0]]}), &other).await.unwrap().status(), 403);
    assert_eq!(fb(json!({"outcome": "applied", "applied": ["m-nope"]}), &dept).await.unwrap().status(), 400);
    assert_eq!(fb(json!({"outcome": "not_applied"}), &dept).await.unwrap().status(), 400, "reasons owed");
    assert_eq!(fb(json!({"outcome": "partly_applied"}), &dept).await.unwrap().status(), 400, "which ones?");
    let resp = fb(json!({"outcome": "applied", "applied": [got[0]], "note": "已限制参与"}), &dept).await.unwrap();
    assert_eq!(resp.status(), 200);
    let closed: serde_json::Value = resp.json().await.unwrap();
    assert_eq!((closed["status"].as_str(), closed["history"].as_array().map(Vec::len)), (Some("closed"), Some(2)));
    assert_eq!(fb(json!({"outcome": "applied", "applied": [got[0]]}), &dept).await.unwrap().status(), 409);

    let admin = app.account("admin", Role::Admin, None, None);
    let (status, stats) = app.get("/api/v1/stats/joint", Some(&admin)).await;
    assert_eq!(status, 200);
    let row = stats["loop"].as_array().unwrap().iter().find(|r| r["unit"] == unit.as_str()).unwrap().clone();
    assert_eq!((row["checks"].as_u64(), row["hits"].as_u64(), row["feedback"].as_u64()), (Some(1), Some(1), Some(1)));
    assert_eq!(row["feedback_rate"], 1.0);
    let listed = stats["lists"].as_array().unwrap().iter().find(|l| l["list"] == list_a.as_str()).unwrap().clone();
    assert_eq!(listed["entries_in_force"], 1, "{stats}");

    // Feedback without a list applies every measure; "not applicable" reads as not applied.
    let again = || {
        app.client
            .post(format!("{}/api/v1/checks", app.base))
            .bearer_auth(&dept)
            .json(&json!({"subject": uscc, "scenario": scenario}))
            .send()
    };
    let second: serde_json::Value = again().await.unwrap().json().await.unwrap();
    let resp = app
        .client
        .post(format!("{}/api/v1/checks/{}/feedback", app.base, second["id"]))
        .bearer_auth(&dept)
        .json(&json!({"outcome": "applied"}))
        .send()
        .await
        .unwrap();
    let closed: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(closed["feedback"]["applied"], json!(got), "{closed}");
    let third: serde_json::Value = again().await.unwrap().json().await.unwrap();
    let resp = app
        .client
        .post(format!("{}/api/v1/checks/{}/feedback", app.base, third["id"]))
        .bearer_auth(&dept)
        .json(&json!({"outcome": "not_applicable", "note": "业务未办理"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let closed: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        (closed["feedback"]["outcome"].as_str(), closed["feedback"]["applied"].as_array().map(Vec::len)),
        (Some("not_applied"), Some(0))
    );

    // The check shows in the subject's query log like a query.
    let (_, log) = app.get(&format!("/api/v1/subjects/{uscc}/queries"), Some(&admin)).await;
    assert!(log.to_string().contains("check"), "{log}");
}

#[tokio::test]
async fn a_subject_on_no_list_gets_no_measures_and_other_scenarios_get_none() {
    let app = TestApp::spawn().await;
    let library = Library::default_library().unwrap();
    let (unit, _, list_a, _) = shared_pair(&library);
    list_entry(&app, &list_a, "（2026）沪01执9号", "2026-01-05");
    let dept = app.account("dept", Role::Department, Some(&unit), None);
    let c = company(5).id.as_str().to_owned();
    let post = |body: serde_json::Value| {
        app.client.post(format!("{}/api/v1/checks", app.base)).bearer_auth(dept.clone()).json(&body).send()
    };
    let resp = post(json!({"subject": c, "scenario": "self"})).await.unwrap();
    assert_eq!(resp.status(), 201);
    let check: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(check["result"]["measures"].as_array().map(Vec::len), Some(0));
    assert_eq!(post(json!({"subject": c, "scenario": "nonsense"})).await.unwrap().status(), 400);
    assert_eq!(post(json!({"subject": c, "scenario": "approval", "unit": "sh_tax"})).await.unwrap().status(), 403);
    let market = app.account("bank", Role::Market, Some("sh_finance"), None);
    let resp = app
        .client
        .post(format!("{}/api/v1/checks", app.base))
        .bearer_auth(market)
        .json(&json!({"subject": c, "scenario": "approval"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn screening_over_http_answers_one_row_per_input_row() {
    let app = TestApp::spawn().await;
    let library = Library::default_library().unwrap();
    let (_, _, list_a, _) = shared_pair(&library);
    list_entry(&app, &list_a, "（2026）沪01执7号", "2026-01-05");
    let dept = app.account("dept", Role::Department, Some("sh_housing"), None);
    let body = format!("identifier\n{}\nnot-an-id\n\n", company(5).id.as_str());
    let resp = app
        .client
        .post(format!("{}/api/v1/screenings?scenario=bidding", app.base))
        .bearer_auth(&dept)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = resp.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "header + 3 rows: {text}");
    assert!(lines[1].starts_with("1,") && lines[1].contains(&list_a), "{text}");
    assert!(lines[2].starts_with("2,not-an-id,false"), "{text}");
    assert!(lines[3].starts_with("3,,false,,,,empty"), "{text}");
    let public = app.client.post(format!("{}/api/v1/screenings", app.base)).body("x").send().await.unwrap();
    assert_eq!(public.status(), 401);
}

#[tokio::test]
async fn list_entries_are_filed_by_their_unit_and_listed_with_their_memoranda() {
    let app = TestApp::spawn().await;
    let court = app.account("court", Role::Supplier, Some("sh_court"), None);
    let amr = app.account("amr", Role::Supplier, Some("sh_amr"), None);
    let csv = "主体名称,统一社会信用代码,认定文书号,列入原因,列入日期,认定机关\n\
               上海失信示例有限公司,91310000631696382C,（2026）沪0115执1号,拒不履行,2026-02-01,浦东新区人民法院\n\
               坏行,91310000631696382D,（2026）沪0115执2号,拒不履行,2026-02-01,浦东新区人民法院\n";
    let post = |token: &str, list: &str| {
        app.client
            .post(format!("{}/api/v1/lists/{list}/entries?format=csv", app.base))
            .bearer_auth(token.to_owned())
            .body(csv)
            .send()
    };
    assert_eq!(post(&amr, "dishonest_debtor").await.unwrap().status(), 403, "only the initiating unit files its list");
    assert_eq!(post(&court, "no_such_list").await.unwrap().status(), 404);
    let resp = post(&court, "dishonest_debtor").await.unwrap();
    assert_eq!(resp.status(), 201);
    let report: serde_json::Value = resp.json().await.unwrap();
    assert_eq!((report["accepted"].as_u64(), report["rejected"].as_u64()), (Some(1), Some(1)), "{report}");

    let dept = app.account("dept", Role::Department, Some("sh_housing"), None);
    let (status, page) = app.get("/api/v1/lists/list_dishonest_debtor", Some(&dept)).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!((page["kind"].as_str(), page["total"].as_u64()), (Some("punishment"), Some(1)));
    assert_eq!(page["items"][0]["fields"]["document_number"], "(2026)沪0115执1号", "full-width brackets normalised");
    assert!(page["memoranda"].as_array().is_some_and(|m| !m.is_empty()), "{page}");
    assert_eq!(app.get("/api/v1/lists/list_dishonest_debtor", None).await.0, 401);
}

#[tokio::test]
async fn a_repaired_or_revoked_entry_no_longer_triggers_measures() {
    let app = TestApp::spawn().await;
    let library = Library::default_library().unwrap();
    let (unit, scenario, list_a, list_b) = shared_pair(&library);
    // 失信被执行人 cannot be repaired through the platform (policy data): it is revoked; the other is repaired.
    list_entry(&app, &list_a, "（2026）沪01执3号", "2026-01-05");
    list_entry(&app, &list_b, "沪税稽〔2026〕4号", "2026-02-05");
    let dept = app.account("dept", Role::Department, Some(&unit), None);
    let admin = app.account("admin", Role::Admin, None, None);
    let uscc = company(5).id.as_str().to_owned();
    let check = || async {
        let resp = app
            .client
            .post(format!("{}/api/v1/checks", app.base))
            .bearer_auth(&dept)
            .json(&json!({"subject": uscc, "scenario": scenario}))
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = resp.json().await.unwrap();
        v["result"]["entries"].as_array().map(Vec::len).unwrap_or(99)
    };
    assert_eq!(check().await, 2);
    let (_, profile) = app.get(&format!("/api/v1/subjects/{uscc}?purpose=supervision"), Some(&admin)).await;
    let id_of = |list: &str| {
        profile["records"].as_array().unwrap().iter().find(|r| r["item"] == list).unwrap()["id"].as_i64().unwrap()
    };
    let post = |path: String, body: serde_json::Value| {
        app.client.post(format!("{}{path}", app.base)).bearer_auth(&admin).json(&body).send()
    };
    let resp =
        post(format!("/api/v1/records/{}/revocation", id_of(&list_a)), json!({"basis": "court", "note": "撤销"}))
            .await
            .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(check().await, 1);
    let resp =
        post("/api/v1/repairs".into(), json!({"record": id_of(&list_b), "evidence": ["已缴清"], "commitment": true}))
            .await
            .unwrap();
    assert_eq!(resp.status(), 201, "{list_b} is repairable under the shipped policy");
    let repair: serde_json::Value = resp.json().await.unwrap();
    let resp =
        post(format!("/api/v1/repairs/{}/transition", repair["id"]), json!({"action": "approve"})).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(check().await, 0, "a repaired entry stops triggering measures");
}

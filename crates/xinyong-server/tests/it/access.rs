//! Purpose-bound, role-bound, logged profile access.

use xinyong_domain::access::Role;

use super::{TestApp, seed};

#[tokio::test]
async fn a_profile_without_a_token_is_401() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let (status, body) =
        app.get(&format!("/api/v1/subjects/{}?purpose=supervision", s.company.id.as_str()), None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _) = app.get("/api/v1/subjects/x?purpose=supervision", Some("xy_not-a-token")).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_profile_without_a_purpose_is_400_and_an_unknown_purpose_too() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let dept = app.account("d", Role::Department, Some("sh_housing"), None);
    let key = s.company.id.as_str().to_owned();
    let (status, body) = app.get(&format!("/api/v1/subjects/{key}"), Some(&dept)).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (400, Some("purpose_required")));
    let (status, _) = app.get(&format!("/api/v1/subjects/{key}?purpose=gossip"), Some(&dept)).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_department_sees_everything_for_a_government_purpose_given_in_chinese_or_code() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let dept = app.account("d", Role::Department, Some("sh_housing"), None);
    let key = s.company.id.as_str().to_owned();
    for purpose in ["supervision", "日常监管"] {
        let (status, body) = app.get(&format!("/api/v1/subjects/{key}?purpose={purpose}"), Some(&dept)).await;
        assert_eq!(status, 200, "{body}");
        let items: Vec<&str> =
            body["records"].as_array().unwrap().iter().map(|r| r["item"].as_str().unwrap()).collect();
        assert!(items.contains(&"social_insurance_arrears") && items.contains(&"tax_arrears"), "{items:?}");
        assert_eq!(body["subject"]["uscc"], key);
        assert_eq!(body["lists"][0]["list"], "list_dishonest_debtor");
        assert_eq!(body["lists"][0]["kind"], "punishment");
        let penalty = body["records"].as_array().unwrap().iter().find(|r| r["item"] == "admin_penalty").unwrap();
        assert_eq!((penalty["status"].as_str(), penalty["public"].as_bool()), (Some("active"), Some(true)));
    }
}

#[tokio::test]
async fn roles_outside_their_rights_get_403_and_the_refusal_is_logged() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let key = s.company.id.as_str().to_owned();
    let bank = app.account("bank", Role::Market, Some("sh_finance"), None);
    let supplier = app.account("sup", Role::Supplier, Some("sh_amr"), None);
    let other = app.account("other", Role::Subject, None, Some(app.subject_id(&s.person)));
    let (status, _) = app.get(&format!("/api/v1/subjects/{key}?purpose=supervision"), Some(&bank)).await;
    assert_eq!(status, 403);
    let (status, _) = app.get(&format!("/api/v1/subjects/{key}?purpose=supervision"), Some(&supplier)).await;
    assert_eq!(status, 403);
    let (status, _) = app.get(&format!("/api/v1/subjects/{key}?purpose=self"), Some(&other)).await;
    assert_eq!(status, 403);
    // Every refusal is in the subject's query log (the admin view shows the accounts).
    let admin = app.account("root", Role::Admin, None, None);
    let (status, log) = app.get(&format!("/api/v1/subjects/{key}/queries"), Some(&admin)).await;
    assert_eq!(status, 200);
    let outcomes: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["denied", "denied", "denied"], "{log}");
}

#[tokio::test]
async fn a_bank_sees_authorised_items_only_while_it_holds_an_unexpired_authorisation() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let key = s.company.id.as_str().to_owned();
    let bank = app.account("bank", Role::Market, Some("sh_finance"), None);
    let me = app.account("me", Role::Subject, None, Some(app.subject_id(&s.company)));
    let items = |body: &serde_json::Value| -> Vec<String> {
        body["records"].as_array().unwrap().iter().map(|r| r["item"].as_str().unwrap().to_owned()).collect()
    };
    let (status, body) = app.get(&format!("/api/v1/subjects/{key}?purpose=authorised"), Some(&bank)).await;
    assert_eq!(status, 200);
    assert!(!items(&body).contains(&"tax_arrears".to_owned()), "{body}");
    let (status, _) =
        app.get(&format!("/api/v1/subjects/{key}?purpose=authorised&openness=authorised"), Some(&bank)).await;
    assert_eq!(status, 403);

    let grant = serde_json::json!({ "subject": key, "grantee_unit": "sh_finance", "expires_at": "2027-01-01" });
    let resp = app
        .client
        .post(format!("{}/api/v1/authorisations", app.base))
        .bearer_auth(&me)
        .json(&grant)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let granted: serde_json::Value = resp.json().await.unwrap();
    let (_, body) = app.get(&format!("/api/v1/subjects/{key}?purpose=授权查询"), Some(&bank)).await;
    let seen = items(&body);
    assert!(
        seen.contains(&"tax_arrears".to_owned()) && !seen.contains(&"social_insurance_arrears".to_owned()),
        "{seen:?}"
    );

    let id = granted["id"].as_i64().unwrap();
    let resp =
        app.client.delete(format!("{}/api/v1/authorisations/{id}", app.base)).bearer_auth(&me).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let (_, body) = app.get(&format!("/api/v1/subjects/{key}?purpose=authorised"), Some(&bank)).await;
    assert!(!items(&body).contains(&"tax_arrears".to_owned()));
}

#[tokio::test]
async fn a_subject_sees_who_queried_it_and_others_may_not() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let key = s.company.id.as_str().to_owned();
    let dept = app.account("officer-wang", Role::Department, Some("sh_housing"), None);
    let me = app.account("me", Role::Subject, None, Some(app.subject_id(&s.company)));
    let (status, _) = app.get(&format!("/api/v1/subjects/{key}?purpose=approval"), Some(&dept)).await;
    assert_eq!(status, 200);
    let (status, log) = app.get(&format!("/api/v1/subjects/{key}/queries"), Some(&me)).await;
    assert_eq!(status, 200);
    let first = &log["items"][0];
    assert_eq!(first["unit"], "sh_housing");
    assert_eq!(first["purpose"], "approval");
    assert_eq!(first["purpose_label"], "行政审批");
    assert_eq!(first["outcome"], "allowed");
    assert!(first.get("account").is_none(), "officers' names are for admins: {first}");
    let (status, _) = app.get(&format!("/api/v1/subjects/{key}/queries"), Some(&dept)).await;
    assert_eq!(status, 403);
}

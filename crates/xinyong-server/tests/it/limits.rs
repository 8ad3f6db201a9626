//! 413 for bodies over their limit, 429 past an account's rate.

use xinyong_domain::access::Role;
use xinyong_server::Settings;

use super::TestApp;

#[tokio::test]
async fn an_oversized_json_body_is_413_and_an_oversized_batch_too() {
    let app =
        TestApp::spawn_with(Settings { max_body_bytes: 1024, max_batch_bytes: 4096, ..Settings::default() }).await;
    let admin = app.account("root", Role::Admin, None, None);
    let big =
        serde_json::json!({ "subject": "x".repeat(4000), "grantee_unit": "sh_finance", "expires_at": "2027-01-01" });
    let resp = app
        .client
        .post(format!("{}/api/v1/authorisations", app.base))
        .bearer_auth(&admin)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body = "行政相对人名称\n".repeat(1000);
    let resp = app
        .client
        .post(format!("{}/api/v1/batches?unit=sh_amr&item=admin_penalty&format=csv", app.base))
        .bearer_auth(&admin)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let err: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["code"], "too_large");
}

#[tokio::test]
async fn past_its_rate_an_account_gets_429() {
    let app = TestApp::spawn_with(Settings { rate_per_second: 1, rate_burst: 3, ..Settings::default() }).await;
    let admin = app.account("root", Role::Admin, None, None);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(app.get("/api/v1/stats/collection", Some(&admin)).await.0.as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(statuses[0], 200);
    // Another account is not affected.
    let other = app.account("other", Role::Admin, None, None);
    assert_eq!(app.get("/api/v1/stats/collection", Some(&other)).await.0, 200);
}

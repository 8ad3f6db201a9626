//! /healthz, /metrics, the OpenAPI document, unknown routes.

use xinyong_domain::access::Role;

use super::{TestApp, seed};

#[tokio::test]
async fn health_metrics_and_openapi_are_served() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get("/healthz", None).await;
    assert_eq!((status.as_u16(), body["status"].as_str()), (200, Some("ok")));
    let backend = if super::on_postgres() { "postgres" } else { "sqlite" };
    assert_eq!(body["backend"], backend, "this test binary runs on {backend}");
    let s = seed(&app);
    let dept = app.account("d", Role::Department, Some("sh_housing"), None);
    app.get(&format!("/api/v1/subjects/{}?purpose=supervision", s.company.id.as_str()), Some(&dept)).await;
    let (status, text) = app.get_text("/metrics", None).await;
    assert_eq!(status, 200);
    assert!(
        text.contains("xinyong_http_requests_total{method=\"GET\",route=\"/api/v1/subjects/{key}\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(text.contains("xinyong_audit_entries_total 1"), "{text}");
    let (status, doc) = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    for path in ["/api/v1/subjects/{key}", "/api/v1/batches", "/api/v1/public/penalties"] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing from OpenAPI");
    }
    let (status, body) = app.get("/nothing/here", None).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let resp = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert!(resp.headers().get("x-request-id").is_some());
    let resp = app.client.get(format!("{}/healthz", app.base)).header("x-request-id", "abc-123").send().await.unwrap();
    assert_eq!(resp.headers().get("x-request-id").unwrap(), "abc-123");
}

#[tokio::test]
async fn rejections_of_malformed_requests_use_the_json_error_shape() {
    let app = TestApp::spawn().await;
    let admin = app.account("root", Role::Admin, None, None);
    let resp = app
        .client
        .post(format!("{}/api/v1/authorisations", app.base))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request", "{body}");
    let (status, body) = app.get("/api/v1/public/penalties?page=abc", None).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().is_some(), "{body}");
}

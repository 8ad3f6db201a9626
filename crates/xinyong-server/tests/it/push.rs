//! Push of list changes to a real local HTTP receiver, which is down at first.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use xinyong_domain::access::Role;
use xinyong_server::Settings;

use super::TestApp;

type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver that answers 503 to its first request and 200 after, keeping what it got.
async fn receiver(addr: std::net::SocketAddr, got: Received) {
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let got = Arc::clone(&got);
            async move {
                let mut got = got.lock().unwrap();
                got.push((headers, body));
                if got.len() == 1 { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}

async fn deliveries(app: &TestApp, token: &str) -> Vec<Value> {
    app.get("/api/v1/deliveries", Some(token)).await.1["items"].as_array().cloned().unwrap_or_default()
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn list_changes_reach_a_subscribed_receiver_even_after_it_was_down() {
    let settings = Settings { push_interval_ms: 50, push_backoff_ms: 50, ..Settings::default() };
    let app = TestApp::spawn_with(settings).await;
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);

    let dept = app.account("dept", Role::Department, Some("sh_housing"), None);
    let resp = app
        .client
        .post(format!("{}/api/v1/subscriptions", app.base))
        .bearer_auth(&dept)
        .json(&json!({"url": format!("http://{addr}/hook"), "lists": ["dishonest_debtor"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let secret = resp.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();

    let court = app.account("court", Role::Supplier, Some("sh_court"), None);
    let csv = "主体名称,统一社会信用代码,认定文书号,列入原因,列入日期,认定机关\n\
               上海失信示例有限公司,91310000631696382C,（2026）沪0115执1号,拒不履行,2026-02-01,浦东新区人民法院\n";
    let resp = app
        .client
        .post(format!("{}/api/v1/lists/dishonest_debtor/entries?format=csv", app.base))
        .bearer_auth(&court)
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);

    // The receiver is down: the delivery waits in the outbox with its error.
    wait_for("failed attempts", async || {
        let d = deliveries(&app, &dept).await;
        d.first().is_some_and(|d| d["attempts"].as_u64() >= Some(2) && d["status"] == "pending")
    })
    .await;
    let d = deliveries(&app, &dept).await;
    assert!(d[0]["last_error"].as_str().unwrap().contains("could not reach"), "{d:?}");

    // Up again (first answer 503, then 200): delivered exactly once as far as the outbox is concerned.
    let got: Received = Arc::default();
    receiver(addr, Arc::clone(&got)).await;
    wait_for("delivery", async || deliveries(&app, &dept).await.first().is_some_and(|d| d["status"] == "delivered"))
        .await;
    let received = got.lock().unwrap().clone();
    assert!(received.len() >= 2, "a 503 is retried: {}", received.len());
    let (headers, body) = received.last().unwrap();
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (payload["event"].as_str(), payload["list"].as_str()),
        (Some("entries_filed"), Some("list_dishonest_debtor"))
    );
    assert_eq!(payload["entries"][0]["document_number"], "(2026)沪0115执1号");
    assert_eq!(
        headers["x-xinyong-signature"].to_str().unwrap(),
        xinyong_server::push::signature(&secret, body.as_bytes())
    );

    // A revocation of the entry is a change too.
    let admin = app.account("admin", Role::Admin, None, None);
    let record = payload["entries"][0]["record"].as_i64().unwrap();
    let resp = app
        .client
        .post(format!("{}/api/v1/records/{record}/revocation", app.base))
        .bearer_auth(&admin)
        .json(&json!({"basis": "court", "note": "执行完毕，撤销"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    wait_for("the revocation push", async || got.lock().unwrap().iter().any(|(_, b)| b.contains("entry_revoked")))
        .await;
    let other = app.account("other", Role::Department, Some("sh_tax"), None);
    assert!(deliveries(&app, &other).await.is_empty(), "a unit sees only its own deliveries");
}

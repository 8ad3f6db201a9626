//! Push of list changes to subscribed units: every `push_interval_ms` the changes not yet fanned out
//! are queued in the outbox (see `xinyong_store::outbox`) and due deliveries are POSTed as JSON with an
//! `X-Xinyong-Signature: sha256=<hex HMAC of the body>` header. A 2xx answer delivers; anything else
//! retries with doubling backoff until `push_max_attempts`, then the delivery is marked failed. The
//! outbox lives in the store, so a restart of this server or a receiver that was down loses nothing.
//! Receivers must accept a repeated delivery (its `X-Xinyong-Delivery` id tells them).

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use xinyong_store::outbox::{Attempt, Delivery};

use crate::state::AppState;

/// Deliveries attempted per round.
const PER_ROUND: u32 = 64;
const MAX_BACKOFF_MS: u64 = 3_600_000;

pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Retries are scheduled on wall time, not on the platform's business clock (which tests and
/// rehearsals may stop): a receiver that is down for a minute is retried after a minute.
#[allow(clippy::disallowed_methods)]
fn wall_now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::Utc::now().with_timezone(&crate::state::platform_offset())
}

/// Runs until the process ends.
pub async fn delivery_loop(state: AppState) {
    let client = match reqwest::Client::builder().timeout(Duration::from_secs(10)).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "push disabled: no HTTP client");
            return;
        }
    };
    let mut tick = tokio::time::interval(Duration::from_millis(state.settings.push_interval_ms.max(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = round(&state, &client).await {
            tracing::warn!(error = %e, "push round");
        }
    }
}

async fn round(state: &AppState, client: &reqwest::Client) -> anyhow::Result<()> {
    let now = wall_now();
    let due = state
        .blocking(move |store| {
            let catalog = store.load_catalog()?;
            let lists: Vec<String> = catalog.lists().map(|i| i.code.clone()).collect();
            let queued = store.pump_list_changes(&lists, now)?;
            if queued > 0 {
                tracing::info!(queued, "list changes queued for push");
            }
            Ok(store.due_deliveries(now, PER_ROUND)?)
        })
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    for (delivery, secret) in due {
        let attempt = attempt(state, client, &delivery, &secret).await;
        let id = delivery.id;
        let now = wall_now();
        state
            .blocking(move |store| Ok(store.record_attempt(id, &attempt, now)?))
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
    }
    Ok(())
}

async fn attempt(state: &AppState, client: &reqwest::Client, d: &Delivery, secret: &str) -> Attempt {
    let body = d.payload.to_string().into_bytes();
    let sent = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("x-xinyong-delivery", d.id.to_string())
        .header("x-xinyong-signature", signature(secret, &body))
        .body(body)
        .send()
        .await;
    let error = match sent {
        Ok(resp) if resp.status().is_success() => return Attempt::Delivered,
        Ok(resp) => format!("the receiver answered {}", resp.status()),
        Err(e) => format!("could not reach the receiver: {e}"),
    };
    let tried = d.attempts + 1;
    if tried >= state.settings.push_max_attempts {
        return Attempt::GiveUp { error };
    }
    let wait = state.settings.push_backoff_ms.saturating_mul(1 << (d.attempts.min(20))).min(MAX_BACKOFF_MS);
    let at = wall_now() + chrono::Duration::milliseconds(i64::try_from(wait).unwrap_or(i64::MAX));
    Attempt::Retry { error, at }
}

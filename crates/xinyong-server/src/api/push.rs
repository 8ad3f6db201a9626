//! `/subscriptions` and `/deliveries`: a unit subscribes its endpoint to lists and sees what was pushed.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xinyong_domain::access::Role;
use xinyong_domain::catalog::ListKind;
use xinyong_store::outbox::{Delivery, DeliveryStatus, NewSubscription, Subscription};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct SubscribeRequest {
    /// The receiver (http:// or https://); it gets one POST per change.
    pub url: String,
    /// List item codes (`list_dishonest_debtor` …; the `list_` prefix may be left out).
    pub lists: Vec<String>,
    /// An admin subscribes on behalf of a unit.
    #[serde(default)]
    pub unit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Subscribed {
    #[schema(value_type = Object)]
    pub subscription: Subscription,
    /// The HMAC key of the `X-Xinyong-Signature` header, shown once.
    pub secret: String,
}

#[utoipa::path(post, path = "/api/v1/subscriptions", request_body = SubscribeRequest,
    responses((status = 201, body = Subscribed), (status = 400), (status = 403)), security(("bearer" = [])), tag = "joint")]
pub async fn subscribe(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<SubscribeRequest>,
) -> ApiResult<(StatusCode, Json<Subscribed>)> {
    let unit = match caller.role() {
        Role::Admin => {
            req.unit.clone().ok_or_else(|| ApiError::bad_request("missing_unit", "name the subscribing unit"))?
        }
        Role::Department | Role::Supplier => {
            caller.account.unit.clone().ok_or_else(|| ApiError::forbidden("this account has no unit"))?
        }
        other => return Err(ApiError::forbidden(format!("the {} role does not subscribe", other.as_str()))),
    };
    let url =
        reqwest::Url::parse(&req.url).map_err(|e| ApiError::bad_request("bad_url", format!("{}: {e}", req.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ApiError::bad_request("bad_url", "the receiver is an http:// or https:// URL"));
    }
    if req.lists.is_empty() {
        return Err(ApiError::bad_request("missing_lists", "subscribe to at least one list"));
    }
    let lists: Vec<String> =
        req.lists.iter().map(|l| if l.starts_with("list_") { l.clone() } else { format!("list_{l}") }).collect();
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let new = NewSubscription { unit, url: req.url, secret: secret.clone(), lists, at: state.clock.now() };
    let subscription = state
        .blocking(move |store| {
            let catalog = store.load_catalog()?;
            if let Some(bad) = new.lists.iter().find(|l| catalog.item(l).is_none_or(|i| i.list_kind == ListKind::None))
            {
                return Err(ApiError::bad_request("unknown_list", format!("{bad} is not a list")));
            }
            Ok(store.subscribe(&new)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(Subscribed { subscription, secret })))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeliveryParams {
    /// pending, delivered or failed.
    pub status: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Delivery>,
}

#[utoipa::path(get, path = "/api/v1/deliveries", params(DeliveryParams),
    responses((status = 200, body = DeliveryList), (status = 403)), security(("bearer" = [])), tag = "joint")]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<DeliveryParams>,
) -> ApiResult<Json<DeliveryList>> {
    let unit = match caller.role() {
        Role::Admin => None,
        Role::Department | Role::Supplier => {
            Some(caller.account.unit.clone().ok_or_else(|| ApiError::forbidden("this account has no unit"))?)
        }
        other => return Err(ApiError::forbidden(format!("the {} role has no deliveries", other.as_str()))),
    };
    let status = match p.status.as_deref() {
        None => None,
        Some(s) => Some(
            DeliveryStatus::parse(s)
                .ok_or_else(|| ApiError::bad_request("bad_status", "pending, delivered or failed"))?,
        ),
    };
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let items = state.blocking(move |store| Ok(store.deliveries(unit.as_deref(), status, limit)?)).await?;
    Ok(Json(DeliveryList { items }))
}

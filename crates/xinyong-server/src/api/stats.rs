//! `GET /stats/collection`: rows collected per unit, category and month, and link rates;
//! `GET /stats/activity`: how the platform is used (queries, workflow cases).

use axum::Json;
use axum::extract::State;
use xinyong_domain::access::Role;
use xinyong_store::CollectionStats;
use xinyong_store::activity::ActivityStats;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/stats/collection", responses((status = 200, description = "collection statistics")),
    security(("bearer" = [])), tag = "stats")]
pub async fn collection(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<CollectionStats>> {
    caller.require(&[Role::Admin, Role::Department, Role::Supplier])?;
    Ok(Json(state.blocking(|store| Ok(store.collection_stats()?)).await?))
}

/// `GET /stats/activity`: purpose-bound queries by channel, purpose and month; cases by kind and status.
#[utoipa::path(get, path = "/api/v1/stats/activity", responses((status = 200, description = "use statistics")),
    security(("bearer" = [])), tag = "stats")]
pub async fn activity(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ActivityStats>> {
    caller.require(&[Role::Admin, Role::Department])?;
    Ok(Json(state.blocking(|store| Ok(store.activity_stats()?)).await?))
}

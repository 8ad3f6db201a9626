//! `GET /stats/collection`: rows collected per unit, category and month, and link rates.

use axum::Json;
use axum::extract::State;
use xinyong_domain::access::Role;
use xinyong_store::CollectionStats;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/stats/collection", responses((status = 200, description = "collection statistics")),
    security(("bearer" = [])), tag = "stats")]
pub async fn collection(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<CollectionStats>> {
    caller.require(&[Role::Admin, Role::Department, Role::Supplier])?;
    Ok(Json(state.blocking(|store| Ok(store.collection_stats()?)).await?))
}

//! `GET /subjects?q=TEXT`: search by any 2+ character part of a name, or by full or partial identifier.
//! Public fields only, masked for callers without full view; natural persons are found by name only by
//! callers with full view (a full resident ID always finds its person, masked).

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xinyong_domain::access::{View, personal_view};
use xinyong_store::search::SearchQuery;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::present::{Presenter, SubjectView};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    pub q: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub items: Vec<SubjectView>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[utoipa::path(get, path = "/api/v1/subjects", params(SearchParams),
    responses((status = 200, body = SearchResults), (status = 400), (status = 401)),
    security(("bearer" = [])), tag = "subjects")]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<SearchParams>,
) -> ApiResult<Json<SearchResults>> {
    run(&state, personal_view(caller.role(), false), params).await.map(Json)
}

/// The search under `view` (the public portal searches with [`View::Masked`]).
pub async fn run(state: &AppState, view: View, params: SearchParams) -> ApiResult<SearchResults> {
    let text = params.q.unwrap_or_default().trim().to_owned();
    if text.chars().count() < 2 {
        return Err(ApiError::bad_request("query_too_short", "search needs at least 2 characters"));
    }
    let query = SearchQuery {
        text,
        include_natural_persons: view == View::Full,
        page: params.page.unwrap_or(1).max(1),
        per_page: params.per_page.unwrap_or(20).clamp(1, 100),
    };
    let q = query.clone();
    let (catalog, page) = state.blocking(move |store| Ok((store.load_catalog()?, store.search_subjects(&q)?))).await?;
    let presenter = Presenter { catalog: &catalog, view, today: state.clock.today() };
    Ok(SearchResults {
        items: page.hits.iter().map(|h| presenter.hit(h)).collect(),
        total: page.total,
        page: query.page,
        per_page: query.per_page,
    })
}

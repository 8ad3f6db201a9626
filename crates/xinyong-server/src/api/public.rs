//! Public publication (no token): `/public/penalties`, `/public/licenses` (双公示) and
//! `/public/lists/{list}`, inside their disclosure windows at the moment of the request, newest first,
//! always masked. `{"items", "total", "page", "per_page"}`.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xinyong_domain::access::View;
use xinyong_domain::catalog::{Catalog, ListKind, Openness, Publication};
use xinyong_store::search::PublishedQuery;

use crate::error::{ApiError, ApiResult};
use crate::present::{Presenter, RecordView};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct PublicParams {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// Only this supplying unit.
    pub unit: Option<String>,
    /// Decision dates from / to (YYYY-MM-DD).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicPage {
    pub items: Vec<RecordView>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[utoipa::path(get, path = "/api/v1/public/penalties", params(PublicParams), responses((status = 200, body = PublicPage)), tag = "public")]
pub async fn penalties(State(state): State<AppState>, Query(p): Query<PublicParams>) -> ApiResult<Json<PublicPage>> {
    published(state, p, |c| Ok(items_where(c, |i| i.publication == Publication::Penalty))).await
}

#[utoipa::path(get, path = "/api/v1/public/licenses", params(PublicParams), responses((status = 200, body = PublicPage)), tag = "public")]
pub async fn licenses(State(state): State<AppState>, Query(p): Query<PublicParams>) -> ApiResult<Json<PublicPage>> {
    published(state, p, |c| Ok(items_where(c, |i| i.publication == Publication::License))).await
}

#[utoipa::path(get, path = "/api/v1/public/lists/{list}", params(("list" = String, Path, description = "list item code, e.g. list_dishonest_debtor (the list_ prefix may be left out)"), PublicParams),
    responses((status = 200, body = PublicPage), (status = 404)), tag = "public")]
pub async fn lists(
    State(state): State<AppState>,
    Path(list): Path<String>,
    Query(p): Query<PublicParams>,
) -> ApiResult<Json<PublicPage>> {
    let code = if list.starts_with("list_") { list } else { format!("list_{list}") };
    published(state, p, move |c| {
        let found = items_where(c, |i| i.code == code && i.list_kind != ListKind::None);
        if found.is_empty() { Err(ApiError::not_found(format!("no public list {code}"))) } else { Ok(found) }
    })
    .await
}

fn items_where(c: &Catalog, f: impl Fn(&xinyong_domain::catalog::CatalogItem) -> bool) -> Vec<String> {
    c.items().iter().filter(|i| i.openness == Openness::Public && f(i)).map(|i| i.code.clone()).collect()
}

async fn published(
    state: AppState,
    p: PublicParams,
    items: impl FnOnce(&Catalog) -> Result<Vec<String>, ApiError> + Send + 'static,
) -> ApiResult<Json<PublicPage>> {
    let today = state.clock.today();
    let page = p.page.unwrap_or(1).max(1);
    let per_page = p.per_page.unwrap_or(20).clamp(1, 100);
    let (catalog, records, total) = state
        .blocking(move |store| {
            let catalog = store.load_catalog()?;
            let items = items(&catalog)?;
            let q = PublishedQuery { items, today, unit: p.unit, from: p.from, to: p.to, page, per_page };
            let (records, total) = store.published_records(&q)?;
            Ok((catalog, records, total))
        })
        .await?;
    let presenter = Presenter { catalog: &catalog, view: View::Masked, today };
    Ok(Json(PublicPage { items: records.iter().map(|r| presenter.record(r, false)).collect(), total, page, per_page }))
}

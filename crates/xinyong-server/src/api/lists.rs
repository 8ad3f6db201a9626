//! `/lists/{type}`: a reward or punishment list as its users see it (the entries in force, with the
//! memoranda and measures it triggers), and filing entries, which goes through the same ingestion path
//! as any batch (the list is a catalog item; the initiating unit files it).

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use xinyong_domain::access::Role;
use xinyong_domain::catalog::ListKind;

use super::batches::create::BatchParams;
use super::public::{PublicPage, PublicParams};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct EntryParams {
    /// The initiating unit; a supplier's own unit when omitted.
    pub unit: Option<String>,
    /// csv, xlsx or jsonl.
    pub format: Option<String>,
    pub encoding: Option<String>,
    #[serde(default)]
    pub all_or_nothing: bool,
    pub file_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListPage {
    pub list: String,
    pub name: String,
    pub kind: String,
    /// Memoranda that map this list to measures.
    #[schema(value_type = Vec<Object>)]
    pub memoranda: Vec<Value>,
    #[serde(flatten)]
    pub page: PublicPage,
}

fn list_code(list: &str) -> String {
    if list.starts_with("list_") { list.to_owned() } else { format!("list_{list}") }
}

#[utoipa::path(post, path = "/api/v1/lists/{list}/entries", params(("list" = String, Path), EntryParams),
    request_body(content = String, description = "the entries file (CSV, XLSX or JSON lines)"),
    responses((status = 201, description = "the batch result"), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])), tag = "joint")]
pub async fn file_entries(
    State(state): State<AppState>,
    caller: Caller,
    Path(list): Path<String>,
    Query(p): Query<EntryParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let code = list_code(&list);
    let catalog = state.blocking(|store| Ok(store.load_catalog()?)).await?;
    if catalog.item(&code).is_none_or(|i| i.list_kind == ListKind::None) {
        return Err(ApiError::not_found(format!("no list {code}")));
    }
    let params = BatchParams {
        unit: p.unit,
        item: code,
        format: p.format,
        encoding: p.encoding,
        all_or_nothing: p.all_or_nothing,
        file_name: p.file_name,
    };
    super::batches::create::create(State(state), caller, Query(params), headers, body).await
}

#[utoipa::path(get, path = "/api/v1/lists/{list}", params(("list" = String, Path), PublicParams),
    responses((status = 200, body = ListPage), (status = 403), (status = 404)), security(("bearer" = [])), tag = "joint")]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(list): Path<String>,
    Query(p): Query<PublicParams>,
) -> ApiResult<Json<ListPage>> {
    caller.require(&[Role::Admin, Role::Department, Role::Supplier, Role::Market])?;
    let code = list_code(&list);
    let catalog = state.blocking(|store| Ok(store.load_catalog()?)).await?;
    let item = catalog
        .item(&code)
        .filter(|i| i.list_kind != ListKind::None)
        .ok_or_else(|| ApiError::not_found(format!("no list {code}")))?;
    let memoranda: Vec<Value> = state
        .policy
        .measures
        .memoranda()
        .iter()
        .filter(|m| m.lists.contains(&code))
        .map(|m| {
            let published = m.measures.iter().filter(|x| x.published).count();
            json!({ "code": m.code, "title": m.title, "document": m.document, "measures": published })
        })
        .collect();
    let kind = match item.list_kind {
        ListKind::Reward => "reward",
        _ => "punishment",
    };
    let (name, kind) = (item.name.clone(), kind.to_owned());
    let Json(page) = super::public::lists(State(state), Path(code.clone()), Query(p)).await?;
    Ok(Json(ListPage { list: code, name, kind, memoranda, page }))
}

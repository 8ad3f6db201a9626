//! Inspection plans of graded supervision (分级分类监管, 双随机抽查): `POST /inspections` draws per grade
//! from a recorded seed and stores plan, seed and sample; `GET /inspections/{id}` shows it (with a
//! check that redoing the draw gives the same sample); `GET /inspections/{id}/export?format=csv|xlsx`
//! exports the list, identifiers masked.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use xinyong_domain::access::{Role, View};
use xinyong_evaluate::export::{self, Row};
use xinyong_evaluate::run::LoadedModel;
use xinyong_evaluate::supervision::{self, Plan, PlanRequest};
use xinyong_store::evaluation::{Inspection, Population};
use xinyong_store::{Store, SubjectKey};

use crate::audit::Access;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::present::Presenter;
use crate::sheet::Sheet;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewInspection {
    pub name: String,
    /// `all`, `unit:CODE`, `item:CODE` or `district:NAME` (所属区 of the registration).
    pub population: String,
    /// Share per grade (0–1); default: the active model's `[supervision]` ratios.
    #[serde(default)]
    pub ratios: Option<BTreeMap<String, f64>>,
    /// The random seed; drawn by the platform and recorded when omitted.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// Parses `all`, `unit:X`, `item:X`, `district:X`.
pub fn parse_population(s: &str) -> Result<Population, String> {
    let s = s.trim();
    if s == "all" {
        return Ok(Population::All);
    }
    let (kind, value) =
        s.split_once(':').ok_or_else(|| format!("population {s:?}: use all, unit:CODE, item:CODE or district:NAME"))?;
    let value = value.trim().to_owned();
    if value.is_empty() {
        return Err(format!("population {s:?}: name the {kind}"));
    }
    match kind.trim() {
        "unit" => Ok(Population::Unit(value)),
        "item" => Ok(Population::Item(value)),
        "district" => Ok(Population::District(value)),
        other => Err(format!("population kind {other:?}: use unit, item or district")),
    }
}

/// Draws and stores a plan (shared with `xinyong inspect`).
pub fn make_plan(
    store: &dyn Store,
    name: &str,
    population: Population,
    ratios: Option<BTreeMap<String, f64>>,
    seed: u64,
    created_by: i64,
    now: xinyong_store::Timestamp,
) -> ApiResult<Inspection> {
    if name.trim().is_empty() {
        return Err(ApiError::bad_request("missing_name", "an inspection plan needs a name"));
    }
    let catalog = store.load_catalog()?;
    match &population {
        Population::Unit(u) if !catalog.units.iter().any(|x| &x.code == u) => {
            return Err(ApiError::bad_request("unknown_unit", format!("unit {u} is not registered")));
        }
        Population::Item(i) if catalog.item(i).is_none() => {
            return Err(ApiError::bad_request("unknown_item", format!("item {i} is not in the catalog")));
        }
        _ => {}
    }
    let model = LoadedModel::active(store, &catalog).map_err(ApiError::internal)?;
    let grades: Vec<String> = model.model.grades.iter().map(|g| g.grade.clone()).collect();
    let ratios = ratios.unwrap_or_else(|| model.model.supervision.clone());
    supervision::check_ratios(&ratios, &grades).map_err(|e| ApiError::bad_request("bad_ratios", e.0))?;
    let people = store.graded_population(&population)?;
    let request = PlanRequest { name: name.trim().to_owned(), population, ratios, seed };
    let plan = supervision::plan(&request, &model.model.version, &people);
    let value = serde_json::to_value(&plan).map_err(ApiError::internal)?;
    Ok(store.save_inspection(&value, created_by, now)?)
}

/// A stored plan as the API shows it: without the population list (it can be large), with the sample
/// and whether the draw reproduces.
fn view(i: &Inspection) -> ApiResult<Value> {
    let plan: Plan = serde_json::from_value(i.plan.clone()).map_err(ApiError::internal)?;
    let reproduces = supervision::redraw(&plan).is_ok_and(|s| s == plan.sample);
    Ok(json!({
        "id": i.id,
        "status": "drawn",
        "deadline": null,
        "history": [{ "action": "draw", "at": i.created_at.to_rfc3339(), "actor": i.created_by }],
        "name": plan.name,
        "population": plan.population,
        "ratios": plan.ratios,
        "seed": plan.seed,
        "algorithm": plan.algorithm,
        "model": plan.model,
        "population_by_grade": plan.population_by_grade,
        "drawn_by_grade": plan.drawn_by_grade,
        "reproducible": reproduces,
        "sample": plan.sample,
    }))
}

/// The rows of an export: each drawn subject's name, identifier (masked) and current score.
pub fn export_rows(store: &dyn Store, plan: &Plan, today: chrono::NaiveDate) -> ApiResult<Vec<Row>> {
    let catalog = store.load_catalog()?;
    let presenter = Presenter { catalog: &catalog, view: View::Masked, today };
    let mut rows = Vec::with_capacity(plan.sample.len());
    for d in &plan.sample {
        let subject = store.find_subject(&SubjectKey::Id(d.subject))?;
        let (name, identifier) = match subject {
            Some(s) => {
                let v = presenter.subject(&s);
                (v.name, v.uscc.or(v.resident_id).unwrap_or_default())
            }
            None => (String::new(), String::new()),
        };
        let score = store.latest_evaluation(d.subject)?.map(|e| e.score);
        rows.push(Row { subject: d.subject, name, identifier, grade: d.grade.clone(), score });
    }
    Ok(rows)
}

fn may_plan(caller: &Caller) -> ApiResult<()> {
    caller.require(&[Role::Admin, Role::Department, Role::Supplier])
}

#[utoipa::path(post, path = "/api/v1/inspections", request_body = NewInspection,
    responses((status = 201, description = "the plan with its seed and sample"), (status = 400), (status = 403)),
    security(("bearer" = [])), tag = "supervision")]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<NewInspection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    may_plan(&caller)?;
    let population = parse_population(&req.population).map_err(|m| ApiError::bad_request("bad_population", m))?;
    // A unit plans for its own population only.
    if caller.role() != Role::Admin
        && let Population::Unit(u) = &population
        && caller.account.unit.as_deref() != Some(u.as_str())
    {
        return Err(ApiError::forbidden("a unit draws inspection plans for its own population"));
    }
    let seed = req.seed.unwrap_or_else(rand::random);
    let now = state.clock.now();
    let account = caller.account.id;
    let inspection =
        state.blocking(move |store| make_plan(store, &req.name, population, req.ratios, seed, account, now)).await?;
    let body = view(&inspection)?;
    let access = Access { caller: &caller, action: "inspection_plan", subject_id: None, purpose: None };
    let detail = format!(
        "inspection plan {} seed {seed}: {} drawn",
        inspection.id,
        body["sample"].as_array().map_or(0, Vec::len)
    );
    state.auditor.record(access.entry(&*state.clock, "allowed", detail)).await?;
    Ok((StatusCode::CREATED, Json(body)))
}

async fn load(state: &AppState, id: i64) -> ApiResult<Inspection> {
    state
        .blocking(move |store| Ok(store.inspection(id)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("inspection plan {id}")))
}

#[utoipa::path(get, path = "/api/v1/inspections/{id}", params(("id" = i64, Path)),
    responses((status = 200, description = "the plan"), (status = 403), (status = 404)), security(("bearer" = [])), tag = "supervision")]
pub async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    may_plan(&caller)?;
    Ok(Json(view(&load(&state, id).await?)?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportParams {
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/inspections/{id}/export", params(("id" = i64, Path), ExportParams),
    responses((status = 200, description = "the list as CSV or XLSX"), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = [])), tag = "supervision")]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(p): Query<ExportParams>,
) -> ApiResult<Response> {
    may_plan(&caller)?;
    let sheet = Sheet::from_param(p.format.as_deref())?;
    let inspection = load(&state, id).await?;
    let plan: Plan = serde_json::from_value(inspection.plan).map_err(ApiError::internal)?;
    let today = state.clock.today();
    let bytes = state
        .blocking(move |store| {
            let rows = export_rows(store, &plan, today)?;
            let bytes = match sheet {
                Sheet::Csv => export::csv(&plan, &rows),
                Sheet::Xlsx => export::xlsx(&plan, &rows),
            };
            bytes.map_err(ApiError::internal)
        })
        .await?;
    let ext = sheet.extension();
    let access = Access { caller: &caller, action: "inspection_export", subject_id: None, purpose: None };
    state.auditor.record(access.entry(&*state.clock, "allowed", format!("inspection plan {id} as {ext}"))).await?;
    let disposition = format!("attachment; filename=\"inspection-{id}.{ext}\"");
    let mime = sheet.content_type().to_owned();
    Ok(([(header::CONTENT_TYPE, mime), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}

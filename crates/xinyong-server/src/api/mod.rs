//! Routes of `/api/v1` and the service endpoints (`/healthz`, `/metrics`, the OpenAPI document).

pub mod authorisations;
pub mod batches;
pub mod cases;
pub mod checks;
pub mod commitments;
pub mod evaluation;
pub mod inspections;
pub mod lists;
pub mod public;
pub mod push;
pub mod reports;
pub mod service;
pub mod stats;
pub mod subjects;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::routing::{delete, get, post};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "xinyong 公共信用信息服务平台 API", description = "CONTRACT.md §4"),
    paths(
        service::healthz,
        service::keys,
        batches::create::create,
        batches::get::get,
        batches::rejected::rejected_rows,
        subjects::search::search,
        subjects::get::profile,
        subjects::queries::queries,
        subjects::evaluations::evaluations,
        authorisations::grant,
        authorisations::revoke,
        public::penalties,
        public::licenses,
        public::lists,
        stats::collection,
        stats::activity,
        cases::file_objection,
        cases::get_objection,
        cases::list_objections,
        cases::objection_transition,
        cases::apply_repair,
        cases::get_repair,
        cases::list_repairs,
        cases::repair_transition,
        cases::revoke_record,
        cases::inbox,
        checks::check,
        checks::feedback,
        checks::get,
        checks::stats,
        checks::screening,
        lists::list,
        lists::file_entries,
        push::subscribe,
        push::deliveries,
        reports::create::create,
        reports::get::get,
        reports::verify::verify,
        commitments::file,
        commitments::list,
        commitments::get,
        commitments::fulfilment,
        evaluation::stats,
        inspections::create,
        inspections::get,
        inspections::export,
    ),
    modifiers(&BearerAuth),
    tags((name = "subjects"), (name = "batches"), (name = "public"), (name = "stats"), (name = "workflows"), (name = "joint"), (name = "reports"), (name = "supervision"), (name = "service"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Request ids: a per-process random prefix and a counter — unique, cheap, and not a timestamp.
#[derive(Clone)]
struct NextRequestId {
    prefix: u32,
    counter: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl MakeRequestId for NextRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{:08x}-{n:x}", self.prefix).parse().ok().map(RequestId::new)
    }
}

pub fn router(state: AppState) -> Router {
    let settings = state.settings.clone();
    let request_id = HeaderName::from_static("x-request-id");
    let api = Router::new()
        .route("/subjects", get(subjects::search::search))
        .route("/subjects/{key}", get(subjects::get::profile))
        .route("/subjects/{key}/queries", get(subjects::queries::queries))
        .route("/subjects/{key}/evaluations", get(subjects::evaluations::evaluations))
        .route("/subjects/{key}/authorisations", get(authorisations::list))
        .route("/authorisations", post(authorisations::grant))
        .route("/authorisations/{id}", delete(authorisations::revoke))
        .route("/batches/{id}", get(batches::get::get))
        .route("/batches/{id}/rejected-rows", get(batches::rejected::rejected_rows))
        .route("/public/penalties", get(public::penalties))
        .route("/public/licenses", get(public::licenses))
        .route("/public/lists/{list}", get(public::lists))
        .route("/stats/collection", get(stats::collection))
        .route("/stats/activity", get(stats::activity))
        .route("/objections", post(cases::file_objection).get(cases::list_objections))
        .route("/objections/{id}", get(cases::get_objection))
        .route("/objections/{id}/transition", post(cases::objection_transition))
        .route("/repairs", post(cases::apply_repair).get(cases::list_repairs))
        .route("/repairs/{id}", get(cases::get_repair))
        .route("/repairs/{id}/transition", post(cases::repair_transition))
        .route("/records/{id}/revocation", post(cases::revoke_record))
        .route("/inbox", get(cases::inbox))
        .route("/checks", post(checks::check))
        .route("/checks/{id}", get(checks::get))
        .route("/checks/{id}/feedback", post(checks::feedback))
        .route("/stats/joint", get(checks::stats))
        .route("/lists/{list}", get(lists::list))
        .route("/subscriptions", post(push::subscribe))
        .route("/deliveries", get(push::deliveries))
        .route("/reports", post(reports::create::create))
        .route("/reports/{file}", get(reports::get::get))
        .route("/commitments", post(commitments::file).get(commitments::list))
        .route("/commitments/{id}", get(commitments::get))
        .route("/commitments/{id}/fulfilment", post(commitments::fulfilment))
        .route("/stats/evaluation", get(evaluation::stats))
        .route("/inspections", post(inspections::create))
        .route("/inspections/{id}", get(inspections::get))
        .route("/inspections/{id}/export", get(inspections::export))
        .route("/keys", get(service::keys))
        .route("/openapi.json", get(service::openapi))
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(settings.request_timeout_secs),
        ));
    // Uploads stream to disk under their own size limit and a longer timeout.
    let uploads = Router::new()
        .route("/batches", post(batches::create::create))
        .route("/lists/{list}/entries", post(lists::file_entries))
        // Screening answers in memory: bounded (64 MiB ≈ 3 million identifiers); larger lists use `xinyong screen`.
        .route("/screenings", post(checks::screening).layer(DefaultBodyLimit::max(64 << 20)))
        // A report file to verify: PDFs of long reports run to a few MiB.
        .route("/reports/verify", post(reports::verify::verify).layer(DefaultBodyLimit::max(32 << 20)))
        .layer(DefaultBodyLimit::disable())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(settings.batch_timeout_secs),
        ));
    let make_id = NextRequestId { prefix: rand::random(), counter: Default::default() };
    Router::new()
        .route("/healthz", get(service::healthz))
        .route("/metrics", get(service::metrics))
        .nest("/api/v1", api.merge(uploads))
        .merge(crate::web::router(&state))
        .fallback(service::not_found)
        .layer(axum::middleware::from_fn(crate::error::json_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::metrics::track))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, make_id))
        .with_state(state)
}

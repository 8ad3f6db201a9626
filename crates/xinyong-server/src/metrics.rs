//! Prometheus metrics: requests by route and status, latency by route, batches and rows ingested,
//! audit entries written and refused, workflow cases past their deadline.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::state::AppState;

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    pub batches: IntCounterVec,
    pub rows: IntCounterVec,
    pub audit_entries: IntCounter,
    pub audit_failures: IntCounter,
    /// Open objections, repairs … past their statutory deadline, set at each scrape.
    pub overdue: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("xinyong_http_requests_total", "HTTP requests by route and status"),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("xinyong_http_request_seconds", "HTTP request latency by route")
                .buckets(vec![0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]),
            &["route"],
        )?;
        let batches =
            IntCounterVec::new(Opts::new("xinyong_batches_total", "Batches ingested by status"), &["status"])?;
        let rows = IntCounterVec::new(Opts::new("xinyong_rows_total", "Rows ingested by outcome"), &["outcome"])?;
        let audit_entries = IntCounter::new("xinyong_audit_entries_total", "Query-log entries written")?;
        let audit_failures =
            IntCounter::new("xinyong_audit_failures_total", "Accesses refused because they could not be logged")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(batches.clone()))?;
        registry.register(Box::new(rows.clone()))?;
        registry.register(Box::new(audit_entries.clone()))?;
        let overdue = IntGaugeVec::new(
            Opts::new("xinyong_cases_overdue", "Open workflow cases past their statutory deadline, by kind"),
            &["kind"],
        )?;
        registry.register(Box::new(audit_failures.clone()))?;
        registry.register(Box::new(overdue.clone()))?;
        Ok(Metrics { registry, requests, latency, batches, rows, audit_entries, audit_failures, overdue })
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::error!(error = %e, "encoding metrics");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// Counts and times every request under its route template (never the raw path: keys stay bounded).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    state.metrics.requests.with_label_values(&[route.as_str(), method.as_str(), status.as_str()]).inc();
    state.metrics.latency.with_label_values(&[route.as_str()]).observe(started.elapsed().as_secs_f64());
    response
}

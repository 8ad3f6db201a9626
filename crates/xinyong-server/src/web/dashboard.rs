//! 综合监测: the centre's dashboard — collection by unit, category and month, link rates, queries by
//! channel, purpose and month, objections and repairs with their timeliness, the joint-punishment loop.
//! Admins and departments see it; the figures are the same as `GET /api/v1/stats/…`.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use xinyong_domain::access::{Purpose, Role};
use xinyong_domain::catalog::Category;
use xinyong_store::activity::CaseCount;

use super::chart;
use super::session::Visitor;
use super::{Chrome, OrPage, WebResult, render};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    c: Chrome,
    subjects: u64,
    records: u64,
    batches: u64,
    link_rate: String,
    by_unit: String,
    by_month: String,
    by_category: String,
    link_rates: String,
    by_channel: String,
    by_purpose: String,
    queries_by_month: String,
    cases: Vec<CaseCount>,
    cases_chart: String,
    loop_chart: String,
    loop_rows: Vec<(String, u64, u64, u64)>,
    grades_chart: String,
}

fn category_label(code: &str) -> String {
    Category::ALL.iter().find(|c| c.as_str() == code).map_or_else(|| code.to_owned(), |c| c.label().to_owned())
}

pub async fn dashboard(State(state): State<AppState>, v: Visitor) -> WebResult {
    let role = v.signed_in().page(&v)?.account().role;
    if !matches!(role, Role::Admin | Role::Department) {
        return Err(ApiError::forbidden("the dashboard is for the centre and departments")).page(&v);
    }
    let (stats, activity, loops, runs) = state
        .blocking(|store| {
            Ok((store.collection_stats()?, store.activity_stats()?, store.loop_stats()?, store.evaluation_runs(1)?))
        })
        .await
        .page(&v)?;
    // The grade distribution of every subject's current score (公共信用综合评价).
    let grades: Vec<(String, f64)> =
        runs.first().map(|r| r.grades.iter().map(|(g, x)| (g.clone(), *x as f64)).collect()).unwrap_or_default();
    let t = v.lang.text();
    let n = |x: u64| x as f64;
    let by_unit: Vec<(String, f64)> = stats.by_unit.iter().map(|u| (u.name.clone(), n(u.accepted))).collect();
    let mut months: BTreeMap<String, u64> = BTreeMap::new();
    let mut categories: BTreeMap<String, u64> = BTreeMap::new();
    for row in &stats.by_category_month {
        *months.entry(row.month.clone()).or_default() += row.accepted;
        *categories.entry(category_label(&row.category)).or_default() += row.accepted;
    }
    let mut categories: Vec<(String, f64)> = categories.into_iter().map(|(k, x)| (k, n(x))).collect();
    categories.sort_by(|a, b| b.1.total_cmp(&a.1));
    let link_rates: Vec<(String, f64)> =
        stats.by_unit.iter().map(|u| (u.name.clone(), (u.link_rate * 1000.0).round() / 10.0)).collect();
    let (accepted, linked) = stats.by_unit.iter().fold((0, 0), |(a, l), u| (a + u.accepted, l + u.linked));
    let link_rate =
        if accepted == 0 { "—".to_owned() } else { format!("{:.1}%", linked as f64 * 100.0 / accepted as f64) };
    let purpose_label = |code: &str| Purpose::parse(code).map_or_else(|| code.to_owned(), |p| p.label().to_owned());
    let by_purpose: Vec<(String, f64)> =
        activity.queries_by_purpose.iter().map(|(p, x)| (purpose_label(p), n(*x))).collect();
    let by_channel: Vec<(String, f64)> = activity.queries_by_channel.iter().map(|(c, x)| (c.clone(), n(*x))).collect();
    let queries_by_month: Vec<(String, f64)> =
        activity.queries_by_month.iter().map(|(m, x)| (m.clone(), n(*x))).collect();
    // Cases: open, closed and closed-with-a-late-step, per kind.
    let mut per_kind: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for c in &activity.cases {
        let e = per_kind.entry(c.kind.clone()).or_default();
        if c.open {
            e.0 += c.cases;
        } else {
            e.1 += c.cases;
        }
        e.2 += c.late;
    }
    let mut cases_bars = Vec::new();
    for (kind, (open, closed, late)) in &per_kind {
        cases_bars.push((format!("{kind} · {}", t.open), n(*open)));
        cases_bars.push((format!("{kind} · {}", t.closed), n(*closed)));
        cases_bars.push((format!("{kind} · {}", t.late), n(*late)));
    }
    let mut loop_units: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for l in &loops {
        let e = loop_units.entry(l.unit.clone()).or_default();
        e.0 += l.checks;
        e.1 += l.hits;
        e.2 += l.feedback;
    }
    let loop_rows: Vec<(String, u64, u64, u64)> = loop_units.into_iter().map(|(u, (c, h, f))| (u, c, h, f)).collect();
    let loop_bars: Vec<(String, f64)> = loop_rows
        .iter()
        .map(|(u, _, h, f)| (u.clone(), if *h == 0 { 0.0 } else { (*f as f64 * 1000.0 / *h as f64).round() / 10.0 }))
        .collect();
    let page = Dashboard {
        c: Chrome::new(&v, t.dashboard),
        subjects: stats.subjects,
        records: stats.records,
        batches: stats.batches,
        link_rate,
        by_unit: chart::bars(t.collection_by_unit, &by_unit, "", None, t.no_data),
        by_month: chart::columns(
            t.collection_by_month,
            &months.into_iter().map(|(k, x)| (k, n(x))).collect::<Vec<_>>(),
            t.no_data,
        ),
        by_category: chart::bars(t.collection_by_category, &categories, "", None, t.no_data),
        link_rates: chart::bars(t.link_rate_by_unit, &link_rates, "%", Some(100.0), t.no_data),
        by_channel: chart::bars(t.queries_by_channel, &by_channel, "", None, t.no_data),
        by_purpose: chart::bars(t.queries_by_purpose, &by_purpose, "", None, t.no_data),
        queries_by_month: chart::columns(t.queries_by_month, &queries_by_month, t.no_data),
        cases: activity.cases,
        cases_chart: chart::bars(t.cases_timeliness, &cases_bars, "", None, t.no_data),
        loop_chart: chart::bars(t.joint_loop, &loop_bars, "%", Some(100.0), t.no_data),
        loop_rows,
        grades_chart: chart::bars(t.grades, &grades, "", None, t.no_data),
    };
    render(&page, &v)
}

//! Public pages (no sign-in): home, search, a subject's public page, 双公示 and list publication, and
//! the rules in plain words. Everything here is masked, as the public API is.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use xinyong_domain::access::View;
use xinyong_domain::catalog::{ListKind, Openness};
use xinyong_domain::disclosure::Regime;
use xinyong_domain::record::RecordStatus;
use xinyong_domain::subject::SubjectKind;
use xinyong_domain::workflow::Deadlines;
use xinyong_store::SubjectKey;
use xinyong_store::workflow::CaseKind;

use super::session::Visitor;
use super::view::RecordRow;
use super::{Chrome, OrPage, WebResult, render};
use crate::api::public::PublicParams;
use crate::api::subjects::search::{SearchParams, SearchResults};
use crate::error::ApiError;
use crate::present::{ListView, Presenter, SubjectView};
use crate::state::AppState;

/// A link to one page of a paged list.
pub struct Pager {
    pub page: u32,
    pub pages: u32,
    pub total: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `base` is the page's path and query without `page=`.
    pub fn new(base: &str, page: u32, per_page: u32, total: u64) -> Pager {
        let pages = u32::try_from(total.div_ceil(u64::from(per_page.max(1)))).unwrap_or(u32::MAX).max(1);
        let sep = if base.contains('?') { '&' } else { '?' };
        let link = |p: u32| format!("{base}{sep}page={p}");
        Pager {
            page,
            pages,
            total,
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    c: Chrome,
    subjects: u64,
    records: u64,
    batches: u64,
    lists: Vec<(String, String)>,
}

pub async fn home(State(state): State<AppState>, v: Visitor) -> WebResult {
    let (stats, catalog) =
        state.blocking(|store| Ok((store.collection_stats()?, store.load_catalog()?))).await.page(&v)?;
    let lists = catalog
        .items()
        .iter()
        .filter(|i| i.list_kind != ListKind::None && i.openness == Openness::Public)
        .map(|i| (i.code.clone(), i.name.clone()))
        .collect();
    let c = Chrome::new(&v, v.lang.text().platform);
    render(&Home { c, subjects: stats.subjects, records: stats.records, batches: stats.batches, lists }, &v)
}

#[derive(Template)]
#[template(path = "search.html")]
struct Search {
    c: Chrome,
    q: String,
    results: Option<SearchResults>,
    pager: Option<Pager>,
    problem: Option<String>,
}

#[derive(Deserialize)]
pub struct SearchForm {
    q: Option<String>,
    page: Option<u32>,
}

pub async fn search(State(state): State<AppState>, v: Visitor, Query(f): Query<SearchForm>) -> WebResult {
    let q = f.q.unwrap_or_default().trim().to_owned();
    let mut page =
        Search { c: Chrome::new(&v, v.lang.text().search), q: q.clone(), results: None, pager: None, problem: None };
    if !q.is_empty() {
        let params = SearchParams { q: Some(q.clone()), page: f.page, per_page: Some(20) };
        match crate::api::subjects::search::run(&state, View::Masked, params).await {
            Ok(results) => {
                let base = format!("/search?q={}", super::urlencode(&q));
                page.pager = Some(Pager::new(&base, results.page, results.per_page, results.total));
                page.results = Some(results);
            }
            Err(e) if e.status.is_client_error() => page.problem = Some(e.message),
            Err(e) => return Err(e).page(&v),
        }
    }
    render(&page, &v)
}

#[derive(Template)]
#[template(path = "subject.html")]
struct SubjectPage {
    c: Chrome,
    subject: SubjectView,
    records: Vec<RecordRow>,
    lists: Vec<ListView>,
}

/// A legal person's public page: 双公示 records inside their windows and public list memberships.
/// Natural persons have none (their published decisions appear masked in the lists only).
pub async fn subject(State(state): State<AppState>, v: Visitor, Path(id): Path<i64>) -> WebResult {
    let found = state
        .blocking(move |store| {
            let Some(subject) = store.find_subject(&SubjectKey::Id(id))? else { return Ok(None) };
            if subject.kind == SubjectKind::NaturalPerson {
                return Ok(None);
            }
            let records = store.records_of(subject.id)?;
            let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
            let disputed = store.records_with_open_case(CaseKind::Objection, &ids)?;
            Ok(Some((subject, records, disputed, store.load_catalog()?)))
        })
        .await
        .page(&v)?;
    let Some((subject, records, disputed, catalog)) = found else {
        return Err(ApiError::not_found("no such subject")).page(&v);
    };
    let presenter = Presenter { catalog: &catalog, view: View::Masked, today: state.clock.today() };
    let mut shown = Vec::new();
    let mut lists = Vec::new();
    for r in &records {
        let Some(item) = catalog.item(&r.item) else { continue };
        if item.openness != Openness::Public || presenter.status(r) != RecordStatus::Active {
            continue;
        }
        if item.list_kind != ListKind::None {
            lists.extend(presenter.list_entry(r));
        } else if presenter.is_public(r, Some(item)) {
            shown.push(presenter.record(r, disputed.contains(&r.id)));
        }
    }
    shown.sort_by_key(|r| std::cmp::Reverse(r.date));
    let view = presenter.subject(&subject);
    let c = Chrome::new(&v, view.name.clone());
    let shown = super::view::rows(shown, &catalog, v.lang);
    render(&SubjectPage { c, subject: view, records: shown, lists }, &v)
}

#[derive(Template)]
#[template(path = "publicity.html")]
struct Publicity {
    c: Chrome,
    kind: String,
    heading: String,
    lists: Vec<(String, String)>,
    total: u64,
    records: Vec<RecordRow>,
    pager: Pager,
    unit: String,
    from: String,
    to: String,
}

#[derive(Deserialize)]
pub struct PublicityForm {
    page: Option<u32>,
    unit: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `/publicity/penalties`, `/publicity/licenses`, `/publicity/list_…`: the public lists with filters.
pub async fn publicity(
    State(state): State<AppState>,
    v: Visitor,
    Path(kind): Path<String>,
    Query(f): Query<PublicityForm>,
) -> WebResult {
    let t = v.lang.text();
    let params = PublicParams {
        page: f.page,
        per_page: Some(20),
        unit: f.unit.clone().filter(|u| !u.trim().is_empty()),
        from: super::form_date("from", f.from.as_deref()).page(&v)?,
        to: super::form_date("to", f.to.as_deref()).page(&v)?,
    };
    let catalog = state.blocking(|store| Ok(store.load_catalog()?)).await.page(&v)?;
    let lists: Vec<(String, String)> = catalog
        .items()
        .iter()
        .filter(|i| i.list_kind != ListKind::None && i.openness == Openness::Public)
        .map(|i| (i.code.clone(), i.name.clone()))
        .collect();
    let (heading, answer) = match kind.as_str() {
        "penalties" => (t.penalties.to_owned(), crate::api::public::penalties(State(state), Query(params)).await),
        "licenses" => (t.licenses.to_owned(), crate::api::public::licenses(State(state), Query(params)).await),
        list => {
            let name = catalog
                .items()
                .iter()
                .find(|i| i.code == list && i.list_kind != ListKind::None)
                .map(|i| i.name.clone())
                .ok_or_else(|| ApiError::not_found(format!("no public list {list}")))
                .page(&v)?;
            (name, crate::api::public::lists(State(state), Path(list.to_owned()), Query(params)).await)
        }
    };
    let page = answer.page(&v)?.0;
    let mut base = format!("/publicity/{kind}?");
    for (k, val) in [("unit", &f.unit), ("from", &f.from), ("to", &f.to)] {
        if let Some(val) = val.as_deref().filter(|s| !s.is_empty()) {
            base.push_str(&format!("{k}={}&", super::urlencode(val)));
        }
    }
    let base = base.trim_end_matches(['&', '?']).to_owned();
    let pager = Pager::new(&base, page.page, page.per_page, page.total);
    let c = Chrome::new(&v, heading.clone());
    let (unit, from, to) = (f.unit.unwrap_or_default(), f.from.unwrap_or_default(), f.to.unwrap_or_default());
    let (total, records) = (page.total, super::view::rows(page.items, &catalog, v.lang));
    render(&Publicity { c, kind, heading, lists, total, records, pager, unit, from, to }, &v)
}

#[derive(Template)]
#[template(path = "rules.html")]
struct Rules {
    c: Chrome,
    regimes: Vec<Regime>,
    deadlines: Deadlines,
    not_repairable: Vec<(String, String)>,
}

pub async fn rules(State(state): State<AppState>, v: Visitor) -> WebResult<Response> {
    let catalog = state.blocking(|store| Ok(store.load_catalog()?)).await.page(&v)?;
    let policy = &state.policy;
    let mut regimes = policy.regimes.all().to_vec();
    regimes.sort_by_key(|r| std::cmp::Reverse(r.effective_from));
    let not_repairable = catalog
        .items()
        .iter()
        .filter_map(|i| {
            let o = policy.regimes.item_override(&i.code)?;
            (!o.repairable).then(|| (i.name.clone(), o.reason.clone().unwrap_or_default()))
        })
        .collect();
    let c = Chrome::new(&v, v.lang.text().rules);
    render(&Rules { c, regimes, deadlines: policy.deadlines, not_repairable }, &v)
}

//! Issuing credit reports (DOMAIN.md §8) and fetching them again in a format.
//!
//! Which records a report may carry is decided here with the same rules as a profile
//! ([`crate::present`]: openness for the caller's role, [`shared_with`], masking); a standard report then
//! keeps what is in force and disclosed ([`Presenter::is_current`]), a special report what is in force
//! in its period ([`Presenter::in_force`]). The arrangement into sections is `xinyong_report::build`.
//!
//! A report is stored as its canonical JSON when issued; every format is rendered from that body and
//! signed when fetched, so a fetched file always verifies against the published keys. The issue is
//! written to the subject's query log (who, for what purpose) before the answer leaves, and a natural
//! person's own requests are limited to the free reports of the year unless an admin issues them.

use std::sync::{Arc, OnceLock};

use chrono::{Datelike, Months, NaiveDate, TimeZone, Timelike};
use xinyong_domain::access::{Purpose, Role, View, may_see, may_use_purpose, personal_view};
use xinyong_domain::catalog::{Catalog, CatalogItem, Category};
use xinyong_domain::subject::SubjectKind;
use xinyong_report::build::{Domains, QueryLine, ReportInput, ReportRecord, build};
use xinyong_report::model::{Evaluation, Field, Period, Report, ReportKind};
use xinyong_report::pdf::PdfEngine;
use xinyong_report::sign::Format;
use xinyong_store::reports::{FreeQuota, NewReport, Saved, StoredReport};
use xinyong_store::workflow::CaseKind;
use xinyong_store::{Record, Store, Subject, SubjectKey};

use crate::audit::Access;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::present::{Presenter, shared_with};
use crate::state::AppState;

/// How many query-log lines a natural person's report lists.
const QUERY_LINES: u32 = 50;

/// Report machinery shared by the handlers: the PDF engine (fonts are parsed on first use) and the
/// domains of special reports.
pub struct Reporting {
    pdf: OnceLock<Result<Arc<PdfEngine>, String>>,
    pub domains: Domains,
}

impl Reporting {
    pub fn new() -> anyhow::Result<Reporting> {
        Ok(Reporting { pdf: OnceLock::new(), domains: Domains::default_domains()? })
    }

    /// The PDF engine, loaded on first use; 503 with the reason when no CJK font is installed.
    pub fn pdf(&self, font_dir: Option<&std::path::Path>) -> ApiResult<Arc<PdfEngine>> {
        let loaded = self.pdf.get_or_init(|| PdfEngine::load(font_dir).map(Arc::new).map_err(|e| e.to_string()));
        loaded.clone().map_err(|m| ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "pdf_unavailable", m))
    }
}

/// What a caller asks for (`POST /reports`, `xinyong report`).
#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub subject: String,
    pub kind: ReportKind,
    pub domains: Vec<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub purpose: Option<String>,
}

/// The purpose when none is named: a subject asks for itself, a market institution under the
/// subject's authorisation, a department for an approval, an admin at the subject's request.
fn default_purpose(role: Role) -> Purpose {
    match role {
        Role::Market => Purpose::Authorised,
        Role::Department => Purpose::Approval,
        _ => Purpose::SelfQuery,
    }
}

fn parse_period(req: &IssueRequest, today: NaiveDate) -> ApiResult<Option<Period>> {
    if req.kind == ReportKind::Standard {
        return Ok(None);
    }
    let to = req.to.unwrap_or(today);
    // Without `from`: the three years before `to` (the usual look-back of a certificate of no record).
    let from = req.from.unwrap_or_else(|| to.checked_sub_months(Months::new(36)).unwrap_or(to));
    if from > to {
        return Err(ApiError::bad_request("bad_period", format!("from ({from}) is after to ({to})")));
    }
    if to > today {
        return Err(ApiError::bad_request("bad_period", format!("to ({to}) is in the future")));
    }
    Ok(Some(Period { from, to }))
}

/// Issues a report: checks access, arranges the report, stores it and logs the issue. Returns the
/// stored report (its canonical JSON in `body`).
pub async fn issue(state: &AppState, caller: &Caller, req: IssueRequest) -> ApiResult<StoredReport> {
    let today = state.clock.today();
    // Whole seconds: the issue time is printed on the report.
    let now = state.clock.now();
    let now = now.with_nanosecond(0).unwrap_or(now);
    let role = caller.role();
    let purpose = match req.purpose.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => default_purpose(role),
        Some(p) => Purpose::parse(p).ok_or_else(|| {
            ApiError::bad_request("unknown_purpose", format!("purpose: {p:?} is not a known purpose"))
        })?,
    };
    let period = parse_period(&req, today)?;
    let domains = match req.kind {
        ReportKind::Standard => Vec::new(),
        ReportKind::Special => {
            if req.domains.is_empty() {
                return Err(ApiError::bad_request("domains_required", "domains: a special report names its domains"));
            }
            let mut out = Vec::new();
            for d in &req.domains {
                let found = state.reports.domains.find(d).ok_or_else(|| {
                    let known: Vec<&str> = state.reports.domains.all().iter().map(|d| d.code.as_str()).collect();
                    ApiError::bad_request(
                        "unknown_domain",
                        format!("domains: {d:?} is not a domain ({})", known.join(", ")),
                    )
                })?;
                if !out.contains(found) {
                    out.push(found.clone());
                }
            }
            out
        }
    };
    let key = crate::api::subjects::parse_key(&req.subject, today)
        .map_err(|e| ApiError::bad_request(e.code, format!("subject: {}", e.message)))?;
    let mut access = Access { caller, action: "report", subject_id: None, purpose: Some(purpose) };
    let grants_needed = role == Role::Market;
    let person_queries = QUERY_LINES;
    let found = state
        .blocking(move |store| {
            let Some(subject) = store.find_subject(&key)? else { return Ok(None) };
            let records = store.records_of(subject.id)?;
            let grants = if grants_needed { store.authorisations_of(subject.id)? } else { Vec::new() };
            let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
            let disputed = store.records_with_open_case(CaseKind::Objection, &ids)?;
            let queries = if subject.kind == SubjectKind::NaturalPerson {
                store.audit_of_subject(subject.id, person_queries, 0)?
            } else {
                Vec::new()
            };
            let evaluation = store.latest_evaluation(subject.id)?;
            Ok(Some((subject, records, grants, store.load_catalog()?, disputed, queries, evaluation)))
        })
        .await?;
    let Some((subject, records, grants, catalog, disputed, queries, evaluation)) = found else {
        state.auditor.record(access.entry(&*state.clock, "not_found", "report: no such subject")).await?;
        return Err(ApiError::not_found("no such subject"));
    };
    access.subject_id = Some(subject.id);
    let own = caller.account.subject_id == Some(subject.id);
    if !may_use_purpose(role, purpose) {
        let reason = format!("the {} role may not ask for a report for {}", role.as_str(), purpose.code());
        return deny(state, &access, reason).await;
    }
    if role == Role::Subject && !own {
        return deny(state, &access, "a subject may ask only for its own report".to_owned()).await;
    }
    let authorised = crate::api::subjects::get::authorised_by(caller, &grants, now);
    let presenter = Presenter { catalog: &catalog, view: personal_view(role, own), today };
    // A report leaves the platform (it is handed to banks and offices): personal data of the people
    // named in its records (legal representatives' ID numbers …) is always masked in it; the header
    // shows the subject as the caller may see it.
    let records_view = Presenter { catalog: &catalog, view: View::Masked, today };
    let mut shown = Vec::new();
    for r in &records {
        let Some(item) = catalog.item(&r.item) else { continue };
        if !may_see(role, item.openness, authorised, own) || !shared_with(role, own, r) {
            continue;
        }
        let inside = match period {
            None => presenter.is_current(r),
            Some(p) => presenter.in_force(r) && r.date >= p.from && r.date <= p.to,
        };
        if inside {
            shown.push(report_record(&records_view, item, r, disputed.contains(&r.id)));
        }
    }
    let issued_to = issued_to(caller, &catalog);
    let number = new_number(now);
    let view = presenter.subject(&subject);
    let input = ReportInput {
        number: number.clone(),
        kind: req.kind,
        platform: state.settings.platform_name.clone(),
        issued_at: now,
        issued_to: issued_to.clone(),
        purpose: purpose.label().to_owned(),
        verify_url: verify_url(&state.settings.public_url, &number),
        subject_kind: subject.kind,
        subject_name: view.name.clone(),
        subject_identifier: view.uscc.clone().or(view.resident_id.clone()).unwrap_or_default(),
        basic: basic_fields(&subject, &presenter),
        records: shown,
        evaluation: evaluation.map(|e| Evaluation { score: f64::from(e.score), grade: e.grade, model: e.model }),
        queries: query_lines(&queries, &catalog),
        period,
        domains,
        catalog_has_judgments: catalog.items().iter().any(|i| i.category == Category::Judgment),
    };
    let report = build(input);
    let body = report.canonical_json().map_err(ApiError::internal)?;
    let free = role == Role::Subject && subject.kind == SubjectKind::NaturalPerson;
    let quota = free.then(|| FreeQuota { limit: state.settings.free_reports_per_year, since: year_start(now) });
    let new = NewReport {
        number: number.clone(),
        subject_id: subject.id,
        kind: req.kind.as_str().to_owned(),
        issued_at: now,
        account_id: (caller.account.id > 0).then_some(caller.account.id),
        issued_to: issued_to.clone(),
        purpose: purpose.code().to_owned(),
        free,
        body,
    };
    match state.blocking(move |store| Ok(store.save_report(&new, quota)?)).await? {
        Saved::Stored(stored) => {
            let detail =
                format!("issued {} report {} to {} for {}", req.kind.as_str(), number, issued_to, purpose.label());
            state.auditor.record(access.entry(&*state.clock, "allowed", detail)).await?;
            Ok(stored)
        }
        Saved::QuotaUsed { used } => {
            let limit = state.settings.free_reports_per_year;
            let reason = format!(
                "a natural person gets {limit} free credit reports a year and {used} were issued in {}; \
                 further reports are issued by a platform admin (自然人每年可免费获取{limit}份信用报告)",
                now.year()
            );
            state.auditor.record(access.entry(&*state.clock, "denied", reason.clone())).await?;
            Err(ApiError::new(axum::http::StatusCode::FORBIDDEN, "free_report_limit", reason))
        }
    }
}

async fn deny<T>(state: &AppState, access: &Access<'_>, reason: String) -> ApiResult<T> {
    state.auditor.record(access.entry(&*state.clock, "denied", reason.clone())).await?;
    Err(ApiError::forbidden(reason))
}

/// `XY` + issue date + 10 random hexadecimal digits: unique without a counter, and not guessable.
fn new_number(now: xinyong_store::Timestamp) -> String {
    let random: u64 = rand::random();
    format!("XY{}{:010X}", now.format("%Y%m%d"), random & 0xff_ffff_ffff)
}

pub fn verify_url(public_url: &str, number: &str) -> String {
    format!("{}/verify/{number}", public_url.trim_end_matches('/'))
}

fn year_start(now: xinyong_store::Timestamp) -> xinyong_store::Timestamp {
    now.offset().with_ymd_and_hms(now.year(), 1, 1, 0, 0, 0).single().unwrap_or(now)
}

/// Whom the report is issued to, as printed: the unit's name (or the account's) and the role.
fn issued_to(caller: &Caller, catalog: &Catalog) -> String {
    let a = &caller.account;
    let who = a
        .unit
        .as_ref()
        .map(|u| catalog.units.iter().find(|d| &d.code == u).map_or(u.clone(), |d| d.name.clone()))
        .unwrap_or_else(|| a.name.clone());
    format!("{who}（{}）", a.role.label())
}

/// A record as the report shows it: labelled fields in catalog order, masked as the presenter
/// requires; the party's own name and identifiers are left out (the report's header names them).
fn report_record(p: &Presenter<'_>, item: &CatalogItem, r: &Record, disputed: bool) -> ReportRecord {
    let view = p.record(r, disputed);
    let party = &item.party;
    let skip: Vec<&str> =
        [Some(&party.name), party.kind.as_ref(), party.uscc.as_ref(), party.id_type.as_ref(), party.id_number.as_ref()]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .chain([item.source_key.as_str()])
            .collect();
    let fields = item
        .fields
        .iter()
        .filter(|f| !skip.contains(&f.key.as_str()))
        .filter_map(|f| view.fields.get(&f.key).filter(|v| !v.is_empty()).map(|v| Field::new(&f.label, v)))
        .collect();
    ReportRecord {
        id: r.id,
        item: item.code.clone(),
        item_name: item.name.clone(),
        category: item.category,
        info_class: item.info_class,
        publication: item.publication,
        list_kind: item.list_kind,
        severity: r.severity,
        unit: r.unit.clone(),
        date: r.date,
        disputed,
        document: r.source_key.clone(),
        fields,
    }
}

fn basic_fields(subject: &Subject, p: &Presenter<'_>) -> Vec<Field> {
    let mut out = Vec::new();
    let earlier: Vec<&str> = subject.names.iter().map(String::as_str).filter(|n| *n != subject.name).collect();
    if !earlier.is_empty() && p.view == View::Full {
        out.push(Field::new("曾用名", earlier.join("、")));
    }
    if let Some(org) = &subject.org_code {
        out.push(Field::new("组织机构代码", org));
    }
    out
}

/// A natural person's query record: the units that looked, when, for what (officers' names are not
/// shown, as in `GET /subjects/{key}/queries`).
fn query_lines(records: &[xinyong_store::audit::AuditRecord], catalog: &Catalog) -> Vec<QueryLine> {
    records
        .iter()
        .filter(|r| r.entry.outcome == "allowed")
        .map(|r| {
            let by = match &r.entry.unit {
                Some(u) => catalog.units.iter().find(|d| &d.code == u).map_or(u.clone(), |d| d.name.clone()),
                None => r.entry.role.label().to_owned(),
            };
            let purpose = r.entry.purpose.map_or("—".to_owned(), |p| p.label().to_owned());
            QueryLine { at: r.entry.at, by, purpose }
        })
        .collect()
}

/// The stored report in `format`, signed with the platform's current key.
pub async fn render(state: &AppState, stored: &StoredReport, format: Format) -> ApiResult<Vec<u8>> {
    let keyring = state.keyring.clone().ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "signing_unavailable",
            "the platform has no signing keys",
        )
    })?;
    let report = Report::from_json(&stored.body).map_err(ApiError::internal)?;
    let pdf = match format {
        Format::Pdf => Some(state.reports.pdf(state.settings.font_dir.as_deref())?),
        _ => None,
    };
    tokio::task::spawn_blocking(move || xinyong_report::render(&report, format, pdf.as_deref(), &keyring))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// A stored report by id, if the caller may fetch it: admins, the account that asked for it, and the
/// subject itself.
pub async fn fetch(state: &AppState, caller: &Caller, id: i64) -> ApiResult<StoredReport> {
    let stored = state
        .blocking(move |store: &dyn Store| Ok(store.report(id)?))
        .await?
        .ok_or_else(|| ApiError::not_found("no such report"))?;
    let allowed = caller.role() == Role::Admin
        || Some(caller.account.id) == stored.account_id
        || caller.account.subject_id == Some(stored.subject_id);
    if !allowed {
        return Err(ApiError::forbidden("only admins, the requester and the subject itself may fetch a report"));
    }
    Ok(stored)
}

/// A subject for the verification page: by number.
pub async fn by_number(state: &AppState, number: String) -> ApiResult<Option<(StoredReport, Option<Subject>)>> {
    state
        .blocking(move |store| {
            let Some(r) = store.report_by_number(&number)? else { return Ok(None) };
            let subject = store.find_subject(&SubjectKey::Id(r.subject_id))?;
            Ok(Some((r, subject)))
        })
        .await
}

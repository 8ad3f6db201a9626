//! Arranging a subject's records into a report: which section each record belongs to (DOMAIN.md §8),
//! the verdicts of a special report, and the 信用状况提升建议 derived from what is on file.
//!
//! The caller decides *which* records may appear (disclosure window, status, openness, masking — the
//! server's rules) and passes them as [`ReportRecord`]s; this module only arranges them, so the rules
//! live in one place.

use chrono::NaiveDate;
use serde::Deserialize;
use xinyong_domain::catalog::{Category, InfoClass, ListKind, Publication, Severity};
use xinyong_domain::subject::SubjectKind;
use xinyong_store::Timestamp;

use crate::model::{
    EMPTY_TEXT, Entry, Evaluation, FORMAT_VERSION, Field, Period, Report, ReportKind, ReportSubject, Section, Verdict,
};

/// The domains of special reports shipped with xinyong.
pub const DEFAULT_DOMAINS_TOML: &str = include_str!("../../../data/report/domains.toml");

/// The sections of a standard report, in order (DOMAIN.md §8). Natural persons' reports add the
/// query record (DOMAIN.md §5: reports show who used the information).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKey {
    Basic,
    License,
    Penalty,
    Reward,
    Punishment,
    Watch,
    Commitment,
    Evaluation,
    Judgment,
    Other,
    Queries,
    Advice,
}

impl SectionKey {
    const LEGAL: [SectionKey; 11] = [
        SectionKey::Basic,
        SectionKey::License,
        SectionKey::Penalty,
        SectionKey::Reward,
        SectionKey::Punishment,
        SectionKey::Watch,
        SectionKey::Commitment,
        SectionKey::Evaluation,
        SectionKey::Judgment,
        SectionKey::Other,
        SectionKey::Advice,
    ];
    const PERSON: [SectionKey; 12] = [
        SectionKey::Basic,
        SectionKey::License,
        SectionKey::Penalty,
        SectionKey::Reward,
        SectionKey::Punishment,
        SectionKey::Watch,
        SectionKey::Commitment,
        SectionKey::Evaluation,
        SectionKey::Judgment,
        SectionKey::Other,
        SectionKey::Queries,
        SectionKey::Advice,
    ];

    /// The sections of a report on a subject of this kind, in order.
    pub fn for_kind(kind: SubjectKind) -> &'static [SectionKey] {
        if kind == SubjectKind::NaturalPerson { &SectionKey::PERSON } else { &SectionKey::LEGAL }
    }

    pub fn code(self) -> &'static str {
        match self {
            SectionKey::Basic => "basic",
            SectionKey::License => "license",
            SectionKey::Penalty => "penalty",
            SectionKey::Reward => "reward",
            SectionKey::Punishment => "punishment",
            SectionKey::Watch => "watch",
            SectionKey::Commitment => "commitment",
            SectionKey::Evaluation => "evaluation",
            SectionKey::Judgment => "judgment",
            SectionKey::Other => "other",
            SectionKey::Queries => "queries",
            SectionKey::Advice => "advice",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            SectionKey::Basic => "基础信息",
            SectionKey::License => "行政许可",
            SectionKey::Penalty => "行政处罚",
            SectionKey::Reward => "守信激励",
            SectionKey::Punishment => "失信惩戒",
            SectionKey::Watch => "重点关注",
            SectionKey::Commitment => "信用承诺",
            SectionKey::Evaluation => "信用评价",
            SectionKey::Judgment => "司法判决",
            SectionKey::Other => "其他",
            SectionKey::Queries => "查询记录",
            SectionKey::Advice => "信用状况提升建议",
        }
    }
}

/// One record as it may appear in the report: already filtered and masked by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRecord {
    pub id: i64,
    pub item: String,
    pub item_name: String,
    pub category: Category,
    pub info_class: InfoClass,
    pub publication: Publication,
    pub list_kind: ListKind,
    pub severity: Severity,
    /// The supplying unit's code.
    pub unit: String,
    pub date: NaiveDate,
    pub disputed: bool,
    /// The record's document number (its source key), shown as the entry's title.
    pub document: String,
    /// Labelled field values in catalog order, personal ones masked as the caller requires.
    pub fields: Vec<Field>,
}

/// Which section a record belongs to, by its catalog item.
pub fn section_of(r: &ReportRecord) -> SectionKey {
    if r.publication == Publication::License {
        SectionKey::License
    } else if r.publication == Publication::Penalty {
        SectionKey::Penalty
    } else if r.category == Category::Judgment {
        SectionKey::Judgment
    } else if r.list_kind == ListKind::Reward || r.info_class == InfoClass::Reward {
        SectionKey::Reward
    } else if r.list_kind == ListKind::Punishment || r.info_class == InfoClass::Punishment {
        SectionKey::Punishment
    } else if r.info_class == InfoClass::Watch {
        SectionKey::Watch
    } else if r.info_class == InfoClass::Basic {
        SectionKey::Basic
    } else {
        SectionKey::Other
    }
}

/// One entry of a natural person's query record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryLine {
    pub at: Timestamp,
    /// The querying unit or account, as the subject may see it.
    pub by: String,
    pub purpose: String,
}

/// A domain of special reports (data: `data/report/domains.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub code: String,
    pub name: String,
    pub units: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainsFile {
    domains: Vec<Domain>,
}

/// The domains of special reports.
#[derive(Debug, Clone)]
pub struct Domains(Vec<Domain>);

impl Domains {
    pub fn default_domains() -> Result<Domains, toml::de::Error> {
        Domains::from_toml(DEFAULT_DOMAINS_TOML)
    }

    pub fn from_toml(text: &str) -> Result<Domains, toml::de::Error> {
        Ok(Domains(toml::from_str::<DomainsFile>(text)?.domains))
    }

    pub fn all(&self) -> &[Domain] {
        &self.0
    }

    /// A domain by code, Chinese name or one of its unit codes.
    pub fn find(&self, name: &str) -> Option<&Domain> {
        let name = name.trim();
        self.0.iter().find(|d| d.code == name || d.name == name || d.units.iter().any(|u| u == name))
    }
}

/// Everything a report is made from.
#[derive(Debug, Clone)]
pub struct ReportInput {
    pub number: String,
    pub kind: ReportKind,
    pub platform: String,
    pub issued_at: Timestamp,
    pub issued_to: String,
    pub purpose: String,
    pub verify_url: String,
    pub subject_kind: SubjectKind,
    pub subject_name: String,
    pub subject_identifier: String,
    /// Registration facts for 基础信息 (besides name and identifier), e.g. 法定代表人.
    pub basic: Vec<Field>,
    pub records: Vec<ReportRecord>,
    /// The subject's evaluation; `None` until the evaluation engine provides one.
    pub evaluation: Option<Evaluation>,
    /// A natural person's query record (who used the information).
    pub queries: Vec<QueryLine>,
    /// Special reports: the period and the domains.
    pub period: Option<Period>,
    pub domains: Vec<Domain>,
    /// Whether the catalog holds criminal judgments at all (a special report says so when not).
    pub catalog_has_judgments: bool,
}

/// Arranges the input into a report.
pub fn build(input: ReportInput) -> Report {
    let person = input.subject_kind == SubjectKind::NaturalPerson;
    let subtitle = match (input.kind, person) {
        (ReportKind::Special, _) => "（替代有无违法违规记录证明）",
        (ReportKind::Standard, true) => "（自然人版）",
        (ReportKind::Standard, false) => "（法人和非法人组织版）",
    };
    let subject = ReportSubject {
        kind: input.subject_kind.as_str().to_owned(),
        kind_label: input.subject_kind.label().to_owned(),
        name: input.subject_name.clone(),
        identifier_label: if person { "居民身份证号码" } else { "统一社会信用代码" }.to_owned(),
        identifier: input.subject_identifier.clone(),
    };
    let (sections, verdicts) = match input.kind {
        ReportKind::Standard => (standard_sections(&input), Vec::new()),
        ReportKind::Special => (vec![basic_section(&input, &input.records)], verdicts(&input)),
    };
    Report {
        format_version: FORMAT_VERSION,
        number: input.number.clone(),
        kind: input.kind,
        title: input.kind.title().to_owned(),
        subtitle: subtitle.to_owned(),
        platform: input.platform.clone(),
        issued_at: input.issued_at,
        issued_to: input.issued_to.clone(),
        purpose: input.purpose.clone(),
        verify_url: input.verify_url.clone(),
        subject,
        period: input.period,
        sections,
        verdicts,
        notes: notes(&input),
    }
}

fn section(key: SectionKey, entries: Vec<Entry>) -> Section {
    Section {
        key: key.code().to_owned(),
        title: key.title().to_owned(),
        text: entries.is_empty().then(|| EMPTY_TEXT.to_owned()),
        entries,
    }
}

fn entry(r: &ReportRecord) -> Entry {
    let title = if r.document.is_empty() { r.item_name.clone() } else { format!("{} {}", r.item_name, r.document) };
    Entry { title, date: Some(r.date), disputed: r.disputed, fields: r.fields.clone() }
}

fn standard_sections(input: &ReportInput) -> Vec<Section> {
    SectionKey::for_kind(input.subject_kind)
        .iter()
        .map(|&key| match key {
            SectionKey::Basic => basic_section(input, &input.records),
            SectionKey::Evaluation => section(key, input.evaluation.iter().map(evaluation_entry).collect()),
            SectionKey::Queries => section(key, input.queries.iter().map(query_entry).collect()),
            SectionKey::Advice => section(key, advice(input).into_iter().map(advice_entry).collect()),
            _ => {
                let mut rows: Vec<&ReportRecord> = input.records.iter().filter(|r| section_of(r) == key).collect();
                rows.sort_by(|a, b| b.date.cmp(&a.date).then(a.id.cmp(&b.id)));
                section(key, rows.into_iter().map(entry).collect())
            }
        })
        .collect()
}

/// 基础信息: who the subject is, then its registration records.
fn basic_section(input: &ReportInput, records: &[ReportRecord]) -> Section {
    let person = input.subject_kind == SubjectKind::NaturalPerson;
    let mut fields = vec![
        Field::new(if person { "姓名" } else { "名称" }, &input.subject_name),
        Field::new(if person { "居民身份证号码" } else { "统一社会信用代码" }, &input.subject_identifier),
        Field::new("主体类别", input.subject_kind.label()),
    ];
    fields.extend(input.basic.iter().cloned());
    let mut entries = vec![Entry { title: "主体信息".to_owned(), date: None, disputed: false, fields }];
    entries.extend(records.iter().filter(|r| section_of(r) == SectionKey::Basic).map(entry));
    section(SectionKey::Basic, entries)
}

fn evaluation_entry(e: &Evaluation) -> Entry {
    Entry {
        title: "公共信用综合评价".to_owned(),
        date: None,
        disputed: false,
        fields: vec![
            Field::new("评价等级", &e.grade),
            Field::new("评价分值", format!("{}", e.score)),
            Field::new("评价模型", &e.model),
        ],
    }
}

fn query_entry(q: &QueryLine) -> Entry {
    Entry {
        title: q.at.format("%Y-%m-%d %H:%M").to_string(),
        date: Some(q.at.date_naive()),
        disputed: false,
        fields: vec![Field::new("查询机构", &q.by), Field::new("查询原因", &q.purpose)],
    }
}

fn advice_entry(text: String) -> Entry {
    Entry { title: text, date: None, disputed: false, fields: Vec::new() }
}

/// 信用状况提升建议, derived from what is on file.
pub fn advice(input: &ReportInput) -> Vec<String> {
    let count = |key: SectionKey| input.records.iter().filter(|r| section_of(r) == key).count();
    let mut out = Vec::new();
    let penalties = count(SectionKey::Penalty);
    if penalties > 0 {
        out.push(format!(
            "存在行政处罚信息{penalties}条：请按处罚决定全面履行义务（缴清罚没款、完成整改）；最短公示期满后，符合条件的可申请信用修复，修复后不再公示。"
        ));
    }
    let lists: Vec<&str> = input
        .records
        .iter()
        .filter(|r| section_of(r) == SectionKey::Punishment)
        .map(|r| r.item_name.as_str())
        .collect();
    if !lists.is_empty() {
        out.push(format!(
            "已被列入失信惩戒名单（{}）：请尽快履行生效法律文书或认定文书确定的义务，履行完毕后依法申请移出名单。",
            dedup(&lists).join("、")
        ));
    }
    let watch = count(SectionKey::Watch);
    if watch > 0 {
        out.push(format!("存在重点关注信息{watch}条（如欠缴税费）：请及时清缴，避免形成失信记录。"));
    }
    let disputed = input.records.iter().filter(|r| r.disputed).count();
    if disputed > 0 {
        out.push(format!("有{disputed}条信息正在异议处理中（标注“异议中”），处理结果以信息提供单位的决定为准。"));
    }
    let rewards: Vec<&str> =
        input.records.iter().filter(|r| section_of(r) == SectionKey::Reward).map(|r| r.item_name.as_str()).collect();
    if !rewards.is_empty() {
        out.push(format!(
            "已获守信激励（{}），可在行政审批、政府采购等场景享受便利措施，请继续保持。",
            dedup(&rewards).join("、")
        ));
    }
    if penalties == 0 && lists.is_empty() && watch == 0 {
        out.push("查询期内未发现失信信息，请继续保持良好的信用记录，可主动作出信用承诺。".to_owned());
    }
    out
}

fn dedup<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        if !out.contains(n) {
            out.push(n);
        }
    }
    out
}

/// Is this record a violation a special report looks for (penalty, enforcement, punishment list,
/// criminal judgment)?
fn is_violation(r: &ReportRecord) -> bool {
    r.publication == Publication::Penalty
        || r.category == Category::Enforcement
        || r.category == Category::Judgment
        || r.list_kind == ListKind::Punishment
}

fn verdicts(input: &ReportInput) -> Vec<Verdict> {
    let period = match input.period {
        Some(p) => format!("{}至{}", p.from.format("%Y年%m月%d日"), p.to.format("%Y年%m月%d日")),
        None => "查询期内".to_owned(),
    };
    let mut out = Vec::new();
    for d in &input.domains {
        let found: Vec<&ReportRecord> =
            input.records.iter().filter(|r| is_violation(r) && d.units.contains(&r.unit)).collect();
        let conclusion = if found.is_empty() {
            format!("{period}，在{}领域未发现行政处罚（含简易程序处罚）、严重失信主体名单等违法违规记录。", d.name)
        } else {
            format!("{period}，在{}领域发现违法违规记录{}条，详见下列信息。", d.name, found.len())
        };
        out.push(verdict(&d.code, &d.name, conclusion, &found));
    }
    let enforcement: Vec<&ReportRecord> =
        input.records.iter().filter(|r| r.category == Category::Enforcement).collect();
    let conclusion = if enforcement.is_empty() {
        format!("{period}，未发现被列为失信被执行人等强制执行信息。")
    } else {
        format!("{period}，发现强制执行信息{}条。", enforcement.len())
    };
    out.push(verdict("enforcement", "强制执行", conclusion, &enforcement));
    let serious: Vec<&ReportRecord> = input
        .records
        .iter()
        .filter(|r| r.list_kind == ListKind::Punishment && r.severity == Severity::Serious)
        .collect();
    let conclusion = if serious.is_empty() {
        format!("{period}，未发现被列入严重失信主体名单。")
    } else {
        format!("{period}，发现被列入严重失信主体名单{}条。", serious.len())
    };
    out.push(verdict("serious_dishonesty", "严重失信主体名单", conclusion, &serious));
    let judgments: Vec<&ReportRecord> = input.records.iter().filter(|r| r.category == Category::Judgment).collect();
    let conclusion = if !input.catalog_has_judgments {
        "本平台信息目录未归集刑事判决信息，本项未作核查。".to_owned()
    } else if judgments.is_empty() {
        format!("{period}，未发现刑事判决信息。")
    } else {
        format!("{period}，发现刑事判决信息{}条。", judgments.len())
    };
    out.push(verdict("criminal_judgment", "刑事判决", conclusion, &judgments));
    out
}

fn verdict(code: &str, name: &str, conclusion: String, found: &[&ReportRecord]) -> Verdict {
    Verdict {
        domain: code.to_owned(),
        name: name.to_owned(),
        found: !found.is_empty(),
        conclusion,
        entries: found.iter().map(|r| entry(r)).collect(),
    }
}

fn notes(input: &ReportInput) -> Vec<String> {
    let mut out = vec![
        format!(
            "本报告由{}依据《上海市社会信用条例》出具，所载信息由各信息提供单位归集，反映截至出具时间平台所掌握的情况。",
            input.platform
        ),
        "本报告仅披露在公示期内、未经信用修复、未被撤销或删除的信息；标注“异议中”的信息正在异议处理中。".to_owned(),
    ];
    if input.kind == ReportKind::Special {
        out.push("本专用信用报告可替代相关领域的有无违法违规记录证明。".to_owned());
    }
    out.push(format!(
        "本报告附有平台电子签名（Ed25519），任何改动均会导致核验失败。扫描二维码或访问 {} 核验真伪。",
        input.verify_url
    ));
    out
}

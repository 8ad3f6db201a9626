//! Records as pages show them: field labels from the catalog, unit names instead of codes, the party
//! and document number up front, statuses in words. Built from the API's [`RecordView`], so masking
//! has already happened.

use xinyong_domain::catalog::Catalog;

use super::i18n::Lang;
use crate::policy::WindowView;
use crate::present::RecordView;

pub struct RecordRow {
    pub id: i64,
    pub item_name: String,
    pub category: String,
    pub severity: &'static str,
    pub date: String,
    pub status: String,
    pub status_label: &'static str,
    pub disputed: bool,
    pub public_until: Option<String>,
    pub window: Option<WindowView>,
    pub unit: String,
    /// Whom the record is about (行政相对人名称 …), when the item names one.
    pub party: String,
    /// The decision or licence number, when the item has one.
    pub number: String,
    pub fields: Vec<(String, String)>,
}

/// A profile's evaluation in a few words: score, grade and model version.
pub fn evaluation_label(e: &serde_json::Value) -> String {
    let score = e["score"].as_i64().map_or_else(|| "—".to_owned(), |s| s.to_string());
    format!("{score} · {} ({})", e["grade"].as_str().unwrap_or("—"), e["model"].as_str().unwrap_or("—"))
}

/// A subject kind in words.
pub fn kind_label(kind: &str, lang: &Lang) -> &'static str {
    match (kind, *lang) {
        ("legal_person", Lang::Zh) => "法人及非法人组织",
        ("individual_business", Lang::Zh) => "个体工商户",
        ("natural_person", Lang::Zh) => "自然人",
        ("legal_person", Lang::En) => "legal person or organisation",
        ("individual_business", Lang::En) => "individual business",
        ("natural_person", Lang::En) => "natural person",
        _ => "—",
    }
}

/// A purpose code in words (Chinese names are the purposes' own).
pub fn purpose_label(code: &str) -> String {
    xinyong_domain::access::Purpose::parse(code).map_or_else(|| code.to_owned(), |p| p.label().to_owned())
}

/// A workflow status in words.
pub fn case_status_label(status: &str, lang: &Lang) -> String {
    let zh = match status {
        "submitted" => "已提交",
        "accepted" => "已受理",
        "forwarded" => "已转提供单位",
        "decided" => "已决定",
        "rejected" => "不予受理",
        "approved" => "已同意修复",
        "refused" => "不予修复",
        "open" => "待反馈",
        "closed" => "已反馈",
        other => other,
    };
    match *lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => status.to_owned(),
    }
}

/// A case's own field (reason, evidence …) in words.
pub fn case_field_label(key: &str, lang: Lang) -> String {
    let zh = match key {
        "reason" => "异议理由",
        "evidence" => "证明材料",
        "forward_by" => "转办时限",
        "outcome" => "处理结果",
        "reasons" => "原因",
        "eligible" => "符合修复条件",
        "commitment" => "已签署修复承诺",
        "note" => "说明",
        "basis" => "撤销依据",
        "notified_on" => "获知日期",
        "fields" => "更正内容",
        "within_deadline" => "按时办结",
        _ => return key.to_owned(),
    };
    match lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => key.replace('_', " "),
    }
}

/// An RFC 3339 time as `YYYY-MM-DD HH:MM` (platform time, as stored).
pub fn minute(rfc3339: &str) -> String {
    rfc3339.get(..16).map_or_else(|| rfc3339.to_owned(), |s| s.replacen('T', " ", 1))
}

pub fn status_label(status: &str, lang: Lang) -> &'static str {
    match (status, lang) {
        ("active", Lang::Zh) => "有效",
        ("repaired", Lang::Zh) => "已修复",
        ("expired", Lang::Zh) => "已过期",
        ("revoked", Lang::Zh) => "已撤销",
        ("deleted", Lang::Zh) => "已删除",
        ("active", Lang::En) => "active",
        ("repaired", Lang::En) => "repaired",
        ("expired", Lang::En) => "expired",
        ("revoked", Lang::En) => "revoked",
        ("deleted", Lang::En) => "deleted",
        _ => "—",
    }
}

fn severity_label(severity: &str, lang: Lang) -> &'static str {
    let t = lang.text();
    match severity {
        "minor" => t.minor,
        "general" => t.general,
        "serious" => t.serious,
        _ => "",
    }
}

pub fn rows(records: Vec<RecordView>, catalog: &Catalog, lang: Lang) -> Vec<RecordRow> {
    records
        .into_iter()
        .map(|r| {
            let item = catalog.item(&r.item);
            let label = |key: &str| match (lang, item.and_then(|i| i.field(key))) {
                (Lang::Zh, Some(f)) => f.label.clone(),
                _ => key.to_owned(),
            };
            let value = |key: Option<&String>| key.and_then(|k| r.fields.get(k)).cloned().unwrap_or_default();
            let unit =
                catalog.units.iter().find(|u| u.code == r.unit).map_or_else(|| r.unit.clone(), |u| u.name.clone());
            RecordRow {
                id: r.id,
                item_name: r.item_name,
                category: r.category,
                severity: severity_label(&r.severity, lang),
                date: r.date.to_string(),
                status_label: status_label(&r.status, lang),
                status: r.status,
                disputed: r.disputed,
                public_until: r.public_until.map(|d| d.to_string()),
                window: r.window,
                unit,
                party: value(item.map(|i| &i.party.name)),
                number: value(item.map(|i| &i.source_key)),
                fields: r.fields.iter().map(|(k, v)| (label(k), v.clone())).collect(),
            }
        })
        .collect()
}

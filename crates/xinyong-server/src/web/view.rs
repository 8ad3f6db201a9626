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

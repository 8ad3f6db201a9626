//! The catalog (信息目录): which information items exist, who supplies them, their fields and rules.
//! Only catalogued information may be collected (Shanghai Regulations art. 11).
//!
//! A catalog is data ([`CatalogFile`], TOML); [`Catalog::from_toml`] checks it once (unique codes, the
//! source key and party fields exist, enum fields have values …) so that code after it can rely on it.
//! The default catalog ships in the repository at `data/catalog/default.toml`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::subject::SubjectKind;

/// The catalog shipped with xinyong.
pub const DEFAULT_CATALOG_TOML: &str = include_str!("../../../data/catalog/default.toml");

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("catalog is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("catalog item {item}: {reason}")]
    Item { item: String, reason: String },
    #[error("catalog unit {unit}: {reason}")]
    Unit { unit: String, reason: String },
}

/// The eight categories of the 2018 report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Registration,
    Qualification,
    Supervision,
    Judgment,
    Enforcement,
    Contract,
    Management,
    PublicWelfare,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::Registration,
        Category::Qualification,
        Category::Supervision,
        Category::Judgment,
        Category::Enforcement,
        Category::Contract,
        Category::Management,
        Category::PublicWelfare,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Registration => "registration",
            Category::Qualification => "qualification",
            Category::Supervision => "supervision",
            Category::Judgment => "judgment",
            Category::Enforcement => "enforcement",
            Category::Contract => "contract",
            Category::Management => "management",
            Category::PublicWelfare => "public_welfare",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Category::Registration => "登记类",
            Category::Qualification => "资质类",
            Category::Supervision => "监管类",
            Category::Judgment => "判决类",
            Category::Enforcement => "执行类",
            Category::Contract => "履约类",
            Category::Management => "管理类",
            Category::PublicWelfare => "公益类",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InfoClass {
    /// 基础信息
    Basic,
    /// 行政管理
    Administrative,
    /// 守信激励
    Reward,
    /// 失信惩戒 / 严重失信
    Punishment,
    /// 重点关注
    Watch,
    /// 其他
    Other,
}

/// Who may see an item (DOMAIN.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Openness {
    /// 社会公开
    Public,
    /// 授权查询: with the subject's authorisation
    Authorised,
    /// 政务共享: government units only
    Government,
}

/// Dishonesty severity of an item or record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    None,
    Minor,
    General,
    Serious,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Minor => "minor",
            Severity::General => "general",
            Severity::Serious => "serious",
        }
    }

    /// Reads the Chinese label used in the `失信严重程度` field.
    pub fn from_label(label: &str) -> Option<Severity> {
        match label {
            "无" => Some(Severity::None),
            "轻微" => Some(Severity::Minor),
            "一般" => Some(Severity::General),
            "严重" => Some(Severity::Serious),
            _ => None,
        }
    }
}

/// 双公示 flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Publication {
    None,
    License,
    Penalty,
}

/// Red / black list flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    None,
    Reward,
    Punishment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Date,
    Integer,
    Decimal,
    Enum,
    Code,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    Uscc,
    ResidentId,
    OrgCode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub required: bool,
    /// Personal data: encrypted at rest, masked in output unless the caller may see it.
    #[serde(default)]
    pub masked: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiple: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_kind: Option<CodeKind>,
}

/// Which fields of an item name and identify its subject (the 行政相对人).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyFields {
    pub name: String,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub uscc: Option<String>,
    #[serde(default)]
    pub org_code: Option<String>,
    #[serde(default)]
    pub id_type: Option<String>,
    #[serde(default)]
    pub id_number: Option<String>,
    #[serde(default)]
    pub legal_rep: Option<String>,
    #[serde(default)]
    pub legal_rep_id_number: Option<String>,
}

/// An older national field set: its headers, how to recognise it, and values it implies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generation {
    pub name: String,
    pub detect: Vec<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub implied: BTreeMap<String, String>,
}

/// One information item (信息事项) as written in a catalog file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogItem {
    pub code: String,
    pub name: String,
    pub category: Category,
    pub info_class: InfoClass,
    pub openness: Openness,
    pub severity: Severity,
    pub subject_kinds: Vec<SubjectKind>,
    pub source_key: String,
    pub date_field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_field: Option<String>,
    pub publication: Publication,
    pub list_kind: ListKind,
    pub party: PartyFields,
    #[serde(default, skip_serializing)]
    pub field_set: Option<String>,
    #[serde(default)]
    pub fields: Vec<Field>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generations: Vec<Generation>,
    /// Version of this item's definition; a record keeps the version it was filed under.
    #[serde(default = "one")]
    pub version: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitDef {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub supplies: Vec<String>,
}

/// A catalog file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    pub version: u32,
    #[serde(default)]
    pub units: Vec<UnitDef>,
    #[serde(default)]
    pub field_sets: BTreeMap<String, Vec<Field>>,
    #[serde(default)]
    pub items: Vec<CatalogItem>,
}

/// A checked catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub version: u32,
    pub units: Vec<UnitDef>,
    items: Vec<CatalogItem>,
    by_code: HashMap<String, usize>,
}

impl Catalog {
    /// The catalog shipped with xinyong.
    pub fn default_catalog() -> Result<Catalog, CatalogError> {
        Catalog::from_toml(DEFAULT_CATALOG_TOML)
    }

    pub fn from_toml(text: &str) -> Result<Catalog, CatalogError> {
        let file: CatalogFile = toml::from_str(text)?;
        Catalog::from_file(file)
    }

    pub fn from_file(file: CatalogFile) -> Result<Catalog, CatalogError> {
        let mut items = Vec::with_capacity(file.items.len());
        for mut item in file.items {
            if let Some(set) = item.field_set.take() {
                let fields = file.field_sets.get(&set).ok_or_else(|| CatalogError::Item {
                    item: item.code.clone(),
                    reason: format!("field set {set} is not defined"),
                })?;
                let mut all = fields.clone();
                all.append(&mut item.fields);
                item.fields = all;
            }
            check_item(&item)?;
            items.push(item);
        }
        Catalog::from_items(file.version, file.units, items)
    }

    /// Builds a catalog from already-parsed items (as read back from a store).
    pub fn from_items(version: u32, units: Vec<UnitDef>, items: Vec<CatalogItem>) -> Result<Catalog, CatalogError> {
        let mut by_code = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            check_item(item)?;
            if by_code.insert(item.code.clone(), i).is_some() {
                return Err(CatalogError::Item { item: item.code.clone(), reason: "defined twice".into() });
            }
        }
        for unit in &units {
            for code in &unit.supplies {
                if !by_code.contains_key(code) {
                    return Err(CatalogError::Unit {
                        unit: unit.code.clone(),
                        reason: format!("supplies {code}, which is not in the catalog"),
                    });
                }
            }
        }
        Ok(Catalog { version, units, items, by_code })
    }

    pub fn items(&self) -> &[CatalogItem] {
        &self.items
    }

    pub fn item(&self, code: &str) -> Option<&CatalogItem> {
        self.by_code.get(code).map(|i| &self.items[*i])
    }

    /// Items that are reward or punishment lists.
    pub fn lists(&self) -> impl Iterator<Item = &CatalogItem> {
        self.items.iter().filter(|i| i.list_kind != ListKind::None)
    }
}

fn check_item(item: &CatalogItem) -> Result<(), CatalogError> {
    let fail = |reason: String| CatalogError::Item { item: item.code.clone(), reason };
    if item.code.is_empty() || !item.code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(fail("code must be lower-case ASCII letters, digits and _".into()));
    }
    if item.fields.is_empty() {
        return Err(fail("has no fields".into()));
    }
    let mut keys = std::collections::HashSet::new();
    for field in &item.fields {
        // Stored records write keys as numeric codes (xinyong-store's field_codes): a key is never a number.
        let key_ok = field.key.starts_with(|c: char| c.is_ascii_lowercase())
            && field.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            return Err(fail(format!(
                "field key {:?} must begin with a lower-case ASCII letter and hold only such letters, digits and _",
                field.key
            )));
        }
        if !keys.insert(field.key.as_str()) {
            return Err(fail(format!("field {} defined twice", field.key)));
        }
        if field.field_type == FieldType::Enum && field.values.is_empty() {
            return Err(fail(format!("enum field {} has no values", field.key)));
        }
        if field.field_type == FieldType::Code && field.code_kind.is_none() {
            return Err(fail(format!("code field {} has no code_kind", field.key)));
        }
    }
    let must_exist = |what: &str, key: &str| -> Result<(), CatalogError> {
        if keys.contains(key) { Ok(()) } else { Err(fail(format!("{what} names field {key}, which is not defined"))) }
    };
    must_exist("source_key", &item.source_key)?;
    must_exist("date_field", &item.date_field)?;
    if let Some(end) = &item.end_field {
        must_exist("end_field", end)?;
    }
    let p = &item.party;
    must_exist("party.name", &p.name)?;
    for key in [&p.kind, &p.uscc, &p.org_code, &p.id_type, &p.id_number, &p.legal_rep, &p.legal_rep_id_number]
        .into_iter()
        .flatten()
    {
        must_exist("party", key)?;
    }
    for g in &item.generations {
        for key in g.headers.values().chain(g.implied.keys()) {
            must_exist(&format!("generation {}", g.name), key)?;
        }
    }
    if item.subject_kinds.is_empty() {
        return Err(fail("names no subject kinds".into()));
    }
    Ok(())
}

impl CatalogItem {
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::default_catalog().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_default_catalog_loads_and_has_the_stable_codes() {
        let c = catalog();
        for code in
            ["admin_license", "admin_penalty", "legal_person_registration", "list_dishonest_debtor", "list_tax_a"]
        {
            assert!(c.item(code).is_some(), "{code}");
        }
        // The eight lists of the 2018 report and the breaches of commitments the platform records itself.
        assert_eq!(c.lists().count(), 9);
        assert_eq!(c.lists().filter(|i| i.list_kind == ListKind::Reward).count(), 2);
    }

    #[test]
    fn penalty_has_the_national_field_set_with_field_codes() {
        let c = catalog();
        let p = c.item("admin_penalty").unwrap_or_else(|| panic!("no admin_penalty"));
        let labels: Vec<&str> = p.fields.iter().map(|f| f.label.as_str()).collect();
        for l in ["行政相对人名称", "行政处罚决定书文号", "处罚决定日期", "罚款金额(万元)", "处罚机关统一社会信用代码"]
        {
            assert!(labels.contains(&l), "{l}");
        }
        assert!(p.field("decision_number").is_some_and(|f| f.aliases.iter().any(|a| a == "CF_WSH")));
        assert!(p.field("id_number").is_some_and(|f| f.masked));
        assert_eq!(p.publication, Publication::Penalty);
    }

    #[test]
    fn list_items_receive_their_field_set() {
        let c = catalog();
        let l = c.item("list_dishonest_debtor").unwrap_or_else(|| panic!("missing"));
        assert!(l.field("document_number").is_some());
        assert_eq!(l.end_field.as_deref(), Some("end_date"));
    }

    #[test]
    fn a_catalog_with_an_undefined_source_key_is_rejected() {
        let text = DEFAULT_CATALOG_TOML.replacen("source_key = \"decision_number\"", "source_key = \"nope\"", 1);
        let err = Catalog::from_toml(&text).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("source_key names field nope"), "{err}");
    }

    #[test]
    fn a_field_key_that_does_not_begin_with_a_letter_is_rejected() {
        for bad in ["17", "_x", "Remarks", "备注"] {
            let text = DEFAULT_CATALOG_TOML.replacen("{ key = \"remarks\"", &format!("{{ key = \"{bad}\""), 1);
            let err = Catalog::from_toml(&text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("must begin with a lower-case ASCII letter"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_unit_supplying_an_unknown_item_is_rejected() {
        let text =
            DEFAULT_CATALOG_TOML.replacen("\"admin_license\", \"admin_penalty\", \"list_tax_a\"", "\"ghost\"", 1);
        assert!(matches!(Catalog::from_toml(&text), Err(CatalogError::Unit { .. })));
    }
}

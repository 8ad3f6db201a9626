//! The joint rewards and punishments measures library (联合奖惩措施库, DOMAIN.md §6).
//!
//! A memorandum (合作备忘录) maps one or more catalog lists (red and black lists, `list_…` items) to
//! measures; a measure names its implementing unit, the scenario (a [`Purpose`] code) it applies in,
//! its kind, content and legal basis. When a unit handles a business for a subject it asks which
//! measures the subject's lists trigger for that scenario at that unit: [`Library::applicable`].
//!
//! Invariants, checked when loading ([`Library::from_toml`]): measure ids are unique across the
//! library, every measure has content and a legal basis, every scenario is a government purpose (stored
//! as its code), every memorandum names at least one list. Against a catalog
//! ([`Library::check_against`]): every list is a list item of the catalog, a measure has the kind of
//! every list of its memorandum (reward lists → reward measures), every implementing unit is a catalog
//! unit. Unpublished measures are kept in the library but never returned by a query (条例第三十二条).
//!
//! ```
//! use xinyong_domain::measures::Library;
//!
//! let library = Library::default_library().unwrap_or_else(|e| panic!("{e}"));
//! let hits = library.applicable(&["list_dishonest_debtor", "list_wage_arrears"], "bidding", "sh_housing");
//! assert!(hits.iter().all(|(m, lists)| m.published && !lists.is_empty()));
//! ```

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::access::Purpose;
use crate::catalog::{Catalog, ListKind};

pub const DEFAULT_MEASURES_TOML: &str = include_str!("../../../data/measures/default.toml");

#[derive(Debug, thiserror::Error)]
pub enum MeasuresError {
    #[error("measures file is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("measures: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    Reward,
    Punishment,
}

impl MeasureKind {
    fn as_str(self) -> &'static str {
        match self {
            MeasureKind::Reward => "reward",
            MeasureKind::Punishment => "punishment",
        }
    }

    /// The catalog list kind whose entries may trigger measures of this kind.
    fn list_kind(self) -> ListKind {
        match self {
            MeasureKind::Reward => ListKind::Reward,
            MeasureKind::Punishment => ListKind::Punishment,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    pub id: String,
    /// The code of the memorandum the measure belongs to.
    pub memorandum: String,
    pub kind: MeasureKind,
    /// A catalog unit code.
    pub implementing_unit: String,
    /// A [`Purpose`] code.
    pub scenario: String,
    pub content: String,
    pub legal_basis: String,
    pub published: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memorandum {
    pub code: String,
    pub title: String,
    /// The document number, e.g. 发改财金〔2018〕1614号.
    pub document: String,
    /// Catalog list item codes.
    pub lists: Vec<String>,
    pub measures: Vec<Measure>,
}

/// A measures file as written: measures sit inside their memorandum and do not repeat its code.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MeasuresFile {
    #[serde(default)]
    memoranda: Vec<MemorandumEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemorandumEntry {
    code: String,
    title: String,
    document: String,
    #[serde(default)]
    lists: Vec<String>,
    #[serde(default)]
    measures: Vec<MeasureEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MeasureEntry {
    id: String,
    kind: MeasureKind,
    implementing_unit: String,
    scenario: String,
    content: String,
    legal_basis: String,
    published: bool,
}

/// A checked measures library, memoranda in file order.
#[derive(Debug, Clone)]
pub struct Library {
    memoranda: Vec<Memorandum>,
}

impl Library {
    /// The sample library shipped with xinyong (`data/measures/default.toml`).
    pub fn default_library() -> Result<Library, MeasuresError> {
        Library::from_toml(DEFAULT_MEASURES_TOML)
    }

    pub fn from_toml(text: &str) -> Result<Library, MeasuresError> {
        let file: MeasuresFile = toml::from_str(text)?;
        let invalid = |msg: String| MeasuresError::Invalid(msg);
        let mut codes = HashSet::new();
        let mut ids = HashSet::new();
        let mut memoranda = Vec::with_capacity(file.memoranda.len());
        for entry in file.memoranda {
            let code = entry.code.trim().to_owned();
            if code.is_empty() {
                return Err(invalid(format!("memorandum {:?} has an empty code", entry.title)));
            }
            if !codes.insert(code.clone()) {
                return Err(invalid(format!("memorandum {code} is defined twice")));
            }
            if entry.lists.is_empty() {
                return Err(invalid(format!("memorandum {code} names no lists")));
            }
            let mut measures = Vec::with_capacity(entry.measures.len());
            for m in entry.measures {
                let id = m.id.trim().to_owned();
                if id.is_empty() {
                    return Err(invalid(format!("memorandum {code}: a measure has an empty id")));
                }
                if !ids.insert(id.clone()) {
                    return Err(invalid(format!("measure {id} (memorandum {code}): id is used twice")));
                }
                if m.content.trim().is_empty() {
                    return Err(invalid(format!("measure {id} (memorandum {code}): content is empty")));
                }
                if m.legal_basis.trim().is_empty() {
                    return Err(invalid(format!("measure {id} (memorandum {code}): legal basis is empty")));
                }
                // Measures apply where a unit handles a business: 本人查询 and 授权查询 are not such scenarios.
                let scenario = match Purpose::parse(&m.scenario) {
                    Some(p) if p.is_government() => p.code().to_owned(),
                    _ => {
                        return Err(invalid(format!(
                            "measure {id} (memorandum {code}): scenario {:?} is not a government purpose code",
                            m.scenario
                        )));
                    }
                };
                measures.push(Measure {
                    id,
                    memorandum: code.clone(),
                    kind: m.kind,
                    implementing_unit: m.implementing_unit.trim().to_owned(),
                    scenario,
                    content: m.content,
                    legal_basis: m.legal_basis,
                    published: m.published,
                });
            }
            memoranda.push(Memorandum {
                code,
                title: entry.title,
                document: entry.document,
                lists: entry.lists,
                measures,
            });
        }
        Ok(Library { memoranda })
    }

    /// Checks the library against the catalog: every list code is a list item of the catalog, the measure's
    /// kind matches the list kind (reward lists → reward measures), every implementing unit is a catalog unit.
    pub fn check_against(&self, catalog: &Catalog) -> Result<(), MeasuresError> {
        let invalid = |msg: String| Err(MeasuresError::Invalid(msg));
        for memo in &self.memoranda {
            let mut kinds = Vec::with_capacity(memo.lists.len());
            for list in &memo.lists {
                match catalog.item(list).map(|item| item.list_kind) {
                    None => return invalid(format!("memorandum {}: list {list} is not in the catalog", memo.code)),
                    Some(ListKind::None) => {
                        return invalid(format!("memorandum {}: catalog item {list} is not a list", memo.code));
                    }
                    Some(kind) => kinds.push((list, kind)),
                }
            }
            for m in &memo.measures {
                if let Some((list, _)) = kinds.iter().find(|(_, kind)| *kind != m.kind.list_kind()) {
                    return invalid(format!(
                        "measure {} (memorandum {}): a {} measure on list {list}, which is not a {} list",
                        m.id,
                        memo.code,
                        m.kind.as_str(),
                        m.kind.as_str()
                    ));
                }
                if !catalog.units.iter().any(|u| u.code == m.implementing_unit) {
                    return invalid(format!(
                        "measure {} (memorandum {}): implementing unit {} is not a catalog unit",
                        m.id, memo.code, m.implementing_unit
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn memoranda(&self) -> &[Memorandum] {
        &self.memoranda
    }

    /// Published measures only.
    pub fn published(&self) -> impl Iterator<Item = &Measure> {
        self.memoranda.iter().flat_map(|memo| &memo.measures).filter(|m| m.published)
    }

    /// The published measures that lists `lists` (codes of the list entries a subject is on) trigger for
    /// `scenario` at `unit`, each once (the union over lists), in library order, with the list codes that
    /// triggered each.
    pub fn applicable<'a>(&'a self, lists: &[&str], scenario: &str, unit: &str) -> Vec<(&'a Measure, Vec<String>)> {
        self.triggered(lists, scenario, Some(unit))
    }

    /// Published measures of a scenario for any unit that the lists trigger (batch screening).
    pub fn for_scenario<'a>(&'a self, lists: &[&str], scenario: &str) -> Vec<(&'a Measure, Vec<String>)> {
        self.triggered(lists, scenario, None)
    }

    /// Each measure belongs to one memorandum, so walking the memoranda yields every measure once; its
    /// triggering lists are those of its memorandum that the subject is on, in the memorandum's order.
    fn triggered<'a>(&'a self, lists: &[&str], scenario: &str, unit: Option<&str>) -> Vec<(&'a Measure, Vec<String>)> {
        // The scenario may be given as code or Chinese name, as everywhere a purpose is parsed.
        let Some(scenario) = Purpose::parse(scenario).map(Purpose::code) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for memo in &self.memoranda {
            let on: Vec<String> = memo.lists.iter().filter(|l| lists.contains(&l.as_str())).cloned().collect();
            if on.is_empty() {
                continue;
            }
            let hits = memo
                .measures
                .iter()
                .filter(|m| m.published && m.scenario == scenario && unit.is_none_or(|u| m.implementing_unit == u));
            out.extend(hits.map(|m| (m, on.clone())));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library() -> Library {
        Library::default_library().unwrap_or_else(|e| panic!("{e}"))
    }

    fn catalog() -> Catalog {
        Catalog::default_catalog().unwrap_or_else(|e| panic!("{e}"))
    }

    fn ids<'a>(hits: &[(&'a Measure, Vec<String>)]) -> Vec<&'a str> {
        hits.iter().map(|(m, _)| m.id.as_str()).collect()
    }

    fn invalid(text: &str) -> String {
        match Library::from_toml(text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    const ONE: &str = r#"
[[memoranda]]
code = "memo"
title = "备忘录"
document = "发改财金〔2018〕1号"
lists = ["list_tax_a"]

[[memoranda.measures]]
id = "m-1"
kind = "reward"
implementing_unit = "sh_tax"
scenario = "approval"
content = "优先办理。"
legal_basis = "《上海市社会信用条例》第二十九条"
published = true
"#;

    #[test]
    fn the_default_library_loads_and_agrees_with_the_default_catalog() {
        let lib = library();
        lib.check_against(&catalog()).unwrap_or_else(|e| panic!("{e}"));
        // The eight memoranda of 2018 and the bar after a breach of a commitment.
        assert_eq!(lib.memoranda().len(), 9);
        for memo in lib.memoranda() {
            assert!((4..=8).contains(&memo.measures.len()), "{}", memo.code);
            assert!(memo.measures.iter().all(|m| m.memorandum == memo.code));
        }
        let all = lib.memoranda().iter().map(|m| m.measures.len()).sum::<usize>();
        assert!(all - lib.published().count() >= 2, "some measures are unpublished");
    }

    #[test]
    fn unpublished_measures_are_never_returned() {
        let lib = library();
        let unpublished: Vec<&Measure> =
            lib.memoranda().iter().flat_map(|m| &m.measures).filter(|m| !m.published).collect();
        assert!(unpublished.len() >= 2);
        assert!(lib.published().all(|m| m.published));
        for m in unpublished {
            let memo = lib.memoranda().iter().find(|memo| memo.code == m.memorandum);
            let lists: Vec<&str> = memo.map(|memo| memo.lists.iter().map(String::as_str).collect()).unwrap_or_default();
            let at_unit = lib.applicable(&lists, &m.scenario, &m.implementing_unit);
            let anywhere = lib.for_scenario(&lists, &m.scenario);
            assert!(!ids(&at_unit).contains(&m.id.as_str()), "{}", m.id);
            assert!(!ids(&anywhere).contains(&m.id.as_str()), "{}", m.id);
        }
    }

    #[test]
    fn two_lists_sharing_a_unit_and_scenario_give_each_measure_once_with_both_lists() {
        let lib = library();
        let hits = lib.applicable(&["list_dishonest_debtor", "list_wage_arrears"], "bidding", "sh_housing");
        assert_eq!(ids(&hits), ["m-public-resources-01", "m-social-insurance-03"]);
        assert_eq!(hits[0].1, ["list_dishonest_debtor", "list_wage_arrears"]);
        assert_eq!(hits[1].1, ["list_wage_arrears"]);
        // One list alone triggers only its own memoranda.
        let debtor = lib.applicable(&["list_dishonest_debtor"], "bidding", "sh_housing");
        assert_eq!(ids(&debtor), ["m-public-resources-01"]);
        assert_eq!(debtor[0].1, ["list_dishonest_debtor"]);
    }

    #[test]
    fn a_check_filters_by_unit_and_scenario_and_accepts_the_chinese_scenario_name() {
        let lib = library();
        let lists = ["list_dishonest_debtor", "list_customs_dishonest"];
        let hits = lib.applicable(&lists, "政府采购", "sh_transport");
        assert_eq!(ids(&hits), ["m-procurement-02", "m-ciq-03"]);
        assert!(lib.applicable(&lists, "procurement", "sh_court").is_empty());
        assert!(lib.applicable(&lists, "no_such_scenario", "sh_transport").is_empty());
        assert!(lib.applicable(&[], "procurement", "sh_transport").is_empty());
    }

    #[test]
    fn batch_screening_returns_the_scenario_at_every_unit() {
        let lib = library();
        let hits = lib.for_scenario(&["list_dishonest_debtor", "list_wage_arrears"], "bidding");
        assert_eq!(ids(&hits), ["m-public-resources-01", "m-public-resources-02", "m-social-insurance-03"]);
        assert!(hits.iter().all(|(m, _)| m.scenario == "bidding" && m.published));
    }

    #[test]
    fn a_measure_whose_kind_contradicts_its_list_fails_the_catalog_check() {
        let text = ONE.replace(r#"kind = "reward""#, r#"kind = "punishment""#);
        let lib = Library::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
        let err = lib.check_against(&catalog()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("measure m-1") && err.contains("list_tax_a"), "{err}");
        let ok = Library::from_toml(ONE).unwrap_or_else(|e| panic!("{e}"));
        ok.check_against(&catalog()).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn unknown_lists_non_lists_and_unknown_units_fail_the_catalog_check() {
        let check = |text: String| {
            let lib = Library::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
            lib.check_against(&catalog()).err().map(|e| e.to_string()).unwrap_or_default()
        };
        assert!(check(ONE.replace("\"list_tax_a\"", "\"list_nope\"")).contains("list_nope is not in the catalog"));
        assert!(check(ONE.replace("\"list_tax_a\"", "\"admin_penalty\"")).contains("admin_penalty is not a list"));
        assert!(check(ONE.replace("\"sh_tax\"", "\"sh_nope\"")).contains("unit sh_nope is not a catalog unit"));
    }

    #[test]
    fn a_duplicate_measure_id_is_rejected() {
        let text = format!("{ONE}\n{}", ONE.replace("code = \"memo\"", "code = \"memo2\""));
        assert_eq!(invalid(&text), "measures: measure m-1 (memorandum memo2): id is used twice");
    }

    #[test]
    fn empty_content_or_legal_basis_is_rejected() {
        let err = invalid(&ONE.replace("content = \"优先办理。\"", "content = \" \""));
        assert_eq!(err, "measures: measure m-1 (memorandum memo): content is empty");
        let err = invalid(&ONE.replace("legal_basis = \"《上海市社会信用条例》第二十九条\"", "legal_basis = \"\""));
        assert_eq!(err, "measures: measure m-1 (memorandum memo): legal basis is empty");
    }

    #[test]
    fn a_scenario_that_is_not_a_government_purpose_is_rejected() {
        let err = invalid(&ONE.replace("scenario = \"approval\"", "scenario = \"lunch\""));
        assert_eq!(err, "measures: measure m-1 (memorandum memo): scenario \"lunch\" is not a government purpose code");
        let err = invalid(&ONE.replace("scenario = \"approval\"", "scenario = \"self\""));
        assert!(err.contains("scenario \"self\""), "{err}");
    }

    #[test]
    fn a_chinese_scenario_name_is_stored_as_its_code() {
        let lib = Library::from_toml(&ONE.replace("scenario = \"approval\"", "scenario = \"行政审批\""))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(lib.published().map(|m| m.scenario.as_str()).collect::<Vec<_>>(), ["approval"]);
    }

    #[test]
    fn a_memorandum_without_lists_is_rejected() {
        let err = invalid(&ONE.replace("lists = [\"list_tax_a\"]", "lists = []"));
        assert_eq!(err, "measures: memorandum memo names no lists");
        let err = invalid(&ONE.replace("lists = [\"list_tax_a\"]\n", ""));
        assert_eq!(err, "measures: memorandum memo names no lists");
    }

    #[test]
    fn unknown_fields_and_bad_kinds_are_rejected() {
        assert!(invalid(&ONE.replace("published = true", "published = true\nextra = 1")).contains("not valid TOML"));
        assert!(invalid(&ONE.replace("title = ", "titel = ")).contains("not valid TOML"));
        assert!(invalid(&ONE.replace("kind = \"reward\"", "kind = \"praise\"")).contains("not valid TOML"));
    }
}

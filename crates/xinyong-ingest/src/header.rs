//! Header mapping: which column holds which field of the item.
//!
//! A header cell matches a field by its Chinese label, its English key or any alias (national field
//! codes such as `CF_WSH`), compared after NFKC normalisation, without spaces, ASCII case-insensitive.
//! `行政相对人代码_1(统一社会信用代码)`-style headers also match by the part in brackets, then by the
//! part before them. An item may define older national generations of its field set: when a header
//! names one of a generation's `detect` columns, that generation's header table takes precedence (the
//! 2015 set's `行政相对人代码_2` is the organisation code, the current set's is the business registration
//! number).

use std::collections::HashMap;

use xinyong_domain::catalog::{CatalogItem, Generation};
use xinyong_domain::value::normalize_text;

/// Normalisation shared by every header comparison.
pub fn normalize(s: &str) -> String {
    normalize_text(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            other => other.to_ascii_lowercase(),
        })
        .collect()
}

/// Why a header cannot be used for this item. The file is refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("the header lacks required column(s) {0} for this item")]
    MissingRequired(String),
    #[error("columns {first:?} and {second:?} both hold field {label}")]
    Duplicate { first: String, second: String, label: String },
    #[error("the header names no column of this item; is it the right file and item?")]
    NothingMatches,
}

/// Column → field mapping for one file.
#[derive(Debug, Clone)]
pub struct HeaderMap {
    /// For each column, the index of its field in `item.fields`.
    columns: Vec<Option<usize>>,
    /// The older generation in use, if any.
    generation: Option<usize>,
    /// Headers that matched nothing, with their column index.
    unknown: Vec<(usize, String)>,
    lookup: HashMap<String, usize>,
    generation_lookup: HashMap<String, usize>,
    /// JSON lines may spell a field differently on different lines (key on one, label on another), so
    /// two columns may share a field; a row that fills both with different values is a row error.
    shared_columns: bool,
}

impl HeaderMap {
    /// Maps a header. `require_all` checks that every required field has a column (CSV, XLSX); JSON lines
    /// may omit keys per line, so there a missing value is a row error instead.
    pub fn build(item: &CatalogItem, headers: &[String], require_all: bool) -> Result<HeaderMap, HeaderError> {
        let mut lookup = HashMap::new();
        for (i, f) in item.fields.iter().enumerate() {
            for name in std::iter::once(&f.label).chain(std::iter::once(&f.key)).chain(f.aliases.iter()) {
                lookup.entry(normalize(name)).or_insert(i);
            }
        }
        let normalized: Vec<String> = headers.iter().map(|h| normalize(h)).collect();
        let generation = item.generations.iter().position(|g| detects(g, &normalized));
        let generation_lookup = generation
            .and_then(|g| item.generations.get(g))
            .map(|g| {
                g.headers
                    .iter()
                    .filter_map(|(h, key)| item.fields.iter().position(|f| &f.key == key).map(|i| (normalize(h), i)))
                    .collect()
            })
            .unwrap_or_default();
        let mut map = HeaderMap {
            columns: Vec::new(),
            generation,
            unknown: Vec::new(),
            lookup,
            generation_lookup,
            shared_columns: !require_all,
        };
        map.extend(item, headers)?;
        if map.columns.iter().all(Option::is_none) && !headers.is_empty() {
            return Err(HeaderError::NothingMatches);
        }
        if require_all {
            let implied = map.generation(item).map(|g| &g.implied);
            let missing: Vec<&str> = item
                .fields
                .iter()
                .enumerate()
                .filter(|(i, f)| {
                    f.required
                        && !map.columns.contains(&Some(*i))
                        && !implied.is_some_and(|imp| imp.contains_key(&f.key))
                })
                .map(|(_, f)| f.label.as_str())
                .collect();
            if !missing.is_empty() {
                return Err(HeaderError::MissingRequired(missing.join("、")));
            }
        }
        Ok(map)
    }

    /// Maps columns added since the last call (JSON lines discover keys as they go).
    pub fn extend(&mut self, item: &CatalogItem, headers: &[String]) -> Result<(), HeaderError> {
        for (col, header) in headers.iter().enumerate().skip(self.columns.len()) {
            let field = self.match_header(header);
            if let Some(f) = field
                && !self.shared_columns
            {
                if let Some(other) = self.columns.iter().position(|c| *c == Some(f)) {
                    return Err(HeaderError::Duplicate {
                        first: headers.get(other).cloned().unwrap_or_default(),
                        second: header.clone(),
                        label: item.fields[f].label.clone(),
                    });
                }
            } else if field.is_none() {
                self.unknown.push((col, header.clone()));
            }
            self.columns.push(field);
        }
        Ok(())
    }

    fn match_header(&self, header: &str) -> Option<usize> {
        let h = normalize(header);
        let exact = |s: &str| self.generation_lookup.get(s).or_else(|| self.lookup.get(s)).copied();
        if let Some(f) = exact(&h) {
            return Some(f);
        }
        let (before, inside) = h.split_once('(')?;
        let inside = inside.strip_suffix(')').unwrap_or(inside);
        exact(inside).or_else(|| exact(before))
    }

    /// The field index of a column.
    pub fn field_of(&self, column: usize) -> Option<usize> {
        self.columns.get(column).copied().flatten()
    }

    pub fn columns(&self) -> usize {
        self.columns.len()
    }

    /// The older generation in use, if any.
    pub fn generation<'a>(&self, item: &'a CatalogItem) -> Option<&'a Generation> {
        self.generation.and_then(|g| item.generations.get(g))
    }

    /// Headers that matched no field, with their column index; reported, not fatal.
    pub fn unknown(&self) -> &[(usize, String)] {
        &self.unknown
    }
}

fn detects(g: &Generation, normalized_headers: &[String]) -> bool {
    g.detect.iter().any(|d| normalized_headers.contains(&normalize(d)))
}

#[cfg(test)]
mod tests {
    use xinyong_domain::catalog::Catalog;

    use super::*;

    fn penalty() -> CatalogItem {
        let c = Catalog::default_catalog().unwrap_or_else(|e| panic!("{e}"));
        c.item("admin_penalty").cloned().unwrap_or_else(|| panic!("no admin_penalty"))
    }

    fn key_of(item: &CatalogItem, map: &HeaderMap, col: usize) -> Option<String> {
        map.field_of(col).map(|f| item.fields[f].key.clone())
    }

    fn headers(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    const REQUIRED: [&str; 5] = ["行政相对人名称", "行政处罚决定书文号", "处罚内容", "处罚决定日期", "处罚机关"];

    #[test]
    fn labels_keys_and_field_codes_all_map() {
        let item = penalty();
        let mut h = headers(&REQUIRED);
        h.extend(headers(&["CF_XDR_SHDM", "fine_amount", " 罚款金额（万元） "]));
        let err = HeaderMap::build(&item, &h, true).err();
        // fine_amount and 罚款金额(万元) are the same field.
        assert!(matches!(err, Some(HeaderError::Duplicate { .. })), "{err:?}");
        h.pop();
        let map = HeaderMap::build(&item, &h, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(key_of(&item, &map, 5).as_deref(), Some("uscc"));
        assert_eq!(key_of(&item, &map, 6).as_deref(), Some("fine_amount"));
    }

    #[test]
    fn the_2015_generation_maps_code_2_to_the_organisation_code() {
        let item = penalty();
        let mut h = headers(&["行政处罚决定书文号", "处罚名称", "处罚类别1", "处罚事由", "处罚结果", "行政相对人名称"]);
        h.extend(headers(&[
            "行政相对人代码_2(组织机构代码)",
            "行政相对人代码_5(居民身份证号)",
            "处罚决定日期",
            "处罚机关",
        ]));
        let map = HeaderMap::build(&item, &h, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(map.generation(&item).map(|g| g.name.as_str()), Some("2015"));
        assert_eq!(key_of(&item, &map, 6).as_deref(), Some("org_code"));
        assert_eq!(key_of(&item, &map, 7).as_deref(), Some("id_number"));
        assert_eq!(key_of(&item, &map, 4).as_deref(), Some("penalty_content"));
    }

    #[test]
    fn the_current_generation_maps_code_2_to_the_business_registration_number() {
        let item = penalty();
        let mut h = headers(&REQUIRED);
        h.push("行政相对人代码_2".into());
        let map = HeaderMap::build(&item, &h, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(map.generation(&item), None);
        assert_eq!(key_of(&item, &map, 5).as_deref(), Some("business_reg_no"));
    }

    #[test]
    fn unknown_columns_are_reported_not_fatal() {
        let item = penalty();
        let mut h = headers(&REQUIRED);
        h.push("内部编号".into());
        let map = HeaderMap::build(&item, &h, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(map.unknown(), &[(5, "内部编号".to_owned())]);
    }

    #[test]
    fn a_missing_required_column_is_named() {
        let item = penalty();
        let h = headers(&REQUIRED[..4]);
        let err = HeaderMap::build(&item, &h, true).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("处罚机关"), "{err}");
    }

    #[test]
    fn a_header_of_another_item_matches_nothing() {
        let item = penalty();
        let err = HeaderMap::build(&item, &headers(&["foo", "bar"]), false).err();
        assert_eq!(err, Some(HeaderError::NothingMatches));
    }
}

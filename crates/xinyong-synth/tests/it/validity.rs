//! Every row of every CSV and JSON lines file checked with the domain's value parsers and the
//! consistency rules of DOMAIN.md §4: exactly the rows the manifest counts as invalid fail, each with
//! exactly one error; source keys never repeat within an item; no date lies after `AS_OF`.

use std::collections::{BTreeMap, HashMap, HashSet};

use xinyong_domain::catalog::{Catalog, CatalogItem, Field, FieldType};
use xinyong_domain::ids::{ResidentId, is_mangled_number, normalize};
use xinyong_domain::subject::SubjectKind;
use xinyong_domain::value::{Cell, parse_cell, parse_date};
use xinyong_synth::AS_OF;

use crate::support::{read, run};

/// The catalog field each header names (2015 generation headers first when the file is of that generation).
fn map_headers<'c>(item: &'c CatalogItem, headers: &[String]) -> (Vec<Option<&'c Field>>, Vec<String>) {
    let generation = item.generations.iter().find(|g| g.detect.iter().any(|d| headers.contains(d)));
    let mapped = headers
        .iter()
        .map(|h| {
            let key = generation.and_then(|g| g.headers.get(h)).cloned();
            match key {
                Some(k) => item.field(&k),
                None => item.fields.iter().find(|f| &f.label == h || &f.key == h || f.aliases.contains(h)),
            }
        })
        .collect();
    let implied = generation.map(|g| g.implied.keys().cloned().collect()).unwrap_or_default();
    (mapped, implied)
}

fn resident_id_error(raw: &str) -> Option<&'static str> {
    let n = normalize(raw);
    if is_mangled_number(&n) {
        return Some("mangled_number");
    }
    ResidentId::parse(&n, AS_OF).err().map(|e| e.code())
}

/// The errors of one row, as codes.
fn row_errors(item: &CatalogItem, fields: &[Option<&Field>], cells: &[Cell]) -> (Vec<&'static str>, Option<String>) {
    let mut errors = Vec::new();
    let mut parsed: HashMap<&str, Option<String>> = HashMap::new();
    let mut raw_present: HashSet<&str> = HashSet::new();
    for (i, field) in fields.iter().enumerate() {
        let Some(field) = field else { continue };
        let cell = cells.get(i).cloned().unwrap_or(Cell::Empty);
        if !cell.is_empty() {
            raw_present.insert(field.key.as_str());
        }
        match parse_cell(field, &cell, AS_OF) {
            Ok(v) => {
                if field.field_type == FieldType::Date
                    && v.as_deref().and_then(|d| parse_date(d).ok()).is_some_and(|d| d > AS_OF)
                {
                    errors.push("future_date");
                }
                parsed.insert(field.key.as_str(), v.map(String::from));
            }
            Err(e) => errors.push(e.code),
        }
    }
    let value = |key: &Option<String>| key.as_deref().and_then(|k| parsed.get(k).cloned().flatten());
    let p = &item.party;
    let kind = value(&p.kind);
    let uscc = value(&p.uscc);
    let uscc_present = p.uscc.as_deref().is_some_and(|k| raw_present.contains(k));
    let id = value(&p.id_number);
    let allowed = kind.as_deref().and_then(SubjectKind::parse).is_none_or(|k| item.subject_kinds.contains(&k));
    if !allowed {
        errors.push("kind_not_allowed");
    }
    match kind.as_deref() {
        Some("法人及非法人组织") if !uscc_present => errors.push("missing_uscc"),
        Some("法人及非法人组织") if uscc.as_deref().is_some_and(|u| u.starts_with("92")) => {
            errors.push("kind_mismatch")
        }
        Some("个体工商户") if uscc.as_deref().is_some_and(|u| !u.starts_with("92")) => {
            errors.push("kind_mismatch")
        }
        Some("自然人") if id.is_none() => errors.push("missing_id"),
        _ => {}
    }
    for number in [id, value(&p.legal_rep_id_number)].into_iter().flatten() {
        errors.extend(resident_id_error(&number));
    }
    if let Some(end_key) = &item.end_field {
        let start = parsed.get(item.date_field.as_str()).cloned().flatten();
        let end = parsed.get(end_key.as_str()).cloned().flatten();
        if let (Some(s), Some(e)) = (start, end)
            && e < s
        {
            errors.push("bad_period");
        }
    }
    let key = parsed.get(item.source_key.as_str()).cloned().flatten();
    (errors, key)
}

#[test]
fn exactly_the_counted_rows_are_invalid_each_with_one_error_and_keys_never_repeat() {
    let catalog = Catalog::default_catalog().unwrap_or_else(|e| panic!("{e}"));
    let r = run(31);
    let mut keys: HashMap<String, HashSet<String>> = HashMap::new();
    let mut codes: BTreeMap<&str, u64> = BTreeMap::new();
    for file in &r.manifest.files {
        let Some(table) = read(&r.out(), file) else {
            continue;
        };
        let item = catalog.item(&file.item).unwrap_or_else(|| panic!("{}", file.item));
        let (fields, implied) = map_headers(item, &table.headers);
        for (h, f) in table.headers.iter().zip(&fields) {
            assert!(f.is_some(), "{}: header {h} maps to no field", file.path);
        }
        for required in item.fields.iter().filter(|f| f.required) {
            let present = fields.iter().flatten().any(|f| f.key == required.key) || implied.contains(&required.key);
            assert!(present, "{}: no column for required {}", file.path, required.key);
        }
        let mut invalid = 0;
        for (n, cells) in table.rows.iter().enumerate() {
            let (errors, key) = row_errors(item, &fields, cells);
            assert!(errors.len() <= 1, "{} row {}: {errors:?} in {cells:?}", file.path, n + 2);
            if let Some(code) = errors.first() {
                invalid += 1;
                *codes.entry(code).or_default() += 1;
            }
            if let Some(key) = key {
                let fresh = keys.entry(file.item.clone()).or_default().insert(key.clone());
                assert!(fresh, "{}: source key {key} repeats in {}", file.path, file.item);
            }
        }
        assert_eq!(invalid, file.invalid_rows, "{}: invalid rows", file.path);
    }
    let expected = [
        "bad_char",
        "bad_check_digit",
        "bad_date",
        "bad_enum",
        "bad_length",
        "bad_number",
        "bad_period",
        "bad_region",
        "kind_mismatch",
        "mangled_number",
        "missing_id",
        "missing_uscc",
        "missing_value",
    ];
    for code in codes.keys() {
        assert!(expected.contains(code), "unexpected error code {code}: {codes:?}");
    }
    assert!(codes.len() >= 10, "too few kinds of error: {codes:?}");
}

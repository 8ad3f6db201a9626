//! What the files look like: every format and encoding, both header generations, field codes as
//! headers, English keys and Chinese labels in JSON lines, CSV cells that need quoting, rare characters.

use std::collections::BTreeSet;

use xinyong_domain::value::Cell;

use crate::support::{read, run};

#[test]
fn every_format_and_encoding_combination_is_present() {
    let r = run(21);
    let combos: BTreeSet<(&str, &str)> =
        r.manifest.files.iter().map(|f| (f.format.as_str(), f.encoding.as_str())).collect();
    for want in [("csv", "utf-8"), ("csv", "gb18030"), ("xlsx", "utf-8"), ("jsonl", "utf-8")] {
        assert!(combos.contains(&want), "{want:?} missing from {combos:?}");
    }
    let csv_utf8: Vec<bool> = r
        .manifest
        .files
        .iter()
        .filter(|f| f.format == "csv" && f.encoding == "utf-8")
        .map(|f| r.bytes(f).starts_with(b"\xEF\xBB\xBF"))
        .collect();
    assert!(csv_utf8.contains(&true), "no UTF-8 CSV with BOM");
    assert!(csv_utf8.contains(&false), "no UTF-8 CSV without BOM");
    for f in r.manifest.files.iter().filter(|f| f.format == "xlsx") {
        assert!(r.bytes(f).starts_with(b"PK"), "{} is not a zip container", f.path);
    }
}

#[test]
fn headers_come_as_labels_keys_field_codes_and_the_2015_generation() {
    let r = run(22);
    let mut seen = BTreeSet::new();
    for f in &r.manifest.files {
        let Some(table) = read(&r.out(), f) else {
            continue;
        };
        let has = |h: &str| table.headers.iter().any(|x| x == h);
        if has("处罚名称") && has("行政相对人代码_5(居民身份证号)") && !has("行政相对人类别") {
            seen.insert("legacy penalty");
        }
        if has("项目名称") && has("许可截止期") && !has("证件类型") {
            seen.insert("legacy licence");
        }
        if has("CF_WSH") || has("XK_WSH") {
            seen.insert("field codes");
        }
        if f.format == "jsonl" && has("party_name") {
            seen.insert("jsonl keys");
        }
        if f.format == "jsonl" && has("行政相对人名称") {
            seen.insert("jsonl labels");
        }
    }
    for want in ["legacy penalty", "legacy licence", "field codes", "jsonl keys", "jsonl labels"] {
        assert!(seen.contains(want), "{want} missing: {seen:?}");
    }
}

#[test]
fn csv_cells_hold_commas_quotes_and_line_breaks() {
    let r = run(23);
    let (mut comma, mut quote, mut newline) = (false, false, false);
    for f in r.manifest.files.iter().filter(|f| f.format == "csv") {
        let Some(table) = read(&r.out(), f) else {
            continue;
        };
        for cell in table.rows.iter().flatten() {
            if let Cell::Text(s) = cell {
                comma |= s.contains(',');
                quote |= s.contains('"');
                newline |= s.contains('\n');
            }
        }
    }
    assert!(comma && quote && newline, "comma {comma} quote {quote} newline {newline}");
}

#[test]
fn rare_name_characters_survive_gb18030() {
    let r = run(24);
    let mut found = BTreeSet::new();
    for f in r.manifest.files.iter().filter(|f| f.encoding == "gb18030") {
        let Some(table) = read(&r.out(), f) else {
            continue;
        };
        for cell in table.rows.iter().flatten() {
            if let Cell::Text(s) = cell {
                found.extend(s.chars().filter(|c| "垚喆昇玥堃".contains(*c)));
            }
        }
    }
    assert!(found.len() >= 3, "rare characters found in GB18030 files: {found:?}");
}

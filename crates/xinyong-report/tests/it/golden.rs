//! The JSON content of a fixed subject's report, and the rules of arrangement.

use xinyong_report::model::{EMPTY_TEXT, ReportKind};

use super::{report, with_evaluation};

const TITLES: [&str; 11] = [
    "基础信息",
    "行政许可",
    "行政处罚",
    "守信激励",
    "失信惩戒",
    "重点关注",
    "信用承诺",
    "信用评价",
    "司法判决",
    "其他",
    "信用状况提升建议",
];

/// `UPDATE_GOLDEN=1 cargo test -p xinyong-report` rewrites the golden files after a deliberate change.
fn golden(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(actual, expected, "golden file {} differs (UPDATE_GOLDEN=1 to accept)", path.display());
}

#[test]
fn the_standard_report_of_a_fixed_subject_matches_its_golden_json() {
    let r = report(ReportKind::Standard, 0);
    golden("standard.json", &(serde_json::to_string_pretty(&r).unwrap() + "\n"));
}

#[test]
fn the_special_report_of_a_fixed_subject_matches_its_golden_json() {
    let r = report(ReportKind::Special, 0);
    golden("special.json", &(serde_json::to_string_pretty(&r).unwrap() + "\n"));
}

#[test]
fn sections_come_in_the_national_order_and_empty_ones_say_so() {
    let r = report(ReportKind::Standard, 0);
    let titles: Vec<&str> = r.sections.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(titles, TITLES);
    for s in &r.sections {
        assert_eq!(s.entries.is_empty(), s.text.as_deref() == Some(EMPTY_TEXT), "{}", s.title);
    }
    let empty: Vec<&str> = r.sections.iter().filter(|s| s.entries.is_empty()).map(|s| s.title.as_str()).collect();
    assert_eq!(empty, ["守信激励", "重点关注", "信用承诺", "信用评价", "司法判决", "其他"]);
    let punishment = &r.sections[4];
    assert!(punishment.entries[0].disputed, "the disputed list entry is marked");
}

#[test]
fn the_evaluation_fills_its_section_when_present() {
    let r = with_evaluation();
    let s = r.sections.iter().find(|s| s.key == "evaluation").unwrap();
    assert_eq!(s.text, None);
    assert_eq!(s.entries[0].fields[0].value, "A");
}

#[test]
fn advice_follows_what_is_on_file() {
    let r = report(ReportKind::Standard, 0);
    let advice = r.sections.last().unwrap();
    let text: Vec<&str> = advice.entries.iter().map(|e| e.title.as_str()).collect();
    assert!(text.iter().any(|t| t.contains("行政处罚信息1条")), "{text:?}");
    assert!(text.iter().any(|t| t.contains("失信被执行人")), "{text:?}");
    assert!(text.iter().any(|t| t.contains("异议处理中")), "{text:?}");
    assert!(!text.iter().any(|t| t.contains("未发现失信信息")), "{text:?}");
}

#[test]
fn a_special_report_gives_a_verdict_per_domain_and_the_cross_domain_checks() {
    let r = report(ReportKind::Special, 0);
    let v: Vec<(&str, bool)> = r.verdicts.iter().map(|v| (v.domain.as_str(), v.found)).collect();
    assert_eq!(
        v,
        [
            ("market", true),
            ("tax", false),
            ("enforcement", true),
            ("serious_dishonesty", true),
            ("criminal_judgment", false)
        ]
    );
    assert!(r.verdicts[1].conclusion.contains("未发现行政处罚（含简易程序处罚）"), "{}", r.verdicts[1].conclusion);
    assert!(r.verdicts[4].conclusion.contains("未归集刑事判决"), "{}", r.verdicts[4].conclusion);
}

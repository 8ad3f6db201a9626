//! `xinyong calendar`: the shipped years, and an admin loading next year's notice.

use super::{Platform, stderr};

#[test]
fn next_years_notice_replaces_the_provisional_year_and_bad_files_are_refused() {
    let p = Platform::new();
    let (out, shown) = p.json(&["calendar", "show"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let year = |v: &serde_json::Value, y: i64| v["years"].as_array().unwrap().iter().find(|x| x["year"] == y).cloned();
    assert_eq!(year(&shown, 2026).unwrap()["provisional"], false);
    assert_eq!(year(&shown, 2027).unwrap()["provisional"], true);

    let notice = p.file(
        "2027.toml",
        "[[years]]\nyear = 2027\nsource = \"国务院办公厅关于2027年部分节假日安排的通知\"\n\
         off = [\"2027-01-01\", \"2027-02-05\", \"2027-02-08\"]\nwork = [\"2027-02-20\"]\n"
            .as_bytes(),
    );
    let (out, loaded) = p.json(&["calendar", "load", notice.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(loaded["loaded"], serde_json::json!([2027]));
    let (_, shown) = p.json(&["calendar", "show"]);
    let y2027 = year(&shown, 2027).unwrap();
    assert_eq!((y2027["provisional"].as_bool(), y2027["days_off"].as_u64()), (Some(false), Some(3)));

    let bad = p.file("bad.toml", b"[[years]]\nyear = 2028\nsource = \"x\"\noff = [\"2029-01-01\"]\n");
    let out = p.run(&["calendar", "load", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("2029-01-01 is not in 2028"), "{}", stderr(&out));
    let (_, shown) = p.json(&["calendar", "show"]);
    assert!(year(&shown, 2028).is_none(), "nothing of a bad file is loaded");
}

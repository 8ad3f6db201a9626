//! `xinyong screen`: one output row per input row, in order, invalid identifiers explained.

use super::{Platform, stderr};

const LIST: &str = "主体名称,统一社会信用代码,认定文书号,列入原因,列入日期,认定机关\n\
上海失信示例有限公司,91310000631696382C,（2026）沪0115执1号,有履行能力而拒不履行,2026-02-01,浦东新区人民法院\n";

#[test]
fn screening_answers_every_row_in_order_and_explains_invalid_ones() {
    let p = Platform::new();
    let list = p.file("list.csv", LIST.as_bytes());
    let (out, report) = p.ingest("sh_court", "list_dishonest_debtor", &list, &["--now", "2026-11-23T10:00:00+08:00"]);
    assert!(out.status.success(), "{} {report}", stderr(&out));
    assert_eq!(report["accepted"], 1, "{report}");

    let input = "91310000631696382C\n\n91310000631696382D\n11010519491231002X\n91310000631696382c\n123\n";
    let file = p.file("ids.txt", input.as_bytes());
    let result = p.dir.path().join("out.csv");
    let out = p.run(&[
        "--json",
        "--now",
        "2026-11-23T10:00:00+08:00",
        "screen",
        file.to_str().unwrap(),
        "--scenario",
        "政府采购",
        "-o",
        result.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (summary["rows"].as_u64(), summary["invalid"].as_u64(), summary["listed"].as_u64()),
        (Some(6), Some(3), Some(2))
    );
    let text = std::fs::read_to_string(&result).unwrap();
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 6, "{text}");
    let numbers: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(numbers, ["1", "2", "3", "4", "5", "6"]);
    assert_eq!(
        (rows[0][2].as_str(), rows[0][3].as_str(), rows[0][4].as_str()),
        ("true", "上海失信示例有限公司", "list_dishonest_debtor")
    );
    assert!(rows[1][6].starts_with("empty"), "{:?}", rows[1]);
    assert!(rows[2][6].contains("check"), "a wrong check character is explained: {:?}", rows[2]);
    assert_eq!(rows[3][6], "not_found: no subject on file");
    assert_eq!(rows[4][4], "list_dishonest_debtor", "lower case normalises");
    assert_eq!(rows[5][2], "false");

    let csv_input = p.file("ids.csv", "名称,统一社会信用代码\n甲,91310000631696382C\n".as_bytes());
    let out = p.run(&["--now", "2026-11-23T10:00:00+08:00", "screen", csv_input.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1,91310000631696382C,true,上海失信示例有限公司"));
    let bad = p.file("bad.csv", "名称,地址\n甲,乙\n".as_bytes());
    let out = p.run(&["screen", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("identifier column"), "{}", stderr(&out));
}

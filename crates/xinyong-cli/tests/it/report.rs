//! `xinyong report`, `verify` and `keys` on a real data folder: every format verifies offline, a
//! changed byte exits 1, and a report signed before a key rotation still verifies after it.

use super::{Platform, stderr};

const PENALTY: &str = "行政相对人名称,统一社会信用代码,行政处罚决定书文号,处罚内容,处罚决定日期,处罚机关\n\
    上海示例贸易有限公司,91310000631696382C,沪罚〔2026〕1号,警告,2026-05-06,上海市市场监督管理局\n";

#[test]
fn reports_verify_offline_fail_when_changed_and_survive_a_key_rotation() {
    let p = Platform::new();
    let f = p.file("p.csv", PENALTY.as_bytes());
    let (out, _) = p.ingest("sh_amr", "admin_penalty", &f, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut files = Vec::new();
    for format in ["pdf", "html", "json"] {
        let path = p.dir.path().join(format!("r.{format}"));
        let (out, v) = p.json(&["report", "91310000631696382C", "--format", format, "-o", path.to_str().unwrap()]);
        assert!(out.status.success(), "{format}: {}", stderr(&out));
        assert!(v["number"].as_str().unwrap().starts_with("XY"), "{v}");
        files.push(path);
    }
    let special = p.dir.path().join("s.pdf");
    let out = p.run(&[
        "report",
        "91310000631696382C",
        "--special",
        "--domains",
        "market,tax",
        "--from",
        "2024-01-01",
        "-o",
        special.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    files.push(special);

    let out = p.run(&["keys", "rotate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for path in &files {
        let (out, v) = p.json(&["verify", path.to_str().unwrap()]);
        assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
        assert_eq!((v["valid"].as_bool(), v["key_checked"].as_bool()), (Some(true), Some(true)), "{v}");
        assert_eq!(v["subject"], "上海示例贸易有限公司");
        let mut bytes = std::fs::read(path).unwrap();
        let at = bytes.len() / 3;
        bytes[at] ^= 0x04;
        let bad = p.file("bad", &bytes);
        let out = p.run(&["verify", bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{}: a changed byte must fail", path.display());
        assert!(stderr(&out).starts_with("error:"), "{}", stderr(&out));
    }
    let out = p.run(&["verify", files[0].to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("valid\tXY") && text.contains("standard"), "{text}");
    let (_, keys) = p.json(&["keys", "list"]);
    assert_eq!(keys["keys"].as_array().unwrap().len(), 2, "{keys}");

    let out = p.run(&["report", "91310000631696382C", "--format", "docx", "-o", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let out = p.run(&["report", "91310000631696382C", "--domains", "market", "-o", "x"]);
    assert_eq!(out.status.code(), Some(2), "--domains without --special");
}

//! `xinyong evaluate` and `xinyong inspect`: a full recompute with the default model or a model file;
//! an invalid model file is refused with its line and reason; inspection plans reproduce from their seed.

use super::{Platform, stderr};

const REGISTRATIONS: &str = "企业名称,统一社会信用代码,成立日期\n上海示例贸易有限公司,91310000631696382C,2016-01-04\n";

#[test]
fn evaluate_counts_grades_and_refuses_an_invalid_model_with_line_and_reason() {
    let p = Platform::new();
    let file = p.file("reg.csv", REGISTRATIONS.as_bytes());
    let (out, _) = p.ingest("sh_amr", "legal_person_registration", &file, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (out, run) = p.json(&["evaluate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(run["subjects"], 1, "{run}");
    assert_eq!(run["grades"].as_object().map(|g| g.values().filter_map(|v| v.as_u64()).sum::<u64>()), Some(1));

    let model =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/evaluation/default.toml")).unwrap();
    let line = model.lines().position(|l| l.starts_with("points = -120")).unwrap() + 1;
    let bad = p.file("bad.toml", model.replacen("points = -120", "points = 0", 1).as_bytes());
    let out = p.run(&["evaluate", "--model", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let message = stderr(&out);
    assert!(message.contains("points must be a finite, non-zero number"), "{message}");
    // The indicator's table starts a few lines above the offending key: that line is named.
    let named: usize = message.split("line ").nth(1).and_then(|s| s.split(':').next()).unwrap().parse().unwrap();
    assert!(named < line && line - named < 10, "{message} (points on line {line})");

    let broken = p.file("syntax.toml", b"version = \"x\"\nname = \n");
    let out = p.run(&["evaluate", "--model", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("line 2:"), "{}", stderr(&out));

    // A valid model file becomes the active model, named in stats.
    let own =
        p.file("own.toml", model.replacen("version = \"2026.1-default\"", "version = \"2026.2-test\"", 1).as_bytes());
    let (out, run) = p.json(&["evaluate", "--model", own.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!((run["model"].as_str(), run["changed"].as_u64()), (Some("2026.2-test"), Some(1)));
    let (_, stats) = p.json(&["stats"]);
    assert_eq!(stats["evaluation"]["model"], "2026.2-test", "{stats}");
    assert!(stats["subjects"].is_u64(), "the collection figures stay where they were");

    let (out, first) =
        p.json(&["inspect", "plan", "--name", "抽查", "--ratio", "A=1", "--ratio", "B=1", "--seed", "7"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!((first["seed"].as_str(), first["reproducible"].as_bool()), (Some("7"), Some(true)));
    let xlsx = p.data().join("plan.xlsx");
    let (out, shown) = p.json(&["inspect", "show", &first["id"].to_string(), "-o", xlsx.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(shown["sample"], first["sample"]);
    assert!(std::fs::read(&xlsx).unwrap().starts_with(b"PK"));
}

//! The same commands on PostgreSQL (`--database-url`): what users see is what the embedded store shows.

use serde_json::Value;

use super::{Platform, stderr};

const CSV: &str = "行政相对人名称,行政相对人类别,统一社会信用代码,证件类型,证件号码,行政处罚决定书文号,处罚类别,处罚内容,罚款金额(万元),处罚决定日期,处罚机关\n\
    上海示例贸易有限公司,法人及非法人组织,91310000631696382C,,,沪市监罚〔2025〕1号,罚款,罚款1万元,1.00,2025-03-04,上海市市场监督管理局\n\
    上海坏码有限公司,法人及非法人组织,91310000631696382D,,,沪市监罚〔2025〕4号,罚款,罚款,1,2025-03-07,上海市市场监督管理局\n\
    张三,自然人,,身份证,360426199101010071,沪市监罚〔2025〕3号,罚款,罚款500元,0.05,2025年3月6日,上海市市场监督管理局\n";

/// An ingest result without what differs run to run (batch id, times).
fn comparable(mut v: Value) -> Value {
    for key in ["batch", "started_at", "finished_at"] {
        v.as_object_mut().map(|o| o.remove(key));
    }
    v
}

/// A profile without internal ids and the time its evaluation was computed.
fn profile(mut v: Value) -> Value {
    v["subject"].as_object_mut().map(|o| o.remove("id"));
    v["evaluation"].as_object_mut().map(|o| o.remove("at"));
    for r in v["records"].as_array_mut().into_iter().flatten() {
        r.as_object_mut().map(|o| o.remove("id"));
    }
    v
}

#[test]
fn ingest_stats_profiles_and_audit_show_the_same_on_both_backends() {
    let (lite, pg) = (Platform::new(), Platform::postgres());
    let mut seen = Vec::new();
    for p in [&lite, &pg] {
        let f = p.file("p.csv", CSV.as_bytes());
        let (out, first) = p.ingest("sh_amr", "admin_penalty", &f, &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        let (out, again) = p.ingest("sh_amr", "admin_penalty", &f, &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!((again["created"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(2)), "{again}");
        let (out, person) = p.json(&["subject", "360426199101010071", "--purpose", "日常监管"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let (_, stats) = p.json(&["stats"]);
        let (out, audit) = p.json(&["audit", "verify"]);
        assert!(out.status.success(), "{}", stderr(&out));
        seen.push((comparable(first), profile(person), stats["records"].clone(), audit["entries"].clone()));
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[1].0["accepted"], 2);
    assert_eq!(seen[1].2, 2);
}

#[test]
fn a_second_init_is_refused_unless_forced_and_force_starts_empty() {
    let p = Platform::postgres();
    let f = p.file("p.csv", CSV.as_bytes());
    p.ingest("sh_amr", "admin_penalty", &f, &[]);
    let out = p.run(&["init"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    let out = p.run(&["init", "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, stats) = p.json(&["stats"]);
    assert_eq!(stats["records"], 0, "{stats}");
}

#[test]
fn a_bad_or_unreachable_database_is_a_clear_error() {
    let p = Platform::postgres();
    let run = |url: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_xinyong"))
            .args(["--data", p.data().to_str().unwrap(), "--database-url", url, "stats"])
            .output()
            .unwrap()
    };
    let out = run("postgres://nobody:secret@[::1");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("error: invalid request: --database-url"), "{}", stderr(&out));
    let out = run("postgresql://nobody:secret@127.0.0.1:1/x");
    assert_eq!(out.status.code(), Some(1));
    assert!(!stderr(&out).contains("secret"), "the password is never printed: {}", stderr(&out));
    let out = run(&xinyong_store_pg::scratch::with_database(p.db.as_ref().unwrap().url(), "postgres").unwrap());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("xinyong init"), "a database without a platform says to init: {}", stderr(&out));
}

#[test]
fn the_demo_loads_every_synthetic_file_into_postgres() {
    let p = Platform::postgres();
    // A platform made by init is not the demo's to replace.
    let out = p.run(&["demo", "--subjects", "300", "--no-serve"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let fresh = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xinyong"))
        .args(["--data", fresh.path().join("demo").to_str().unwrap(), "--database-url"])
        .arg(p.db.as_ref().unwrap().url())
        .args(["--json", "demo", "--subjects", "300", "--no-serve"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "an existing platform in the database is kept: {}", stderr(&out));
    let out = p.run(&["init", "--force"]);
    assert!(out.status.success());
    std::fs::write(p.data().join(".xinyong-demo"), b"made by xinyong demo\n").unwrap();
    let (out, v) = p.json(&["demo", "--subjects", "300", "--no-serve"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(v["stats"]["records"].as_u64().unwrap() > 1000, "{}", v["stats"]);
    assert!(v["data"].as_str().unwrap().starts_with("PostgreSQL database xinyong_test_"), "{}", v["data"]);
}

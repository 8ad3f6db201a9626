//! Accounts, profiles and the audit trail from the console.

use super::{Platform, stderr};

#[test]
fn init_prints_an_admin_token_and_accounts_print_theirs_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xinyong"))
        .args(["--data", dir.path().join("d").to_str().unwrap(), "--json", "init"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["admin_token"].as_str().unwrap().starts_with("xy_"));
    let p = Platform::new();
    let (out, v) = p.json(&["account", "add", "officer", "--role", "department", "--unit", "sh_housing"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(v["token"].as_str().unwrap().starts_with("xy_"));
    let (_, list) = p.json(&["account", "list"]);
    assert!(!list.to_string().contains(v["token"].as_str().unwrap()), "tokens are never listed");
    let out = p.run(&["account", "add", "x", "--role", "supplier"]);
    assert_eq!(out.status.code(), Some(2), "a supplier needs a unit");
}

#[test]
fn a_console_profile_needs_a_purpose_and_is_in_the_audit_trail() {
    let p = Platform::new();
    let csv = "行政相对人名称,统一社会信用代码,行政处罚决定书文号,处罚内容,处罚决定日期,处罚机关\n\
               上海示例贸易有限公司,91310000631696382C,沪罚〔2026〕1号,警告,2026-05-06,上海市市场监督管理局\n";
    let f = p.file("p.csv", csv.as_bytes());
    let (out, _) = p.ingest("sh_amr", "admin_penalty", &f, &[]);
    assert!(out.status.success());
    let out = p.run(&["subject", "91310000631696382C"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let (out, v) = p.json(&["subject", "91310000631696382C", "--purpose", "日常监管"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(v["records"][0]["fields"]["decision_number"], "沪罚〔2026〕1号");
    assert_eq!(v["purpose"], "supervision");
    let (out, v) = p.json(&["audit", "verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(v["entries"].as_u64().unwrap() >= 2, "{v}");
    let out = p.run(&["audit", "checkpoint"]);
    assert!(out.status.success());
}

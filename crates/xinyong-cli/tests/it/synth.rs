//! `synth` files load exactly as their manifest says, reload without change, and `demo` runs.

use serde_json::Value;

use super::{Platform, stderr};

#[test]
fn every_synth_file_accepts_exactly_rows_minus_invalid_rows_and_reloads_unchanged() {
    let p = Platform::new();
    let out_dir = p.dir.path().join("agency");
    let (out, manifest) = p.json(&["synth", "--out", out_dir.to_str().unwrap(), "--subjects", "3000", "--seed", "11"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let files = manifest["files"].as_array().unwrap();
    assert!(files.len() >= 8);
    let mut formats = std::collections::BTreeSet::new();
    for f in files {
        formats.insert((f["format"].as_str().unwrap().to_owned(), f["encoding"].as_str().unwrap().to_owned()));
        let path = out_dir.join(f["path"].as_str().unwrap());
        let (out, v) = p.ingest(f["unit"].as_str().unwrap(), f["item"].as_str().unwrap(), &path, &[]);
        assert!(out.status.success(), "{}: {}", f["path"], stderr(&out));
        let expected = f["rows"].as_u64().unwrap() - f["invalid_rows"].as_u64().unwrap();
        assert_eq!(v["rows"], f["rows"], "{}", f["path"]);
        assert_eq!(
            v["accepted"].as_u64(),
            Some(expected),
            "{}: {:?}",
            f["path"],
            v["errors"].as_array().map(|e| e.iter().take(3).collect::<Vec<_>>())
        );
    }
    assert!(formats.contains(&("csv".to_owned(), "gb18030".to_owned())), "{formats:?}");
    assert!(formats.iter().any(|(f, _)| f == "xlsx") && formats.iter().any(|(f, _)| f == "jsonl"), "{formats:?}");
    let (_, before) = p.json(&["stats"]);
    for f in files {
        let path = out_dir.join(f["path"].as_str().unwrap());
        let (_, v): (_, Value) = p.ingest(f["unit"].as_str().unwrap(), f["item"].as_str().unwrap(), &path, &[]);
        assert_eq!((v["created"].as_u64(), v["updated"].as_u64()), (Some(0), Some(0)), "{} reloaded", f["path"]);
    }
    let (_, after) = p.json(&["stats"]);
    assert_eq!(before["records"], after["records"]);
    assert_eq!(before["subjects"], after["subjects"]);
    let linked = after["by_unit"].as_array().unwrap().iter().all(|u| u["link_rate"].as_f64().unwrap() > 0.9);
    assert!(linked, "{after}");
}

#[test]
fn demo_builds_a_platform_and_refuses_to_wipe_a_real_one() {
    let p = Platform::new();
    // The folder holds a real platform (made by init): the demo must not replace it.
    let out = p.run(&["demo", "--subjects", "300", "--no-serve"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let demo_dir = p.dir.path().join("demo");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xinyong"))
        .args(["--data", demo_dir.to_str().unwrap(), "demo", "--subjects", "300", "--no-serve"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("rows accepted"), "{text}");
}

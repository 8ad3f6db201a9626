//! The three formats: each verifies, each fails when any byte changes, old keys keep verifying.

use std::process::Command;

use chrono::DateTime;
use xinyong_report::model::{Report, ReportKind};
use xinyong_report::pdf::PdfEngine;
use xinyong_report::render;
use xinyong_report::sign::{Format, VerifyError, verify};
use xinyong_store::keyring::Keyring;

use super::report;

fn keyring(dir: &tempfile::TempDir) -> Keyring {
    Keyring::create(&dir.path().join("keys"), DateTime::parse_from_rfc3339("2026-01-01T00:00:00+08:00").unwrap())
        .unwrap()
}

fn engine() -> PdfEngine {
    PdfEngine::load(None).expect("a CJK font (fonts-noto-cjk) must be installed for the PDF tests")
}

fn files(r: &Report, keys: &Keyring) -> Vec<(Format, Vec<u8>)> {
    let pdf = engine();
    [Format::Json, Format::Html, Format::Pdf]
        .into_iter()
        .map(|f| (f, render(r, f, Some(&pdf), keys).unwrap()))
        .collect()
}

/// Positions to change: every byte of the last 400 (the signature trailer and what precedes it), the
/// first 64, and 400 spread over the rest.
fn positions(len: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (0..len.min(64)).collect();
    out.extend(len.saturating_sub(400)..len);
    let step = (len / 400).max(1);
    out.extend((0..len).step_by(step));
    out.sort_unstable();
    out.dedup();
    out
}

#[test]
fn every_format_verifies_and_changing_any_byte_fails() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keyring(&dir);
    let r = report(ReportKind::Standard, 0);
    for (format, bytes) in files(&r, &keys) {
        let ok = verify(&bytes, Some(keys.public_keys())).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_eq!((ok.format, ok.number.as_str(), ok.kind.as_str()), (format, "XY20261123A1B2C3D4", "standard"));
        assert_eq!(ok.subject, "上海测试贸易有限公司");
        assert_eq!(ok.issued_at, "2026-11-23T10:00:00+08:00");
        assert!(ok.key_checked);
        assert!(!verify(&bytes, None).unwrap().key_checked, "offline: the carried key");
        for at in positions(bytes.len()) {
            for flip in [0x01u8, 0x20, 0x80] {
                let mut bad = bytes.clone();
                bad[at] ^= flip;
                assert!(verify(&bad, Some(keys.public_keys())).is_err(), "{format:?}: byte {at} ^ {flip:#x} verified");
                assert!(verify(&bad, None).is_err(), "{format:?} offline: byte {at} ^ {flip:#x} verified");
            }
        }
        let mut longer = bytes.clone();
        longer.push(b'\n');
        assert!(verify(&longer, Some(keys.public_keys())).is_err(), "{format:?}: appended byte verified");
        assert!(verify(&bytes[..bytes.len() - 1], Some(keys.public_keys())).is_err(), "{format:?}: truncated");
    }
}

#[test]
fn a_report_signed_by_another_platform_is_not_ours() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (ours, theirs) = (keyring(&a), keyring(&b));
    let r = report(ReportKind::Standard, 0);
    let forged = render(&r, Format::Html, None, &theirs).unwrap();
    assert!(matches!(verify(&forged, Some(ours.public_keys())), Err(VerifyError::UnknownKey(_))));
}

#[test]
fn a_report_issued_under_an_old_key_verifies_after_rotation_until_the_key_is_retired() {
    let dir = tempfile::tempdir().unwrap();
    let mut keys = keyring(&dir);
    let r = report(ReportKind::Special, 0);
    let old = files(&r, &keys);
    let old_id = keys.current().key_id.clone();
    keys.rotate(DateTime::parse_from_rfc3339("2026-12-01T00:00:00+08:00").unwrap()).unwrap();
    let published = Keyring::open(&dir.path().join("keys")).unwrap().public_keys().to_vec();
    assert_eq!(published.len(), 2);
    for (format, bytes) in &old {
        let ok = verify(bytes, Some(&published)).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_eq!(ok.key_id, old_id);
    }
    keys.retire(&old_id).unwrap();
    for (format, bytes) in &old {
        assert!(verify(bytes, Some(keys.public_keys())).is_err(), "{format:?} under a retired key");
    }
}

#[test]
fn the_json_format_is_the_canonical_body_with_a_detached_signature() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keyring(&dir);
    let r = report(ReportKind::Standard, 0);
    let bytes = render(&r, Format::Json, None, &keys).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["signature"]["algorithm"], "Ed25519");
    assert_eq!(doc["signature"]["key_id"], keys.current().key_id.as_str());
    let body: Report = serde_json::from_value(doc["report"].clone()).unwrap();
    assert_eq!(body, r);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with(&format!("{{\"report\":{}", r.canonical_json().unwrap())));
}

#[test]
fn the_html_is_self_contained_and_escapes_what_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keyring(&dir);
    let mut r = report(ReportKind::Standard, 0);
    r.subject.name = "<script>alert(1)</script>公司".into();
    let html = String::from_utf8(render(&r, Format::Html, None, &keys).unwrap()).unwrap();
    assert!(!html.contains("<script>"), "escaped");
    assert!(!html.contains("http://") || !html.contains("<link"), "no external resources");
    assert!(!html.contains("<link") && !html.contains(" src="), "no external resources");
    assert!(html.contains("<svg"), "the QR code is inline");
    assert!(html.contains("查询期内无相关信息") && html.contains("【异议中】"));
}

fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) must be installed for the PDF tests");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fonts = Command::new("pdffonts").arg(&path).output().unwrap();
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    assert!(fonts.contains("CJK") || fonts.contains("Hei"), "{fonts}");
    for line in fonts.lines().skip(2) {
        assert!(line.contains(" yes yes "), "every font embedded as a subset: {line}");
    }
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_pdf_extracts_to_the_chinese_headings_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keyring(&dir);
    let r = report(ReportKind::Standard, 0);
    let pdf = render(&r, Format::Pdf, Some(&engine()), &keys).unwrap();
    // The signature line sits before `startxref`, which readers look for in the file's last bytes.
    assert!(pdf.ends_with(b"%%EOF\n"));
    let last = String::from_utf8_lossy(&pdf[pdf.len() - 64..]).into_owned();
    assert!(last.contains("startxref"), "{last}");
    let text = pdftotext(&pdf);
    let mut from = 0;
    for heading in [
        "公共信用信息报告",
        "一、基础信息",
        "二、行政许可",
        "三、行政处罚",
        "四、守信激励",
        "五、失信惩戒",
        "六、重点关注",
        "七、信用承诺",
        "八、信用评价",
        "九、司法判决",
        "十、其他",
        "十一、信用状况提升建议",
        "说明",
    ] {
        let at = text[from..].find(heading).unwrap_or_else(|| panic!("{heading} missing after byte {from}:\n{text}"));
        from += at + heading.len();
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    for needle in
        ["查询期内无相关信息", "XY20261123A1B2C3D4", "上海测试贸易有限公司", "【异议中】", "第1页/共", "出具时间"]
    {
        assert!(compact.contains(needle), "{needle} missing:\n{text}");
    }
}

#[test]
fn a_special_pdf_states_its_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keyring(&dir);
    let pdf = render(&report(ReportKind::Special, 0), Format::Pdf, Some(&engine()), &keys).unwrap();
    let text = pdftotext(&pdf);
    for needle in ["专用信用报告", "核查结论", "市场监管", "发现记录", "未发现记录", "刑事判决"]
    {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
}

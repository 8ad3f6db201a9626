//! `xinyong-bench report`: PDF and HTML credit reports per second (laid out, QR code, signed) for a
//! subject with 10 and with 200 records on file; baseline: serialising the same report as JSON.
//! The report model is built once per size from synthetic penalty records, as the server builds it.

use std::time::Instant;

use chrono::{DateTime, NaiveDate};
use serde_json::json;
use xinyong_domain::catalog::{Category, InfoClass, ListKind, Publication, Severity};
use xinyong_domain::subject::SubjectKind;
use xinyong_report::build::{Domains, ReportInput, ReportRecord, build};
use xinyong_report::model::{Field, Report, ReportKind};
use xinyong_report::pdf::PdfEngine;
use xinyong_report::sign::Format;
use xinyong_store::keyring::Keyring;

use super::Figure;

fn record(i: usize) -> ReportRecord {
    let date = NaiveDate::from_ymd_opt(2026, 1 + (i % 10) as u32, 1 + (i % 27) as u32).unwrap_or_default();
    ReportRecord {
        id: i as i64,
        item: "admin_penalty".into(),
        item_name: "行政处罚".into(),
        category: Category::Supervision,
        info_class: InfoClass::Administrative,
        publication: Publication::Penalty,
        list_kind: ListKind::None,
        severity: Severity::General,
        unit: "sh_amr".into(),
        date,
        disputed: i.is_multiple_of(17),
        document: format!("沪市监浦处〔2026〕{:05}号", i + 1),
        fields: vec![
            Field::new("违法行为类型", "未按规定履行食品安全管理义务"),
            Field::new("违法事实", "经查，当事人经营场所未按规定公示食品经营许可证，且未建立进货查验记录制度。"),
            Field::new("处罚依据", "《中华人民共和国食品安全法》第一百二十六条第一款"),
            Field::new("处罚类别", "警告;罚款"),
            Field::new("处罚内容", "警告，并处罚款人民币5000元"),
            Field::new("罚款金额(万元)", "0.5"),
            Field::new("处罚决定日期", date.to_string()),
            Field::new("处罚机关", "上海市浦东新区市场监督管理局"),
        ],
    }
}

fn report(records: usize) -> anyhow::Result<Report> {
    let domains = Domains::default_domains()?;
    Ok(build(ReportInput {
        number: "XY20261123BENCH00001".into(),
        kind: ReportKind::Standard,
        platform: "上海市公共信用信息服务平台".into(),
        issued_at: DateTime::parse_from_rfc3339("2026-11-23T10:00:00+08:00")?,
        issued_to: "上海测试贸易有限公司（信用主体）".into(),
        purpose: "本人查询".into(),
        verify_url: "http://127.0.0.1:8080/verify/XY20261123BENCH00001".into(),
        subject_kind: SubjectKind::LegalPerson,
        subject_name: "上海测试贸易有限公司".into(),
        subject_identifier: "91310115MA1K4ABC1X".into(),
        basic: vec![Field::new("法定代表人", "王某")],
        records: (0..records).map(record).collect(),
        evaluation: None,
        queries: Vec::new(),
        period: None,
        domains: domains.all().to_vec(),
        catalog_has_judgments: false,
    }))
}

/// CPU seconds this process used so far (user + system, Linux `/proc/self/stat`, 1/100 s ticks): on a
/// machine shared with other work, wall time overstates what a report costs.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

/// Runs `f` `n` times; seconds taken.
fn time(n: u64, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    let start = Instant::now();
    for _ in 0..n {
        f()?;
    }
    Ok(start.elapsed().as_secs_f64())
}

pub fn run(dir: &std::path::Path) -> anyhow::Result<Vec<Figure>> {
    let keys = Keyring::open_or_create(&dir.join("keys"), DateTime::parse_from_rfc3339("2026-01-01T00:00:00+08:00")?)?;
    let started = Instant::now();
    let engine = PdfEngine::load(None)?;
    let font_load_ms = started.elapsed().as_secs_f64() * 1000.0;
    // One warm-up PDF: typst's first layout initialises its caches.
    xinyong_report::render(&report(10)?, Format::Pdf, Some(&engine), &keys)?;
    let mut out = Vec::new();
    for (records, pdf_n, html_n) in [(10usize, 50u64, 400u64), (200, 20, 100)] {
        let r = report(records)?;
        let json_n = html_n * 10;
        let json_s = time(json_n, || {
            std::hint::black_box(r.canonical_json()?);
            Ok(())
        })?;
        for (format, n) in [(Format::Pdf, pdf_n), (Format::Html, html_n)] {
            let mut bytes = 0;
            let cpu_before = cpu_seconds();
            let seconds = time(n, || {
                bytes = xinyong_report::render(&r, format, Some(&engine), &keys)?.len();
                Ok(())
            })?;
            let mut extra = serde_json::Map::new();
            extra.insert("format".into(), json!(format.extension()));
            extra.insert("records".into(), json!(records));
            extra.insert("ms_per_report".into(), json!(super::round(seconds * 1000.0 / n as f64)));
            let cpu = cpu_seconds() - cpu_before;
            extra.insert("cpu_ms_per_report".into(), json!(super::round(cpu * 1000.0 / n as f64)));
            extra.insert("bytes".into(), json!(bytes));
            if format == Format::Pdf {
                extra.insert("font_load_ms".into(), json!(super::round(font_load_ms)));
            }
            out.push(Figure::measured(
                "report",
                (n, seconds),
                "serialising the same report as JSON",
                (json_n, json_s),
                extra,
            ));
        }
    }
    Ok(out)
}

//! Writes sample reports (`cargo run --release -p xinyong-report --example sample -- OUT_DIR [RECORDS]`)
//! for looking at the layout: a standard and a special report of a company, in PDF and HTML.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/it/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

fn main() {
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(args.next().expect("OUT_DIR"));
    let extra: usize = args.next().map_or(0, |n| n.parse().unwrap());
    std::fs::create_dir_all(&out).unwrap();
    let keys = xinyong_store::keyring::Keyring::open_or_create(
        &out.join("keys"),
        chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00+08:00").unwrap(),
    )
    .unwrap();
    let engine = xinyong_report::pdf::PdfEngine::load(None).unwrap();
    for (name, kind) in [
        ("standard", xinyong_report::model::ReportKind::Standard),
        ("special", xinyong_report::model::ReportKind::Special),
    ] {
        let r = fixtures::report(kind, extra);
        for f in [xinyong_report::sign::Format::Pdf, xinyong_report::sign::Format::Html] {
            let bytes = xinyong_report::render(&r, f, Some(&engine), &keys).unwrap();
            std::fs::write(out.join(format!("{name}.{}", f.extension())), bytes).unwrap();
        }
    }
}

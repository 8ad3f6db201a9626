//! Writes sample reports (`cargo run --release -p xinyong-report --example sample -- OUT_DIR [RECORDS]`)
//! for looking at the layout: a standard and a special report of a company, in PDF and HTML.

// The tests' fixed report data (its unwraps are on constants, not on input).
#[path = "../tests/it/fixtures.rs"]
#[allow(dead_code, clippy::unwrap_used)]
mod fixtures;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(args.next().ok_or("usage: sample OUT_DIR [RECORDS]")?);
    let extra: usize = match args.next() {
        Some(n) => n.parse().map_err(|e| format!("RECORDS {n:?}: {e}"))?,
        None => 0,
    };
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let keys = xinyong_store::keyring::Keyring::open_or_create(
        &out.join("keys"),
        chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00+08:00")?,
    )?;
    let engine = xinyong_report::pdf::PdfEngine::load(None)?;
    for (name, kind) in [
        ("standard", xinyong_report::model::ReportKind::Standard),
        ("special", xinyong_report::model::ReportKind::Special),
    ] {
        let r = fixtures::report(kind, extra);
        for f in [xinyong_report::sign::Format::Pdf, xinyong_report::sign::Format::Html] {
            let bytes = xinyong_report::render(&r, f, Some(&engine), &keys)?;
            std::fs::write(out.join(format!("{name}.{}", f.extension())), bytes)?;
        }
    }
    Ok(())
}

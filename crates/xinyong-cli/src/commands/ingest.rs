//! `xinyong ingest`: load one file as one batch.

use std::path::Path;

use xinyong_evaluate::run::after_change;
use xinyong_ingest::pipeline::{self, IngestError, IngestRequest};
use xinyong_ingest::reader::{self, EncodingChoice, Format};
use xinyong_store::{BatchReport, BatchStatus, Store};

use crate::args::{Global, IngestArgs};
use crate::context::{audit_console, new_batch_id, now, open_store, print_json};
use crate::{CmdResult, Failure};

pub fn run(g: &Global, args: &IngestArgs) -> CmdResult {
    let format = match &args.format {
        Some(f) => Format::parse(f).ok_or_else(|| Failure::usage(format!("--format {f}: use csv, xlsx or jsonl")))?,
        None => Format::from_path(&args.file).ok_or_else(|| {
            Failure::usage(format!("cannot tell the format of {} from its name; give --format", args.file.display()))
        })?,
    };
    let encoding = EncodingChoice::parse(&args.encoding)
        .ok_or_else(|| Failure::usage(format!("--encoding {}: use auto, utf-8 or gb18030", args.encoding)))?;
    let store = open_store(g)?;
    let report = ingest_file(g, &*store, &args.unit, &args.item, &args.file, format, encoding, args.all_or_nothing)?;
    if g.json {
        print_json(&report)?;
    } else {
        print_text(&report);
    }
    if report.status == BatchStatus::Rejected {
        return Err(Failure::failed(format!(
            "batch {} rejected: {} bad row(s) and --all-or-nothing; nothing was stored",
            report.batch, report.rejected
        )));
    }
    Ok(())
}

/// Loads one file as one batch, then re-evaluates the subjects it touched.
#[allow(clippy::too_many_arguments)]
pub fn ingest_file(
    g: &Global,
    store: &dyn Store,
    unit: &str,
    item: &str,
    file: &Path,
    format: Format,
    encoding: EncodingChoice,
    all_or_nothing: bool,
) -> Result<BatchReport, Failure> {
    let (report, touched) = ingest_batch(g, store, unit, item, file, format, encoding, all_or_nothing)?;
    // The batch is committed: a failed re-evaluation is reported, not the batch's failure.
    let cause = format!("batch {}", report.batch);
    let reevaluated = match store.load_catalog() {
        Ok(catalog) => after_change(store, &catalog, &touched, &cause, report.started_at).map(|_| ()),
        Err(e) => Err(e.into()),
    };
    if let Err(e) = reevaluated {
        eprintln!("warning: batch {} is stored, but re-evaluating its subjects failed: {e}", report.batch);
    }
    Ok(report)
}

/// Loads one file as one batch and audits it, without evaluating: answers the report and the subjects
/// the batch created or changed. For loads of many files that evaluate once at the end (`demo`).
#[allow(clippy::too_many_arguments)]
pub fn ingest_batch(
    g: &Global,
    store: &dyn Store,
    unit: &str,
    item: &str,
    file: &Path,
    format: Format,
    encoding: EncodingChoice,
    all_or_nothing: bool,
) -> Result<(BatchReport, Vec<i64>), Failure> {
    let catalog = store.load_catalog()?;
    pipeline::check_supplier(&catalog, unit, item).map_err(Failure::failed)?;
    let reader = reader::open_path(file, format, encoding)
        .map_err(|e| Failure::usage(format!("{}: {}", file.display(), e.message)))?;
    let now = now(g)?;
    let request = IngestRequest {
        batch_id: new_batch_id(now),
        unit: unit.to_owned(),
        item: item.to_owned(),
        format,
        file_name: file.file_name().map(|n| n.to_string_lossy().into_owned()),
        all_or_nothing,
        now,
        today: now.date_naive(),
    };
    let (report, touched) = pipeline::ingest_tracked(store, &catalog, &request, reader).map_err(|e| match e {
        IngestError::File(m) => Failure::usage(format!("{}: {m}", file.display())),
        other => Failure::failed(other),
    })?;
    let detail =
        format!("batch {} {}/{}: {} accepted, {} rejected", report.batch, unit, item, report.accepted, report.rejected);
    audit_console(g, store, "batch", report.status.as_str(), detail)?;
    Ok((report, touched))
}

fn print_text(r: &BatchReport) {
    println!(
        "batch {} ({} / {}, {} {}): {} rows, {} accepted ({} created, {} updated, {} unchanged), {} rejected, {} linked",
        r.batch,
        r.unit,
        r.item,
        r.format,
        r.encoding,
        r.rows,
        r.accepted,
        r.created,
        r.updated,
        r.unchanged,
        r.rejected,
        r.linked
    );
    for w in &r.warnings {
        println!("  warning: {}", w.message);
    }
    for e in r.errors.iter().take(20) {
        println!("  row {} {}: {} ({})", e.row, e.field.as_deref().unwrap_or("-"), e.message, e.code);
    }
    if r.errors.len() > 20 {
        println!("  … {} more; see `xinyong batch {}`", r.errors.len() - 20, r.batch);
    }
}

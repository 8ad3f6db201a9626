//! `xinyong ingest`: load one file as one batch.

use std::path::PathBuf;

use xinyong_evaluate::run::after_change;
use xinyong_ingest::pipeline::{self, IngestError, IngestRequest, Job};
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
    let job = FileJob { unit: args.unit.clone(), item: args.item.clone(), path: args.file.clone(), format, encoding };
    let report = ingest_file(g, &*store, &job, args.all_or_nothing)?;
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

/// Loads one file as one batch (audited), then re-evaluates the subjects it touched.
pub fn ingest_file(g: &Global, store: &dyn Store, job: &FileJob, all_or_nothing: bool) -> Result<BatchReport, Failure> {
    let mut loaded = None;
    ingest_batches(g, store, std::slice::from_ref(job), all_or_nothing, |_, report, touched| {
        loaded = Some((report, touched));
        Ok(())
    })?;
    let (report, touched) =
        loaded.ok_or_else(|| Failure::failed(format!("{}: the file was not loaded", job.path.display())))?;
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

/// One file of [`ingest_batches`].
pub struct FileJob {
    pub unit: String,
    pub item: String,
    pub path: PathBuf,
    pub format: Format,
    pub encoding: EncodingChoice,
}

/// Loads files in order, one batch each, audited and not evaluated (for loads of many files that
/// evaluate once at the end, such as `demo`). The next file is read and validated while the store
/// commits the one before; a store without records may build some indexes only after the last file
/// ([`xinyong_store::BatchStore::begin_initial_load`]). `each` sees every committed batch, in order,
/// with the subjects it created or changed, and may stop the load with a failure; so does the first
/// file that cannot be loaded.
pub fn ingest_batches(
    g: &Global,
    store: &dyn Store,
    files: &[FileJob],
    all_or_nothing: bool,
    mut each: impl FnMut(&FileJob, BatchReport, Vec<i64>) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let catalog = store.load_catalog()?;
    let start = now(g)?;
    let jobs = files.iter().map(|f| {
        let now = now(g).unwrap_or(start);
        let request = IngestRequest {
            batch_id: new_batch_id(now),
            unit: f.unit.clone(),
            item: f.item.clone(),
            format: f.format,
            file_name: f.path.file_name().map(|n| n.to_string_lossy().into_owned()),
            all_or_nothing,
            now,
            today: now.date_naive(),
        };
        let open = move || reader::open_path(&f.path, f.format, f.encoding).map_err(IngestError::from);
        Job { request, open: Box::new(open) }
    });
    let mut files_done = files.iter();
    let mut result = Ok(());
    // Into an empty store, the indexes that can wait are built once at the end, even after a failure.
    let deferred = store.begin_initial_load()?;
    pipeline::ingest_sequence(store, &catalog, jobs, |_, outcome| {
        let Some(file) = files_done.next() else { return false };
        result = outcome
            .map_err(|e| match e {
                IngestError::File(m) => Failure::usage(format!("{}: {m}", file.path.display())),
                other => Failure::failed(other),
            })
            .and_then(|(report, touched)| {
                let detail = format!(
                    "batch {} {}/{}: {} accepted, {} rejected",
                    report.batch, file.unit, file.item, report.accepted, report.rejected
                );
                audit_console(g, store, "batch", report.status.as_str(), detail)?;
                each(file, report, touched)
            });
        result.is_ok()
    });
    let finished = if deferred { store.finish_initial_load().map_err(Failure::from) } else { Ok(()) };
    result.and(finished)
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

//! `xinyong evaluate [--model FILE]`: recompute every subject's score and grade; print the count per grade.
//! With `--model`, the file becomes the platform's active model (incremental recomputes after batches and
//! workflow steps use it from then on). An invalid model is refused with its line and reason (exit 1).

use std::path::Path;
use std::time::Instant;

use serde_json::json;
use xinyong_evaluate::model::DEFAULT_MODEL_TOML;
use xinyong_evaluate::run::{LoadedModel, recompute};
use xinyong_store::Store;
use xinyong_store::evaluation::EvaluationRun;

use crate::args::Global;
use crate::context::{audit_console, now, open_store, print_json};
use crate::{CmdResult, Failure};

pub fn run(g: &Global, model: Option<&Path>) -> CmdResult {
    let store = open_store(g)?;
    let (run, loaded, seconds) = full(g, &*store, model)?;
    if g.json {
        return print_json(&summary(&run, seconds));
    }
    print_text(&run, &loaded, seconds);
    Ok(())
}

/// The `--json` document of a run.
pub fn summary(run: &EvaluationRun, seconds: f64) -> serde_json::Value {
    json!({
        "run": run.id,
        "model": run.model,
        "subjects": run.subjects,
        "changed": run.changed,
        "grades": run.grades,
        "seconds": seconds,
    })
}

pub fn print_text(run: &EvaluationRun, loaded: &LoadedModel, seconds: f64) {
    println!(
        "评价模型 model {} — {} subjects evaluated, {} changed, in {seconds:.1} s",
        run.model, run.subjects, run.changed
    );
    for band in &loaded.model.grades {
        let n = run.grades.get(&band.grade).copied().unwrap_or(0);
        let share = if run.subjects == 0 { 0.0 } else { n as f64 * 100.0 / run.subjects as f64 };
        println!("  {} {}  {n:>10}  {share:>5.1}%", band.grade, band.label);
    }
}

/// A full recompute with the model file, the active model or the default (shared with `demo`).
pub fn full(g: &Global, store: &dyn Store, model: Option<&Path>) -> Result<(EvaluationRun, LoadedModel, f64), Failure> {
    let catalog = store.load_catalog()?;
    let loaded = match model {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
            LoadedModel::parse(&text, &catalog)
                .map_err(|e| Failure::failed(format!("model {}: {e}", path.display())))?
        }
        None => match store.active_model()? {
            Some(text) => LoadedModel::parse(&text, &catalog)
                .map_err(|e| Failure::failed(format!("the platform's active model: {e}")))?,
            None => LoadedModel::parse(DEFAULT_MODEL_TOML, &catalog)
                .map_err(|e| Failure::failed(format!("the default model: {e}")))?,
        },
    };
    let started = Instant::now();
    let run = recompute(store, &catalog, &loaded, None, "xinyong evaluate", now(g)?).map_err(Failure::failed)?;
    let seconds = started.elapsed().as_secs_f64();
    let detail = format!(
        "evaluation run {} with model {}: {} subjects, {} changed",
        run.id, run.model, run.subjects, run.changed
    );
    audit_console(g, store, "evaluate", "allowed", detail)?;
    Ok((run, loaded, seconds))
}

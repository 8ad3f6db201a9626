//! `xinyong batch ID`: a batch and its errors.

use crate::args::Global;
use crate::context::{open_store, print_json};
use crate::{CmdResult, Failure};

pub fn run(g: &Global, id: &str) -> CmdResult {
    let store = open_store(g)?;
    let report = store.batch(id)?.ok_or_else(|| Failure::failed(format!("batch {id} not found")))?;
    if g.json {
        return print_json(&report);
    }
    println!(
        "batch {} {} / {} {:?}: {} rows, {} accepted, {} rejected, {} linked",
        report.batch,
        report.unit,
        report.item,
        report.status,
        report.rows,
        report.accepted,
        report.rejected,
        report.linked
    );
    for e in &report.errors {
        println!("  row {} {}: {} ({})", e.row, e.field.as_deref().unwrap_or("-"), e.message, e.code);
    }
    Ok(())
}

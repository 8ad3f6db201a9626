//! `xinyong stats`: the operating report's collection figures.

use xinyong_store::CollectionStats;
use xinyong_store::evaluation::EvaluationRun;

use crate::args::Global;
use crate::context::{open_store, print_json};
use crate::{CmdResult, Failure};

pub fn run(g: &Global) -> CmdResult {
    let store = open_store(g)?;
    let stats = store.collection_stats()?;
    let runs = store.evaluation_runs(20)?;
    let evaluation = xinyong_server::api::evaluation::evaluation_stats(&runs);
    if g.json {
        // The collection figures as before, with the evaluation beside them.
        let mut doc = serde_json::to_value(&stats).map_err(Failure::failed)?;
        if let Some(o) = doc.as_object_mut() {
            o.insert("evaluation".to_owned(), evaluation);
        }
        return print_json(&doc);
    }
    print_text(&stats);
    println!();
    print_evaluation(&runs);
    Ok(())
}

/// The grade distribution now, and after each of the recent runs (oldest of them first).
pub fn print_evaluation(runs: &[EvaluationRun]) {
    let Some(now) = runs.first() else {
        println!("信用评价 evaluation: none yet (run `xinyong evaluate`)");
        return;
    };
    let total: u64 = now.grades.values().sum();
    println!("信用评价 evaluation (model {}): {total} subjects", now.model);
    for (grade, n) in &now.grades {
        let share = if total == 0 { 0.0 } else { *n as f64 * 100.0 / total as f64 };
        println!("  {grade}  {n:>10}  {share:>5.1}%");
    }
    println!("  distribution over time (run, kind, time, grades):");
    for r in runs.iter().rev() {
        let grades: Vec<String> = r.grades.iter().map(|(g, n)| format!("{g} {n}")).collect();
        println!("  {:>6} {:<11} {}  {}", r.id, r.kind.as_str(), r.at.format("%Y-%m-%d %H:%M"), grades.join("  "));
    }
}

pub fn print_text(s: &CollectionStats) {
    println!("信用主体 subjects: {}", s.subjects);
    for (kind, n) in &s.subjects_by_kind {
        println!("  {kind:<22} {n}");
    }
    println!("记录 records: {}   批次 batches: {}", s.records, s.batches);
    println!();
    println!("按单位 by unit (关联入库 link rate):");
    println!("  {:<18} {:>8} {:>10} {:>10} {:>9} {:>8}", "unit", "batches", "rows", "accepted", "rejected", "linked%");
    for u in &s.by_unit {
        println!(
            "  {:<18} {:>8} {:>10} {:>10} {:>9} {:>7.1}%  {}",
            u.unit,
            u.batches,
            u.rows,
            u.accepted,
            u.rejected,
            u.link_rate * 100.0,
            u.name
        );
    }
    println!();
    println!("按类别和月份 by category and month of collection:");
    let mut totals: std::collections::BTreeMap<(&str, &str), u64> = Default::default();
    for c in &s.by_category_month {
        *totals.entry((c.category.as_str(), c.month.as_str())).or_default() += c.accepted;
    }
    for ((category, month), n) in totals {
        println!("  {category:<16} {month}  {n}");
    }
}

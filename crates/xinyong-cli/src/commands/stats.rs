//! `xinyong stats`: the operating report's collection figures.

use xinyong_store::CollectionStats;

use crate::CmdResult;
use crate::args::Global;
use crate::context::{open_store, print_json};

pub fn run(g: &Global) -> CmdResult {
    let store = open_store(g)?;
    let stats = store.collection_stats()?;
    if g.json {
        return print_json(&stats);
    }
    print_text(&stats);
    Ok(())
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

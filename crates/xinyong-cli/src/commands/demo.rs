//! `xinyong demo`: a fresh platform with synthetic data, loaded and summarised.
//!
//! The demo replaces its data folder only when that folder is missing, empty or was made by a demo
//! (it carries a `.xinyong-demo` marker), so it never wipes a real platform.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use serde_json::json;
use xinyong_domain::catalog::Catalog;
use xinyong_ingest::reader::{EncodingChoice, Format};
use xinyong_store::{BatchReport, StatsStore, Store};
use xinyong_store_sqlite::SqliteStore;
use xinyong_synth::{Manifest, SynthOptions, generate};

use super::ingest::ingest_file;
use crate::args::Global;
use crate::context::print_json;
use crate::{CmdResult, Failure};

const MARKER: &str = ".xinyong-demo";

pub fn run(g: &Global, subjects: u64, _listen: SocketAddr, seed: u64) -> CmdResult {
    let started = Instant::now();
    prepare_folder(&g.data)?;
    let catalog = Catalog::default_catalog().map_err(Failure::failed)?;
    super::init::create(g, true, &catalog)?;
    std::fs::write(g.data.join(MARKER), b"made by xinyong demo\n").map_err(Failure::failed)?;
    let synth_dir = g.data.join("synth");
    let manifest = generate(&SynthOptions { out: synth_dir.clone(), subjects, seed }).map_err(Failure::failed)?;
    let store = SqliteStore::open(&g.data)?;
    let reports = load_manifest(g, &store, &synth_dir, &manifest)?;
    let stats = store.collection_stats()?;
    let accepted: u64 = reports.iter().map(|r| r.accepted).sum();
    let rejected: u64 = reports.iter().map(|r| r.rejected).sum();
    if g.json {
        return print_json(&json!({
            "data": g.data.display().to_string(),
            "batches": reports,
            "stats": stats,
            "seconds": started.elapsed().as_secs_f64(),
        }));
    }
    println!(
        "demo platform in {}: {} files loaded, {accepted} rows accepted, {rejected} rejected as intended, in {:.1} s",
        g.data.display(),
        reports.len(),
        started.elapsed().as_secs_f64()
    );
    println!();
    super::stats::print_text(&stats);
    Ok(())
}

fn prepare_folder(dir: &Path) -> Result<(), Failure> {
    if !dir.exists() {
        return Ok(());
    }
    let empty = std::fs::read_dir(dir).map_err(Failure::failed)?.next().is_none();
    if empty {
        return Ok(());
    }
    if !dir.join(MARKER).exists() {
        return Err(Failure::failed(format!(
            "{} holds data that a demo did not make; give --data a new folder for the demo",
            dir.display()
        )));
    }
    std::fs::remove_dir_all(dir).map_err(Failure::failed)
}

/// Ingests every file of a synth manifest, in order, and checks that each accepted exactly
/// `rows − invalid_rows` rows.
pub fn load_manifest(
    g: &Global,
    store: &dyn Store,
    dir: &Path,
    manifest: &Manifest,
) -> Result<Vec<BatchReport>, Failure> {
    let mut reports = Vec::with_capacity(manifest.files.len());
    for f in &manifest.files {
        let format =
            Format::parse(&f.format).ok_or_else(|| Failure::failed(format!("manifest format {}", f.format)))?;
        let encoding = EncodingChoice::parse(&f.encoding).unwrap_or(EncodingChoice::Auto);
        let report = ingest_file(g, store, &f.unit, &f.item, &dir.join(&f.path), format, encoding, false)?;
        if report.accepted != f.rows - f.invalid_rows {
            return Err(Failure::failed(format!(
                "{}: accepted {} rows, the manifest expects {} (first error: {:?})",
                f.path,
                report.accepted,
                f.rows - f.invalid_rows,
                report.errors.first()
            )));
        }
        reports.push(report);
    }
    Ok(reports)
}

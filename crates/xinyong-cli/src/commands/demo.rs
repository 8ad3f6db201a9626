//! `xinyong demo`: a fresh platform with synthetic data, loaded and summarised.
//!
//! The demo replaces its data folder only when that folder is missing, empty or was made by a demo
//! (it carries a `.xinyong-demo` marker), so it never wipes a real platform.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use serde_json::json;
use std::sync::Arc;

use xinyong_domain::access::Role;
use xinyong_domain::catalog::{Catalog, Openness, UnitDef};
use xinyong_ingest::reader::{EncodingChoice, Format};
use xinyong_server::Settings;
use xinyong_store::SubjectKey;
use xinyong_store::access::NewAuthorisation;
use xinyong_store::{BatchReport, Store};
use xinyong_synth::{Manifest, SynthOptions, generate};

use super::ingest::{FileJob, ingest_batches};
use crate::args::Global;
use crate::context::{location, open_store, print_json};
use crate::{CmdResult, Failure};

const MARKER: &str = ".xinyong-demo";

/// The sign-in password of every demo account (a demo runs on one machine, for trying things out).
pub const DEMO_PASSWORD: &str = "xinyong-demo-2026";

pub fn run(g: &Global, subjects: u64, listen: SocketAddr, seed: u64, serve: bool) -> CmdResult {
    let started = Instant::now();
    let was_demo = prepare_folder(&g.data)?;
    let catalog = Catalog::default_catalog().map_err(Failure::failed)?;
    // The embedded store lives in the folder just cleared; a database is replaced only when the
    // folder showed that a demo made the platform in it.
    let replace = g.database_url.is_none() || was_demo;
    let (_, admin_token) = super::init::create(g, replace, &catalog).map_err(|f| match &g.database_url {
        Some(_) if !replace => Failure::failed(format!(
            "{}; the demo replaces only a platform that a demo made (its data folder holds {MARKER})",
            f.message
        )),
        _ => f,
    })?;
    std::fs::write(g.data.join(MARKER), b"made by xinyong demo\n").map_err(Failure::failed)?;
    let synth_dir = g.data.join("synth");
    let manifest = generate(&SynthOptions { out: synth_dir.clone(), subjects, seed }).map_err(Failure::failed)?;
    let store = open_store(g)?;
    let reports = load_manifest(g, &*store, &synth_dir, &manifest)?;
    let (evaluation, model, evaluate_seconds) = super::evaluate::full(g, &*store, None)?;
    let stats = store.collection_stats()?;
    let accepted: u64 = reports.iter().map(|r| r.accepted).sum();
    let rejected: u64 = reports.iter().map(|r| r.rejected).sum();
    if g.json {
        return print_json(&json!({
            "data": location(g),
            "batches": reports,
            "stats": stats,
            "evaluation": super::evaluate::summary(&evaluation, evaluate_seconds),
            "seconds": started.elapsed().as_secs_f64(),
        }));
    }
    println!(
        "demo platform in {}: {} files loaded, {accepted} rows accepted, {rejected} rejected as intended, in {:.1} s",
        location(g),
        reports.len(),
        started.elapsed().as_secs_f64()
    );
    println!();
    super::stats::print_text(&stats);
    println!();
    super::evaluate::print_text(&evaluation, &model, evaluate_seconds);
    let accounts = demo_accounts(g, &*store, admin_token)?;
    if !serve {
        return Ok(());
    }
    let store: Arc<dyn Store> = Arc::from(store);
    let mut settings = Settings::load(None, |k| std::env::var(k).ok()).map_err(Failure::usage)?;
    settings.listen = listen;
    // Report QR codes point at this demo unless a public address was configured.
    if std::env::var_os("XINYONG_PUBLIC_URL").is_none() {
        settings.public_url = format!("http://{listen}");
    }
    super::serve::serve_store(g, store, settings, |addr| {
        println!();
        println!("xinyong demo is running at http://{addr}/  (Ctrl-C stops it)");
        println!("portal: http://{addr}/   workbench: http://{addr}/workbench   dashboard: http://{addr}/dashboard");
        println!("demo accounts: sign in with the name below and the password {DEMO_PASSWORD}");
        println!("their API tokens (Authorization: Bearer TOKEN):");
        for (role, name, token) in &accounts {
            println!("  {role:<11} {name:<18} {token}");
        }
        println!("  public      (no token)         http://{addr}/api/v1/public/penalties");
        if let Some((_, _, token)) = accounts.iter().find(|(r, _, _)| *r == "department") {
            println!();
            println!("try:  curl -H 'Authorization: Bearer {token}' 'http://{addr}/api/v1/subjects?q=上海'");
        }
    })
}

/// One account per role: the admin made by init, a supplier, a department, a bank with the
/// authorisation of one company, and that company itself.
fn demo_accounts(
    g: &Global,
    store: &dyn Store,
    admin_token: String,
) -> Result<Vec<(&'static str, String, String)>, Failure> {
    let now = crate::context::now(g)?;
    store.put_unit(&UnitDef { code: "demo_bank".into(), name: "示例银行上海分行".into(), supplies: vec![] }, now)?;
    super::account::set_password(g, store, "admin", DEMO_PASSWORD)?;
    let mut out = vec![("admin", "admin".to_owned(), admin_token)];
    for (role, name, unit) in [
        (Role::Supplier, "demo-supplier", "sh_amr"),
        (Role::Department, "demo-department", "sh_housing"),
        (Role::Market, "demo-bank", "demo_bank"),
    ] {
        let (a, token) = super::create_account(g, store, name, Some(unit), role, None)?;
        super::account::set_password(g, store, name, DEMO_PASSWORD)?;
        out.push((role.as_str(), a.name, token));
    }
    let company =
        (1..50).filter_map(|id| store.find_subject(&SubjectKey::Id(id)).ok().flatten()).find(|s| s.uscc.is_some());
    if let Some(company) = company {
        let uscc = company.uscc.clone().unwrap_or_default();
        let (a, token) = super::create_account(g, store, "demo-company", None, Role::Subject, Some(&uscc))?;
        super::account::set_password(g, store, "demo-company", DEMO_PASSWORD)?;
        out.push(("subject", format!("{} ({})", a.name, company.name), token));
        store.grant_authorisation(&NewAuthorisation {
            subject_id: company.id,
            grantee_unit: "demo_bank".into(),
            scope: vec![Openness::Authorised],
            granted_at: now,
            expires_at: now + chrono::Duration::days(365),
        })?;
    }
    Ok(out)
}

/// Clears the data folder for a new demo; says whether a demo had made it.
fn prepare_folder(dir: &Path) -> Result<bool, Failure> {
    if !dir.exists() {
        return Ok(false);
    }
    let empty = std::fs::read_dir(dir).map_err(Failure::failed)?.next().is_none();
    if empty {
        return Ok(false);
    }
    if !dir.join(MARKER).exists() {
        return Err(Failure::failed(format!(
            "{} holds data that a demo did not make; give --data a new folder for the demo",
            dir.display()
        )));
    }
    std::fs::remove_dir_all(dir).map_err(Failure::failed)?;
    Ok(true)
}

/// Ingests every file of a synth manifest, in order, and checks that each accepted exactly
/// `rows − invalid_rows` rows. Nothing is evaluated per batch: the caller evaluates once when the load
/// is done (`demo` runs a full evaluation), instead of re-scoring the same subjects after every file.
pub fn load_manifest(
    g: &Global,
    store: &dyn Store,
    dir: &Path,
    manifest: &Manifest,
) -> Result<Vec<BatchReport>, Failure> {
    let mut jobs = Vec::with_capacity(manifest.files.len());
    for f in &manifest.files {
        let format =
            Format::parse(&f.format).ok_or_else(|| Failure::failed(format!("manifest format {}", f.format)))?;
        let encoding = EncodingChoice::parse(&f.encoding).unwrap_or(EncodingChoice::Auto);
        jobs.push(FileJob { unit: f.unit.clone(), item: f.item.clone(), path: dir.join(&f.path), format, encoding });
    }
    let mut reports = Vec::with_capacity(manifest.files.len());
    let mut expected = manifest.files.iter();
    ingest_batches(g, store, &jobs, false, |_, report, _| {
        let Some(f) = expected.next() else { return Err(Failure::failed("more batches than manifest files")) };
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
        Ok(())
    })?;
    Ok(reports)
}

//! `xinyong-bench ingest`: synth files → our full ingest path (read, decode, validate, link, upsert
//! with history, commit) against a raw insert of the same rows into a bare table: on SQLite one
//! transaction of prepared INSERTs (WAL, synchronous=NORMAL), on PostgreSQL one `COPY … FROM STDIN`
//! (text format, one transaction, timed until a CHECKPOINT has written it) — the ceilings STACK.md
//! measures.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use serde_json::json;
use xinyong_domain::catalog::Catalog;
use xinyong_store::CatalogStore;
use xinyong_store_pg::PgStore;
use xinyong_store_sqlite::{DB_FILE, SqliteStore};
use xinyong_synth::{SynthOptions, generate};

use super::{Figure, round};
use crate::args::Global;
use crate::commands::load_manifest;
use crate::context::platform_offset;

pub fn run(dir: &Path, subjects: u64, seed: u64) -> anyhow::Result<Vec<Figure>> {
    let synth_dir = dir.join("synth");
    let t = Instant::now();
    let manifest = generate(&SynthOptions { out: synth_dir.clone(), subjects, seed })?;
    let synth_seconds = t.elapsed().as_secs_f64();
    let rows: u64 = manifest.files.iter().map(|f| f.rows).sum();

    let data = dir.join("data");
    let g = Global { data: data.clone(), database_url: None, json: true, now: None };
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now().with_timezone(&platform_offset());
    let store = SqliteStore::create(&data, true)?;
    store.install_catalog(&Catalog::default_catalog()?, now)?;

    let t = Instant::now();
    let reports = load_manifest(&g, &store, &synth_dir, &manifest).map_err(|f| anyhow::anyhow!(f.message))?;
    // Closing the store waits for the last checkpoint: the database file is complete when the clock stops.
    drop(store);
    let seconds = t.elapsed().as_secs_f64();
    let accepted: u64 = reports.iter().map(|r| r.accepted).sum();

    let (baseline_rows, baseline_seconds) = raw_insert_baseline(&data.join(DB_FILE), &dir.join("baseline.db"))?;
    let mut extra = serde_json::Map::new();
    extra.insert("subjects".into(), json!(subjects));
    extra.insert("accepted".into(), json!(accepted));
    extra.insert("files".into(), json!(manifest.files.len()));
    extra.insert("synth_seconds".into(), json!(round(synth_seconds)));
    Ok(vec![Figure::measured(
        "ingest",
        (rows, seconds),
        "raw sqlite insert of the same rows",
        (baseline_rows, baseline_seconds),
        extra,
    )])
}

/// Streams the stored rows into a bare table of a fresh database and times only the inserts, the commit
/// and the close.
fn raw_insert_baseline(source: &Path, target: &Path) -> anyhow::Result<(u64, f64)> {
    if target.exists() {
        std::fs::remove_file(target)?;
    }
    let src = rusqlite::Connection::open(source)?;
    let mut dst = rusqlite::Connection::open(target)?;
    dst.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE raw (id INTEGER PRIMARY KEY, subject TEXT NOT NULL, item TEXT NOT NULL, body TEXT NOT NULL);",
    )?;
    let mut read =
        src.prepare("SELECT id, printf('%018d', coalesce(subject_id, 0)), item, fields FROM records ORDER BY id")?;
    let mut rows = read.query([])?;
    let mut n = 0u64;
    let mut insert_time = std::time::Duration::ZERO;
    let tx = dst.transaction()?;
    {
        let mut insert = tx.prepare("INSERT INTO raw (id, subject, item, body) VALUES (?1, ?2, ?3, ?4)")?;
        while let Some(r) = rows.next()? {
            let (id, subject, item, body): (i64, String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            let t = Instant::now();
            insert.execute(rusqlite::params![id, subject, item, body]).context("raw insert")?;
            insert_time += t.elapsed();
            n += 1;
        }
    }
    let t = Instant::now();
    tx.commit()?;
    // Closing checkpoints the WAL into the database file, as closing our store does before its clock
    // stops: both sides are timed until their rows are in the database file.
    dst.close().map_err(|(_, e)| e)?;
    insert_time += t.elapsed();
    Ok((n, insert_time.as_secs_f64()))
}

/// The same on PostgreSQL: the platform is made in the database `url` names (its keys in `dir/data`),
/// and the baseline COPYs the stored rows into a bare table of a scratch schema. Each side starts after
/// a CHECKPOINT and is timed until a CHECKPOINT after its last commit has written its rows.
pub fn run_pg(dir: &Path, url: &str, subjects: u64, seed: u64) -> anyhow::Result<Vec<Figure>> {
    let synth_dir = dir.join("synth");
    let t = Instant::now();
    let manifest = generate(&SynthOptions { out: synth_dir.clone(), subjects, seed })?;
    let synth_seconds = t.elapsed().as_secs_f64();
    let rows: u64 = manifest.files.iter().map(|f| f.rows).sum();

    let data = dir.join("data");
    let g = Global { data: data.clone(), database_url: Some(url.to_owned()), json: true, now: None };
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now().with_timezone(&platform_offset());
    let store = PgStore::create(url, &data, true)?;
    store.install_catalog(&Catalog::default_catalog()?, now)?;

    // Both sides start with no dirty buffers and are timed until their rows are in the table files
    // (a CHECKPOINT after the commit), as the SQLite bench times until the WAL is checkpointed:
    // otherwise one side's unwritten buffers would be written on the other side's clock.
    let mut admin = xinyong_store_pg::parse_url(url)?.connect(postgres::NoTls)?;
    admin.batch_execute("CHECKPOINT").context("CHECKPOINT (the bench needs a superuser or pg_checkpoint)")?;
    let t = Instant::now();
    let reports = load_manifest(&g, &store, &synth_dir, &manifest).map_err(|f| anyhow::anyhow!(f.message))?;
    admin.batch_execute("CHECKPOINT")?;
    let seconds = t.elapsed().as_secs_f64();
    let accepted: u64 = reports.iter().map(|r| r.accepted).sum();
    drop(store);

    let (baseline_rows, baseline_seconds) = raw_copy_baseline(url, dir)?;
    let mut extra = serde_json::Map::new();
    extra.insert("subjects".into(), json!(subjects));
    extra.insert("accepted".into(), json!(accepted));
    extra.insert("files".into(), json!(manifest.files.len()));
    extra.insert("synth_seconds".into(), json!(round(synth_seconds)));
    extra.insert("backend".into(), json!("postgres"));
    Ok(vec![Figure::measured(
        "ingest",
        (rows, seconds),
        "raw postgres COPY of the same rows",
        (baseline_rows, baseline_seconds),
        extra,
    )])
}

/// Reads the stored rows (id, 18-character subject, item, fields JSON) into COPY text in a file of `dir`
/// (not in memory, so that the bench's peak memory is the ingest's), then times one `COPY` of them
/// into a bare table with a primary key, its commit and the checkpoint that writes it to the table files.
fn raw_copy_baseline(url: &str, dir: &Path) -> anyhow::Result<(u64, f64)> {
    use std::io::{BufReader, Read, Seek};
    let mut client = xinyong_store_pg::parse_url(url)?.connect(postgres::NoTls)?;
    let mut text = tempfile::tempfile_in(dir).context("baseline file")?;
    let mut reader = client.copy_out(
        "COPY (SELECT id, lpad(subject_id::text, 18, '0'), item, fields FROM xinyong.records ORDER BY id) TO STDOUT",
    )?;
    std::io::copy(&mut reader, &mut text)?;
    drop(reader);
    text.rewind()?;
    let (mut n, mut buf) = (0u64, vec![0u8; 1 << 20]);
    loop {
        let read = text.read(&mut buf)?;
        if read == 0 {
            break;
        }
        n += buf[..read].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    text.rewind()?;
    client.batch_execute(
        "DROP SCHEMA IF EXISTS xinyong_bench CASCADE; CREATE SCHEMA xinyong_bench;
         CREATE TABLE xinyong_bench.raw (id bigint PRIMARY KEY, subject text NOT NULL, item text NOT NULL, body text NOT NULL);",
    )?;
    client.batch_execute("CHECKPOINT")?;
    let t = Instant::now();
    let mut tx = client.transaction()?;
    let mut writer = tx.copy_in("COPY xinyong_bench.raw (id, subject, item, body) FROM STDIN")?;
    std::io::copy(&mut BufReader::with_capacity(1 << 20, &text), &mut writer).context("raw copy")?;
    writer.finish()?;
    tx.commit()?;
    client.batch_execute("CHECKPOINT")?;
    let seconds = t.elapsed().as_secs_f64();
    client.batch_execute("DROP SCHEMA xinyong_bench CASCADE")?;
    Ok((n, seconds))
}

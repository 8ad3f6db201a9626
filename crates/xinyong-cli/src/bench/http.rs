//! `xinyong-bench query` and `search`: the real server over HTTP on loopback with concurrent clients,
//! against raw lookups of the same keys in the store (`query`: the subject by its indexed identifier
//! plus its records by subject id; `search`: the FTS5 bigram match without ranking or presentation).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde_json::json;
use xinyong_domain::access::Role;
use xinyong_domain::catalog::Catalog;
use xinyong_server::{Settings, SystemClock};
use xinyong_store::access::{NewAccount, new_token, token_hash};
use xinyong_store::{CatalogStore, Store, SubjectKey, SubjectStore};
use xinyong_store_pg::PgStore;
use xinyong_store_sqlite::{DB_FILE, SqliteStore};
use xinyong_synth::{SynthOptions, generate};

use super::{Figure, round};
use crate::args::Global;
use crate::commands::{evaluate_all, load_manifest};
use crate::context::platform_offset;

/// Concurrent clients: enough to keep both cores busy without queueing (Little: 2,000 req/s × 4 ms ≈ 8).
const CLIENTS: usize = 8;
const REQUESTS: usize = 20_000;

/// A platform with synthetic data, reused when `dir` already holds one.
fn platform(dir: &Path, subjects: u64, seed: u64) -> anyhow::Result<SqliteStore> {
    let data = dir.join("data");
    if data.join(DB_FILE).exists() {
        return Ok(SqliteStore::open(&data)?);
    }
    let synth = dir.join("synth");
    let manifest = generate(&SynthOptions { out: synth.clone(), subjects, seed })?;
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now().with_timezone(&platform_offset());
    let store = SqliteStore::create(&data, true)?;
    store.install_catalog(&Catalog::default_catalog()?, now)?;
    let g = Global { data: data.clone(), database_url: None, json: true, now: None };
    load_manifest(&g, &store, &synth, &manifest).map_err(|f| anyhow::anyhow!(f.message))?;
    // Profiles carry their subject's evaluation, as on a running platform.
    evaluate_all(&g, &store, None).map_err(|f| anyhow::anyhow!(f.message))?;
    Ok(store)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Runs `paths` against a fresh server with `CLIENTS` concurrent clients; returns (seconds, latencies ms).
fn hammer(store: Arc<dyn Store>, token: String, paths: Vec<String>) -> anyhow::Result<(f64, Vec<f64>, usize)> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let settings = Settings { rate_per_second: 1_000_000, rate_burst: 1_000_000, ..Settings::default() };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let state = xinyong_server::app_state(store, settings, Arc::new(SystemClock), None)?;
        tokio::spawn(xinyong_server::serve(listener, state, std::future::pending()));
        let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build()?;
        let paths = Arc::new(paths);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let (client, paths, base, token) = (client.clone(), Arc::clone(&paths), base.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut errors = 0usize;
                let mut i = c;
                while i < paths.len() {
                    let t = Instant::now();
                    let resp = client.get(format!("{base}{}", paths[i])).bearer_auth(&token).send().await;
                    match resp {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                        }
                        Ok(r) => {
                            if errors == 0 {
                                eprintln!("bench: {} answered {}", paths[i], r.status());
                            }
                            errors += 1;
                        }
                        Err(e) => {
                            if errors == 0 {
                                eprintln!("bench: {} failed: {e}", paths[i]);
                            }
                            errors += 1;
                        }
                    }
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    i += CLIENTS;
                }
                (lat, errors)
            }));
        }
        let mut all = Vec::with_capacity(paths.len());
        let mut errors = 0;
        for t in tasks {
            let (lat, e) = t.await?;
            all.extend(lat);
            errors += e;
        }
        let seconds = started.elapsed().as_secs_f64();
        all.sort_by(f64::total_cmp);
        Ok::<_, anyhow::Error>((seconds, all, errors))
    })
}

fn department_token(store: &dyn Store) -> anyhow::Result<String> {
    let token = new_token();
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now().with_timezone(&platform_offset());
    let suffix: u32 = rand::random();
    store.create_account(&NewAccount {
        name: format!("bench-{suffix:08x}"),
        unit: Some("sh_housing".into()),
        role: Role::Department,
        subject_id: None,
        token_hash: token_hash(&token),
        created_at: now,
    })?;
    Ok(token)
}

/// A platform with synthetic data in the PostgreSQL database `url`, reused when `dir` already holds
/// its keys and the database its platform.
fn pg_platform(dir: &Path, url: &str, subjects: u64, seed: u64) -> anyhow::Result<PgStore> {
    let data = dir.join("data");
    if data.join("keys").exists()
        && let Ok(store) = PgStore::open(url, &data)
    {
        return Ok(store);
    }
    let synth = dir.join("synth");
    let manifest = generate(&SynthOptions { out: synth.clone(), subjects, seed })?;
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now().with_timezone(&platform_offset());
    let store = PgStore::create(url, &data, true)?;
    store.install_catalog(&Catalog::default_catalog()?, now)?;
    let g = Global { data, database_url: Some(url.to_owned()), json: true, now: None };
    load_manifest(&g, &store, &synth, &manifest).map_err(|f| anyhow::anyhow!(f.message))?;
    // Profiles carry their subject's evaluation, as on a running platform.
    evaluate_all(&g, &store, None).map_err(|f| anyhow::anyhow!(f.message))?;
    Ok(store)
}

pub fn query(dir: &Path, url: Option<&str>, subjects: u64, seed: u64) -> anyhow::Result<Vec<Figure>> {
    let store: Box<dyn Store> = match url {
        Some(url) => Box::new(pg_platform(dir, url, subjects, seed)?),
        None => Box::new(platform(dir, subjects, seed)?),
    };
    let count = store.subject_count()? as i64;
    let mut keys = Vec::new();
    let mut rng_state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    while keys.len() < 2000 {
        rng_state = rng_state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let id = (rng_state >> 33) as i64 % count.max(1) + 1;
        if let Some(s) = store.find_subject(&SubjectKey::Id(id))? {
            if let Some(u) = s.uscc {
                keys.push(u);
            } else if let Some(r) = s.resident_id {
                keys.push(r.as_str().to_owned());
            }
        }
    }
    let records: u64 = store.collection_stats()?.records;
    let token = department_token(&*store)?;
    let paths: Vec<String> =
        (0..REQUESTS).map(|i| format!("/api/v1/subjects/{}?purpose=supervision", keys[i % keys.len()])).collect();
    let store: Arc<dyn Store> = Arc::from(store);
    let (seconds, lat, errors) = hammer(Arc::clone(&store), token, paths)?;

    // Raw: the same keys looked up directly, subject by identifier then its records.
    let (n, baseline_seconds) = match url {
        Some(url) => raw_pg_lookups(url, &keys)?,
        None => raw_sqlite_lookups(dir, &keys)?,
    };
    let mut extra = serde_json::Map::new();
    extra.insert("subjects".into(), json!(count));
    extra.insert("records".into(), json!(records));
    extra.insert("clients".into(), json!(CLIENTS));
    extra.insert("p50_ms".into(), json!(round(percentile(&lat, 0.5))));
    extra.insert("p99_ms".into(), json!(round(percentile(&lat, 0.99))));
    extra.insert("errors".into(), json!(errors));
    let baseline = match url {
        Some(_) => {
            "raw postgres point lookup of the same keys, one connection (subject by identifier, its records by subject id)"
        }
        None => "raw sqlite point lookup of the same keys (subject by identifier, its records by subject id)",
    };
    extra.insert("backend".into(), json!(store.backend()));
    Ok(vec![Figure::measured("query", (REQUESTS as u64, seconds), baseline, (n, baseline_seconds), extra)])
}

fn raw_sqlite_lookups(dir: &Path, keys: &[String]) -> anyhow::Result<(u64, f64)> {
    let conn = rusqlite::Connection::open(dir.join("data").join(DB_FILE))?;
    let mut by_uscc = conn.prepare("SELECT id FROM subjects WHERE uscc = ?1")?;
    let mut recs = conn.prepare("SELECT id, item, fields FROM records WHERE subject_id = ?1")?;
    let t = Instant::now();
    let mut n = 0u64;
    for k in keys.iter().cycle().take(REQUESTS) {
        let id: Option<i64> = by_uscc.query_row([k], |r| r.get(0)).ok();
        if let Some(id) = id {
            let mut rows = recs.query([id])?;
            while rows.next()?.is_some() {}
        }
        n += 1;
    }
    Ok((n, t.elapsed().as_secs_f64()))
}

/// The PostgreSQL store's own lookup path without it: the identifier's row in `subject_keys`, then
/// the subject's records, two prepared statements on one connection.
fn raw_pg_lookups(url: &str, keys: &[String]) -> anyhow::Result<(u64, f64)> {
    let mut client = xinyong_store_pg::parse_url(url)?.connect(postgres::NoTls)?;
    let by_key = client.prepare("SELECT subject_id FROM xinyong.subject_keys WHERE key = $1")?;
    let recs = client.prepare("SELECT id, item, fields FROM xinyong.records WHERE subject_id = $1")?;
    let t = Instant::now();
    let mut n = 0u64;
    for k in keys.iter().cycle().take(REQUESTS) {
        if let Some(row) = client.query_opt(&by_key, &[&format!("u:{k}")])? {
            let id: i64 = row.get(0);
            client.query(&recs, &[&id])?;
        }
        n += 1;
    }
    Ok((n, t.elapsed().as_secs_f64()))
}

pub fn search(dir: &Path, subjects: u64, seed: u64) -> anyhow::Result<Vec<Figure>> {
    let store = platform(dir, subjects, seed)?;
    let count = store.subject_count()? as i64;
    let mut names = Vec::new();
    for id in (1..=count).step_by((count as usize / 500).max(1)) {
        if let Some(s) = store.find_subject(&SubjectKey::Id(id))? {
            names.push(s.name);
        }
    }
    let mut figures = Vec::new();
    for len in [2usize, 4] {
        let queries: Vec<String> = names
            .iter()
            .filter_map(|n| {
                let chars: Vec<char> = n.chars().collect();
                (chars.len() >= len + 2).then(|| chars[2..2 + len].iter().collect())
            })
            .collect();
        if queries.is_empty() {
            continue;
        }
        let token = department_token(&store)?;
        let paths: Vec<String> = (0..REQUESTS / 4)
            .map(|i| format!("/api/v1/subjects?q={}&per_page=20", queries[i % queries.len()]))
            .collect();
        let shared: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.join("data"))?);
        let (seconds, lat, errors) = hammer(shared, token, paths.clone())?;
        let conn = rusqlite::Connection::open(dir.join("data").join(DB_FILE))?;
        let t = Instant::now();
        for q in queries.iter().cycle().take(paths.len()) {
            let grams: Vec<String> = {
                let c: Vec<char> = q.chars().collect();
                c.windows(2).map(|w| w.iter().collect()).collect()
            };
            let phrase = format!("\"{}\"", grams.join(" "));
            let mut stmt = conn
                .prepare_cached("SELECT rowid FROM subject_names_fts WHERE subject_names_fts MATCH ?1 LIMIT 20")
                .context("the search index table")?;
            let mut rows = stmt.query([phrase])?;
            while rows.next()?.is_some() {}
        }
        let baseline_seconds = t.elapsed().as_secs_f64();
        let mut extra = serde_json::Map::new();
        extra.insert("query_chars".into(), json!(len));
        extra.insert("subjects".into(), json!(count));
        extra.insert("p50_ms".into(), json!(round(percentile(&lat, 0.5))));
        extra.insert("p99_ms".into(), json!(round(percentile(&lat, 0.99))));
        extra.insert("errors".into(), json!(errors));
        figures.push(Figure::measured(
            "search",
            (paths.len() as u64, seconds),
            "raw FTS5 bigram phrase match of the same text, first 20 rowids",
            (paths.len() as u64, baseline_seconds),
            extra,
        ));
    }
    Ok(figures)
}

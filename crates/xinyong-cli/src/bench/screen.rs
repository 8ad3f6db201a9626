//! `xinyong-bench screen`: `--subjects N` identifiers (default 1,000,000 in the figure) screened
//! against 0.4·N list entries of the punishment lists, with the measures of a scenario — against a
//! plain SQL join of the same identifiers to the same subjects and entries, written out alike.
//!
//! The input mixes identifiers on a list (40 %), valid identifiers not on file (50 %) and invalid ones
//! (10 %), deterministically, so every run screens the same data.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use chrono::NaiveDate;
use serde_json::json;
use xinyong_domain::catalog::{Catalog, Severity};
use xinyong_domain::ids::{Identifier, Uscc, complete_uscc};
use xinyong_domain::measures::Library;
use xinyong_domain::record::{RecordDraft, RecordHead};
use xinyong_domain::subject::{SubjectClaim, SubjectKind};
use xinyong_store::{BatchMeta, BatchReport, BatchStatus, BatchStore, CatalogStore, PreparedRecord};
use xinyong_store_sqlite::{DB_FILE, SqliteStore};

use super::{Figure, round};
use crate::context::platform_offset;

const LISTS: [&str; 3] = ["list_dishonest_debtor", "list_major_tax_violation", "list_wage_arrears"];

fn uscc(n: u64) -> anyhow::Result<String> {
    complete_uscc(&format!("91310115{n:08}")).context("a generated USCC")
}

pub fn run(dir: &Path, identifiers: u64, seed: u64) -> anyhow::Result<Vec<Figure>> {
    let entries = identifiers * 2 / 5;
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).context("date")?;
    let data = dir.join("data");
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now().with_timezone(&platform_offset());
    let store = SqliteStore::create(&data, true)?;
    store.install_catalog(&Catalog::default_catalog()?, now)?;
    let t = Instant::now();
    file_entries(&store, entries, now)?;
    let setup_seconds = t.elapsed().as_secs_f64();

    // The input: identifiers on a list, valid ones not on file, invalid ones.
    let input = dir.join("identifiers.txt");
    {
        let mut w = BufWriter::new(std::fs::File::create(&input)?);
        for i in 0..identifiers {
            let mixed = (i.wrapping_mul(2_654_435_761).wrapping_add(seed)) % 10;
            match mixed {
                0..=3 => writeln!(w, "{}", uscc(i % entries.max(1))?)?,
                4..=8 => writeln!(w, "{}", uscc(50_000_000 + i)?)?,
                _ => writeln!(w, "BAD-{i}")?,
            }
        }
        w.flush()?;
    }

    let catalog = store.load_catalog()?;
    let library = Library::default_library()?;
    let t = Instant::now();
    let reader = BufReader::with_capacity(1 << 16, std::fs::File::open(&input)?);
    let out = BufWriter::new(std::fs::File::create(dir.join("screened.csv"))?);
    let summary = xinyong_ingest::screen::screen(&store, &catalog, &library, Some("bidding"), today, reader, out)?;
    let seconds = t.elapsed().as_secs_f64();
    drop(store);

    let (baseline_rows, baseline_seconds) = sql_join_baseline(&data.join(DB_FILE), &input, &dir.join("joined.csv"))?;
    let mut extra = serde_json::Map::new();
    extra.insert("list_entries".into(), json!(entries));
    extra.insert("listed".into(), json!(summary.listed));
    extra.insert("invalid".into(), json!(summary.invalid));
    extra.insert("setup_seconds".into(), json!(round(setup_seconds)));
    Ok(vec![Figure::measured(
        "screen",
        (summary.rows, seconds),
        "plain SQL join of the same identifiers",
        (baseline_rows, baseline_seconds),
        extra,
    )])
}

/// Files `n` list entries, one per company, over three punishment lists, as one batch.
fn file_entries(store: &SqliteStore, n: u64, now: xinyong_store::Timestamp) -> anyhow::Result<()> {
    let start = NaiveDate::from_ymd_opt(2026, 1, 5).context("date")?;
    let mut writer = store.begin_batch(BatchMeta {
        id: "b-bench-lists".into(),
        unit: "sh_court".into(),
        item: LISTS[0].into(),
        item_version: 1,
        file_name: None,
        all_or_nothing: false,
        started_at: now,
    })?;
    let mut chunk = Vec::with_capacity(4096);
    for i in 0..n {
        let code = uscc(i)?;
        let name = format!("上海筛查样本{i}有限公司");
        let mut fields = BTreeMap::new();
        fields.insert("subject_name".to_owned(), name.clone());
        fields.insert("uscc".to_owned(), code.clone());
        fields.insert("document_number".to_owned(), format!("（2026）沪执{i}号"));
        fields.insert("reason".to_owned(), "有履行能力而拒不履行".to_owned());
        fields.insert("start_date".to_owned(), start.to_string());
        let claim = SubjectClaim { kind: SubjectKind::LegalPerson, id: Identifier::Uscc(Uscc::parse(&code)?), name };
        let head = RecordHead {
            row: i + 2,
            source_key: format!("（2026）沪执{i}号"),
            date: start,
            end_date: None,
            severity: Severity::Serious,
            published: true,
            public_until: None,
            subject: Some(claim),
        };
        chunk.push(PreparedRecord::new(RecordDraft { head, fields, secret_fields: BTreeMap::new() }, store.vault())?);
        if chunk.len() == chunk.capacity() {
            writer.write(&chunk)?;
            chunk.clear();
        }
    }
    writer.write(&chunk)?;
    writer.commit(&BatchReport {
        batch: "b-bench-lists".into(),
        unit: "sh_court".into(),
        item: LISTS[0].into(),
        item_version: 1,
        status: BatchStatus::Committed,
        format: "csv".into(),
        encoding: "utf-8".into(),
        file_name: None,
        rows: n,
        accepted: n,
        rejected: 0,
        created: n,
        updated: 0,
        unchanged: 0,
        linked: n,
        errors: Vec::new(),
        warnings: Vec::new(),
        started_at: now,
        finished_at: now,
    })?;
    // Spread the entries over the three lists, as initiating units file them.
    let conn = rusqlite::Connection::open(store.dir().join(DB_FILE))?;
    conn.execute_batch(&format!(
        "UPDATE records SET item = CASE id % 3 WHEN 0 THEN '{}' WHEN 1 THEN '{}' ELSE '{}' END",
        LISTS[0], LISTS[1], LISTS[2]
    ))?;
    Ok(())
}

/// The same identifiers into a temporary table, joined to subjects and list entries in one query, one
/// CSV line written per input row: the floor of what a screening must do.
fn sql_join_baseline(db: &Path, input: &Path, out: &Path) -> anyhow::Result<(u64, f64)> {
    let conn = rusqlite::Connection::open(db)?;
    let t = Instant::now();
    conn.execute_batch("CREATE TEMP TABLE input (row INTEGER PRIMARY KEY, ident TEXT NOT NULL)")?;
    {
        let tx = conn.unchecked_transaction()?;
        let mut insert = tx.prepare("INSERT INTO input (row, ident) VALUES (?1, ?2)")?;
        for (i, line) in BufReader::new(std::fs::File::open(input)?).lines().enumerate() {
            insert.execute(rusqlite::params![i as i64 + 1, line?.trim().to_uppercase()])?;
        }
        drop(insert);
        tx.commit()?;
    }
    let lists = LISTS.iter().map(|l| format!("'{l}'")).collect::<Vec<_>>().join(",");
    let sql = format!(
        "SELECT i.row, i.ident, s.name, group_concat(DISTINCT r.item)
         FROM input i
         LEFT JOIN subjects s ON s.uscc = i.ident
         LEFT JOIN records r ON r.subject_id = s.id AND r.item IN ({lists}) AND r.status = 'active'
         GROUP BY i.row ORDER BY i.row"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut w = BufWriter::new(std::fs::File::create(out)?);
    let mut n = 0u64;
    while let Some(r) = rows.next()? {
        let (row, ident, name, items): (i64, String, Option<String>, Option<String>) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        writeln!(w, "{row},{ident},{},{}", name.unwrap_or_default(), items.unwrap_or_default())?;
        n += 1;
    }
    w.flush()?;
    Ok((n, t.elapsed().as_secs_f64()))
}

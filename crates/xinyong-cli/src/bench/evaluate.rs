//! `xinyong-bench evaluate`: a full recompute of `--subjects N` subjects (1,000,000 in the issue's
//! figure; target ≤ 60 s on 2 cores), then an incremental recompute after a 10,000-row batch of new
//! penalties (target ≤ 2 s), each against a single SQL aggregate over the same records computing the
//! same sums (the floor of what a score must read; it explains nothing and keeps no history).
//!
//! Data, deterministic: every subject is a company with a registration record (established over the
//! last 30 years); a quarter hold a licence, a quarter a penalty (minor, general or serious), one in
//! twenty is on the dishonest-debtor list.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, NaiveDate};
use serde_json::json;
use xinyong_domain::catalog::{Catalog, Severity};
use xinyong_domain::ids::{Identifier, Uscc, complete_uscc};
use xinyong_domain::record::{RecordDraft, RecordHead};
use xinyong_domain::subject::{SubjectClaim, SubjectKind};
use xinyong_evaluate::model::DEFAULT_MODEL_TOML;
use xinyong_evaluate::run::{LoadedModel, recompute};
use xinyong_store::{BatchMeta, BatchReport, BatchStatus, BatchStore, CatalogStore, PreparedRecord, StatsStore, Store};
use xinyong_store_sqlite::{DB_FILE, SqliteStore};

use super::{Figure, round};

/// Rows of the batch after which the incremental recompute is measured.
const BATCH: u64 = 10_000;

fn uscc(n: u64) -> anyhow::Result<String> {
    complete_uscc(&format!("91310115{n:08}")).context("a generated USCC")
}

fn mix(i: u64, salt: u64) -> u64 {
    (i ^ salt).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 33
}

struct Rows<'a> {
    store: &'a SqliteStore,
    item: &'a str,
    unit: &'a str,
    batch: String,
    now: xinyong_store::Timestamp,
}

impl Rows<'_> {
    /// Writes one batch of rows made by `row(i)` for `i in range`; answers the subjects touched.
    fn write(
        &self,
        range: impl Iterator<Item = u64>,
        row: impl Fn(u64) -> anyhow::Result<Option<(u64, RecordDraftParts)>>,
    ) -> anyhow::Result<Vec<i64>> {
        let mut writer = self.store.begin_batch(BatchMeta {
            id: self.batch.clone(),
            unit: self.unit.into(),
            item: self.item.into(),
            item_version: 1,
            file_name: None,
            all_or_nothing: false,
            started_at: self.now,
        })?;
        let (mut chunk, mut n, mut touched) = (Vec::with_capacity(4096), 0u64, Vec::new());
        for i in range {
            let Some((subject, parts)) = row(i)? else { continue };
            chunk.push(parts.prepare(self.store, subject, n + 2)?);
            n += 1;
            if chunk.len() == chunk.capacity() {
                touched.extend(writer.write(&chunk)?.into_iter().filter_map(|o| o.subject_id));
                chunk.clear();
            }
        }
        touched.extend(writer.write(&chunk)?.into_iter().filter_map(|o| o.subject_id));
        writer.commit(&BatchReport {
            batch: self.batch.clone(),
            unit: self.unit.into(),
            item: self.item.into(),
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
            started_at: self.now,
            finished_at: self.now,
        })?;
        touched.sort_unstable();
        touched.dedup();
        Ok(touched)
    }
}

struct RecordDraftParts {
    key: String,
    date: NaiveDate,
    end: Option<NaiveDate>,
    severity: Severity,
    fields: BTreeMap<String, String>,
}

impl RecordDraftParts {
    fn prepare(self, store: &SqliteStore, subject: u64, row: u64) -> anyhow::Result<PreparedRecord> {
        let code = uscc(subject)?;
        let name = format!("上海评价样本{subject}有限公司");
        let claim = SubjectClaim { kind: SubjectKind::LegalPerson, id: Identifier::Uscc(Uscc::parse(&code)?), name };
        let head = RecordHead {
            row,
            source_key: self.key,
            date: self.date,
            end_date: self.end,
            severity: self.severity,
            published: true,
            public_until: None,
            subject: Some(claim),
        };
        Ok(PreparedRecord::new(
            RecordDraft { head, fields: self.fields, secret_fields: BTreeMap::new() },
            store.vault(),
        )?)
    }
}

fn parts(key: String, date: NaiveDate, severity: Severity, fields: &[(&str, String)]) -> RecordDraftParts {
    let fields = fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    RecordDraftParts { key, date, end: None, severity, fields }
}

pub fn run(dir: &std::path::Path, subjects: u64, seed: u64) -> anyhow::Result<Vec<Figure>> {
    let now = DateTime::parse_from_rfc3339("2026-11-23T10:00:00+08:00")?;
    let today = now.date_naive();
    let day = |back: u64| today - chrono::Days::new(back);
    let data = dir.join("data");
    let store = SqliteStore::create(&data, true)?;
    let catalog = Catalog::default_catalog()?;
    store.install_catalog(&catalog, now)?;

    let t = Instant::now();
    let rows = |item: &'static str, unit: &'static str| Rows {
        store: &store,
        item,
        unit,
        batch: format!("b-bench-{item}"),
        now,
    };
    rows("legal_person_registration", "sh_amr").write(0..subjects, |i| {
        let established = day(mix(i, seed) % (30 * 365));
        Ok(Some((
            i,
            parts(
                uscc(i)?,
                established,
                Severity::None,
                &[("uscc", uscc(i)?), ("established", established.to_string())],
            ),
        )))
    })?;
    rows("admin_license", "sh_amr").write(0..subjects, |i| {
        if !mix(i, seed + 1).is_multiple_of(4) {
            return Ok(None);
        }
        let date = day(mix(i, seed + 2) % (6 * 365));
        Ok(Some((
            i,
            parts(format!("沪许〔B〕{i}号"), date, Severity::None, &[("decision_number", format!("沪许〔B〕{i}号"))]),
        )))
    })?;
    rows("admin_penalty", "sh_amr").write(0..subjects, |i| {
        if !mix(i, seed + 3).is_multiple_of(4) {
            return Ok(None);
        }
        let severity =
            [Severity::Minor, Severity::General, Severity::General, Severity::Serious][(mix(i, seed + 4) % 4) as usize];
        let date = day(mix(i, seed + 5) % (5 * 365));
        Ok(Some((
            i,
            parts(format!("沪罚〔B〕{i}号"), date, severity, &[("decision_number", format!("沪罚〔B〕{i}号"))]),
        )))
    })?;
    rows("list_dishonest_debtor", "sh_court").write(0..subjects, |i| {
        if !mix(i, seed + 6).is_multiple_of(20) {
            return Ok(None);
        }
        let date = day(mix(i, seed + 7) % 1000);
        Ok(Some((
            i,
            parts(
                format!("（B）沪执{i}号"),
                date,
                Severity::Serious,
                &[("document_number", format!("（B）沪执{i}号"))],
            ),
        )))
    })?;
    let setup_seconds = t.elapsed().as_secs_f64();
    let records = store.collection_stats()?.records;

    // Full recompute.
    let model = LoadedModel::parse(DEFAULT_MODEL_TOML, &catalog)?;
    let t = Instant::now();
    let full = recompute(&store, &catalog, &model, None, "bench full", now)?;
    let full_seconds = t.elapsed().as_secs_f64();
    let db = data.join(DB_FILE);
    let (baseline_n, baseline_seconds) = sql_aggregate(&db, None, today)?;

    // A batch of 10,000 new penalties on as many subjects, then the incremental recompute.
    let t = Instant::now();
    let mut batch = rows("admin_penalty", "sh_amr");
    batch.batch = "b-bench-increment".into();
    let n = BATCH.min(subjects);
    let touched = batch.write(0..n, |k| {
        let i = mix(k, seed + 8) % subjects.max(1);
        Ok(Some((
            i,
            parts(
                format!("沪罚〔增〕{k}号"),
                today,
                Severity::General,
                &[("decision_number", format!("沪罚〔增〕{k}号"))],
            ),
        )))
    })?;
    let batch_seconds = t.elapsed().as_secs_f64();
    let store_ref: &dyn Store = &store;
    let t = Instant::now();
    let cause = "bench batch".to_owned();
    let incremental =
        xinyong_evaluate::run::after_change(store_ref, &catalog, &touched, &cause, now)?.context("a run")?;
    let incremental_seconds = t.elapsed().as_secs_f64();
    let (inc_baseline_n, inc_baseline_seconds) = sql_aggregate(&db, Some(&touched), today)?;
    drop(store);

    let mut extra = serde_json::Map::new();
    extra.insert("records".into(), json!(records));
    extra.insert("changed".into(), json!(full.changed));
    extra.insert("grades".into(), json!(full.grades));
    extra.insert("setup_seconds".into(), json!(round(setup_seconds)));
    extra.insert("target_seconds".into(), json!(60));
    let mut inc_extra = serde_json::Map::new();
    inc_extra.insert("batch_rows".into(), json!(n));
    inc_extra.insert("batch_seconds".into(), json!(round(batch_seconds)));
    inc_extra.insert("changed".into(), json!(incremental.changed));
    inc_extra.insert("grades".into(), json!(incremental.grades));
    inc_extra.insert("target_seconds".into(), json!(2));
    Ok(vec![
        Figure::measured(
            "evaluate",
            (full.subjects, full_seconds),
            "single SQL aggregate of the same sums over the same records",
            (baseline_n, baseline_seconds),
            extra,
        ),
        Figure::measured(
            "evaluate_incremental",
            (incremental.subjects, incremental_seconds),
            "single SQL aggregate of the same sums over the batch's subjects",
            (inc_baseline_n, inc_baseline_seconds),
            inc_extra,
        ),
    ])
}

/// The default model's legal-person sums as one SQL aggregate per subject (years registered, licences,
/// penalties by severity in their windows, punishment-list entries, with the caps); answers how many
/// subjects it scored and the seconds it took.
fn sql_aggregate(db: &std::path::Path, subjects: Option<&[i64]>, today: NaiveDate) -> anyhow::Result<(u64, f64)> {
    let conn = rusqlite::Connection::open(db)?;
    let t = Instant::now();
    let filter = match subjects {
        None => "subject_id IS NOT NULL".to_owned(),
        Some(ids) => {
            conn.execute_batch("CREATE TEMP TABLE chosen (id INTEGER PRIMARY KEY)")?;
            let tx = conn.unchecked_transaction()?;
            {
                let mut insert = tx.prepare("INSERT OR IGNORE INTO chosen (id) VALUES (?1)")?;
                for id in ids {
                    insert.execute([id])?;
                }
            }
            tx.commit()?;
            "subject_id IN (SELECT id FROM chosen)".to_owned()
        }
    };
    let (d12, d36, d60) =
        (today - chrono::Months::new(12), today - chrono::Months::new(36), today - chrono::Months::new(60));
    let sql = format!(
        "SELECT count(*), sum(score) FROM (
           SELECT subject_id, 700
             + min(100, 10 * max(CASE WHEN item = 'legal_person_registration'
                                  THEN CAST((julianday('{today}') - julianday(record_date)) / 365.25 AS INTEGER) ELSE 0 END))
             + min(60, 15 * sum(item = 'admin_license' AND record_date > '{d60}'))
             - min(30, 10 * sum(item = 'admin_penalty' AND severity = 'minor' AND record_date > '{d12}'))
             - min(200, 40 * sum(item = 'admin_penalty' AND severity = 'general' AND record_date > '{d36}'))
             - min(360, 120 * sum(item = 'admin_penalty' AND severity = 'serious' AND record_date > '{d36}'))
             - min(500, 250 * sum(item = 'list_dishonest_debtor' AND (end_date IS NULL OR end_date > '{today}')))
             AS score
           FROM records WHERE {filter} AND status = 'active' GROUP BY subject_id)"
    );
    let (n, _sum): (i64, Option<f64>) = conn.query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok((n as u64, t.elapsed().as_secs_f64()))
}

//! The conformance suite: behaviour every backend must show, written once against the traits.
//! Each backend's integration tests call every function here with a fresh, empty store (see
//! [`run_all!`](crate::run_conformance)): SQLite on a temporary folder, PostgreSQL on a database of
//! its own per test (`.ci/run` starts the local cluster; without one the PostgreSQL tests fail).
//!
//! The functions return `Result<(), String>` with a message naming the broken rule, so they need no
//! panicking helpers in library code.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate};
use xinyong_domain::catalog::{Catalog, Severity, UnitDef};
use xinyong_domain::ids::{Identifier, OrgCode, ResidentId, Uscc};
use xinyong_domain::record::{RecordDraft, RecordHead, UpsertOutcome};
use xinyong_domain::subject::{SubjectClaim, SubjectKind};

use crate::{BatchMeta, BatchReport, BatchStatus, PreparedRecord, RejectedCells, RowIssue, Store, SubjectKey};

pub type Check = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        let holds: bool = $cond;
        if !holds {
            return Err(format!($($msg)+));
        }
    };
}

fn at(day: u32) -> DateTime<FixedOffset> {
    let text = format!("2026-05-{day:02}T10:00:00+08:00");
    DateTime::parse_from_rfc3339(&text).unwrap_or_default()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A store with the default catalog installed.
pub fn install_default(store: &dyn Store) -> Result<Catalog, String> {
    let catalog = Catalog::default_catalog().map_err(err)?;
    store.install_catalog(&catalog, at(1)).map_err(err)?;
    Ok(catalog)
}

/// A legal person with a generated, valid USCC.
pub fn company(n: u32) -> SubjectClaim {
    // An organisation check is a digit or X, both in the USCC alphabet, so completion cannot fail;
    // the published code is only a type-level fallback.
    let code = xinyong_domain::ids::complete_uscc(&format!("91310115MA1{n:05}"))
        .unwrap_or_else(|| "91310000631696382C".to_owned());
    let id = match Uscc::parse(&code) {
        Ok(u) => Identifier::Uscc(u),
        Err(_) => std::process::abort(),
    };
    SubjectClaim { kind: SubjectKind::LegalPerson, id, name: format!("上海测试{n}有限公司") }
}

/// A natural person with a generated, valid resident ID.
pub fn person(seq: u32, name: &str) -> SubjectClaim {
    let first17 = format!("310115199001{:02}{:03}", 1 + seq % 28, seq % 1000);
    let id = xinyong_domain::ids::complete_resident_id(&first17).unwrap_or_default();
    let rid = match ResidentId::parse(&id, date(2026, 1, 1)) {
        Ok(r) => r,
        Err(_) => std::process::abort(),
    };
    SubjectClaim { kind: SubjectKind::NaturalPerson, id: Identifier::ResidentId(rid), name: name.to_owned() }
}

/// The company `n` of [`company`] named by its organisation code alone (as a file of the 2015
/// generation names it), under `name`.
pub fn company_by_org_code(n: u32, name: &str) -> SubjectClaim {
    let by_uscc = company(n);
    let id = match &by_uscc.id {
        Identifier::Uscc(u) => match OrgCode::parse(u.org_code()) {
            Ok(o) => Identifier::OrgCode(o),
            Err(_) => std::process::abort(),
        },
        _ => std::process::abort(),
    };
    SubjectClaim { id, name: name.to_owned(), ..by_uscc }
}

pub fn draft(row: u64, key: &str, subject: Option<SubjectClaim>, content: &str) -> RecordDraft {
    let mut fields = BTreeMap::new();
    fields.insert("decision_number".to_owned(), key.to_owned());
    fields.insert("penalty_content".to_owned(), content.to_owned());
    let mut secret = BTreeMap::new();
    if let Some(SubjectClaim { id: Identifier::ResidentId(r), .. }) = &subject {
        secret.insert("id_number".to_owned(), r.as_str().to_owned());
    }
    let head = RecordHead {
        row,
        source_key: key.to_owned(),
        date: date(2026, 5, 6),
        end_date: None,
        severity: Severity::General,
        published: true,
        public_until: Some(date(2027, 5, 6)),
        subject,
    };
    RecordDraft { head, fields, secret_fields: secret }
}

/// A batch of penalties by `sh_amr`, begun on `day`.
pub fn meta(id: &str, day: u32) -> BatchMeta {
    BatchMeta {
        id: id.to_owned(),
        unit: "sh_amr".to_owned(),
        item: "admin_penalty".to_owned(),
        item_version: 1,
        file_name: Some("test.csv".to_owned()),
        all_or_nothing: false,
        started_at: at(day),
    }
}

fn report(id: &str, day: u32, rows: u64, counts: [u64; 4], errors: Vec<RowIssue>) -> BatchReport {
    let [created, updated, unchanged, linked] = counts;
    BatchReport {
        batch: id.to_owned(),
        unit: "sh_amr".to_owned(),
        item: "admin_penalty".to_owned(),
        item_version: 1,
        status: BatchStatus::Committed,
        format: "csv".to_owned(),
        encoding: "utf-8".to_owned(),
        file_name: Some("test.csv".to_owned()),
        rows,
        accepted: created + updated + unchanged,
        rejected: errors.len() as u64,
        created,
        updated,
        unchanged,
        linked,
        errors,
        warnings: Vec::new(),
        started_at: at(day),
        finished_at: at(day),
    }
}

/// Encodes drafts with the store's vault.
pub fn prepare(store: &dyn Store, drafts: &[RecordDraft]) -> Result<Vec<PreparedRecord>, String> {
    drafts.iter().map(|d| PreparedRecord::new(d.clone(), store.vault()).map_err(err)).collect()
}

/// Loads drafts as one committed batch of penalties; returns the outcomes.
pub fn load(store: &dyn Store, id: &str, day: u32, drafts: &[RecordDraft]) -> Result<Vec<UpsertOutcome>, String> {
    load_item(store, id, day, "admin_penalty", drafts)
}

/// Loads drafts as one committed batch of `item`; returns the outcomes.
pub fn load_item(
    store: &dyn Store,
    id: &str,
    day: u32,
    item: &str,
    drafts: &[RecordDraft],
) -> Result<Vec<UpsertOutcome>, String> {
    let mut w = store.begin_batch(BatchMeta { item: item.to_owned(), ..meta(id, day) }).map_err(err)?;
    let outcomes = w.write(&prepare(store, drafts)?).map_err(err)?;
    let count = |o: UpsertOutcome| outcomes.iter().filter(|x| x.outcome == o).count() as u64;
    let linked = outcomes.iter().filter(|x| x.linked).count() as u64;
    let counts =
        [count(UpsertOutcome::Created), count(UpsertOutcome::Updated), count(UpsertOutcome::Unchanged), linked];
    w.commit(&BatchReport { item: item.to_owned(), ..report(id, day, drafts.len() as u64, counts, Vec::new()) })
        .map_err(err)?;
    Ok(outcomes.into_iter().map(|o| o.outcome).collect())
}

pub fn the_catalog_round_trips_and_versions_changed_items(store: &dyn Store) -> Check {
    let catalog = install_default(store)?;
    let loaded = store.load_catalog().map_err(err)?;
    ensure!(loaded.items().len() == catalog.items().len(), "catalog items lost");
    ensure!(loaded.item("admin_penalty").map(|i| i.version) == Some(1), "first version is 1");
    ensure!(loaded.units.iter().any(|u| u.code == "sh_court"), "units stored");
    let again = store.install_catalog(&catalog, at(2)).map_err(err)?;
    ensure!(again.items_added == 0 && again.items_versioned == 0, "an unchanged catalog makes no versions: {again:?}");
    let mut items: Vec<_> = catalog.items().to_vec();
    if let Some(p) = items.iter_mut().find(|i| i.code == "admin_penalty") {
        p.name = "行政处罚信息".to_owned();
    }
    let changed = Catalog::from_items(catalog.version, catalog.units.clone(), items).map_err(err)?;
    let summary = store.install_catalog(&changed, at(3)).map_err(err)?;
    ensure!(summary.items_versioned == 1, "a changed item gets a new version: {summary:?}");
    let loaded = store.load_catalog().map_err(err)?;
    ensure!(loaded.item("admin_penalty").map(|i| i.version) == Some(2), "newest version is current");
    Ok(())
}

pub fn units_can_be_added_and_must_supply_known_items(store: &dyn Store) -> Check {
    install_default(store)?;
    let unit =
        UnitDef {
            code: "pd_amr".into(), name: "浦东新区市场监管局".into(), supplies: vec!["admin_penalty".into()]
        };
    store.put_unit(&unit, at(2)).map_err(err)?;
    let loaded = store.load_catalog().map_err(err)?;
    ensure!(loaded.units.iter().any(|u| u.code == "pd_amr" && u.supplies == ["admin_penalty"]), "unit stored");
    let bad = UnitDef { code: "x".into(), name: "x".into(), supplies: vec!["ghost".into()] };
    ensure!(store.put_unit(&bad, at(2)).is_err(), "an unknown item is refused");
    Ok(())
}

pub fn rows_are_created_then_unchanged_then_updated_with_history(store: &dyn Store) -> Check {
    install_default(store)?;
    let first = load(store, "b-1", 6, &[draft(2, "沪罚〔2026〕1号", Some(company(1)), "罚款1万元")])?;
    ensure!(first == [UpsertOutcome::Created], "first load creates: {first:?}");
    let same = load(store, "b-2", 7, &[draft(2, "沪罚〔2026〕1号", Some(company(1)), "罚款1万元")])?;
    ensure!(same == [UpsertOutcome::Unchanged], "identical content is unchanged: {same:?}");
    let changed = load(store, "b-3", 8, &[draft(2, "沪罚〔2026〕1号", Some(company(1)), "罚款2万元")])?;
    ensure!(changed == [UpsertOutcome::Updated], "other content updates: {changed:?}");
    let subject = store.find_subject(&SubjectKey::Identifier(company(1).id)).map_err(err)?.ok_or("subject linked")?;
    let records = store.records_of(subject.id).map_err(err)?;
    ensure!(records.len() == 1, "one record, not two: {}", records.len());
    let r = &records[0];
    ensure!(
        r.version == 2 && r.fields.get("penalty_content").map(String::as_str) == Some("罚款2万元"),
        "current is v2"
    );
    ensure!(r.batch == "b-3", "current version names its batch");
    let history = store.record_history(r.id).map_err(err)?;
    ensure!(history.len() == 1 && history[0].version == 1, "v1 kept in history: {history:?}");
    ensure!(history[0].fields.get("penalty_content").map(String::as_str) == Some("罚款1万元"), "v1 content kept");
    Ok(())
}

pub fn subjects_are_created_once_and_keep_every_name(store: &dyn Store) -> Check {
    install_default(store)?;
    let mut renamed = company(2);
    renamed.name = "上海改名后有限公司".to_owned();
    load(store, "b-1", 6, &[draft(2, "k1", Some(company(2)), "a"), draft(3, "k2", Some(renamed), "b")])?;
    ensure!(store.subject_count().map_err(err)? == 1, "one subject for one USCC");
    let s = store.find_subject(&SubjectKey::Identifier(company(2).id)).map_err(err)?.ok_or("found")?;
    ensure!(s.name == "上海改名后有限公司", "latest name is the name: {}", s.name);
    ensure!(s.names.len() == 2, "both names kept: {:?}", s.names);
    ensure!(s.kind == SubjectKind::LegalPerson, "kind kept");
    ensure!(store.find_subject(&SubjectKey::Id(s.id)).map_err(err)?.is_some(), "found by id");
    Ok(())
}

/// A company named by its organisation code (a file of the 2015 generation) under another name is
/// renamed, and named by its USCC under its first name again, takes that name back: the latest name
/// wins, whichever identifier named it, across batches and within one write.
pub fn the_latest_name_wins_whichever_identifier_names_the_subject(store: &dyn Store) -> Check {
    install_default(store)?;
    let by_uscc = company(3);
    let by_org = company_by_org_code(3, "上海旧名有限公司");
    let name = || -> Result<String, String> {
        let s = store.find_subject(&SubjectKey::Identifier(by_uscc.id.clone())).map_err(err)?.ok_or("found")?;
        Ok(s.name)
    };
    load(store, "b-1", 6, &[draft(2, "k1", Some(by_uscc.clone()), "a")])?;
    load(store, "b-2", 7, &[draft(2, "k2", Some(by_org.clone()), "b")])?;
    ensure!(name()? == by_org.name, "renamed under the organisation code: {}", name()?);
    load(store, "b-3", 8, &[draft(2, "k3", Some(by_uscc.clone()), "c")])?;
    ensure!(name()? == by_uscc.name, "the first name back under the USCC: {}", name()?);
    let rows = [
        draft(2, "k4", Some(by_org.clone()), "d"),
        draft(3, "k5", Some(by_uscc.clone()), "e"),
        draft(4, "k6", Some(by_org.clone()), "f"),
        draft(5, "k7", Some(by_uscc.clone()), "g"),
    ];
    load(store, "b-4", 9, &rows)?;
    ensure!(name()? == by_uscc.name, "the last row's name within one write: {}", name()?);
    ensure!(store.subject_count().map_err(err)? == 1, "one subject");
    Ok(())
}

/// A company new to the store, named by its USCC in one row and by its organisation code in a later row
/// of the same write, is one subject.
pub fn a_new_company_named_by_its_organisation_code_in_the_same_write_is_one_subject(store: &dyn Store) -> Check {
    install_default(store)?;
    let (by_uscc, by_org) = (company(4), company_by_org_code(4, &company(4).name));
    load(store, "b-1", 6, &[draft(2, "k1", Some(by_uscc), "a"), draft(3, "k2", Some(by_org), "b")])?;
    ensure!(store.subject_count().map_err(err)? == 1, "{} subjects", store.subject_count().map_err(err)?);
    Ok(())
}

pub fn resident_ids_are_found_by_keyed_hash_and_decrypted(store: &dyn Store) -> Check {
    install_default(store)?;
    let p = person(7, "张三");
    load(store, "b-1", 6, &[draft(2, "k-person", Some(p.clone()), "警告")])?;
    let s = store.find_subject(&SubjectKey::Identifier(p.id.clone())).map_err(err)?.ok_or("person found")?;
    let Identifier::ResidentId(rid) = &p.id else {
        return Err("claim is a resident id".into());
    };
    ensure!(s.resident_id.as_ref() == Some(rid), "resident id decrypts to the original");
    ensure!(s.uscc.is_none(), "a person has no uscc");
    let records = store.records_of(s.id).map_err(err)?;
    ensure!(records[0].fields.get("id_number") == Some(&rid.as_str().to_owned()), "masked field decrypts");
    let other = person(8, "李四");
    ensure!(store.find_subject(&SubjectKey::Identifier(other.id)).map_err(err)?.is_none(), "another id is not found");
    Ok(())
}

pub fn an_unlinked_row_is_stored_without_a_subject(store: &dyn Store) -> Check {
    install_default(store)?;
    let mut w = store.begin_batch(meta("b-1", 6)).map_err(err)?;
    let out = w.write(&prepare(store, &[draft(2, "k-passport", None, "警告")])?).map_err(err)?;
    ensure!(out.len() == 1 && !out[0].linked && out[0].outcome == UpsertOutcome::Created, "stored unlinked: {out:?}");
    w.commit(&report("b-1", 6, 1, [1, 0, 0, 0], Vec::new())).map_err(err)?;
    ensure!(store.subject_count().map_err(err)? == 0, "no subject created");
    Ok(())
}

pub fn a_dropped_batch_leaves_nothing(store: &dyn Store) -> Check {
    install_default(store)?;
    {
        let mut w = store.begin_batch(meta("b-gone", 6)).map_err(err)?;
        w.write(&prepare(store, &[draft(2, "k-gone", Some(company(3)), "x")])?).map_err(err)?;
        // dropped without commit
    }
    ensure!(store.subject_count().map_err(err)? == 0, "no subject survives a dropped batch");
    ensure!(store.batch("b-gone").map_err(err)?.is_none(), "no batch survives a dropped batch");
    load(store, "b-after", 7, &[draft(2, "k-after", Some(company(4)), "y")])?;
    ensure!(store.subject_count().map_err(err)? == 1, "the store works after a rollback");
    Ok(())
}

/// A store that remembers subjects from batch to batch must forget those of a batch that rolled back.
pub fn a_subject_of_a_dropped_batch_is_created_again(store: &dyn Store) -> Check {
    install_default(store)?;
    load(store, "b-before", 5, &[draft(2, "k-before", Some(company(5)), "x")])?;
    {
        let mut w = store.begin_batch(meta("b-gone", 6)).map_err(err)?;
        let mut renamed = company(5);
        renamed.name = "上海改名未成有限公司".to_owned();
        w.write(&prepare(
            store,
            &[draft(2, "k-gone", Some(company(3)), "x"), draft(3, "k-gone2", Some(renamed), "y")],
        )?)
        .map_err(err)?;
        // dropped without commit
    }
    load(
        store,
        "b-after",
        7,
        &[draft(2, "k-after", Some(company(3)), "y"), draft(3, "k-again", Some(company(5)), "z")],
    )?;
    ensure!(store.subject_count().map_err(err)? == 2, "company 3 created once more, company 5 kept");
    let s = store.find_subject(&SubjectKey::Identifier(company(3).id)).map_err(err)?.ok_or("company 3 found")?;
    let records = store.records_of(s.id).map_err(err)?;
    ensure!(records.len() == 1 && records[0].source_key == "k-after", "its record is linked to it: {records:?}");
    let s = store.find_subject(&SubjectKey::Identifier(company(5).id)).map_err(err)?.ok_or("company 5 found")?;
    ensure!(s.name == company(5).name && s.names.len() == 1, "the rolled-back rename left no trace: {:?}", s.names);
    Ok(())
}

pub fn discarded_rows_keep_the_issues_and_the_rejected_batch(store: &dyn Store) -> Check {
    install_default(store)?;
    let issue = |row: u64, code: &str| RowIssue {
        row,
        field: Some("统一社会信用代码".into()),
        code: code.into(),
        message: "m".into(),
    };
    let cells = |id: &str| RejectedCells {
        headers: vec!["行政相对人名称".into(), "证件号码".into()],
        cells: vec!["张三".into(), id.into()],
        personal: vec![1],
    };
    let vault = store.vault();
    let mut w = store.begin_batch(meta("b-aon", 6)).map_err(err)?;
    // The issues of the chunk that holds the first bad row are recorded before its rows are discarded
    // (as the ingest pipeline does it), the later ones after.
    let warning = RowIssue { row: 1, field: Some("备注".into()), code: "unknown_column".into(), message: "w".into() };
    w.record_issues(&[issue(3, "bad_check_digit")], std::slice::from_ref(&warning)).map_err(err)?;
    w.record_rejected_rows(&[cells("310101199001011234").seal(3, vault).map_err(err)?]).map_err(err)?;
    w.write(&prepare(store, &[draft(2, "k-aon", Some(company(5)), "x")])?).map_err(err)?;
    w.discard_rows().map_err(err)?;
    w.record_issues(&[issue(5, "required")], &[]).map_err(err)?;
    w.record_rejected_rows(&[cells("").seal(5, vault).map_err(err)?]).map_err(err)?;
    let mut r = report("b-aon", 6, 4, [0, 0, 0, 0], vec![issue(3, "bad_check_digit"), issue(5, "required")]);
    r.status = BatchStatus::Rejected;
    w.commit(&r).map_err(err)?;
    ensure!(store.subject_count().map_err(err)? == 0, "rows of a rejected batch are gone");
    let b = store.batch("b-aon").map_err(err)?.ok_or("rejected batch is recorded")?;
    ensure!(
        b.status == BatchStatus::Rejected
            && b.errors == [issue(3, "bad_check_digit"), issue(5, "required")]
            && b.warnings == [warning],
        "with its issues from before and after the discard: {b:?}"
    );
    let rejected = store.rejected_rows("b-aon").map_err(err)?;
    ensure!(rejected.iter().map(|r| r.row).collect::<Vec<_>>() == [3, 5], "both rejected rows kept: {rejected:?}");
    ensure!(
        rejected.iter().all(|r| !r.sealed.windows(6).any(|w| w == b"310101")),
        "the cells are sealed, not stored in clear"
    );
    let opened = rejected.first().ok_or("row 3")?.open(vault).map_err(err)?;
    ensure!(opened == cells("310101199001011234"), "the cells open as given: {opened:?}");
    ensure!(store.rejected_rows("no-such-batch").map_err(err)?.is_empty(), "an unknown batch has none");

    // A row number given twice is refused (by that call or, on a backend that writes ahead, by a later
    // one, at the latest the commit); the failed batch leaves no rejected rows behind.
    {
        let mut w = store.begin_batch(meta("b-twice", 7)).map_err(err)?;
        w.record_rejected_rows(&[cells("").seal(4, vault).map_err(err)?]).map_err(err)?;
        let twice = match w.record_rejected_rows(&[cells("").seal(4, vault).map_err(err)?]) {
            Ok(()) => w.commit(&report("b-twice", 7, 1, [0, 0, 0, 0], vec![issue(4, "required")])),
            refused => refused,
        };
        ensure!(matches!(twice, Err(crate::StoreError::Conflict(_))), "the same row twice: {twice:?}");
    }
    ensure!(store.rejected_rows("b-twice").map_err(err)?.is_empty(), "the failed batch kept nothing");
    ensure!(store.batch("b-twice").map_err(err)?.is_none(), "nor its batch");
    Ok(())
}

/// Whatever a backend leaves out of a first load, the records are found by subject and in the
/// publication list during the load and after it; a store with records leaves nothing out.
pub fn an_initial_load_answers_as_a_load_without_it(store: &dyn Store) -> Check {
    install_default(store)?;
    let keys_of = |n: u32| -> Result<Vec<String>, String> {
        let s = store.find_subject(&SubjectKey::Identifier(company(n).id)).map_err(err)?.ok_or("subject linked")?;
        let mut keys: Vec<String> = store.records_of(s.id).map_err(err)?.into_iter().map(|r| r.source_key).collect();
        keys.sort();
        Ok(keys)
    };
    let published = || -> Result<Vec<String>, String> {
        let query = crate::search::PublishedQuery {
            items: vec!["admin_penalty".to_owned()],
            today: date(2026, 6, 1),
            unit: None,
            from: None,
            to: None,
            page: 1,
            per_page: 10,
        };
        let (records, total) = store.published_records(&query).map_err(err)?;
        let mut keys: Vec<String> = records.into_iter().map(|r| r.source_key).collect();
        keys.sort();
        ensure!(total == keys.len() as u64, "total {total} for {keys:?}");
        Ok(keys)
    };
    // Whether anything is left out is the backend's choice; what the store answers is not.
    store.begin_initial_load().map_err(err)?;
    load(store, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a"), draft(3, "k2", Some(company(2)), "b")])?;
    load(store, "b-2", 7, &[draft(2, "k3", Some(company(1)), "c")])?;
    for stage in ["during the load", "after it"] {
        ensure!(keys_of(1)? == ["k1", "k3"] && keys_of(2)? == ["k2"], "records by subject {stage}");
        ensure!(published()? == ["k1", "k2", "k3"], "published records {stage}");
        store.finish_initial_load().map_err(err)?;
    }
    ensure!(!store.begin_initial_load().map_err(err)?, "a store with records leaves nothing out");
    load(store, "b-3", 8, &[draft(2, "k4", Some(company(2)), "d")])?;
    store.finish_initial_load().map_err(err)?;
    ensure!(keys_of(2)? == ["k2", "k4"], "a later batch is found by subject");
    Ok(())
}

/// A later batch of a first load finds what the batches before it wrote, whatever a backend keeps of
/// them in memory or leaves out of its indexes: a repeated source key is a new version or unchanged,
/// never a second record, and the keys of a batch dropped without its commit are new again.
pub fn a_first_load_finds_the_keys_its_batches_wrote(store: &dyn Store) -> Check {
    install_default(store)?;
    store.begin_initial_load().map_err(err)?;
    let first = load(store, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a"), draft(3, "k2", Some(company(2)), "b")])?;
    ensure!(first == [UpsertOutcome::Created, UpsertOutcome::Created], "b-1: {first:?}");
    let fresh = load(store, "b-2", 7, &[draft(2, "k3", Some(company(1)), "c")])?;
    ensure!(fresh == [UpsertOutcome::Created], "new keys only: {fresh:?}");
    {
        let mut w = store.begin_batch(meta("b-gone", 7)).map_err(err)?;
        w.write(&prepare(store, &[draft(2, "k4", Some(company(3)), "d")])?).map_err(err)?;
    }
    let again = load(
        store,
        "b-3",
        8,
        &[
            draft(2, "k1", Some(company(1)), "a, corrected"),
            draft(3, "k2", Some(company(2)), "b"),
            draft(4, "k4", Some(company(3)), "d"),
        ],
    )?;
    ensure!(
        again == [UpsertOutcome::Updated, UpsertOutcome::Unchanged, UpsertOutcome::Created],
        "repeated keys after a dropped batch: {again:?}"
    );
    store.finish_initial_load().map_err(err)?;
    let after = load(store, "b-4", 9, &[draft(2, "k3", Some(company(1)), "c"), draft(3, "k5", Some(company(3)), "e")])?;
    ensure!(after == [UpsertOutcome::Unchanged, UpsertOutcome::Created], "after the load: {after:?}");
    let mut keys = Vec::new();
    for n in 1..=3 {
        let s = store.find_subject(&SubjectKey::Identifier(company(n).id)).map_err(err)?.ok_or("subject linked")?;
        keys.extend(store.records_of(s.id).map_err(err)?.into_iter().map(|r| (r.source_key, r.version)));
    }
    keys.sort();
    let want: Vec<(String, u32)> =
        [("k1", 2), ("k2", 1), ("k3", 1), ("k4", 1), ("k5", 1)].iter().map(|(k, v)| (k.to_string(), *v)).collect();
    ensure!(keys == want, "one record per key, k1 in its second version: {keys:?}");
    Ok(())
}

/// A public list holds the active, published records of its items decided by today whose window is
/// still open, newest first (the later record first on one day), filtered by unit and decision dates,
/// in pages that the total counts whole.
pub fn published_records_keep_their_window_and_order(store: &dyn Store) -> Check {
    install_default(store)?;
    let dated = |row: u64, key: &str, day: NaiveDate, until: Option<NaiveDate>, published: bool| {
        let mut d = draft(row, key, Some(company(row as u32)), key);
        (d.head.date, d.head.public_until, d.head.published) = (day, until, published);
        d
    };
    let open = Some(date(2027, 1, 1));
    load(
        store,
        "b-pen",
        6,
        &[
            dated(2, "p1", date(2026, 1, 10), open, true),
            dated(3, "p2", date(2026, 3, 1), open, true),
            dated(4, "p3", date(2026, 3, 1), None, true),
            dated(5, "decided-after-today", date(2026, 7, 1), open, true),
            dated(6, "window-closed", date(2025, 1, 1), Some(date(2026, 5, 31)), true),
            dated(7, "not-published", date(2026, 2, 1), open, false),
        ],
    )?;
    load_item(store, "b-lic", 7, "admin_license", &[dated(2, "l1", date(2026, 2, 15), open, true)])?;
    let list = |items: &[&str], unit: Option<&str>, from: Option<NaiveDate>, to: Option<NaiveDate>, page: u32| {
        let query = crate::search::PublishedQuery {
            items: items.iter().map(|i| (*i).to_owned()).collect(),
            today: date(2026, 6, 1),
            unit: unit.map(str::to_owned),
            from,
            to,
            page,
            per_page: 2,
        };
        let (records, total) = store.published_records(&query).map_err(err)?;
        Ok::<_, String>((records.into_iter().map(|r| r.source_key).collect::<Vec<_>>(), total))
    };
    let penalties = ["admin_penalty"];
    let both = ["admin_penalty", "admin_license"];
    ensure!(list(&penalties, None, None, None, 1)? == (vec!["p3".into(), "p2".into()], 3), "penalties, page 1");
    ensure!(list(&penalties, None, None, None, 2)? == (vec!["p1".into()], 3), "penalties, page 2");
    // Page 2³¹ + 1 of 2 starts at row 2³², which 32-bit arithmetic would wrap round to the first.
    ensure!(list(&penalties, None, None, None, (1 << 31) + 1)? == (vec![], 3), "a page far past the end");
    ensure!(list(&both, None, None, None, 2)? == (vec!["l1".into(), "p1".into()], 4), "both items, page 2");
    ensure!(
        list(&["admin_penalty", "admin_penalty"], None, None, None, 1)? == (vec!["p3".into(), "p2".into()], 3),
        "an item named twice is listed once"
    );
    ensure!(
        list(&both, None, Some(date(2026, 2, 15)), Some(date(2026, 3, 1)), 2)? == (vec!["l1".into()], 3),
        "both items decided from 2026-02-15 to 2026-03-01, page 2"
    );
    ensure!(
        list(&penalties, Some("sh_amr"), Some(date(2026, 3, 2)), Some(date(2026, 12, 31)), 1)? == (vec![], 0),
        "nothing is listed before its decision date, whatever the asked dates"
    );
    ensure!(list(&["admin_license"], Some("sh_amr"), None, None, 1)? == (vec!["l1".into()], 1), "by its unit");
    ensure!(list(&["admin_license"], Some("sh_tax"), None, None, 1)? == (vec![], 0), "not by another unit");
    ensure!(list(&["admin"], None, None, None, 1)? == (vec![], 0), "an item code's prefix names no item");
    Ok(())
}

/// A batch that rolls back takes the subjects it created and the names it gave with it: a later batch
/// naming them makes them again (a backend that remembers subjects between batches must forget these).
pub fn subjects_of_a_rolled_back_batch_are_made_again(store: &dyn Store) -> Check {
    install_default(store)?;
    load(store, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a")])?;
    let mut renamed = company(1);
    renamed.name = "上海回滚改名有限公司".to_owned();
    let mut w = store.begin_batch(meta("b-2", 7)).map_err(err)?;
    w.write(&prepare(store, &[draft(2, "k2", Some(company(2)), "b"), draft(3, "k3", Some(renamed), "c")])?)
        .map_err(err)?;
    drop(w);
    load(store, "b-3", 8, &[draft(2, "k4", Some(company(2)), "d"), draft(3, "k5", Some(company(1)), "e")])?;
    let made = store.find_subject(&SubjectKey::Identifier(company(2).id)).map_err(err)?.ok_or("made again")?;
    let keys: Vec<String> = store.records_of(made.id).map_err(err)?.into_iter().map(|r| r.source_key).collect();
    ensure!(keys == ["k4"], "records of the subject made again: {keys:?}");
    let kept = store.find_subject(&SubjectKey::Identifier(company(1).id)).map_err(err)?.ok_or("kept")?;
    ensure!(kept.name == company(1).name && kept.names.len() == 1, "the rename rolled back: {kept:?}");
    let mut keys: Vec<String> = store.records_of(kept.id).map_err(err)?.into_iter().map(|r| r.source_key).collect();
    keys.sort();
    ensure!(keys == ["k1", "k5"], "records of the kept subject: {keys:?}");
    Ok(())
}

/// A backend may remember subjects from one batch to the next; a batch that another process committed
/// in between (`other`: a second store on the same data) may have renamed one, and is noticed: the
/// original name again is a rename back, which the remembered name alone would take for no change.
pub fn a_rename_committed_by_another_process_is_seen_by_the_next_batch(ours: &dyn Store, other: &dyn Store) -> Check {
    install_default(ours)?;
    load(ours, "b-1", 6, &[draft(2, "k1", Some(company(8)), "a")])?;
    let mut renamed = company(8);
    renamed.name = "上海别处改名有限公司".to_owned();
    load(other, "b-2", 7, &[draft(2, "k2", Some(renamed), "b")])?;
    load(ours, "b-3", 8, &[draft(2, "k3", Some(company(8)), "c")])?;
    let s = ours.find_subject(&SubjectKey::Identifier(company(8).id)).map_err(err)?.ok_or("subject")?;
    ensure!(s.name == company(8).name, "renamed back: {s:?}");
    ensure!(s.names.len() == 2, "both names kept: {:?}", s.names);
    Ok(())
}

pub fn batches_report_what_they_did_and_stats_add_up(store: &dyn Store) -> Check {
    install_default(store)?;
    load(store, "b-1", 6, &[draft(2, "k1", Some(company(6)), "a"), draft(3, "k2", None, "b")])?;
    let b = store.batch("b-1").map_err(err)?.ok_or("batch found")?;
    ensure!(b.rows == 2 && b.accepted == 2 && b.created == 2 && b.linked == 1, "batch counts: {b:?}");
    ensure!(store.recent_batches(10).map_err(err)?.len() == 1, "listed");
    let stats = store.collection_stats().map_err(err)?;
    ensure!(stats.records == 2 && stats.subjects == 1 && stats.batches == 1, "stats totals: {stats:?}");
    let unit = stats.by_unit.iter().find(|u| u.unit == "sh_amr").ok_or("unit row")?;
    ensure!((unit.link_rate - 0.5).abs() < 1e-9, "link rate 1 of 2: {}", unit.link_rate);
    ensure!(
        stats.by_category_month.iter().any(|c| c.category == "supervision" && c.month == "2026-05" && c.accepted == 2),
        "category by month: {:?}",
        stats.by_category_month
    );
    Ok(())
}

pub fn a_key_repeated_in_one_write_sees_its_earlier_rows(store: &dyn Store) -> Check {
    install_default(store)?;
    let mut renamed = company(9);
    renamed.name = "上海又改名有限公司".to_owned();
    let drafts = [
        draft(2, "k-twice", Some(company(9)), "a"),
        draft(3, "k-twice", Some(company(9)), "a"),
        draft(4, "k-twice", Some(renamed.clone()), "b"),
    ];
    let outcomes = load(store, "b-1", 6, &drafts)?;
    let expected = [UpsertOutcome::Created, UpsertOutcome::Unchanged, UpsertOutcome::Updated];
    ensure!(outcomes == expected, "rows of one write apply in order: {outcomes:?}");
    let s = store.find_subject(&SubjectKey::Identifier(company(9).id)).map_err(err)?.ok_or("subject")?;
    ensure!(s.name == renamed.name && s.names.len() == 2, "renamed within the batch: {s:?}");
    let records = store.records_of(s.id).map_err(err)?;
    ensure!(records.len() == 1 && records[0].version == 2, "one record in version 2: {records:?}");
    ensure!(store.record_history(records[0].id).map_err(err)?.len() == 1, "its first version kept");
    Ok(())
}

pub fn a_record_moving_to_another_subject_keeps_its_id_and_history(store: &dyn Store) -> Check {
    install_default(store)?;
    load(store, "b-1", 6, &[draft(2, "k-move", Some(company(10)), "a")])?;
    let first = store.find_subject(&SubjectKey::Identifier(company(10).id)).map_err(err)?.ok_or("first")?;
    let before = store.records_of(first.id).map_err(err)?.pop().ok_or("record of the first subject")?;
    let out = load(store, "b-2", 7, &[draft(2, "k-move", Some(company(11)), "b")])?;
    ensure!(out == [UpsertOutcome::Updated], "another subject is other content: {out:?}");
    let second = store.find_subject(&SubjectKey::Identifier(company(11).id)).map_err(err)?.ok_or("second")?;
    ensure!(store.records_of(first.id).map_err(err)?.is_empty(), "gone from the first subject");
    let after = store.record(before.id).map_err(err)?.ok_or("the record keeps its id")?;
    ensure!(after.subject_id == Some(second.id) && after.version == 2, "moved, version 2: {after:?}");
    ensure!(after.created_at == at(6) && after.updated_at == at(7), "created and updated times: {after:?}");
    ensure!(store.records_of(second.id).map_err(err)? == [after.clone()], "listed under the second subject");
    let history = store.record_history(before.id).map_err(err)?;
    ensure!(history.len() == 1 && history[0].superseded_at == at(7) && history[0].batch == "b-1", "{history:?}");
    Ok(())
}

/// Runs every conformance check against stores made by `fresh`.
#[macro_export]
macro_rules! run_conformance {
    ($fresh:expr) => {
        $crate::run_conformance!(@each $fresh;
            the_catalog_round_trips_and_versions_changed_items,
            units_can_be_added_and_must_supply_known_items,
            rows_are_created_then_unchanged_then_updated_with_history,
            subjects_are_created_once_and_keep_every_name,
            the_latest_name_wins_whichever_identifier_names_the_subject,
            a_new_company_named_by_its_organisation_code_in_the_same_write_is_one_subject,
            resident_ids_are_found_by_keyed_hash_and_decrypted,
            an_unlinked_row_is_stored_without_a_subject,
            a_dropped_batch_leaves_nothing,
            a_subject_of_a_dropped_batch_is_created_again,
            discarded_rows_keep_the_issues_and_the_rejected_batch,
            an_initial_load_answers_as_a_load_without_it,
            a_first_load_finds_the_keys_its_batches_wrote,
            published_records_keep_their_window_and_order,
            subjects_of_a_rolled_back_batch_are_made_again,
            batches_report_what_they_did_and_stats_add_up,
            a_key_repeated_in_one_write_sees_its_earlier_rows,
            a_record_moving_to_another_subject_keeps_its_id_and_history,
            audit_entries_chain_from_genesis_and_verify,
            audit_of_a_subject_comes_back_newest_first,
            audit_checkpoints_round_trip_and_verify,
            a_case_steps_atomically_with_history_effects_and_notices,
            one_open_objection_per_record_and_stale_steps_conflict,
            cases_filter_by_status_unit_and_deadline,
            loaded_calendar_years_round_trip,
            two_characters_find_every_name_containing_them_and_nothing_else,
            four_characters_match_only_as_a_substring,
            width_case_spaces_and_punctuation_are_ignored_on_both_sides,
            one_character_does_no_name_search,
            an_exact_uscc_ranks_before_name_prefix_before_substring,
            a_uscc_prefix_ranks_after_names_and_shorter_names_come_first,
            an_organisation_code_finds_the_subjects_carrying_it,
            a_rename_makes_the_old_name_unsearchable_and_the_new_one_searchable,
            a_dropped_batch_leaves_nothing_to_find,
            a_full_resident_id_finds_the_person_and_a_partial_one_does_not,
            natural_persons_are_found_by_name_only_when_asked,
            pages_split_the_ranked_matches_and_total_counts_them_all,
            name_search_agrees_with_a_naive_substring_filter,
            checks_take_feedback_once_and_count_in_the_loop,
            identifiers_resolve_in_bulk_in_input_order,
            list_changes_are_queued_once_and_attempts_recorded,
            passwords_lockout_and_sessions_round_trip,
            sign_in_failures_are_counted_per_address_and_forgotten_out_of_the_window,
            reports_are_kept_found_by_number_and_free_ones_limited,
            activity_counts_purpose_bound_queries_and_cases,
            commitments_settle_once_with_history_and_surface_when_overdue,
            a_breach_and_its_record_are_committed_together,
            a_later_runs_score_is_not_overwritten_by_an_earlier_run,
            a_full_run_is_claimed_once_since_an_instant_even_by_racing_servers,
            evaluation_facts_come_in_chunks_and_scores_keep_history
        );
    };
    (@each $fresh:expr; $($name:ident),+) => {
        $(
            #[test]
            fn $name() {
                let (store, _guard) = $fresh();
                if let Err(message) = $crate::conformance::$name(&*store) {
                    panic!("{}: {message}", stringify!($name));
                }
            }
        )+
    };
}

pub fn list_changes_are_queued_once_and_attempts_recorded(store: &dyn Store) -> Check {
    use crate::outbox::{Attempt, DeliveryStatus, NewSubscription};
    install_default(store)?;
    let lists = vec!["admin_penalty".to_owned()];
    ensure!(store.pump_list_changes(&lists, at(6)).map_err(err)? == 0, "nothing without subscriptions");
    let sub = NewSubscription {
        unit: "sh_housing".into(),
        url: "http://127.0.0.1:9/hook".into(),
        secret: "k".into(),
        lists: lists.clone(),
        at: at(5),
    };
    let sub = store.subscribe(&sub).map_err(err)?;
    ensure!(store.subscriptions(Some("sh_housing")).map_err(err)?.len() == 1, "subscribed");
    ensure!(store.subscriptions(Some("sh_tax")).map_err(err)?.is_empty(), "by unit");
    load(store, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a"), draft(3, "k2", Some(company(2)), "b")])?;
    ensure!(store.pump_list_changes(&lists, at(6)).map_err(err)? == 1, "one delivery for the batch");
    ensure!(store.pump_list_changes(&lists, at(6)).map_err(err)? == 0, "a change is queued once");
    let due = store.due_deliveries(at(6), 10).map_err(err)?;
    ensure!(due.len() == 1 && due[0].1 == "k" && due[0].0.subscription == sub.id, "due with its secret: {due:?}");
    let d = &due[0].0;
    ensure!(
        d.payload["entries"].as_array().map(Vec::len) == Some(2) && d.change == "batch:b-1",
        "payload: {}",
        d.payload
    );
    store.record_attempt(d.id, &Attempt::Retry { error: "503".into(), at: at(8) }, at(6)).map_err(err)?;
    ensure!(store.due_deliveries(at(7), 10).map_err(err)?.is_empty(), "not due before its retry time");
    ensure!(store.due_deliveries(at(8), 10).map_err(err)?.len() == 1, "due at its retry time");
    store.record_attempt(d.id, &Attempt::Delivered, at(8)).map_err(err)?;
    let all = store.deliveries(Some("sh_housing"), None, 10).map_err(err)?;
    ensure!(all.len() == 1 && all[0].status == DeliveryStatus::Delivered && all[0].attempts == 2, "{all:?}");
    let again = store.record_attempt(d.id, &Attempt::Delivered, at(9));
    ensure!(matches!(again, Err(crate::StoreError::Conflict(_))), "a delivered delivery takes no more attempts");
    ensure!(store.deliveries(None, Some(DeliveryStatus::Pending), 10).map_err(err)?.is_empty(), "status filter");
    Ok(())
}

pub use joint_checks::{checks_take_feedback_once_and_count_in_the_loop, identifiers_resolve_in_bulk_in_input_order};

mod joint_checks {
    use super::*;
    use crate::joint::{Feedback, NewCheck};

    pub fn checks_take_feedback_once_and_count_in_the_loop(store: &dyn Store) -> Check {
        install_default(store)?;
        load(store, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a")])?;
        let sid = store.find_subject(&SubjectKey::Identifier(company(1).id)).map_err(err)?.ok_or("subject")?.id;
        let new = |measures| NewCheck {
            subject_id: sid,
            scenario: "procurement".into(),
            unit: "sh_finance".into(),
            account: 3,
            at: at(7),
            result: serde_json::json!({"measures": []}),
            measures,
        };
        let first = store.record_check(&new(2)).map_err(err)?;
        store.record_check(&new(0)).map_err(err)?;
        ensure!(first.feedback.is_none() && first.measures == 2 && first.scenario == "procurement", "{first:?}");
        let fb = Feedback {
            outcome: "applied".into(),
            applied: vec!["m-1".into()],
            note: Some("已限制".into()),
            account: 3,
            at: at(8),
        };
        let closed = store.give_feedback(first.id, &fb).map_err(err)?;
        ensure!(closed.feedback.as_ref() == Some(&fb), "feedback kept: {closed:?}");
        let again = store.give_feedback(first.id, &fb);
        ensure!(matches!(again, Err(crate::StoreError::Conflict(_))), "feedback twice: {again:?}");
        ensure!(matches!(store.give_feedback(999, &fb), Err(crate::StoreError::NotFound(_))), "unknown check");
        let stats = store.loop_stats().map_err(err)?;
        ensure!(stats.len() == 1 && stats[0].checks == 2 && stats[0].hits == 1 && stats[0].feedback == 1, "{stats:?}");
        ensure!(stats[0].month == "2026-05" && stats[0].unit == "sh_finance", "{stats:?}");
        Ok(())
    }

    pub fn identifiers_resolve_in_bulk_in_input_order(store: &dyn Store) -> Check {
        install_default(store)?;
        let p = person(7, "王五");
        load(store, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a"), draft(3, "k2", Some(p.clone()), "b")])?;
        let unknown = company(99).id;
        let ids = vec![p.id.clone(), unknown, company(1).id, company(1).id];
        let found = store.subjects_by_identifiers(&ids).map_err(err)?;
        ensure!(found.len() == 4 && found[1].is_none(), "order and gaps: {found:?}");
        ensure!(found[0].as_ref().is_some_and(|s| s.name == "王五"), "a resident ID by keyed hash: {found:?}");
        ensure!(found[2] == found[3] && found[2].is_some(), "repeats resolve alike");
        let sid = found[2].as_ref().map(|s| s.id).unwrap_or_default();
        let records = store.records_of_items(&[sid], &["admin_penalty".to_owned()]).map_err(err)?;
        ensure!(records.len() == 1 && records[0].subject_id == Some(sid), "records of items: {records:?}");
        ensure!(store.records_of_items(&[sid], &["admin_license".to_owned()]).map_err(err)?.is_empty(), "item filter");
        Ok(())
    }
}

pub use workflow_checks::{
    a_case_steps_atomically_with_history_effects_and_notices, cases_filter_by_status_unit_and_deadline,
    loaded_calendar_years_round_trip, one_open_objection_per_record_and_stale_steps_conflict,
};

mod workflow_checks {
    use xinyong_domain::record::RecordStatus;

    use super::*;
    use crate::workflow::{CaseFilter, CaseKind, CaseStep, NewCase, NewEvent, Notice, Recipient, RecordEffect};

    fn event(action: &str, note: Option<&str>) -> NewEvent {
        NewEvent {
            actor: 1,
            actor_name: "admin".into(),
            action: action.into(),
            note: note.map(str::to_owned),
            late: false,
        }
    }

    /// One penalty record on file; its id and subject.
    fn one_record(store: &dyn Store) -> Result<(i64, i64), String> {
        install_default(store)?;
        load(store, "b-1", 6, &[draft(2, "沪罚〔2026〕9号", Some(company(9)), "罚款1万元")])?;
        let subject = store
            .find_subject(&SubjectKey::Identifier(company(9).id))
            .map_err(err)?
            .ok_or("subject of the loaded row")?;
        let records = store.records_of(subject.id).map_err(err)?;
        let record = records.first().ok_or("the loaded record")?;
        Ok((record.id, subject.id))
    }

    fn objection(record: i64, subject: i64) -> NewCase {
        NewCase {
            kind: CaseKind::Objection,
            record_id: record,
            subject_id: Some(subject),
            unit: "sh_amr".into(),
            status: "submitted".into(),
            deadline: Some(date(2026, 5, 7)),
            deadline_provisional: false,
            open: true,
            data: serde_json::json!({"reason": "金额有误"}),
            at: at(6),
            event: event("file", None),
            effect: RecordEffect::None,
            notices: vec![Notice { to: Recipient::Centre, title: "新异议".into(), body: "记录有异议".into() }],
        }
    }

    fn step(case: i64, from: &str, to: &str, open: bool, effect: RecordEffect) -> CaseStep {
        CaseStep {
            case_id: case,
            from: from.into(),
            to: to.into(),
            deadline: open.then(|| date(2026, 5, 13)),
            deadline_provisional: false,
            open,
            data: serde_json::Map::from_iter([("outcome".to_owned(), serde_json::json!(to))]),
            at: at(7),
            event: event(to, Some("依据")),
            effect,
            notices: vec![Notice { to: Recipient::Unit("sh_amr".into()), title: to.into(), body: String::new() }],
        }
    }

    pub fn a_case_steps_atomically_with_history_effects_and_notices(store: &dyn Store) -> Check {
        let (record, subject) = one_record(store)?;
        let case = store.open_case(&objection(record, subject)).map_err(err)?;
        ensure!(case.open && case.status == "submitted" && case.history.len() == 1, "opened: {case:?}");
        ensure!(
            store.records_with_open_case(CaseKind::Objection, &[record, 999]).map_err(err)? == vec![record],
            "disputed"
        );

        let corrected = PreparedRecord::new(draft(2, "沪罚〔2026〕9号", Some(company(9)), "罚款5千元"), store.vault())
            .map_err(err)?;
        let revise = RecordEffect::Revise {
            fields_json: corrected.fields_json.clone(),
            secret: corrected.secret.clone(),
            content_hash: corrected.content_hash.clone(),
        };
        let done = store.advance_case(&step(case.id, "submitted", "decided", false, revise)).map_err(err)?;
        ensure!(!done.open && done.deadline.is_none() && done.history.len() == 2, "decided: {done:?}");
        ensure!(
            done.history[1].from.as_deref() == Some("submitted") && done.history[1].note.as_deref() == Some("依据"),
            "event"
        );
        ensure!(done.data["reason"] == "金额有误" && done.data["outcome"] == "decided", "data merged: {}", done.data);
        ensure!(store.records_with_open_case(CaseKind::Objection, &[record]).map_err(err)?.is_empty(), "mark cleared");

        let r = store.record(record).map_err(err)?.ok_or("record")?;
        ensure!(
            r.version == 2 && r.fields.get("penalty_content").map(String::as_str) == Some("罚款5千元"),
            "revised: {r:?}"
        );
        ensure!(r.batch == format!("case:{}", case.id), "the version names its case: {}", r.batch);
        let old = store.record_history(record).map_err(err)?;
        ensure!(
            old.len() == 1 && old[0].fields.get("penalty_content").map(String::as_str) == Some("罚款1万元"),
            "history"
        );

        let repair = NewCase { kind: CaseKind::Repair, ..objection(record, subject) };
        let repair = store.open_case(&repair).map_err(err)?;
        store
            .advance_case(&step(
                repair.id,
                "submitted",
                "approved",
                false,
                RecordEffect::Status(RecordStatus::Repaired),
            ))
            .map_err(err)?;
        let r = store.record(record).map_err(err)?.ok_or("record")?;
        ensure!(r.status == RecordStatus::Repaired, "repaired: {:?}", r.status);

        let centre = store.inbox(&[Recipient::Centre], 10, 0).map_err(err)?;
        let unit = store.inbox(&[Recipient::Unit("sh_amr".into()), Recipient::Subject(subject)], 10, 0).map_err(err)?;
        ensure!(centre.len() == 2 && unit.len() == 2, "notices: centre {centre:?} unit {unit:?}");
        ensure!(unit[0].case_id == repair.id, "newest first");
        Ok(())
    }

    pub fn one_open_objection_per_record_and_stale_steps_conflict(store: &dyn Store) -> Check {
        let (record, subject) = one_record(store)?;
        let first = store.open_case(&objection(record, subject)).map_err(err)?;
        let again = store.open_case(&objection(record, subject));
        ensure!(matches!(again, Err(crate::StoreError::Conflict(_))), "a second open objection: {again:?}");
        let stale = store.advance_case(&step(first.id, "accepted", "forwarded", true, RecordEffect::None));
        ensure!(matches!(stale, Err(crate::StoreError::Conflict(_))), "a step from the wrong status: {stale:?}");
        let unchanged = store.case(first.id).map_err(err)?.ok_or("case")?;
        ensure!(unchanged.status == "submitted" && unchanged.history.len() == 1, "nothing applied: {unchanged:?}");
        // A failing effect rolls the whole step back.
        let mut bad = objection(record, subject);
        bad.kind = CaseKind::Revocation;
        bad.record_id = 424_242;
        ensure!(store.open_case(&bad).is_err(), "a case on a missing record");
        store.advance_case(&step(first.id, "submitted", "rejected", false, RecordEffect::None)).map_err(err)?;
        store.open_case(&objection(record, subject)).map_err(err)?;
        Ok(())
    }

    pub fn cases_filter_by_status_unit_and_deadline(store: &dyn Store) -> Check {
        let (record, subject) = one_record(store)?;
        let a = store.open_case(&objection(record, subject)).map_err(err)?;
        let mut late = NewCase { kind: CaseKind::Repair, ..objection(record, subject) };
        late.deadline = Some(date(2026, 5, 1));
        store.open_case(&late).map_err(err)?;
        let all = store.cases(&CaseFilter { limit: 10, ..CaseFilter::default() }).map_err(err)?;
        ensure!(all.1 == 2 && all.0.len() == 2 && all.0[1].id == a.id, "all, newest first: {:?}", all.1);
        let overdue = CaseFilter { overdue_on: Some(date(2026, 5, 7)), limit: 10, ..CaseFilter::default() };
        let (cases, n) = store.cases(&overdue).map_err(err)?;
        ensure!(n == 1 && cases[0].kind == CaseKind::Repair, "overdue on the 7th: {n}");
        let counts = store.overdue_counts(date(2026, 5, 8)).map_err(err)?;
        ensure!(counts == vec![(CaseKind::Objection, 1), (CaseKind::Repair, 1)], "counts on the 8th: {counts:?}");
        let other_unit = CaseFilter { unit: Some("sh_tax".into()), limit: 10, ..CaseFilter::default() };
        ensure!(store.cases(&other_unit).map_err(err)?.1 == 0, "unit filter");
        let objections = CaseFilter {
            kind: Some(CaseKind::Objection),
            status: Some("submitted".into()),
            limit: 1,
            ..CaseFilter::default()
        };
        ensure!(store.cases(&objections).map_err(err)?.1 == 1, "kind and status filter");
        Ok(())
    }

    pub fn loaded_calendar_years_round_trip(store: &dyn Store) -> Check {
        ensure!(store.calendar_years().map_err(err)?.is_empty(), "none loaded at first");
        store.put_calendar_year(2028, "{\"year\":2028}", at(1)).map_err(err)?;
        store.put_calendar_year(2027, "{\"year\":2027}", at(1)).map_err(err)?;
        store.put_calendar_year(2028, "{\"year\":2028,\"v\":2}", at(2)).map_err(err)?;
        let years = store.calendar_years().map_err(err)?;
        ensure!(years == vec!["{\"year\":2027}".to_owned(), "{\"year\":2028,\"v\":2}".to_owned()], "{years:?}");
        Ok(())
    }
}
mod search_checks;
pub use search_checks::*;
mod evaluation_checks;
pub use evaluation_checks::*;

// ---------------------------------------------------------------------------------------------------
// Audit trail (DOMAIN.md §9). Kept together at the end of the file; their names close the list of
// `run_conformance!`.

pub use audit_checks::{
    audit_checkpoints_round_trip_and_verify, audit_entries_chain_from_genesis_and_verify,
    audit_of_a_subject_comes_back_newest_first,
};

mod audit_checks {
    use ed25519_dalek::{Signer, SigningKey};
    use xinyong_domain::access::{Channel, Purpose, Role};

    use super::{Check, at, err};
    use crate::Store;
    use crate::audit::{AuditCheckpoint, AuditEntry, AuditRecord, GENESIS_HASH, chain_hash, checkpoint_message};
    use crate::audit_verify::verify_audit;
    use crate::keyring::KeyInfo;

    /// An entry about `subject`; every third one leaves the optional fields empty, and the time has
    /// nanoseconds and a foreign offset: backends must give back exactly what the hash covered.
    fn entry(n: u32, subject: Option<i64>) -> AuditEntry {
        let full = !n.is_multiple_of(3);
        let text = format!("2026-05-06T10:00:{:02}.123456789+01:00", n % 60);
        AuditEntry {
            at: chrono::DateTime::parse_from_rfc3339(&text).unwrap_or_default(),
            account_id: full.then_some(i64::from(n)),
            account_name: format!("用户{n}"),
            unit: full.then(|| "sh_amr".to_owned()),
            role: if full { Role::Department } else { Role::Public },
            action: "profile".to_owned(),
            subject_id: subject,
            purpose: full.then_some(Purpose::SelfQuery),
            channel: if full { Channel::Api } else { Channel::Web },
            outcome: if full { "allowed" } else { "denied" }.to_owned(),
            detail: format!("查询 {n}: \"quoted\" \\ detail"),
            request_id: full.then(|| format!("req-{n}")),
        }
    }

    fn seqs(records: &[AuditRecord]) -> Vec<i64> {
        records.iter().map(|r| r.seq).collect()
    }

    pub fn audit_entries_chain_from_genesis_and_verify(store: &dyn Store) -> Check {
        ensure!(store.append_audit(&[]).map_err(err)?.is_empty(), "appending nothing stores nothing");
        let first_entries: Vec<AuditEntry> = (1..=3).map(|n| entry(n, Some(7))).collect();
        let first = store.append_audit(&first_entries).map_err(err)?;
        let second = store.append_audit(&[entry(4, None), entry(5, Some(8))]).map_err(err)?;
        ensure!(seqs(&first) == [1, 2, 3] && seqs(&second) == [4, 5], "seqs {:?} {:?}", seqs(&first), seqs(&second));
        let all: Vec<AuditRecord> = first.iter().chain(&second).cloned().collect();
        let mut prev = GENESIS_HASH.to_vec();
        for r in &all {
            ensure!(r.prev_hash == prev, "entry {} links to its predecessor (the first to genesis)", r.seq);
            ensure!(r.hash == chain_hash(&prev, r.seq, &r.entry), "entry {} carries its chain hash", r.seq);
            prev = r.hash.clone();
        }
        ensure!(first.iter().map(|r| &r.entry).eq(first_entries.iter()), "entries come back as given");

        let stored = store.audit_after(0, 100).map_err(err)?;
        ensure!(stored == all, "stored entries read back exactly: {stored:?}");
        let page = store.audit_after(2, 2).map_err(err)?;
        ensure!(seqs(&page) == [3, 4], "audit_after(2, 2): {:?}", seqs(&page));
        ensure!(store.audit_after(5, 10).map_err(err)?.is_empty(), "nothing after the head");

        let v = verify_audit(store, &[]).map_err(err)?;
        ensure!(v.is_intact(), "an untouched trail verifies: {:?}", v.problems);
        ensure!(v.entries == 5 && v.head_seq == 5, "verification counts: {v:?}");
        ensure!(v.head_hash == hex::encode(&prev), "head hash {}", v.head_hash);
        Ok(())
    }

    pub fn audit_of_a_subject_comes_back_newest_first(store: &dyn Store) -> Check {
        let subjects = [Some(7), Some(8), Some(7), None, Some(7)];
        let entries: Vec<AuditEntry> = subjects.iter().zip(1..).map(|(s, n)| entry(n, *s)).collect();
        store.append_audit(&entries[..2]).map_err(err)?;
        store.append_audit(&entries[2..]).map_err(err)?;
        let of7 = store.audit_of_subject(7, 10, 0).map_err(err)?;
        ensure!(seqs(&of7) == [5, 3, 1], "subject 7, newest first: {:?}", seqs(&of7));
        ensure!(of7.iter().all(|r| r.entry.subject_id == Some(7)), "only subject 7");
        let paged = store.audit_of_subject(7, 1, 1).map_err(err)?;
        ensure!(seqs(&paged) == [3], "limit 1 offset 1: {:?}", seqs(&paged));
        ensure!(seqs(&store.audit_of_subject(8, 10, 0).map_err(err)?) == [2], "subject 8");
        ensure!(store.audit_of_subject(99, 10, 0).map_err(err)?.is_empty(), "a subject never queried");
        Ok(())
    }

    pub fn audit_checkpoints_round_trip_and_verify(store: &dyn Store) -> Check {
        let secret = SigningKey::from_bytes(&[9u8; 32]);
        let key = KeyInfo {
            key_id: "conformance".to_owned(),
            public_key: secret.verifying_key().to_bytes(),
            valid_from: at(1),
            valid_until: None,
            retired: false,
        };
        let records = store.append_audit(&[entry(1, Some(7)), entry(2, None), entry(3, Some(7))]).map_err(err)?;
        let checkpoint = |seq: i64, hash: &[u8], day: u32| AuditCheckpoint {
            seq,
            hash: hash.to_vec(),
            at: at(day),
            key_id: key.key_id.clone(),
            signature: secret.sign(&checkpoint_message(seq, hash)).to_bytes().to_vec(),
        };
        ensure!(store.checkpoints().map_err(err)?.is_empty(), "a fresh store has no checkpoints");
        let [r1, r2, r3] = records.as_slice() else { return Err(format!("three records: {records:?}")) };
        let added = vec![checkpoint(r2.seq, &r2.hash, 2), checkpoint(r3.seq, &r3.hash, 3)];
        for cp in &added {
            store.add_checkpoint(cp).map_err(err)?;
        }
        let stored = store.checkpoints().map_err(err)?;
        ensure!(stored == added, "checkpoints read back as added, in order: {stored:?}");
        let v = verify_audit(store, std::slice::from_ref(&key)).map_err(err)?;
        ensure!(v.is_intact() && v.checkpoints == 2 && v.entries == 3, "signed checkpoints verify: {v:?}");

        // A validly signed checkpoint whose hash is not the chain's at its seq is reported.
        store.add_checkpoint(&checkpoint(r2.seq, &r1.hash, 4)).map_err(err)?;
        let v = verify_audit(store, std::slice::from_ref(&key)).map_err(err)?;
        ensure!(
            v.problems.len() == 1 && v.problems[0].starts_with("checkpoint at seq 2:"),
            "a checkpoint off the chain is reported: {:?}",
            v.problems
        );
        Ok(())
    }
}

pub fn passwords_lockout_and_sessions_round_trip(store: &dyn Store) -> Check {
    use crate::access::{NewAccount, token_hash};
    use crate::session::NewSession;
    install_default(store)?;
    let new = NewAccount {
        name: "clerk".into(),
        unit: Some("sh_housing".into()),
        role: xinyong_domain::access::Role::Supplier,
        subject_id: None,
        token_hash: token_hash("t"),
        created_at: at(1),
    };
    let account = store.create_account(&new).map_err(err)?;
    ensure!(store.credentials("nobody").map_err(err)?.is_none(), "unknown name");
    let fresh = store.credentials("clerk").map_err(err)?.ok_or("known name")?;
    ensure!(fresh.password_hash.is_none() && fresh.failed_logins == 0 && fresh.locked_until.is_none(), "{fresh:?}");
    ensure!(fresh.account == account, "the account comes along");

    ensure!(store.login_failed(account.id, None).map_err(err)? == 1, "first failure");
    ensure!(store.login_failed(account.id, None).map_err(err)? == 2, "second failure");
    ensure!(store.login_failed(account.id, Some(at(2))).map_err(err)? == 0, "a lock restarts the count");
    let locked = store.credentials("clerk").map_err(err)?.ok_or("known")?;
    ensure!(locked.locked_until == Some(at(2)) && locked.failed_logins == 0, "locked: {locked:?}");
    store.login_succeeded(account.id).map_err(err)?;
    ensure!(store.credentials("clerk").map_err(err)?.ok_or("known")?.locked_until.is_none(), "lock cleared");

    let session = |hash: &str, day: u32| NewSession {
        token_hash: token_hash(hash),
        account_id: account.id,
        csrf: format!("csrf-{hash}"),
        at: at(day),
    };
    store.create_session(&session("s1", 3)).map_err(err)?;
    store.create_session(&session("s2", 4)).map_err(err)?;
    let s1 = store.session(&token_hash("s1")).map_err(err)?.ok_or("session s1")?;
    ensure!(s1.account_id == account.id && s1.csrf == "csrf-s1" && s1.created_at == at(3), "{s1:?}");
    ensure!(s1.last_seen_at == at(3), "last seen at creation");
    store.touch_session(&token_hash("s1"), at(5)).map_err(err)?;
    ensure!(store.session(&token_hash("s1")).map_err(err)?.ok_or("s1")?.last_seen_at == at(5), "touched");
    ensure!(store.session(&token_hash("nope")).map_err(err)?.is_none(), "unknown session");

    // s2 idles since day 4: purged by the idle rule; s1 (seen day 5) stays.
    ensure!(store.purge_sessions(at(5), at(1)).map_err(err)? == 1, "one idle session purged");
    ensure!(store.session(&token_hash("s2")).map_err(err)?.is_none(), "s2 gone");
    ensure!(store.purge_sessions(at(1), at(4)).map_err(err)? == 1, "absolute rule purges s1 (created day 3)");
    store.create_session(&session("s3", 6)).map_err(err)?;
    store.end_session(&token_hash("s3")).map_err(err)?;
    ensure!(store.session(&token_hash("s3")).map_err(err)?.is_none(), "signed out");

    store.create_session(&session("s4", 6)).map_err(err)?;
    store.login_failed(account.id, None).map_err(err)?;
    store.set_password(account.id, "$argon2id$v=19$fake", at(7)).map_err(err)?;
    let set = store.credentials("clerk").map_err(err)?.ok_or("known")?;
    ensure!(set.password_hash.as_deref() == Some("$argon2id$v=19$fake") && set.failed_logins == 0, "{set:?}");
    ensure!(store.session(&token_hash("s4")).map_err(err)?.is_none(), "a new password ends every session");
    ensure!(store.set_password(9999, "x", at(7)).is_err(), "unknown account");
    Ok(())
}

/// The sign-in throttle's counts (several servers share them through the store).
pub fn sign_in_failures_are_counted_per_address_and_forgotten_out_of_the_window(store: &dyn Store) -> Check {
    install_default(store)?;
    let t = |minute: i64| at(1) + chrono::Duration::minutes(minute);
    let (spray, network, other) = ("198.51.100.7", "2001:db8:1:2::/64", "203.0.113.1");
    for minute in 0..4 {
        store.address_failed(spray, t(minute), t(minute - 15)).map_err(err)?;
    }
    store.address_failed(network, t(2), t(-13)).map_err(err)?;
    let failures = |address: &str, since: DateTime<FixedOffset>, max: u32| {
        store.address_failures(address, since, max).map_err(err)
    };
    ensure!(failures(spray, t(-15), 3)? == [t(1), t(2), t(3)], "the newest three, oldest first");
    ensure!(failures(spray, t(1), 10)? == [t(2), t(3)], "only those after `since`");
    ensure!(failures(network, t(-15), 10)? == [t(2)], "each address counts its own");
    ensure!(failures(other, t(-15), 10)?.is_empty(), "an address with no failure");
    // Any failure forgets every address's failures out of the window.
    store.address_failed(other, t(20), t(2)).map_err(err)?;
    ensure!(failures(spray, t(-100), 10)? == [t(3)], "forgotten up to and including 10:02");
    ensure!(failures(network, t(-100), 10)?.is_empty(), "of every address");
    ensure!(failures(other, t(-100), 10)? == [t(20)], "the new one is kept");
    Ok(())
}

pub fn reports_are_kept_found_by_number_and_free_ones_limited(store: &dyn Store) -> Check {
    use crate::reports::{FreeQuota, NewReport, Saved};
    install_default(store)?;
    let someone = person(7, "李四");
    load(store, "b1", 2, &[draft(2, "沪罚〔2026〕71号", Some(someone.clone()), "警告")])?;
    let subject = store.find_subject(&SubjectKey::Identifier(someone.id.clone())).map_err(err)?.ok_or("subject")?;
    let new = |number: &str, day: u32, free: bool| NewReport {
        number: number.to_owned(),
        subject_id: subject.id,
        kind: "standard".to_owned(),
        issued_at: at(day),
        account_id: Some(3),
        issued_to: "李四（本人查询）".to_owned(),
        purpose: "self".to_owned(),
        free,
        body: format!("{{\"number\":\"{number}\",\"name\":\"李四\"}}"),
    };
    let quota = Some(FreeQuota { limit: 2, since: at(3) });
    // One free report before the quota's period does not count.
    let Saved::Stored(old) = store.save_report(&new("R0", 2, true), quota).map_err(err)? else {
        return Err("the first report is stored".into());
    };
    ensure!(old.number == "R0" && old.free && old.issued_at == at(2), "{old:?}");
    for (n, day) in [("R1", 3), ("R2", 4)] {
        ensure!(matches!(store.save_report(&new(n, day, true), quota).map_err(err)?, Saved::Stored(_)), "{n} stored");
    }
    ensure!(store.free_reports_since(subject.id, at(3)).map_err(err)? == 2, "two free reports in the period");
    ensure!(
        store.save_report(&new("R3", 5, true), quota).map_err(err)? == Saved::QuotaUsed { used: 2 },
        "a third free report in the period is refused"
    );
    ensure!(store.report_by_number("R3").map_err(err)?.is_none(), "a refused report is not stored");
    let Saved::Stored(paid) = store.save_report(&new("R4", 5, false), None).map_err(err)? else {
        return Err("an admin's report is stored".into());
    };
    ensure!(store.free_reports_since(subject.id, at(3)).map_err(err)? == 2, "not counted as free");
    ensure!(store.save_report(&new("R4", 6, false), None).is_err(), "a number is issued once");

    let found = store.report(paid.id).map_err(err)?.ok_or("by id")?;
    ensure!(found == paid, "round trip: {found:?}");
    ensure!(found.body.contains("李四") && found.account_id == Some(3) && !found.free, "{found:?}");
    ensure!(store.report_by_number("R4").map_err(err)?.map(|r| r.id) == Some(paid.id), "by number");
    ensure!(store.report(paid.id + 1000).map_err(err)?.is_none(), "unknown id");
    Ok(())
}

pub fn activity_counts_purpose_bound_queries_and_cases(store: &dyn Store) -> Check {
    use crate::audit::AuditEntry;
    use xinyong_domain::access::{Channel, Purpose, Role};
    install_default(store)?;
    let entry = |day: u32, purpose: Option<Purpose>, channel: Channel| AuditEntry {
        at: at(day),
        account_id: Some(1),
        account_name: "dept".into(),
        unit: Some("sh_housing".into()),
        role: Role::Department,
        action: "profile".into(),
        subject_id: Some(1),
        purpose,
        channel,
        outcome: "allowed".into(),
        detail: String::new(),
        request_id: None,
    };
    let empty = store.activity_stats().map_err(err)?;
    ensure!(empty.queries_by_channel.is_empty() && empty.cases.is_empty(), "nothing yet: {empty:?}");
    store
        .append_audit(&[
            entry(2, Some(Purpose::Supervision), Channel::Api),
            entry(3, Some(Purpose::Supervision), Channel::Web),
            entry(4, Some(Purpose::Approval), Channel::Web),
            entry(5, None, Channel::Api),
        ])
        .map_err(err)?;
    let stats = store.activity_stats().map_err(err)?;
    ensure!(
        stats.queries_by_channel == [("web".to_owned(), 2), ("api".to_owned(), 1)],
        "by channel, entries without a purpose left out: {:?}",
        stats.queries_by_channel
    );
    ensure!(stats.queries_by_purpose[0] == ("supervision".to_owned(), 2), "by purpose: {:?}", stats.queries_by_purpose);
    ensure!(stats.queries_by_month == [("2026-05".to_owned(), 3)], "by month: {:?}", stats.queries_by_month);
    Ok(())
}

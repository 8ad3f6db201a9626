//! The ingest path's first-load shortcut (src/fresh_keys.rs): while an item has no records, keys
//! are looked up only if the batch wrote them before, across `write` calls too.

use xinyong_domain::record::UpsertOutcome;
use xinyong_store::conformance::{company, draft, install_default, prepare};
use xinyong_store::{BatchMeta, BatchReport, BatchStatus, BatchStore};

use super::fresh_store;

#[test]
fn a_first_load_sees_a_key_it_wrote_in_an_earlier_write() {
    let (store, _guard) = fresh_store();
    install_default(&store).unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-05-06T10:00:00+08:00").unwrap();
    let meta = BatchMeta {
        id: "b-1".into(),
        unit: "sh_amr".into(),
        item: "admin_penalty".into(),
        item_version: 1,
        file_name: None,
        all_or_nothing: false,
        started_at: at,
    };
    let mut w = store.begin_batch(meta).unwrap();
    let first = w.write(&prepare(&store, &[draft(1, "k-1", Some(company(1)), "a")]).unwrap()).unwrap();
    let second = w
        .write(
            &prepare(&store, &[draft(2, "k-2", Some(company(1)), "b"), draft(3, "k-1", Some(company(1)), "c")])
                .unwrap(),
        )
        .unwrap();
    let outcomes: Vec<UpsertOutcome> = first.iter().chain(&second).map(|o| o.outcome).collect();
    assert_eq!(outcomes, [UpsertOutcome::Created, UpsertOutcome::Created, UpsertOutcome::Updated]);
    w.commit(&BatchReport {
        batch: "b-1".into(),
        unit: "sh_amr".into(),
        item: "admin_penalty".into(),
        item_version: 1,
        status: BatchStatus::Committed,
        format: "csv".into(),
        encoding: "utf-8".into(),
        file_name: None,
        rows: 3,
        accepted: 3,
        rejected: 0,
        created: 2,
        updated: 1,
        unchanged: 0,
        linked: 3,
        errors: Vec::new(),
        warnings: Vec::new(),
        started_at: at,
        finished_at: at,
    })
    .unwrap();
}

/// Batches remember subjects from one to the next; a second store on the same database is another
/// process.
#[test]
fn a_rename_committed_by_another_process_is_seen_by_the_next_batch() {
    let (ours, guard) = fresh_store();
    let other = xinyong_store_pg::PgStore::open(guard.db.url(), &guard.data()).unwrap();
    xinyong_store::conformance::a_rename_committed_by_another_process_is_seen_by_the_next_batch(&ours, &other).unwrap();
}

/// Rows written before field keys were stored as codes read as coded ones (the check rewrites one row).
#[test]
fn rows_stored_with_full_field_keys_read_as_coded_ones() {
    let (store, guard) = fresh_store();
    let rewrite = |full: &str| {
        let mut client = postgres::Client::connect(guard.db.url(), postgres::NoTls).unwrap();
        let which = "item = 'legal_person_registration'";
        let stored: String =
            client.query_one(&format!("SELECT fields FROM xinyong.records WHERE {which}"), &[]).unwrap().get(0);
        client.execute(&format!("UPDATE xinyong.records SET fields = $1 WHERE {which}"), &[&full]).unwrap();
        stored
    };
    xinyong_store::conformance::rows_with_full_field_keys_read_as_coded_ones(&store, &rewrite).unwrap();
}

/// A platform made again in the same database counts its batches' commits from another start, so a
/// server still running with a cache stamped in the platform before cannot take it for its own.
#[test]
fn a_platform_made_again_counts_commits_from_another_start() {
    let (store, guard) = fresh_store();
    let start = || -> i64 {
        let mut client = postgres::Client::connect(guard.db.url(), postgres::NoTls).unwrap();
        client.query_one("SELECT last_value FROM xinyong.ingest_commits", &[]).unwrap().get(0)
    };
    let first = start();
    drop(store);
    xinyong_store_pg::PgStore::create(guard.db.url(), &guard.data(), true).unwrap();
    let again = start();
    assert_ne!(first, again, "both platforms start counting at {first}");
}

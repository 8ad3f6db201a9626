//! The ingest path's first-load shortcut (src/fresh_keys.rs): while an item has no records, keys
//! are looked up only if the batch wrote them before, across `write` calls too.

use xinyong_domain::record::UpsertOutcome;
use xinyong_store::conformance::{company, draft, install_default, prepare};
use xinyong_store::{BatchMeta, BatchReport, BatchStatus, BatchStore, RejectedCells, StoreError, SubjectStore};

use super::fresh_store;

fn at() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2026-05-06T10:00:00+08:00").unwrap()
}

fn meta(id: &str) -> BatchMeta {
    BatchMeta {
        id: id.into(),
        unit: "sh_amr".into(),
        item: "admin_penalty".into(),
        item_version: 1,
        file_name: None,
        all_or_nothing: false,
        started_at: at(),
    }
}

/// A committed batch's report: `counts` are created, updated and linked.
fn report(id: &str, rows: u64, counts: [u64; 3]) -> BatchReport {
    let [created, updated, linked] = counts;
    BatchReport {
        batch: id.into(),
        unit: "sh_amr".into(),
        item: "admin_penalty".into(),
        item_version: 1,
        status: BatchStatus::Committed,
        format: "csv".into(),
        encoding: "utf-8".into(),
        file_name: None,
        rows,
        accepted: rows,
        rejected: 0,
        created,
        updated,
        unchanged: 0,
        linked,
        errors: Vec::new(),
        warnings: Vec::new(),
        started_at: at(),
        finished_at: at(),
    }
}

#[test]
fn a_first_load_sees_a_key_it_wrote_in_an_earlier_write() {
    let (store, _guard) = fresh_store();
    install_default(&store).unwrap();
    let mut w = store.begin_batch(meta("b-1")).unwrap();
    let first = w.write(&prepare(&store, &[draft(1, "k-1", Some(company(1)), "a")]).unwrap()).unwrap();
    let second = w
        .write(
            &prepare(&store, &[draft(2, "k-2", Some(company(1)), "b"), draft(3, "k-1", Some(company(1)), "c")])
                .unwrap(),
        )
        .unwrap();
    let outcomes: Vec<UpsertOutcome> = first.iter().chain(&second).map(|o| o.outcome).collect();
    assert_eq!(outcomes, [UpsertOutcome::Created, UpsertOutcome::Created, UpsertOutcome::Updated]);
    w.commit(&report("b-1", 3, [2, 1, 3])).unwrap();
}

/// The batch's writes go ahead on the connection's own thread (src/conn_thread.rs): one that the
/// server refuses fails the batch with the server's reason, by that call or a later one and at the
/// latest by the commit; nothing of the batch remains, and the next batches run on the store (and on
/// its pooled connections) as if nothing had happened.
#[test]
fn a_write_refused_by_the_server_fails_its_batch_and_the_next_batch_goes_on() {
    let (store, _guard) = fresh_store();
    install_default(&store).unwrap();
    let cells = RejectedCells { headers: vec!["名称".into()], cells: vec!["x".into()], personal: vec![] };
    let rejected = cells.seal(4, store.vault()).unwrap();
    let mut w = store.begin_batch(meta("b-bad")).unwrap();
    w.write(&prepare(&store, &[draft(1, "k-1", Some(company(1)), "a")]).unwrap()).unwrap();
    w.record_rejected_rows(std::slice::from_ref(&rejected)).unwrap();
    // The same row again: refused by the server; this call or a later one says so.
    let refused = w
        .record_rejected_rows(std::slice::from_ref(&rejected))
        .and_then(|()| w.write(&prepare(&store, &[draft(2, "k-2", Some(company(2)), "b")]).unwrap()).map(|_| ()))
        .and_then(|()| w.commit(&report("b-bad", 2, [2, 0, 2])));
    match refused {
        Err(StoreError::Conflict(message)) => assert!(message.contains("rejected twice"), "{message}"),
        other => panic!("the batch must fail with the server's conflict: {other:?}"),
    }
    assert!(store.batch("b-bad").unwrap().is_none());
    assert_eq!(store.subject_count().unwrap(), 0, "nothing of the failed batch remains");

    for round in 0..3 {
        let id = format!("b-good-{round}");
        let mut w = store.begin_batch(meta(&id)).unwrap();
        let key = format!("k-{round}");
        let outcomes = w.write(&prepare(&store, &[draft(1, &key, Some(company(round + 1)), "a")]).unwrap()).unwrap();
        assert_eq!(outcomes.iter().map(|o| o.outcome).collect::<Vec<_>>(), [UpsertOutcome::Created]);
        w.commit(&report(&id, 1, [1, 0, 1])).unwrap();
    }
    assert_eq!(store.subject_count().unwrap(), 3);
}

/// A process keeps the ids it reserved ahead from one batch to the next (src/id_blocks.rs), but not
/// past another process's commit: the ids of batches committed later are still the larger ones.
#[test]
fn ids_kept_from_one_batch_to_the_next_grow_in_commit_order() {
    let (ours, guard) = fresh_store();
    install_default(&ours).unwrap();
    let other = xinyong_store_pg::PgStore::open(guard.db.url(), &guard.data()).unwrap();
    let mut n = 0u32;
    let mut batch = |store: &xinyong_store_pg::PgStore, b: &str, rows: u32| -> Vec<i64> {
        let mut w = store.begin_batch(meta(b)).unwrap();
        let drafts: Vec<_> = (0..rows)
            .map(|_| {
                n += 1;
                draft(u64::from(n), &format!("{b}-k-{n}"), Some(company(n)), "a")
            })
            .collect();
        let outcomes = w.write(&prepare(store, &drafts).unwrap()).unwrap();
        let rows = u64::from(rows);
        w.commit(&report(b, rows, [rows, 0, rows])).unwrap();
        outcomes.iter().map(|o| o.subject_id.unwrap()).collect()
    };
    let first = batch(&ours, "b-1", 3);
    let second = batch(&ours, "b-2", 1);
    assert_eq!(second, [first[2] + 1], "the block b-1 asked for ahead");
    let third = batch(&other, "b-3", 2);
    let fourth = batch(&ours, "b-4", 2);
    assert!(third.iter().all(|id| *id > second[0]), "{third:?} after {second:?}");
    assert!(fourth.iter().all(|id| third.iter().all(|t| id > t)), "{fourth:?} after another process's {third:?}");
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

/// Migration 13 numbers the items of a store made before it and keys the publication index by the
/// number (which migration 15, applied after it, makes partial and covering): every record gets its
/// item's number, the public list still finds them, the next batch of that item finds its records,
/// and a rolled-back batch of a new item leaves no number behind.
#[test]
fn records_stored_before_item_numbers_get_their_item_number() {
    use xinyong_store::conformance::load;
    use xinyong_store::search::{PublicationStore, PublishedQuery};
    let (store, guard) = fresh_store();
    install_default(&store).unwrap();
    load(&store, "b-1", 6, &[draft(1, "k-1", Some(company(1)), "a"), draft(2, "k-2", None, "b")]).unwrap();
    drop(store);
    let mut client = postgres::Client::connect(guard.db.url(), postgres::NoTls).unwrap();
    client
        .batch_execute(
            "SET search_path = xinyong;
             DROP INDEX records_item_date;
             ALTER TABLE records DROP COLUMN item_no;
             DROP TABLE item_numbers;
             CREATE INDEX records_item_date ON records (item, record_date);
             DELETE FROM schema_migrations WHERE version IN (13, 15);",
        )
        .unwrap();
    let store = xinyong_store_pg::PgStore::open(guard.db.url(), &guard.data()).unwrap();
    let index: String =
        client.query_one("SELECT indexdef FROM pg_indexes WHERE indexname = 'records_item_date'", &[]).unwrap().get(0);
    assert!(
        index.ends_with(
            "(item_no, record_date) INCLUDE (public_until, unit) WHERE ((status = 'active'::text) AND published)"
        ),
        "{index}"
    );
    let numbered: i64 = client
        .query_one(
            "SELECT count(*) FROM xinyong.records r JOIN xinyong.item_numbers n ON n.item = r.item AND n.no = r.item_no",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(numbered, 2);
    let query = PublishedQuery {
        items: vec!["admin_penalty".into()],
        today: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        unit: None,
        from: None,
        to: None,
        page: 1,
        per_page: 10,
    };
    let (records, total) = store.published_records(&query).unwrap();
    assert_eq!((total, records.len()), (2, 2));
    let again = load(&store, "b-2", 7, &[draft(1, "k-1", Some(company(1)), "a"), draft(3, "k-3", None, "c")]).unwrap();
    assert_eq!(again, [UpsertOutcome::Unchanged, UpsertOutcome::Created]);
    let mut other = meta("b-3");
    other.item = "admin_license".into();
    drop(store.begin_batch(other).unwrap());
    let numbers: Vec<(String, i32)> = client
        .query("SELECT item, no FROM xinyong.item_numbers ORDER BY no", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(numbers.len(), 1, "a rolled-back batch leaves no number: {numbers:?}");
    assert_eq!(numbers[0].0, "admin_penalty");
}

/// Subject and record ids are reserved in blocks, the next asked for ahead (src/id_blocks.rs): writes
/// of growing and shrinking size, across batches and after a rolled-back one, never give two subjects
/// or two records the same id, and every id lies within what the sequences handed out.
#[test]
fn ids_reserved_ahead_are_never_given_twice() {
    let (store, guard) = fresh_store();
    install_default(&store).unwrap();
    let mut n = 0u32;
    // Rows a write: first writes that use each block to its last id, then some larger than what is
    // left of the block.
    let sizes = [1u32, 1, 1, 1, 2, 4, 8, 5, 40, 3, 64, 7];
    for (b, rolled_back) in [("b-1", false), ("b-2", true), ("b-3", false)] {
        let mut w = store.begin_batch(meta(b)).unwrap();
        for size in sizes {
            let drafts: Vec<_> = (0..size)
                .map(|_| {
                    n += 1;
                    draft(u64::from(n), &format!("{b}-k-{n}"), Some(company(n)), "a")
                })
                .collect();
            let outcomes = w.write(&prepare(&store, &drafts).unwrap()).unwrap();
            assert!(outcomes.iter().all(|o| o.outcome == UpsertOutcome::Created));
        }
        if rolled_back {
            drop(w);
        } else {
            let rows = u64::from(sizes.iter().sum::<u32>());
            w.commit(&report(b, rows, [rows, 0, rows])).unwrap();
        }
    }
    let stored = u64::from(sizes.iter().sum::<u32>()) * 2;
    let mut client = postgres::Client::connect(guard.db.url(), postgres::NoTls).unwrap();
    for (table, sequence) in [("subjects", "subject_ids"), ("records", "record_ids")] {
        let row = client
            .query_one(
                &format!(
                    "SELECT count(*), count(DISTINCT id), max(id), (SELECT last_value FROM xinyong.{sequence})
                     FROM xinyong.{table}"
                ),
                &[],
            )
            .unwrap();
        let (count, distinct, max, last): (i64, i64, i64, i64) = (row.get(0), row.get(1), row.get(2), row.get(3));
        assert_eq!((count, distinct), (stored as i64, stored as i64), "{table}: every row, each id once");
        assert!(max <= last, "{table}: id {max} beyond the sequence's {last}");
    }
    assert_eq!(store.subject_count().unwrap(), stored);
}

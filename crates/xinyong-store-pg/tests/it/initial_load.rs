//! A first load leaves the indexes it fills in random order out and builds them at its end
//! (src/initial_load.rs): what the store answers meanwhile, who builds them, and the repair of a load
//! that stopped in between.

use xinyong_domain::record::UpsertOutcome;
use xinyong_store::BatchStore;
use xinyong_store::conformance::{
    company, company_by_org_code, draft, install_default, load, load_item, meta, prepare,
};
use xinyong_store::search::{SearchQuery, SearchStore};
use xinyong_store_pg::PgStore;

use super::{Fresh, fresh_store};

const LEFT_OUT: [&str; 7] = [
    "record_keys_pkey",
    "records_id",
    "records_item_date",
    "records_pkey",
    "subject_keys_pkey",
    "subject_keys_unique",
    "subjects_grams",
];

/// A fresh store with the default catalog, in its first load.
fn loading() -> (PgStore, Fresh) {
    let (store, guard) = fresh_store();
    install_default(&store).unwrap();
    assert!(store.begin_initial_load().unwrap());
    (store, guard)
}

/// A connection of its own to the test's database.
fn sql(guard: &Fresh) -> postgres::Client {
    postgres::Client::connect(guard.db.url(), postgres::NoTls).unwrap()
}

/// The store's indexes of `LEFT_OUT` with their definitions, by name.
fn indexes(guard: &Fresh) -> Vec<(String, String)> {
    let mut client = sql(guard);
    client
        .query(
            "SELECT indexname::text, indexdef FROM pg_indexes
             WHERE schemaname = 'xinyong' AND indexname = ANY($1) ORDER BY indexname",
            &[&LEFT_OUT.as_slice()],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn written_down(guard: &Fresh) -> i64 {
    let mut client = sql(guard);
    client.query_one("SELECT count(*) FROM xinyong.deferred_indexes", &[]).unwrap().get(0)
}

/// Waits until the server has given back the lock of a load whose store was dropped: it does so when
/// the load's backend has gone, a moment after its client.
fn until_the_load_lock_is_given_back(guard: &Fresh) {
    let mut client = sql(guard);
    for _ in 0..100 {
        let held: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                 WHERE l.locktype = 'advisory' AND d.datname = current_database()",
                &[],
            )
            .unwrap()
            .get(0);
        if held == 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Companies found by the name all test companies share, during the load and after it.
fn found_by_name(store: &PgStore) -> u64 {
    let query = SearchQuery { text: "上海测试".into(), include_natural_persons: false, page: 1, per_page: 10 };
    store.search_subjects(&query).unwrap().total
}

#[test]
fn a_first_load_builds_the_indexes_it_left_out_at_its_end() {
    let (store, guard) = fresh_store();
    install_default(&store).unwrap();
    let before = indexes(&guard);
    assert_eq!(before.len(), 7, "a new store has them: {before:?}");

    assert!(store.begin_initial_load().unwrap(), "an empty store leaves them out");
    assert!(indexes(&guard).is_empty());
    assert_eq!(written_down(&guard), 7);
    assert!(!store.begin_initial_load().unwrap(), "one first load at a time");
    load(&store, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a"), draft(3, "k2", Some(company(2)), "b")]).unwrap();
    assert_eq!(found_by_name(&store), 2, "names are found without their index");

    store.finish_initial_load().unwrap();
    assert_eq!(indexes(&guard), before, "built again as they were");
    assert_eq!(written_down(&guard), 0);
    let mut client = sql(&guard);
    let key: String = client
        .query_one(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'records_pkey' AND contype = 'p'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(key, "PRIMARY KEY (subject_id, id)");
    let key: String = client
        .query_one(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'record_keys_pkey' AND contype = 'p'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(key, "PRIMARY KEY (source_key, item)");
    let key: String = client
        .query_one(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'subject_keys_pkey' AND contype = 'p'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(key, "PRIMARY KEY (key, subject_id)");
    assert_eq!(found_by_name(&store), 2);
    assert!(!store.begin_initial_load().unwrap(), "a store with records leaves nothing out");
    assert_eq!(indexes(&guard), before);
}

#[test]
fn a_store_opened_during_a_first_load_leaves_the_indexes_to_it() {
    let (store, guard) = loading();
    let other = PgStore::open(guard.db.url(), &guard.data()).unwrap();
    assert!(indexes(&guard).is_empty(), "the other store built them under the load's feet");
    assert!(!other.begin_initial_load().unwrap(), "a second first load beside the first");
    other.finish_initial_load().unwrap();
    assert!(indexes(&guard).is_empty(), "the other store finished a load it did not begin");
    load(&other, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a")]).unwrap();
    store.finish_initial_load().unwrap();
    assert_eq!(indexes(&guard).len(), 7);
}

/// The indexes of `records` and those of the other tables are built at once, on two connections: builds
/// on `records` that wait for the table do not hold the others up.
#[test]
fn the_indexes_of_records_and_of_other_tables_are_built_at_once() {
    let (store, guard) = loading();
    load(&store, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a")]).unwrap();
    let mut holder = sql(&guard);
    let mut hold = holder.transaction().unwrap();
    hold.batch_execute("LOCK TABLE xinyong.records IN EXCLUSIVE MODE").unwrap();
    std::thread::scope(|scope| {
        let finishing = scope.spawn(|| store.finish_initial_load());
        let others = ["record_keys_pkey", "subject_keys_pkey", "subject_keys_unique", "subjects_grams"];
        let mut built = Vec::new();
        for _ in 0..200 {
            built = indexes(&guard).into_iter().map(|(name, _)| name).collect();
            if others.iter().all(|name| built.contains(&(*name).to_owned())) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(others.iter().all(|name| built.contains(&(*name).to_owned())), "held up: {built:?}");
        assert_eq!(built.len(), 4, "built through the lock: {built:?}");
        hold.rollback().unwrap();
        finishing.join().unwrap().unwrap();
    });
    assert_eq!(indexes(&guard).len(), 7);
    assert_eq!(written_down(&guard), 0);
}

/// A load whose connection went away (its process died) leaves its indexes to the next opening.
#[test]
fn a_first_load_that_stopped_is_repaired_when_the_store_opens() {
    let (store, guard) = fresh_store();
    install_default(&store).unwrap();
    let before = indexes(&guard);
    assert!(store.begin_initial_load().unwrap());
    load(&store, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a")]).unwrap();
    drop(store);
    until_the_load_lock_is_given_back(&guard);
    assert!(indexes(&guard).is_empty());
    let store = PgStore::open(guard.db.url(), &guard.data()).unwrap();
    assert_eq!(indexes(&guard), before, "built at the opening");
    assert_eq!(written_down(&guard), 0);
    assert_eq!(found_by_name(&store), 1);
}

/// An index that cannot be built at the opening does not keep the store from opening: the opening
/// logs it, leaves it written down for the next one, and builds the others.
#[test]
fn an_index_that_cannot_be_built_at_the_opening_is_left_for_the_next() {
    let (store, guard) = loading();
    drop(store);
    let mut client = sql(&guard);
    client
        .execute(
            "INSERT INTO xinyong.deferred_indexes (name, definition)
             VALUES ('broken', 'CREATE INDEX broken ON xinyong.no_such_table (x)')",
            &[],
        )
        .unwrap();
    until_the_load_lock_is_given_back(&guard);
    let opened = PgStore::open(guard.db.url(), &guard.data());
    assert!(opened.is_ok(), "{opened:?}");
    assert_eq!(indexes(&guard).len(), 7, "the others are built");
    let left: Vec<String> =
        client.query("SELECT name FROM xinyong.deferred_indexes", &[]).unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(left, ["broken"]);
}

/// Whether the index `name` is still left out (written down, and not in the catalog).
fn left_out(guard: &Fresh, name: &str) -> bool {
    let mut client = sql(guard);
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM xinyong.deferred_indexes WHERE name = $1),
                    EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = 'xinyong' AND indexname = $1)",
            &[&name],
        )
        .unwrap();
    let (written, built): (bool, bool) = (row.get(0), row.get(1));
    assert_ne!(written, built, "{name} written down exactly when not built");
    written
}

const KEYS: &str = "record_keys_pkey";
const IDS: &str = "records_id";

fn stored_keys(guard: &Fresh) -> Vec<(String, String)> {
    let mut client = sql(guard);
    client
        .query("SELECT item, source_key FROM xinyong.record_keys ORDER BY item, source_key", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// The load knows the keys its batches wrote: a later batch of the same item with new keys only asks
/// the server nothing and leaves `record_keys`' primary key and `records_id` out.
#[test]
fn a_batch_of_a_first_load_with_new_keys_leaves_the_key_index_out() {
    let (store, guard) = loading();
    load(&store, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a")]).unwrap();
    assert_eq!(load(&store, "b-2", 7, &[draft(2, "k2", Some(company(2)), "b")]).unwrap(), [UpsertOutcome::Created]);
    assert!(left_out(&guard, KEYS) && left_out(&guard, IDS));
    store.finish_initial_load().unwrap();
    assert!(!left_out(&guard, KEYS) && !left_out(&guard, IDS));
    assert_eq!(stored_keys(&guard).len(), 2);
}

/// A batch of the load that repeats a key looks it up, and builds the primary key first, in its own
/// transaction; one that replaces a record builds `records_id` first. The rest of the load keeps them.
#[test]
fn a_batch_of_a_first_load_that_repeats_a_key_builds_the_indexes_it_needs_first() {
    let (store, guard) = loading();
    load(&store, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a"), draft(3, "k2", Some(company(2)), "b")]).unwrap();
    let outcomes =
        load(&store, "b-2", 7, &[draft(2, "k1", Some(company(1)), "a2"), draft(3, "k2", Some(company(2)), "b")])
            .unwrap();
    assert_eq!(outcomes, [UpsertOutcome::Updated, UpsertOutcome::Unchanged]);
    assert!(!left_out(&guard, KEYS) && !left_out(&guard, IDS), "built by the batch that needed them");
    assert_eq!(written_down(&guard), 5);
    store.finish_initial_load().unwrap();
    assert_eq!(written_down(&guard), 0);
    assert_eq!(stored_keys(&guard).len(), 2);
}

/// A batch rolled back takes the primary key it built with it: the key index is left out and written
/// down again, and the load builds it at its end.
#[test]
fn a_key_index_built_by_a_dropped_batch_is_left_out_again() {
    let (store, guard) = loading();
    load(&store, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a")]).unwrap();
    {
        let mut w = store.begin_batch(meta("b-gone", 7)).unwrap();
        let rows = prepare(&store, &[draft(2, "k1", Some(company(1)), "a2")]).unwrap();
        assert_eq!(w.write(&rows).unwrap()[0].outcome, UpsertOutcome::Updated);
    }
    assert!(left_out(&guard, KEYS) && left_out(&guard, IDS), "rolled back with the batch");
    assert_eq!(load(&store, "b-2", 7, &[draft(2, "k1", Some(company(1)), "a")]).unwrap(), [UpsertOutcome::Unchanged]);
    assert!(!left_out(&guard, KEYS) && left_out(&guard, IDS), "an unchanged record is not replaced");
    store.finish_initial_load().unwrap();
    assert_eq!(written_down(&guard), 0);
    assert_eq!(stored_keys(&guard).len(), 1);
}

/// A batch of another process commits keys of an item during the load: the load no longer trusts what
/// it knows and looks its keys up, so a key the other batch wrote is a new version, not a second record.
#[test]
fn a_batch_of_another_process_during_a_first_load_is_seen() {
    let (store, guard) = loading();
    load(&store, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a")]).unwrap();
    let other = PgStore::open(guard.db.url(), &guard.data()).unwrap();
    // An item the load has not written: the other batch has nothing to look up either.
    let created = load_item(&other, "b-2", 7, "admin_license", &[draft(2, "k2", Some(company(2)), "b")]).unwrap();
    assert_eq!(created, [UpsertOutcome::Created]);
    assert!(left_out(&guard, KEYS), "the other batch needed no lookup");
    assert!(!left_out(&guard, SUBJECT_KEYS), "the other process knows no subject: it looked its up");
    let again = load_item(&store, "b-3", 8, "admin_license", &[draft(2, "k2", Some(company(2)), "b2")]).unwrap();
    assert_eq!(again, [UpsertOutcome::Updated]);
    store.finish_initial_load().unwrap();
    assert_eq!(
        stored_keys(&guard),
        [("admin_license".to_owned(), "k2".to_owned()), ("admin_penalty".to_owned(), "k1".to_owned())]
    );
    assert_eq!(subjects(&guard), 2, "the load found the other process's subject");
}

const SUBJECT_KEYS: &str = "subject_keys_unique";

/// Subjects stored (the tests' subjects are companies, each filed under its USCC and its organisation
/// code, and no USCC under two subjects).
fn subjects(guard: &Fresh) -> i64 {
    let mut client = sql(guard);
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM xinyong.subjects), (SELECT count(*) FROM xinyong.subject_keys),
                    (SELECT count(DISTINCT key) FROM xinyong.subject_keys WHERE key LIKE 'u:%')",
            &[],
        )
        .unwrap();
    let (subjects, keys, usccs): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!((keys, usccs), (2 * subjects, subjects), "two keys each, one USCC each");
    subjects
}

/// Into a store without subjects, the load's batches look none up: the process's cache knows every
/// subject the load made, so `subject_keys`' indexes stay out until the end, and a subject named
/// again by a later batch is the same subject.
#[test]
fn a_first_load_finds_its_subjects_without_their_indexes() {
    let (store, guard) = loading();
    load(&store, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a"), draft(3, "k2", Some(company(2)), "b")]).unwrap();
    load(&store, "b-2", 7, &[draft(2, "k3", Some(company(1)), "c"), draft(3, "k4", Some(company(3)), "d")]).unwrap();
    assert!(left_out(&guard, SUBJECT_KEYS) && left_out(&guard, "subject_keys_pkey"));
    assert_eq!(subjects(&guard), 3);
    store.finish_initial_load().unwrap();
    assert!(!left_out(&guard, SUBJECT_KEYS) && !left_out(&guard, "subject_keys_pkey"));
    assert_eq!(subjects(&guard), 3);
}

/// A company named by its organisation code alone is the one filed under a USCC that carries it, as a
/// lookup would answer, though the load looks nothing up.
#[test]
fn a_first_load_finds_a_company_by_its_organisation_code() {
    let (store, guard) = loading();
    let uscc = company(1);
    let by_org = company_by_org_code(1, &uscc.name);
    load(&store, "b-1", 6, &[draft(2, "k1", Some(uscc), "a")]).unwrap();
    load(&store, "b-2", 7, &[draft(2, "k2", Some(by_org), "b")]).unwrap();
    assert!(left_out(&guard, SUBJECT_KEYS), "found without a lookup");
    assert_eq!(subjects(&guard), 1);
    // A new company and its organisation code in one write: the code names the company just made.
    let by_org = company_by_org_code(2, &company(2).name);
    load(&store, "b-3", 8, &[draft(2, "k3", Some(company(2)), "c"), draft(3, "k4", Some(by_org), "d")]).unwrap();
    assert_eq!(subjects(&guard), 2);
    store.finish_initial_load().unwrap();
}

/// A dropped batch empties the cache: the next batch no longer knows every subject, so it builds the
/// indexes and looks its subjects up, and finds those of the batches before.
#[test]
fn after_a_dropped_batch_the_load_looks_its_subjects_up() {
    let (store, guard) = loading();
    load(&store, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a")]).unwrap();
    {
        let mut w = store.begin_batch(meta("b-gone", 7)).unwrap();
        let rows = prepare(&store, &[draft(2, "k2", Some(company(2)), "b")]).unwrap();
        w.write(&rows).unwrap();
    }
    assert!(left_out(&guard, SUBJECT_KEYS), "the dropped batch knew its subjects");
    load(&store, "b-2", 7, &[draft(2, "k3", Some(company(1)), "c"), draft(3, "k4", Some(company(2)), "d")]).unwrap();
    assert!(!left_out(&guard, SUBJECT_KEYS), "built by the batch that looked up");
    assert_eq!(subjects(&guard), 2, "company 1 found again, company 2 made once");
    store.finish_initial_load().unwrap();
    assert_eq!(written_down(&guard), 0);
}

/// Into a store that holds subjects but no records, the subjects' indexes stay: its cache does not
/// know them.
#[test]
fn a_first_load_into_a_store_with_subjects_keeps_their_indexes() {
    let (store, guard) = fresh_store();
    install_default(&store).unwrap();
    load(&store, "b-1", 6, &[draft(2, "k1", Some(company(1)), "a")]).unwrap();
    sql(&guard).batch_execute("DELETE FROM xinyong.records; DELETE FROM xinyong.record_keys").unwrap();
    let store = PgStore::open(guard.db.url(), &guard.data()).unwrap();
    assert!(store.begin_initial_load().unwrap());
    assert!(!left_out(&guard, SUBJECT_KEYS) && !left_out(&guard, "subject_keys_pkey"));
    assert!(left_out(&guard, KEYS));
    load(&store, "b-2", 7, &[draft(2, "k2", Some(company(1)), "b")]).unwrap();
    assert_eq!(subjects(&guard), 1, "found by its identifier");
    store.finish_initial_load().unwrap();
}

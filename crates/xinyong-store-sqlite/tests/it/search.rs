//! Subject search in the embedded store: what only SQLite can show. The behaviour every backend shares
//! (ranking, paging, renames, persons…) is in the conformance suite (`xinyong_store::conformance`).

use rusqlite::Connection;
use xinyong_domain::subject::SubjectClaim;
use xinyong_store::conformance::{company, draft, install_default, load};
use xinyong_store::search::{SearchPage, SearchQuery, SearchStore};
use xinyong_store_sqlite::{DB_FILE, SqliteStore};

/// Company `n` (a valid USCC of its own) under a chosen name.
fn named(n: u32, name: &str) -> SubjectClaim {
    SubjectClaim { name: name.to_owned(), ..company(n) }
}

fn load_all(store: &SqliteStore, batch: &str, claims: &[SubjectClaim]) {
    let drafts: Vec<_> = claims
        .iter()
        .enumerate()
        .map(|(i, c)| draft(i as u64 + 2, &format!("{batch}-{i}"), Some(c.clone()), "警告"))
        .collect();
    load(store, batch, 6, &drafts).unwrap();
}

fn search(store: &SqliteStore, text: &str) -> SearchPage {
    store
        .search_subjects(&SearchQuery { text: text.to_owned(), include_natural_persons: false, page: 1, per_page: 100 })
        .unwrap()
}

fn names(page: &SearchPage) -> Vec<String> {
    page.hits.iter().map(|h| h.name.clone()).collect()
}

#[test]
fn subjects_stored_before_the_index_existed_are_indexed_on_first_search() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = SqliteStore::create(&data, false).unwrap();
    install_default(&store).unwrap();
    load_all(&store, "b-1", &[named(1, "浦东小吃店"), named(2, "浦东书店")]);
    drop(store);
    // Back to a database from before migration 2.
    let conn = Connection::open(data.join(DB_FILE)).unwrap();
    conn.execute_batch("DROP TABLE subject_names_fts; DELETE FROM schema_migrations WHERE version = 2;").unwrap();
    drop(conn);

    let store = SqliteStore::open(&data).unwrap();
    assert_eq!(search(&store, "浦东").total, 2);
    load_all(&store, "b-2", &[named(1, "静安小吃店")]);
    assert_eq!(names(&search(&store, "小吃")), ["静安小吃店"]);
}

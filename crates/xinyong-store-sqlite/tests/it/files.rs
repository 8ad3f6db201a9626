//! Properties of the data folder itself.

use xinyong_store::SubjectStore;
use xinyong_store::conformance::{draft, install_default, load, person};
use xinyong_store_sqlite::{DB_FILE, SqliteStore};

/// A new store with the default catalog in `data` of a temporary folder (kept alive by the `TempDir`).
fn catalogued() -> (tempfile::TempDir, std::path::PathBuf, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = SqliteStore::create(&data, false).unwrap();
    install_default(&store).unwrap();
    (dir, data, store)
}

#[test]
fn no_resident_id_appears_in_clear_in_any_database_file() {
    let (_dir, data, store) = catalogued();
    let p = person(11, "王五");
    load(&store, "b-1", 6, &[draft(2, "k", Some(p.clone()), "警告")]).unwrap();
    drop(store);
    let id = p.id.as_str().as_bytes().to_vec();
    for name in [DB_FILE.to_owned(), format!("{DB_FILE}-wal")] {
        let path = data.join(&name);
        if let Ok(bytes) = std::fs::read(&path) {
            assert!(!bytes.windows(id.len()).any(|w| w == id.as_slice()), "{name} holds a resident id in clear");
        }
    }
}

#[cfg(unix)]
#[test]
fn the_vault_key_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    SqliteStore::create(&data, false).unwrap();
    let mode = std::fs::metadata(data.join("keys/vault.key")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let dir_mode = std::fs::metadata(data.join("keys")).unwrap().permissions().mode();
    assert_eq!(dir_mode & 0o077, 0);
}

#[test]
fn a_second_init_is_refused_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    SqliteStore::create(&data, false).unwrap();
    assert!(SqliteStore::create(&data, false).is_err());
    assert!(SqliteStore::create(&data, true).is_ok());
}

#[test]
fn opening_a_missing_platform_says_to_init() {
    let dir = tempfile::tempdir().unwrap();
    let e = SqliteStore::open(&dir.path().join("nothing")).unwrap_err();
    assert!(e.to_string().contains("xinyong init"), "{e}");
}

#[test]
fn data_survives_reopening() {
    let (_dir, data, store) = catalogued();
    load(&store, "b-1", 6, &[draft(2, "k", Some(person(12, "赵六")), "警告")]).unwrap();
    drop(store);
    let store = SqliteStore::open(&data).unwrap();
    assert_eq!(store.subject_count().unwrap(), 1);
}

/// The writer remembers subjects from one batch to the next; a second store on the same folder is
/// another process.
#[test]
fn a_rename_committed_by_another_process_is_seen_by_the_next_batch() {
    let (_dir, data, ours) = catalogued();
    let other = SqliteStore::open(&data).unwrap();
    xinyong_store::conformance::a_rename_committed_by_another_process_is_seen_by_the_next_batch(&ours, &other).unwrap();
}

/// Rows written before field keys were stored as codes read as coded ones (the check rewrites one row).
#[test]
fn rows_stored_with_full_field_keys_read_as_coded_ones() {
    let (_dir, data, store) = catalogued();
    let rewrite = |full: &str| {
        let conn = rusqlite::Connection::open(data.join(DB_FILE)).unwrap();
        let which = "item = 'legal_person_registration'";
        let stored: String =
            conn.query_row(&format!("SELECT fields FROM records WHERE {which}"), [], |r| r.get(0)).unwrap();
        conn.execute(&format!("UPDATE records SET fields = ?1 WHERE {which}"), [full]).unwrap();
        stored
    };
    xinyong_store::conformance::rows_with_full_field_keys_read_as_coded_ones(&store, &rewrite).unwrap();
}

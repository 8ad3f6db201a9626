//! The audit trail in `audit.db`: append-only in the database, tamper-evident past it, and never
//! waiting for an ingest batch.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::Connection;
use tempfile::TempDir;
use xinyong_domain::access::{Channel, Purpose, Role};
use xinyong_store::Store;
use xinyong_store::audit::{AuditEntry, AuditStore, chain_hash};
use xinyong_store::audit_verify::{make_checkpoint, verify_audit};
use xinyong_store::group_commit::GroupCommitter;
use xinyong_store::keyring::Keyring;
use xinyong_store_sqlite::{DB_FILE, SqliteStore};

const AUDIT_DB: &str = "audit.db";

fn at(hour: u32) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(&format!("2026-05-06T{hour:02}:00:00+08:00")).unwrap()
}

fn entry(n: i64) -> AuditEntry {
    AuditEntry {
        at: at(10),
        account_id: Some(3),
        account_name: "jg-user".into(),
        unit: Some("sh_amr".into()),
        role: Role::Department,
        action: "profile".into(),
        subject_id: Some(n % 5),
        purpose: Some(Purpose::Supervision),
        channel: Channel::Api,
        outcome: "denied".into(),
        detail: format!("query {n}"),
        request_id: Some(format!("req-{n}")),
    }
}

fn entries(from: i64, to: i64) -> Vec<AuditEntry> {
    (from..=to).map(entry).collect()
}

fn fresh() -> (SqliteStore, PathBuf, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    (SqliteStore::create(&data, false).unwrap(), data, dir)
}

/// A connection of someone with the file, bypassing the store.
fn raw(data: &Path, file: &str) -> Connection {
    let conn = Connection::open(data.join(file)).unwrap();
    conn.busy_timeout(Duration::from_millis(200)).unwrap();
    conn
}

#[test]
fn updating_or_deleting_audit_rows_is_refused_by_the_database() {
    let (store, data, _dir) = fresh();
    store.append_audit(&entries(1, 3)).unwrap();
    let ring = Keyring::create(&data.join("keys"), at(8)).unwrap();
    make_checkpoint(&store, &ring, at(11)).unwrap().unwrap();
    let conn = raw(&data, AUDIT_DB);

    for sql in [
        "UPDATE audit SET outcome = 'allowed'",
        "DELETE FROM audit",
        "DELETE FROM audit WHERE seq = 3",
        "UPDATE audit_checkpoints SET seq = 1",
        "DELETE FROM audit_checkpoints",
    ] {
        let e = conn.execute(sql, []).unwrap_err();
        assert!(e.to_string().contains("audit log is append-only"), "{sql}: {e}");
    }
    let e = conn
        .execute(
            "INSERT OR REPLACE INTO audit SELECT seq, at, account_id, account_name, unit, role, action, subject_id, \
             purpose, channel, 'allowed', detail, request_id, prev_hash, hash FROM audit WHERE seq = 2",
            [],
        )
        .unwrap_err();
    assert!(e.to_string().contains("must extend the chain"), "replace: {e}");

    let v = verify_audit(&store, ring.public_keys()).unwrap();
    assert!(v.is_intact(), "{:?}", v.problems);
    assert_eq!(store.audit_after(0, 10).unwrap().len(), 3);
}

/// Someone with the file drops the triggers and edits rows: the chain names where.
fn drop_triggers(conn: &Connection) {
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(names.len() >= 4, "{names:?}");
    for name in names {
        conn.execute_batch(&format!("DROP TRIGGER {name}")).unwrap();
    }
}

#[test]
fn an_entry_altered_past_the_triggers_is_named_by_verification() {
    let (store, data, _dir) = fresh();
    store.append_audit(&entries(1, 5)).unwrap();
    let conn = raw(&data, AUDIT_DB);
    drop_triggers(&conn);
    assert_eq!(conn.execute("UPDATE audit SET outcome = 'allowed' WHERE seq = 3", []).unwrap(), 1);

    let v = verify_audit(&store, &[]).unwrap();
    assert_eq!(v.problems, vec!["entry 3: content does not match its hash (altered)".to_owned()]);
    assert!(!v.is_intact());
}

#[test]
fn a_chain_rewritten_with_fresh_hashes_is_caught_by_the_signed_checkpoint() {
    let (store, data, _dir) = fresh();
    store.append_audit(&entries(1, 6)).unwrap();
    let ring = Keyring::create(&data.join("keys"), at(8)).unwrap();
    make_checkpoint(&store, &ring, at(11)).unwrap().unwrap();

    // Rewrite entry 2 and recompute every later hash, as an attacker who knows the scheme would.
    let conn = raw(&data, AUDIT_DB);
    drop_triggers(&conn);
    let records = store.audit_after(0, 100).unwrap();
    let mut prev = records[0].hash.clone();
    for r in &records[1..] {
        let mut e = r.entry.clone();
        if r.seq == 2 {
            e.outcome = "allowed".into();
        }
        let hash = chain_hash(&prev, r.seq, &e);
        conn.execute(
            "UPDATE audit SET outcome = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            rusqlite::params![e.outcome, prev, hash, r.seq],
        )
        .unwrap();
        prev = hash;
    }

    let v = verify_audit(&store, ring.public_keys()).unwrap();
    assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
    assert!(v.problems[0].starts_with("checkpoint at seq 6: signed hash differs"), "{:?}", v.problems);
}

#[test]
fn a_checkpoint_signed_by_a_since_rotated_key_still_verifies() {
    let (store, data, _dir) = fresh();
    let keys = data.join("keys");
    let mut ring = Keyring::create(&keys, at(8)).unwrap();
    store.append_audit(&entries(1, 3)).unwrap();
    let old = make_checkpoint(&store, &ring, at(9)).unwrap().unwrap();
    ring.rotate(at(10)).unwrap();
    store.append_audit(&entries(4, 5)).unwrap();
    let new = make_checkpoint(&store, &ring, at(11)).unwrap().unwrap();
    assert_ne!(old.key_id, new.key_id);
    assert_eq!((old.seq, new.seq), (3, 5));
    drop(ring);

    let published = Keyring::open(&keys).unwrap().public_keys().to_vec();
    let v = verify_audit(&store, &published).unwrap();
    assert!(v.is_intact(), "{:?}", v.problems);
    assert_eq!((v.entries, v.checkpoints), (5, 2));
}

#[test]
fn audit_writes_proceed_while_ingest_holds_the_main_write_lock() {
    let (store, data, _dir) = fresh();
    let ingest = raw(&data, DB_FILE);
    ingest.execute_batch("BEGIN IMMEDIATE").unwrap();
    // The lock is real: another writer of xinyong.db is turned away.
    let other = raw(&data, DB_FILE);
    assert!(other.execute_batch("BEGIN IMMEDIATE").is_err());

    let store = Arc::new(store);
    let (done, result) = mpsc::channel();
    let writer = store.clone();
    std::thread::spawn(move || {
        let _ = done.send(writer.append_audit(&entries(1, 2)).map(|r| r.len()));
    });
    // A write blocked on the lock would wait for the 10 s busy timeout, then fail.
    let written = result.recv_timeout(Duration::from_secs(5)).expect("the audit write did not wait for ingest");
    assert_eq!(written.unwrap(), 2);
    ingest.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn the_group_committer_writes_one_valid_chain_through_sqlite() {
    let (store, _data, _dir) = fresh();
    let store: Arc<dyn Store> = Arc::new(store);
    let committer = Arc::new(GroupCommitter::start(store.clone(), 32));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let committer = committer.clone();
            std::thread::spawn(move || {
                let mut last = 0;
                for i in 0..25 {
                    let record = committer.append(entry(t * 100 + i)).unwrap();
                    assert!(record.seq > last, "each submitter sees its seqs rise");
                    last = record.seq;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(committer);
    let v = verify_audit(&*store, &[]).unwrap();
    assert!(v.is_intact(), "{:?}", v.problems);
    assert_eq!((v.entries, v.head_seq), (200, 200));
}

#[test]
fn the_trail_survives_reopening_and_an_older_store_gains_audit_db() {
    let (store, data, _dir) = fresh();
    store.append_audit(&entries(1, 3)).unwrap();
    drop(store);
    let store = SqliteStore::open(&data).unwrap();
    assert_eq!(store.append_audit(&entries(4, 4)).unwrap()[0].seq, 4);
    assert!(verify_audit(&store, &[]).unwrap().is_intact());
    drop(store);

    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(data.join(format!("{AUDIT_DB}{suffix}")));
    }
    let store = SqliteStore::open(&data).unwrap();
    assert_eq!(store.append_audit(&entries(1, 1)).unwrap()[0].seq, 1);
}

#[test]
fn a_forced_init_starts_a_new_trail() {
    let (store, data, _dir) = fresh();
    store.append_audit(&entries(1, 3)).unwrap();
    drop(store);
    let store = SqliteStore::create(&data, true).unwrap();
    assert!(store.audit_after(0, 10).unwrap().is_empty());
}

//! A `kill -9` in the middle of a batch leaves the store consistent: that batch absent, earlier
//! batches intact, and the same file loads cleanly afterwards. Both journals are covered: the WAL of a
//! store that holds records, and the rollback journal of a first load (see `initial_load.rs` of the
//! SQLite store).

use std::io::Write;
use std::time::{Duration, Instant};

use super::{Platform, stderr};

const HEADER: &str =
    "行政相对人名称,统一社会信用代码,行政许可决定文书名称,行政许可决定文书号,许可内容,许可决定日期,许可机关\n";

fn licence_file(p: &Platform, name: &str, rows: u32) -> std::path::PathBuf {
    let path = p.dir.path().join(name);
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    w.write_all(HEADER.as_bytes()).unwrap();
    for i in 0..rows {
        let uscc = xinyong_domain::ids::complete_uscc(&format!("91310115MA{:06}", i % 50_000)).unwrap();
        writeln!(w, "上海测试{}有限公司,{uscc},准予行政许可决定书,沪许〔2025〕{name}{i}号,道路货物运输经营许可,2025-06-01,上海市交通委员会", i % 50_000).unwrap();
    }
    w.flush().unwrap();
    path
}

/// Kills the `ingest` of `file` once `ready` holds of the data folder (polled every 10 ms, at most 60 s).
fn kill_ingest_when(p: &Platform, file: &std::path::Path, ready: impl Fn() -> bool) {
    let mut child = p
        .command(&["ingest", "--unit", "sh_transport", "--item", "admin_license", file.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !ready() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(child.try_wait().unwrap().is_none(), "the batch finished before it could be killed; make the file bigger");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

fn size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn integrity(p: &Platform) -> String {
    let conn = rusqlite::Connection::open(p.data().join(xinyong_store_sqlite::DB_FILE)).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap()
}

/// The store holds `(records, batches)` as before the killed batch and passes its integrity check;
/// then the same file loads whole, leaving `loaded` records.
fn after_the_kill(p: &Platform, big: &std::path::Path, (records, batches): (i64, i64), loaded: i64) {
    assert_eq!(count(p, "SELECT count(*) FROM records"), records);
    assert_eq!(count(p, "SELECT count(*) FROM batches"), batches);
    assert_eq!(integrity(p), "ok");
    let (out, v) = p.ingest("sh_transport", "admin_license", big, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(v["accepted"], 600_000);
    assert_eq!(count(p, "SELECT count(*) FROM records"), loaded);
}

fn count(p: &Platform, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(p.data().join(xinyong_store_sqlite::DB_FILE)).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_kill_in_the_middle_of_a_batch_leaves_it_wholly_out() {
    let p = Platform::new();
    let small = licence_file(&p, "small.csv", 500);
    let (out, v) = p.ingest("sh_transport", "admin_license", &small, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(v["accepted"], 500);

    let big = licence_file(&p, "big.csv", 600_000);
    // Wait until the batch has written a good part of itself to the WAL, then kill it.
    let wal = p.data().join(format!("{}-wal", xinyong_store_sqlite::DB_FILE));
    kill_ingest_when(&p, &big, || size(&wal) > 8 << 20);

    after_the_kill(&p, &big, (500, 1), 600_500);
}

#[test]
fn a_kill_in_the_middle_of_a_first_load_leaves_its_batch_out_and_the_store_whole() {
    let p = Platform::new();
    let big = licence_file(&p, "big.csv", 600_000);
    // A first load writes with a rollback journal straight into the database file: the file grows
    // once the batch's pages outgrow the writer's cache and spill into it, before the commit.
    let db = p.data().join(xinyong_store_sqlite::DB_FILE);
    let before = size(&db);
    kill_ingest_when(&p, &big, || size(&db) > before + (64 << 20));
    assert!(size(&p.data().join(format!("{}-journal", xinyong_store_sqlite::DB_FILE))) > 0, "a hot journal is left");

    // The next connection rolls the journal back.
    after_the_kill(&p, &big, (0, 0), 600_000);
    assert_eq!(count(&p, "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'records' AND type = 'index'"), 3);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal", "the store is back in WAL mode");
}

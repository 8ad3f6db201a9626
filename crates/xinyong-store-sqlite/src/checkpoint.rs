//! Checkpoints off the write path. SQLite's automatic checkpoint runs inside the `COMMIT` that crosses
//! the threshold, so a batch that wrote a gigabyte to the WAL would then copy it into the database
//! before its commit returns. The writer connection turns that off (`wal_autocheckpoint = 0`); after
//! every commit it nudges this thread, which copies the WAL into the database on its own connection
//! (`PASSIVE`: it never blocks the writer or readers) while the next batch is already being written.
//!
//! Durability does not depend on it: a commit is durable once its WAL frames are synced
//! (`synchronous = FULL`). The thread only keeps the WAL from growing. On shutdown it runs a last
//! checkpoint and stops before the store's connections close. The writer and the thread share one
//! counter of checkpoints asked for and done, under one lock ([`Progress`]).
//!
//! A WAL starts over from its beginning only when a write transaction begins after a checkpoint has
//! copied all of it. In a long load the next batch always begins while the last one is still being
//! copied, so the WAL used to grow by every batch (to 1.4 GB for a 100,000-subject load), and every
//! frame went to a new part of the file, which the kernel must allocate and zero first (2 of the
//! writer's 17 CPU seconds). So once the WAL is past [`WAL_REUSE_BYTES`], a batch waits for the
//! checkpoint before it begins ([`Checkpointer::settle`]), and the WAL is written over in place.
//!
//! A first load, which writes without the WAL, stops the thread and starts it again at its end
//! ([`Checkpointer::stop`], [`Checkpointer::resume`]): its connection would keep the file in WAL mode.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;
use xinyong_store::Result;

use crate::{conn, db_err};

/// Past this size, a batch waits for the running checkpoint before it begins, so that the WAL starts
/// over from its beginning instead of growing.
const WAL_REUSE_BYTES: u64 = 256 << 20;
/// How long a batch waits for a checkpoint at most; past it, the WAL grows this once.
const SETTLE_LIMIT: Duration = Duration::from_secs(30);

/// What the writer and the checkpoint thread share, under one lock with one condition variable: the
/// thread waits for `asked` to pass `done`, a settling batch for `done` to reach `asked`.
#[derive(Default)]
struct Progress {
    /// Checkpoints asked for (one per commit) …
    asked: u64,
    /// … and how many of them a finished checkpoint covered (it covers every commit before it).
    done: u64,
    /// The store is closing: the thread runs a last checkpoint and ends.
    stopping: bool,
}

pub(crate) struct Checkpointer {
    db: PathBuf,
    wal: PathBuf,
    reuse_bytes: u64,
    /// The thread, unless stopped (while a first load writes without a WAL, see `initial_load.rs`).
    running: Mutex<Option<Running>>,
}

struct Running {
    thread: JoinHandle<()>,
    progress: Arc<(Mutex<Progress>, Condvar)>,
}

impl Checkpointer {
    pub(crate) fn start(db: &Path) -> Result<Checkpointer> {
        Checkpointer::start_with(db, WAL_REUSE_BYTES)
    }

    fn start_with(db: &Path, reuse_bytes: u64) -> Result<Checkpointer> {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        let checkpointer =
            Checkpointer { db: db.to_path_buf(), wal: wal.into(), reuse_bytes, running: Mutex::new(None) };
        checkpointer.resume()?;
        Ok(checkpointer)
    }

    /// Starts the thread, with a connection of its own, unless it runs.
    pub(crate) fn resume(&self) -> Result<()> {
        let mut running = self.running.lock().map_err(|_| crate::poisoned())?;
        if running.is_some() {
            return Ok(());
        }
        let conn = conn::open_checkpointer(&self.db)?;
        let progress = Arc::new((Mutex::new(Progress::default()), Condvar::new()));
        let shared = Arc::clone(&progress);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let (state, changed) = &*shared;
                loop {
                    let Ok(guard) = state.lock() else { break };
                    let Ok(guard) = changed.wait_while(guard, |p| p.asked == p.done && !p.stopping) else { break };
                    if guard.asked == guard.done {
                        break; // stopping, with nothing asked
                    }
                    let asked = guard.asked;
                    drop(guard);
                    checkpoint(&conn, "PASSIVE");
                    if let Ok(mut p) = state.lock() {
                        p.done = p.done.max(asked);
                    }
                    changed.notify_all();
                }
                checkpoint(&conn, "PASSIVE");
            })
            .map_err(|e| xinyong_store::StoreError::Backend(format!("starting the checkpoint thread: {e}")))?;
        *running = Some(Running { thread, progress });
        Ok(())
    }

    /// Runs a last checkpoint and stops the thread, which closes its connection; [`Checkpointer::resume`]
    /// starts it again. Meanwhile [`Checkpointer::settle`] and [`Checkpointer::nudge`] do nothing.
    pub(crate) fn stop(&self) {
        let running = self.running.lock().ok().and_then(|mut r| r.take());
        let Some(Running { thread, progress }) = running else { return };
        if let Ok(mut p) = progress.0.lock() {
            p.stopping = true;
        }
        progress.1.notify_all();
        if thread.join().is_err() {
            tracing::error!("the checkpoint thread panicked");
        }
    }

    /// The running thread's shared progress, or `None` when stopped; warns when the thread ended by itself.
    fn progress(&self) -> Option<Arc<(Mutex<Progress>, Condvar)>> {
        let running = self.running.lock().ok()?;
        let r = running.as_ref()?;
        if r.thread.is_finished() {
            tracing::warn!("the checkpoint thread has stopped");
            return None;
        }
        Some(Arc::clone(&r.progress))
    }

    /// Before a batch's write transaction: when the WAL has grown past its bound, waits until the
    /// checkpoints asked for so far have run, so that the transaction can start the WAL over.
    pub(crate) fn settle(&self) {
        if std::fs::metadata(&self.wal).map_or(true, |m| m.len() < self.reuse_bytes) {
            return;
        }
        let Some(progress) = self.progress() else { return };
        let Ok(guard) = progress.0.lock() else { return };
        let waited = progress.1.wait_timeout_while(guard, SETTLE_LIMIT, |p| p.done < p.asked);
        if waited.is_ok_and(|(_, t)| t.timed_out()) {
            tracing::warn!("no checkpoint finished within {SETTLE_LIMIT:?}; the WAL grows");
        }
    }

    /// Asks for a checkpoint after a commit; never waits.
    pub(crate) fn nudge(&self) {
        let Some(progress) = self.progress() else { return };
        if let Ok(mut p) = progress.0.lock() {
            p.asked += 1;
        }
        progress.1.notify_all();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn checkpoint(conn: &Connection, mode: &str) {
    let sql = format!("PRAGMA wal_checkpoint({mode})");
    match conn.query_row(&sql, [], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))) {
        Ok((busy, wal_frames, copied)) => {
            tracing::debug!(busy, wal_frames, copied, "checkpoint");
        }
        Err(e) => {
            tracing::warn!(error = %db_err(e), "checkpoint failed; the WAL keeps the data and grows until the next one")
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_wal_past_its_bound_is_written_over_instead_of_growing() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let writer = conn::open_writer(&db).unwrap();
        writer.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        let checkpointer = Checkpointer::start_with(&db, 64 << 10).unwrap();
        let mut largest = 0;
        for _ in 0..40 {
            checkpointer.settle();
            // 100 rows of 1,000 bytes: about 7 WAL frames of 16 KiB (~120 KiB) per transaction.
            writer
                .execute_batch("BEGIN IMMEDIATE")
                .and_then(|()| {
                    let mut insert = writer.prepare("INSERT INTO t (x) VALUES (randomblob(1000))")?;
                    for _ in 0..100 {
                        insert.execute([])?;
                    }
                    writer.execute_batch("COMMIT")
                })
                .unwrap();
            checkpointer.nudge();
            largest = largest.max(std::fs::metadata(&checkpointer.wal).unwrap().len());
        }
        drop(checkpointer);
        let rows: i64 = writer.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 4000);
        // Growing, the WAL would reach 40 transactions' frames (about 5 MB); written over, about one's.
        assert!(largest < 1 << 20, "the WAL grew to {largest} bytes");
    }
}

//! Checkpoints off the write path. SQLite's automatic checkpoint runs inside the `COMMIT` that crosses
//! the threshold, so a batch that wrote a gigabyte to the WAL would then copy it into the database
//! before its commit returns. The writer connection turns that off (`wal_autocheckpoint = 0`); after
//! every commit it nudges this thread, which copies the WAL into the database on its own connection
//! (`PASSIVE`: it never blocks the writer or readers) while the next batch is already being written.
//!
//! Durability does not depend on it: a commit is durable once its WAL frames are synced
//! (`synchronous = FULL`). The thread only keeps the WAL from growing. On shutdown it runs a last
//! checkpoint and stops before the store's connections close.

use std::path::Path;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;

use rusqlite::Connection;
use xinyong_store::Result;

use crate::{conn, db_err};

pub(crate) struct Checkpointer {
    nudge: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(crate) fn start(db: &Path) -> Result<Checkpointer> {
        let conn = conn::open_checkpointer(db)?;
        // One pending nudge is enough: a checkpoint covers every commit before it.
        let (nudge, nudged) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while nudged.recv().is_ok() {
                    checkpoint(&conn, "PASSIVE");
                }
                checkpoint(&conn, "PASSIVE");
            })
            .map_err(|e| xinyong_store::StoreError::Backend(format!("starting the checkpoint thread: {e}")))?;
        Ok(Checkpointer { nudge: Some(nudge), thread: Some(thread) })
    }

    /// Asks for a checkpoint after a commit; never waits.
    pub(crate) fn nudge(&self) {
        if let Some(n) = &self.nudge {
            match n.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => tracing::warn!("the checkpoint thread has stopped"),
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.nudge.take();
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("the checkpoint thread panicked");
        }
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

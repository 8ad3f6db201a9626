//! A pooled connection driven by a thread of its own, for a batch. Statements whose answer the batch
//! does not need (`send`: the `COPY`s of a chunk) go ahead without the batch waiting for them, so the
//! server works on one chunk while the batch builds the next; statements whose answer it needs
//! (`call`: lookups) wait for everything sent before them. Statements run in the order given.
//!
//! ```text
//! batch thread:  build chunk 1 ─ send ─ build chunk 2 ─ send ─ call(lookup) ······ answer ─ …
//! conn thread:                  COPY chunk 1 ────────── COPY chunk 2 ─── lookup ─┘
//! ```
//!
//! A `send` that fails is reported by the next `call` (the commit is one); statements after
//! it are skipped, its transaction having failed anyway. At most [`QUEUED`] statements wait, so the
//! memory of chunks in flight stays bounded.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use xinyong_store::{Result, StoreError};

use crate::pool::{Conn, Pooled};

/// Statements sent and not yet begun, at most.
const QUEUED: usize = 4;

/// A statement that answers nobody; its failure fails the batch.
type Sent = Box<dyn FnOnce(&mut Conn) -> Result<()> + Send>;
/// A statement whose caller waits; given the connection, or the failure of a statement sent before.
type Called = Box<dyn FnOnce(Result<&mut Conn>) + Send>;

enum Job {
    Send(Sent),
    Call(Called),
}

pub struct ConnThread<'a> {
    /// Empty while the thread has the connection.
    pooled: Pooled<'a>,
    jobs: Option<SyncSender<Job>>,
    thread: Option<JoinHandle<Conn>>,
    /// Set when the batch is dropped: statements still queued are skipped.
    abandon: Arc<AtomicBool>,
}

impl<'a> ConnThread<'a> {
    pub fn start(mut pooled: Pooled<'a>) -> Result<ConnThread<'a>> {
        let conn = pooled.take_out();
        let (jobs, queue) = sync_channel(QUEUED);
        let abandon = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&abandon);
        // A thread that cannot start drops the connection with the closure: the server rolls its
        // transaction back, and the pool counts it returned.
        let thread = std::thread::Builder::new().name("pg-batch".into()).spawn(move || run(conn, &queue, &flag))?;
        Ok(ConnThread { pooled, jobs: Some(jobs), thread: Some(thread), abandon })
    }

    fn queue(&self, job: Job) -> Result<()> {
        match &self.jobs {
            Some(jobs) => jobs.send(job).map_err(|_| stopped()),
            None => Err(stopped()),
        }
    }

    /// Runs `f` after the statements before it, without waiting for it.
    pub fn send(&mut self, f: impl FnOnce(&mut Conn) -> Result<()> + Send + 'static) -> Result<()> {
        self.queue(Job::Send(Box::new(f)))
    }

    /// Runs `f` after the statements before it and returns its answer, or the failure of one sent
    /// before it.
    pub fn call<T: Send + 'static>(&mut self, f: impl FnOnce(&mut Conn) -> Result<T> + Send + 'static) -> Result<T> {
        self.ask(f)?.wait()
    }

    /// As [`ConnThread::call`], but the answer is waited for later: the caller works meanwhile.
    pub fn ask<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut Conn) -> Result<T> + Send + 'static,
    ) -> Result<Answer<T>> {
        let (reply, answer) = sync_channel(1);
        self.queue(Job::Call(Box::new(move |conn| {
            // Nobody waits when the caller failed meanwhile.
            let _ = reply.send(conn.and_then(f));
        })))?;
        Ok(Answer(answer))
    }

    /// Skips the statements still queued and rolls the transaction back.
    pub fn rollback(&mut self) {
        self.abandon.store(true, Ordering::Relaxed);
        if let Some(mut conn) = self.stop() {
            conn.rollback();
            self.pooled.put_back(conn);
        }
    }

    /// Waits for the thread to run what is queued and takes its connection back (none if it panicked).
    fn stop(&mut self) -> Option<Conn> {
        self.jobs = None;
        self.thread.take()?.join().ok()
    }
}

impl Drop for ConnThread<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.stop() {
            self.pooled.put_back(conn);
        }
    }
}

/// The answer to [`ConnThread::ask`].
pub struct Answer<T>(Receiver<Result<T>>);

impl<T> Answer<T> {
    pub fn wait(self) -> Result<T> {
        self.0.recv().map_err(|_| stopped())?
    }
}

fn run(mut conn: Conn, queue: &Receiver<Job>, abandon: &AtomicBool) -> Conn {
    // The failure of a `send`, until a `call` reports it.
    let mut failed: Option<StoreError> = None;
    let mut broken = false;
    for job in queue {
        match job {
            Job::Send(f) => {
                if broken || abandon.load(Ordering::Relaxed) {
                    continue;
                }
                if let Err(e) = f(&mut conn) {
                    failed = Some(e);
                    broken = true;
                }
            }
            Job::Call(f) if broken => f(Err(failed.take().unwrap_or_else(|| {
                StoreError::Backend("an earlier statement of this batch failed (reported before)".into())
            }))),
            Job::Call(f) => f(Ok(&mut conn)),
        }
    }
    conn
}

fn stopped() -> StoreError {
    StoreError::Backend("the batch's connection thread stopped".into())
}

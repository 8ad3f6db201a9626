//! Group commit of audit entries (DOMAIN.md §9): at thousands of queries a second, one durable
//! transaction carries the entries of many concurrent requests, and each request is answered only after
//! the transaction holding its entry has committed.
//!
//! One dedicated OS thread owns the writing. It blocks until an entry is pending, takes every other
//! entry already queued (up to `max_batch` in all) without waiting for more, appends them with one
//! [`AuditStore::append_audit`] call, and answers each submitter with its own [`AuditRecord`]. A batch
//! that fails is answered with the error for every entry in it (fail closed): the caller must refuse the
//! access. An entry whose answer can no longer come (the thread stopped) is answered with an error too,
//! never left waiting.
//!
//! The answer is an [`AuditReceipt`]: `.await` it in async code (it is a `Future` that parks no worker
//! thread) or call [`AuditReceipt::wait`] in blocking code. This crate has no async runtime, so the
//! receipt is a small oneshot built from a `Mutex`, a `Condvar` and a `Waker`.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use xinyong_store::audit::{AuditEntry, AuditStore};
//! # use xinyong_store::group_commit::GroupCommitter;
//! # fn demo(store: Arc<dyn AuditStore + Send + Sync>, entry: AuditEntry) {
//! let committer = GroupCommitter::start(store, 256);
//! match committer.submit(entry).wait() {
//!     Ok(record) => println!("logged as #{}", record.seq),
//!     Err(e) => println!("refuse the access: {e}"),
//! }
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;

use crate::StoreError;
use crate::audit::{AuditEntry, AuditRecord, AuditStore};

/// What a submitter learns: its entry as stored, or why it was not (shared by the whole batch).
pub type CommitResult = Result<AuditRecord, Arc<StoreError>>;

/// Writes audit entries in groups on a dedicated thread. Dropping it stops the thread after every
/// entry already submitted has been written (the drop blocks until then).
pub struct GroupCommitter {
    queue: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for GroupCommitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommitter").field("running", &self.thread.is_some()).finish()
    }
}

struct Job {
    entry: AuditEntry,
    reply: Responder,
}

impl GroupCommitter {
    /// Starts the writing thread. `max_batch` caps the entries of one transaction (at least 1).
    pub fn start(store: Arc<dyn AuditStore + Send + Sync>, max_batch: usize) -> GroupCommitter {
        let (queue, jobs) = mpsc::channel();
        let max_batch = max_batch.max(1);
        let thread =
            std::thread::Builder::new().name("audit-commit".into()).spawn(move || run(&*store, &jobs, max_batch));
        match thread {
            Ok(handle) => GroupCommitter { queue: Some(queue), thread: Some(handle) },
            // Without a thread nothing is ever written: every submission is answered with an error.
            Err(_) => GroupCommitter { queue: None, thread: None },
        }
    }

    /// Queues an entry; the receipt resolves once the transaction carrying it has committed or failed.
    pub fn submit(&self, entry: AuditEntry) -> AuditReceipt {
        let slot = Arc::new(Slot::default());
        let job = Job { entry, reply: Responder(Some(slot.clone())) };
        match &self.queue {
            // A send fails only when the thread has stopped; the job then comes back and is dropped
            // here, which answers it with an error.
            Some(queue) => drop(queue.send(job)),
            None => drop(job),
        }
        AuditReceipt { slot }
    }

    /// Submits and waits (blocking code).
    pub fn append(&self, entry: AuditEntry) -> CommitResult {
        self.submit(entry).wait()
    }
}

impl Drop for GroupCommitter {
    fn drop(&mut self) {
        // Closing the queue lets the thread drain what is queued and then return.
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(store: &dyn AuditStore, jobs: &Receiver<Job>, max_batch: usize) {
    // `recv` fails once the committer is dropped and the queue is empty.
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (entries, replies): (Vec<AuditEntry>, Vec<Responder>) =
            batch.into_iter().map(|job| (job.entry, job.reply)).unzip();
        match store.append_audit(&entries) {
            Ok(records) if records.len() == replies.len() => {
                for (reply, record) in replies.into_iter().zip(records) {
                    reply.send(Ok(record));
                }
            }
            Ok(records) => {
                let e = Arc::new(StoreError::Backend(format!(
                    "the audit store returned {} records for {} entries",
                    records.len(),
                    replies.len()
                )));
                replies.into_iter().for_each(|reply| reply.send(Err(e.clone())));
            }
            Err(e) => {
                let e = Arc::new(e);
                replies.into_iter().for_each(|reply| reply.send(Err(e.clone())));
            }
        }
    }
}

/// The pending answer to one submission: a `Future`, or [`AuditReceipt::wait`] to block.
#[derive(Debug)]
#[must_use = "the access may only proceed once its audit entry has committed"]
pub struct AuditReceipt {
    slot: Arc<Slot>,
}

impl AuditReceipt {
    /// Blocks the calling thread until the answer comes.
    pub fn wait(self) -> CommitResult {
        let mut state = self.slot.lock();
        loop {
            if let Some(result) = state.result.take() {
                return result;
            }
            state = self.slot.ready.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Future for AuditReceipt {
    type Output = CommitResult;

    /// Ready once; polling again after that stays pending.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<CommitResult> {
        let mut state = self.slot.lock();
        if let Some(result) = state.result.take() {
            return Poll::Ready(result);
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            other => *other = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

#[derive(Debug, Default)]
struct Slot {
    state: Mutex<SlotState>,
    ready: Condvar,
}

#[derive(Debug, Default)]
struct SlotState {
    result: Option<CommitResult>,
    waker: Option<Waker>,
}

impl Slot {
    /// No code panics while holding this lock, so a poisoned one still holds a consistent state.
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The sending half of a receipt. Dropped without sending (the thread stopped or panicked), it
/// answers with an error, so no submitter waits forever and none proceeds unlogged.
struct Responder(Option<Arc<Slot>>);

impl Responder {
    fn send(mut self, result: CommitResult) {
        if let Some(slot) = self.0.take() {
            fill(&slot, result);
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            let e = StoreError::Backend("the audit committer stopped before writing this entry".into());
            fill(&slot, Err(Arc::new(e)));
        }
    }
}

fn fill(slot: &Slot, result: CommitResult) {
    let waker = {
        let mut state = slot.lock();
        state.result = Some(result);
        state.waker.take()
    };
    slot.ready.notify_all();
    if let Some(waker) = waker {
        waker.wake();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;
    use crate::Result;
    use crate::audit::{AuditCheckpoint, GENESIS_HASH, chain_hash};
    use crate::audit_verify::test_support::{MemoryAudit, entry};

    #[test]
    fn many_threads_get_every_entry_committed_exactly_once_in_one_chain() {
        let store = Arc::new(MemoryAudit::default());
        let committer = Arc::new(GroupCommitter::start(store.clone(), 16));
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let committer = committer.clone();
                std::thread::spawn(move || {
                    (0..50).map(|i| committer.append(entry(t * 1000 + i)).unwrap()).collect::<Vec<_>>()
                })
            })
            .collect();
        let records: Vec<AuditRecord> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();

        assert_eq!(records.len(), 800);
        let details: BTreeSet<&str> = records.iter().map(|r| r.entry.detail.as_str()).collect();
        assert_eq!(details.len(), 800, "each submitter got its own entry back");
        let stored = store.all();
        assert_eq!(stored.len(), 800, "nothing written twice");
        let mut prev = GENESIS_HASH.to_vec();
        for (i, r) in stored.iter().enumerate() {
            assert_eq!(r.seq, i as i64 + 1);
            assert_eq!(r.prev_hash, prev);
            assert_eq!(r.hash, chain_hash(&prev, r.seq, &r.entry));
            prev = r.hash.clone();
        }
    }

    /// Holds the first append until the test has queued more entries behind it.
    struct Gated {
        inner: MemoryAudit,
        entered: Mutex<mpsc::Sender<()>>,
        release: Mutex<mpsc::Receiver<()>>,
    }

    impl AuditStore for Gated {
        fn append_audit(&self, entries: &[AuditEntry]) -> Result<Vec<AuditRecord>> {
            let _ = self.entered.lock().unwrap().send(());
            let _ = self.release.lock().unwrap().recv();
            self.inner.append_audit(entries)
        }
        fn audit_after(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>> {
            self.inner.audit_after(after, limit)
        }
        fn audit_of_subject(&self, subject_id: i64, limit: u32, offset: u32) -> Result<Vec<AuditRecord>> {
            self.inner.audit_of_subject(subject_id, limit, offset)
        }
        fn add_checkpoint(&self, checkpoint: &AuditCheckpoint) -> Result<()> {
            self.inner.add_checkpoint(checkpoint)
        }
        fn checkpoints(&self) -> Result<Vec<AuditCheckpoint>> {
            self.inner.checkpoints()
        }
    }

    #[test]
    fn entries_queued_during_a_commit_share_the_next_one_up_to_max_batch() {
        let (entered_tx, entered) = mpsc::channel();
        let (release, release_rx) = mpsc::channel();
        let store = Arc::new(Gated {
            inner: MemoryAudit::default(),
            entered: Mutex::new(entered_tx),
            release: Mutex::new(release_rx),
        });
        let committer = GroupCommitter::start(store.clone(), 8);
        let first = committer.submit(entry(0));
        entered.recv().unwrap();
        let queued: Vec<AuditReceipt> = (1..=10).map(|i| committer.submit(entry(i))).collect();
        for _ in 0..3 {
            release.send(()).unwrap();
        }
        assert_eq!(first.wait().unwrap().seq, 1);
        let seqs: Vec<i64> = queued.into_iter().map(|r| r.wait().unwrap().seq).collect();
        assert_eq!(seqs, (2..=11).collect::<Vec<_>>());
        assert_eq!(store.inner.batches(), vec![1, 8, 2]);
    }

    struct Panicking;

    impl AuditStore for Panicking {
        fn append_audit(&self, _: &[AuditEntry]) -> Result<Vec<AuditRecord>> {
            panic!("simulated bug in a backend")
        }
        fn audit_after(&self, _: i64, _: u32) -> Result<Vec<AuditRecord>> {
            Ok(Vec::new())
        }
        fn audit_of_subject(&self, _: i64, _: u32, _: u32) -> Result<Vec<AuditRecord>> {
            Ok(Vec::new())
        }
        fn add_checkpoint(&self, _: &AuditCheckpoint) -> Result<()> {
            Ok(())
        }
        fn checkpoints(&self) -> Result<Vec<AuditCheckpoint>> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn a_panicking_store_fails_its_waiters_and_every_later_submission() {
        let committer = GroupCommitter::start(Arc::new(Panicking), 8);
        assert!(committer.append(entry(1)).is_err());
        let e = committer.append(entry(2)).unwrap_err();
        assert!(e.to_string().contains("stopped"), "{e}");
    }

    #[test]
    fn every_waiter_of_a_failing_store_gets_an_error() {
        let store = Arc::new(MemoryAudit::failing());
        let committer = Arc::new(GroupCommitter::start(store.clone(), 8));
        let receipts: Vec<AuditReceipt> = (0..40).map(|i| committer.submit(entry(i))).collect();
        for r in receipts {
            let e = r.wait().unwrap_err();
            assert!(e.to_string().contains("disk full"), "{e}");
        }
        assert!(store.all().is_empty());
    }

    /// Appends nothing and says it appended nothing: the committer must not answer with mismatched records.
    struct Short;

    impl AuditStore for Short {
        fn append_audit(&self, _: &[AuditEntry]) -> Result<Vec<AuditRecord>> {
            Ok(Vec::new())
        }
        fn audit_after(&self, _: i64, _: u32) -> Result<Vec<AuditRecord>> {
            Ok(Vec::new())
        }
        fn audit_of_subject(&self, _: i64, _: u32, _: u32) -> Result<Vec<AuditRecord>> {
            Ok(Vec::new())
        }
        fn add_checkpoint(&self, _: &AuditCheckpoint) -> Result<()> {
            Ok(())
        }
        fn checkpoints(&self) -> Result<Vec<AuditCheckpoint>> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn a_store_that_returns_too_few_records_fails_the_batch() {
        let committer = GroupCommitter::start(Arc::new(Short), 8);
        assert!(committer.append(entry(1)).is_err());
    }

    #[test]
    fn dropping_the_committer_writes_what_was_queued_first() {
        let store = Arc::new(MemoryAudit::default());
        let committer = GroupCommitter::start(store.clone(), 4);
        let receipts: Vec<AuditReceipt> = (0..30).map(|i| committer.submit(entry(i))).collect();
        drop(committer);
        assert_eq!(store.all().len(), 30);
        for (i, r) in receipts.into_iter().enumerate() {
            assert_eq!(r.wait().unwrap().entry.detail, format!("query {i}"));
        }
    }

    #[test]
    fn a_job_answered_by_nobody_is_an_error_not_a_hang() {
        let slot = Arc::new(Slot::default());
        drop(Responder(Some(slot.clone())));
        assert!(AuditReceipt { slot }.wait().is_err());
    }

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_receipt_is_a_future_woken_when_the_answer_comes() {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        let slot = Arc::new(Slot::default());
        let responder = Responder(Some(slot.clone()));
        let mut receipt = AuditReceipt { slot };

        assert!(Pin::new(&mut receipt).poll(&mut cx).is_pending());
        responder.send(Err(Arc::new(StoreError::Backend("x".into()))));
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(matches!(Pin::new(&mut receipt).poll(&mut cx), Poll::Ready(Err(_))));
    }
}

//! The order in which the end of a first load builds the indexes it left out (`initial_load.rs`), on
//! two connections at once.
//!
//! Two index builds on one table share it (both take its SHARE lock), but adding a primary key
//! (`ALTER TABLE … ADD CONSTRAINT`) takes the table whole. So each connection takes the first index in
//! the queue whose table the other connection is not using in a way that excludes it, waits when there
//! is none, and the queue is ordered keys first, then longest first, so that a key is added while its
//! table is free and the last build to finish is a short one:
//!
//! ```text
//! connection 1:  records_pkey ─ subject_keys_pkey ─ records_id ───────── subjects_grams
//! connection 2:  record_keys_pkey ──── records_item_date ─────── subject_keys_unique
//! ```
//!
//! A build whose table another session holds (a writer, or autovacuum against a key) is put back
//! ([`Queue::busy`]) and waited for only when every index left is in that state.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// What the queue knows of an index: its name, and its table with whether building it takes the
/// table whole (a key). An index of a table the queue does not know shares with everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Job {
    pub name: String,
    pub table: Option<&'static str>,
    pub whole: bool,
}

/// What a connection is to do next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Next {
    pub job: Job,
    /// Every index left was found busy: wait for the table's lock instead of trying it.
    pub wait: bool,
}

struct Pending {
    job: Job,
    busy: bool,
}

#[derive(Default)]
struct State {
    pending: Vec<Pending>,
    /// Tables of the builds running, with whether each takes its table whole.
    running: Vec<(&'static str, bool)>,
}

impl State {
    fn free(&self, job: &Job) -> bool {
        let Some(table) = job.table else { return true };
        !self.running.iter().any(|(running, whole)| *running == table && (*whole || job.whole))
    }

    /// The first index free to build that nobody found busy, else the first free one (to wait for).
    fn next(&mut self) -> Option<Next> {
        let at = self.pending.iter().position(|p| !p.busy && self.free(&p.job));
        let (at, wait) = match at {
            Some(at) => (at, false),
            None => (self.pending.iter().position(|p| self.free(&p.job))?, true),
        };
        let Pending { job, .. } = self.pending.remove(at);
        if let Some(table) = job.table {
            self.running.push((table, job.whole));
        }
        Some(Next { job, wait })
    }

    fn finished(&mut self, job: &Job) {
        if let Some(table) = job.table
            && let Some(at) = self.running.iter().position(|running| *running == (table, job.whole))
        {
            self.running.remove(at);
        }
    }
}

/// The indexes left to build, shared by the connections that build them.
pub(crate) struct Queue {
    state: Mutex<State>,
    changed: Condvar,
}

impl Queue {
    /// A queue of `jobs`, in the order given (see the module's documentation for the order to give).
    pub fn new(jobs: impl IntoIterator<Item = Job>) -> Queue {
        let pending = jobs.into_iter().map(|job| Pending { job, busy: false }).collect();
        Queue { state: Mutex::new(State { pending, running: Vec::new() }), changed: Condvar::new() }
    }

    pub fn len(&self) -> usize {
        self.lock().pending.len()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next index to build, waiting while every one left needs a table that a build of this queue
    /// holds; `None` when none is left. The caller answers with [`Queue::done`] or [`Queue::busy`].
    pub fn take(&self) -> Option<Next> {
        let mut state = self.lock();
        loop {
            if state.pending.is_empty() {
                return None;
            }
            if let Some(next) = state.next() {
                return Some(next);
            }
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// The build of `job` has ended (built, failed or found struck off already).
    pub fn done(&self, job: &Job) {
        self.lock().finished(job);
        self.changed.notify_all();
    }

    /// `job` was not built because another session holds its table: it goes back, behind the others.
    pub fn busy(&self, job: Job) {
        let mut state = self.lock();
        state.finished(&job);
        state.pending.push(Pending { job, busy: true });
        drop(state);
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn job(name: &str, table: &'static str, whole: bool) -> Job {
        Job { name: name.to_owned(), table: Some(table), whole }
    }

    fn name(next: Option<Next>) -> String {
        next.map(|next| next.job.name).unwrap_or_default()
    }

    #[test]
    fn a_table_taken_whole_is_not_shared_and_the_next_free_index_goes_first() {
        let queue = Queue::new([
            job("records_pkey", "records", true),
            job("records_item_date", "records", false),
            job("subjects_grams", "subjects", false),
        ]);
        let key = queue.take().unwrap();
        assert_eq!(key.job.name, "records_pkey");
        assert_eq!(name(queue.take()), "subjects_grams", "records is taken whole");
        queue.done(&key.job);
        assert_eq!(name(queue.take()), "records_item_date");
        assert!(queue.take().is_none());
    }

    #[test]
    fn indexes_of_one_table_are_built_side_by_side_but_a_key_waits_for_them() {
        let queue = Queue::new([
            job("records_item_date", "records", false),
            job("records_id", "records", false),
            job("records_pkey", "records", true),
        ]);
        let first = queue.take().unwrap();
        let second = queue.take().unwrap();
        assert_eq!((first.job.name.as_str(), second.job.name.as_str()), ("records_item_date", "records_id"));
        queue.done(&first.job);
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| queue.take());
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!waiting.is_finished(), "the key waits while records_id is built");
            queue.done(&second.job);
            assert_eq!(name(waiting.join().unwrap()), "records_pkey");
        });
    }

    #[test]
    fn a_busy_index_is_tried_after_the_others_and_then_waited_for() {
        let queue = Queue::new([job("records_id", "records", false), job("subjects_grams", "subjects", false)]);
        let ids = queue.take().unwrap();
        queue.busy(ids.job);
        let grams = queue.take().unwrap();
        assert_eq!((grams.job.name.as_str(), grams.wait), ("subjects_grams", false));
        let ids = queue.take().unwrap();
        assert_eq!((ids.job.name.as_str(), ids.wait), ("records_id", true), "nothing else is left: wait for it");
    }

    #[test]
    fn an_index_of_a_table_the_queue_does_not_know_shares_with_everything() {
        let queue =
            Queue::new([job("records_pkey", "records", true), Job { name: "other".into(), table: None, whole: false }]);
        assert_eq!(name(queue.take()), "records_pkey");
        assert_eq!(name(queue.take()), "other");
        assert_eq!(queue.len(), 0);
    }
}

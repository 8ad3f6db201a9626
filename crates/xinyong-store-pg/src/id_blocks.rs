//! Subject and record ids for batches: reserved on their sequences in blocks that this process keeps
//! from one batch to the next, the next block asked for before the one in use runs out.
//!
//! A reservation is a statement on the batch's connection whose answer the batch needs, so it waits
//! for everything sent before it (`conn_thread.rs`): the server's whole queue, then the batch's next
//! statement. Made for every chunk that creates subjects, that wait took turns with the server's work
//! for much of a load (`docs/scale.md` §6). Here a block half used asks for the next without waiting
//! ([`take_ids`]), and the answer is back by the time it is needed; a batch that commits hands what is
//! left of its blocks to the next batch of this process.
//!
//! Invariants:
//! - an id is given once: sequences are not transactional, so what a reservation handed out stays
//!   ours whatever becomes of the batch that asked; a batch that rolls back loses the ids it took and
//!   a block it asked for and had not received, nothing else;
//! - committed ids grow in commit order, as with a reservation per chunk: the blocks are used in the
//!   order they were reserved, and dropped when another process's batch committed since ours
//!   ([`ProcessIds::keep_if`], the `ingest_commits` stamp the subject cache is checked by), so no
//!   subject created later carries an id below one of another process's (a complete subject cache
//!   answers an organisation code with the smallest id, the oldest subject);
//! - ids are left unused (gaps, as a rolled-back batch leaves) only when a block lacks what a chunk
//!   needs, when the process ends, or when another process committed: at most two blocks each time.
//!
//! ```text
//! block in use:  [1000 ······ 1499|1500 ···· 1999]   half used → ask for [2000, 4000) now
//! server queue:   COPY chunk 7 ─ COPY chunk 8 ─ reserve ─ COPY chunk 9
//! ```

use xinyong_store::{Result, StoreError};

use crate::conn_thread::{Answer, ConnThread};
use crate::pool::Conn;

pub(crate) const SUBJECT_IDS: &str = "SELECT setval('subject_ids', nextval('subject_ids') + $1 - 1)";
pub(crate) const RECORD_IDS: &str = "SELECT setval('record_ids', nextval('record_ids') + $1 - 1)";

/// Ids of one sequence reserved and not yet used: the block in use, and the one reserved after it.
#[derive(Debug, Default)]
pub(crate) struct IdBlock {
    next: i64,
    end: i64,
    last_size: i64,
    /// The block reserved after this one (first id, size), taken when this one runs out.
    following: Option<(i64, i64)>,
}

impl IdBlock {
    /// Blocks grow to this many ids: what the process may leave unused when it ends is at most twice
    /// this, and a load of ten million records (a million subjects) reserves record ids ~150 times.
    pub(crate) const MAX: i64 = 1 << 16;

    /// The first of `n` consecutive ids, from the block in use or else the following one, or `None`
    /// when neither has `n` left.
    pub(crate) fn take(&mut self, n: i64) -> Option<i64> {
        if self.end - self.next < n {
            let (first, size) = self.following.filter(|&(_, size)| size >= n)?;
            self.following = None;
            self.use_block(first, size);
        }
        self.next += n;
        Some(self.next - n)
    }

    /// The size of the next block for a chunk of `n`: twice the last, or `n` if more.
    pub(crate) fn next_size(&self, n: i64) -> i64 {
        n.max((self.last_size * 2).min(IdBlock::MAX))
    }

    /// Uses a block reserved just now; what was left of the others stays unused, so that ids are
    /// used in the order reserved.
    pub(crate) fn refill(&mut self, first: i64, size: i64) {
        self.following = None;
        self.use_block(first, size);
    }

    /// Files the block reserved after the one in use.
    pub(crate) fn follow(&mut self, first: i64, size: i64) {
        self.following = Some((first, size));
    }

    /// Whether the next block should be asked for: none is, and less than half of this one is left.
    pub(crate) fn runs_low(&self) -> bool {
        self.following.is_none() && (self.end - self.next) * 2 < self.last_size
    }

    fn use_block(&mut self, first: i64, size: i64) {
        (self.next, self.end, self.last_size) = (first, first + size, size);
    }
}

/// The ids this process has reserved, kept between its batches (`PgStore`), and the version of the
/// store's batches they are good for.
#[derive(Debug, Default)]
pub(crate) struct ProcessIds {
    pub(crate) subjects: IdBlock,
    pub(crate) records: IdBlock,
    /// The `ingest_commits` value of this process's last commit.
    stamp: Option<i64>,
}

impl ProcessIds {
    /// Keeps the blocks if the store's batches are where this process's last commit left them (`commits`,
    /// read under the ingest lock); drops them if another process's batch committed since, or the
    /// sequences were set back (a restore).
    pub(crate) fn keep_if(&mut self, commits: i64) {
        if self.stamp != Some(commits) {
            *self = ProcessIds::default();
        }
    }

    /// Notes this process's commit, and files the blocks its batch asked for and did not use.
    pub(crate) fn committed(&mut self, commits: i64, asked: Asked) {
        self.stamp = Some(commits);
        for (block, asked) in [(&mut self.subjects, asked.subjects), (&mut self.records, asked.records)] {
            // Asked before the commit, on the same connection: answered by now.
            if let Some((answer, size)) = asked
                && let Ok(first) = answer.wait()
            {
                block.follow(first, size);
            }
        }
    }
}

/// The blocks a batch has asked for and not yet received, with their sizes.
#[derive(Default)]
pub(crate) struct Asked {
    pub(crate) subjects: Option<(Answer<i64>, i64)>,
    pub(crate) records: Option<(Answer<i64>, i64)>,
}

/// The first of `n` consecutive new ids from `block`, reserved with `sequence_sql` (one of
/// [`SUBJECT_IDS`], [`RECORD_IDS`]) on the batch's connection. Waits for the server only when no
/// block has `n` ids left and none was asked for; asks for the next block once this one is half used.
pub(crate) fn take_ids(
    conn: &mut ConnThread<'_>,
    block: &mut IdBlock,
    asked: &mut Option<(Answer<i64>, i64)>,
    sequence_sql: &'static str,
    n: i64,
) -> Result<i64> {
    let first = match block.take(n) {
        Some(first) => first,
        None => {
            if let Some((answer, size)) = asked.take() {
                block.follow(answer.wait()?, size);
            }
            match block.take(n) {
                Some(first) => first,
                None => {
                    let size = block.next_size(n);
                    block.refill(conn.call(move |c| reserve(c, sequence_sql, size))?, size);
                    block.take(n).ok_or_else(|| StoreError::Backend(format!("{size} ids reserved, {n} wanted")))?
                }
            }
        }
    };
    if asked.is_none() && block.runs_low() {
        let size = block.next_size(n);
        *asked = Some((conn.ask(move |c| reserve(c, sequence_sql, size))?, size));
    }
    Ok(first)
}

/// Reserves `n` consecutive values of a sequence (the ingest lock keeps other batches out); returns
/// the first.
fn reserve(c: &mut Conn, sequence_sql: &'static str, n: i64) -> Result<i64> {
    let last: i64 = c.query_one(sequence_sql, &[&n])?.get(0);
    Ok(last - n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_double_until_the_cap_and_fit_a_larger_chunk() {
        let mut ids = IdBlock::default();
        assert_eq!(ids.take(3), None, "nothing reserved yet");
        assert_eq!(ids.next_size(3), 3, "the first block is what the first chunk needs");
        ids.refill(100, 3);
        assert_eq!(ids.take(2), Some(100));
        assert_eq!(ids.take(2), None, "one id left");
        assert_eq!(ids.next_size(2), 6);
        assert_eq!(ids.next_size(50), 50, "a larger chunk gets what it needs");
        ids.refill(200, 6);
        assert_eq!((ids.take(2), ids.take(4), ids.take(1)), (Some(200), Some(202), None));
        ids.refill(1, IdBlock::MAX);
        assert_eq!(ids.next_size(1), IdBlock::MAX, "blocks stop growing at the cap");
    }

    #[test]
    fn the_next_block_is_asked_for_once_half_of_one_is_used() {
        let mut ids = IdBlock::default();
        ids.refill(100, 8);
        assert_eq!(ids.take(4), Some(100));
        assert!(!ids.runs_low(), "half is left");
        assert_eq!(ids.take(1), Some(104));
        assert!(ids.runs_low(), "less than half is left");
        ids.follow(200, 16);
        assert!(!ids.runs_low(), "the next one is reserved");
    }

    #[test]
    fn the_following_block_is_used_once_the_one_in_use_lacks_a_chunk() {
        let mut ids = IdBlock::default();
        ids.refill(100, 8);
        ids.follow(300, 16);
        assert_eq!(ids.take(6), Some(100));
        assert_eq!(ids.take(4), Some(300), "two ids of the first block stay unused");
        assert_eq!(ids.take(12), Some(304));
        assert_eq!(ids.take(1), None);
        assert_eq!(ids.next_size(1), 32, "the next block doubles the one last used");
    }

    #[test]
    fn a_block_reserved_now_goes_before_an_older_one_too_small() {
        let mut ids = IdBlock::default();
        ids.refill(100, 4);
        ids.follow(200, 8);
        assert_eq!(ids.take(10), None, "neither block has ten ids");
        ids.refill(500, 16);
        assert_eq!(ids.take(10), Some(500));
        assert_eq!(ids.take(8), None, "the older block is not used after a later one");
    }

    #[test]
    fn blocks_are_kept_only_while_the_store_is_at_this_process_s_last_commit() {
        let mut ids = ProcessIds::default();
        ids.subjects.refill(10, 8);
        ids.keep_if(0);
        assert_eq!(ids.subjects.take(1), None, "no commit of ours yet: nothing is kept");
        ids.subjects.refill(10, 8);
        ids.committed(5, Asked::default());
        ids.keep_if(5);
        assert_eq!(ids.subjects.take(1), Some(10), "still at our commit");
        ids.keep_if(6);
        assert_eq!(ids.subjects.take(1), None, "another process committed");
    }
}

//! A first load builds the indexes whose entries arrive in random order after its rows are in, as the
//! embedded store does (its `initial_load.rs`).
//!
//! Kept row by row, the primary key of `records` (subject, id), the publication index (item number,
//! record date), the name index of subjects (a GIN index of bigrams) and the primary key of
//! `record_keys` (source key, item) take every batch's entries all over themselves; past a few hundred
//! thousand subjects they outgrow `shared_buffers`, and every chunk reads, dirties and writes back
//! index pages (`docs/scale.md` §6: at a million subjects a chunk's `COPY records` costs 2.5 times as
//! much per row as at 100,000). Built once at the end, each is a sort and one sequential write.
//! `records_id` grows at its right edge only, but kept row by row it still made a `COPY` of a load's
//! records about a fifth slower (`docs/scale.md` §6).
//!
//! So [`begin`] drops them when the store holds no records, after writing down how to make each again
//! (`deferred_indexes`, migration 14: an index as `pg_indexes` prints it, a primary key as the
//! `ALTER TABLE` that adds it), and [`build_missing`] runs whatever is written down there, each in the
//! transaction that removes its row: at the end of the load, and when the store opens and no load is
//! running, which repairs a load that stopped in between. Meanwhile every query answers the same, only
//! slower (a sequential scan where the index would have served).
//!
//! Two of them a batch looks rows up by: `record_keys`' primary key (source keys) and `records_id`
//! (the records a batch replaces, by id). Into a store without subjects either, the two indexes of
//! `subject_keys` (identifiers) are left out too ([`SUBJECT_INDEX`]). A batch of
//! the load knows which of its source keys the load has written (`fresh_keys.rs`) and asks only for
//! those, and replaces records only for those: a load whose files repeat no key needs neither index
//! (the bench's synthetic files repeat none). A batch that does need one of the two (of this process,
//! or of another, which knows none of the load's keys) builds it first, in its own transaction
//! ([`build_now`]); the load then goes on with it.
//!
//! The load holds a session-level advisory lock ([`LOCK`]) on a connection of its own from its
//! beginning to its end, so that a store opening meanwhile in another process leaves the indexes to
//! it; a load whose process dies loses the lock with its connection. Every build takes the ingest lock
//! shared, so that it never runs beside a batch (which takes it whole) but may run beside another
//! build: [`build_missing`] builds them on two connections at once, each taking the next from a queue
//! that never has a key added beside another build of its table (`build_queue.rs`). At 100,000
//! subjects the builds took a median 3.3 s so, against 3.8 s with those of `records` on one connection
//! and the others on the second (`docs/scale.md` §6).

use postgres::Config;
use postgres::error::SqlState;
use xinyong_store::{Result, StoreError};

use crate::batches::INGEST_LOCK;
use crate::build_queue::{Job, Next, Queue};
use crate::fresh_keys::LoadKeys;
use crate::pool::{Conn, SCHEMA};

/// Advisory lock key of a first load ("xyfirst" in ASCII).
const LOCK: i64 = 0x78_79_66_69_72_73_74;

/// The indexes a first load leaves out, as (table, index): those whose entries a load writes in random
/// order and that no statement of a batch needs, and [`ID_INDEX`].
const DEFERRED: &[(&str, &str)] =
    &[("records", "records_item_date"), ("subjects", "subjects_grams"), ("records", ID_INDEX)];

/// The primary keys a first load leaves out, as (table, constraint). A batch finds the records it
/// replaces by id ([`ID_INDEX`]), and their source keys in `record_keys` only when it may have written
/// them before ([`KEY_INDEX`]).
const DEFERRED_KEYS: &[(&str, &str)] = &[("records", "records_pkey"), ("record_keys", KEY_INDEX)];

/// Left out too when the store holds no subjects either: the indexes of `subject_keys`, which a batch
/// needs only to look subjects up by identifier. A batch of the load looks up none while the process's
/// subject cache holds every subject of the store (`xinyong_store::subject_cache`: complete from the
/// store without subjects, through batches of this process alone, until something empties it); one
/// that must look a subject up builds both first ([`SUBJECT_KEY_INDEXES`]). Only batches write
/// `subject_keys`, so nothing else can break the uniqueness meanwhile; a load that did would fail to
/// build the unique index at its end, loudly.
const SUBJECT_INDEX: (&str, &str) = ("subject_keys", "subject_keys_unique");
const SUBJECT_KEY: (&str, &str) = ("subject_keys", "subject_keys_pkey");

/// The indexes a batch builds before it looks subjects up by identifier, if a first load left them out.
pub(crate) const SUBJECT_KEY_INDEXES: [&str; 2] = [SUBJECT_KEY.1, SUBJECT_INDEX.1];

/// The primary key of `record_keys`, by which a batch looks source keys up; built at once by a batch
/// of the load that needs it ([`build_now`]).
pub(crate) const KEY_INDEX: &str = "record_keys_pkey";

/// The index of `records` by id, by which a batch finds the records it replaces; built at once by a
/// batch of the load that replaces one.
pub(crate) const ID_INDEX: &str = "records_id";

/// `maintenance_work_mem` while an index is built, four times the server's default, so that sorting ten
/// million entries spills fewer runs to disk (not measured apart). The server's memory, not ours, and
/// for one statement at a time.
const BUILD_MEMORY: &str = "256MB";

/// A first load in progress: its connection holds [`LOCK`].
pub(crate) struct FirstLoad {
    conn: Conn,
    /// For the second connection of the builds at its end.
    config: Config,
    /// The source keys its batches have written (`fresh_keys.rs`).
    pub(crate) keys: LoadKeys,
    /// `ingest_commits` when the load began, if the store held no subjects then (their identifiers'
    /// indexes are left out, and the subject cache starts complete at that version).
    pub(crate) no_subjects_at: Option<i64>,
}

/// Leaves the indexes of [`DEFERRED`] and [`DEFERRED_KEYS`] out when the store holds no records (and
/// those of `subject_keys` when it holds no subjects either: [`SUBJECT_INDEX`]) and
/// no other first load runs; `None` otherwise (nothing left out).
pub(crate) fn begin(config: &Config) -> Result<Option<FirstLoad>> {
    let mut conn = Conn::connect(config)?;
    if !conn.query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK])?.get::<_, bool>(0) {
        return Ok(None);
    }
    build_missing(&mut conn, config)?;
    let dropped = conn.transaction(|c| {
        // Under the ingest lock no batch is writing records between the check and the drop.
        c.execute("SELECT pg_advisory_xact_lock($1)", &[&INGEST_LOCK])?;
        if c.query_one("SELECT EXISTS (SELECT 1 FROM records)", &[])?.get::<_, bool>(0) {
            return Ok(None);
        }
        let commits = crate::batches::ingest_commits(c)?;
        let no_subjects = !c.query_one("SELECT EXISTS (SELECT 1 FROM subjects)", &[])?.get::<_, bool>(0);
        for (_, name) in DEFERRED.iter().chain(no_subjects.then_some(&SUBJECT_INDEX)) {
            leave_index_out(c, name)?;
        }
        for (table, key) in DEFERRED_KEYS.iter().chain(no_subjects.then_some(&SUBJECT_KEY)) {
            leave_key_out(c, table, key)?;
        }
        Ok(Some((commits, no_subjects)))
    })?;
    let Some((commits, no_subjects)) = dropped else {
        unlock(&mut conn);
        return Ok(None);
    };
    Ok(Some(FirstLoad {
        conn,
        config: config.clone(),
        keys: LoadKeys::new(commits),
        no_subjects_at: no_subjects.then_some(commits),
    }))
}

/// Writes down how to make the index `name` again, and drops it.
fn leave_index_out(c: &mut Conn, name: &str) -> Result<()> {
    c.execute(
        "INSERT INTO deferred_indexes (name, definition)
         SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = $2",
        &[&SCHEMA, &name],
    )?;
    c.client.batch_execute(&format!("DROP INDEX IF EXISTS {name}")).map_err(crate::db_err)
}

/// Writes down how to add the constraint `key` of `table` again, and drops it.
fn leave_key_out(c: &mut Conn, table: &str, key: &str) -> Result<()> {
    c.execute(
        "INSERT INTO deferred_indexes (name, definition)
         SELECT conname, format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', $1::text, $2::text, conname,
             pg_get_constraintdef(oid))
         FROM pg_constraint
         WHERE connamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1::text) AND conname = $3",
        &[&SCHEMA, &table, &key],
    )?;
    c.client.batch_execute(&format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {key}")).map_err(crate::db_err)
}

/// Builds what the load left out and ends it.
pub(crate) fn finish(mut load: FirstLoad) -> Result<()> {
    let built = build_missing(&mut load.conn, &load.config);
    unlock(&mut load.conn);
    built
}

/// At the opening of a store: builds what a first load that stopped left out, unless a first load is
/// running (then the indexes are its to build). A build that fails is logged, not fatal: the store
/// answers without the index, only slower, and the next opening tries again.
pub(crate) fn repair(config: &Config, conn: &mut Conn) -> Result<()> {
    if !conn.query_one("SELECT EXISTS (SELECT 1 FROM deferred_indexes)", &[])?.get::<_, bool>(0) {
        return Ok(());
    }
    let mut own = Conn::connect(config)?;
    if !own.query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK])?.get::<_, bool>(0) {
        return Ok(());
    }
    // Each failure is logged where it happens.
    let _ = build_missing(&mut own, config);
    unlock(&mut own);
    Ok(())
}

/// Builds every index written down in `deferred_indexes`, each in the transaction that removes its row,
/// on two connections at once (on one if a second cannot be opened), in the order of [`BUILD_ORDER`]
/// (`build_queue.rs`). One that fails stays written down and does not keep the others from being
/// built; the first failure is the answer.
fn build_missing(conn: &mut Conn, config: &Config) -> Result<()> {
    let mut pending: Vec<String> =
        conn.query("SELECT name FROM deferred_indexes ORDER BY name", &[])?.into_iter().map(|row| row.get(0)).collect();
    // Stable: names of no list stay in alphabetical order, last.
    pending.sort_by_key(|name| BUILD_ORDER.iter().position(|known| known == name).unwrap_or(BUILD_ORDER.len()));
    let queue = Queue::new(pending.into_iter().map(|name| {
        let (table, whole) = match table_of(&name) {
            Some((table, whole)) => (Some(table), whole),
            None => (None, false),
        };
        Job { name, table, whole }
    }));
    if queue.len() < 2 {
        return build_queued(conn, &queue);
    }
    let mut second = match Conn::connect(config) {
        Ok(second) => second,
        Err(e) => {
            tracing::warn!(error = %e, "a second connection for the index builds failed; building on one");
            return build_queued(conn, &queue);
        }
    };
    std::thread::scope(|scope| {
        let aside = scope.spawn(|| build_queued(&mut second, &queue));
        let here = build_queued(conn, &queue);
        let there = aside.join().unwrap_or_else(|_| Err(StoreError::Backend("an index build panicked".into())));
        here.and(there)
    })
}

/// The indexes and keys a first load leaves out, in the order they are built again: the keys first,
/// which take their tables whole, while the tables are free; then the longest to build first, so that
/// the last to finish is a short one. At 100,000 subjects, built two at a time: the key of `records`
/// 1.1–1.3 s, of `record_keys` 1.4 s, of `subject_keys` 0.2 s, the publication index 1.3 s,
/// `records_id` 1.1 s, the name index 0.6 s, the unique index of `subject_keys` 0.2 s
/// (`docs/scale.md` §6).
const BUILD_ORDER: [&str; 7] =
    ["records_pkey", KEY_INDEX, SUBJECT_KEY.1, "records_item_date", ID_INDEX, "subjects_grams", SUBJECT_INDEX.1];

/// The table of the index or key `name` of the lists above, with whether building it takes the table
/// whole (a key, added by `ALTER TABLE`).
fn table_of(name: &str) -> Option<(&'static str, bool)> {
    let index = DEFERRED.iter().chain([&SUBJECT_INDEX]).map(|(table, index)| (table, index, false));
    let key = DEFERRED_KEYS.iter().chain([&SUBJECT_KEY]).map(|(table, key)| (table, key, true));
    index.chain(key).find(|(_, known, _)| **known == name).map(|(table, _, whole)| (*table, whole))
}

/// Builds indexes from `queue` on `conn` until none is left.
fn build_queued(conn: &mut Conn, queue: &Queue) -> Result<()> {
    let mut first_failure = Ok(());
    while let Some(Next { job, wait }) = queue.take() {
        match conn.transaction(|c| build_unless_busy(c, &job, wait)) {
            Ok(true) => queue.done(&job),
            Ok(false) => queue.busy(job),
            Err(e) => {
                tracing::error!(index = %job.name, error = %e, "building an index a first load left out failed");
                queue.done(&job);
                first_failure = first_failure.and(Err(e));
            }
        }
    }
    first_failure
}

/// As [`build_now`], but first takes the lock the build needs on its table without waiting, unless
/// `wait`: answers false, having done nothing, if another session holds a lock that conflicts with it.
/// The ingest lock comes first, as in [`build_now`]: a batch that holds it and then writes the table
/// would otherwise wait for us while we wait for it.
fn build_unless_busy(c: &mut Conn, job: &Job, wait: bool) -> Result<bool> {
    c.execute("SELECT pg_advisory_xact_lock_shared($1)", &[&INGEST_LOCK])?;
    if let Some(table) = job.table
        && !wait
    {
        let mode = if job.whole { "ACCESS EXCLUSIVE" } else { "SHARE" };
        c.client.batch_execute("SAVEPOINT lock_now").map_err(crate::db_err)?;
        match c.client.batch_execute(&format!("LOCK TABLE {table} IN {mode} MODE NOWAIT")) {
            Ok(()) => {}
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                c.client.batch_execute("ROLLBACK TO SAVEPOINT lock_now").map_err(crate::db_err)?;
                return Ok(false);
            }
            Err(e) => return Err(crate::db_err(e)),
        }
    }
    build_now(c, &job.name)?;
    Ok(true)
}

/// Builds the index `name` if it is still written down in `deferred_indexes`, and strikes it off, in the
/// caller's transaction (rolled back, the index is left out and written down again). Under the ingest
/// lock, shared (a batch holds it whole already; another build may hold it too): a batch of another
/// process may have built it meanwhile, and an index that exists already (made again by a migration)
/// is only struck off.
pub(crate) fn build_now(c: &mut Conn, name: &str) -> Result<()> {
    c.execute("SELECT pg_advisory_xact_lock_shared($1)", &[&INGEST_LOCK])?;
    let Some(row) = c.query_opt("SELECT definition FROM deferred_indexes WHERE name = $1", &[&name])? else {
        return Ok(());
    };
    let definition: String = row.get(0);
    let exists: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = $2)",
            &[&SCHEMA, &name],
        )?
        .get(0);
    if !exists {
        tracing::info!(index = %name, "building an index a first load left out");
        c.client
            .batch_execute(&format!("SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'; {definition}"))
            .map_err(crate::db_err)?;
    }
    c.execute("DELETE FROM deferred_indexes WHERE name = $1", &[&name])?;
    Ok(())
}

/// Gives [`LOCK`] back; a failure is only logged, since the lock goes with the connection anyway.
fn unlock(conn: &mut Conn) {
    if let Err(e) = conn.query_one("SELECT pg_advisory_unlock($1)", &[&LOCK]) {
        tracing::warn!(error = %e, "giving back the first load's lock failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_left_out_has_its_place_in_the_build_order_and_its_table() {
        let left_out: Vec<&str> =
            DEFERRED.iter().chain(DEFERRED_KEYS).chain([&SUBJECT_INDEX, &SUBJECT_KEY]).map(|(_, name)| *name).collect();
        let mut ordered = BUILD_ORDER.to_vec();
        ordered.sort_unstable();
        let mut expected = left_out.clone();
        expected.sort_unstable();
        assert_eq!(ordered, expected);
        assert_eq!(table_of("records_pkey"), Some(("records", true)));
        assert_eq!(table_of("records_id"), Some(("records", false)));
        assert_eq!(table_of("subject_keys_unique"), Some(("subject_keys", false)));
        assert_eq!(table_of("broken"), None);
    }
}

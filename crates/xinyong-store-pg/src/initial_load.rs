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
//! build: [`build_missing`] builds the indexes of `records` on one connection and the others on a
//! second, at once (at 100,000 subjects 2.1–2.3 s against 2.7–2.8 s one after the other;
//! `docs/scale.md` §6). Two builds on the same table would wait for each other's table lock.

use postgres::Config;
use xinyong_store::{Result, StoreError};

use crate::batches::INGEST_LOCK;
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

/// Whether the index or key `name` of [`DEFERRED`] or [`DEFERRED_KEYS`] is one of `records`.
fn on_records(name: &str) -> bool {
    DEFERRED.iter().chain(DEFERRED_KEYS).any(|(table, index)| *table == "records" && *index == name)
}

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

/// Builds every index written down in `deferred_indexes`, each in the transaction that removes its row:
/// those of `records` on `conn`, the others at the same time on a second connection (on `conn` after
/// the first ones if it cannot be opened). One that fails stays written down and does not keep the
/// others from being built; the first failure is the answer.
fn build_missing(conn: &mut Conn, config: &Config) -> Result<()> {
    let pending: Vec<String> =
        conn.query("SELECT name FROM deferred_indexes ORDER BY name", &[])?.into_iter().map(|row| row.get(0)).collect();
    let (records, others): (Vec<String>, Vec<String>) = pending.into_iter().partition(|name| on_records(name));
    if records.is_empty() || others.is_empty() {
        return build_each(conn, records.into_iter().chain(others));
    }
    let mut second = match Conn::connect(config) {
        Ok(second) => second,
        Err(e) => {
            tracing::warn!(error = %e, "a second connection for the index builds failed; building on one");
            return build_each(conn, records.into_iter().chain(others));
        }
    };
    std::thread::scope(|scope| {
        let aside = scope.spawn(move || build_each(&mut second, others));
        let here = build_each(conn, records);
        let there = aside.join().unwrap_or_else(|_| Err(StoreError::Backend("an index build panicked".into())));
        here.and(there)
    })
}

/// Builds `names` one after the other on `conn` (see [`build_missing`]).
fn build_each(conn: &mut Conn, names: impl IntoIterator<Item = String>) -> Result<()> {
    let mut first_failure = Ok(());
    for name in names {
        if let Err(e) = conn.transaction(|c| build_now(c, &name)) {
            tracing::error!(index = %name, error = %e, "building an index a first load left out failed");
            first_failure = first_failure.and(Err(e));
        }
    }
    first_failure
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

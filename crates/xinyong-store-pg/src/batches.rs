//! Batches: the ingest hot path. A batch is one transaction on one pooled connection: dropped without
//! `commit`, it rolls back and nothing of it remains; committed, it is durable (`synchronous_commit`
//! on) before the caller reports it.
//!
//! Rows are written a chunk at a time, set-based, never row by row:
//! 1. subjects: the process's subject cache, then one lookup of the chunk's other identifiers in
//!    `subject_keys`; new subjects get ids from blocks reserved ahead (`id_blocks.rs`) and go in
//!    by `COPY`; renames are one `UPDATE … FROM unnest(…)`; every name seen is kept in
//!    `subject_names`;
//! 2. records: one lookup in `record_keys` of those of the chunk's source keys that may be stored
//!    (`fresh_keys.rs`: often none, such as on an item's first load); new records go in by `COPY`
//!    (records and record_keys); changed ones are copied into a temporary table and moved in one
//!    statement (the old version into `record_versions`, the new one in its place, version + 1);
//!    identical content is left alone.
//!
//! The batch's connection runs on a thread of its own (`conn_thread.rs`): the writes of a chunk are
//! sent without waiting for them, and only lookups wait for the server. A chunk whose subjects the
//! cache knows and whose source keys are new (an item's first load) needs no answer at all, so the
//! server writes one chunk while the next is built. Subject and record ids come from blocks the
//! process reserves ahead, without waiting (`id_blocks.rs`).
//!
//! Rows of a chunk are processed in order: a source key repeated within a chunk splits it, so the
//! second occurrence sees the first (as the embedded store, which writes row by row).
//!
//! Batches of one platform are serialised by a transaction-level advisory lock (the embedded store
//! has one writer too): subject ids and record ids are then reserved without races, and two batches
//! never race to create the same subject.
//!
//! The subject cache (`xinyong_store::subject_cache`) lasts from one batch of this process to the next.
//! Only batches write subjects, and every batch takes a value of the sequence `ingest_commits` before
//! it commits: the cache is stamped with ours, and a batch that finds the sequence elsewhere under the
//! lock empties it, since another process's batch may have created or renamed subjects meanwhile.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Mutex, MutexGuard};

// The writer thread hashes every row's identifier and source key several times; with the standard
// SipHash that was about a fifth of its samples (`docs/scale.md` §6). foldhash is only minimally
// DoS-resistant: these maps hold what one batch's files name, for one chunk or one batch.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use xinyong_domain::ids::Identifier;
use xinyong_domain::record::UpsertOutcome;
use xinyong_domain::subject::SubjectClaim;
use xinyong_store::commitment::CommitmentStep;
use xinyong_store::search::names::{bigrams, name_key, rank_len, start_gram};
use xinyong_store::subject_cache::SubjectCache;
use xinyong_store::vault::Vault;
use xinyong_store::{
    BatchMeta, BatchReport, BatchStatus, BatchStore, BatchWriter, PreparedRecord, RejectedRow, Result, RowIssue,
    StoreError, WriteOutcome,
};

use crate::conn_thread::ConnThread;
use crate::copy::CopyRows;
use crate::fresh_keys::FreshKeys;
use crate::id_blocks::{Asked, ProcessIds, RECORD_IDS, SUBJECT_IDS, take_ids};
use crate::initial_load::{FirstLoad, ID_INDEX, KEY_INDEX, SUBJECT_KEY_INDEXES};
use crate::pool::Conn;
use crate::subjects::time;
use crate::{PgStore, db_err, poisoned};

/// Advisory lock key of ingest ("xyingest" in ASCII).
pub(crate) const INGEST_LOCK: i64 = 0x78_79_69_6e_67_65_73_74;

/// The `tsvector` text of a name: its start token at position 1, then its bigrams (see
/// `xinyong_store::search::names`). Lexemes hold only letters, digits and the start marker.
pub(crate) fn grams_tsvector(name: &str) -> String {
    let key = name_key(name);
    let Some(start) = start_gram(&key) else { return String::new() };
    let mut out = String::with_capacity(key.len() * 12 + 12);
    out.push('\'');
    out.push_str(&start);
    out.push_str("':1");
    for (i, gram) in bigrams(&key).enumerate() {
        out.push_str(" '");
        out.push_str(&gram);
        out.push_str("':");
        out.push_str(&(i + 2).to_string());
    }
    out
}

struct PgBatch<'a> {
    /// The batch's connection, on a thread of its own: a chunk's `COPY`s go ahead while the next is
    /// built (`conn_thread.rs`).
    conn: ConnThread<'a>,
    vault: &'a Vault,
    meta: BatchMeta,
    now: String,
    /// The process's subject cache, held for the batch (see the module doc).
    subjects: MutexGuard<'a, SubjectCache>,
    issue_seq: i64,
    /// Which source keys of the item may be stored already (fresh_keys.rs).
    fresh_keys: FreshKeys,
    /// The store's first load, which keeps the source keys its batches wrote (`initial_load.rs`).
    first_load: &'a Mutex<Option<FirstLoad>>,
    /// The indexes of its lookups that a first load has left out, still to build.
    left_out: LeftOut,
    /// The same when the batch opened: rolling back to the savepoint `rows` leaves them out again.
    left_out_at_open: LeftOut,
    /// The item's number in `item_numbers`, written with each new record.
    item_no: i32,
    /// The ids this process has reserved, held for the batch (`id_blocks.rs`).
    ids: MutexGuard<'a, ProcessIds>,
    /// The next blocks of ids, asked for and not yet received.
    asked: Asked,
    /// Binary COPY buffers sent with a chunk's rows and given back emptied, for the next chunks (no
    /// fresh pages for every chunk).
    spare: Receiver<CopyRows>,
    give_back: Sender<CopyRows>,
    open: bool,
}

impl BatchStore for PgStore {
    fn begin_batch(&self, meta: BatchMeta) -> Result<Box<dyn BatchWriter + '_>> {
        // Taken before a connection (the subject cache, then the ids), so that batches of this process
        // wait for each other holding none.
        let mut subjects = self.subjects.lock().map_err(|_| poisoned())?;
        let mut ids = self.ids.lock().map_err(|_| poisoned())?;
        let mut conn = self.pool.get()?;
        conn.begin()?;
        let now = meta.started_at.to_rfc3339();
        let opened = match open_batch(&mut conn, &meta, &now) {
            Ok(opened) => opened,
            Err(e) => {
                conn.rollback();
                return Err(e);
            }
        };
        subjects.check(opened.commits);
        ids.keep_if(opened.commits);
        let mut conn = ConnThread::start(conn)?;
        // Under the lock no other batch writes records, so an item without records now gets only
        // those this batch writes, and a first load knows the keys of every item it wrote, unless
        // another process's batch committed in between (fresh_keys.rs). Taken once nothing can fail
        // before the batch exists, whose drop ends the load's tracking.
        let known = match self.first_load.lock() {
            Ok(mut load) => load.as_mut().and_then(|l| l.keys.take(&meta.item, opened.commits)),
            Err(_) => {
                conn.rollback();
                return Err(poisoned());
            }
        };
        let fresh_keys =
            known.unwrap_or_else(|| if opened.has_records { FreshKeys::unknown() } else { FreshKeys::first_load() });
        let (give_back, spare) = channel();
        let batch = PgBatch {
            conn,
            vault: &self.vault,
            meta,
            now,
            subjects,
            issue_seq: 0,
            fresh_keys,
            first_load: &self.first_load,
            left_out: opened.left_out,
            left_out_at_open: opened.left_out,
            item_no: opened.item_no,
            ids,
            asked: Asked::default(),
            spare,
            give_back,
            open: true,
        };
        Ok(Box::new(batch))
    }

    /// Into a store without records, leaves out the indexes that a load fills in random order and
    /// builds them at its end (`initial_load.rs`).
    fn begin_initial_load(&self) -> Result<bool> {
        if self.first_load.lock().map_err(|_| poisoned())?.is_some() {
            return Ok(false);
        }
        // Not under the mutex: beginning waits for the ingest lock, which a batch of this process may
        // hold while it waits for the mutex to give its keys back. Of two beginnings, only one gets
        // the load's advisory lock.
        let Some(load) = crate::initial_load::begin(self.pool.config())? else { return Ok(false) };
        if let Some(version) = load.no_subjects_at {
            // A batch of this process that committed since then stamped a later version: the next
            // batch then finds the cache stale and empties it, which ends its completeness.
            self.subjects.lock().map_err(|_| poisoned())?.start_complete(version);
        }
        *self.first_load.lock().map_err(|_| poisoned())? = Some(load);
        Ok(true)
    }

    fn finish_initial_load(&self) -> Result<()> {
        let load = self.first_load.lock().map_err(|_| poisoned())?.take();
        load.map_or(Ok(()), crate::initial_load::finish)
    }

    fn batch(&self, id: &str) -> Result<Option<BatchReport>> {
        self.with(|c| {
            let Some(mut report) = read_batch(c, id)? else { return Ok(None) };
            for row in c.query(
                "SELECT kind, row, field, code, message FROM batch_issues WHERE batch_id = $1 ORDER BY seq",
                &[&id],
            )? {
                let kind: String = row.get(0);
                let issue = RowIssue {
                    row: row.get::<_, i64>(1) as u64,
                    field: row.get(2),
                    code: row.get(3),
                    message: row.get(4),
                };
                if kind == "warning" { report.warnings.push(issue) } else { report.errors.push(issue) }
            }
            Ok(Some(report))
        })
    }

    fn vault(&self) -> &Vault {
        &self.vault
    }

    fn rejected_rows(&self, batch_id: &str) -> Result<Vec<RejectedRow>> {
        self.with(|c| saved_rejected_rows(c, batch_id))
    }

    fn recent_batches(&self, limit: u32) -> Result<Vec<BatchReport>> {
        self.with(|c| {
            let ids: Vec<String> = c
                .query(
                    "SELECT id FROM batches WHERE status <> 'open' ORDER BY finished_at DESC, id DESC LIMIT $1",
                    &[&i64::from(limit)],
                )?
                .into_iter()
                .map(|r| r.get(0))
                .collect();
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(b) = read_batch(c, &id)? {
                    out.push(b);
                }
            }
            Ok(out)
        })
    }
}

/// What a batch learns as it opens.
struct Opened {
    /// The value of `ingest_commits` under the ingest lock.
    commits: i64,
    /// The item's number in `item_numbers` (given now if the item had none).
    item_no: i32,
    /// Whether the item has records.
    has_records: bool,
    /// The indexes of a batch's lookups that a first load left out.
    left_out: LeftOut,
}

/// The indexes a batch looks rows up by that a first load leaves out (`initial_load.rs`); each is
/// built before the batch's first statement that needs it.
#[derive(Clone, Copy, Debug)]
struct LeftOut {
    /// `record_keys`' primary key: records by source key.
    keys: bool,
    /// `records_id`: changed records, by id.
    ids: bool,
    /// The indexes of `subject_keys`: subjects, by identifier.
    subjects: bool,
}

/// Locks ingest, writes the batch row and sets the transaction up.
fn open_batch(c: &mut Conn, meta: &BatchMeta, now: &str) -> Result<Opened> {
    c.execute("SELECT pg_advisory_xact_lock($1)", &[&INGEST_LOCK])?;
    // Read under the lock: no other batch commits between this and our own commit.
    let commits = ingest_commits(c)?;
    // Every lookup of a batch is by key, a few thousand keys at a time. Statistics lag behind a
    // table that a load is filling, and on them the planner would rather scan `subject_keys` whole
    // for every chunk (a hashed `= ANY`) than probe its index; this transaction never wants that.
    c.client.batch_execute("SET LOCAL enable_seqscan = off").map_err(db_err)?;
    // An item gets its number in its first batch that commits, so an item without one has no records.
    // One with a number may have none (its batches rejected every row): then its keys are looked up
    // though none can be found, which is slower, never wrong. (Not a look into `records`: during a
    // first load its index by item is left out, see `initial_load.rs`.)
    let (item_no, has_records) = item_number(c, &meta.item)?;
    let row = c.query_one(
        "SELECT coalesce(bool_or(name = $1), false), coalesce(bool_or(name = $2), false),
             coalesce(bool_or(name = ANY($3)), false)
         FROM deferred_indexes",
        &[&KEY_INDEX, &ID_INDEX, &SUBJECT_KEY_INDEXES.as_slice()],
    )?;
    let left_out = LeftOut { keys: row.get(0), ids: row.get(1), subjects: row.get(2) };
    insert_batch_row(c, meta, now)?;
    c.client
        .batch_execute(
            "CREATE TEMP TABLE IF NOT EXISTS batch_updates (
                record_id bigint, old_subject_id bigint, subject_id bigint, source_key text,
                record_date date, end_date date, severity text, published boolean, public_until date,
                fields text, secret bytea, content_hash bytea
             ) ON COMMIT DELETE ROWS;
             SAVEPOINT rows",
        )
        .map_err(db_err)?;
    Ok(Opened { commits, item_no, has_records, left_out })
}

/// The value of the sequence `ingest_commits` (0 before any batch committed): read under the ingest
/// lock, it stays until the reader's own batch commits.
pub(crate) fn ingest_commits(c: &mut Conn) -> Result<i64> {
    Ok(c.query_one("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM ingest_commits", &[])?.get(0))
}

/// The item's number, given on its first batch, and whether it had one before. Under the ingest lock no
/// other batch gives one.
fn item_number(c: &mut Conn, item: &str) -> Result<(i32, bool)> {
    if let Some(row) = c.query_opt("SELECT no FROM item_numbers WHERE item = $1", &[&item])? {
        return Ok((row.get(0), true));
    }
    Ok((c.query_one("INSERT INTO item_numbers (item) VALUES ($1) RETURNING no", &[&item])?.get(0), false))
}

/// The batch row is written first (status `open`, invisible to readers until commit) so that issues
/// can refer to it.
fn insert_batch_row(c: &mut Conn, m: &BatchMeta, now: &str) -> Result<()> {
    let item_version = m.item_version as i32;
    let inserted = c.execute(
        "INSERT INTO batches (id, unit, item, item_version, status, format, encoding, file_name,
            all_or_nothing, rows, accepted, rejected, created, updated, unchanged, linked, started_at, finished_at)
         VALUES ($1, $2, $3, $4, 'open', '', '', $5, $6, 0, 0, 0, 0, 0, 0, 0, $7, $7)",
        &[&m.id, &m.unit, &m.item, &item_version, &m.file_name, &m.all_or_nothing, &now],
    );
    match inserted {
        Err(StoreError::Conflict(_)) => Err(StoreError::Conflict(format!("batch {} exists already", m.id))),
        other => other.map(|_| ()),
    }
}

fn finish_batch_row(c: &mut Conn, r: &BatchReport) -> Result<()> {
    let n = |x: u64| x as i64;
    c.execute(
        "UPDATE batches SET status = $2, format = $3, encoding = $4, rows = $5, accepted = $6, rejected = $7,
            created = $8, updated = $9, unchanged = $10, linked = $11, finished_at = $12
         WHERE id = $1",
        &[
            &r.batch,
            &r.status.as_str(),
            &r.format,
            &r.encoding,
            &n(r.rows),
            &n(r.accepted),
            &n(r.rejected),
            &n(r.created),
            &n(r.updated),
            &n(r.unchanged),
            &n(r.linked),
            &r.finished_at.to_rfc3339(),
        ],
    )?;
    Ok(())
}

fn read_batch(c: &mut Conn, id: &str) -> Result<Option<BatchReport>> {
    let Some(r) = c.query_opt(
        "SELECT id, unit, item, item_version, status, format, encoding, file_name, rows, accepted, rejected,
                created, updated, unchanged, linked, started_at, finished_at
         FROM batches WHERE id = $1 AND status <> 'open'",
        &[&id],
    )?
    else {
        return Ok(None);
    };
    let n = |i: usize| r.get::<_, i64>(i) as u64;
    let status: String = r.get(4);
    Ok(Some(BatchReport {
        batch: r.get(0),
        unit: r.get(1),
        item: r.get(2),
        item_version: r.get::<_, i32>(3) as u32,
        status: if status == "rejected" { BatchStatus::Rejected } else { BatchStatus::Committed },
        format: r.get(5),
        encoding: r.get(6),
        file_name: r.get(7),
        rows: n(8),
        accepted: n(9),
        rejected: n(10),
        created: n(11),
        updated: n(12),
        unchanged: n(13),
        linked: n(14),
        errors: Vec::new(),
        warnings: Vec::new(),
        started_at: time(r.get(15))?,
        finished_at: time(r.get(16))?,
    }))
}

/// The subject id and name of each identifier key, in order (`None` for a key no subject has).
fn find_subjects(c: &mut Conn, keys: &[String]) -> Result<Vec<Option<(i64, String)>>> {
    let mut found: HashMap<String, i64> = HashMap::new();
    for row in c.query("SELECT key, min(subject_id) FROM subject_keys WHERE key = ANY($1) GROUP BY key", &[&keys])? {
        found.insert(row.get(0), row.get(1));
    }
    let ids: Vec<i64> = found.values().copied().collect();
    let mut names: HashMap<i64, String> = HashMap::new();
    if !ids.is_empty() {
        for row in c.query("SELECT id, name FROM subjects WHERE id = ANY($1)", &[&ids])? {
            names.insert(row.get(0), row.get(1));
        }
    }
    Ok(keys.iter().map(|key| found.get(key).map(|id| (*id, names.get(id).cloned().unwrap_or_default()))).collect())
}

/// A batch's issues: recorded as they come, and again after its rows are discarded.
const COPY_ISSUES: &str = "COPY batch_issues (batch_id, seq, kind, row, field, code, message) FROM STDIN";

/// One distinct identifier of a chunk, as [`PgBatch::resolve_subjects`] resolves it.
struct Slot<'c> {
    id: &'c Identifier,
    subject: Option<i64>,
    /// The subject cache answered it.
    cached: bool,
}

/// A subject first seen in this chunk.
struct NewSubject<'c> {
    id: i64,
    claim: &'c SubjectClaim,
}

impl PgBatch<'_> {
    fn insert_issues(&mut self, kind: &str, issues: &[RowIssue]) -> Result<()> {
        if issues.is_empty() {
            return Ok(());
        }
        let mut rows = CopyRows::new();
        for issue in issues {
            self.issue_seq += 1;
            rows.text(&self.meta.id)
                .int(self.issue_seq)
                .text(kind)
                .int(issue.row as i64)
                .opt_text(issue.field.as_deref())
                .text(&issue.code)
                .text(&issue.message)
                .end_row();
        }
        self.conn.send(move |c| {
            rows.send(c, COPY_ISSUES)?;
            Ok(())
        })
    }

    /// The subject of each claim, in order: found, renamed or created (see the module doc).
    fn resolve_subjects(&mut self, claims: &[Option<&SubjectClaim>]) -> Result<Vec<Option<i64>>> {
        // The chunk's own view of its subjects: a slot per distinct identifier (each row hashes its
        // identifier once) with the subject's id, from the cache or from one lookup of the identifiers
        // it lacks, and the current names by id (a subject renamed under one identifier has the new
        // name under the others). The cache may empty itself when full; the view holds until the chunk
        // is written.
        let mut slot_of: HashMap<&Identifier, usize> = HashMap::with_capacity(claims.len());
        let mut slots: Vec<Slot<'_>> = Vec::new();
        let row_slots: Vec<Option<usize>> = claims
            .iter()
            .map(|claim| {
                claim.map(|claim| {
                    *slot_of.entry(&claim.id).or_insert_with(|| {
                        slots.push(Slot { id: &claim.id, subject: None, cached: false });
                        slots.len() - 1
                    })
                })
            })
            .collect();
        drop(slot_of);
        let mut names: HashMap<i64, String> = HashMap::with_capacity(slots.len());
        let mut unknown: Vec<usize> = Vec::new();
        for (i, slot) in slots.iter_mut().enumerate() {
            match self.subjects.known(slot.id) {
                Some((id, name)) => {
                    (slot.subject, slot.cached) = (Some(id), true);
                    names.entry(id).or_insert_with(|| name.to_owned());
                }
                None => unknown.push(i),
            }
        }
        // A complete cache knows every stored subject: the identifiers it lacks are new.
        if !unknown.is_empty() && !self.subjects.is_complete() {
            self.build_left_out(&SUBJECT_KEY_INDEXES, |l| &mut l.subjects)?;
            let keys: Vec<String> =
                unknown.iter().map(|&i| crate::subjects::identifier_key(self.vault, slots[i].id)).collect();
            let found = self.conn.call(move |c| find_subjects(c, &keys))?;
            for (i, found) in unknown.into_iter().zip(found) {
                if let Some((id, name)) = found {
                    slots[i].subject = Some(id);
                    names.entry(id).or_insert(name);
                }
            }
        }

        // In row order: the latest name wins and every name is kept.
        let mut out = Vec::with_capacity(claims.len());
        let mut created: Vec<NewSubject<'_>> = Vec::new();
        let mut new_ids: HashSet<i64> = HashSet::new();
        let mut renamed: HashMap<i64, String> = HashMap::new();
        let mut names_seen: Vec<(i64, String)> = Vec::new();
        let missing = slots.iter().filter(|s| s.subject.is_none()).count();
        let mut next_id = if missing > 0 {
            take_ids(&mut self.conn, &mut self.ids.subjects, &mut self.asked.subjects, SUBJECT_IDS, missing as i64)?
        } else {
            0
        };
        // The companies this chunk creates, by organisation code: the store files each under its code
        // too, so a later row of the chunk that names only the code is the same company (the id
        // reserved for that code stays unused).
        let mut created_orgs: HashMap<&str, i64> = HashMap::new();
        for (claim, slot) in claims.iter().zip(row_slots) {
            let (Some(claim), Some(slot)) = (claim, slot) else {
                out.push(None);
                continue;
            };
            let slot = &mut slots[slot];
            if slot.subject.is_none()
                && let Identifier::OrgCode(o) = &claim.id
            {
                slot.subject = created_orgs.get(o.as_str()).copied();
            }
            let id = match slot.subject {
                Some(id) => {
                    let name = names.entry(id).or_default();
                    if *name != claim.name {
                        name.clone_from(&claim.name);
                        if !new_ids.contains(&id) {
                            renamed.insert(id, claim.name.clone());
                        }
                        names_seen.push((id, claim.name.clone()));
                    }
                    id
                }
                None => {
                    let id = next_id;
                    next_id += 1;
                    if let Identifier::Uscc(u) = &claim.id {
                        created_orgs.entry(u.org_code()).or_insert(id);
                    }
                    created.push(NewSubject { id, claim });
                    new_ids.insert(id);
                    names_seen.push((id, claim.name.clone()));
                    slot.subject = Some(id);
                    names.insert(id, claim.name.clone());
                    id
                }
            };
            out.push(Some(id));
        }

        if !created.is_empty() {
            self.insert_subjects(&created, &names)?;
        }
        if !renamed.is_empty() {
            self.rename_subjects(&renamed)?;
        }
        self.add_names(&names_seen, &new_ids)?;
        // The cache learns what it did not know, and the names that changed; what it answered
        // unchanged it holds already.
        for slot in &slots {
            if let Some(id) = slot.subject
                && (!slot.cached || renamed.contains_key(&id))
                && let Some(name) = names.get(&id)
            {
                self.subjects.put(slot.id, id, name);
            }
        }
        self.subjects.bound();
        Ok(out)
    }

    /// `names` gives each subject's latest name: one renamed later in the same chunk is stored under it.
    fn insert_subjects(&mut self, created: &[NewSubject<'_>], names: &HashMap<i64, String>) -> Result<()> {
        let mut subjects = CopyRows::new();
        let mut keys = CopyRows::new();
        for s in created {
            let name = names.get(&s.id).map_or(s.claim.name.as_str(), String::as_str);
            subjects.int(s.id).text(s.claim.kind.as_str()).text(name);
            match &s.claim.id {
                Identifier::Uscc(u) => {
                    subjects.text(u.as_str()).text(u.org_code()).null().null();
                    keys.text(&format!("u:{}", u.as_str())).int(s.id).end_row();
                    keys.text(&format!("o:{}", u.org_code())).int(s.id).end_row();
                }
                Identifier::OrgCode(o) => {
                    subjects.null().text(o.as_str()).null().null();
                    keys.text(&format!("o:{}", o.as_str())).int(s.id).end_row();
                }
                Identifier::ResidentId(r) => {
                    let hash = self.vault.lookup_hash(r.as_str());
                    let sealed = self.vault.encrypt(r.as_str().as_bytes())?;
                    subjects.null().null().bytea(&hash).bytea(&sealed);
                    keys.text(&format!("r:{}", hex::encode(&hash))).int(s.id).end_row();
                }
            }
            subjects.int(rank_len(name) as i64).text(&grams_tsvector(name)).text(&self.now).text(&self.now).end_row();
        }
        self.conn.send(move |c| {
            subjects.send(
                c,
                "COPY subjects (id, kind, name, uscc, org_code, rid_hash, rid_enc, rank_len, grams, created_at, updated_at) FROM STDIN",
            )?;
            keys.send(c, "COPY subject_keys (key, subject_id) FROM STDIN")?;
            Ok(())
        })
    }

    fn rename_subjects(&mut self, renamed: &HashMap<i64, String>) -> Result<()> {
        let (ids, names): (Vec<i64>, Vec<String>) = renamed.iter().map(|(id, name)| (*id, name.clone())).unzip();
        let lens: Vec<i16> = names.iter().map(|n| rank_len(n) as i16).collect();
        let grams: Vec<String> = names.iter().map(|n| grams_tsvector(n)).collect();
        let now = self.now.clone();
        self.conn.send(move |c| {
            c.execute(
                "UPDATE subjects s SET name = u.name, rank_len = u.rank_len, grams = u.grams::tsvector, updated_at = $5
                 FROM unnest($1::bigint[], $2::text[], $3::smallint[], $4::text[]) AS u(id, name, rank_len, grams)
                 WHERE s.id = u.id",
                &[&ids, &names, &lens, &grams, &now],
            )?;
            Ok(())
        })
    }

    /// Keeps every name seen: those of new subjects by COPY, the others unless already known.
    fn add_names(&mut self, names: &[(i64, String)], new_ids: &HashSet<i64>) -> Result<()> {
        let mut fresh = CopyRows::new();
        let mut seen_fresh: HashSet<(i64, &str)> = HashSet::new();
        let (mut ids, mut others): (Vec<i64>, Vec<String>) = (Vec::new(), Vec::new());
        for (id, name) in names {
            if new_ids.contains(id) {
                if seen_fresh.insert((*id, name.as_str())) {
                    fresh.int(*id).text(name).text(&self.now).end_row();
                }
            } else {
                ids.push(*id);
                others.push(name.clone());
            }
        }
        if fresh.is_empty() && ids.is_empty() {
            return Ok(());
        }
        let now = self.now.clone();
        self.conn.send(move |c| {
            fresh.send(c, "COPY subject_names (subject_id, name, first_seen) FROM STDIN")?;
            if !ids.is_empty() {
                c.execute(
                    "INSERT INTO subject_names (subject_id, name, first_seen)
                     SELECT id, name, $3 FROM unnest($1::bigint[], $2::text[]) AS u(id, name)
                     ON CONFLICT DO NOTHING",
                    &[&ids, &others, &now],
                )?;
            }
            Ok(())
        })
    }

    /// Writes rows whose source keys are distinct.
    fn write_distinct(&mut self, records: &[PreparedRecord]) -> Result<Vec<WriteOutcome>> {
        // The source keys are asked for first: the server looks them up while the subjects are resolved.
        let keys: Vec<&str> = records.iter().map(|r| r.head.source_key.as_str()).collect();
        let lookup: Vec<String> = self.fresh_keys.note_written(&keys).into_iter().map(str::to_owned).collect();
        let existing = if lookup.is_empty() {
            None
        } else {
            self.build_left_out(&[KEY_INDEX], |l| &mut l.keys)?;
            let item = self.meta.item.clone();
            Some(self.conn.ask(move |c| find_records(c, &item, &lookup))?)
        };
        let claims: Vec<Option<&SubjectClaim>> = records.iter().map(|r| r.head.subject.as_ref()).collect();
        let subjects = self.resolve_subjects(&claims)?;
        let existing = match existing {
            Some(answer) => answer.wait()?,
            None => HashMap::new(),
        };

        let mut out = Vec::with_capacity(records.len());
        let created = records.iter().filter(|r| !existing.contains_key(&r.head.source_key)).count();
        let mut next_id = if created > 0 {
            take_ids(&mut self.conn, &mut self.ids.records, &mut self.asked.records, RECORD_IDS, created as i64)?
        } else {
            0
        };
        let (mut new_records, mut new_keys) = (self.spare_rows(), self.spare_rows());
        let mut updates = CopyRows::new();
        let m = &self.meta;
        let item_version = m.item_version as i32;
        for (record, subject) in records.iter().zip(&subjects) {
            let d = &record.head;
            let subject_id = subject.unwrap_or(0);
            let mut previous_subject_id = None;
            let outcome = match existing.get(&d.source_key) {
                None => {
                    let id = next_id;
                    next_id += 1;
                    new_records
                        .int(subject_id)
                        .int(id)
                        .text(&m.item)
                        .int4(self.item_no)
                        .text(&d.source_key)
                        .text(&m.unit)
                        .int4(item_version)
                        .int4(1)
                        .text("active")
                        .date(d.date)
                        .opt_date(d.end_date)
                        .text(d.severity.as_str())
                        .bool(d.published)
                        .opt_date(d.public_until)
                        .text(&record.fields_json)
                        .opt_bytea(record.secret.as_deref())
                        .bytea(&record.content_hash)
                        .text(&m.id)
                        .text(&self.now)
                        .text(&self.now)
                        .end_row();
                    new_keys
                        .text(&m.item)
                        .text(&d.source_key)
                        .int(subject_id)
                        .int(id)
                        .bytea(&record.content_hash)
                        .end_row();
                    UpsertOutcome::Created
                }
                Some((_, _, hash)) if *hash == record.content_hash => UpsertOutcome::Unchanged,
                Some((id, old_subject, _)) => {
                    updates
                        .int(*id)
                        .int(*old_subject)
                        .int(subject_id)
                        .text(&d.source_key)
                        .date(d.date)
                        .opt_date(d.end_date)
                        .text(d.severity.as_str())
                        .bool(d.published)
                        .opt_date(d.public_until)
                        .text(&record.fields_json)
                        .opt_bytea(record.secret.as_deref())
                        .bytea(&record.content_hash)
                        .end_row();
                    // 0 stands for "not linked", as in `records`.
                    previous_subject_id = (*old_subject != 0 && *old_subject != subject_id).then_some(*old_subject);
                    UpsertOutcome::Updated
                }
            };
            out.push(WriteOutcome { outcome, linked: subject.is_some(), subject_id: *subject, previous_subject_id });
        }
        self.send_new_rows(new_records, new_keys)?;
        if !updates.is_empty() {
            self.apply_updates(updates)?;
        }
        Ok(out)
    }

    /// Builds the indexes `names`, if a first load left them out (`which` of [`LeftOut`]), before the
    /// statement that needs them: in the batch's transaction, queued ahead of that statement
    /// (`initial_load.rs`).
    fn build_left_out(&mut self, names: &'static [&'static str], which: fn(&mut LeftOut) -> &mut bool) -> Result<()> {
        if std::mem::take(which(&mut self.left_out)) {
            self.conn.send(move |c| names.iter().try_for_each(|name| crate::initial_load::build_now(c, name)))?;
        }
        Ok(())
    }

    /// An emptied binary COPY buffer of an earlier chunk, or a new one.
    fn spare_rows(&self) -> CopyRows {
        self.spare.try_recv().unwrap_or_else(|_| CopyRows::binary())
    }

    /// Sends new records and their keys; the buffers come back emptied through `give_back`.
    fn send_new_rows(&mut self, mut records: CopyRows, mut keys: CopyRows) -> Result<()> {
        let give_back = self.give_back.clone();
        if records.is_empty() {
            // Empty: back to the spares at once (the receiver is ours, so this cannot fail).
            let _ = give_back.send(records);
            let _ = give_back.send(keys);
            return Ok(());
        }
        self.conn.send(move |c| {
            records.send(
                c,
                "COPY records (subject_id, id, item, item_no, source_key, unit, item_version, version, status,
                    record_date, end_date, severity, published, public_until, fields, secret, content_hash, batch_id,
                    created_at, updated_at) FROM STDIN",
            )?;
            keys.send(c, "COPY record_keys (item, source_key, subject_id, record_id, content_hash) FROM STDIN")?;
            // The batch may be gone already; the buffers go with it then.
            let _ = give_back.send(records);
            let _ = give_back.send(keys);
            Ok(())
        })
    }

    /// Moves the current versions of changed records into history and writes the new ones in their
    /// place, keeping id, status and creation time; the version goes up by one. Delete and insert
    /// rather than update, because the subject (the distribution column) may change with the content.
    fn apply_updates(&mut self, mut updates: CopyRows) -> Result<()> {
        self.build_left_out(&[ID_INDEX], |l| &mut l.ids)?;
        let (meta, now) = (self.meta.clone(), self.now.clone());
        self.conn.send(move |c| move_updates(c, &mut updates, &meta, &now))
    }
}

/// Moves changed records (see [`PgBatch::apply_updates`]).
fn move_updates(c: &mut Conn, updates: &mut CopyRows, m: &BatchMeta, now: &str) -> Result<()> {
    c.client.batch_execute("TRUNCATE batch_updates").map_err(db_err)?;
    updates.send(
        c,
        "COPY batch_updates (record_id, old_subject_id, subject_id, source_key, record_date, end_date, severity,
            published, public_until, fields, secret, content_hash) FROM STDIN",
    )?;
    let item_version = m.item_version as i32;
    // Statements on the temporary table are not cached: it is made again in each session.
    c.client
        .execute(
            "WITH old AS (
                DELETE FROM records r USING batch_updates u
                WHERE r.subject_id = u.old_subject_id AND r.id = u.record_id
                RETURNING r.*
             ), history AS (
                INSERT INTO record_versions (subject_id, record_id, version, fields, secret, content_hash, batch_id, superseded_at)
                SELECT subject_id, id, version, fields, secret, content_hash, batch_id, $1 FROM old
             )
             INSERT INTO records (subject_id, id, item, item_no, source_key, unit, item_version, version, status,
                record_date, end_date, severity, published, public_until, fields, secret, content_hash,
                batch_id, created_at, updated_at)
             SELECT u.subject_id, o.id, o.item, o.item_no, o.source_key, $2, $3, o.version + 1, o.status,
                u.record_date, u.end_date, u.severity, u.published, u.public_until, u.fields, u.secret,
                u.content_hash, $4, o.created_at, $1
             FROM batch_updates u JOIN old o ON o.id = u.record_id",
            &[&now, &m.unit, &item_version, &m.id],
        )
        .map_err(db_err)?;
    c.client
        .execute(
            "UPDATE record_keys k SET subject_id = u.subject_id, content_hash = u.content_hash
             FROM batch_updates u WHERE k.item = $1 AND k.source_key = u.source_key",
            &[&m.item],
        )
        .map_err(db_err)?;
    Ok(())
}

/// A source key's current record: id, subject and content hash.
type Current = (i64, i64, Vec<u8>);

/// The current record of each source key of `item` that has one.
fn find_records(c: &mut Conn, item: &str, keys: &[String]) -> Result<HashMap<String, Current>> {
    let mut existing = HashMap::new();
    for row in c.query(
        "SELECT source_key, record_id, subject_id, content_hash FROM record_keys WHERE item = $1 AND source_key = ANY($2)",
        &[&item, &keys],
    )? {
        existing.insert(row.get(0), (row.get(1), row.get(2), row.get(3)));
    }
    Ok(existing)
}

impl BatchWriter for PgBatch<'_> {
    fn write(&mut self, records: &[PreparedRecord]) -> Result<Vec<WriteOutcome>> {
        let mut out = Vec::with_capacity(records.len());
        let mut start = 0;
        let mut keys: HashSet<&str> = HashSet::new();
        for (i, r) in records.iter().enumerate() {
            if !keys.insert(r.head.source_key.as_str()) {
                out.extend(self.write_distinct(&records[start..i])?);
                start = i;
                keys.clear();
                keys.insert(r.head.source_key.as_str());
            }
        }
        if start < records.len() {
            out.extend(self.write_distinct(&records[start..])?);
        }
        Ok(out)
    }

    fn record_issues(&mut self, errors: &[RowIssue], warnings: &[RowIssue]) -> Result<()> {
        self.insert_issues("error", errors)?;
        self.insert_issues("warning", warnings)
    }

    fn record_rejected_rows(&mut self, rows: &[RejectedRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let (id, rows) = (self.meta.id.clone(), rows.to_vec());
        self.conn.send(move |c| insert_rejected_rows(c, &id, &rows))
    }

    fn discard_rows(&mut self) -> Result<()> {
        // Rolling back to the savepoint takes back the issues and rejected rows recorded since it too:
        // read them first and record them again.
        let id = self.meta.id.clone();
        self.conn.call(move |c| keep_only_issues(c, &id))?;
        self.subjects.clear();
        self.fresh_keys.forget_written();
        // An index built since the savepoint is taken back with the rows.
        self.left_out = self.left_out_at_open;
        Ok(())
    }

    fn settle_commitment(&mut self, step: &CommitmentStep, source_key: &str) -> Result<i64> {
        self.build_left_out(&[KEY_INDEX], |l| &mut l.keys)?;
        let (step, item, source_key) = (step.clone(), self.meta.item.clone(), source_key.to_owned());
        self.conn.call(move |c| {
            let row = c.query_opt(
                "SELECT record_id FROM record_keys WHERE item = $1 AND source_key = $2",
                &[&item, &source_key],
            )?;
            let record: i64 = row
                .ok_or_else(|| StoreError::NotFound(format!("record {source_key} of {item}")))?
                .try_get(0)
                .map_err(db_err)?;
            crate::commitments::settle(c, &step, Some(record))?;
            Ok(record)
        })
    }

    fn commit(mut self: Box<Self>, report: &BatchReport) -> Result<()> {
        let report = report.clone();
        let commits = self.conn.call(move |c| {
            finish_batch_row(c, &report)?;
            c.client.batch_execute("RELEASE SAVEPOINT rows").map_err(db_err)?;
            let commits: i64 = c.query_one("SELECT nextval('ingest_commits')", &[])?.get(0);
            c.commit()?;
            Ok(commits)
        })?;
        self.open = false;
        self.subjects.stamp(commits);
        self.ids.committed(commits, std::mem::take(&mut self.asked));
        // Committed: a poisoned mutex is not this batch's failure (the next batch fails to begin).
        if let Ok(mut load) = self.first_load.lock()
            && let Some(load) = load.as_mut()
        {
            load.keys.put_back(&self.meta.item, std::mem::replace(&mut self.fresh_keys, FreshKeys::unknown()), commits);
        }
        Ok(())
    }
}

/// Rolls the batch's rows back to the savepoint `rows`, keeping its issues and rejected rows: the
/// rollback takes those back too, so they are read first and recorded again.
fn keep_only_issues(c: &mut Conn, id: &str) -> Result<()> {
    let issues = c.query(
        "SELECT seq, kind, row, field, code, message FROM batch_issues WHERE batch_id = $1 ORDER BY seq",
        &[&id],
    )?;
    let rejected = saved_rejected_rows(c, id)?;
    c.client.batch_execute("ROLLBACK TO SAVEPOINT rows").map_err(db_err)?;
    let mut rows = CopyRows::new();
    for r in &issues {
        rows.text(id)
            .int(r.get(0))
            .text(r.get(1))
            .int(r.get(2))
            .opt_text(r.get(3))
            .text(r.get(4))
            .text(r.get(5))
            .end_row();
    }
    rows.send(c, COPY_ISSUES)?;
    insert_rejected_rows(c, id, &rejected)
}

impl Drop for PgBatch<'_> {
    fn drop(&mut self) {
        if self.open {
            // Subjects this batch created are gone with it, and the item's source keys it took from the
            // load with it.
            self.subjects.clear();
            if let Ok(mut load) = self.first_load.lock()
                && let Some(load) = load.as_mut()
            {
                load.keys.stop();
            }
            // Statements still queued are skipped. A failed rollback leaves the connection marked as in
            // a transaction: the pool drops it, and the server rolls the transaction back when the
            // connection closes.
            self.conn.rollback();
        }
    }
}

fn saved_rejected_rows(c: &mut Conn, batch: &str) -> Result<Vec<RejectedRow>> {
    let rows = c.query("SELECT row, cells FROM batch_rejected_rows WHERE batch_id = $1 ORDER BY row", &[&batch])?;
    Ok(rows.iter().map(|r| RejectedRow { row: r.get::<_, i64>(0) as u64, sealed: r.get(1) }).collect())
}

fn insert_rejected_rows(c: &mut Conn, batch: &str, rows: &[RejectedRow]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let numbers: Vec<i64> = rows.iter().map(|r| r.row as i64).collect();
    let cells: Vec<&[u8]> = rows.iter().map(|r| r.sealed.as_slice()).collect();
    c.execute(
        "INSERT INTO batch_rejected_rows (batch_id, row, cells)
         SELECT $1, u.row, u.cells FROM unnest($2::bigint[], $3::bytea[]) AS u(row, cells)",
        &[&batch, &numbers, &cells],
    )
    .map_err(|e| match e {
        StoreError::Conflict(_) => StoreError::Conflict(format!("a row of batch {batch} was rejected twice")),
        other => other,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_becomes_a_start_token_and_positioned_bigrams() {
        assert_eq!(grams_tsvector("上海示例"), "'\u{FDD0}上海':1 '上海':2 '海示':3 '示例':4");
        assert_eq!(grams_tsvector("示"), "");
    }
}

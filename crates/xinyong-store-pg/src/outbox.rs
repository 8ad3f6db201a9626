//! The outbox of list changes (see `xinyong_store::outbox`), as the embedded store keeps it
//! (`migrations/0005_outbox.sql`).
//!
//! Several servers may share the database, and every one runs the push loop:
//!
//! - **Pump**: [`OutboxStore::pump_list_changes`] is one transaction that first takes a
//!   transaction-level advisory lock ([`PUMP_LOCK`]), so pumps run one at a time; each statement after
//!   the lock sees what the previous pump committed (read committed), so a change is fanned out once.
//!   The primary key of `fanned_out` is the database's own guard: a second insert of a change fails
//!   and rolls the whole pump back.
//! - **Delivery**: [`OutboxStore::due_deliveries`] claims the due rows in one statement: it locks them
//!   with `FOR UPDATE SKIP LOCKED` (rows another server is claiming at that moment are skipped, never
//!   waited for) and pushes their `next_attempt_ms` [`LEASE_MS`] into the future, so no other server
//!   takes them while this one attempts them. The attempt's [`OutboxStore::record_attempt`] then sets
//!   the real outcome (delivered, the retry time, or failed). A server that stops mid-round leaves its
//!   claimed deliveries pending; they are due again when the lease ends. The lease is much longer than
//!   a server's round (64 deliveries with a 10 s timeout each), so a delivery is attempted by one
//!   server at a time; receivers accept a repeat anyway (the `X-Xinyong-Delivery` id tells them).
//!
//! Records carry the subject id 0 when linked to none (`migrations/0001_init.sql`); no subject has that
//! id, so such entries have no subject name or USCC, as in the embedded store.

use postgres::Row;
use serde_json::{Value, json};
use xinyong_domain::masking::mask_name;
use xinyong_store::outbox::{Attempt, Delivery, DeliveryStatus, NewSubscription, OutboxStore, Subscription};
use xinyong_store::{Result, StoreError, Timestamp};

use crate::pool::Conn;
use crate::subjects::{corrupt, time};
use crate::{PgStore, db_err};

/// Entries per delivery: a large list batch is pushed in parts.
const ENTRIES_PER_DELIVERY: usize = 1000;

/// Advisory lock key of the pump ("xypush" in ASCII).
const PUMP_LOCK: i64 = 0x78_79_70_75_73_68;

/// How long a claimed delivery is kept from other servers (15 minutes).
const LEASE_MS: i64 = 15 * 60 * 1000;

macro_rules! subscription_columns {
    () => {
        "id, unit, url, secret, lists, created_at"
    };
}

macro_rules! delivery_columns {
    () => {
        "d.id, d.subscription, s.unit, s.url, d.change, d.payload, d.status, d.attempts, d.next_attempt_ms, \
         d.last_error, d.created_at, d.delivered_at, s.secret"
    };
}

/// The columns of an entry, from `records r LEFT JOIN subjects s`.
macro_rules! entry_select {
    () => {
        "SELECT r.id, r.item, r.source_key, to_char(r.record_date, 'YYYY-MM-DD'), to_char(r.end_date, 'YYYY-MM-DD'),
                r.status, s.kind, s.name, s.uscc
         FROM records r LEFT JOIN subjects s ON s.id = r.subject_id AND r.subject_id <> 0 "
    };
}

fn millis(t: Timestamp) -> i64 {
    t.timestamp_millis()
}

fn subscription_from_row(r: &Row) -> Result<Subscription> {
    let lists: &str = r.try_get(4).map_err(db_err)?;
    Ok(Subscription {
        id: r.try_get(0).map_err(db_err)?,
        unit: r.try_get(1).map_err(db_err)?,
        url: r.try_get(2).map_err(db_err)?,
        secret: r.try_get(3).map_err(db_err)?,
        lists: serde_json::from_str(lists).map_err(|e| corrupt("subscription lists", e))?,
        created_at: time(r.try_get(5).map_err(db_err)?)?,
    })
}

/// A delivery and its subscription's secret, from `delivery_columns!` (the ninth column is the time
/// the delivery is or was due).
fn delivery_from_row(r: &Row) -> Result<(Delivery, String)> {
    let status: &str = r.try_get(6).map_err(db_err)?;
    let attempts: i32 = r.try_get(7).map_err(db_err)?;
    let next_ms: Option<i64> = r.try_get(8).map_err(db_err)?;
    let payload: &str = r.try_get(5).map_err(db_err)?;
    let delivered: Option<&str> = r.try_get(11).map_err(db_err)?;
    let offset = chrono::FixedOffset::east_opt(8 * 3600).ok_or_else(|| corrupt("offset", "+08:00"))?;
    let next_attempt_at = next_ms.and_then(chrono::DateTime::from_timestamp_millis).map(|t| t.with_timezone(&offset));
    Ok((
        Delivery {
            id: r.try_get(0).map_err(db_err)?,
            subscription: r.try_get(1).map_err(db_err)?,
            unit: r.try_get(2).map_err(db_err)?,
            url: r.try_get(3).map_err(db_err)?,
            change: r.try_get(4).map_err(db_err)?,
            payload: serde_json::from_str(payload).map_err(|e| corrupt("delivery payload", e))?,
            status: DeliveryStatus::parse(status).ok_or_else(|| corrupt("delivery status", status))?,
            attempts: u32::try_from(attempts).map_err(|e| corrupt("delivery attempts", e))?,
            next_attempt_at,
            last_error: r.try_get(9).map_err(db_err)?,
            created_at: time(r.try_get(10).map_err(db_err)?)?,
            delivered_at: delivered.map(time).transpose()?,
        },
        r.try_get(12).map_err(db_err)?,
    ))
}

/// The entries a change touched, as receivers see them: no personal identifiers, natural persons'
/// names masked.
fn entries(rows: &[Row]) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get(0).map_err(db_err)?;
        let item: &str = r.try_get(1).map_err(db_err)?;
        let key: &str = r.try_get(2).map_err(db_err)?;
        let from: &str = r.try_get(3).map_err(db_err)?;
        let to: Option<&str> = r.try_get(4).map_err(db_err)?;
        let status: &str = r.try_get(5).map_err(db_err)?;
        let kind: Option<&str> = r.try_get(6).map_err(db_err)?;
        let name: Option<&str> = r.try_get(7).map_err(db_err)?;
        let uscc: Option<&str> = r.try_get(8).map_err(db_err)?;
        let natural = kind == Some("natural_person");
        let name = name.map(|n| if natural { mask_name(n) } else { n.to_owned() });
        out.push(json!({ "record": id, "list": item, "document_number": key, "from": from, "to": to,
                         "status": status, "subject": { "name": name, "uscc": uscc } }));
    }
    Ok(out)
}

fn subscriptions_of(c: &mut Conn, unit: Option<&str>) -> Result<Vec<Subscription>> {
    let rows = c.query(
        concat!(
            "SELECT ",
            subscription_columns!(),
            " FROM subscriptions WHERE $1::text IS NULL OR unit = $1 ORDER BY id"
        ),
        &[&unit],
    )?;
    rows.iter().map(subscription_from_row).collect()
}

/// (change, list, what happened, entries)
type Change = (String, String, Value, Vec<Value>);

/// The changes of `lists` not yet fanned out, oldest first: committed batches, then closed cases.
fn new_changes(c: &mut Conn, lists: &[String]) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    let batches = c.query(
        "SELECT b.id, b.item, b.unit, b.finished_at FROM batches b
         WHERE b.status = 'committed' AND b.accepted > 0 AND b.item = ANY($1)
           AND NOT EXISTS (SELECT 1 FROM fanned_out f WHERE f.change = 'batch:' || b.id)
         ORDER BY b.finished_at, b.id",
        &[&lists],
    )?;
    for b in &batches {
        let id: &str = b.try_get(0).map_err(db_err)?;
        let item: &str = b.try_get(1).map_err(db_err)?;
        let unit: &str = b.try_get(2).map_err(db_err)?;
        let at: &str = b.try_get(3).map_err(db_err)?;
        // The records whose current version came from this batch (all of the batch's item, so the item
        // index narrows the scan).
        let rows =
            c.query(concat!(entry_select!(), "WHERE r.batch_id = $1 AND r.item = $2 ORDER BY r.id"), &[&id, &item])?;
        let what = json!({ "event": "entries_filed", "batch": id, "unit": unit, "at": at });
        changes.push((format!("batch:{id}"), item.to_owned(), what, entries(&rows)?));
    }
    let cases = c.query(
        "SELECT c.id, c.kind, r.item, c.updated_at, coalesce(c.data::jsonb ->> 'outcome', ''), c.record_id
         FROM cases c JOIN records r ON r.id = c.record_id
         WHERE NOT c.open AND r.item = ANY($1)
           AND ((c.kind = 'repair' AND c.status = 'approved') OR c.kind = 'revocation'
                OR (c.kind = 'objection' AND c.data::jsonb ->> 'outcome' IN ('deleted', 'corrected')))
           AND NOT EXISTS (SELECT 1 FROM fanned_out f WHERE f.change = 'case:' || c.id)
         ORDER BY c.updated_at COLLATE \"C\", c.id",
        &[&lists],
    )?;
    for k in &cases {
        let id: i64 = k.try_get(0).map_err(db_err)?;
        let kind: &str = k.try_get(1).map_err(db_err)?;
        let item: &str = k.try_get(2).map_err(db_err)?;
        let at: &str = k.try_get(3).map_err(db_err)?;
        let outcome: &str = k.try_get(4).map_err(db_err)?;
        let record: i64 = k.try_get(5).map_err(db_err)?;
        let rows = c.query(concat!(entry_select!(), "WHERE r.id = $1 ORDER BY r.id"), &[&record])?;
        let event = match (kind, outcome) {
            ("repair", _) => "entry_repaired",
            ("revocation", _) => "entry_revoked",
            (_, "deleted") => "entry_deleted",
            _ => "entry_corrected",
        };
        changes.push((
            format!("case:{id}"),
            item.to_owned(),
            json!({ "event": event, "case": id, "at": at }),
            entries(&rows)?,
        ));
    }
    Ok(changes)
}

impl OutboxStore for PgStore {
    fn subscribe(&self, new: &NewSubscription) -> Result<Subscription> {
        let lists = serde_json::to_string(&new.lists).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let row = self.with(|c| {
            c.query_one(
                concat!(
                    "INSERT INTO subscriptions (unit, url, secret, lists, created_at) VALUES ($1, $2, $3, $4, $5)
                     RETURNING ",
                    subscription_columns!()
                ),
                &[&new.unit, &new.url, &new.secret, &lists, &new.at.to_rfc3339()],
            )
        })?;
        subscription_from_row(&row)
    }

    fn subscriptions(&self, unit: Option<&str>) -> Result<Vec<Subscription>> {
        self.with(|c| subscriptions_of(c, unit))
    }

    fn pump_list_changes(&self, lists: &[String], now: Timestamp) -> Result<u64> {
        self.with(|c| {
            c.transaction(|c| {
                c.execute("SELECT pg_advisory_xact_lock($1)", &[&PUMP_LOCK])?;
                let subs = subscriptions_of(c, None)?;
                if subs.is_empty() {
                    return Ok(0);
                }
                let changes = new_changes(c, lists)?;
                let mut queued = 0u64;
                let at = now.to_rfc3339();
                let now_ms = millis(now);
                for (change, item, what, es) in changes {
                    let parts: Vec<&[Value]> =
                        if es.is_empty() { vec![&[]] } else { es.chunks(ENTRIES_PER_DELIVERY).collect() };
                    for sub in subs.iter().filter(|s| s.lists.contains(&item)) {
                        for (k, part) in parts.iter().enumerate() {
                            let mut payload = what.clone();
                            if let Some(obj) = payload.as_object_mut() {
                                obj.insert("list".into(), json!(item));
                                obj.insert("part".into(), json!(k + 1));
                                obj.insert("parts".into(), json!(parts.len()));
                                obj.insert("entries".into(), json!(part));
                            }
                            c.execute(
                                "INSERT INTO deliveries (subscription, change, payload, status, next_attempt_ms, created_at)
                                 VALUES ($1, $2, $3, 'pending', $4, $5)",
                                &[&sub.id, &change, &payload.to_string(), &now_ms, &at],
                            )?;
                            queued += 1;
                        }
                    }
                    c.execute("INSERT INTO fanned_out (change, at) VALUES ($1, $2)", &[&change, &at])?;
                }
                Ok(queued)
            })
        })
    }

    fn due_deliveries(&self, now: Timestamp, limit: u32) -> Result<Vec<(Delivery, String)>> {
        let now_ms = millis(now);
        let lease = now_ms.saturating_add(LEASE_MS);
        let limit = i64::from(limit);
        // One statement: claim (lock, skipping rows another server holds) and lease. RETURNING gives
        // the time each delivery was due, not its lease.
        let rows = self.with(|c| {
            c.query(
                "UPDATE deliveries d SET next_attempt_ms = $3
                 FROM subscriptions s,
                      (SELECT id, next_attempt_ms AS due_ms FROM deliveries
                       WHERE status = 'pending' AND next_attempt_ms <= $1
                       ORDER BY next_attempt_ms, id LIMIT $2 FOR UPDATE SKIP LOCKED) claimed
                 WHERE d.id = claimed.id AND s.id = d.subscription
                 RETURNING d.id, d.subscription, s.unit, s.url, d.change, d.payload, d.status, d.attempts,
                           claimed.due_ms, d.last_error, d.created_at, d.delivered_at, s.secret",
                &[&now_ms, &limit, &lease],
            )
        })?;
        let mut due = rows.iter().map(delivery_from_row).collect::<Result<Vec<_>>>()?;
        due.sort_by_key(|(d, _)| (d.next_attempt_at, d.id));
        Ok(due)
    }

    fn record_attempt(&self, id: i64, attempt: &Attempt, now: Timestamp) -> Result<()> {
        let at = now.to_rfc3339();
        let changed = self.with(|c| match attempt {
            Attempt::Delivered => c.execute(
                "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = $2,
                    next_attempt_ms = NULL, last_error = NULL WHERE id = $1 AND status = 'pending'",
                &[&id, &at],
            ),
            Attempt::Retry { error, at: next } => c.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = $2, next_attempt_ms = $3
                 WHERE id = $1 AND status = 'pending'",
                &[&id, error, &millis(*next)],
            ),
            Attempt::GiveUp { error } => c.execute(
                "UPDATE deliveries SET status = 'failed', attempts = attempts + 1, last_error = $2,
                    next_attempt_ms = NULL WHERE id = $1 AND status = 'pending'",
                &[&id, error],
            ),
        })?;
        if changed == 1 { Ok(()) } else { Err(StoreError::Conflict(format!("delivery {id} is not pending"))) }
    }

    fn deliveries(&self, unit: Option<&str>, status: Option<DeliveryStatus>, limit: u32) -> Result<Vec<Delivery>> {
        let status = status.map(DeliveryStatus::as_str);
        let limit = i64::from(limit);
        let rows = self.with(|c| {
            c.query(
                concat!(
                    "SELECT ",
                    delivery_columns!(),
                    " FROM deliveries d JOIN subscriptions s ON s.id = d.subscription
                     WHERE ($1::text IS NULL OR s.unit = $1) AND ($2::text IS NULL OR d.status = $2)
                     ORDER BY d.id DESC LIMIT $3"
                ),
                &[&unit, &status, &limit],
            )
        })?;
        rows.iter().map(|r| delivery_from_row(r).map(|(d, _)| d)).collect()
    }
}

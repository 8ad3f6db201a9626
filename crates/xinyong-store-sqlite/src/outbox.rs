//! The outbox of list changes (see `xinyong_store::outbox`).

use rusqlite::{Connection, Row, TransactionBehavior, params};
use serde_json::{Value, json};
use xinyong_domain::masking::mask_name;
use xinyong_store::outbox::{Attempt, Delivery, DeliveryStatus, NewSubscription, OutboxStore, Subscription};
use xinyong_store::{Result, StoreError, Timestamp};

use crate::subjects::time;
use crate::{SqliteStore, db_err};

/// Entries per delivery: a large list batch is pushed in parts.
const ENTRIES_PER_DELIVERY: usize = 1000;

const DELIVERY_COLUMNS: &str = "d.id, d.subscription, s.unit, s.url, d.change, d.payload, d.status, d.attempts, \
     d.next_attempt_ms, d.last_error, d.created_at, d.delivered_at, s.secret";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn millis(t: Timestamp) -> i64 {
    t.timestamp_millis()
}

fn subscription(r: &Row<'_>) -> rusqlite::Result<(i64, String, String, String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

fn into_subscription(raw: (i64, String, String, String, String, String)) -> Result<Subscription> {
    let (id, unit, url, secret, lists, created_at) = raw;
    Ok(Subscription {
        id,
        unit,
        url,
        secret,
        lists: serde_json::from_str(&lists).map_err(|e| corrupt("subscription lists", e))?,
        created_at: time(&created_at)?,
    })
}

type RawDelivery = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    u32,
    Option<i64>,
    Option<String>,
    String,
    Option<String>,
    String,
);

fn raw_delivery(r: &Row<'_>) -> rusqlite::Result<RawDelivery> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
    ))
}

fn into_delivery(raw: RawDelivery) -> Result<(Delivery, String)> {
    let (id, sub, unit, url, change, payload, status, attempts, next_ms, last_error, created, delivered, secret) = raw;
    let offset = chrono::FixedOffset::east_opt(8 * 3600).ok_or_else(|| corrupt("offset", "+08:00"))?;
    let next_attempt_at = next_ms.and_then(chrono::DateTime::from_timestamp_millis).map(|t| t.with_timezone(&offset));
    Ok((
        Delivery {
            id,
            subscription: sub,
            unit,
            url,
            change,
            payload: serde_json::from_str(&payload).map_err(|e| corrupt("delivery payload", e))?,
            status: DeliveryStatus::parse(&status).ok_or_else(|| corrupt("delivery status", &status))?,
            attempts,
            next_attempt_at,
            last_error,
            created_at: time(&created)?,
            delivered_at: delivered.as_deref().map(time).transpose()?,
        },
        secret,
    ))
}

/// The entries a change touched, as receivers see them: no personal identifiers, natural persons'
/// names masked.
fn entries(conn: &Connection, filter: &str, key: &dyn rusqlite::ToSql) -> Result<Vec<Value>> {
    let sql = format!(
        "SELECT r.id, r.item, r.source_key, r.record_date, r.end_date, r.status, s.kind, s.name, s.uscc
         FROM records r LEFT JOIN subjects s ON s.id = r.subject_id WHERE {filter} ORDER BY r.id"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt
        .query_map([key], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<String>>(8)?,
            ))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, item, key, from, to, status, kind, name, uscc) = row.map_err(db_err)?;
        let natural = kind.as_deref() == Some("natural_person");
        let name = name.map(|n| if natural { mask_name(&n) } else { n });
        out.push(json!({ "record": id, "list": item, "document_number": key, "from": from, "to": to,
                         "status": status, "subject": { "name": name, "uscc": uscc } }));
    }
    Ok(out)
}

impl OutboxStore for SqliteStore {
    fn subscribe(&self, new: &NewSubscription) -> Result<Subscription> {
        let lists = serde_json::to_string(&new.lists).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let id = self.write(|conn| {
            conn.execute(
                "INSERT INTO subscriptions (unit, url, secret, lists, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![new.unit, new.url, new.secret, lists, new.at.to_rfc3339()],
            )
            .map_err(db_err)?;
            Ok(conn.last_insert_rowid())
        })?;
        let raw = self.read(|conn| {
            conn.query_row(
                "SELECT id, unit, url, secret, lists, created_at FROM subscriptions WHERE id = ?1",
                [id],
                subscription,
            )
            .map_err(db_err)
        })?;
        into_subscription(raw)
    }

    fn subscriptions(&self, unit: Option<&str>) -> Result<Vec<Subscription>> {
        let raws = self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, unit, url, secret, lists, created_at FROM subscriptions
                     WHERE ?1 IS NULL OR unit = ?1 ORDER BY id",
                )
                .map_err(db_err)?;
            stmt.query_map([unit], subscription).map_err(db_err)?.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })?;
        raws.into_iter().map(into_subscription).collect()
    }

    fn pump_list_changes(&self, lists: &[String], now: Timestamp) -> Result<u64> {
        let lists_json = serde_json::to_string(lists).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let subs = self.subscriptions(None)?;
        if subs.is_empty() {
            return Ok(0);
        }
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_err)?;
            // (change, list, what happened, entries)
            let mut changes: Vec<(String, String, Value, Vec<Value>)> = Vec::new();
            {
                let mut batches = tx
                    .prepare(
                        "SELECT id, item, unit, finished_at FROM batches
                         WHERE status = 'committed' AND accepted > 0
                           AND item IN (SELECT value FROM json_each(?1))
                           AND NOT EXISTS (SELECT 1 FROM fanned_out WHERE change = 'batch:' || batches.id)
                         ORDER BY finished_at, id",
                    )
                    .map_err(db_err)?;
                let found = batches
                    .query_map([&lists_json], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
                    })
                    .map_err(db_err)?
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(db_err)?;
                for (id, item, unit, at) in found {
                    let es = entries(&tx, "r.batch_id = ?1", &id)?;
                    let what = json!({ "event": "entries_filed", "batch": id, "unit": unit, "at": at });
                    changes.push((format!("batch:{id}"), item, what, es));
                }
                let mut cases = tx
                    .prepare(
                        "SELECT c.id, c.kind, r.item, c.updated_at, coalesce(json_extract(c.data, '$.outcome'), '')
                         FROM cases c JOIN records r ON r.id = c.record_id
                         WHERE c.open = 0 AND r.item IN (SELECT value FROM json_each(?1))
                           AND ((c.kind = 'repair' AND c.status = 'approved') OR c.kind = 'revocation'
                                OR (c.kind = 'objection' AND json_extract(c.data, '$.outcome') IN ('deleted', 'corrected')))
                           AND NOT EXISTS (SELECT 1 FROM fanned_out WHERE change = 'case:' || c.id)
                         ORDER BY c.updated_at, c.id",
                    )
                    .map_err(db_err)?;
                let found = cases
                    .query_map([&lists_json], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                        ))
                    })
                    .map_err(db_err)?
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(db_err)?;
                for (id, kind, item, at, outcome) in found {
                    let es = entries(&tx, "r.id = (SELECT record_id FROM cases WHERE id = ?1)", &id)?;
                    let event = match (kind.as_str(), outcome.as_str()) {
                        ("repair", _) => "entry_repaired",
                        ("revocation", _) => "entry_revoked",
                        (_, "deleted") => "entry_deleted",
                        _ => "entry_corrected",
                    };
                    changes.push((format!("case:{id}"), item, json!({ "event": event, "case": id, "at": at }), es));
                }
            }
            let mut queued = 0u64;
            let at = now.to_rfc3339();
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
                        tx.execute(
                            "INSERT INTO deliveries (subscription, change, payload, status, next_attempt_ms, created_at)
                             VALUES (?1, ?2, ?3, 'pending', ?4, ?5)",
                            params![sub.id, change, payload.to_string(), millis(now), at],
                        )
                        .map_err(db_err)?;
                        queued += 1;
                    }
                }
                tx.execute("INSERT INTO fanned_out (change, at) VALUES (?1, ?2)", params![change, at]).map_err(db_err)?;
            }
            tx.commit().map_err(db_err)?;
            Ok(queued)
        })
    }

    fn due_deliveries(&self, now: Timestamp, limit: u32) -> Result<Vec<(Delivery, String)>> {
        let raws = self.read(|conn| {
            let sql = format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN subscriptions s ON s.id = d.subscription
                 WHERE d.status = 'pending' AND d.next_attempt_ms <= ?1 ORDER BY d.next_attempt_ms, d.id LIMIT ?2"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            stmt.query_map(params![millis(now), limit], raw_delivery)
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)
        })?;
        raws.into_iter().map(into_delivery).collect()
    }

    fn record_attempt(&self, id: i64, attempt: &Attempt, now: Timestamp) -> Result<()> {
        let at = now.to_rfc3339();
        let changed = self.write(|conn| {
            let sql_params = match attempt {
                Attempt::Delivered => conn.execute(
                    "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = ?2,
                        next_attempt_ms = NULL, last_error = NULL WHERE id = ?1 AND status = 'pending'",
                    params![id, at],
                ),
                Attempt::Retry { error, at: next } => conn.execute(
                    "UPDATE deliveries SET attempts = attempts + 1, last_error = ?2, next_attempt_ms = ?3
                     WHERE id = ?1 AND status = 'pending'",
                    params![id, error, millis(*next)],
                ),
                Attempt::GiveUp { error } => conn.execute(
                    "UPDATE deliveries SET status = 'failed', attempts = attempts + 1, last_error = ?2,
                        next_attempt_ms = NULL WHERE id = ?1 AND status = 'pending'",
                    params![id, error],
                ),
            };
            sql_params.map_err(db_err)
        })?;
        if changed == 1 { Ok(()) } else { Err(StoreError::Conflict(format!("delivery {id} is not pending"))) }
    }

    fn deliveries(&self, unit: Option<&str>, status: Option<DeliveryStatus>, limit: u32) -> Result<Vec<Delivery>> {
        let raws = self.read(|conn| {
            let sql = format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN subscriptions s ON s.id = d.subscription
                 WHERE (?1 IS NULL OR s.unit = ?1) AND (?2 IS NULL OR d.status = ?2) ORDER BY d.id DESC LIMIT ?3"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            stmt.query_map(params![unit, status.map(DeliveryStatus::as_str), limit], raw_delivery)
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)
        })?;
        raws.into_iter().map(|r| into_delivery(r).map(|(d, _)| d)).collect()
    }
}

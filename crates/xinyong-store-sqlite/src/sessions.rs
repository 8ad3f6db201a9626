//! Passwords, lockout and browser sessions in the embedded store.

use rusqlite::{OptionalExtension, params};
use xinyong_store::access::AccountStore;
use xinyong_store::session::{Credentials, NewSession, Session, SessionStore};
use xinyong_store::{Result, StoreError, Timestamp};

use crate::subjects::time;
use crate::{SqliteStore, db_err};

impl SessionStore for SqliteStore {
    fn credentials(&self, name: &str) -> Result<Option<Credentials>> {
        let row = self.read(|conn| {
            conn.prepare_cached(
                "SELECT a.id, c.password_hash, c.failed_logins, c.locked_until
                 FROM accounts a LEFT JOIN credentials c ON c.account_id = a.id WHERE a.name = ?1",
            )
            .map_err(db_err)?
            .query_row([name], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<u32>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .optional()
            .map_err(db_err)
        })?;
        let Some((id, password_hash, failed, locked)) = row else { return Ok(None) };
        let account = self.account(id)?.ok_or_else(|| StoreError::NotFound(format!("account {id}")))?;
        Ok(Some(Credentials {
            account,
            password_hash,
            failed_logins: failed.unwrap_or(0),
            locked_until: locked.as_deref().map(time).transpose()?,
        }))
    }

    fn set_password(&self, account_id: i64, password_hash: &str, at: Timestamp) -> Result<()> {
        self.write(|conn| {
            let tx = conn.transaction().map_err(db_err)?;
            let known: bool = tx
                .query_row("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?1)", [account_id], |r| r.get(0))
                .map_err(db_err)?;
            if !known {
                return Err(StoreError::NotFound(format!("account {account_id}")));
            }
            tx.execute(
                "INSERT INTO credentials (account_id, password_hash, changed_at, failed_logins, locked_until)
                 VALUES (?1, ?2, ?3, 0, NULL)
                 ON CONFLICT (account_id) DO UPDATE SET password_hash = excluded.password_hash,
                     changed_at = excluded.changed_at, failed_logins = 0, locked_until = NULL",
                params![account_id, password_hash, at.to_rfc3339()],
            )
            .map_err(db_err)?;
            tx.execute("DELETE FROM sessions WHERE account_id = ?1", [account_id]).map_err(db_err)?;
            tx.commit().map_err(db_err)
        })
    }

    fn login_failed(&self, account_id: i64, lock_until: Option<Timestamp>) -> Result<u32> {
        self.write(|conn| {
            let sql = match lock_until {
                Some(_) => {
                    "INSERT INTO credentials (account_id, failed_logins, locked_until) VALUES (?1, 0, ?2)
                     ON CONFLICT (account_id) DO UPDATE SET failed_logins = 0, locked_until = excluded.locked_until
                     RETURNING failed_logins"
                }
                None => {
                    "INSERT INTO credentials (account_id, failed_logins) VALUES (?1, 1)
                     ON CONFLICT (account_id) DO UPDATE SET failed_logins = failed_logins + 1
                     RETURNING failed_logins"
                }
            };
            let lock = lock_until.map(|t| t.to_rfc3339());
            let args = match &lock {
                Some(l) => conn.query_row(sql, params![account_id, l], |r| r.get(0)),
                None => conn.query_row(sql, params![account_id], |r| r.get(0)),
            };
            args.map_err(db_err)
        })
    }

    fn login_succeeded(&self, account_id: i64) -> Result<()> {
        self.write(|conn| {
            conn.execute(
                "UPDATE credentials SET failed_logins = 0, locked_until = NULL WHERE account_id = ?1",
                [account_id],
            )
            .map_err(db_err)?;
            Ok(())
        })
    }

    fn address_failed(&self, address: &str, at: Timestamp, forget_until: Timestamp) -> Result<()> {
        self.write(|conn| {
            conn.prepare_cached("DELETE FROM login_failures WHERE at_us <= ?1")
                .and_then(|mut s| s.execute([forget_until.timestamp_micros()]))
                .map_err(db_err)?;
            conn.prepare_cached("INSERT INTO login_failures (address, at_us) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![address, at.timestamp_micros()]))
                .map_err(db_err)?;
            Ok(())
        })
    }

    fn address_failures(&self, address: &str, since: Timestamp, max: u32) -> Result<Vec<Timestamp>> {
        let micros: Vec<i64> = self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT at_us FROM login_failures WHERE address = ?1 AND at_us > ?2 ORDER BY at_us DESC LIMIT ?3",
                )
                .map_err(db_err)?;
            let rows = stmt.query_map(params![address, since.timestamp_micros(), max], |r| r.get(0)).map_err(db_err)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db_err)
        })?;
        micros
            .into_iter()
            .rev()
            .map(|us| {
                chrono::DateTime::from_timestamp_micros(us)
                    .map(|t| t.fixed_offset())
                    .ok_or_else(|| StoreError::Invalid(format!("a sign-in failure at {us} µs is out of range")))
            })
            .collect()
    }

    fn create_session(&self, new: &NewSession) -> Result<()> {
        self.write(|conn| {
            let at = new.at.to_rfc3339();
            conn.execute(
                "INSERT INTO sessions (token_hash, account_id, csrf, created_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![new.token_hash, new.account_id, new.csrf, at],
            )
            .map_err(db_err)?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &[u8]) -> Result<Option<Session>> {
        let row = self.read(|conn| {
            conn.prepare_cached("SELECT account_id, csrf, created_at, last_seen_at FROM sessions WHERE token_hash = ?1")
                .map_err(db_err)?
                .query_row([token_hash], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
                })
                .optional()
                .map_err(db_err)
        })?;
        row.map(|(account_id, csrf, created, seen)| {
            Ok(Session { account_id, csrf, created_at: time(&created)?, last_seen_at: time(&seen)? })
        })
        .transpose()
    }

    fn touch_session(&self, token_hash: &[u8], at: Timestamp) -> Result<()> {
        self.write(|conn| {
            conn.execute(
                "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1",
                params![token_hash, at.to_rfc3339()],
            )
            .map_err(db_err)?;
            Ok(())
        })
    }

    fn end_session(&self, token_hash: &[u8]) -> Result<()> {
        self.write(|conn| {
            conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash]).map_err(db_err)?;
            Ok(())
        })
    }

    fn purge_sessions(&self, idle_before: Timestamp, created_before: Timestamp) -> Result<u64> {
        // Times are RFC 3339 text with their offset, so they are compared parsed, not as strings.
        let stale: Vec<Vec<u8>> = self.read(|conn| {
            let mut stmt = conn.prepare("SELECT token_hash, created_at, last_seen_at FROM sessions").map_err(db_err)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
                .map_err(db_err)?;
            let mut stale = Vec::new();
            for row in rows {
                let (hash, created, seen) = row.map_err(db_err)?;
                if time(&seen)? < idle_before || time(&created)? < created_before {
                    stale.push(hash);
                }
            }
            Ok(stale)
        })?;
        self.write(|conn| {
            let tx = conn.transaction().map_err(db_err)?;
            for hash in &stale {
                tx.execute("DELETE FROM sessions WHERE token_hash = ?1", [hash]).map_err(db_err)?;
            }
            tx.commit().map_err(db_err)
        })?;
        Ok(stale.len() as u64)
    }
}

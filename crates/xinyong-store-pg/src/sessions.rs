//! Passwords, lockout and browser sessions on PostgreSQL.

use xinyong_store::access::AccountStore;
use xinyong_store::session::{Credentials, NewSession, Session, SessionStore};
use xinyong_store::{Result, StoreError, Timestamp};

use crate::PgStore;

impl SessionStore for PgStore {
    fn credentials(&self, name: &str) -> Result<Option<Credentials>> {
        let row = self.with(|c| {
            c.query_opt(
                "SELECT a.id, c.password_hash, c.failed_logins, c.locked_until
                 FROM accounts a LEFT JOIN credentials c ON c.account_id = a.id WHERE a.name = $1",
                &[&name],
            )
        })?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.get(0);
        let account = self.account(id)?.ok_or_else(|| StoreError::NotFound(format!("account {id}")))?;
        let failed: Option<i32> = row.get(2);
        Ok(Some(Credentials {
            account,
            password_hash: row.get(1),
            failed_logins: u32::try_from(failed.unwrap_or(0)).unwrap_or(0),
            locked_until: row.get(3),
        }))
    }

    fn set_password(&self, account_id: i64, password_hash: &str, at: Timestamp) -> Result<()> {
        self.with(|c| {
            c.transaction(|c| {
                let known: bool =
                    c.query_one("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)", &[&account_id])?.get(0);
                if !known {
                    return Err(StoreError::NotFound(format!("account {account_id}")));
                }
                c.execute(
                    "INSERT INTO credentials (account_id, password_hash, changed_at, failed_logins, locked_until)
                     VALUES ($1, $2, $3, 0, NULL)
                     ON CONFLICT (account_id) DO UPDATE SET password_hash = excluded.password_hash,
                         changed_at = excluded.changed_at, failed_logins = 0, locked_until = NULL",
                    &[&account_id, &password_hash, &at],
                )?;
                c.execute("DELETE FROM sessions WHERE account_id = $1", &[&account_id])?;
                Ok(())
            })
        })
    }

    fn login_failed(&self, account_id: i64, lock_until: Option<Timestamp>) -> Result<u32> {
        let row = self.with(|c| match lock_until {
            Some(until) => c.query_one(
                "INSERT INTO credentials (account_id, failed_logins, locked_until) VALUES ($1, 0, $2)
                 ON CONFLICT (account_id) DO UPDATE SET failed_logins = 0, locked_until = excluded.locked_until
                 RETURNING failed_logins",
                &[&account_id, &until],
            ),
            None => c.query_one(
                "INSERT INTO credentials (account_id, failed_logins) VALUES ($1, 1)
                 ON CONFLICT (account_id) DO UPDATE SET failed_logins = credentials.failed_logins + 1
                 RETURNING failed_logins",
                &[&account_id],
            ),
        })?;
        Ok(u32::try_from(row.get::<_, i32>(0)).unwrap_or(0))
    }

    fn login_succeeded(&self, account_id: i64) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE credentials SET failed_logins = 0, locked_until = NULL WHERE account_id = $1",
                &[&account_id],
            )
        })?;
        Ok(())
    }

    fn address_failed(&self, address: &str, at: Timestamp, forget_until: Timestamp) -> Result<()> {
        self.with(|c| {
            c.execute("DELETE FROM login_failures WHERE at <= $1", &[&forget_until])?;
            c.execute("INSERT INTO login_failures (address, at) VALUES ($1, $2)", &[&address, &at])
        })?;
        Ok(())
    }

    fn address_failures(&self, address: &str, since: Timestamp, max: u32) -> Result<Vec<Timestamp>> {
        let rows = self.with(|c| {
            c.query(
                "SELECT at FROM (SELECT at FROM login_failures WHERE address = $1 AND at > $2 ORDER BY at DESC LIMIT $3) n
                 ORDER BY at",
                &[&address, &since, &i64::from(max)],
            )
        })?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn create_session(&self, new: &NewSession) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO sessions (token_hash, account_id, csrf, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)",
                &[&new.token_hash, &new.account_id, &new.csrf, &new.at],
            )
        })?;
        Ok(())
    }

    fn session(&self, token_hash: &[u8]) -> Result<Option<Session>> {
        let row = self.with(|c| {
            c.query_opt(
                "SELECT account_id, csrf, created_at, last_seen_at FROM sessions WHERE token_hash = $1",
                &[&token_hash],
            )
        })?;
        Ok(row.map(|r| Session { account_id: r.get(0), csrf: r.get(1), created_at: r.get(2), last_seen_at: r.get(3) }))
    }

    fn touch_session(&self, token_hash: &[u8], at: Timestamp) -> Result<()> {
        self.with(|c| c.execute("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1", &[&token_hash, &at]))?;
        Ok(())
    }

    fn end_session(&self, token_hash: &[u8]) -> Result<()> {
        self.with(|c| c.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash]))?;
        Ok(())
    }

    fn purge_sessions(&self, idle_before: Timestamp, created_before: Timestamp) -> Result<u64> {
        self.with(|c| {
            c.execute(
                "DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2",
                &[&idle_before, &created_before],
            )
        })
    }
}

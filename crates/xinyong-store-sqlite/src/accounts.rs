//! Accounts and authorisations in the embedded store.

use rusqlite::{OptionalExtension, Row, params};
use xinyong_domain::access::Role;
use xinyong_domain::catalog::Openness;
use xinyong_store::access::{Account, AccountStore, Authorisation, NewAccount, NewAuthorisation};
use xinyong_store::{Result, StoreError};

use crate::subjects::time;
use crate::{SqliteStore, db_err};

const ACCOUNT_COLUMNS: &str = "id, name, unit, role, subject_id, disabled, created_at";
const AUTH_COLUMNS: &str = "id, subject_id, grantee_unit, scope, granted_at, expires_at, revoked_at";

type RawAccount = (i64, String, Option<String>, String, Option<i64>, bool, String);

fn account(r: &Row<'_>) -> rusqlite::Result<RawAccount> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
}

fn to_account(raw: RawAccount) -> Result<Account> {
    let (id, name, unit, role, subject_id, disabled, created_at) = raw;
    let role = Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("account role {role:?}")))?;
    Ok(Account { id, name, unit, role, subject_id, disabled, created_at: time(&created_at)? })
}

type RawAuth = (i64, i64, String, String, String, String, Option<String>);

fn auth(r: &Row<'_>) -> rusqlite::Result<RawAuth> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
}

fn to_auth(raw: RawAuth) -> Result<Authorisation> {
    let (id, subject_id, grantee_unit, scope, granted, expires, revoked) = raw;
    let scope: Vec<Openness> =
        serde_json::from_str(&scope).map_err(|e| StoreError::Corrupt(format!("authorisation scope: {e}")))?;
    Ok(Authorisation {
        id,
        subject_id,
        grantee_unit,
        scope,
        granted_at: time(&granted)?,
        expires_at: time(&expires)?,
        revoked_at: revoked.as_deref().map(time).transpose()?,
    })
}

fn conflict_or(e: rusqlite::Error, what: &str) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            StoreError::Conflict(format!("{what}: {e}"))
        }
        _ => db_err(e),
    }
}

impl AccountStore for SqliteStore {
    fn create_account(&self, new: &NewAccount) -> Result<Account> {
        let id = self.write(|conn| {
            conn.execute(
                "INSERT INTO accounts (name, unit, role, subject_id, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![new.name, new.unit, new.role.as_str(), new.subject_id, new.token_hash, new.created_at.to_rfc3339()],
            )
            .map_err(|e| conflict_or(e, &format!("account {}", new.name)))?;
            Ok(conn.last_insert_rowid())
        })?;
        self.account(id)?.ok_or_else(|| StoreError::NotFound(format!("account {id}")))
    }

    fn account_by_token(&self, token_hash: &[u8]) -> Result<Option<Account>> {
        self.read(|conn| {
            let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE token_hash = ?1");
            let raw = conn
                .prepare_cached(&sql)
                .map_err(db_err)?
                .query_row([token_hash], account)
                .optional()
                .map_err(db_err)?;
            raw.map(to_account).transpose()
        })
    }

    fn account(&self, id: i64) -> Result<Option<Account>> {
        self.read(|conn| {
            let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1");
            let raw = conn.prepare_cached(&sql).map_err(db_err)?.query_row([id], account).optional().map_err(db_err)?;
            raw.map(to_account).transpose()
        })
    }

    fn accounts(&self) -> Result<Vec<Account>> {
        self.read(|conn| {
            let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id");
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            let rows = stmt.query_map([], account).map_err(db_err)?;
            rows.map(|r| r.map_err(db_err).and_then(to_account)).collect()
        })
    }

    fn grant_authorisation(&self, new: &NewAuthorisation) -> Result<Authorisation> {
        let scope = serde_json::to_string(&new.scope).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let id = self.write(|conn| {
            conn.execute(
                "INSERT INTO authorisations (subject_id, grantee_unit, scope, granted_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![new.subject_id, new.grantee_unit, scope, new.granted_at.to_rfc3339(), new.expires_at.to_rfc3339()],
            )
            .map_err(|e| conflict_or(e, "authorisation"))?;
            Ok(conn.last_insert_rowid())
        })?;
        self.read(|conn| {
            let sql = format!("SELECT {AUTH_COLUMNS} FROM authorisations WHERE id = ?1");
            to_auth(conn.query_row(&sql, [id], auth).map_err(db_err)?)
        })
    }

    fn revoke_authorisation(&self, id: i64, at: xinyong_store::Timestamp) -> Result<Authorisation> {
        let changed = self.write(|conn| {
            conn.execute(
                "UPDATE authorisations SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, at.to_rfc3339()],
            )
            .map_err(db_err)
        })?;
        let found = self.read(|conn| {
            let sql = format!("SELECT {AUTH_COLUMNS} FROM authorisations WHERE id = ?1");
            conn.query_row(&sql, [id], auth).optional().map_err(db_err)
        })?;
        match found {
            None => Err(StoreError::NotFound(format!("authorisation {id}"))),
            Some(raw) if changed == 0 => {
                Err(StoreError::Conflict(format!("authorisation {} is already revoked", raw.0)))
            }
            Some(raw) => to_auth(raw),
        }
    }

    fn authorisations_of(&self, subject_id: i64) -> Result<Vec<Authorisation>> {
        self.read(|conn| {
            let sql = format!("SELECT {AUTH_COLUMNS} FROM authorisations WHERE subject_id = ?1 ORDER BY id");
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            let rows = stmt.query_map([subject_id], auth).map_err(db_err)?;
            rows.map(|r| r.map_err(db_err).and_then(to_auth)).collect()
        })
    }
}

//! Accounts and authorisations.

use postgres::Row;
use xinyong_domain::access::Role;
use xinyong_domain::catalog::Openness;
use xinyong_store::access::{Account, AccountStore, Authorisation, NewAccount, NewAuthorisation};
use xinyong_store::{Result, StoreError, Timestamp};

use crate::PgStore;
use crate::subjects::time;

fn to_account(r: &Row) -> Result<Account> {
    let role: String = r.get(3);
    let role = Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("account role {role:?}")))?;
    Ok(Account {
        id: r.get(0),
        name: r.get(1),
        unit: r.get(2),
        role,
        subject_id: r.get(4),
        disabled: r.get(5),
        created_at: time(r.get(6))?,
    })
}

fn to_auth(r: &Row) -> Result<Authorisation> {
    let scope: Vec<Openness> =
        serde_json::from_str(r.get(3)).map_err(|e| StoreError::Corrupt(format!("authorisation scope: {e}")))?;
    Ok(Authorisation {
        id: r.get(0),
        subject_id: r.get(1),
        grantee_unit: r.get(2),
        scope,
        granted_at: time(r.get(4))?,
        expires_at: time(r.get(5))?,
        revoked_at: r.get::<_, Option<&str>>(6).map(time).transpose()?,
    })
}

/// A violated constraint (unknown unit, taken name) is the caller's conflict, as in the embedded store.
fn conflict(e: StoreError, what: &str) -> StoreError {
    match e {
        StoreError::Conflict(m) => StoreError::Conflict(format!("{what}: {m}")),
        StoreError::Backend(m) if m.contains("foreign key") => StoreError::Conflict(format!("{what}: {m}")),
        other => other,
    }
}

impl AccountStore for PgStore {
    fn create_account(&self, new: &NewAccount) -> Result<Account> {
        let row = self
            .with(|c| {
                if let Some(subject) = new.subject_id {
                    let known: bool =
                        c.query_one("SELECT EXISTS (SELECT 1 FROM subjects WHERE id = $1)", &[&subject])?.get(0);
                    if !known {
                        return Err(StoreError::Conflict("FOREIGN KEY constraint failed (unknown subject)".into()));
                    }
                }
                c.query_one(
                    "INSERT INTO accounts (name, unit, role, subject_id, token_hash, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     RETURNING id, name, unit, role, subject_id, disabled, created_at",
                    &[
                        &new.name,
                        &new.unit,
                        &new.role.as_str(),
                        &new.subject_id,
                        &new.token_hash,
                        &new.created_at.to_rfc3339(),
                    ],
                )
            })
            .map_err(|e| conflict(e, &format!("account {}", new.name)))?;
        to_account(&row)
    }

    fn account_by_token(&self, token_hash: &[u8]) -> Result<Option<Account>> {
        let row = self.with(|c| {
            c.query_opt(
                "SELECT id, name, unit, role, subject_id, disabled, created_at FROM accounts WHERE token_hash = $1",
                &[&token_hash],
            )
        })?;
        row.as_ref().map(to_account).transpose()
    }

    fn account(&self, id: i64) -> Result<Option<Account>> {
        let row = self.with(|c| {
            c.query_opt(
                "SELECT id, name, unit, role, subject_id, disabled, created_at FROM accounts WHERE id = $1",
                &[&id],
            )
        })?;
        row.as_ref().map(to_account).transpose()
    }

    fn accounts(&self) -> Result<Vec<Account>> {
        let rows = self.with(|c| {
            c.query("SELECT id, name, unit, role, subject_id, disabled, created_at FROM accounts ORDER BY id", &[])
        })?;
        rows.iter().map(to_account).collect()
    }

    fn grant_authorisation(&self, new: &NewAuthorisation) -> Result<Authorisation> {
        let scope = serde_json::to_string(&new.scope).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let row = self
            .with(|c| {
                c.transaction(|c| {
                    // The embedded store's foreign keys, checked here: subjects and units are
                    // distributed and reference tables, which a foreign key may not join on Citus.
                    let known: bool = c
                        .query_one(
                            "SELECT EXISTS (SELECT 1 FROM subjects WHERE id = $1)
                                AND EXISTS (SELECT 1 FROM units WHERE code = $2)",
                            &[&new.subject_id, &new.grantee_unit],
                        )?
                        .get(0);
                    if !known {
                        return Err(StoreError::Conflict(
                            "authorisation: FOREIGN KEY constraint failed (unknown subject or unit)".into(),
                        ));
                    }
                    c.query_one(
                        "INSERT INTO authorisations (subject_id, grantee_unit, scope, granted_at, expires_at)
                         VALUES ($1, $2, $3, $4, $5)
                         RETURNING id, subject_id, grantee_unit, scope, granted_at, expires_at, revoked_at",
                        &[
                            &new.subject_id,
                            &new.grantee_unit,
                            &scope,
                            &new.granted_at.to_rfc3339(),
                            &new.expires_at.to_rfc3339(),
                        ],
                    )
                })
            })
            .map_err(|e| conflict(e, "authorisation"))?;
        to_auth(&row)
    }

    fn revoke_authorisation(&self, id: i64, at: Timestamp) -> Result<Authorisation> {
        let at = at.to_rfc3339();
        let (changed, row) = self.with(|c| {
            let changed = c.execute(
                "UPDATE authorisations SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[&id, &at],
            )?;
            let row = c.query_opt(
                "SELECT id, subject_id, grantee_unit, scope, granted_at, expires_at, revoked_at FROM authorisations WHERE id = $1",
                &[&id],
            )?;
            Ok((changed, row))
        })?;
        match row {
            None => Err(StoreError::NotFound(format!("authorisation {id}"))),
            Some(_) if changed == 0 => Err(StoreError::Conflict(format!("authorisation {id} is already revoked"))),
            Some(row) => to_auth(&row),
        }
    }

    fn authorisations_of(&self, subject_id: i64) -> Result<Vec<Authorisation>> {
        let rows = self.with(|c| {
            c.query(
                "SELECT id, subject_id, grantee_unit, scope, granted_at, expires_at, revoked_at
                 FROM authorisations WHERE subject_id = $1 ORDER BY id",
                &[&subject_id],
            )
        })?;
        rows.iter().map(to_auth).collect()
    }
}

//! Accounts, API tokens, and subjects' authorisations of market institutions.
//!
//! Tokens are shown once and stored only as a SHA-256 hash: a token is 32 random bytes, so a plain
//! hash cannot be reversed by guessing (passwords, which are guessable, use argon2id instead).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use xinyong_domain::access::Role;
use xinyong_domain::catalog::Openness;

use crate::{Result, Timestamp};

/// Prefix of every API token, so leaked tokens are easy to recognise in logs and scanners.
pub const TOKEN_PREFIX: &str = "xy_";

/// A new random API token (`xy_` + 64 hex characters).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let mut out = String::from(TOKEN_PREFIX);
    out.push_str(&hex::encode(bytes));
    out
}

/// What the store keeps of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub unit: Option<String>,
    pub role: Role,
    /// For the subject role: the subject this account is.
    pub subject_id: Option<i64>,
    pub disabled: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub unit: Option<String>,
    pub role: Role,
    pub subject_id: Option<i64>,
    pub token_hash: Vec<u8>,
    pub created_at: Timestamp,
}

/// A subject's authorisation for a market institution (unit) to query its non-public information.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorisation {
    pub id: i64,
    pub subject_id: i64,
    pub grantee_unit: String,
    /// The openness levels it opens (normally `authorised`).
    pub scope: Vec<Openness>,
    pub granted_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl Authorisation {
    pub fn is_valid_at(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

#[derive(Debug, Clone)]
pub struct NewAuthorisation {
    pub subject_id: i64,
    pub grantee_unit: String,
    pub scope: Vec<Openness>,
    pub granted_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Accounts and authorisations.
pub trait AccountStore {
    fn create_account(&self, new: &NewAccount) -> Result<Account>;
    fn account_by_token(&self, token_hash: &[u8]) -> Result<Option<Account>>;
    fn account(&self, id: i64) -> Result<Option<Account>>;
    fn accounts(&self) -> Result<Vec<Account>>;
    fn grant_authorisation(&self, new: &NewAuthorisation) -> Result<Authorisation>;
    fn revoke_authorisation(&self, id: i64, at: Timestamp) -> Result<Authorisation>;
    fn authorisations_of(&self, subject_id: i64) -> Result<Vec<Authorisation>>;
}

//! Sign-in for people: passwords (argon2id hashes, made above the store), failed-attempt lockout, and
//! browser sessions. Sessions live in the store, not in a server's memory, so several servers behind
//! a load balancer share them and a restart signs nobody out.
//!
//! A session token is shown to the browser once (its cookie) and stored only as a SHA-256 hash, like
//! API tokens; the CSRF token is per session and stored as is (it is no credential on its own).

use serde::{Deserialize, Serialize};

use crate::access::Account;
use crate::{Result, Timestamp};

/// What the store keeps to check a password sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub account: Account,
    /// The PHC string of the password hash; `None` until a password is set (API token only).
    pub password_hash: Option<String>,
    /// Failed attempts since the last success or lockout.
    pub failed_logins: u32,
    /// Sign-in is refused until then.
    pub locked_until: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub account_id: i64,
    pub csrf: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: Vec<u8>,
    pub account_id: i64,
    pub csrf: String,
    pub at: Timestamp,
}

pub trait SessionStore {
    /// The account named `name` with its password state; `None` for an unknown name.
    fn credentials(&self, name: &str) -> Result<Option<Credentials>>;

    /// Sets an account's password hash, clears failed attempts and ends every session of the account.
    fn set_password(&self, account_id: i64, password_hash: &str, at: Timestamp) -> Result<()>;

    /// Counts one failed attempt; with `lock_until`, locks the account until then and restarts the count.
    /// Returns the attempts counted now (0 after a lock).
    fn login_failed(&self, account_id: i64, lock_until: Option<Timestamp>) -> Result<u32>;

    /// A successful sign-in: clears the count and the lock.
    fn login_succeeded(&self, account_id: i64) -> Result<()>;

    /// Counts a failed sign-in from a client address (as the server's throttle names it) at `at`, and
    /// forgets the failures of every address at or before `forget_until` (out of the throttle's window).
    /// In the store, not a server's memory, so that servers behind one load balancer count together.
    fn address_failed(&self, address: &str, at: Timestamp, forget_until: Timestamp) -> Result<()>;

    /// The newest `max` failed sign-ins from the address after `since`, oldest first.
    fn address_failures(&self, address: &str, since: Timestamp, max: u32) -> Result<Vec<Timestamp>>;

    fn create_session(&self, new: &NewSession) -> Result<()>;

    fn session(&self, token_hash: &[u8]) -> Result<Option<Session>>;

    /// Marks the session used at `at` (for the idle timeout).
    fn touch_session(&self, token_hash: &[u8], at: Timestamp) -> Result<()>;

    fn end_session(&self, token_hash: &[u8]) -> Result<()>;

    /// Deletes sessions idle since before `idle_before` or created before `created_before`; returns how many.
    fn purge_sessions(&self, idle_before: Timestamp, created_before: Timestamp) -> Result<u64>;
}

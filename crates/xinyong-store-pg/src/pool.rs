//! A small connection pool: at most [`MAX_CONNECTIONS`] connections to the server at once, idle ones
//! kept for reuse, each with its own cache of prepared statements.
//!
//! The traits are synchronous and the server calls them from blocking threads, so the pool is too: a
//! caller that finds every connection in use waits on a condition variable. `postgres::Client` runs
//! its own small runtime per connection and must never be used from inside an async task (it would
//! panic); every call site in this workspace is on a blocking thread (`spawn_blocking`, the audit
//! committer's thread, the CLI).

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Row, Statement};
use xinyong_store::Result;

use crate::db_err;

/// Connections one process opens at most (the server's blocking threads share them). PostgreSQL's
/// default `max_connections` is 100: several servers and commands fit beside each other.
pub const MAX_CONNECTIONS: usize = 16;

/// The schema every table lives in; `init --force` drops it whole.
pub const SCHEMA: &str = "xinyong";

/// One connection and its prepared statements.
pub struct Conn {
    pub client: Client,
    statements: HashMap<&'static str, Statement>,
    /// Inside a transaction begun by [`Conn::begin`]: a connection returned so is not reused.
    in_transaction: bool,
}

impl Conn {
    pub fn connect(config: &Config) -> Result<Conn> {
        let mut client = config.connect(NoTls).map_err(db_err)?;
        // Custom plans always: with generic plans a LIMIT query over a skewed column (a common name
        // gram) picks a plan that suits no actual value (STACK.md).
        client
            .batch_execute(&format!(
                "SET search_path = {SCHEMA}; SET plan_cache_mode = force_custom_plan; SET application_name = 'xinyong'"
            ))
            .map_err(db_err)?;
        Ok(Conn { client, statements: HashMap::new(), in_transaction: false })
    }

    /// A prepared statement of this connection, prepared on first use.
    pub fn prepare(&mut self, sql: &'static str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).map_err(db_err)?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }

    pub fn query(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let s = self.prepare(sql)?;
        self.client.query(&s, params).map_err(db_err)
    }

    pub fn query_opt(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        let s = self.prepare(sql)?;
        self.client.query_opt(&s, params).map_err(db_err)
    }

    pub fn query_one(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Row> {
        let s = self.prepare(sql)?;
        self.client.query_one(&s, params).map_err(db_err)
    }

    pub fn execute(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let s = self.prepare(sql)?;
        self.client.execute(&s, params).map_err(db_err)
    }

    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled back otherwise.
    pub fn transaction<T>(&mut self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        self.begin()?;
        match f(self) {
            Ok(value) => {
                self.commit()?;
                Ok(value)
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    pub fn begin(&mut self) -> Result<()> {
        self.client.batch_execute("BEGIN").map_err(db_err)?;
        self.in_transaction = true;
        Ok(())
    }

    pub fn commit(&mut self) -> Result<()> {
        let done = self.client.batch_execute("COMMIT").map_err(db_err);
        self.in_transaction = false;
        done
    }

    /// Rolls back; a failure leaves the connection marked so the pool drops it.
    pub fn rollback(&mut self) {
        match self.client.batch_execute("ROLLBACK") {
            Ok(()) => self.in_transaction = false,
            Err(e) => tracing::error!(error = %e, "rolling back a transaction failed"),
        }
    }
}

pub struct Pool {
    config: Config,
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<Conn>,
    /// Connections handed out and not yet returned.
    out: usize,
}

impl Pool {
    pub fn new(config: Config) -> Pool {
        Pool { config, state: Mutex::new(PoolState { idle: Vec::new(), out: 0 }), returned: Condvar::new() }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Nothing panics while holding this lock, so a poisoned one is still consistent.
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A connection: an idle one, a new one if fewer than [`MAX_CONNECTIONS`] are out, or the next one
    /// returned. It goes back to the pool when the guard drops.
    pub fn get(&self) -> Result<Pooled<'_>> {
        let mut state = self.lock();
        loop {
            if let Some(conn) = state.idle.pop() {
                state.out += 1;
                return Ok(Pooled { pool: self, conn: Some(conn) });
            }
            if state.out < MAX_CONNECTIONS {
                state.out += 1;
                drop(state);
                return match Conn::connect(&self.config) {
                    Ok(conn) => Ok(Pooled { pool: self, conn: Some(conn) }),
                    Err(e) => {
                        self.give_back(None);
                        Err(e)
                    }
                };
            }
            state = self.returned.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Takes a connection back for reuse unless it is closed (server restart, broken socket) or was
    /// left inside a transaction (a panic, a failed rollback).
    fn give_back(&self, conn: Option<Conn>) {
        let reusable = conn.filter(|c| !c.client.is_closed() && !c.in_transaction);
        let mut state = self.lock();
        state.out = state.out.saturating_sub(1);
        if let Some(conn) = reusable {
            state.idle.push(conn);
        }
        drop(state);
        self.returned.notify_one();
    }

    /// Drops the idle connections (their prepared statements name tables that no longer exist).
    pub fn clear_idle(&self) {
        self.lock().idle.clear();
    }

    /// Runs `f` on a pooled connection.
    pub fn with<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        let mut conn = self.get()?;
        f(&mut conn)
    }
}

/// A connection out of the pool; back in when dropped.
pub struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        // Only `drop` takes the connection out.
        match &self.conn {
            Some(c) => c,
            None => unreachable_conn(),
        }
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        match &mut self.conn {
            Some(c) => c,
            None => unreachable_conn(),
        }
    }
}

impl Pooled<'_> {
    /// Takes the connection out for a thread of its own (`conn_thread.rs`), which must not read this
    /// guard until [`Pooled::put_back`]. A guard dropped without it gives nothing back to reuse.
    pub(crate) fn take_out(&mut self) -> Conn {
        match self.conn.take() {
            Some(c) => c,
            None => unreachable_conn(),
        }
    }

    pub(crate) fn put_back(&mut self, conn: Conn) {
        self.conn = Some(conn);
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        self.pool.give_back(self.conn.take());
    }
}

#[cold]
fn unreachable_conn() -> ! {
    unreachable!("a pooled connection is taken out only when its guard drops or for a connection thread")
}

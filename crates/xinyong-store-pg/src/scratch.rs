//! Throw-away databases for tests of every crate that runs against PostgreSQL: each test gets a
//! database of its own, dropped when the guard drops, so tests run in parallel and leave nothing.
//!
//! The server to use comes from `XINYONG_TEST_DATABASE_URL` (default: the local socket). A server that
//! cannot be reached is an error, never a skipped test: CI must not pass without PostgreSQL.
//!
//! ```no_run
//! # fn main() -> xinyong_store::Result<()> {
//! let db = xinyong_store_pg::scratch::ScratchDatabase::create()?;
//! let dir = std::env::temp_dir().join("xinyong-test-data");
//! let store = xinyong_store_pg::PgStore::create(db.url(), &dir, false)?;
//! # Ok(()) }
//! ```

use postgres::{Client, NoTls};
use xinyong_store::{Result, StoreError};

use crate::{db_err, parse_url};

/// Where the tests' PostgreSQL server is.
pub const URL_VARIABLE: &str = "XINYONG_TEST_DATABASE_URL";
pub const DEFAULT_URL: &str = "postgresql:///postgres?host=/var/run/postgresql";

/// The server URL the tests use.
pub fn server_url() -> String {
    std::env::var(URL_VARIABLE).unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// A database made for one test; dropped (with any connections still open to it) on drop.
#[derive(Debug)]
pub struct ScratchDatabase {
    server: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    pub fn create() -> Result<ScratchDatabase> {
        let server = server_url();
        let mut bytes = [0u8; 6];
        rand::fill(&mut bytes);
        let name = format!("xinyong_test_{}", hex::encode(bytes));
        let mut admin = connect(&server)?;
        admin.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")).map_err(db_err)?;
        let url = with_database(&server, &name)?;
        Ok(ScratchDatabase { server, name, url })
    }

    /// A URL of this database (the server's URL with the database replaced).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ScratchDatabase {
    /// On a thread of its own: the guard may drop inside an async test, where the blocking client may
    /// not run.
    fn drop(&mut self) {
        let drop_it = || {
            connect(&self.server).and_then(|mut admin| {
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).map_err(db_err)
            })
        };
        let dropped = std::thread::scope(|s| s.spawn(drop_it).join())
            .unwrap_or_else(|_| Err(StoreError::Backend("dropping the test database panicked".into())));
        if let Err(e) = dropped {
            eprintln!("could not drop the test database {}: {e}", self.name);
        }
    }
}

fn connect(url: &str) -> Result<Client> {
    parse_url(url)?.connect(NoTls).map_err(|e| {
        StoreError::Backend(format!(
            "the test PostgreSQL server is unreachable ({e}); start it (`pg_ctlcluster 15 main start`) or set {URL_VARIABLE}"
        ))
    })
}

/// `url` with its database replaced by `name`: in a URL the path, in a key=value string a trailing
/// `dbname=` (later keys win).
pub fn with_database(url: &str, name: &str) -> Result<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Ok(format!("{url} dbname={name}"));
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority = before_query.split_once('/').map_or(before_query, |(a, _)| a);
    let mut out = format!("{scheme}://{authority}/{name}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    parse_url(&out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        let url = |u: &str| with_database(u, "t1").unwrap_or_default();
        assert_eq!(url("postgresql:///postgres?host=/var/run/postgresql"), "postgresql:///t1?host=/var/run/postgresql");
        assert_eq!(url("postgres://u:p@db:5432/x"), "postgres://u:p@db:5432/t1");
        assert_eq!(url("postgres://db"), "postgres://db/t1");
        assert_eq!(url("host=/tmp user=x"), "host=/tmp user=x dbname=t1");
    }
}

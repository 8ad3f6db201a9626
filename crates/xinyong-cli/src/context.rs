//! What every command needs: the clock (read here, at the edge, and nowhere else) and the store.

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, Utc};
use xinyong_store::Store;
use xinyong_store_pg::PgStore;
use xinyong_store_sqlite::SqliteStore;

use crate::Failure;
use crate::args::Global;

/// Asia/Shanghai has no daylight saving time: a fixed +08:00 offset is exact.
pub fn platform_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// The current moment in the platform's zone, or the `--now` override.
pub fn now(global: &Global) -> Result<DateTime<FixedOffset>, Failure> {
    match &global.now {
        Some(s) => DateTime::parse_from_rfc3339(s).map_err(|e| Failure::usage(format!("--now {s:?}: {e}"))),
        #[allow(clippy::disallowed_methods)]
        None => Ok(Utc::now().with_timezone(&platform_offset())),
    }
}

pub fn today(global: &Global) -> Result<NaiveDate, Failure> {
    Ok(now(global)?.date_naive())
}

/// Opens the platform's store: PostgreSQL when `--database-url` is given (its keys stay in the data
/// folder's `keys/`), else the embedded store in the data folder.
pub fn open_store(global: &Global) -> Result<Box<dyn Store>, Failure> {
    match &global.database_url {
        Some(url) => Ok(Box::new(PgStore::open(url, &global.data)?)),
        None => Ok(Box::new(SqliteStore::open(&global.data)?)),
    }
}

/// Creates an empty store (`init`, `demo`); `force` replaces an existing platform.
pub fn create_store(global: &Global, force: bool) -> Result<Box<dyn Store>, Failure> {
    match &global.database_url {
        Some(url) => Ok(Box::new(PgStore::create(url, &global.data, force)?)),
        None => Ok(Box::new(SqliteStore::create(&global.data, force)?)),
    }
}

/// Where the platform's data is, for messages: the database (never its password) or the folder.
pub fn location(global: &Global) -> String {
    match global.database_url.as_deref().map(xinyong_store_pg::parse_url) {
        Some(Ok(config)) => format!("{} (keys in {})", xinyong_store_pg::describe(&config), global.data.display()),
        Some(Err(_)) | None => global.data.display().to_string(),
    }
}

/// A new batch id: `b-` + time + random suffix.
pub fn new_batch_id(now: DateTime<FixedOffset>) -> String {
    let suffix: u32 = rand::random();
    format!("b-{}-{suffix:08x}", now.format("%Y%m%d%H%M%S"))
}

/// Prints a JSON document on stdout. A reader that went away (`| head`) is not an error: the
/// operation already succeeded.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    use std::io::Write;
    let text = serde_json::to_string_pretty(value).map_err(Failure::failed)?;
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::failed(e)),
        _ => Ok(()),
    }
}

/// The operator at the console, as the audit trail names them.
pub fn operator() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "operator".to_owned()))
}

/// The operator at the console as a caller of the server's handlers (admin, channel `cli`).
pub fn console_caller(now: xinyong_store::Timestamp) -> xinyong_server::auth::Caller {
    xinyong_server::auth::Caller {
        account: xinyong_store::access::Account {
            id: 0,
            name: operator(),
            unit: None,
            role: xinyong_domain::access::Role::Admin,
            subject_id: None,
            disabled: false,
            created_at: now,
        },
        request_id: None,
        channel: xinyong_domain::access::Channel::Cli,
    }
}

/// Records a console action in the audit trail (commands write as the platform's operator).
pub fn audit_console(
    g: &Global,
    store: &dyn Store,
    action: &str,
    outcome: &str,
    detail: String,
) -> Result<(), Failure> {
    let entry = xinyong_store::audit::AuditEntry {
        at: now(g)?,
        account_id: None,
        account_name: operator(),
        unit: None,
        role: xinyong_domain::access::Role::Admin,
        action: action.to_owned(),
        subject_id: None,
        purpose: None,
        channel: xinyong_domain::access::Channel::Cli,
        outcome: outcome.to_owned(),
        detail,
        request_id: None,
    };
    store
        .append_audit(&[entry])
        .map(|_| ())
        .map_err(|e| Failure::failed(format!("the audit trail refused the entry: {e}")))
}

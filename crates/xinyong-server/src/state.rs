//! What every handler shares: the store, the audit trail, the clock, settings, metrics, limits.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, Utc};
use xinyong_store::Store;
use xinyong_store::keyring::Keyring;

use crate::audit::Auditor;
use crate::error::{ApiError, ApiResult};
use crate::limits::RateLimits;
use crate::metrics::Metrics;
use crate::settings::Settings;

/// The source of "now". Handlers never read the system clock themselves, so tests can fix it.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<FixedOffset>;

    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// The platform's zone, Asia/Shanghai: +08:00 all year.
pub fn platform_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> DateTime<FixedOffset> {
        Utc::now().with_timezone(&platform_offset())
    }
}

/// A clock stopped at one moment (tests, rehearsals with `--now`).
pub struct FixedClock(pub DateTime<FixedOffset>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<FixedOffset> {
        self.0
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub auditor: Arc<Auditor>,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    pub metrics: Arc<Metrics>,
    pub limits: Arc<RateLimits>,
    /// Failed sign-ins per client address.
    pub login_throttle: Arc<crate::limits::LoginThrottle>,
    /// The platform's signing keys (audit checkpoints, reports); `None` when the store has no key folder.
    pub keyring: Option<Arc<Keyring>>,
    /// Recently authenticated accounts (a few seconds).
    pub accounts: Arc<crate::auth::AccountCache>,
    /// Disclosure regimes, calendar and statutory step lengths.
    pub policy: Arc<crate::policy::Policy>,
    /// Credit reports: the PDF engine and the domains of special reports.
    pub reports: Arc<crate::reports::Reporting>,
}

impl AppState {
    /// Runs a blocking store call off the async workers.
    pub async fn blocking<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> ApiResult<T> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&*store)).await.map_err(ApiError::internal)?
    }
}

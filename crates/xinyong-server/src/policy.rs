//! The rules the workflows and windows are computed with: disclosure regimes, the working-day calendar
//! (shipped years plus those an admin loaded into the store), the step lengths of DOMAIN.md §5 and the
//! measures library of joint rewards and punishments.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;
use xinyong_domain::calendar::{Calendar, YearPlan};
use xinyong_domain::catalog::{CatalogItem, ListKind, Publication, Severity};
use xinyong_domain::disclosure::Regimes;
use xinyong_domain::measures::Library;
use xinyong_domain::workflow::{Deadlines, Schedule};
use xinyong_store::{Record, Store};

use crate::error::{ApiError, ApiResult};

/// Decisions are published within this many working days (国办发〔2015〕51号).
pub const PUBLISH_WITHIN_WORKING_DAYS: u32 = 7;

/// How long the calendar read from the store is reused (a year loaded with `calendar load` counts in
/// every server within this time).
const CALENDAR_TTL: std::time::Duration = std::time::Duration::from_secs(5);

pub struct Policy {
    pub regimes: Regimes,
    /// The shipped calendar; [`Policy::calendar`] adds the years loaded into the store.
    pub calendar: Calendar,
    loaded: std::sync::Mutex<Option<(std::time::Instant, Arc<Calendar>)>>,
    pub deadlines: Deadlines,
    /// Memoranda and measures of joint rewards and punishments.
    pub measures: Library,
}

/// A record's disclosure window as its JSON shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WindowView {
    pub regime: String,
    /// To be published by this day (7 working days after the decision).
    pub publish_by: NaiveDate,
    /// Repair may be applied for from this day on.
    pub min_end: NaiveDate,
    /// Publication ends at the start of this day.
    pub max_end: NaiveDate,
    pub repairable: bool,
}

impl Policy {
    pub fn shipped() -> anyhow::Result<Policy> {
        Ok(Policy {
            regimes: Regimes::default_regimes()?,
            calendar: Calendar::default_calendar()?,
            loaded: std::sync::Mutex::new(None),
            deadlines: Deadlines::default(),
            measures: Library::default_library()?,
        })
    }

    /// The shipped calendar with the years an admin loaded (`xinyong calendar load`) over it, read from
    /// the store at most once per [`CALENDAR_TTL`] (profiles ask for it on every request).
    pub fn calendar(&self, store: &dyn Store) -> ApiResult<Arc<Calendar>> {
        if let Ok(cached) = self.loaded.lock()
            && let Some((at, calendar)) = cached.as_ref()
            && at.elapsed() < CALENDAR_TTL
        {
            return Ok(Arc::clone(calendar));
        }
        let mut calendar = self.calendar.clone();
        for json in store.calendar_years()? {
            let plan: YearPlan = serde_json::from_str(&json).map_err(ApiError::internal)?;
            calendar.load_year(plan).map_err(ApiError::internal)?;
        }
        let calendar = Arc::new(calendar);
        if let Ok(mut cached) = self.loaded.lock() {
            *cached = Some((std::time::Instant::now(), Arc::clone(&calendar)));
        }
        Ok(calendar)
    }

    pub fn schedule<'a>(&'a self, calendar: &'a Calendar) -> Schedule<'a> {
        Schedule { calendar, deadlines: &self.deadlines }
    }

    /// The window of a penalty record (regime of its decision date, the item's overrides).
    pub fn window(&self, item: &CatalogItem, r: &Record, calendar: &Calendar) -> Option<WindowView> {
        if item.publication != Publication::Penalty {
            return None;
        }
        let w = self.regimes.item_window(&item.code, r.severity, r.date)?;
        Some(WindowView {
            regime: w.regime,
            publish_by: calendar.add_working_days(r.date, PUBLISH_WITHIN_WORKING_DAYS).date,
            min_end: w.min_end,
            max_end: w.max_end,
            repairable: self.repairable(&item.code),
        })
    }

    pub fn repairable(&self, item: &str) -> bool {
        self.regimes.item_override(item).is_none_or(|o| o.repairable)
    }
}

/// Dishonesty information (失信信息): a penalty with a severity, or an entry on a punishment list.
pub fn is_dishonesty(item: &CatalogItem, severity: Severity) -> bool {
    (item.publication == Publication::Penalty && severity != Severity::None) || item.list_kind == ListKind::Punishment
}

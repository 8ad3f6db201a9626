//! The working-day calendar every statutory deadline counts in (DOMAIN.md §5): China's public holidays
//! and adjusted working weekends (调休), loaded from data (`data/calendar/cn.toml`, replaceable per year).
//!
//! A deadline of *n* working days from an event falls on the *n*-th working day after the event's day
//! (the event's own day does not count, as in 《行政许可法》 and the regulations' "N个工作日内"): an
//! objection forwarded on a Friday with 5 working days to decide is due on the following Friday, or
//! later when a holiday intervenes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

pub const DEFAULT_CALENDAR_TOML: &str = include_str!("../../../data/calendar/cn.toml");

#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("calendar file is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("calendar year {year}: {message}")]
    Invalid { year: i32, message: String },
}

/// One year's official arrangement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearPlan {
    pub year: i32,
    /// The notice the days come from.
    pub source: String,
    /// Not yet the official notice: deadlines in this year are marked provisional.
    #[serde(default)]
    pub provisional: bool,
    /// Days off (holidays).
    pub off: Vec<NaiveDate>,
    /// Weekend days that are working days.
    #[serde(default)]
    pub work: Vec<NaiveDate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    years: Vec<YearPlan>,
}

/// A deadline: the day, and whether a year without an official arrangement was counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub date: NaiveDate,
    /// Some day counted lies in a year the calendar has no official notice for (Monday–Friday assumed).
    pub provisional: bool,
}

#[derive(Debug, Clone)]
pub struct Calendar {
    years: BTreeMap<i32, YearPlan>,
    off: BTreeSet<NaiveDate>,
    work: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// The shipped calendar (2024–2027).
    pub fn default_calendar() -> Result<Calendar, CalendarError> {
        Calendar::from_toml(DEFAULT_CALENDAR_TOML)
    }

    pub fn from_toml(text: &str) -> Result<Calendar, CalendarError> {
        let file: CalendarFile = toml::from_str(text)?;
        let mut calendar = Calendar { years: BTreeMap::new(), off: BTreeSet::new(), work: BTreeSet::new() };
        for plan in file.years {
            calendar.load_year(plan)?;
        }
        Ok(calendar)
    }

    /// Years parsed from a file, checked, without installing them (for `calendar load`).
    pub fn parse_years(text: &str) -> Result<Vec<YearPlan>, CalendarError> {
        let file: CalendarFile = toml::from_str(text)?;
        for plan in &file.years {
            check(plan)?;
        }
        Ok(file.years)
    }

    /// Installs a year's arrangement, replacing what the calendar had for that year.
    pub fn load_year(&mut self, plan: YearPlan) -> Result<(), CalendarError> {
        check(&plan)?;
        if let Some(old) = self.years.remove(&plan.year) {
            old.off.iter().for_each(|d| {
                self.off.remove(d);
            });
            old.work.iter().for_each(|d| {
                self.work.remove(d);
            });
        }
        self.off.extend(plan.off.iter().copied());
        self.work.extend(plan.work.iter().copied());
        self.years.insert(plan.year, plan);
        Ok(())
    }

    pub fn years(&self) -> impl Iterator<Item = &YearPlan> {
        self.years.values()
    }

    /// Whether `year` has an official (not provisional) arrangement.
    pub fn is_official(&self, year: i32) -> bool {
        self.years.get(&year).is_some_and(|p| !p.provisional)
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.work.contains(&day) {
            return true;
        }
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !self.off.contains(&day)
    }

    /// The `n`-th working day after `from` (`from` itself does not count; `n = 0` is `from`).
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> Deadline {
        let mut day = from;
        let mut provisional = false;
        let mut left = n;
        while left > 0 {
            day = day.succ_opt().unwrap_or(NaiveDate::MAX);
            if day == NaiveDate::MAX {
                break;
            }
            provisional |= !self.is_official(day.year());
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        Deadline { date: day, provisional }
    }

    /// Working days from `from` (exclusive) to `to` (inclusive); 0 when `to` is not after `from`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        from.iter_days().skip(1).take_while(|d| *d <= to).filter(|d| self.is_working_day(*d)).count() as u32
    }
}

fn check(plan: &YearPlan) -> Result<(), CalendarError> {
    let invalid = |message: String| CalendarError::Invalid { year: plan.year, message };
    if let Some(d) = plan.off.iter().chain(&plan.work).find(|d| d.year() != plan.year) {
        return Err(invalid(format!("{d} is not in {}", plan.year)));
    }
    if let Some(d) = plan.work.iter().find(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)) {
        return Err(invalid(format!("{d} is listed as an adjusted working day but is a weekday already")));
    }
    if let Some(d) = plan.work.iter().find(|d| plan.off.contains(d)) {
        return Err(invalid(format!("{d} is listed both as a day off and as a working day")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn cal() -> Calendar {
        Calendar::default_calendar().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn weekends_holidays_and_adjusted_working_days() {
        let c = cal();
        assert!(c.is_working_day(d(2026, 11, 23)), "a Monday");
        assert!(!c.is_working_day(d(2026, 11, 22)), "a Sunday");
        assert!(!c.is_working_day(d(2026, 10, 5)), "National Day");
        assert!(c.is_working_day(d(2026, 10, 10)), "a Saturday made a working day");
        assert!(c.is_working_day(d(2026, 2, 14)), "the Saturday before the Spring Festival");
    }

    #[test]
    fn a_deadline_crosses_the_spring_festival() {
        let c = cal();
        // Friday 2026-02-13: the 14th (Saturday) works, then 15–23 are off, the 24th is the next.
        let due = c.add_working_days(d(2026, 2, 13), 5);
        assert_eq!(due, Deadline { date: d(2026, 2, 27), provisional: false });
        assert_eq!(c.add_working_days(d(2026, 2, 13), 1).date, d(2026, 2, 14));
        assert_eq!(c.add_working_days(d(2026, 2, 13), 2).date, d(2026, 2, 24));
        assert_eq!(c.working_days_between(d(2026, 2, 13), d(2026, 2, 27)), 5);
    }

    #[test]
    fn ten_working_days_over_national_day() {
        // Tuesday 2026-09-29: 30th, (1–7 off), 8, 9, 10 (Saturday, works), 12, 13, 14, 15, 16, 19.
        assert_eq!(cal().add_working_days(d(2026, 9, 29), 10).date, d(2026, 10, 19));
    }

    #[test]
    fn years_without_an_official_notice_are_provisional() {
        let c = cal();
        let due = c.add_working_days(d(2026, 12, 29), 5);
        assert!(due.provisional, "{due:?}");
        assert_eq!(due.date, d(2027, 1, 6), "1 January 2027 is off");
        assert!(!c.add_working_days(d(2026, 12, 1), 5).provisional);
        assert!(c.add_working_days(d(2031, 6, 2), 1).provisional);
    }

    #[test]
    fn a_loaded_year_replaces_the_shipped_one() {
        let mut c = cal();
        let plan = YearPlan {
            year: 2027,
            source: "test notice".into(),
            provisional: false,
            off: vec![d(2027, 1, 1), d(2027, 1, 4)],
            work: vec![d(2027, 1, 9)],
        };
        c.load_year(plan).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.is_official(2027));
        assert!(c.is_working_day(d(2027, 2, 8)), "the provisional Spring Festival days are gone");
        assert!(!c.is_working_day(d(2027, 1, 4)));
        assert!(c.is_working_day(d(2027, 1, 9)));
    }

    #[test]
    fn inconsistent_years_are_rejected() {
        let bad = |off: &str, work: &str| {
            let text = format!("[[years]]\nyear = 2028\nsource = \"x\"\noff = [{off}]\nwork = [{work}]\n");
            Calendar::from_toml(&text).err().map(|e| e.to_string())
        };
        assert!(bad("\"2029-01-01\"", "").is_some_and(|m| m.contains("not in 2028")));
        assert!(bad("", "\"2028-01-03\"").is_some_and(|m| m.contains("weekday")), "a Monday");
        assert!(bad("\"2028-01-01\"", "\"2028-01-01\"").is_some_and(|m| m.contains("both")));
        assert!(bad("\"2028-01-01\"", "").is_none());
    }
}

//! Disclosure windows (公示期) of penalty information, from versioned policy regimes (DOMAIN.md §5).
//!
//! A penalty's window runs from its decision date: it may be repaired from `min_end` on and leaves
//! publication automatically at `max_end`. The regime is the one in force on the decision date, so a
//! record keeps the rules it was decided under. The regimes ship in `data/policy/disclosure.toml`.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::catalog::Severity;

pub const DEFAULT_REGIMES_TOML: &str = include_str!("../../../data/policy/disclosure.toml");

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy file is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("policy: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityRule {
    pub published: bool,
    pub min_months: u32,
    pub max_months: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regime {
    pub name: String,
    pub source: String,
    pub effective_from: NaiveDate,
    pub minor: SeverityRule,
    pub general: SeverityRule,
    pub serious: SeverityRule,
}

/// Rules of one item that differ from its regime's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemOverride {
    pub item: String,
    /// Repair may be applied for only after this many months (when longer than the regime's minimum).
    #[serde(default)]
    pub min_months: Option<u32>,
    #[serde(default = "yes")]
    pub repairable: bool,
    /// Why, shown to the applicant.
    #[serde(default)]
    pub reason: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegimesFile {
    regimes: Vec<Regime>,
    #[serde(default)]
    items: Vec<ItemOverride>,
}

/// All regimes, oldest first, and the per-item overrides.
#[derive(Debug, Clone)]
pub struct Regimes(Vec<Regime>, Vec<ItemOverride>);

/// A record's window under its regime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    pub regime: String,
    pub published: bool,
    /// From this day on, repair may end publication early.
    pub min_end: NaiveDate,
    /// Publication ends at the start of this day.
    pub max_end: NaiveDate,
}

impl Regimes {
    pub fn default_regimes() -> Result<Regimes, PolicyError> {
        Regimes::from_toml(DEFAULT_REGIMES_TOML)
    }

    pub fn from_toml(text: &str) -> Result<Regimes, PolicyError> {
        let file: RegimesFile = toml::from_str(text)?;
        let mut regimes = file.regimes;
        let overrides = file.items;
        if regimes.is_empty() {
            return Err(PolicyError::Invalid("no regimes".into()));
        }
        regimes.sort_by_key(|r| r.effective_from);
        for r in &regimes {
            for (name, rule) in [("minor", r.minor), ("general", r.general), ("serious", r.serious)] {
                if rule.min_months > rule.max_months {
                    return Err(PolicyError::Invalid(format!("regime {}: {name} minimum exceeds maximum", r.name)));
                }
            }
        }
        Ok(Regimes(regimes, overrides))
    }

    /// The regime in force on a date (the earliest regime for dates before all of them).
    pub fn in_force(&self, date: NaiveDate) -> &Regime {
        let mut found = &self.0[0];
        for r in &self.0 {
            if r.effective_from <= date {
                found = r;
            }
        }
        found
    }

    /// The window of a penalty of this severity decided on `decided`. `None` for severity `none`
    /// (no dishonesty window: such records are shown without a limit, like licences).
    pub fn window(&self, severity: Severity, decided: NaiveDate) -> Option<Window> {
        let regime = self.in_force(decided);
        let rule = match severity {
            Severity::None => return None,
            Severity::Minor => regime.minor,
            Severity::General => regime.general,
            Severity::Serious => regime.serious,
        };
        let add = |m: u32| decided.checked_add_months(Months::new(m)).unwrap_or(NaiveDate::MAX);
        Some(Window {
            regime: regime.name.clone(),
            published: rule.published,
            min_end: add(rule.min_months),
            max_end: add(rule.max_months),
        })
    }

    pub fn all(&self) -> &[Regime] {
        &self.0
    }

    /// The overrides of an item, if it has any.
    pub fn item_override(&self, item: &str) -> Option<&ItemOverride> {
        self.1.iter().find(|o| o.item == item)
    }

    /// The window of a record of `item`, with the item's longer minimum applied.
    pub fn item_window(&self, item: &str, severity: Severity, decided: NaiveDate) -> Option<Window> {
        let mut w = self.window(severity, decided)?;
        if let Some(months) = self.item_override(item).and_then(|o| o.min_months) {
            let min = decided.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX);
            w.min_end = w.min_end.max(min);
        }
        Some(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn regimes() -> Regimes {
        Regimes::default_regimes().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_general_penalty_of_2026_05_06_is_public_for_a_year_and_repairable_after_three_months() {
        let w = regimes().window(Severity::General, d(2026, 5, 6)).unwrap_or_else(|| panic!("window"));
        assert_eq!(w.regime, "2026");
        assert_eq!((w.min_end, w.max_end), (d(2026, 8, 6), d(2027, 5, 6)));
    }

    #[test]
    fn a_serious_penalty_decided_under_2019_keeps_that_regime() {
        let w = regimes().window(Severity::Serious, d(2020, 1, 15)).unwrap_or_else(|| panic!("window"));
        assert_eq!(w.regime, "2019");
        assert_eq!((w.min_end, w.max_end), (d(2020, 7, 15), d(2023, 1, 15)));
    }

    #[test]
    fn the_regime_changes_on_its_effective_date() {
        let r = regimes();
        assert_eq!(r.in_force(d(2026, 3, 31)).name, "2023");
        assert_eq!(r.in_force(d(2026, 4, 1)).name, "2026");
    }

    #[test]
    fn item_overrides_lengthen_the_minimum_and_bar_repair() {
        let text = format!("{DEFAULT_REGIMES_TOML}\n[[items]]\nitem = \"admin_penalty\"\nmin_months = 6\n");
        let r = Regimes::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
        let w = r.item_window("admin_penalty", Severity::General, d(2026, 5, 6)).unwrap_or_else(|| panic!("window"));
        assert_eq!((w.min_end, w.max_end), (d(2026, 11, 6), d(2027, 5, 6)));
        assert!(r.item_override("admin_penalty").is_some_and(|o| o.repairable));
        assert!(regimes().item_override("list_dishonest_debtor").is_some_and(|o| !o.repairable));
    }

    #[test]
    fn a_minimum_above_the_maximum_is_rejected() {
        let text =
            DEFAULT_REGIMES_TOML.replacen("min_months = 3, max_months = 12", "min_months = 13, max_months = 12", 1);
        assert!(Regimes::from_toml(&text).is_err());
    }
}

//! Credit commitments (信用承诺, DOMAIN.md §7): a subject's written promise to a unit, whose fulfilment
//! the accepting unit records by the due date. Pure: the caller passes today and who is acting.
//!
//! ```text
//! pending ──fulfil──▶ fulfilled
//!    └─────breach───▶ breached   (with reasons) → a dishonesty record under `list_commitment_breach`
//!                                   whose entry bars the subject from commitment-based handling
//! ```
//!
//! A pending commitment past its due date is overdue: it shows in the unit's queue and in `/metrics`.
//! The bar lasts [`CommitmentRules::bar_months`] *(default 12, configurable)*: the 沪府令4号 art. 14 says a
//! subject that broke a 告知承诺 no longer gets the 告知承诺 procedure, without a period; a period is
//! policy data of the platform.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::workflow::StepError;

/// The catalog list whose entries are breaches of commitments (one entry per breach).
pub const BREACH_LIST: &str = "list_commitment_breach";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitmentKind {
    /// 告知承诺: replaces a licensing condition or a certificate.
    Notification,
    /// 容缺受理: an application accepted with materials missing, to be supplied by the due date.
    Deficiency,
    /// 主动承诺: a voluntary public promise.
    Voluntary,
    /// 行业自律: a promise made within an industry association's self-regulation.
    Industry,
    /// 修复承诺: the commitment signed with a credit-repair application.
    Repair,
}

impl CommitmentKind {
    pub const ALL: [CommitmentKind; 5] = [
        CommitmentKind::Notification,
        CommitmentKind::Deficiency,
        CommitmentKind::Voluntary,
        CommitmentKind::Industry,
        CommitmentKind::Repair,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommitmentKind::Notification => "notification",
            CommitmentKind::Deficiency => "deficiency",
            CommitmentKind::Voluntary => "voluntary",
            CommitmentKind::Industry => "industry",
            CommitmentKind::Repair => "repair",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CommitmentKind::Notification => "告知承诺",
            CommitmentKind::Deficiency => "容缺受理",
            CommitmentKind::Voluntary => "主动承诺",
            CommitmentKind::Industry => "行业自律",
            CommitmentKind::Repair => "修复承诺",
        }
    }

    /// By code or Chinese name.
    pub fn parse(s: &str) -> Option<CommitmentKind> {
        let s = s.trim();
        CommitmentKind::ALL.into_iter().find(|k| k.as_str() == s || k.label() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitmentStatus {
    Pending,
    Fulfilled,
    Breached,
}

impl CommitmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CommitmentStatus::Pending => "pending",
            CommitmentStatus::Fulfilled => "fulfilled",
            CommitmentStatus::Breached => "breached",
        }
    }

    pub fn parse(s: &str) -> Option<CommitmentStatus> {
        [CommitmentStatus::Pending, CommitmentStatus::Fulfilled, CommitmentStatus::Breached]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    pub fn is_open(self) -> bool {
        self == CommitmentStatus::Pending
    }
}

/// What the accepting unit records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fulfilment {
    Fulfilled,
    Breached,
}

impl Fulfilment {
    pub fn parse(s: &str) -> Option<Fulfilment> {
        match s.trim() {
            "fulfilled" | "履约" | "已履约" => Some(Fulfilment::Fulfilled),
            "breached" | "违约" | "未履约" | "失信" => Some(Fulfilment::Breached),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Fulfilment::Fulfilled => "fulfilled",
            Fulfilment::Breached => "breached",
        }
    }
}

/// Policy numbers of commitments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitmentRules {
    /// How long a breach bars the subject from commitment-based handling *(default 12 months)*.
    pub bar_months: u32,
}

impl Default for CommitmentRules {
    fn default() -> Self {
        CommitmentRules { bar_months: 12 }
    }
}

impl CommitmentRules {
    /// The first day the subject may again use commitment-based handling after a breach on `breached_on`.
    pub fn bar_ends(&self, breached_on: NaiveDate) -> NaiveDate {
        breached_on.checked_add_months(Months::new(self.bar_months)).unwrap_or(NaiveDate::MAX)
    }
}

/// Checks a new commitment's dates: the due date may not lie before the commitment's date.
pub fn check_dates(date: NaiveDate, due: NaiveDate) -> Result<(), StepError> {
    if due < date {
        return Err(StepError::Invalid(format!("due date {due} lies before the commitment's date {date}")));
    }
    Ok(())
}

/// Records fulfilment: only a pending commitment, and a breach needs its reasons.
pub fn settle(
    status: CommitmentStatus,
    outcome: Fulfilment,
    reasons: Option<&str>,
) -> Result<CommitmentStatus, StepError> {
    if status != CommitmentStatus::Pending {
        return Err(StepError::NotAllowed(format!(
            "the commitment is {} already: fulfilment is recorded once",
            status.as_str()
        )));
    }
    match outcome {
        Fulfilment::Fulfilled => Ok(CommitmentStatus::Fulfilled),
        Fulfilment::Breached if reasons.is_some_and(|r| !r.trim().is_empty()) => Ok(CommitmentStatus::Breached),
        Fulfilment::Breached => Err(StepError::Invalid("a breach needs its reasons (note)".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn kinds_parse_by_code_or_chinese_name() {
        assert_eq!(CommitmentKind::parse("告知承诺"), Some(CommitmentKind::Notification));
        assert_eq!(CommitmentKind::parse("deficiency"), Some(CommitmentKind::Deficiency));
        assert_eq!(CommitmentKind::parse("容缺受理"), Some(CommitmentKind::Deficiency));
        assert_eq!(CommitmentKind::parse("承诺"), None);
    }

    #[test]
    fn fulfilment_is_recorded_once_and_a_breach_needs_reasons() {
        assert_eq!(settle(CommitmentStatus::Pending, Fulfilment::Fulfilled, None), Ok(CommitmentStatus::Fulfilled));
        assert!(matches!(
            settle(CommitmentStatus::Pending, Fulfilment::Breached, Some(" ")),
            Err(StepError::Invalid(_))
        ));
        assert_eq!(
            settle(CommitmentStatus::Pending, Fulfilment::Breached, Some("未按期补齐材料")),
            Ok(CommitmentStatus::Breached)
        );
        assert!(matches!(
            settle(CommitmentStatus::Fulfilled, Fulfilment::Breached, Some("x")),
            Err(StepError::NotAllowed(_))
        ));
    }

    #[test]
    fn the_bar_runs_for_the_configured_months() {
        assert_eq!(CommitmentRules::default().bar_ends(d(2026, 5, 6)), d(2027, 5, 6));
        assert_eq!(CommitmentRules { bar_months: 6 }.bar_ends(d(2026, 8, 31)), d(2027, 2, 28));
        assert!(check_dates(d(2026, 5, 6), d(2026, 5, 5)).is_err());
    }
}

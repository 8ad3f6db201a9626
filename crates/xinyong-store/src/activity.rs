//! Figures of the platform's use, behind the monitoring dashboards (综合监测): purpose-bound queries by
//! channel, purpose and month (from the query log), and workflow cases by kind and status with how many
//! had a step taken late.

use serde::Serialize;

use crate::Result;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ActivityStats {
    /// Purpose-bound accesses (profile queries, checks, reports …) by channel: `api`, `web`, `cli`.
    pub queries_by_channel: Vec<(String, u64)>,
    /// The same by purpose code.
    pub queries_by_purpose: Vec<(String, u64)>,
    /// The same by month (`YYYY-MM`, platform time), oldest first.
    pub queries_by_month: Vec<(String, u64)>,
    pub cases: Vec<CaseCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseCount {
    /// `objection`, `repair`, `revocation`.
    pub kind: String,
    pub status: String,
    pub open: bool,
    pub cases: u64,
    /// Of these, cases with at least one step taken after its deadline.
    pub late: u64,
}

pub trait ActivityStore {
    fn activity_stats(&self) -> Result<ActivityStats>;
}

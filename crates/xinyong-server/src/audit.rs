//! The server's door to the audit trail: every profile access, refusal, report and batch is logged
//! through one group committer before the caller gets an answer; if the log cannot be written, the
//! access is refused (fail closed).

use std::sync::Arc;

use xinyong_domain::access::Purpose;
use xinyong_store::Store;
use xinyong_store::audit::{AuditEntry, AuditRecord, AuditStore};
use xinyong_store::group_commit::GroupCommitter;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use crate::state::Clock;

pub struct Auditor {
    committer: GroupCommitter,
    metrics: Arc<Metrics>,
}

impl Auditor {
    pub fn start(store: Arc<dyn Store>, max_batch: usize, metrics: Arc<Metrics>) -> Auditor {
        let audit: Arc<dyn AuditStore + Send + Sync> = store;
        Auditor { committer: GroupCommitter::start(audit, max_batch), metrics }
    }

    /// Writes one entry durably; `Err` means the access must be refused.
    pub async fn record(&self, entry: AuditEntry) -> ApiResult<AuditRecord> {
        match self.committer.submit(entry).await {
            Ok(r) => {
                self.metrics.audit_entries.inc();
                Ok(r)
            }
            Err(e) => {
                self.metrics.audit_failures.inc();
                Err(ApiError::audit_unavailable(e))
            }
        }
    }
}

/// What was done, by whom, about which subject; completed by [`Access::entry`].
pub struct Access<'a> {
    pub caller: &'a Caller,
    pub action: &'static str,
    pub subject_id: Option<i64>,
    pub purpose: Option<Purpose>,
}

impl Access<'_> {
    pub fn entry(&self, clock: &dyn Clock, outcome: &str, detail: impl Into<String>) -> AuditEntry {
        let a = &self.caller.account;
        AuditEntry {
            at: clock.now(),
            account_id: Some(a.id),
            account_name: a.name.clone(),
            unit: a.unit.clone(),
            role: a.role,
            action: self.action.to_owned(),
            subject_id: self.subject_id,
            purpose: self.purpose,
            channel: self.caller.channel,
            outcome: outcome.to_owned(),
            detail: detail.into(),
            request_id: self.caller.request_id.clone(),
        }
    }
}

//! `/batches`: file a batch (streamed to disk, then ingested) and read it back.

pub mod create;
pub mod get;
pub mod rejected;

use xinyong_domain::access::Role;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

/// Admins may act for any unit; a supplier only for its own.
pub fn may_act_for(caller: &Caller, unit: &str) -> ApiResult<()> {
    match caller.role() {
        Role::Admin => Ok(()),
        Role::Supplier if caller.account.unit.as_deref() == Some(unit) => Ok(()),
        Role::Supplier => Err(ApiError::forbidden(format!("this account files only for its own unit, not {unit}"))),
        other => Err(ApiError::forbidden(format!("the {} role does not file batches", other.as_str()))),
    }
}

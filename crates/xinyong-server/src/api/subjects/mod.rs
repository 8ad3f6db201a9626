//! `/subjects`: search, profile (purpose-bound, logged), who queried a subject, its evaluation history.

pub mod evaluations;
pub mod get;
pub mod queries;
pub mod search;

use chrono::NaiveDate;
use xinyong_domain::ids::{IdKind, classify};
use xinyong_store::{Subject, SubjectKey};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A path key: a USCC, resident ID or organisation code, or an internal subject id.
pub fn parse_key(key: &str, today: NaiveDate) -> ApiResult<SubjectKey> {
    let c = classify(key, today);
    match c.result {
        Ok(id) => Ok(SubjectKey::Identifier(id)),
        Err(_) if key.bytes().all(|b| b.is_ascii_digit()) && key.len() < 15 => {
            key.parse().map(SubjectKey::Id).map_err(|_| ApiError::bad_request("bad_key", "subject id out of range"))
        }
        Err(e) if c.kind != IdKind::Unknown => {
            Err(ApiError::bad_request("bad_key", format!("{} is not valid: {}", c.kind.as_str(), e.code())))
        }
        Err(_) => Err(ApiError::bad_request("bad_key", "name a subject by USCC, resident ID or subject id")),
    }
}

pub async fn find(state: &AppState, key: SubjectKey) -> ApiResult<Option<Subject>> {
    state.blocking(move |store| Ok(store.find_subject(&key)?)).await
}

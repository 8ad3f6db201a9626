//! Identifiers of credit subjects (DOMAIN.md §2), parsed once at the edge into types that cannot hold an
//! invalid value: [`Uscc`], [`OrgCode`] and [`ResidentId`].
//!
//! ```
//! use xinyong_domain::ids::{classify, IdKind};
//! let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
//! let c = classify("G1610000713522976L", today);
//! assert_eq!(c.kind, IdKind::Uscc);
//! assert!(c.result.is_ok());
//! ```

mod normalize;
mod org_code;
mod regions;
mod resident_id;
mod uscc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use normalize::{is_mangled_number, normalize};
pub use org_code::OrgCode;
pub use regions::{is_province_code, province_name};
pub use resident_id::{ResidentId, mask_resident_id as resident_id_mask};
pub use uscc::Uscc;

/// Why an identifier is invalid; `code()` is the stable code of CONTRACT.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("identifier is empty")]
    Empty,
    #[error("identifier has the wrong length")]
    BadLength,
    #[error("identifier has a character outside its alphabet")]
    BadChar,
    #[error("check digit does not match")]
    BadCheckDigit,
    #[error("embedded organisation code fails its own check")]
    BadOrgCode,
    #[error("birth date does not exist or lies in the future")]
    BadDate,
    #[error("region code is not a real province")]
    BadRegion,
    #[error("a spreadsheet turned this identifier into a number and its digits are lost")]
    MangledNumber,
}

impl IdError {
    /// Stable snake_case code used by `validate-id`, ingest errors and the API.
    pub fn code(self) -> &'static str {
        match self {
            IdError::Empty => "empty",
            IdError::BadLength => "bad_length",
            IdError::BadChar => "bad_char",
            // The embedded organisation code is a second check digit of the same identifier.
            IdError::BadCheckDigit | IdError::BadOrgCode => "bad_check_digit",
            IdError::BadDate => "bad_date",
            IdError::BadRegion => "bad_region",
            IdError::MangledNumber => "mangled_number",
        }
    }
}

/// Which kind of identifier an input is (or most likely was meant to be).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    Uscc,
    ResidentId,
    OrgCode,
    Unknown,
}

impl IdKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::Uscc => "uscc",
            IdKind::ResidentId => "resident_id",
            IdKind::OrgCode => "org_code",
            IdKind::Unknown => "unknown",
        }
    }
}

/// A valid identifier of any kind.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Identifier {
    Uscc(Uscc),
    ResidentId(ResidentId),
    OrgCode(OrgCode),
}

impl Identifier {
    pub fn kind(&self) -> IdKind {
        match self {
            Identifier::Uscc(_) => IdKind::Uscc,
            Identifier::ResidentId(_) => IdKind::ResidentId,
            Identifier::OrgCode(_) => IdKind::OrgCode,
        }
    }

    /// The identifier as stored; a resident ID in full, so handle with care.
    pub fn as_str(&self) -> &str {
        match self {
            Identifier::Uscc(u) => u.as_str(),
            Identifier::ResidentId(r) => r.as_str(),
            Identifier::OrgCode(o) => o.as_str(),
        }
    }

    /// The identifier as it may appear in logs and to callers without full view.
    pub fn masked(&self) -> String {
        match self {
            Identifier::ResidentId(r) => r.masked(),
            other => other.as_str().to_owned(),
        }
    }
}

impl std::fmt::Debug for Identifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.kind().as_str(), self.masked())
    }
}

/// The outcome of classifying one input: the kind it was judged to be, and whether it is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub kind: IdKind,
    pub result: Result<Identifier, IdError>,
}

/// Classifies an input of unknown kind, as `validate-id` and batch screening do.
///
/// Shape decides the kind: 9 characters are an organisation code; 15 digits a legacy resident ID;
/// 18 characters a resident ID when they look like one (17 digits, a province code and a plausible
/// birth date) and a USCC otherwise. The reason reported is that of the kind chosen.
pub fn classify(input: &str, today: NaiveDate) -> Classified {
    let n = normalize(input);
    if n.is_empty() {
        return Classified { kind: IdKind::Unknown, result: Err(IdError::Empty) };
    }
    if is_mangled_number(&n) {
        return Classified { kind: IdKind::Unknown, result: Err(IdError::MangledNumber) };
    }
    let len = n.chars().count();
    match len {
        9 => Classified { kind: IdKind::OrgCode, result: OrgCode::parse(&n).map(Identifier::OrgCode) },
        15 if n.bytes().all(|b| b.is_ascii_digit()) => {
            Classified { kind: IdKind::ResidentId, result: ResidentId::parse(&n, today).map(Identifier::ResidentId) }
        }
        18 => {
            if let Ok(r) = ResidentId::parse(&n, today) {
                return Classified { kind: IdKind::ResidentId, result: Ok(Identifier::ResidentId(r)) };
            }
            if let Ok(u) = Uscc::parse(&n) {
                return Classified { kind: IdKind::Uscc, result: Ok(Identifier::Uscc(u)) };
            }
            if resident_id::looks_like_resident_id(&n) {
                Classified {
                    kind: IdKind::ResidentId,
                    result: ResidentId::parse(&n, today).map(Identifier::ResidentId),
                }
            } else {
                Classified { kind: IdKind::Uscc, result: Uscc::parse(&n).map(Identifier::Uscc) }
            }
        }
        _ => Classified { kind: IdKind::Unknown, result: Err(IdError::BadLength) },
    }
}

#[cfg(test)]
mod tests;

/// Completes 16 characters (registration authority, kind, region, 8-character organisation body) into a
/// valid USCC by appending the organisation check and the USCC check. `None` if a character is outside
/// the alphabet or the organisation check (`X`) would not be a USCC character… which cannot happen for
/// `X`, but can for `0`-`9`, so the result is always re-parsed. For synthetic data and tests.
pub fn complete_uscc(first16: &str) -> Option<String> {
    if first16.len() != 16 || !first16.is_ascii() {
        return None;
    }
    let mut body = [0u32; 8];
    for (slot, c) in body.iter_mut().zip(first16[8..].chars()) {
        *slot = c.to_digit(36)?;
    }
    let first17 = format!("{first16}{}", org_code::check_char(&body));
    let code = format!("{first17}{}", uscc::check_char(&first17)?);
    Uscc::parse(&code).ok().map(|u| u.as_str().to_owned())
}

/// Completes 8 body characters into a valid organisation code. For synthetic data and tests.
pub fn complete_org_code(body8: &str) -> Option<String> {
    if body8.len() != 8 || !body8.is_ascii() {
        return None;
    }
    let mut body = [0u32; 8];
    for (slot, c) in body.iter_mut().zip(body8.chars()) {
        *slot = c.to_digit(36)?;
    }
    Some(format!("{body8}{}", org_code::check_char(&body)))
}

/// Completes 17 digits into an 18-character resident ID (check character only; region and date are the
/// caller's). For synthetic data and tests.
pub fn complete_resident_id(first17: &str) -> Option<String> {
    resident_id::check_char(first17).map(|c| format!("{first17}{c}"))
}

//! Organisation code (组织机构代码, GB 11714-1997): 8 body characters `0-9A-Z` and a check character.

use super::{IdError, normalize};

const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// A valid 9-character organisation code, normalised (no hyphen).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgCode(String);

impl OrgCode {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let n = normalize(input);
        if n.is_empty() {
            return Err(IdError::Empty);
        }
        if super::is_mangled_number(&n) {
            return Err(IdError::MangledNumber);
        }
        let chars: Vec<char> = n.chars().collect();
        if chars.len() != 9 {
            return Err(IdError::BadLength);
        }
        let mut values = [0u32; 8];
        for (slot, c) in values.iter_mut().zip(&chars[..8]) {
            *slot = c.to_digit(36).filter(|_| c.is_ascii_alphanumeric()).ok_or(IdError::BadChar)?;
        }
        let last = chars[8];
        if !(last.is_ascii_digit() || last == 'X') {
            return Err(IdError::BadChar);
        }
        if check_char(&values) != last {
            return Err(IdError::BadCheckDigit);
        }
        Ok(OrgCode(n))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The check character for 8 body values.
pub(crate) fn check_char(values: &[u32; 8]) -> char {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from_digit(d, 10).unwrap_or('0'),
    }
}

impl std::fmt::Display for OrgCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for OrgCode {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        OrgCode::parse(s)
    }
}

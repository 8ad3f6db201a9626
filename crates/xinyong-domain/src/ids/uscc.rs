//! Unified social credit code (统一社会信用代码, GB 32100-2015).
//!
//! 18 characters from `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I O S V Z). Characters 9–17 are an
//! organisation code that must pass its own check; character 18 is a mod-31 check. Position 1 may be a
//! letter (`G1610000713522976L`): the registration-authority table grows, so we do not close it.

use super::{IdError, normalize, org_code};

pub(crate) const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A valid USCC, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

/// Each ASCII character's value in [`ALPHABET`], `NONE` where it is not in it: a table rather than a
/// search of the alphabet per character, since every USCC of every row passes here (the party's twice).
const VALUES: [u8; 128] = {
    let mut table = [NONE; 128];
    let alphabet = ALPHABET.as_bytes();
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};
const NONE: u8 = u8::MAX;

fn value_of(c: char) -> Option<u32> {
    let value = *VALUES.get(c as usize)?;
    (value != NONE).then_some(u32::from(value))
}

/// The check character for the first 17 characters (which must all be in the alphabet).
pub fn check_char(first17: &str) -> Option<char> {
    if first17.chars().count() != 17 {
        return None;
    }
    let mut values = [0u32; 17];
    for (slot, c) in values.iter_mut().zip(first17.chars()) {
        *slot = value_of(c)?;
    }
    ALPHABET.chars().nth(check_value(&values) as usize)
}

/// The check character's value for the values of the first 17 characters.
fn check_value(first17: &[u32]) -> u32 {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    (31 - sum % 31) % 31
}

impl Uscc {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let n = normalize(input);
        if n.is_empty() {
            return Err(IdError::Empty);
        }
        if super::is_mangled_number(&n) {
            return Err(IdError::MangledNumber);
        }
        // Every character of the alphabet is one byte: 18 bytes of ASCII are the only text that can pass,
        // and they are checked byte by byte (every USCC of every row passes here, the party's twice).
        let bytes = n.as_bytes();
        if bytes.len() != 18 || !n.is_ascii() {
            return Err(if n.chars().count() == 18 { IdError::BadChar } else { IdError::BadLength });
        }
        let mut values = [0u32; 18];
        for (slot, &b) in values.iter_mut().zip(bytes) {
            *slot = value_of(char::from(b)).ok_or(IdError::BadChar)?;
        }
        if values[17] != check_value(&values[..17]) {
            return Err(IdError::BadCheckDigit);
        }
        // Characters 9–16, each a digit or an upper-case letter, are the organisation code's body.
        let mut body = [0u32; 8];
        for (slot, &b) in body.iter_mut().zip(&bytes[8..16]) {
            *slot = char::from(b).to_digit(36).ok_or(IdError::BadOrgCode)?;
        }
        if char::from(bytes[16]) != org_code::check_char(&body) {
            return Err(IdError::BadOrgCode);
        }
        Ok(Uscc(n))
    }

    /// The normalised code, without a copy.
    pub fn into_string(self) -> String {
        self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Characters 1–2: registration authority and organisation kind (e.g. `91` enterprise, `92` 个体工商户).
    pub fn kind_code(&self) -> &str {
        &self.0[..2]
    }

    /// Characters 3–8: the registering administration's region code.
    pub fn region_code(&self) -> &str {
        &self.0[2..8]
    }

    /// Characters 9–17: the embedded organisation code.
    pub fn org_code(&self) -> &str {
        &self.0[8..17]
    }

    /// True for 个体工商户 (individual businesses), whose codes start `92`.
    pub fn is_individual_business(&self) -> bool {
        self.kind_code() == "92"
    }

    /// The meaning of characters 1–2, from data with an "unknown" fallback.
    pub fn kind_label(&self) -> &'static str {
        match self.kind_code() {
            "11" => "机关",
            "12" => "事业单位",
            "13" => "中央编办直接管理机构编制的群众团体",
            "19" => "其他机构编制单位",
            "21" => "外国常驻新闻机构",
            "31" => "律师执业机构",
            "51" => "社会团体",
            "52" => "民办非企业单位",
            "53" => "基金会",
            "59" => "其他社会组织",
            "91" => "企业",
            "92" => "个体工商户",
            "93" => "农民专业合作社",
            _ => "未知",
        }
    }
}

impl std::fmt::Display for Uscc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Uscc {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Uscc::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_table_is_the_position_in_the_alphabet() {
        for c in ('\0'..='\u{3100}').chain(['Ｙ', '\u{10FFFF}']) {
            assert_eq!(value_of(c), ALPHABET.find(c).map(|i| i as u32), "{c:?}");
        }
    }
}

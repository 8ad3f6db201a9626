//! Resident identity number (居民身份证号码, GB 11643-1999): 6-digit region, 8-digit birth date,
//! 3-digit sequence, check character. 15-digit legacy numbers convert to 18 digits.
//!
//! A `ResidentId` is personal data: its `Debug` and `Display` print only the masked form.

use chrono::NaiveDate;

use super::{IdError, normalize, regions};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// A valid 18-character resident ID.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResidentId(String);

/// The check character for 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    Some(char::from(CHECK[(sum % 11) as usize]))
}

/// Shape test used to decide whether an 18-character input was meant as a resident ID: 17 digits
/// with a plausible birth date in characters 7–14 (a USCC has its organisation code there).
pub(crate) fn looks_like_resident_id(n: &str) -> bool {
    n.len() == 18 && n[..17].bytes().all(|b| b.is_ascii_digit()) && plausible_date(&n[6..14])
}

/// A date-like shape: a year 1850–2100, a month written 0x or 1x, a day written 0x–3x. Loose on
/// purpose: an ID with month 13 is still an ID (with a bad date), while an all-digit USCC has its
/// organisation code in these places and rarely fits.
fn plausible_date(s: &str) -> bool {
    let b = s.as_bytes();
    let year_ok = s[..4].parse::<u32>().is_ok_and(|y| (1850..=2100).contains(&y));
    year_ok && matches!(b[4], b'0' | b'1') && matches!(b[6], b'0'..=b'3')
}

impl ResidentId {
    /// Parses an 18-digit or legacy 15-digit resident ID; `today` bounds the birth date.
    pub fn parse(input: &str, today: NaiveDate) -> Result<Self, IdError> {
        let n = normalize(input);
        if n.is_empty() {
            return Err(IdError::Empty);
        }
        if super::is_mangled_number(&n) {
            return Err(IdError::MangledNumber);
        }
        let n = match n.len() {
            15 if n.is_ascii() => {
                if !n.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(IdError::BadChar);
                }
                let first17 = format!("{}19{}", &n[..6], &n[6..]);
                let check = check_char(&first17).ok_or(IdError::BadChar)?;
                let converted = format!("{first17}{check}");
                validate_parts(&converted, today)?;
                return Ok(ResidentId(converted));
            }
            18 if n.is_ascii() => n,
            _ => return Err(IdError::BadLength),
        };
        if !n[..17].bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::BadChar);
        }
        let last = n.as_bytes()[17];
        if !(last.is_ascii_digit() || last == b'X') {
            return Err(IdError::BadChar);
        }
        validate_parts(&n, today)?;
        if check_char(&n[..17]) != Some(char::from(last)) {
            return Err(IdError::BadCheckDigit);
        }
        Ok(ResidentId(n))
    }

    /// Rebuilds an ID that was validated before it was stored (decrypted from the store).
    /// Returns `None` if the stored value is not a well-formed ID, which means the store is corrupt.
    pub fn from_stored(value: &str) -> Option<Self> {
        let ok = value.len() == 18
            && value[..17].bytes().all(|b| b.is_ascii_digit())
            && check_char(&value[..17]) == value[17..].chars().next();
        ok.then(|| ResidentId(value.to_owned()))
    }

    /// The full ID. Only for encryption, keyed hashing and callers entitled to full view.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `310***********1234`: the first three and last four characters.
    pub fn masked(&self) -> String {
        mask_resident_id(&self.0)
    }

    pub fn birth_date(&self) -> Option<NaiveDate> {
        parse_date(&self.0[6..14])
    }

    pub fn province_code(&self) -> &str {
        &self.0[..2]
    }

    /// The sequence digit is odd for men, even for women.
    pub fn is_male(&self) -> bool {
        self.0.as_bytes()[16] % 2 == 1
    }
}

/// Masks any resident-ID-like string: first three and last four characters kept.
pub fn mask_resident_id(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..3].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 7));
    out.extend(&chars[chars.len() - 4..]);
    out
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let y = s[..4].parse().ok()?;
    let m = s[4..6].parse().ok()?;
    let d = s[6..8].parse().ok()?;
    NaiveDate::from_ymd_opt(y, m, d)
}

fn validate_parts(n: &str, today: NaiveDate) -> Result<(), IdError> {
    if !regions::is_province_code(&n[..2]) {
        return Err(IdError::BadRegion);
    }
    match parse_date(&n[6..14]) {
        Some(d) if d <= today && d.year_ce().1 >= 1850 => Ok(()),
        _ => Err(IdError::BadDate),
    }
}

use chrono::Datelike;

impl std::fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

impl std::fmt::Display for ResidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

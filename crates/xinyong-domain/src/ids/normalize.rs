//! Normalisation applied to every identifier before it is checked (DOMAIN.md §2):
//! NFKC (full-width → half-width), trim, upper-case, drop spaces and hyphens.

use unicode_normalization::UnicodeNormalization;

/// Normalises an identifier as typed or exported by a unit's system.
///
/// ```
/// assert_eq!(xinyong_domain::ids::normalize(" ９１３１-0000 x "), "91310000X");
/// ```
pub fn normalize(input: &str) -> String {
    // NFKC leaves ASCII unchanged: skip it for the common case, writing into a string of the input's
    // length (collecting a filtered iterator grows it step by step, and every identifier cell of
    // every row passes here, some more than once).
    if input.is_ascii() {
        if input.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()) {
            return input.to_owned();
        }
        let mut out = String::with_capacity(input.len());
        out.extend(
            input
                .bytes()
                .filter(|b| !b.is_ascii_whitespace() && *b != b'-')
                .map(|b| char::from(b.to_ascii_uppercase())),
        );
        return out;
    }
    input.nfkc().filter(|c| !c.is_whitespace() && !is_hyphen(*c)).flat_map(char::to_uppercase).collect()
}

fn is_hyphen(c: char) -> bool {
    matches!(c, '-' | '‐' | '‑' | '‒' | '–' | '—' | '−')
}

/// True when a cell looks like a long number a spreadsheet turned into a float
/// (`3.10101E+17`, `3.10101199001011E17`): its digits are lost and must never be guessed.
pub fn is_mangled_number(normalized: &str) -> bool {
    let Some((mantissa, exponent)) = normalized.split_once('E') else {
        return false;
    };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let mantissa_ok = !mantissa.is_empty()
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
        && mantissa.chars().filter(|c| *c == '.').count() <= 1
        && mantissa.chars().any(|c| c.is_ascii_digit());
    mantissa_ok && !exponent.is_empty() && exponent.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_characters_become_half_width() {
        assert_eq!(normalize("９１３１０００００"), "913100000");
    }

    #[test]
    fn spaces_hyphens_and_case_are_dropped() {
        assert_eq!(normalize(" 91 110000 600037341l "), "91110000600037341L");
        assert_eq!(normalize("12345678-9"), "123456789");
    }

    #[test]
    fn scientific_notation_is_recognised_as_mangled() {
        assert!(is_mangled_number("3.10101E+17"));
        assert!(is_mangled_number("3.10101199001011E17"));
        assert!(!is_mangled_number("91310000E"));
        assert!(!is_mangled_number("E17"));
        assert!(!is_mangled_number("310101199001011234"));
    }
}

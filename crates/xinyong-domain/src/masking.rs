//! Masking of personal data (DOMAIN.md §9): resident IDs as `310***********1234`, natural persons'
//! names as `张*`. Output code calls these in one place; nothing else decides how a value is masked.

pub use crate::ids::resident_id_mask as mask_resident_id;

/// `张三` → `张*`, `欧阳娜娜` → `欧***`; a single character stays (nothing to hide but the whole).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count();
            let mut out = String::with_capacity(name.len());
            out.push(first);
            out.push_str(&"*".repeat(rest));
            out
        }
    }
}

/// Masks any identifier-like value of a personal field: 18 or 15 characters keep first 3 and last 4,
/// shorter values keep only their last character.
pub fn mask_personal_value(value: &str) -> String {
    let n = value.chars().count();
    if n >= 8 { mask_resident_id(value) } else { mask_name(value) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_only_their_first_character() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn resident_ids_keep_three_and_four() {
        assert_eq!(mask_resident_id("310101199001011234"), "310***********1234");
        assert_eq!(mask_personal_value("310101199001011234"), "310***********1234");
    }
}

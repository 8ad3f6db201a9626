//! Short codes for the field keys of stored records.
//!
//! A stored record holds its fields as a JSON object. The keys of the default catalog's fields are
//! written as short codes (`"0"`, `"17"` …) instead of their names: of a licence's ~0.9 KB, its keys
//! took ~280 bytes, and on a large load every byte written costs time (`docs/ingest.md`). A key with no
//! code (a field of a platform's own catalog item) is written as it is, and rows stored before codes
//! existed hold their keys in full: both read back the same.
//!
//! No catalog key can look like a code: keys begin with a lower-case letter (the catalog checks it),
//! codes are decimal numbers. [`RecordLayout::new`](crate::RecordLayout::new) refuses a key made of digits.
//!
//! **The table only grows.** Stored rows hold these codes: a code once given keeps its key forever,
//! and a new key takes the next free number.

use std::collections::BTreeMap;

use crate::{Result, StoreError};

macro_rules! field_codes {
    ($($code:literal => $key:literal,)*) => {
        /// The code of a field key, `None` for a key written in full.
        pub fn code_of(key: &str) -> Option<&'static str> {
            match key {
                $($key => Some($code),)*
                _ => None,
            }
        }

        /// The field key of a code, `None` for a code not in the table.
        fn key_of(code: &str) -> Option<&'static str> {
            match code {
                $($code => Some($key),)*
                _ => None,
            }
        }

        #[cfg(test)]
        const TABLE: &[(&str, &str)] = &[$(($code, $key),)*];
    };
}

// The keys in nearly every record first (one-character codes), then the rest of the default catalog.
field_codes! {
    "0" => "uscc",
    "1" => "party_name",
    "2" => "party_kind",
    "3" => "authority",
    "4" => "authority_uscc",
    "5" => "decision_date",
    "6" => "decision_number",
    "7" => "legal_rep",
    "8" => "source_unit",
    "9" => "source_unit_uscc",
    "10" => "subject_name",
    "11" => "subject_kind",
    "12" => "id_number",
    "13" => "remarks",
    "14" => "legal_rep_id_number",
    "15" => "legal_rep_id_type",
    "16" => "id_type",
    "17" => "org_code",
    "18" => "tax_reg_no",
    "19" => "business_reg_no",
    "20" => "social_org_cert_no",
    "21" => "institution_cert_no",
    "22" => "start_date",
    "23" => "end_date",
    "24" => "document_number",
    "25" => "document_name",
    "26" => "reason",
    "27" => "source_updated_at",
    "28" => "region_code",
    "29" => "valid_from",
    "30" => "valid_to",
    "31" => "valid_until",
    "32" => "license_number",
    "33" => "license_content",
    "34" => "license_category",
    "35" => "certificate_name",
    "36" => "current_status",
    "37" => "violation_type",
    "38" => "violation_facts",
    "39" => "penalty_basis",
    "40" => "penalty_category",
    "41" => "penalty_category_2",
    "42" => "penalty_content",
    "43" => "penalty_name",
    "44" => "fine_amount",
    "45" => "confiscated_amount",
    "46" => "suspended_license",
    "47" => "severity",
    "48" => "status_text",
    "49" => "publish_until",
    "50" => "project_name",
    "51" => "amount",
    "52" => "name",
    "53" => "address",
    "54" => "business_scope",
    "55" => "district",
    "56" => "entity_type",
    "57" => "established",
    "58" => "reg_status",
    "59" => "registered_capital",
}

/// Whether a key has the form of a code (decimal digits), which no catalog key may have.
pub fn looks_like_code(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit())
}

/// The key a record's stored JSON holds for a field: its code, or the key itself.
pub fn stored_key(key: &str) -> &str {
    code_of(key).unwrap_or(key)
}

/// Reads a record's stored fields (a JSON object of strings) with their keys in full.
pub fn decode(json: &[u8]) -> Result<BTreeMap<String, String>> {
    let stored: BTreeMap<String, String> =
        serde_json::from_slice(json).map_err(|e| StoreError::Corrupt(format!("record fields: {e}")))?;
    stored
        .into_iter()
        .map(|(k, v)| {
            if !looks_like_code(&k) {
                return Ok((k, v));
            }
            match key_of(&k) {
                Some(key) => Ok((key.to_owned(), v)),
                None => Err(StoreError::Corrupt(format!("record fields: unknown field code {k}"))),
            }
        })
        .collect()
}

/// A record's fields with their keys in full: the public ones as stored, the personal ones decrypted.
pub fn merge(vault: &crate::vault::Vault, fields: &str, secret: Option<Vec<u8>>) -> Result<BTreeMap<String, String>> {
    let mut all = decode(fields.as_bytes())?;
    if let Some(sealed) = secret {
        all.extend(decode(&vault.decrypt(&sealed)?)?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_canonical_numbers_and_keys_are_catalog_keys() {
        let mut codes = HashSet::new();
        let mut keys = HashSet::new();
        for (n, (code, key)) in TABLE.iter().enumerate() {
            assert_eq!(*code, n.to_string(), "codes are numbered in order from 0, each once");
            assert!(codes.insert(*code) && keys.insert(*key), "{key} twice");
            assert!(!looks_like_code(key) && key.starts_with(|c: char| c.is_ascii_lowercase()));
            assert_eq!(code_of(key), Some(*code));
            assert_eq!(key_of(code), Some(*key));
        }
    }

    #[test]
    fn every_field_of_the_default_catalog_has_a_code() {
        let catalog = xinyong_domain::catalog::Catalog::default_catalog().unwrap();
        for item in catalog.items() {
            for field in &item.fields {
                assert!(code_of(&field.key).is_some(), "{}.{} has no code", item.code, field.key);
            }
        }
    }

    #[test]
    fn coded_and_full_keys_read_back_the_same() {
        let coded = br#"{"0":"91310000MA1FL8TQ3X","1":"\u4e0a\u6d77\u6c50\u5764","own_field":"x"}"#;
        let full = br#"{"uscc":"91310000MA1FL8TQ3X","party_name":"\u4e0a\u6d77\u6c50\u5764","own_field":"x"}"#;
        let fields = decode(coded).unwrap();
        assert_eq!(fields, decode(full).unwrap());
        assert_eq!(fields["party_name"], "上海汐坤");
        assert_eq!(fields.len(), 3);
    }

    #[test]
    fn an_unknown_code_or_a_value_that_is_not_a_string_is_corrupt() {
        let err = decode(br#"{"999":"x"}"#).unwrap_err().to_string();
        assert!(err.contains("unknown field code 999"), "{err}");
        let err = decode(br#"{"uscc":1}"#).unwrap_err().to_string();
        assert!(err.contains("record fields: invalid type: integer"), "{err}");
        assert!(decode(b"[").is_err());
    }
}

//! Types that cross the storage interface.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use xinyong_domain::catalog::Severity;
use xinyong_domain::ids::{Identifier, ResidentId};
use xinyong_domain::record::RecordStatus;
use xinyong_domain::subject::SubjectKind;

/// A moment with its offset (the platform's zone defaults to Asia/Shanghai, +08:00).
pub type Timestamp = DateTime<FixedOffset>;

/// How a caller names a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectKey {
    Id(i64),
    Identifier(Identifier),
}

/// A credit subject as stored. `resident_id` is decrypted: treat it as personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub id: i64,
    pub kind: SubjectKind,
    /// The latest name seen.
    pub name: String,
    /// Every name seen, oldest first.
    pub names: Vec<String>,
    pub uscc: Option<String>,
    pub org_code: Option<String>,
    pub resident_id: Option<ResidentId>,
    pub created_at: Timestamp,
}

/// A record's current version. `fields` holds every field, personal ones decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: i64,
    pub item: String,
    pub item_version: u32,
    pub source_key: String,
    pub subject_id: Option<i64>,
    pub unit: String,
    pub version: u32,
    pub status: RecordStatus,
    pub date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub severity: Severity,
    pub published: bool,
    pub public_until: Option<NaiveDate>,
    pub fields: BTreeMap<String, String>,
    pub batch: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A superseded version of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordVersion {
    pub version: u32,
    pub fields: BTreeMap<String, String>,
    pub batch: String,
    pub superseded_at: Timestamp,
}

/// What a batch is, before its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchMeta {
    pub id: String,
    pub unit: String,
    pub item: String,
    pub item_version: u32,
    pub file_name: Option<String>,
    pub all_or_nothing: bool,
    pub started_at: Timestamp,
}

/// One problem with one row (or, with row 1, the header), as CONTRACT.md §2 shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowIssue {
    pub row: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub code: String,
    pub message: String,
}

/// A rejected row's cells as its file gave them, so that its unit can download, correct and file it
/// again. Sealed with the vault ([`RejectedCells::seal`]): the cells may hold resident IDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    /// The row number a spreadsheet user sees (as in [`RowIssue::row`]).
    pub row: u64,
    pub sealed: Vec<u8>,
}

/// The opened cells of a [`RejectedRow`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedCells {
    /// The file's header labels, as written, in column order.
    pub headers: Vec<String>,
    /// One text per header (a short row is padded with empty texts).
    pub cells: Vec<String>,
    /// Columns that hold personal data (fields the catalog marks masked): masked in a masked view.
    pub personal: Vec<usize>,
}

impl RejectedCells {
    pub fn seal(&self, row: u64, vault: &crate::vault::Vault) -> crate::Result<RejectedRow> {
        let json = serde_json::to_vec(self).map_err(|e| crate::StoreError::Invalid(e.to_string()))?;
        Ok(RejectedRow { row, sealed: vault.encrypt(&json)? })
    }
}

impl RejectedRow {
    pub fn open(&self, vault: &crate::vault::Vault) -> crate::Result<RejectedCells> {
        let json = vault.decrypt(&self.sealed)?;
        serde_json::from_slice(&json).map_err(|e| crate::StoreError::Corrupt(format!("rejected row {}: {e}", self.row)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Rows were stored (possibly with some rejected).
    Committed,
    /// All-or-nothing with a bad row: nothing was stored.
    Rejected,
}

impl BatchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Committed => "committed",
            BatchStatus::Rejected => "rejected",
        }
    }
}

/// The result of a batch: the `ingest --json` object and `GET /batches/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReport {
    pub batch: String,
    pub unit: String,
    pub item: String,
    pub item_version: u32,
    pub status: BatchStatus,
    pub format: String,
    pub encoding: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    pub rows: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Accepted rows linked to a subject.
    pub linked: u64,
    pub errors: Vec<RowIssue>,
    /// Header problems that did not stop the batch (unknown columns).
    pub warnings: Vec<RowIssue>,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
}

/// What installing a catalog changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InstallSummary {
    pub items_added: u32,
    pub items_versioned: u32,
    pub units: u32,
}

/// Rows collected per unit, category and month, and link rate per unit (the 2018 report's figures).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CollectionStats {
    pub subjects: u64,
    pub subjects_by_kind: BTreeMap<String, u64>,
    pub records: u64,
    pub batches: u64,
    pub by_unit: Vec<UnitStats>,
    pub by_category_month: Vec<CategoryMonth>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitStats {
    pub unit: String,
    pub name: String,
    pub batches: u64,
    pub rows: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub linked: u64,
    /// linked / accepted, 0 when nothing was accepted.
    pub link_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryMonth {
    pub category: String,
    /// `YYYY-MM` of collection.
    pub month: String,
    pub unit: String,
    pub accepted: u64,
}

/// A validated row encoded for storage: its public fields as JSON, its personal fields sealed by the
/// vault, and the keyed hash of its whole content. Made on the ingest's validating threads, so the writer
/// thread only writes (and frees nothing but these few buffers).
#[derive(Debug, Clone)]
pub struct PreparedRecord {
    pub head: xinyong_domain::record::RecordHead,
    /// The public fields as a JSON object, in key order, keys written as their
    /// [codes](crate::field_codes) (read back with [`field_codes::merge`](crate::field_codes::merge)).
    pub fields_json: String,
    /// The personal fields as such a JSON object, sealed by the vault; `None` when the row has none.
    pub secret: Option<Vec<u8>>,
    pub content_hash: Vec<u8>,
}

impl PreparedRecord {
    pub fn new(
        draft: xinyong_domain::record::RecordDraft,
        vault: &crate::vault::Vault,
    ) -> crate::Result<PreparedRecord> {
        let public = draft.fields.iter().map(|(k, v)| (k.as_str(), v.as_str(), false));
        let personal = draft.secret_fields.iter().map(|(k, v)| (k.as_str(), v.as_str(), true));
        let (keys, values): (Vec<(&str, bool)>, Vec<Option<&str>>) =
            public.chain(personal).map(|(k, v, personal)| ((k, personal), Some(v))).unzip();
        RecordLayout::new(keys)?.encode(draft.head, &values, vault)
    }
}

/// How the fields of one item are encoded, worked out once for all its rows: the fields in key order,
/// each with its key as stored (its [code](crate::field_codes), already written as a JSON string) and
/// whether it is personal. A load encodes millions of rows of a few items.
#[derive(Debug, Clone)]
pub struct RecordLayout {
    fields: Vec<LayoutField>,
}

#[derive(Debug, Clone)]
struct LayoutField {
    /// The field's place among the values [`RecordLayout::encode`] is given.
    index: usize,
    key: String,
    /// The stored key as a JSON string literal, quotes included.
    stored: String,
    /// Personal data: sealed, never in `fields_json`.
    personal: bool,
}

impl RecordLayout {
    /// The layout of the fields `(key, personal)`, in any order; the values handed to
    /// [`encode`](Self::encode) come in this same order. A key may come once and may not be a number.
    pub fn new<'k>(fields: impl IntoIterator<Item = (&'k str, bool)>) -> crate::Result<RecordLayout> {
        let mut laid = Vec::new();
        for (index, (key, personal)) in fields.into_iter().enumerate() {
            let stored = match crate::field_codes::code_of(key) {
                Some(code) => code,
                None if crate::field_codes::looks_like_code(key) => {
                    return Err(crate::StoreError::Invalid(format!(
                        "field key {key} is a number; field keys begin with a letter"
                    )));
                }
                None => key,
            };
            let mut quoted = String::with_capacity(stored.len() + 2);
            push_json_str(&mut quoted, stored);
            laid.push(LayoutField { index, key: key.to_owned(), stored: quoted, personal });
        }
        laid.sort_by(|a, b| a.key.cmp(&b.key));
        if let Some(w) = laid.windows(2).find(|w| w[0].key == w[1].key) {
            return Err(crate::StoreError::Invalid(format!("record field {} is given twice", w[0].key)));
        }
        Ok(RecordLayout { fields: laid })
    }

    /// Encodes a row: `values[i]` is the value of the layout's field `i`, `None` when it has none. A
    /// row of another length than the layout's is refused, never encoded with fields missing.
    ///
    /// The content hash covers every field, personal ones included: `key US value RS` per field in key
    /// order (the same bytes whichever way the row was built, so reloading a file is recognised).
    pub fn encode<V: AsRef<str>>(
        &self,
        head: xinyong_domain::record::RecordHead,
        values: &[Option<V>],
        vault: &crate::vault::Vault,
    ) -> crate::Result<PreparedRecord> {
        if values.len() != self.fields.len() {
            return Err(crate::StoreError::Invalid(format!(
                "a row of {} values for a record layout of {} fields",
                values.len(),
                self.fields.len()
            )));
        }
        let mut public = JsonObject::with_capacity(512);
        let mut personal = JsonObject::with_capacity(64);
        let mut canonical = String::with_capacity(512);
        for f in &self.fields {
            let Some(value) = values[f.index].as_ref() else { continue };
            let value = value.as_ref();
            if f.personal {
                personal.push(&f.stored, value)
            } else {
                public.push(&f.stored, value)
            }
            canonical.push_str(&f.key);
            canonical.push('\u{1f}');
            canonical.push_str(value);
            canonical.push('\u{1e}');
        }
        let secret = match personal.finish() {
            None => None,
            Some(json) => Some(vault.encrypt(json.as_bytes())?),
        };
        let fields_json = public.finish().unwrap_or_else(|| "{}".to_owned());
        let content_hash = vault.content_hash(canonical.as_bytes());
        Ok(PreparedRecord { head, fields_json, secret, content_hash })
    }
}

/// A JSON object of string values written in one buffer, as `serde_json` writes a map.
struct JsonObject(String);

impl JsonObject {
    fn with_capacity(n: usize) -> JsonObject {
        JsonObject(String::with_capacity(n))
    }

    /// Adds `value` under `quoted_key`, a key already written as a JSON string.
    fn push(&mut self, quoted_key: &str, value: &str) {
        self.0.push(if self.0.is_empty() { '{' } else { ',' });
        self.0.push_str(quoted_key);
        self.0.push(':');
        push_json_str(&mut self.0, value);
    }

    /// The object, or `None` when nothing was pushed.
    fn finish(mut self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        self.0.push('}');
        Some(self.0)
    }
}

/// Appends `s` as a JSON string literal, escaped as `serde_json` escapes it.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    // Nearly every value needs no escape: then it is copied whole.
    if !xinyong_domain::value::any_byte(s.as_bytes(), needs_escape) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Whether JSON needs `b` escaped: a quote, a backslash or a control character.
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn head() -> xinyong_domain::record::RecordHead {
        xinyong_domain::record::RecordHead {
            row: 2,
            source_key: "k".into(),
            date: NaiveDate::from_ymd_opt(2026, 5, 6).unwrap(),
            end_date: None,
            severity: Severity::General,
            published: true,
            public_until: None,
            subject: None,
        }
    }

    fn vault() -> crate::vault::Vault {
        crate::vault::Vault::from_bytes(&[7u8; 64]).unwrap()
    }

    proptest! {
        /// Our JSON writer gives exactly serde_json's bytes for any text, control characters included,
        /// and the fields read back as they were.
        #[test]
        fn json_matches_serde(fields in proptest::collection::btree_map("[a-z_]{1,8}|name|uscc|reason", "\\PC*|[\\x00-\\x1f\"\\\\]{0,4}|\\PC{0,40}[\\x00-\\x1f\"\\\\]\\PC{0,40}", 0..6)) {
            let draft = xinyong_domain::record::RecordDraft { head: head(), fields: fields.clone(), secret_fields: BTreeMap::new() };
            let prepared = PreparedRecord::new(draft, &vault()).unwrap();
            prop_assert_eq!(crate::field_codes::decode(prepared.fields_json.as_bytes()).unwrap(), fields.clone());
            let stored: Vec<(&str, &String)> =
                fields.iter().map(|(k, v)| (crate::field_codes::stored_key(k), v)).collect();
            let serde_bytes = serde_json::to_string(&serde_json::Value::Object(
                stored.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).clone()))).collect(),
            )).unwrap();
            if stored.windows(2).all(|w| w[0].0 < w[1].0) {
                prop_assert_eq!(prepared.fields_json, serde_bytes);
            }
        }
    }

    #[test]
    fn personal_fields_are_sealed_and_hashed() {
        let v = vault();
        let mut fields = BTreeMap::new();
        fields.insert("name".to_owned(), "张三".to_owned());
        let mut secret = BTreeMap::new();
        secret.insert("id_number".to_owned(), "110101199003070012".to_owned());
        let draft = xinyong_domain::record::RecordDraft { head: head(), fields, secret_fields: secret.clone() };
        let a = PreparedRecord::new(draft.clone(), &v).unwrap();
        assert!(!a.fields_json.contains("110101"), "{}", a.fields_json);
        let opened = v.decrypt(a.secret.as_deref().unwrap()).unwrap();
        assert_eq!(String::from_utf8(opened.clone()).unwrap(), r#"{"12":"110101199003070012"}"#);
        assert_eq!(crate::field_codes::decode(&opened).unwrap(), secret);
        let mut other = draft;
        other.secret_fields.insert("id_number".to_owned(), "110101199003070020".to_owned());
        assert_ne!(a.content_hash, PreparedRecord::new(other, &v).unwrap().content_hash);
    }

    #[test]
    fn known_keys_are_stored_as_codes_and_a_numeric_key_is_refused() {
        let layout = RecordLayout::new([("uscc", false), ("mine", false), ("party_name", false)]).unwrap();
        let prepared = layout.encode(head(), &[Some("u"), Some("m"), Some("p")], &vault()).unwrap();
        assert_eq!(prepared.fields_json, r#"{"mine":"m","1":"p","0":"u"}"#);
        let err = RecordLayout::new([("17", false)]).unwrap_err().to_string();
        assert!(err.contains("field key 17 is a number"), "{err}");
    }

    #[test]
    fn a_row_of_another_length_is_refused() {
        let layout = RecordLayout::new([("a", false), ("b", false)]).unwrap();
        let err = layout.encode(head(), &[Some("x")], &vault()).unwrap_err().to_string();
        assert!(err.contains("a row of 1 values for a record layout of 2 fields"), "{err}");
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        let err = RecordLayout::new([("a", false), ("b", true), ("a", true)]).unwrap_err().to_string();
        assert!(err.contains("record field a is given twice"), "{err}");
    }

    /// A layout encodes a row as the record's draft does: the same JSON, sealed fields and content
    /// hash, whatever order the layout was given its fields in; empty values are left out.
    #[test]
    fn a_layout_encodes_as_the_draft_does() {
        let v = vault();
        let layout =
            RecordLayout::new([("uscc", false), ("id_number", true), ("note", false), ("name", false)]).unwrap();
        let values = [
            Some("91310000MA1K000001".to_owned()),
            Some("110101199003070012".to_owned()),
            None,
            Some("张三".to_owned()),
        ];
        let laid = layout.encode(head(), &values, &v).unwrap();
        let fields =
            BTreeMap::from([("uscc".to_owned(), values[0].clone().unwrap()), ("name".to_owned(), "张三".to_owned())]);
        let secret_fields = BTreeMap::from([("id_number".to_owned(), values[1].clone().unwrap())]);
        let drafted =
            PreparedRecord::new(xinyong_domain::record::RecordDraft { head: head(), fields, secret_fields }, &v)
                .unwrap();
        assert_eq!(laid.fields_json, drafted.fields_json);
        assert_eq!(laid.content_hash, drafted.content_hash);
        assert_eq!(
            v.decrypt(laid.secret.as_deref().unwrap()).unwrap(),
            v.decrypt(drafted.secret.as_deref().unwrap()).unwrap()
        );
        assert!(!laid.fields_json.contains("note"), "{}", laid.fields_json);
        // The hash covers the fields by their keys in full, in key order, personal ones included: the
        // bytes stored records were hashed from, so that a file loaded again is recognised.
        let canonical = "id_number\u{1f}110101199003070012\u{1e}name\u{1f}张三\u{1e}uscc\u{1f}91310000MA1K000001\u{1e}";
        assert_eq!(laid.content_hash, v.content_hash(canonical.as_bytes()));
    }
}

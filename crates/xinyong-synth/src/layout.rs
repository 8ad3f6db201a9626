//! Fields, records and file layouts.
//!
//! A [`Record`] holds one value per field [`F`] (the union of the catalog keys synth fills); a row builder
//! fills the fields of its item, the fault injector may spoil one, and a writer prints the columns of the
//! file's [`Layout`] in order. Layouts of the current generation are read from the catalog (labels, keys,
//! or national field codes such as `CF_WSH` as headers), so headers always match the catalog; the 2015
//! legacy layouts are spelled out here, as legacy systems export them.
//!
//! ```text
//! let layout = Layout::new(&catalog, "admin_penalty", Headers::Labels)?;
//! rec.set(F::PartyName, "上海华盛科技有限公司");
//! ```

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use xinyong_domain::catalog::Catalog;

use crate::SynthError;

/// How a value is typed, for writers that type their cells (XLSX, JSON lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Text,
    Date,
    Decimal,
}

macro_rules! fields {
    ($($name:ident = $key:literal : $ty:ident),* $(,)?) => {
        /// A field synth fills, named by its catalog key.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum F { $($name),* }

        impl F {
            pub(crate) const ALL: &'static [F] = &[$(F::$name),*];

            pub(crate) fn key(self) -> &'static str {
                match self { $(F::$name => $key),* }
            }

            pub(crate) fn ty(self) -> Ty {
                match self { $(F::$name => Ty::$ty),* }
            }
        }
    };
}

fields! {
    PartyName = "party_name": Text, PartyKind = "party_kind": Text, Uscc = "uscc": Text,
    BusinessRegNo = "business_reg_no": Text, OrgCode = "org_code": Text, TaxRegNo = "tax_reg_no": Text,
    InstitutionCertNo = "institution_cert_no": Text, SocialOrgCertNo = "social_org_cert_no": Text,
    LegalRep = "legal_rep": Text, LegalRepIdType = "legal_rep_id_type": Text,
    LegalRepIdNumber = "legal_rep_id_number": Text, IdType = "id_type": Text, IdNumber = "id_number": Text,
    DecisionNumber = "decision_number": Text, ViolationType = "violation_type": Text,
    ViolationFacts = "violation_facts": Text, PenaltyBasis = "penalty_basis": Text,
    PenaltyCategory = "penalty_category": Text, PenaltyContent = "penalty_content": Text,
    FineAmount = "fine_amount": Decimal, ConfiscatedAmount = "confiscated_amount": Decimal,
    SuspendedLicense = "suspended_license": Text, DecisionDate = "decision_date": Date,
    ValidUntil = "valid_until": Date, PublishUntil = "publish_until": Date, Authority = "authority": Text,
    AuthorityUscc = "authority_uscc": Text, SourceUnit = "source_unit": Text,
    SourceUnitUscc = "source_unit_uscc": Text, Severity = "severity": Text, Remarks = "remarks": Text,
    PenaltyName = "penalty_name": Text, PenaltyCategory2 = "penalty_category_2": Text,
    StatusText = "status_text": Text, RegionCode = "region_code": Text, SourceUpdatedAt = "source_updated_at": Text,
    DocumentName = "document_name": Text, LicenseCategory = "license_category": Text,
    CertificateName = "certificate_name": Text, LicenseNumber = "license_number": Text,
    LicenseContent = "license_content": Text, ValidFrom = "valid_from": Date, ValidTo = "valid_to": Date,
    CurrentStatus = "current_status": Text, ProjectName = "project_name": Text,
    Name = "name": Text, EntityType = "entity_type": Text, RegisteredCapital = "registered_capital": Decimal,
    Established = "established": Date, District = "district": Text, Address = "address": Text,
    BusinessScope = "business_scope": Text, RegStatus = "reg_status": Text,
    SubjectName = "subject_name": Text, SubjectKind = "subject_kind": Text, DocumentNumber = "document_number": Text,
    Reason = "reason": Text, StartDate = "start_date": Date, EndDate = "end_date": Date,
}

impl F {
    fn from_key(key: &str) -> Option<F> {
        F::ALL.iter().copied().find(|f| f.key() == key)
    }
}

/// Fields that only the 2015 generation has; current-generation files leave them out.
const LEGACY_ONLY: &[&str] =
    &["penalty_name", "penalty_category_2", "status_text", "region_code", "source_updated_at", "project_name"];

/// The 2015 national 行政处罚 field set, as legacy systems still export it.
pub(crate) const LEGACY_PENALTY: &[(&str, F)] = &[
    ("行政处罚决定书文号", F::DecisionNumber),
    ("处罚名称", F::PenaltyName),
    ("处罚类别1", F::PenaltyCategory),
    ("处罚类别2", F::PenaltyCategory2),
    ("处罚事由", F::ViolationFacts),
    ("处罚依据", F::PenaltyBasis),
    ("行政相对人名称", F::PartyName),
    ("行政相对人代码_1(统一社会信用代码)", F::Uscc),
    ("行政相对人代码_2(组织机构代码)", F::OrgCode),
    ("行政相对人代码_3(工商登记码)", F::BusinessRegNo),
    ("行政相对人代码_4(税务登记号)", F::TaxRegNo),
    ("行政相对人代码_5(居民身份证号)", F::IdNumber),
    ("法定代表人姓名", F::LegalRep),
    ("处罚结果", F::PenaltyContent),
    ("处罚决定日期", F::DecisionDate),
    ("处罚机关", F::Authority),
    ("当前状态", F::StatusText),
    ("地方编码", F::RegionCode),
    ("数据更新时间戳", F::SourceUpdatedAt),
    ("备注", F::Remarks),
];

/// The 2015 national 行政许可 field set.
pub(crate) const LEGACY_LICENSE: &[(&str, F)] = &[
    ("行政许可决定书文号", F::DecisionNumber),
    ("项目名称", F::ProjectName),
    ("审批类别", F::LicenseCategory),
    ("许可内容", F::LicenseContent),
    ("行政相对人名称", F::PartyName),
    ("行政相对人代码_1(统一社会信用代码)", F::Uscc),
    ("行政相对人代码_2(组织机构代码)", F::OrgCode),
    ("行政相对人代码_3(工商登记码)", F::BusinessRegNo),
    ("行政相对人代码_4(税务登记号)", F::TaxRegNo),
    ("行政相对人代码_5(居民身份证号)", F::IdNumber),
    ("法定代表人姓名", F::LegalRep),
    ("许可决定日期", F::DecisionDate),
    ("许可截止期", F::ValidTo),
    ("许可机关", F::Authority),
    ("当前状态", F::CurrentStatus),
    ("地方编码", F::RegionCode),
    ("数据更新时间戳", F::SourceUpdatedAt),
    ("备注", F::Remarks),
];

/// What a file's header row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Headers {
    /// The catalog's Chinese labels (current generation).
    Labels,
    /// The catalog's English keys.
    Keys,
    /// The national field codes among the catalog's aliases (`CF_WSH`, `XK_XDR_MC` …).
    Codes,
    /// The 2015 legacy generation.
    Legacy2015,
}

#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub f: F,
    pub header: String,
}

/// The columns of one file, in order.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub columns: Vec<Column>,
    present: Vec<bool>,
}

fn is_field_code(alias: &str) -> bool {
    !alias.is_empty() && alias.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

impl Layout {
    pub(crate) fn new(catalog: &Catalog, item_code: &str, headers: Headers) -> Result<Layout, SynthError> {
        let missing = |what: String| SynthError::Catalog(format!("{item_code}: {what}"));
        let item = catalog.item(item_code).ok_or_else(|| missing("not in the default catalog".into()))?;
        let mut columns = Vec::new();
        let legacy = match (headers, item_code) {
            (Headers::Legacy2015, "admin_penalty") => Some(LEGACY_PENALTY),
            (Headers::Legacy2015, "admin_license") => Some(LEGACY_LICENSE),
            (Headers::Legacy2015, _) => return Err(missing("has no 2015 generation".into())),
            _ => None,
        };
        if let Some(table) = legacy {
            columns.extend(table.iter().map(|(h, f)| Column { f: *f, header: (*h).to_owned() }));
        } else {
            for field in item.fields.iter().filter(|f| !LEGACY_ONLY.contains(&f.key.as_str())) {
                let Some(f) = F::from_key(&field.key) else {
                    if field.required {
                        return Err(missing(format!("required field {} is unknown to synth", field.key)));
                    }
                    continue;
                };
                let header = match headers {
                    Headers::Keys => field.key.clone(),
                    Headers::Codes => field.aliases.iter().find(|a| is_field_code(a)).unwrap_or(&field.label).clone(),
                    _ => field.label.clone(),
                };
                columns.push(Column { f, header });
            }
        }
        let mut present = vec![false; F::ALL.len()];
        for c in &columns {
            present[c.f as usize] = true;
        }
        Ok(Layout { columns, present })
    }

    pub(crate) fn has(&self, f: F) -> bool {
        self.present[f as usize]
    }
}

/// One row's values, reused from row to row so that filling it allocates only while buffers grow.
#[derive(Debug)]
pub(crate) struct Record {
    values: Vec<String>,
    /// A field an XLSX writer writes as a number cell (a spreadsheet-mangled identifier).
    pub numeric: Option<F>,
}

impl Record {
    pub(crate) fn new() -> Record {
        Record { values: (0..F::ALL.len()).map(|_| String::with_capacity(32)).collect(), numeric: None }
    }

    pub(crate) fn clear(&mut self) {
        self.values.iter_mut().for_each(String::clear);
        self.numeric = None;
    }

    pub(crate) fn get(&self, f: F) -> &str {
        &self.values[f as usize]
    }

    pub(crate) fn set(&mut self, f: F, value: &str) {
        let v = self.buf(f);
        v.push_str(value);
    }

    /// The field's buffer, emptied, to `write!` into.
    pub(crate) fn buf(&mut self, f: F) -> &mut String {
        let v = &mut self.values[f as usize];
        v.clear();
        v
    }

    /// Stores a date in ISO form; writers restyle it.
    pub(crate) fn set_date(&mut self, f: F, d: NaiveDate) {
        let _ = write!(self.buf(f), "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
    }
}

/// Parses the ISO form [`Record::set_date`] writes; anything else (a deliberate bad date) is `None`.
pub(crate) fn iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|p| p.parse::<u32>().ok());
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::default_catalog().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The key a header maps to, as an importer of the 2015 generation resolves it.
    fn resolve(catalog: &Catalog, item: &str, header: &str) -> Option<String> {
        let item = catalog.item(item)?;
        let generation = item.generations.iter().find(|g| g.name == "2015")?;
        if let Some(k) = generation.headers.get(header) {
            return Some(k.clone());
        }
        item.fields.iter().find(|f| f.label == header || f.aliases.iter().any(|a| a == header)).map(|f| f.key.clone())
    }

    #[test]
    fn legacy_headers_map_to_the_intended_fields() {
        let c = catalog();
        for (item, table) in [("admin_penalty", LEGACY_PENALTY), ("admin_license", LEGACY_LICENSE)] {
            for (header, f) in table {
                assert_eq!(resolve(&c, item, header).as_deref(), Some(f.key()), "{item} {header}");
            }
        }
    }

    #[test]
    fn code_headers_are_national_field_codes() -> Result<(), SynthError> {
        let layout = Layout::new(&catalog(), "admin_penalty", Headers::Codes)?;
        assert!(layout.columns.iter().any(|c| c.header == "CF_WSH"));
        assert!(layout.columns.iter().all(|c| is_field_code(&c.header)));
        Ok(())
    }

    #[test]
    fn current_layouts_leave_out_legacy_fields() -> Result<(), SynthError> {
        let layout = Layout::new(&catalog(), "admin_license", Headers::Labels)?;
        assert!(!layout.has(F::ProjectName));
        assert!(layout.has(F::DocumentName));
        Ok(())
    }

    #[test]
    fn iso_dates_round_trip() {
        let mut r = Record::new();
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default();
        r.set_date(F::DecisionDate, d);
        assert_eq!(iso_date(r.get(F::DecisionDate)), Some(d));
        assert_eq!(iso_date("2018-02-30"), None);
        assert_eq!(iso_date("明天"), None);
    }
}

//! Row validation: a raw row → a [`ValidRow`] linked to a subject claim, or every reason it is wrong.
//!
//! Order of checks: each cell against its field's type (`value::parse_cell`); then, only if the cells are
//! all valid (so one mistake is not reported three times), the party rules of DOMAIN.md §4:
//! - 法人及非法人组织 needs a USCC, which must not be an individual business's `92…` code
//!   (in the 2015 generation an organisation code alone is accepted);
//! - 个体工商户 needs a USCC starting `92`;
//! - 自然人 needs 证件类型 and 证件号码; with 身份证 the number must be a valid resident ID. Other
//!   document types are stored unlinked (they lower the unit's link rate, they are not errors).
//!
//! Then the item's date must not lie in the future and an end date must not precede it.

use chrono::NaiveDate;
use xinyong_domain::catalog::{CatalogItem, Field, Generation, ListKind, Publication, Severity};
use xinyong_domain::disclosure::Regimes;
use xinyong_domain::ids::{Identifier, OrgCode, ResidentId, Uscc};
use xinyong_domain::record::RecordHead;
use xinyong_domain::subject::{SubjectClaim, SubjectKind};
use xinyong_domain::value::{self, Cell, CompactString};
use xinyong_store::vault::Vault;
use xinyong_store::{PreparedRecord, RecordLayout, RowIssue};

use crate::header::HeaderMap;

const RESIDENT_ID_TYPE: &str = "身份证";

/// Field indices the validator needs, resolved once per item.
struct Slots {
    name: usize,
    kind: Option<usize>,
    uscc: Option<usize>,
    org_code: Option<usize>,
    id_type: Option<usize>,
    id_number: Option<usize>,
    legal_rep_id_number: Option<usize>,
    legal_rep_id_type: Option<usize>,
    source_key: usize,
    date: usize,
    end: Option<usize>,
}

/// Validates the rows of one item.
pub struct Validator<'a> {
    item: &'a CatalogItem,
    slots: Slots,
    severity_slot: Option<usize>,
    regimes: &'a Regimes,
    today: NaiveDate,
    /// How the item's fields are stored, by catalog index.
    layout: RecordLayout,
}

/// A row that passed validation: what the store needs, and the value of each field (by catalog index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRow {
    pub head: RecordHead,
    pub values: Vec<Option<CompactString>>,
}

impl<'a> Validator<'a> {
    /// `today` bounds birth dates and decision dates; `regimes` give penalties their disclosure window.
    /// Fails only for an item whose field keys a record cannot store (the catalog refuses those).
    pub fn new(item: &'a CatalogItem, today: NaiveDate, regimes: &'a Regimes) -> xinyong_store::Result<Validator<'a>> {
        let pos = |key: &str| item.fields.iter().position(|f| f.key == key);
        let opt = |key: &Option<String>| key.as_deref().and_then(pos);
        let p = &item.party;
        // Catalog::from_* has checked that these fields exist.
        let slots = Slots {
            name: pos(&p.name).unwrap_or(0),
            kind: opt(&p.kind),
            uscc: opt(&p.uscc),
            org_code: opt(&p.org_code),
            id_type: opt(&p.id_type),
            id_number: opt(&p.id_number),
            legal_rep_id_number: opt(&p.legal_rep_id_number),
            legal_rep_id_type: pos("legal_rep_id_type"),
            source_key: pos(&item.source_key).unwrap_or(0),
            date: pos(&item.date_field).unwrap_or(0),
            end: opt(&item.end_field),
        };
        let layout = RecordLayout::new(item.fields.iter().map(|f| (f.key.as_str(), f.masked)))?;
        Ok(Validator { item, slots, severity_slot: pos("severity"), regimes, today, layout })
    }

    pub fn item(&self) -> &CatalogItem {
        self.item
    }

    /// Validates one row.
    pub fn validate(&self, map: &HeaderMap, row: u64, cells: &[Cell]) -> Result<ValidRow, Vec<RowIssue>> {
        let fields = &self.item.fields;
        let mut values: Vec<Option<CompactString>> = vec![None; fields.len()];
        let mut issues = Vec::new();
        for (col, cell) in cells.iter().enumerate() {
            let Some(f) = map.field_of(col) else { continue };
            if cell.is_empty() {
                continue;
            }
            match value::parse_cell(&fields[f], cell, self.today) {
                Ok(Some(v)) if values[f].as_ref().is_some_and(|old| *old != v) => issues.push(issue(
                    row,
                    &fields[f],
                    "duplicate_field",
                    format!("{} is given twice with different values", fields[f].label),
                )),
                Ok(v) => values[f] = v.or(values[f].take()),
                Err(e) => issues.push(issue(row, &fields[f], e.code, e.message)),
            }
        }
        if let Some(g) = map.generation(self.item) {
            apply_implied(g, fields, &mut values);
        }
        // A required field whose cell was wrong is not reported missing too.
        let cell_issues = issues.len();
        for (f, field) in fields.iter().enumerate() {
            if field.required
                && values[f].is_none()
                && !issues[..cell_issues].iter().any(|i| i.field.as_deref() == Some(&field.label))
            {
                issues.push(issue(row, field, "missing_value", format!("{} is required", field.label)));
            }
        }
        issues.sort_by_key(|i| i.field.as_ref().and_then(|l| fields.iter().position(|f| &f.label == l)));
        if !issues.is_empty() {
            return Err(issues);
        }
        let legacy = map.generation(self.item).is_some();
        let subject = self.party(row, &values, legacy).map_err(|i| vec![i])?;
        self.legal_rep_check(row, &values).map_err(|i| vec![i])?;
        let (date, end_date) = self.dates(row, &values).map_err(|i| vec![i])?;
        let source_key = values[self.slots.source_key].as_deref().unwrap_or_default().to_owned();
        let severity = self
            .severity_slot
            .and_then(|i| values[i].as_deref())
            .and_then(Severity::from_label)
            .unwrap_or(self.item.severity);
        let (published, public_until) = self.publication(severity, date, end_date);

        let head = RecordHead { row, source_key, date, end_date, severity, published, public_until, subject };
        Ok(ValidRow { head, values })
    }

    /// Encodes a valid row for the store: personal (masked) fields sealed, the rest as JSON.
    pub fn prepare(&self, row: ValidRow, vault: &Vault) -> xinyong_store::Result<PreparedRecord> {
        self.layout.encode(row.head, &row.values, vault)
    }

    /// Penalties are shown within their regime's window; list entries until their end; other records
    /// (licences, registration) without a limit.
    fn publication(&self, severity: Severity, date: NaiveDate, end: Option<NaiveDate>) -> (bool, Option<NaiveDate>) {
        if self.item.publication == Publication::Penalty {
            return match self.regimes.window(severity, date) {
                Some(w) => (w.published, Some(w.max_end)),
                None => (true, None),
            };
        }
        if self.item.list_kind != ListKind::None {
            return (true, end);
        }
        (true, None)
    }

    fn field(&self, slot: usize) -> &Field {
        &self.item.fields[slot]
    }

    fn label_of(&self, slot: Option<usize>) -> &Field {
        self.field(slot.unwrap_or(self.slots.name))
    }

    fn party(&self, row: u64, v: &[Option<CompactString>], legacy: bool) -> Result<Option<SubjectClaim>, RowIssue> {
        let s = &self.slots;
        let get = |slot: Option<usize>| slot.and_then(|i| v[i].as_deref());
        let name = v[s.name].as_deref().unwrap_or_default().to_owned();
        let uscc = get(s.uscc)
            .map(Uscc::parse)
            .transpose()
            .map_err(|e| issue(row, self.label_of(s.uscc), e.code(), e.to_string()))?;
        let declared = match get(s.kind) {
            None => None,
            Some(k) => Some(SubjectKind::parse(k).ok_or_else(|| {
                issue(row, self.label_of(s.kind), "bad_enum", format!("{k:?} is not a subject kind"))
            })?),
        };
        let id_number = get(s.id_number);
        let kind = match (declared, &uscc) {
            (Some(k), _) => k,
            (None, Some(u)) => SubjectKind::of_uscc(u),
            (None, None) if id_number.is_some() => SubjectKind::NaturalPerson,
            (None, None) if get(s.org_code).is_some() => SubjectKind::LegalPerson,
            (None, None) => {
                return Err(issue(
                    row,
                    self.label_of(s.uscc),
                    "missing_identifier",
                    "the row names no USCC or ID number",
                ));
            }
        };
        if !self.item.subject_kinds.contains(&kind) {
            return Err(issue(
                row,
                self.label_of(s.kind),
                "kind_not_allowed",
                format!("{} cannot be filed under {}", kind.label(), self.item.name),
            ));
        }
        let mismatch = |what: &str| issue(row, self.label_of(s.kind.or(s.uscc)), "kind_mismatch", what.to_owned());
        let id = match kind {
            SubjectKind::LegalPerson => match (uscc, get(s.org_code)) {
                (Some(u), _) if u.is_individual_business() => {
                    return Err(mismatch("a USCC starting 92 belongs to an individual business (个体工商户)"));
                }
                (Some(u), _) => Identifier::Uscc(u),
                (None, Some(org)) if legacy => Identifier::OrgCode(
                    OrgCode::parse(org).map_err(|e| issue(row, self.label_of(s.org_code), e.code(), e.to_string()))?,
                ),
                (None, _) => {
                    return Err(issue(row, self.label_of(s.uscc), "missing_uscc", "a legal person needs its USCC"));
                }
            },
            SubjectKind::IndividualBusiness => match uscc {
                Some(u) if u.is_individual_business() => Identifier::Uscc(u),
                Some(_) => return Err(mismatch("an individual business's USCC starts with 92")),
                None => {
                    return Err(issue(
                        row,
                        self.label_of(s.uscc),
                        "missing_uscc",
                        "an individual business needs its USCC",
                    ));
                }
            },
            SubjectKind::NaturalPerson => {
                if uscc.is_some() {
                    return Err(mismatch("a natural person has no USCC; use 证件类型 and 证件号码"));
                }
                let Some(number) = id_number else {
                    return Err(issue(
                        row,
                        self.label_of(s.id_number),
                        "missing_id",
                        "a natural person needs 证件号码",
                    ));
                };
                let id_type = get(s.id_type).unwrap_or(RESIDENT_ID_TYPE);
                if id_type != RESIDENT_ID_TYPE {
                    // Valid but not linkable by resident ID: stored unlinked.
                    return Ok(None);
                }
                let rid = ResidentId::parse(number, self.today)
                    .map_err(|e| issue(row, self.label_of(s.id_number), e.code(), e.to_string()))?;
                Identifier::ResidentId(rid)
            }
        };
        Ok(Some(SubjectClaim { kind, id, name }))
    }

    fn legal_rep_check(&self, row: u64, v: &[Option<CompactString>]) -> Result<(), RowIssue> {
        let Some(slot) = self.slots.legal_rep_id_number else {
            return Ok(());
        };
        let Some(number) = v[slot].as_deref() else {
            return Ok(());
        };
        let id_type = self.slots.legal_rep_id_type.and_then(|i| v[i].as_deref()).unwrap_or(RESIDENT_ID_TYPE);
        if id_type == RESIDENT_ID_TYPE {
            ResidentId::parse(number, self.today).map_err(|e| issue(row, self.field(slot), e.code(), e.to_string()))?;
        }
        Ok(())
    }

    fn dates(&self, row: u64, v: &[Option<CompactString>]) -> Result<(NaiveDate, Option<NaiveDate>), RowIssue> {
        let parse = |slot: usize| -> Result<Option<NaiveDate>, RowIssue> {
            v[slot]
                .as_deref()
                .map(|d| value::parse_date(d).map_err(|e| issue(row, self.field(slot), e.code, e.message)))
                .transpose()
        };
        let date_field = self.field(self.slots.date);
        let Some(date) = parse(self.slots.date)? else {
            return Err(issue(row, date_field, "missing_value", format!("{} is required", date_field.label)));
        };
        if date > self.today {
            return Err(issue(row, date_field, "bad_date", format!("{date} lies in the future")));
        }
        let end = match self.slots.end {
            Some(slot) => parse(slot)?,
            None => None,
        };
        if let (Some(end), Some(slot)) = (end, self.slots.end)
            && end < date
        {
            return Err(issue(
                row,
                self.field(slot),
                "bad_period",
                format!("{} ({end}) is before {} ({date})", self.field(slot).label, date_field.label),
            ));
        }
        Ok((date, end))
    }
}

fn apply_implied(g: &Generation, fields: &[Field], values: &mut [Option<CompactString>]) {
    for (key, implied) in &g.implied {
        if let Some(i) = fields.iter().position(|f| &f.key == key)
            && values[i].is_none()
        {
            values[i] = Some(implied.as_str().into());
        }
    }
}

fn issue(row: u64, field: &Field, code: &str, message: impl Into<String>) -> RowIssue {
    RowIssue { row, field: Some(field.label.clone()), code: code.to_owned(), message: message.into() }
}

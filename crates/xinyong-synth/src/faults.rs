//! Deliberate errors. About 1% of rows carry exactly one [`Fault`], each of which ingest must reject
//! with the stable code [`Fault::code`]; every other row is valid.
//!
//! Which rows: the 100th row of every file (so every file of 100 rows or more has one), then each row
//! with probability 1%; and, from the 100th row on, rows are also spoiled more often until every fault
//! that fits the file has occurred once in it — so even a small XLSX file shows its spreadsheet-specific
//! fault, and a default run of 20,000 subjects shows every kind.
//!
//! ```text
//! let mut picker = FaultPicker::new(def, &layout);
//! if let Some(fault) = picker.choose(row_index, &subject, &mut rng) {
//!     fault.inject(def, &subject, &mut rng, &mut rec)?;
//! }
//! ```

use rand::Rng;
use xinyong_domain::ids::{complete_resident_id, complete_uscc};

use crate::SynthError;
use crate::layout::{F, Layout, Record};
use crate::plan::{FileDef, Format, ItemKind};
use crate::rng::{Rand, chance, pick};
use crate::subjects::{Subject, SubjectKind};

/// The row (0-based) that is always spoiled.
const FORCED_ROW: u64 = 99;
/// Share of rows spoiled at random.
const RATE: f64 = 0.01;
/// Chance to spoil a row that can take a fault not yet seen in the file (from [`FORCED_ROW`] on).
const COVER_RATE: f64 = 0.15;
const USCC_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// One deliberate error. The spreadsheet-specific faults come first, so small files get them early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// XLSX: the resident ID is a number cell (3.10101199001011e17).
    IdNumberCell,
    /// CSV: the resident ID as a spreadsheet wrote it back (`3.10101E+17`).
    IdScientific,
    UsccCheckDigit,
    /// A USCC with a letter outside its alphabet (I O S V Z).
    UsccBadChar,
    /// A USCC of 17 characters.
    UsccLength,
    IdCheckDigit,
    /// A resident ID born on 1990-02-30 (check digit recomputed).
    IdBadDate,
    /// A resident ID of province 99 (check digit recomputed).
    IdBadRegion,
    MissingName,
    MissingKey,
    /// Decision / start / establishment date `2018-02-30` or `明天`.
    BadDate,
    /// 处罚类别 `罚金`.
    BadCategory,
    /// 行政相对人类别 / 主体类别 `企业`.
    BadKind,
    /// 罚款金额(万元) `十万`.
    BadFine,
    /// 个体工商户 with a valid USCC of an enterprise (91…).
    KindMismatch,
    /// 法人及非法人组织 without USCC.
    MissingUscc,
    /// 自然人 without 证件号码.
    MissingId,
    /// 移出日期 before 列入日期.
    BadPeriod,
}

impl Fault {
    pub(crate) const ALL: [Fault; 18] = [
        Fault::IdNumberCell,
        Fault::IdScientific,
        Fault::UsccCheckDigit,
        Fault::UsccBadChar,
        Fault::UsccLength,
        Fault::IdCheckDigit,
        Fault::IdBadDate,
        Fault::IdBadRegion,
        Fault::MissingName,
        Fault::MissingKey,
        Fault::BadDate,
        Fault::BadCategory,
        Fault::BadKind,
        Fault::BadFine,
        Fault::KindMismatch,
        Fault::MissingUscc,
        Fault::MissingId,
        Fault::BadPeriod,
    ];

    /// The error code ingest reports for this fault.
    #[cfg(test)]
    pub(crate) fn code(self) -> &'static str {
        match self {
            Fault::IdNumberCell | Fault::IdScientific => "mangled_number",
            Fault::UsccCheckDigit | Fault::IdCheckDigit => "bad_check_digit",
            Fault::UsccBadChar => "bad_char",
            Fault::UsccLength => "bad_length",
            Fault::IdBadDate | Fault::BadDate => "bad_date",
            Fault::IdBadRegion => "bad_region",
            Fault::MissingName | Fault::MissingKey => "missing_value",
            Fault::BadCategory | Fault::BadKind => "bad_enum",
            Fault::BadFine => "bad_number",
            Fault::KindMismatch => "kind_mismatch",
            Fault::MissingUscc => "missing_uscc",
            Fault::MissingId => "missing_id",
            Fault::BadPeriod => "bad_period",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// The field this fault spoils in a file of `item`, if the item has one.
    fn target(self, item: ItemKind) -> Option<F> {
        let list = matches!(item, ItemKind::List(_));
        match self {
            Fault::IdNumberCell | Fault::IdScientific | Fault::IdCheckDigit | Fault::IdBadDate | Fault::IdBadRegion => {
                Some(F::IdNumber)
            }
            Fault::MissingId => Some(F::IdNumber).filter(|_| item != ItemKind::Registration),
            Fault::UsccCheckDigit | Fault::UsccBadChar | Fault::UsccLength | Fault::MissingUscc => Some(F::Uscc),
            Fault::MissingName => Some(match item {
                ItemKind::Registration => F::Name,
                ItemKind::List(_) => F::SubjectName,
                _ => F::PartyName,
            }),
            Fault::MissingKey => match item {
                ItemKind::Registration => None,
                ItemKind::List(_) => Some(F::DocumentNumber),
                _ => Some(F::DecisionNumber),
            },
            Fault::BadDate => Some(match item {
                ItemKind::Registration => F::Established,
                ItemKind::List(_) => F::StartDate,
                _ => F::DecisionDate,
            }),
            Fault::BadKind | Fault::KindMismatch => Some(if list { F::SubjectKind } else { F::PartyKind }),
            Fault::BadCategory => Some(F::PenaltyCategory).filter(|_| item == ItemKind::Penalty),
            Fault::BadFine => Some(F::FineAmount).filter(|_| item == ItemKind::Penalty),
            Fault::BadPeriod => Some(F::EndDate).filter(|_| list),
        }
    }

    fn fits_file(self, def: &FileDef, layout: &Layout) -> bool {
        let format_ok = match self {
            Fault::IdNumberCell => def.format == Format::Xlsx,
            Fault::IdScientific => def.format == Format::Csv,
            _ => true,
        };
        let kind_column = layout.has(F::PartyKind) || layout.has(F::SubjectKind);
        let needs_kind = matches!(self, Fault::KindMismatch | Fault::MissingUscc | Fault::MissingId);
        // Where individual businesses may not be filed, claiming one is `kind_not_allowed`, not a mismatch.
        let businesses_allowed = match def.item {
            ItemKind::List(l) => l.businesses_allowed(),
            _ => true,
        };
        if self == Fault::KindMismatch && !businesses_allowed {
            return false;
        }
        format_ok && self.target(def.item).is_some_and(|f| layout.has(f)) && (!needs_kind || kind_column)
    }

    fn fits_subject(self, subject: &Subject) -> bool {
        match self {
            Fault::IdNumberCell
            | Fault::IdScientific
            | Fault::IdCheckDigit
            | Fault::IdBadDate
            | Fault::IdBadRegion
            | Fault::MissingId => subject.kind == SubjectKind::Person,
            Fault::UsccCheckDigit | Fault::UsccBadChar | Fault::UsccLength => subject.kind.is_org(),
            Fault::MissingUscc => subject.kind == SubjectKind::Legal,
            Fault::KindMismatch => {
                subject.kind == SubjectKind::Business
                    || (subject.kind == SubjectKind::Legal && subject.uscc.starts_with("91"))
            }
            _ => true,
        }
    }

    /// Spoils `rec` (a valid row of `def`'s item for `subject`) with this fault and nothing else.
    pub(crate) fn inject(
        self,
        def: &FileDef,
        subject: &Subject,
        rng: &mut Rand,
        rec: &mut Record,
    ) -> Result<(), SynthError> {
        let Some(target) = self.target(def.item) else {
            return Ok(());
        };
        let id = subject.resident_id.as_str();
        let uscc = subject.uscc.as_str();
        let first17 = |s: &str| s.get(..17).unwrap_or("").to_owned();
        let recompute = |first: String| complete_resident_id(&first).ok_or(SynthError::Identifier(first));
        let value = match self {
            Fault::IdNumberCell => {
                rec.numeric = Some(target);
                return Ok(());
            }
            Fault::IdScientific => format!("{}.{}E+17", id.get(..1).unwrap_or("3"), id.get(1..6).unwrap_or("10101")),
            Fault::IdCheckDigit => {
                let wrong = if id.ends_with('0') { '1' } else { '0' };
                format!("{}{wrong}", first17(id))
            }
            Fault::IdBadDate => {
                recompute(format!("{}19900230{}", id.get(..6).unwrap_or(""), id.get(14..17).unwrap_or("")))?
            }
            Fault::IdBadRegion => recompute(format!("99{}", id.get(2..17).unwrap_or("")))?,
            Fault::UsccCheckDigit => {
                let last = uscc.as_bytes().get(17).copied().unwrap_or(b'0');
                let at = USCC_ALPHABET.iter().position(|c| *c == last).unwrap_or(0);
                let wrong = USCC_ALPHABET[(at + rng.random_range(1..31)) % 31];
                format!("{}{}", first17(uscc), char::from(wrong))
            }
            Fault::UsccBadChar => {
                let at = rng.random_range(2..8);
                let bad = pick(rng, &["I", "O", "S", "V", "Z"]);
                format!("{}{bad}{}", uscc.get(..at).unwrap_or(""), uscc.get(at + 1..).unwrap_or(""))
            }
            Fault::UsccLength => first17(uscc),
            Fault::BadDate => (if chance(rng, 0.5) { "2018-02-30" } else { "明天" }).to_owned(),
            Fault::BadCategory => "罚金".to_owned(),
            Fault::BadKind => "企业".to_owned(),
            Fault::BadFine => "十万".to_owned(),
            Fault::KindMismatch if subject.kind == SubjectKind::Business => {
                let first16 = format!("91{}", uscc.get(2..16).unwrap_or(""));
                let enterprise = complete_uscc(&first16).ok_or(SynthError::Identifier(first16))?;
                rec.set(F::Uscc, &enterprise);
                return Ok(());
            }
            Fault::KindMismatch => SubjectKind::Business.label().to_owned(),
            Fault::MissingUscc => {
                rec.set(F::OrgCode, "");
                String::new()
            }
            Fault::MissingName | Fault::MissingKey | Fault::MissingId => String::new(),
            Fault::BadPeriod => {
                let start = crate::layout::iso_date(rec.get(F::StartDate)).unwrap_or(crate::AS_OF);
                let end = start.checked_sub_days(chrono::Days::new(rng.random_range(1..365))).unwrap_or(start);
                rec.set_date(F::EndDate, end);
                return Ok(());
            }
        };
        rec.set(target, &value);
        Ok(())
    }
}

/// Decides, row by row, which rows of one file carry which fault.
#[derive(Debug)]
pub(crate) struct FaultPicker {
    fits_file: u32,
    /// Faults that fit the file and have not occurred in it yet.
    pending: u32,
}

impl FaultPicker {
    pub(crate) fn new(def: &FileDef, layout: &Layout) -> FaultPicker {
        let fits_file = Fault::ALL.iter().filter(|f| f.fits_file(def, layout)).fold(0, |m, f| m | f.bit());
        FaultPicker { fits_file, pending: fits_file }
    }

    /// The fault row `row` (0-based) of the file gets, if any.
    pub(crate) fn choose(&mut self, row: u64, subject: &Subject, rng: &mut Rand) -> Option<Fault> {
        let fits_row =
            Fault::ALL.iter().filter(|f| f.fits_subject(subject)).fold(0, |m, f| m | f.bit()) & self.fits_file;
        let new_here = self.pending & fits_row;
        let spoil =
            row == FORCED_ROW || (row > FORCED_ROW && new_here != 0 && chance(rng, COVER_RATE)) || chance(rng, RATE);
        if !spoil || fits_row == 0 {
            return None;
        }
        let fault = if new_here != 0 {
            Fault::ALL.into_iter().find(|f| new_here & f.bit() != 0)
        } else {
            let n = fits_row.count_ones();
            let k = rng.random_range(0..n);
            Fault::ALL.into_iter().filter(|f| fits_row & f.bit() != 0).nth(k as usize)
        }?;
        self.pending &= !fault.bit();
        Some(fault)
    }
}

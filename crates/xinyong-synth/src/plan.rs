//! The files of a run and how a subject's records are spread over them.
//!
//! [`FILES`] lists every file in ingestion order (registration, licences, penalties, lists) with its
//! unit, item, format, encoding and header style; together they cover every format/encoding combination
//! and both header generations. Each unit's rows of an item go to one file. The [`Planner`] draws, for
//! one subject, how many records of each item it has and which file (unit) each goes to, with the mix of
//! the 2018 operating report: per subject ≈ 0.68 registrations, 7.3 licences, 1.37 penalties (5.4 : 1)
//! and 0.62 list entries, ≈ 10 rows in all.
//!
//! ```text
//! let planner = Planner::new(FILES);
//! planner.plan(&subject, &mut rng, &mut planned); // [(file index, record seed), …]
//! ```

use rand::RngCore;

use crate::layout::Headers;
use crate::rng::{Rand, poisson, weighted};
use crate::rows::list::ListId;
use crate::subjects::{Subject, SubjectKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemKind {
    Registration,
    License,
    Penalty,
    List(ListId),
}

impl ItemKind {
    pub(crate) fn code(self) -> &'static str {
        match self {
            ItemKind::Registration => "legal_person_registration",
            ItemKind::License => "admin_license",
            ItemKind::Penalty => "admin_penalty",
            ItemKind::List(l) => l.code(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Csv,
    Xlsx,
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8Bom,
    Utf8,
    Gb18030,
}

/// How a text file writes dates (all are accepted by ingest; XLSX writes date cells).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateStyle {
    /// 2024-05-07
    Iso,
    /// 2024/5/7
    Slash,
    /// 20240507
    Compact,
    /// 2024年5月7日
    Chinese,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct FileDef {
    pub path: &'static str,
    pub unit: &'static str,
    pub item: ItemKind,
    pub format: Format,
    pub encoding: Encoding,
    pub headers: Headers,
    pub dates: DateStyle,
    pub crlf: bool,
    /// Share of the item's records that go to this file, for a legal person, an individual business and
    /// a natural person (relative to the other files of the item).
    pub weights: [u32; 3],
}

const fn file(
    path: &'static str,
    unit: &'static str,
    item: ItemKind,
    (format, encoding): (Format, Encoding),
    headers: Headers,
    dates: DateStyle,
    weights: [u32; 3],
) -> FileDef {
    let crlf = matches!(encoding, Encoding::Gb18030);
    FileDef { path, unit, item, format, encoding, headers, dates, crlf, weights }
}

const CSV_BOM: (Format, Encoding) = (Format::Csv, Encoding::Utf8Bom);
const CSV: (Format, Encoding) = (Format::Csv, Encoding::Utf8);
const CSV_GB: (Format, Encoding) = (Format::Csv, Encoding::Gb18030);
const XLSX: (Format, Encoding) = (Format::Xlsx, Encoding::Utf8);
const JSONL: (Format, Encoding) = (Format::Jsonl, Encoding::Utf8);

use DateStyle::{Chinese, Compact, Iso, Slash};
use Headers::{Codes, Keys, Labels, Legacy2015};
use ItemKind::{License, Penalty, Registration};

/// Every file of a run, in the order it must be ingested. XLSX files get small shares (XLSX is slow).
#[rustfmt::skip]
pub(crate) const FILES: &[FileDef] = &[
    file("registration-sh_amr.csv", "sh_amr", Registration, CSV_BOM, Labels, Iso, [1, 1, 0]),
    file("licences-sh_amr.csv", "sh_amr", License, CSV_BOM, Labels, Iso, [340, 450, 150]),
    file("licences-sh_tax-gb18030.csv", "sh_tax", License, CSV_GB, Labels, Slash, [140, 200, 100]),
    file("licences-sh_ecology-2015.csv", "sh_ecology", License, CSV, Legacy2015, Compact, [60, 20, 0]),
    file("licences-sh_housing.jsonl", "sh_housing", License, JSONL, Keys, Iso, [120, 40, 150]),
    file("licences-sh_transport.csv", "sh_transport", License, CSV, Labels, Chinese, [100, 80, 350]),
    file("licences-sh_hrss-codes.csv", "sh_hrss", License, CSV_BOM, Codes, Iso, [80, 40, 150]),
    file("licences-sh_drug.jsonl", "sh_drug", License, JSONL, Labels, Iso, [150, 170, 100]),
    file("licences-sh_finance.xlsx", "sh_finance", License, XLSX, Labels, Iso, [3, 0, 0]),
    file("penalties-sh_amr.csv", "sh_amr", Penalty, CSV_BOM, Labels, Iso, [350, 450, 200]),
    file("penalties-sh_tax-gb18030.csv", "sh_tax", Penalty, CSV_GB, Labels, Slash, [180, 200, 150]),
    file("penalties-sh_ecology-2015-gb18030.csv", "sh_ecology", Penalty, CSV_GB, Legacy2015, Compact, [100, 30, 0]),
    file("penalties-sh_housing-codes.csv", "sh_housing", Penalty, CSV, Codes, Iso, [90, 30, 50]),
    file("penalties-sh_transport.jsonl", "sh_transport", Penalty, JSONL, Labels, Iso, [100, 80, 400]),
    file("penalties-sh_hrss.jsonl", "sh_hrss", Penalty, JSONL, Keys, Iso, [80, 100, 0]),
    file("penalties-sh_drug.csv", "sh_drug", Penalty, CSV, Labels, Compact, [70, 100, 50]),
    file("penalties-sh_customs.xlsx", "sh_customs", Penalty, XLSX, Labels, Iso, [10, 0, 30]),
    list("lists-dishonest_debtor-sh_court-gb18030.csv", "sh_court", ListId::DishonestDebtor, CSV_GB, Labels, Slash, [500, 450, 700]),
    list("lists-financial_dishonest-sh_court.jsonl", "sh_court", ListId::FinancialDishonest, JSONL, Keys, Iso, [50, 50, 80]),
    list("lists-tax_a-sh_tax.csv", "sh_tax", ListId::TaxA, CSV_BOM, Labels, Iso, [180, 150, 0]),
    list("lists-major_tax_violation-sh_tax.csv", "sh_tax", ListId::MajorTaxViolation, CSV, Labels, Chinese, [50, 50, 30]),
    list("lists-customs_advanced-sh_customs.xlsx", "sh_customs", ListId::CustomsAdvanced, XLSX, Labels, Iso, [40, 0, 0]),
    list("lists-customs_dishonest-sh_customs.xlsx", "sh_customs", ListId::CustomsDishonest, XLSX, Labels, Iso, [30, 0, 0]),
    list("lists-food_drug_dishonest-sh_drug.jsonl", "sh_drug", ListId::FoodDrugDishonest, JSONL, Labels, Iso, [50, 150, 60]),
    list("lists-wage_arrears-sh_hrss-gb18030.csv", "sh_hrss", ListId::WageArrears, CSV_GB, Labels, Slash, [100, 150, 130]),
];

const fn list(
    path: &'static str,
    unit: &'static str,
    id: ListId,
    format: (Format, Encoding),
    headers: Headers,
    dates: DateStyle,
    weights: [u32; 3],
) -> FileDef {
    file(path, unit, ItemKind::List(id), format, headers, dates, weights)
}

/// Mean records per subject of each kind (legal person, individual business, natural person).
const LICENCES_PER_SUBJECT: [f64; 3] = [9.0, 6.0, 4.5];
const PENALTIES_PER_SUBJECT: [f64; 3] = [1.6, 1.5, 0.9];
const LIST_ENTRIES_PER_SUBJECT: [f64; 3] = [0.75, 0.5, 0.4];
/// Share of subjects of each kind (the same draw as [`Subject::fill`]).
const KIND_SHARES: [f64; 3] = [0.60, 0.08, 0.32];

fn kind_index(kind: SubjectKind) -> usize {
    match kind {
        SubjectKind::Legal => 0,
        SubjectKind::Business => 1,
        SubjectKind::Person => 2,
    }
}

/// One record to write: the file it goes to and the seed of its own random stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Planned {
    pub file: usize,
    pub seed: u64,
}

/// The files of one group of items and their weights per subject kind.
#[derive(Debug, Default)]
struct Choice {
    files: Vec<usize>,
    weights: [Vec<u32>; 3],
}

impl Choice {
    fn of(defs: &[FileDef], wanted: impl Fn(ItemKind) -> bool) -> Choice {
        let mut c = Choice::default();
        for (i, d) in defs.iter().enumerate().filter(|(_, d)| wanted(d.item)) {
            c.files.push(i);
            for k in 0..3 {
                let allowed = match d.item {
                    ItemKind::List(l) if k == 1 => l.businesses_allowed(),
                    ItemKind::List(l) if k == 2 => l.persons_allowed(),
                    _ => true,
                };
                c.weights[k].push(if allowed { d.weights[k] } else { 0 });
            }
        }
        c
    }

    fn draw(&self, rng: &mut Rand, kind: usize) -> Option<usize> {
        let w = &self.weights[kind];
        (w.iter().any(|x| *x > 0)).then(|| self.files[weighted(rng, w)])
    }

    fn share(&self, file: usize, kind: usize) -> f64 {
        let total: u32 = self.weights[kind].iter().sum();
        match self.files.iter().position(|f| *f == file) {
            Some(p) if total > 0 => f64::from(self.weights[kind][p]) / f64::from(total),
            _ => 0.0,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Planner {
    registration: Option<usize>,
    licences: Choice,
    penalties: Choice,
    lists: Choice,
}

impl Planner {
    pub(crate) fn new(defs: &[FileDef]) -> Planner {
        Planner {
            registration: defs.iter().position(|d| d.item == ItemKind::Registration),
            licences: Choice::of(defs, |i| i == ItemKind::License),
            penalties: Choice::of(defs, |i| i == ItemKind::Penalty),
            lists: Choice::of(defs, |i| matches!(i, ItemKind::List(_))),
        }
    }

    /// Appends the records of `subject` to `out`, drawing from the subject's stream.
    pub(crate) fn plan(&self, subject: &Subject, rng: &mut Rand, out: &mut Vec<Planned>) {
        out.clear();
        let k = kind_index(subject.kind);
        if let (Some(file), true) = (self.registration, subject.kind.is_org()) {
            out.push(Planned { file, seed: rng.next_u64() });
        }
        for (choice, means) in [
            (&self.licences, LICENCES_PER_SUBJECT),
            (&self.penalties, PENALTIES_PER_SUBJECT),
            (&self.lists, LIST_ENTRIES_PER_SUBJECT),
        ] {
            for _ in 0..poisson(rng, means[k] * subject.activity) {
                if let Some(file) = choice.draw(rng, k) {
                    out.push(Planned { file, seed: rng.next_u64() });
                }
            }
        }
    }

    /// Expected rows of `file` per subject (to balance files over threads).
    pub(crate) fn expected_rows(&self, file: usize) -> f64 {
        if self.registration == Some(file) {
            return KIND_SHARES[0] + KIND_SHARES[1];
        }
        let mut sum = 0.0;
        for k in 0..3 {
            for (choice, means) in [
                (&self.licences, LICENCES_PER_SUBJECT),
                (&self.penalties, PENALTIES_PER_SUBJECT),
                (&self.lists, LIST_ENTRIES_PER_SUBJECT),
            ] {
                sum += KIND_SHARES[k] * means[k] * choice.share(file, k);
            }
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_ten_rows_per_subject_with_licences_to_penalties_near_5_5() {
        let p = Planner::new(FILES);
        let total: f64 = (0..FILES.len()).map(|f| p.expected_rows(f)).sum();
        assert!((9.5..10.5).contains(&total), "{total}");
        let of = |item: ItemKind| -> f64 {
            FILES.iter().enumerate().filter(|(_, d)| d.item == item).map(|(i, _)| p.expected_rows(i)).sum()
        };
        let ratio = of(License) / of(Penalty);
        assert!((5.0..6.0).contains(&ratio), "{ratio}");
    }

    #[test]
    fn reward_and_customs_lists_take_no_natural_persons() {
        for d in FILES {
            if let ItemKind::List(l) = d.item {
                if !l.persons_allowed() {
                    assert_eq!(d.weights[2], 0, "{}", d.path);
                }
                if !l.businesses_allowed() {
                    assert_eq!(d.weights[1], 0, "{}", d.path);
                }
            }
        }
    }
}

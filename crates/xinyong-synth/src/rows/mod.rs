//! Row builders: one valid record of an item for a subject, as the supplying unit's system would
//! export it. Every value a builder writes is valid for the catalog (required fields filled, enum values
//! from the catalog, plain decimals, dates no later than [`AS_OF`]); faults are injected afterwards.
//!
//! ```text
//! let ctx = RowCtx { def, unit, authorities: &offices };
//! rows::build(&ctx, &subject, number, &mut record_rng(seed), &mut rec);
//! ```

pub(crate) mod license;
pub(crate) mod list;
pub(crate) mod penalty;
pub(crate) mod registration;

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, Timelike};
use rand::Rng;
use xinyong_domain::ids::complete_uscc;

use crate::layout::{F, Headers, Record};
use crate::names::DISTRICTS;
use crate::plan::{FileDef, ItemKind};
use crate::rng::{Rand, add_days, chance, date_between};
use crate::subjects::Subject;
use crate::units::{CUSTOMS_OFFICES, UnitInfo};
use crate::{AS_OF, SynthError};

/// A deciding authority: name, USCC (机关, `11…`) and region code.
#[derive(Debug, Clone)]
pub(crate) struct Office {
    pub name: String,
    pub uscc: String,
    pub region: &'static str,
}

/// The unit itself and the offices that decide in its name (district bureaus, customs offices, courts).
#[derive(Debug, Clone)]
pub(crate) struct Authorities {
    pub main: Office,
    pub offices: Vec<Office>,
    /// `offices[i]` is the bureau of district `i`.
    pub by_district: bool,
}

fn office(name: String, region: &'static str, unit_no: usize, office_no: usize) -> Result<Office, SynthError> {
    let first16 = format!("11{region}{:08}", 24_000_000 + unit_no * 100 + office_no);
    let uscc = complete_uscc(&first16).ok_or(SynthError::Identifier(first16))?;
    Ok(Office { name, uscc, region })
}

impl Authorities {
    pub(crate) fn new(unit: &UnitInfo, unit_name: &str, unit_no: usize) -> Result<Authorities, SynthError> {
        let main = office(unit_name.to_owned(), "310000", unit_no, 99)?;
        let (prefix, suffix) = unit.district_bureau;
        let mut offices = Vec::new();
        let by_district = !suffix.is_empty();
        if by_district {
            for (i, (code, name)) in DISTRICTS.iter().enumerate() {
                offices.push(office(format!("{prefix}{name}{suffix}"), code, unit_no, i)?);
            }
        } else if unit.code == "sh_customs" {
            for (i, name) in CUSTOMS_OFFICES.iter().enumerate() {
                offices.push(office((*name).to_owned(), "310000", unit_no, i)?);
            }
        }
        Ok(Authorities { main, offices, by_district })
    }

    /// The office deciding about a subject of `district`.
    pub(crate) fn choose(&self, district: usize, rng: &mut Rand) -> &Office {
        if self.offices.is_empty() {
            return &self.main;
        }
        if !self.by_district {
            return &self.offices[rng.random_range(0..self.offices.len())];
        }
        if chance(rng, 0.75) { self.offices.get(district).unwrap_or(&self.main) } else { &self.main }
    }
}

/// What a builder needs to know about the file it writes for.
#[derive(Debug)]
pub(crate) struct RowCtx<'a> {
    pub def: &'a FileDef,
    pub unit: &'static UnitInfo,
    pub authorities: &'a Authorities,
}

impl RowCtx<'_> {
    pub(crate) fn legacy(&self) -> bool {
        self.def.headers == Headers::Legacy2015
    }
}

/// Fills `rec` with record number `number` (1-based within the file) of the file's item for `subject`.
pub(crate) fn build(ctx: &RowCtx<'_>, subject: &Subject, number: u64, rng: &mut Rand, rec: &mut Record) {
    rec.clear();
    match ctx.def.item {
        ItemKind::Registration => registration::build(ctx, subject, rng, rec),
        ItemKind::License => license::build(ctx, subject, number, rng, rec),
        ItemKind::Penalty => penalty::build(ctx, subject, number, rng, rec),
        ItemKind::List(id) => list::build(ctx, id, subject, number, rng, rec),
    }
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(AS_OF)
}

/// A decision date in 2019-01-01..=AS_OF, recent years more likely, so that some fall in every
/// disclosure regime (including the one from 2026-04-01).
pub(crate) fn decision_date(rng: &mut Rand) -> NaiveDate {
    let from = if chance(rng, 0.3) { ymd(2025, 1, 1) } else { ymd(2019, 1, 1) };
    date_between(rng, from, AS_OF)
}

/// One of `items` that `fits` (any of them when none fits); `None` only for an empty table.
pub(crate) fn choose_fitting<'a, T>(rng: &mut Rand, items: &'a [T], fits: impl Fn(&T) -> bool) -> Option<&'a T> {
    let fitting = items.iter().filter(|t| fits(t)).count();
    if fitting == 0 {
        return (!items.is_empty()).then(|| &items[rng.random_range(0..items.len())]);
    }
    let k = rng.random_range(0..fitting);
    items.iter().filter(|t| fits(t)).nth(k)
}

/// `date + days` when that is no later than [`AS_OF`] (synth writes no future dates).
pub(crate) fn until(date: NaiveDate, days: u64) -> Option<NaiveDate> {
    add_days(date, days).filter(|d| *d <= AS_OF)
}

/// The party fields of 双公示 items: name, kind, USCC or resident ID, legal representative.
pub(crate) fn party(ctx: &RowCtx<'_>, subject: &Subject, rng: &mut Rand, rec: &mut Record) {
    rec.set(F::PartyName, &subject.name);
    rec.set(F::PartyKind, subject.kind.label());
    if !subject.kind.is_org() {
        rec.set(F::IdType, "身份证");
        rec.set(F::IdNumber, &subject.resident_id);
        return;
    }
    rec.set(F::Uscc, &subject.uscc);
    if ctx.legacy() || chance(rng, 0.3) {
        rec.set(F::OrgCode, subject.uscc.get(8..17).unwrap_or(""));
    }
    rec.set(F::LegalRep, &subject.rep_name);
    if chance(rng, 0.3) {
        rec.set(F::LegalRepIdType, "身份证");
        rec.set(F::LegalRepIdNumber, &subject.rep_id);
    }
}

/// The source unit, its USCC and the legacy region code and update timestamp.
pub(crate) fn provenance(ctx: &RowCtx<'_>, office: &Office, date: NaiveDate, rng: &mut Rand, rec: &mut Record) {
    rec.set(F::Authority, &office.name);
    rec.set(F::AuthorityUscc, &office.uscc);
    rec.set(F::SourceUnit, &ctx.authorities.main.name);
    rec.set(F::SourceUnitUscc, &ctx.authorities.main.uscc);
    rec.set(F::RegionCode, office.region);
    let updated = until(date, rng.random_range(1..8)).unwrap_or(date);
    let t = chrono::NaiveTime::from_num_seconds_from_midnight_opt(rng.random_range(8 * 3600..19 * 3600), 0);
    let (h, m, s) = t.map_or((9, 0, 0), |t| (t.hour(), t.minute(), t.second()));
    let _ = write!(
        rec.buf(F::SourceUpdatedAt),
        "{:04}-{:02}-{:02} {h:02}:{m:02}:{s:02}",
        updated.year(),
        updated.month(),
        updated.day()
    );
}

/// Yuan as 万元 in plain decimal form: 12500 → `1.25`, 500 → `0.05`.
pub(crate) fn write_wan(out: &mut String, yuan: u64) {
    let (int, frac) = (yuan / 10_000, yuan % 10_000);
    let _ = write!(out, "{int}");
    if frac != 0 {
        let digits = format!("{frac:04}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// Yuan with thousands separators, as decisions write them: 12500 → `12,500`.
pub(crate) fn write_yuan(out: &mut String, yuan: u64) {
    let digits = yuan.to_string();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
}

/// 2024年5月7日, as dates appear inside decision texts.
pub(crate) fn write_chinese_date(out: &mut String, d: NaiveDate) {
    let _ = write!(out, "{}年{}月{}日", d.year(), d.month(), d.day());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_plain_decimals_of_wan() {
        let mut s = String::new();
        for (yuan, want) in [(12_500, "1.25"), (500, "0.05"), (1_000_000, "100"), (10_001, "1.0001")] {
            s.clear();
            write_wan(&mut s, yuan);
            assert_eq!(s, want);
        }
    }

    #[test]
    fn yuan_get_thousands_separators() {
        let mut s = String::new();
        write_yuan(&mut s, 1_234_567);
        assert_eq!(s, "1,234,567");
        s.clear();
        write_yuan(&mut s, 500);
        assert_eq!(s, "500");
    }
}

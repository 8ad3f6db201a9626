//! Credit subjects, derived on the fly: subject `i` of a run is a pure function of `(seed, i)`, so the
//! generator never holds more than one subject per thread.
//!
//! Identifiers are unique by construction, not by bookkeeping: a seeded affine permutation maps the
//! subject number onto the space of resident-ID parts (region × birth day × sequence) and of USCC
//! organisation bodies, so two subjects can never share one. Natural persons take the even points of
//! the resident-ID space and legal representatives the odd ones.
//!
//! ```text
//! let spaces = IdSpaces::new(seed)?;
//! let mut s = Subject::default();
//! s.fill(&spaces, 42, &mut subject_rng(seed, 42))?;
//! ```

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use xinyong_domain::ids::{complete_resident_id, complete_uscc};

use crate::names::{self, DISTRICTS, OrgKind};
use crate::rng::{Rand, add_days, chance, date_between, mix, weighted};
use crate::{AS_OF, SynthError};

/// The most subjects one run can make with unique identifiers (the `MA1` + 5 characters body space).
pub const MAX_SUBJECTS: u64 = 28_000_000;

const USCC_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Regions in resident IDs: the Shanghai districts and some provinces people move from.
const OTHER_REGIONS: &[&str] = &["320102", "320505", "330106", "330212", "340104", "370202", "410105", "420106"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubjectKind {
    Legal,
    Business,
    Person,
}

impl SubjectKind {
    /// The value of 行政相对人类别 / 主体类别.
    pub(crate) fn label(self) -> &'static str {
        match self {
            SubjectKind::Legal => "法人及非法人组织",
            SubjectKind::Business => "个体工商户",
            SubjectKind::Person => "自然人",
        }
    }

    pub(crate) fn is_org(self) -> bool {
        self != SubjectKind::Person
    }
}

/// `x ↦ (a·x + b) mod m` with `gcd(a, m) = 1`: a bijection of `0..m`.
#[derive(Debug, Clone, Copy)]
struct Permutation {
    m: u64,
    a: u64,
    b: u64,
}

impl Permutation {
    fn new(m: u64, seed: u64) -> Self {
        let mut a = (mix(seed) % m) | 1;
        while gcd(a, m) != 1 {
            a += 2;
        }
        Permutation { m, a, b: mix(seed ^ 0xB0D1) % m }
    }

    fn apply(self, x: u64) -> u64 {
        ((u128::from(self.a) * u128::from(x % self.m) + u128::from(self.b)) % u128::from(self.m)) as u64
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The identifier spaces of one run.
#[derive(Debug, Clone)]
pub(crate) struct IdSpaces {
    birth_from: NaiveDate,
    birth_days: u64,
    regions: Vec<&'static str>,
    resident: Permutation,
    new_bodies: Permutation,
    old_bodies: Permutation,
}

impl IdSpaces {
    pub(crate) fn new(seed: u64) -> Self {
        let birth_from = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or(NaiveDate::MIN);
        let birth_to = NaiveDate::from_ymd_opt(2004, 12, 31).unwrap_or(NaiveDate::MIN);
        let birth_days = (birth_to - birth_from).num_days() as u64 + 1;
        let regions: Vec<&'static str> = DISTRICTS.iter().map(|d| d.0).chain(OTHER_REGIONS.iter().copied()).collect();
        let resident_size = regions.len() as u64 * birth_days * 1000;
        IdSpaces {
            birth_from,
            birth_days,
            resident: Permutation::new(resident_size, seed ^ 0x1D),
            regions,
            new_bodies: Permutation::new(31u64.pow(5), seed ^ 0x2E),
            old_bodies: Permutation::new(100_000_000, seed ^ 0x3F),
        }
    }

    /// The resident ID at point `u` (unique for `u` below the space size, far above 2 × MAX_SUBJECTS).
    fn resident_id(&self, u: u64, out: &mut String) -> Result<(), SynthError> {
        let q = self.resident.apply(u);
        let seq = q % 1000;
        let day = (q / 1000) % self.birth_days;
        let region = self.regions[((q / 1000 / self.birth_days) as usize).min(self.regions.len() - 1)];
        let birth = add_days(self.birth_from, day).unwrap_or(self.birth_from);
        let mut first17 = String::with_capacity(17);
        let _ = write!(first17, "{region}{:04}{:02}{:02}{seq:03}", birth.year(), birth.month(), birth.day());
        let id = complete_resident_id(&first17).ok_or_else(|| SynthError::Identifier(first17.clone()))?;
        out.push_str(&id);
        Ok(())
    }

    /// The 8-character organisation body of subject `index`: `MA1` + 5 characters for organisations
    /// registered since the USCC reform, 8 digits (a former organisation code) for older ones.
    fn org_body(&self, index: u64, modern: bool, out: &mut String) {
        if modern {
            let mut q = self.new_bodies.apply(index);
            out.push_str("MA1");
            for _ in 0..5 {
                out.push(char::from(USCC_ALPHABET[(q % 31) as usize]));
                q /= 31;
            }
        } else {
            let _ = write!(out, "{:08}", self.old_bodies.apply(index));
        }
    }
}

/// One credit subject with everything its records need.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    pub index: u64,
    pub kind: SubjectKind,
    /// The organisation kind (by USCC prefix); `None` for natural persons.
    pub org: Option<OrgKind>,
    pub name: String,
    /// Valid USCC of an organisation; empty for natural persons.
    pub uscc: String,
    /// Valid resident ID of a natural person; empty for organisations.
    pub resident_id: String,
    /// Legal representative (经营者 of an individual business); empty for natural persons.
    pub rep_name: String,
    pub rep_id: String,
    pub district: usize,
    pub industry: usize,
    /// Date of establishment of an organisation.
    pub established: NaiveDate,
    /// How active the subject is: multiplies its expected number of records (mean 1).
    pub activity: f64,
}

impl Default for Subject {
    fn default() -> Self {
        Subject {
            index: 0,
            kind: SubjectKind::Person,
            org: None,
            name: String::with_capacity(64),
            uscc: String::with_capacity(18),
            resident_id: String::with_capacity(18),
            rep_name: String::with_capacity(16),
            rep_id: String::with_capacity(18),
            district: 0,
            industry: 0,
            established: AS_OF,
            activity: 1.0,
        }
    }
}

impl Subject {
    /// Overwrites `self` with subject `index`, drawing from that subject's stream.
    pub(crate) fn fill(&mut self, spaces: &IdSpaces, index: u64, rng: &mut Rand) -> Result<(), SynthError> {
        self.index = index;
        self.name.clear();
        self.uscc.clear();
        self.resident_id.clear();
        self.rep_name.clear();
        self.rep_id.clear();
        self.kind = match weighted(rng, &[60, 8, 32]) {
            0 => SubjectKind::Legal,
            1 => SubjectKind::Business,
            _ => SubjectKind::Person,
        };
        self.district = names::district(rng);
        self.industry = names::industry(rng);
        let u: f64 = rng.random();
        self.activity = (-(1.0 - u).ln()).min(8.0);
        self.org = match self.kind {
            SubjectKind::Person => None,
            SubjectKind::Business => Some(OrgKind::Business),
            SubjectKind::Legal => Some(match weighted(rng, &[88, 3, 2, 4, 3]) {
                0 => OrgKind::Enterprise,
                1 => OrgKind::Institution,
                2 => OrgKind::Association,
                3 => OrgKind::NonProfit,
                _ => OrgKind::Cooperative,
            }),
        };
        let Some(org) = self.org else {
            names::person_name(rng, &mut self.name);
            self.established = AS_OF;
            return spaces.resident_id(2 * index, &mut self.resident_id);
        };
        names::org_name(rng, org, self.district, self.industry, &mut self.name);
        names::person_name(rng, &mut self.rep_name);
        spaces.resident_id(2 * index + 1, &mut self.rep_id)?;
        let earliest = NaiveDate::from_ymd_opt(if org == OrgKind::Business { 2005 } else { 1992 }, 1, 1);
        let reform = NaiveDate::from_ymd_opt(2016, 1, 1).unwrap_or(AS_OF);
        // Half of the organisations are young: registered since 2016.
        let from = if chance(rng, 0.5) { reform } else { earliest.unwrap_or(reform) };
        self.established = date_between(rng, from, AS_OF);
        let modern = self.established >= reform || chance(rng, 0.1);
        let mut first16 = String::with_capacity(16);
        first16.push_str(org.prefix());
        first16.push_str(DISTRICTS[self.district].0);
        spaces.org_body(index, modern, &mut first16);
        let uscc = complete_uscc(&first16).ok_or(SynthError::Identifier(first16))?;
        self.uscc.push_str(&uscc);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::subject_rng;
    use std::collections::HashSet;
    use xinyong_domain::ids::{ResidentId, Uscc};

    #[test]
    fn identifiers_are_valid_and_unique() -> Result<(), SynthError> {
        let spaces = IdSpaces::new(9);
        let mut s = Subject::default();
        let mut seen = HashSet::new();
        for i in 0..20_000 {
            s.fill(&spaces, i, &mut subject_rng(9, i))?;
            if s.kind.is_org() {
                let u = Uscc::parse(&s.uscc).map_err(|e| SynthError::Identifier(format!("{}: {e}", s.uscc)))?;
                assert_eq!(u.is_individual_business(), s.kind == SubjectKind::Business);
                assert!(ResidentId::parse(&s.rep_id, AS_OF).is_ok(), "{}", s.rep_id);
                assert!(seen.insert(s.uscc.clone()), "duplicate {}", s.uscc);
                assert!(seen.insert(s.rep_id.clone()), "duplicate {}", s.rep_id);
            } else {
                assert!(ResidentId::parse(&s.resident_id, AS_OF).is_ok(), "{}", s.resident_id);
                assert!(seen.insert(s.resident_id.clone()), "duplicate {}", s.resident_id);
            }
        }
        Ok(())
    }

    #[test]
    fn the_permutation_is_a_bijection() {
        let p = Permutation::new(1000, 5);
        let images: HashSet<u64> = (0..1000).map(|x| p.apply(x)).collect();
        assert_eq!(images.len(), 1000);
    }
}

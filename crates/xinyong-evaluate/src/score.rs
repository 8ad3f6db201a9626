//! One subject's score, grade and explanation under a model, as of a day. Pure.
//!
//! score = clamp(round(base + Σ contribution), min, max), where an indicator's contribution is
//! `points × count`, bounded by its `cap` in absolute value; the grade is the band the score falls in,
//! lowered to the `grade_ceiling` of any indicator that fired. The explanation lists every indicator
//! that fired with its count, contribution and the ids of the records (or commitments) counted.

use std::collections::HashMap;

use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;
use xinyong_domain::catalog::{Catalog, ListKind};
use xinyong_domain::record::RecordStatus;
use xinyong_store::evaluation::{FactRecord, SubjectFacts};

use crate::model::{Indicator, Model, Source};

/// The catalog facts a model needs: which items are lists, of which kind.
#[derive(Debug, Clone)]
pub struct Evaluator {
    pub model: Model,
    lists: HashMap<String, ListKind>,
}

/// One indicator that moved the score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    pub indicator: String,
    pub label: String,
    pub count: u32,
    /// Points added (negative: taken off), after the cap.
    pub points: f64,
    /// The cap cut the contribution.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub capped: bool,
    /// Record ids (or commitment ids for commitment indicators) that were counted.
    pub records: Vec<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commitments: Vec<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade_ceiling: Option<String>,
}

/// A score with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub score: i32,
    pub grade: String,
    /// The band the score alone falls in, when a ceiling lowered the grade.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub band: Option<String>,
    pub base: f64,
    pub indicators: Vec<Contribution>,
}

impl Scored {
    /// The explanation as kept with the score.
    pub fn explanation(&self, as_of: NaiveDate) -> serde_json::Value {
        serde_json::json!({
            "as_of": as_of,
            "base": self.base,
            "band": self.band,
            "indicators": self.indicators,
        })
    }
}

/// A stable 64-bit hash (FNV-1a) of an explanation's text: a changed explanation is a new history entry.
pub fn fingerprint(text: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
}

fn window_start(as_of: NaiveDate, months: Option<u32>) -> Option<NaiveDate> {
    months.map(|m| as_of.checked_sub_months(Months::new(m)).unwrap_or(NaiveDate::MIN))
}

/// Full years from `from` to `to`.
fn full_years(from: NaiveDate, to: NaiveDate) -> u32 {
    if to < from {
        return 0;
    }
    let mut years = to.year() - from.year();
    if (to.month(), to.day()) < (from.month(), from.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

impl Evaluator {
    pub fn new(model: Model, catalog: &Catalog) -> Evaluator {
        let lists = catalog.lists().map(|i| (i.code.clone(), i.list_kind)).collect();
        Evaluator { model, lists }
    }

    fn in_window(r: &FactRecord, start: Option<NaiveDate>, as_of: NaiveDate) -> bool {
        r.date <= as_of && start.is_none_or(|s| r.date > s)
    }

    fn matches_item(i: &Indicator, item: &str) -> bool {
        i.items.is_empty() || i.items.iter().any(|x| x == item)
    }

    /// What one indicator counts of a subject: (count, record ids, commitment ids).
    fn count(&self, i: &Indicator, facts: &SubjectFacts, as_of: NaiveDate) -> (u32, Vec<i64>, Vec<i64>) {
        let start = window_start(as_of, i.window_months);
        let mut records = Vec::new();
        let mut commitments = Vec::new();
        let mut years = 0;
        match i.source {
            Source::Records => records.extend(
                facts
                    .records
                    .iter()
                    .filter(|r| r.status == RecordStatus::Active && !self.lists.contains_key(&r.item))
                    .filter(|r| Self::matches_item(i, &r.item))
                    .filter(|r| i.severity.is_empty() || i.severity.contains(&r.severity))
                    .filter(|r| Self::in_window(r, start, as_of))
                    .map(|r| r.id),
            ),
            Source::Lists => records.extend(
                facts
                    .records
                    .iter()
                    .filter(|r| {
                        let kind = self.lists.get(&r.item).copied().unwrap_or(ListKind::None);
                        kind != ListKind::None
                            && (i.items.is_empty() || i.items.contains(&r.item))
                            && i.list_kind.is_none_or(|k| k == kind)
                    })
                    .filter(|r| {
                        r.status == RecordStatus::Active && r.date <= as_of && r.end_date.is_none_or(|e| e > as_of)
                    })
                    .map(|r| r.id),
            ),
            Source::Repaired => records.extend(
                facts
                    .records
                    .iter()
                    .filter(|r| r.status == RecordStatus::Repaired && Self::matches_item(i, &r.item))
                    .filter(|r| Self::in_window(r, start, as_of))
                    .map(|r| r.id),
            ),
            Source::CommitmentsKept | Source::CommitmentsBroken => {
                let wanted = if i.source == Source::CommitmentsKept { "fulfilled" } else { "breached" };
                // A breach whose dishonesty record was repaired, deleted or revoked no longer counts.
                let withdrawn = |record: Option<i64>| {
                    record
                        .is_some_and(|id| facts.records.iter().any(|r| r.id == id && r.status != RecordStatus::Active))
                };
                commitments.extend(
                    facts
                        .commitments
                        .iter()
                        .filter(|c| c.status == wanted && c.date <= as_of && start.is_none_or(|s| c.date > s))
                        .filter(|c| !withdrawn(c.record_id))
                        .map(|c| c.id),
                )
            }
            Source::YearsRegistered => {
                // The oldest registration record of the subject counts (a re-registration keeps its age).
                if let Some(r) = facts
                    .records
                    .iter()
                    .filter(|r| r.status == RecordStatus::Active && Self::matches_item(i, &r.item))
                    .min_by_key(|r| (r.date, r.id))
                {
                    years = full_years(r.date, as_of);
                    records.push(r.id);
                }
            }
        }
        let count = match i.source {
            Source::YearsRegistered => years,
            Source::CommitmentsKept | Source::CommitmentsBroken => u32::try_from(commitments.len()).unwrap_or(u32::MAX),
            _ => u32::try_from(records.len()).unwrap_or(u32::MAX),
        };
        (count, records, commitments)
    }

    /// Scores one subject as of a day.
    pub fn score(&self, facts: &SubjectFacts, as_of: NaiveDate) -> Scored {
        let Some(kind) = self.model.kind(facts.kind) else {
            // Every kind has a model (checked when loading); an unknown kind scores the scale's middle.
            let mid = (self.model.min + self.model.max) / 2;
            return Scored {
                score: mid,
                grade: self.model.grade_of(mid).grade.clone(),
                band: None,
                base: f64::from(mid),
                indicators: Vec::new(),
            };
        };
        let mut total = kind.base;
        let mut ceiling: Option<usize> = None;
        let mut indicators = Vec::new();
        for i in &kind.indicators {
            let (count, records, commitments) = self.count(i, facts, as_of);
            if count == 0 {
                continue;
            }
            let raw = i.points * f64::from(count);
            let points = match i.cap {
                Some(cap) if raw.abs() > cap => raw.signum() * cap,
                _ => raw,
            };
            total += points;
            if let Some(g) = &i.grade_ceiling
                && let Some(rank) = self.model.rank(g)
            {
                ceiling = Some(ceiling.map_or(rank, |c| c.max(rank)));
            }
            indicators.push(Contribution {
                indicator: i.id.clone(),
                label: i.label.clone(),
                count,
                points,
                capped: points != raw,
                records,
                commitments,
                grade_ceiling: i.grade_ceiling.clone(),
            });
        }
        let score = (total.round() as i32).clamp(self.model.min, self.model.max);
        let band = self.model.grade_of(score);
        let band_rank = self.model.rank(&band.grade).unwrap_or(0);
        let (grade, lowered) = match ceiling {
            Some(c) if c > band_rank => (self.model.grades.get(c).unwrap_or(band).grade.clone(), true),
            _ => (band.grade.clone(), false),
        };
        Scored { score, grade, band: lowered.then(|| band.grade.clone()), base: kind.base, indicators }
    }
}

#[cfg(test)]
mod tests {
    use xinyong_domain::catalog::Severity;
    use xinyong_domain::subject::SubjectKind;
    use xinyong_store::evaluation::FactCommitment;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn rec(id: i64, item: &str, date: NaiveDate, severity: Severity) -> FactRecord {
        FactRecord { id, item: item.into(), status: RecordStatus::Active, date, end_date: None, severity }
    }

    fn evaluator() -> Evaluator {
        let model = Model::default_model().unwrap_or_else(|e| panic!("{e}"));
        let catalog = Catalog::default_catalog().unwrap_or_else(|e| panic!("{e}"));
        Evaluator::new(model, &catalog)
    }

    /// A company registered 2019-03-01 with two licences, one general penalty, one serious penalty
    /// outside the window, a fulfilled commitment, scored on 2026-05-06:
    /// 700 + 7 years × 10 + 2 × 15 − 40 + 10 = 770 → B 良好.
    #[test]
    fn a_company_scores_as_computed_by_hand() {
        let facts = SubjectFacts {
            id: 1,
            kind: SubjectKind::LegalPerson,
            records: vec![
                rec(10, "legal_person_registration", d(2019, 3, 1), Severity::None),
                rec(11, "admin_license", d(2024, 1, 5), Severity::None),
                rec(12, "admin_license", d(2025, 6, 1), Severity::None),
                rec(13, "admin_penalty", d(2025, 11, 20), Severity::General),
                rec(14, "admin_penalty", d(2022, 1, 1), Severity::Serious),
            ],
            commitments: vec![FactCommitment {
                id: 3,
                status: "fulfilled".into(),
                date: d(2026, 2, 1),
                record_id: None,
            }],
            current: None,
        };
        let s = evaluator().score(&facts, d(2026, 5, 6));
        assert_eq!((s.score, s.grade.as_str()), (770, "B"));
        let moved: Vec<(&str, f64, Vec<i64>)> =
            s.indicators.iter().map(|c| (c.indicator.as_str(), c.points, c.records.clone())).collect();
        assert_eq!(
            moved,
            [
                ("years_registered", 70.0, vec![10]),
                ("licences", 30.0, vec![11, 12]),
                ("commitments_kept", 10.0, vec![]),
                ("penalty_general", -40.0, vec![13]),
            ]
        );
        assert_eq!(s.indicators[2].commitments, [3]);
    }

    #[test]
    fn a_punishment_list_caps_the_grade_and_caps_bound_the_points() {
        let mut records = vec![rec(20, "list_dishonest_debtor", d(2026, 1, 1), Severity::Serious)];
        for n in 0..5 {
            records.push(rec(30 + n, "admin_penalty", d(2026, 3, 1), Severity::Serious));
        }
        let facts =
            SubjectFacts { id: 2, kind: SubjectKind::NaturalPerson, records, commitments: vec![], current: None };
        let s = evaluator().score(&facts, d(2026, 5, 6));
        // 750 − 250 − min(5 × 120, 360) = 140 → D.
        assert_eq!((s.score, s.grade.as_str()), (140, "D"));
        assert!(s.indicators.iter().any(|c| c.indicator == "penalty_serious" && c.capped && c.points == -360.0));
        // An ended entry no longer counts; a reward list lifts a clean company with a ceiling nowhere.
        let mut ended = rec(21, "list_dishonest_debtor", d(2025, 1, 1), Severity::Serious);
        ended.end_date = Some(d(2026, 1, 1));
        let facts = SubjectFacts {
            id: 3,
            kind: SubjectKind::NaturalPerson,
            records: vec![ended],
            commitments: vec![],
            current: None,
        };
        assert_eq!(evaluator().score(&facts, d(2026, 5, 6)).score, 750);
    }

    #[test]
    fn a_ceiling_lowers_the_grade_but_not_the_score() {
        let records = vec![
            rec(1, "legal_person_registration", d(2000, 1, 1), Severity::None),
            rec(2, "list_tax_a", d(2025, 1, 1), Severity::None),
            rec(3, "list_tax_a", d(2025, 2, 1), Severity::None),
            rec(4, "list_customs_advanced", d(2025, 2, 1), Severity::None),
            rec(5, "list_wage_arrears", d(2026, 1, 1), Severity::Serious),
        ];
        let facts = SubjectFacts { id: 4, kind: SubjectKind::LegalPerson, records, commitments: vec![], current: None };
        let s = evaluator().score(&facts, d(2026, 5, 6));
        // 700 + 100 + 160 (3 × 80 capped) − 250 = 710 → band B, ceiling D.
        assert_eq!((s.score, s.grade.as_str(), s.band.as_deref()), (710, "D", Some("B")));
    }

    #[test]
    fn full_years_count_whole_anniversaries() {
        assert_eq!(full_years(d(2019, 5, 7), d(2026, 5, 6)), 6);
        assert_eq!(full_years(d(2019, 5, 6), d(2026, 5, 6)), 7);
        assert_eq!(full_years(d(2027, 1, 1), d(2026, 5, 6)), 0);
    }
}

//! Evaluation models as data: a TOML file (the default is `data/evaluation/default.toml`, its rationale in
//! `data/evaluation/README.md`) parsed once into a checked [`Model`]. Any problem is a [`ModelError`]
//! with the line of the file it is on and the reason, e.g. `line 41: indicator penalty_serious:
//! points must be a finite, non-zero number`.
//!
//! Shape of a model:
//! ```toml
//! version = "2026.1"             # kept with every score
//! name = "…"
//! [scale]  min = 0, max = 1000
//! [[grades]] grade = "A", label = "优秀", min = 800       # every score falls in one band
//! [supervision] A = 0.02, …                              # default inspection ratios per grade
//! [[kinds]] kind = "legal_person", base = 700            # one model per subject kind
//! [[kinds.indicators]] id, label, source, points, cap, window_months, items, severity, list_kind, grade_ceiling
//! ```
//! Sources: `records` (active records of `items` / `severity` dated within the window), `lists` (list
//! entries in force, by `items` or `list_kind`), `repaired` (records repaired within the window),
//! `commitments_kept` / `commitments_broken` (settled within the window), `years_registered` (full years
//! since the registration record's date). An indicator adds `points` per count, bounded by `cap` in
//! absolute value; `grade_ceiling` makes the grade no better than the one named while the indicator fires.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use toml::Spanned;
use xinyong_domain::catalog::{Catalog, ListKind, Severity};
use xinyong_domain::subject::SubjectKind;

pub const DEFAULT_MODEL_TOML: &str = include_str!("../../../data/evaluation/default.toml");

/// A model file that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ModelError {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Records,
    Lists,
    Repaired,
    CommitmentsKept,
    CommitmentsBroken,
    YearsRegistered,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: Spanned<String>,
    name: String,
    scale: Spanned<Scale>,
    grades: Vec<Spanned<GradeBand>>,
    #[serde(default)]
    supervision: Option<Spanned<BTreeMap<String, f64>>>,
    kinds: Vec<Spanned<KindEntry>>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    pub min: i32,
    pub max: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeBand {
    pub grade: String,
    pub label: String,
    /// The lowest score of the band.
    pub min: i32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KindEntry {
    kind: String,
    base: f64,
    #[serde(default)]
    indicators: Vec<Spanned<IndicatorEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorEntry {
    id: String,
    label: String,
    source: Source,
    points: f64,
    #[serde(default)]
    cap: Option<f64>,
    #[serde(default)]
    window_months: Option<u32>,
    #[serde(default)]
    items: Vec<String>,
    #[serde(default)]
    severity: Vec<Severity>,
    #[serde(default)]
    list_kind: Option<ListKind>,
    #[serde(default)]
    grade_ceiling: Option<String>,
}

/// One indicator of a kind's model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    pub id: String,
    pub label: String,
    pub source: Source,
    /// Points per count (negative: lowers the score).
    pub points: f64,
    /// The indicator moves the score by at most this much either way.
    pub cap: Option<f64>,
    pub window_months: Option<u32>,
    pub items: Vec<String>,
    pub severity: Vec<Severity>,
    pub list_kind: Option<ListKind>,
    pub grade_ceiling: Option<String>,
    /// The line of the model file the indicator starts on (for messages about it later).
    #[serde(skip)]
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindModel {
    pub kind: SubjectKind,
    pub base: f64,
    pub indicators: Vec<Indicator>,
}

/// A checked model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Model {
    pub version: String,
    pub name: String,
    pub min: i32,
    pub max: i32,
    /// Highest band first.
    pub grades: Vec<GradeBand>,
    /// Default inspection ratio per grade (graded supervision).
    pub supervision: BTreeMap<String, f64>,
    pub kinds: Vec<KindModel>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |before| before.matches('\n').count() + 1)
}

impl Model {
    pub fn default_model() -> Result<Model, ModelError> {
        Model::from_toml(DEFAULT_MODEL_TOML)
    }

    pub fn from_toml(text: &str) -> Result<Model, ModelError> {
        let file: File = toml::from_str(text).map_err(|e| ModelError {
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            reason: e.message().trim().to_owned(),
        })?;
        let at = |span: std::ops::Range<usize>, reason: String| ModelError { line: line_of(text, span.start), reason };

        let version = file.version.get_ref().trim().to_owned();
        if version.is_empty() {
            return Err(at(file.version.span(), "version must not be empty: every score keeps it".into()));
        }
        let scale = *file.scale.get_ref();
        if scale.min >= scale.max {
            return Err(at(file.scale.span(), format!("scale: min {} must be below max {}", scale.min, scale.max)));
        }

        let mut grades: Vec<GradeBand> = Vec::new();
        for g in &file.grades {
            let band = g.get_ref();
            if band.grade.trim().is_empty() || band.label.trim().is_empty() {
                return Err(at(g.span(), "a grade band needs a grade and a label".into()));
            }
            if grades.iter().any(|x| x.grade == band.grade) {
                return Err(at(g.span(), format!("grade {} is defined twice", band.grade)));
            }
            if grades.iter().any(|x| x.min == band.min) {
                return Err(at(g.span(), format!("grade {}: another band starts at {} too", band.grade, band.min)));
            }
            if band.min < scale.min || band.min > scale.max {
                return Err(at(
                    g.span(),
                    format!(
                        "grade {}: min {} lies outside the scale {}–{}",
                        band.grade, band.min, scale.min, scale.max
                    ),
                ));
            }
            grades.push(band.clone());
        }
        grades.sort_by_key(|g| std::cmp::Reverse(g.min));
        if grades.last().is_none_or(|g| g.min != scale.min) {
            return Err(ModelError {
                line: 1,
                reason: format!(
                    "grades: the lowest band must start at the scale's min {}, or some scores get no grade",
                    scale.min
                ),
            });
        }
        let known = |g: &str| grades.iter().any(|x| x.grade == g);

        let mut supervision = BTreeMap::new();
        if let Some(s) = &file.supervision {
            for (grade, ratio) in s.get_ref() {
                if !known(grade) {
                    return Err(at(s.span(), format!("supervision: {grade} is not a grade of this model")));
                }
                if !ratio.is_finite() || !(0.0..=1.0).contains(ratio) {
                    return Err(at(s.span(), format!("supervision: the ratio of {grade} must lie in 0–1")));
                }
                supervision.insert(grade.clone(), *ratio);
            }
        }

        let mut kinds: Vec<KindModel> = Vec::new();
        for k in &file.kinds {
            let entry = k.get_ref();
            let kind = SubjectKind::parse(&entry.kind).ok_or_else(|| {
                at(
                    k.span(),
                    format!(
                        "{:?} is not a subject kind (legal_person, individual_business, natural_person)",
                        entry.kind
                    ),
                )
            })?;
            if kinds.iter().any(|x| x.kind == kind) {
                return Err(at(k.span(), format!("kind {} has two models", kind.as_str())));
            }
            if !entry.base.is_finite() || entry.base < f64::from(scale.min) || entry.base > f64::from(scale.max) {
                return Err(at(k.span(), format!("kind {}: base must lie within the scale", kind.as_str())));
            }
            let mut ids = HashSet::new();
            let mut indicators = Vec::new();
            for i in &entry.indicators {
                let line = line_of(text, i.span().start);
                let e = i.get_ref();
                let bad = |reason: String| ModelError { line, reason: format!("indicator {}: {reason}", e.id) };
                if e.id.trim().is_empty() || e.label.trim().is_empty() {
                    return Err(ModelError { line, reason: "an indicator needs an id and a label".into() });
                }
                if !ids.insert(e.id.clone()) {
                    return Err(bad(format!("the id is used twice in the {} model", kind.as_str())));
                }
                if !e.points.is_finite() || e.points == 0.0 {
                    return Err(bad("points must be a finite, non-zero number".into()));
                }
                if e.cap.is_some_and(|c| !c.is_finite() || c <= 0.0) {
                    return Err(bad("cap must be a positive number (the most the indicator moves the score)".into()));
                }
                if e.window_months == Some(0) {
                    return Err(bad("window_months must be at least 1 (leave it out for no window)".into()));
                }
                if e.source == Source::Lists && e.items.is_empty() && e.list_kind.is_none() {
                    return Err(bad("a lists indicator names its lists (items) or a list_kind".into()));
                }
                if e.source == Source::Records && e.items.is_empty() && e.severity.is_empty() {
                    return Err(
                        bad("a records indicator names items or severities (else it counts everything)".into()),
                    );
                }
                if e.list_kind.is_some() && e.source != Source::Lists {
                    return Err(bad("list_kind applies to lists indicators only".into()));
                }
                if let Some(g) = &e.grade_ceiling
                    && !known(g)
                {
                    return Err(bad(format!("grade_ceiling {g} is not a grade of this model")));
                }
                indicators.push(Indicator {
                    id: e.id.clone(),
                    label: e.label.clone(),
                    source: e.source,
                    points: e.points,
                    cap: e.cap,
                    window_months: e.window_months,
                    items: e.items.clone(),
                    severity: e.severity.clone(),
                    list_kind: e.list_kind,
                    grade_ceiling: e.grade_ceiling.clone(),
                    line,
                });
            }
            kinds.push(KindModel { kind, base: entry.base, indicators });
        }
        for kind in [SubjectKind::LegalPerson, SubjectKind::IndividualBusiness, SubjectKind::NaturalPerson] {
            if !kinds.iter().any(|k| k.kind == kind) {
                return Err(ModelError { line: 1, reason: format!("no model for the kind {}", kind.as_str()) });
            }
        }
        Ok(Model { version, name: file.name, min: scale.min, max: scale.max, grades, supervision, kinds })
    }

    /// Checks the items an indicator names against a catalog (an unknown item would silently count 0).
    pub fn check_against(&self, catalog: &Catalog) -> Result<(), ModelError> {
        for k in &self.kinds {
            for i in &k.indicators {
                for item in &i.items {
                    let Some(def) = catalog.item(item) else {
                        return Err(ModelError {
                            line: i.line,
                            reason: format!("indicator {}: item {item} is not in the catalog", i.id),
                        });
                    };
                    if i.source == Source::Lists && def.list_kind == ListKind::None {
                        return Err(ModelError {
                            line: i.line,
                            reason: format!("indicator {}: item {item} is not a list", i.id),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    pub fn kind(&self, kind: SubjectKind) -> Option<&KindModel> {
        self.kinds.iter().find(|k| k.kind == kind)
    }

    /// The band a score falls in.
    pub fn grade_of(&self, score: i32) -> &GradeBand {
        // Bands are sorted highest first and the last starts at the scale's min (checked when loading).
        self.grades.iter().find(|g| score >= g.min).unwrap_or_else(|| &self.grades[self.grades.len() - 1])
    }

    /// The position of a grade, best first (`None`: not a grade of this model).
    pub fn rank(&self, grade: &str) -> Option<usize> {
        self.grades.iter().position(|g| g.grade == grade)
    }

    pub fn label(&self, grade: &str) -> Option<&str> {
        self.grades.iter().find(|g| g.grade == grade).map(|g| g.label.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_model_loads_and_fits_the_default_catalog() {
        let model = Model::default_model().unwrap_or_else(|e| panic!("{e}"));
        let catalog = Catalog::default_catalog().unwrap_or_else(|e| panic!("{e}"));
        model.check_against(&catalog).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(model.grades.iter().map(|g| g.grade.as_str()).collect::<Vec<_>>(), ["A", "B", "C", "D"]);
        assert_eq!(model.grade_of(1000).label, "优秀");
        assert_eq!(model.grade_of(0).grade, "D");
    }

    fn broken(from: &str, to: &str) -> ModelError {
        assert!(DEFAULT_MODEL_TOML.contains(from), "{from}");
        let text = DEFAULT_MODEL_TOML.replacen(from, to, 1);
        match Model::from_toml(&text) {
            Ok(_) => panic!("{to} was accepted"),
            Err(e) => e,
        }
    }

    fn line_containing(needle: &str) -> usize {
        DEFAULT_MODEL_TOML.lines().position(|l| l.contains(needle)).map_or(0, |i| i + 1)
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let e = broken("name = ", "name = = ");
        assert_eq!(e.line, line_containing("name = "));
    }

    #[test]
    fn an_unknown_source_names_its_line_and_the_choices() {
        let e = broken("source = \"repaired\"", "source = \"rumours\"");
        assert_eq!(e.line, line_containing("source = \"repaired\""));
        assert!(e.reason.contains("rumours"), "{e}");
    }

    #[test]
    fn zero_points_are_rejected_at_the_indicator() {
        let e = broken("id = \"penalty_serious\"", "id = \"penalty_serious\"\npoints_x = 1");
        assert!(e.reason.contains("points_x"), "{e}");
        let e = broken("points = -120", "points = 0");
        assert!(e.reason.contains("points must be a finite, non-zero number"), "{e}");
        assert_eq!(e.to_string(), format!("line {}: {}", e.line, e.reason));
        // The indicator's table header is the line reported.
        let id_line = line_containing("points = -120");
        assert!(e.line < id_line && e.line + 8 > id_line, "{e}");
    }

    #[test]
    fn grades_must_cover_the_scale_and_ceilings_must_exist() {
        let e = broken("min = 0\n", "min = 100\n");
        assert!(e.reason.contains("outside the scale"), "{e}");
        let e = broken("min = 0\n\n", "min = 10\n\n");
        assert!(e.reason.contains("lowest band"), "{e}");
        let e = broken("grade_ceiling = \"D\"", "grade_ceiling = \"E\"");
        assert!(e.reason.contains("grade_ceiling E"), "{e}");
    }
}

//! Evaluation scores (公共信用综合评价) and inspection draws (分级分类监管) as the store keeps them.
//! How a score is computed is `xinyong-evaluate`; the store hands it the facts of subjects in bulk,
//! keeps every score that changed (append-only history, with model version and time), the current
//! score per subject, one row per run with the grade distribution after it, and inspection plans.
//!
//! The current score of a subject is [`EvaluationStore::latest_evaluation`]: that is what profiles and
//! reports show.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use xinyong_domain::catalog::Severity;
use xinyong_domain::record::RecordStatus;
use xinyong_domain::subject::SubjectKind;

use crate::{Result, Timestamp};

/// What a score looks at of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactRecord {
    pub id: i64,
    pub item: String,
    pub status: RecordStatus,
    pub date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub severity: Severity,
}

/// What a score looks at of one commitment: its status and the day it was settled (or filed, while
/// pending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactCommitment {
    pub id: i64,
    pub status: String,
    pub date: NaiveDate,
    /// The dishonesty record a breach created (its status tells whether the breach was repaired).
    pub record_id: Option<i64>,
}

/// The current score of a subject, to tell whether a new one differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentScore {
    pub score: i32,
    pub grade: String,
    pub model: String,
    /// A hash of the explanation: a change in the records that moved the score is a change too.
    pub fingerprint: i64,
}

/// Everything a model needs of one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectFacts {
    pub id: i64,
    pub kind: SubjectKind,
    /// Linked records, every status (a model decides what counts).
    pub records: Vec<FactRecord>,
    pub commitments: Vec<FactCommitment>,
    pub current: Option<CurrentScore>,
}

/// A score to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvaluation {
    pub subject_id: i64,
    pub score: i32,
    pub grade: String,
    /// Which indicators and records moved the score (a JSON array).
    pub explanation: serde_json::Value,
    pub fingerprint: i64,
}

/// A kept score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub id: i64,
    pub subject_id: i64,
    pub run_id: i64,
    pub score: i32,
    pub grade: String,
    /// The model's version.
    pub model: String,
    pub at: Timestamp,
    pub explanation: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// `xinyong evaluate`: every subject.
    Full,
    /// After a batch or a workflow step: the subjects it touched.
    Incremental,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Full => "full",
            RunKind::Incremental => "incremental",
        }
    }

    pub fn parse(s: &str) -> Option<RunKind> {
        match s {
            "full" => Some(RunKind::Full),
            "incremental" => Some(RunKind::Incremental),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    pub kind: RunKind,
    pub model: String,
    /// The model file's text: a full run makes it the platform's active model.
    pub model_text: String,
    /// What caused an incremental run (`batch b-…`, `repair 12` …).
    pub cause: String,
    pub at: Timestamp,
}

/// One evaluation run and the grade distribution of every subject's current score after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvaluationRun {
    pub id: i64,
    pub kind: RunKind,
    pub model: String,
    pub cause: String,
    pub at: Timestamp,
    /// Subjects evaluated.
    pub subjects: u64,
    /// Of them, those whose score, grade or explanation changed (a new history entry each).
    pub changed: u64,
    pub grades: BTreeMap<String, u64>,
}

/// Whom an inspection plan draws from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Population {
    /// Every evaluated subject.
    All,
    /// Subjects with a record supplied by this unit (the unit's supervised population).
    Unit(String),
    /// Subjects with a record of this catalog item.
    Item(String),
    /// Subjects whose registration names this district (`所属区`).
    District(String),
}

/// A stored inspection plan: its definition, seed, population and draw, as one JSON document
/// (`xinyong_evaluate::supervision::Plan`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inspection {
    pub id: i64,
    pub created_by: i64,
    pub created_at: Timestamp,
    pub plan: serde_json::Value,
}

pub trait EvaluationStore {
    /// The facts of these subjects (all subjects when `None`), in ascending id order, handed to `each`
    /// in chunks of about `chunk` subjects. Unknown ids are skipped.
    fn evaluation_facts(
        &self,
        subjects: Option<&[i64]>,
        chunk: usize,
        each: &mut dyn FnMut(Vec<SubjectFacts>) -> Result<()>,
    ) -> Result<()>;

    /// Starts a run; its scores follow with [`EvaluationStore::save_evaluations`].
    fn begin_evaluation_run(&self, run: &NewRun) -> Result<i64>;

    /// Starts a full run unless a full run began at or after `since` (finished or not): the once-a-day
    /// claim of the daily run. The check and the start are one step for every server sharing the store,
    /// so of two servers that check at the same instant one starts the run and the other gets nothing.
    /// A `run` that is not full is refused as invalid.
    fn claim_full_run(&self, run: &NewRun, since: Timestamp) -> Result<Option<i64>>;

    /// Keeps scores of a run: each becomes a history entry and the subject's current score. A subject
    /// whose current score came from a run begun after this one is left alone: that run read the
    /// subject's facts later (a full run overlapping a batch must not put back the score from before
    /// the batch).
    fn save_evaluations(&self, run_id: i64, evaluations: &[NewEvaluation]) -> Result<()>;

    /// Ends a run: counts the grades of every subject's current score.
    fn finish_evaluation_run(&self, run_id: i64, subjects: u64, changed: u64) -> Result<EvaluationRun>;

    /// The current score of a subject (the newest kept), for profiles and reports.
    fn latest_evaluation(&self, subject_id: i64) -> Result<Option<Evaluation>>;

    /// Every score kept for a subject, newest first.
    fn evaluation_history(&self, subject_id: i64) -> Result<Vec<Evaluation>>;

    /// Finished runs, newest first.
    fn evaluation_runs(&self, limit: u32) -> Result<Vec<EvaluationRun>>;

    /// The model text of the newest full run: what incremental runs use.
    fn active_model(&self) -> Result<Option<String>>;

    /// When the newest full run began, finished or not (the daily run starts once a day).
    fn latest_full_run_at(&self) -> Result<Option<Timestamp>>;

    /// The current grade of every evaluated subject of a population, by ascending subject id.
    fn graded_population(&self, population: &Population) -> Result<Vec<(i64, String)>>;

    fn save_inspection(&self, plan: &serde_json::Value, created_by: i64, at: Timestamp) -> Result<Inspection>;

    fn inspection(&self, id: i64) -> Result<Option<Inspection>>;

    /// Plans, newest first.
    fn inspections(&self, limit: u32) -> Result<Vec<Inspection>>;
}

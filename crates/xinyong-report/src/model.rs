//! The report as data: what every format renders, and what the JSON format is (its canonical form).
//!
//! A [`Report`] is complete and already safe to show: the server decided which records it may hold
//! and masked personal data before handing them to [`crate::build`]. Renderers only lay it out.
//! Field order here is the order of the canonical JSON (serde_json writes struct fields in order).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use xinyong_store::Timestamp;

/// What an empty section says (the national report standard's wording).
pub const EMPTY_TEXT: &str = "查询期内无相关信息";

/// Version of the report layout in JSON; readers refuse versions they do not know.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// 公共信用信息报告: every section of DOMAIN.md §8.
    Standard,
    /// 专用信用报告: chosen domains and a period, a verdict per domain (replaces certificates of no
    /// illegal record).
    Special,
}

impl ReportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Standard => "standard",
            ReportKind::Special => "special",
        }
    }

    pub fn parse(s: &str) -> Option<ReportKind> {
        match s.trim() {
            "standard" | "标准" | "公共信用信息报告" => Some(ReportKind::Standard),
            "special" | "专用" | "专用信用报告" => Some(ReportKind::Special),
            _ => None,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ReportKind::Standard => "公共信用信息报告",
            ReportKind::Special => "专用信用报告",
        }
    }
}

/// A credit report, complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub format_version: u32,
    pub number: String,
    pub kind: ReportKind,
    pub title: String,
    /// e.g. （法人和非法人组织版） / （自然人版） / （替代有无违法违规记录证明）
    pub subtitle: String,
    /// The issuing platform (出具机构).
    pub platform: String,
    pub issued_at: Timestamp,
    /// Who asked for it (报告使用人 / 查询机构).
    pub issued_to: String,
    /// 查询用途, as its Chinese name.
    pub purpose: String,
    /// The verification page the QR code points to.
    pub verify_url: String,
    pub subject: ReportSubject,
    /// The period a special report covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    pub sections: Vec<Section>,
    /// Per-domain verdicts of a special report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verdicts: Vec<Verdict>,
    /// 说明: what the report is and how to verify it.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSubject {
    /// `legal_person`, `individual_business` or `natural_person`.
    pub kind: String,
    pub kind_label: String,
    pub name: String,
    /// 统一社会信用代码 or 居民身份证号码.
    pub identifier_label: String,
    /// As the issuing caller may see it (a resident ID masked unless the role allows).
    pub identifier: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// One section; with no entries it reads [`EMPTY_TEXT`] (also carried in `text`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub key: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub entries: Vec<Entry>,
}

/// One record (or one line such as the evaluation or a piece of advice) in a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The item's name or the document number.
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// An objection is open on this record (异议中).
    #[serde(default)]
    pub disputed: bool,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub label: String,
    pub value: String,
}

impl Field {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Field {
        Field { label: label.into(), value: value.into() }
    }
}

/// A special report's verdict on one domain (or one cross-domain check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub domain: String,
    pub name: String,
    /// Whether any record was found.
    pub found: bool,
    /// The plain sentence (未发现… / 发现…).
    pub conclusion: String,
    pub entries: Vec<Entry>,
}

/// The subject's public credit evaluation, when one exists (the evaluation engine fills it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub score: f64,
    pub grade: String,
    pub model: String,
}

impl Report {
    /// The canonical JSON body: compact, fields in declaration order. This exact text is what the
    /// JSON format carries and signs.
    pub fn canonical_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    pub fn from_json(text: &str) -> Result<Report, serde_json::Error> {
        serde_json::from_str(text)
    }
}

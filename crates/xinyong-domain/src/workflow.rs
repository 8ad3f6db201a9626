//! The subject's rights and the centre's duties as state machines with statutory deadlines
//! (DOMAIN.md §5): objections (异议, Shanghai Social Credit Regulations art. 36), credit repair (信用修复)
//! and revocation (art. 37). Pure: the caller passes today, the calendar and who is acting; the
//! functions answer the next state and its deadline, or why the step is not allowed.
//!
//! | step | deadline | source |
//! |---|---|---|
//! | objection filed → annotated as disputed and accepted or rejected | 1 working day | art. 36 |
//! | accepted → forwarded to the supplying unit (when the centre cannot decide) | 2 working days | art. 36 |
//! | accepted → decided by the centre | 5 working days | art. 36 |
//! | forwarded → decided by the unit | 5 working days from receipt | art. 36 |
//! | repair applied → approved or refused | 10 working days *(default)* | NDRC Order 58 (2023) art. 12 |
//! | decision revoked → record deleted from every output | 3 working days | art. 37 |
//!
//! The numbers live in [`Deadlines`] so a deployment can change them (the repair default especially).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, Deadline};

/// Working days per step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadlines {
    pub objection_annotate: u32,
    pub objection_forward: u32,
    pub objection_centre_decide: u32,
    pub objection_unit_decide: u32,
    pub repair_decide: u32,
    pub revocation_delete: u32,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            objection_annotate: 1,
            objection_forward: 2,
            objection_centre_decide: 5,
            objection_unit_decide: 5,
            repair_decide: 10,
            revocation_delete: 3,
        }
    }
}

/// The calendar and the step lengths that deadlines are counted with.
#[derive(Debug, Clone, Copy)]
pub struct Schedule<'a> {
    pub calendar: &'a Calendar,
    pub deadlines: &'a Deadlines,
}

/// Who takes a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The credit centre (an admin account).
    Centre,
    /// The unit that supplied the record.
    Unit,
    /// The subject the record is about.
    Subject,
}

/// Why a step is refused: `Forbidden` is about who asks (403), `NotAllowed` about the state (409),
/// `Invalid` about what was sent (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    Invalid(String),
}

// ---------------------------------------------------------------------------------------------------
// Objections

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionStatus {
    /// Filed; the record shows as disputed at once.
    Submitted,
    /// Accepted by the centre, which decides or forwards.
    Accepted,
    /// With the supplying unit.
    Forwarded,
    Decided,
    /// Not accepted (with reasons).
    Rejected,
}

impl ObjectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectionStatus::Submitted => "submitted",
            ObjectionStatus::Accepted => "accepted",
            ObjectionStatus::Forwarded => "forwarded",
            ObjectionStatus::Decided => "decided",
            ObjectionStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<ObjectionStatus> {
        [Self::Submitted, Self::Accepted, Self::Forwarded, Self::Decided, Self::Rejected]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// While open, the record is marked disputed.
    pub fn is_open(self) -> bool {
        matches!(self, ObjectionStatus::Submitted | ObjectionStatus::Accepted | ObjectionStatus::Forwarded)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionAction {
    Accept,
    Reject,
    Forward,
    Decide,
}

impl ObjectionAction {
    pub fn parse(s: &str) -> Option<ObjectionAction> {
        match s {
            "accept" => Some(ObjectionAction::Accept),
            "reject" => Some(ObjectionAction::Reject),
            "forward" => Some(ObjectionAction::Forward),
            "decide" => Some(ObjectionAction::Decide),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ObjectionAction::Accept => "accept",
            ObjectionAction::Reject => "reject",
            ObjectionAction::Forward => "forward",
            ObjectionAction::Decide => "decide",
        }
    }
}

/// How an objection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The record was wrong: a new version with the corrected fields.
    Corrected,
    /// The record should not exist: deleted from every output.
    Deleted,
    /// The record stands (with reasons); the disputed mark goes.
    Upheld,
}

impl Outcome {
    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "corrected" => Some(Outcome::Corrected),
            "deleted" => Some(Outcome::Deleted),
            "upheld" => Some(Outcome::Upheld),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Corrected => "corrected",
            Outcome::Deleted => "deleted",
            Outcome::Upheld => "upheld",
        }
    }
}

/// A step's result: the new status and the deadline of the step that follows (`None`: closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step<S> {
    pub status: S,
    pub deadline: Option<Deadline>,
}

/// A new objection: submitted, due for acceptance within a working day.
pub fn file_objection(filed_on: NaiveDate, sch: &Schedule<'_>) -> Step<ObjectionStatus> {
    Step {
        status: ObjectionStatus::Submitted,
        deadline: Some(sch.calendar.add_working_days(filed_on, sch.deadlines.objection_annotate)),
    }
}

/// The centre may forward an accepted objection this late (reported beside the decision deadline).
pub fn objection_forward_by(accepted_on: NaiveDate, sch: &Schedule<'_>) -> Deadline {
    sch.calendar.add_working_days(accepted_on, sch.deadlines.objection_forward)
}

/// One step of an objection. `note` is required to reject or to decide `upheld` (reasons are owed);
/// `outcome` is required to decide.
pub fn objection_step(
    status: ObjectionStatus,
    action: ObjectionAction,
    actor: Actor,
    outcome: Option<Outcome>,
    note: Option<&str>,
    today: NaiveDate,
    sch: &Schedule<'_>,
) -> Result<Step<ObjectionStatus>, StepError> {
    use ObjectionAction as A;
    use ObjectionStatus as S;
    let centre_only = |what: &str| {
        if actor == Actor::Centre {
            Ok(())
        } else {
            Err(StepError::Forbidden(format!("only the credit centre may {what} an objection")))
        }
    };
    let has_note = note.is_some_and(|n| !n.trim().is_empty());
    let next = match (status, action) {
        (S::Submitted, A::Accept) => {
            centre_only("accept")?;
            Step {
                status: S::Accepted,
                deadline: Some(sch.calendar.add_working_days(today, sch.deadlines.objection_centre_decide)),
            }
        }
        (S::Submitted, A::Reject) => {
            centre_only("reject")?;
            if !has_note {
                return Err(StepError::Invalid("rejecting an objection needs a note with the reasons".into()));
            }
            Step { status: S::Rejected, deadline: None }
        }
        (S::Accepted, A::Forward) => {
            centre_only("forward")?;
            Step {
                status: S::Forwarded,
                deadline: Some(sch.calendar.add_working_days(today, sch.deadlines.objection_unit_decide)),
            }
        }
        (S::Accepted, A::Decide) => {
            centre_only("decide (before forwarding)")?;
            decided(outcome, has_note)?
        }
        (S::Forwarded, A::Decide) => {
            if actor == Actor::Subject {
                return Err(StepError::Forbidden("the supplying unit or the centre decides an objection".into()));
            }
            decided(outcome, has_note)?
        }
        (s, a) => {
            return Err(StepError::NotAllowed(format!(
                "{} is not allowed while the objection is {}",
                a.as_str(),
                s.as_str()
            )));
        }
    };
    Ok(next)
}

fn decided(outcome: Option<Outcome>, has_note: bool) -> Result<Step<ObjectionStatus>, StepError> {
    match outcome {
        None => Err(StepError::Invalid("decide needs an outcome: corrected, deleted or upheld".into())),
        Some(Outcome::Upheld) if !has_note => {
            Err(StepError::Invalid("upholding a record needs a note with the reasons".into()))
        }
        Some(_) => Ok(Step { status: ObjectionStatus::Decided, deadline: None }),
    }
}

// ---------------------------------------------------------------------------------------------------
// Credit repair

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairStatus {
    Submitted,
    Approved,
    Refused,
}

impl RepairStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RepairStatus::Submitted => "submitted",
            RepairStatus::Approved => "approved",
            RepairStatus::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<RepairStatus> {
        [Self::Submitted, Self::Approved, Self::Refused].into_iter().find(|x| x.as_str() == s)
    }

    pub fn is_open(self) -> bool {
        self == RepairStatus::Submitted
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairAction {
    Approve,
    Refuse,
}

impl RepairAction {
    pub fn parse(s: &str) -> Option<RepairAction> {
        match s {
            "approve" => Some(RepairAction::Approve),
            "refuse" => Some(RepairAction::Refuse),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RepairAction::Approve => "approve",
            RepairAction::Refuse => "refuse",
        }
    }
}

/// What repair eligibility looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairFacts {
    /// The record is dishonesty information (a penalty with a severity, or a punishment-list entry).
    pub dishonesty: bool,
    /// The record's status now (`active` …).
    pub status: crate::record::RecordStatus,
    /// Repair may end publication from this day on (the window's minimum), when the record has one.
    pub min_end: Option<NaiveDate>,
    /// The item or regime says this class cannot be repaired.
    pub repairable: bool,
    /// Evidence that the conduct was corrected and obligations (fines …) fulfilled was attached.
    pub evidence: bool,
    /// The subject signed a credit-repair commitment.
    pub commitment: bool,
    /// Another repair of this record is open.
    pub open_repair: bool,
}

/// Every reason the application cannot be accepted (empty: eligible).
pub fn repair_reasons(f: &RepairFacts, today: NaiveDate) -> Vec<String> {
    let mut reasons = Vec::new();
    if !f.dishonesty {
        reasons.push("the record is not dishonesty information: there is nothing to repair".to_owned());
    }
    if f.status != crate::record::RecordStatus::Active {
        reasons.push(format!("the record is {}, not active", f.status.as_str()));
    }
    if !f.repairable {
        reasons.push("this class of information cannot be repaired (policy data)".to_owned());
    }
    if let Some(min) = f.min_end
        && today < min
    {
        reasons.push(format!("the minimum disclosure period runs until {min}; repair may be applied for from then"));
    }
    if !f.evidence {
        reasons.push("evidence that the conduct was corrected and obligations fulfilled is required".to_owned());
    }
    if !f.commitment {
        reasons.push("a signed credit-repair commitment (信用修复承诺) is required".to_owned());
    }
    if f.open_repair {
        reasons.push("a repair application for this record is already open".to_owned());
    }
    reasons
}

/// A new repair application: submitted, due for decision within the repair deadline.
pub fn file_repair(filed_on: NaiveDate, sch: &Schedule<'_>) -> Step<RepairStatus> {
    Step {
        status: RepairStatus::Submitted,
        deadline: Some(sch.calendar.add_working_days(filed_on, sch.deadlines.repair_decide)),
    }
}

pub fn repair_step(
    status: RepairStatus,
    action: RepairAction,
    actor: Actor,
    note: Option<&str>,
) -> Result<Step<RepairStatus>, StepError> {
    if actor == Actor::Subject {
        return Err(StepError::Forbidden("the supplying unit or the centre decides a repair".into()));
    }
    if status != RepairStatus::Submitted {
        return Err(StepError::NotAllowed(format!(
            "{} is not allowed while the repair is {}",
            action.as_str(),
            status.as_str()
        )));
    }
    match action {
        RepairAction::Approve => Ok(Step { status: RepairStatus::Approved, deadline: None }),
        RepairAction::Refuse if note.is_some_and(|n| !n.trim().is_empty()) => {
            Ok(Step { status: RepairStatus::Refused, deadline: None })
        }
        RepairAction::Refuse => Err(StepError::Invalid("refusing a repair needs a note with the reasons".into())),
    }
}

// ---------------------------------------------------------------------------------------------------
// Revocation and the five-year limit

/// Why a decision was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationBasis {
    /// Revoked by the deciding authority itself.
    Authority,
    /// Annulled on administrative reconsideration (行政复议).
    Reconsideration,
    /// Annulled by a court (行政诉讼).
    Court,
}

impl RevocationBasis {
    pub fn parse(s: &str) -> Option<RevocationBasis> {
        match s {
            "authority" => Some(RevocationBasis::Authority),
            "reconsideration" => Some(RevocationBasis::Reconsideration),
            "court" => Some(RevocationBasis::Court),
            _ => None,
        }
    }
}

/// The record must be gone from every output by this day (art. 37) after the centre learnt of it.
pub fn revocation_deadline(notified_on: NaiveDate, sch: &Schedule<'_>) -> Deadline {
    sch.calendar.add_working_days(notified_on, sch.deadlines.revocation_delete)
}

/// Dishonesty information is provided for five years from the end of the conduct, then no longer
/// (art. 35): the first day it is no longer provided.
pub fn provided_until(conduct_end: NaiveDate) -> NaiveDate {
    conduct_end.checked_add_months(chrono::Months::new(60)).unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordStatus;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn cal() -> Calendar {
        Calendar::default_calendar().unwrap_or_else(|e| panic!("{e}"))
    }

    const DL: Deadlines = Deadlines {
        objection_annotate: 1,
        objection_forward: 2,
        objection_centre_decide: 5,
        objection_unit_decide: 5,
        repair_decide: 10,
        revocation_delete: 3,
    };

    fn step(
        s: ObjectionStatus,
        a: ObjectionAction,
        who: Actor,
        o: Option<Outcome>,
        note: Option<&str>,
        today: NaiveDate,
    ) -> Result<Step<ObjectionStatus>, StepError> {
        let c = cal();
        objection_step(s, a, who, o, note, today, &Schedule { calendar: &c, deadlines: &DL })
    }

    #[test]
    fn objection_deadlines_around_the_autumn_holidays_of_2026() {
        assert_eq!(Deadlines::default(), DL, "the statutory numbers of the module table");
        let c = cal();
        let sch = Schedule { calendar: &c, deadlines: &DL };
        // Filed Thursday 17 September: to be annotated and accepted by Friday the 18th.
        let filed = file_objection(d(2026, 9, 17), &sch);
        assert_eq!(filed.deadline.map(|x| x.date), Some(d(2026, 9, 18)));
        // Accepted Friday the 18th. Sunday the 20th is an adjusted working day: forward by the 21st,
        // decide by the 24th (20, 21, 22, 23, 24), before Mid-Autumn (25–27).
        let accepted =
            step(ObjectionStatus::Submitted, ObjectionAction::Accept, Actor::Centre, None, None, d(2026, 9, 18));
        let accepted = accepted.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(accepted.status, ObjectionStatus::Accepted);
        assert_eq!(accepted.deadline.map(|x| x.date), Some(d(2026, 9, 24)));
        assert_eq!(objection_forward_by(d(2026, 9, 18), &sch).date, d(2026, 9, 21));
        // Forwarded Wednesday 30 September, the last working day before National Day (1–7 off):
        // the unit decides by 8, 9, 10 (a working Saturday), 12, 13 October.
        let fwd = step(ObjectionStatus::Accepted, ObjectionAction::Forward, Actor::Centre, None, None, d(2026, 9, 30));
        assert_eq!(fwd.map(|s| s.deadline.map(|x| x.date)), Ok(Some(d(2026, 10, 13))));
    }

    #[test]
    fn a_friday_forward_before_the_spring_festival() {
        let fwd = step(ObjectionStatus::Accepted, ObjectionAction::Forward, Actor::Centre, None, None, d(2026, 2, 13));
        let fwd = fwd.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((fwd.status, fwd.deadline.map(|x| x.date)), (ObjectionStatus::Forwarded, Some(d(2026, 2, 27))));
    }

    #[test]
    fn illegal_objection_steps_are_refused_with_the_right_kind_of_error() {
        let today = d(2026, 5, 6);
        let s = |st, a, who, o, n| step(st, a, who, o, n, today);
        use ObjectionAction as A;
        use ObjectionStatus as S;
        assert!(matches!(
            s(S::Submitted, A::Decide, Actor::Centre, Some(Outcome::Deleted), None),
            Err(StepError::NotAllowed(_))
        ));
        assert!(matches!(s(S::Decided, A::Accept, Actor::Centre, None, None), Err(StepError::NotAllowed(_))));
        assert!(matches!(s(S::Rejected, A::Forward, Actor::Centre, None, None), Err(StepError::NotAllowed(_))));
        assert!(matches!(s(S::Submitted, A::Accept, Actor::Unit, None, None), Err(StepError::Forbidden(_))));
        assert!(matches!(
            s(S::Forwarded, A::Decide, Actor::Subject, Some(Outcome::Upheld), Some("x")),
            Err(StepError::Forbidden(_))
        ));
        assert!(matches!(s(S::Submitted, A::Reject, Actor::Centre, None, Some(" ")), Err(StepError::Invalid(_))));
        assert!(matches!(s(S::Forwarded, A::Decide, Actor::Unit, None, None), Err(StepError::Invalid(_))));
        assert!(matches!(
            s(S::Forwarded, A::Decide, Actor::Unit, Some(Outcome::Upheld), None),
            Err(StepError::Invalid(_))
        ));
        let ok = s(S::Forwarded, A::Decide, Actor::Unit, Some(Outcome::Upheld), Some("处罚事实清楚"));
        assert_eq!(ok, Ok(Step { status: S::Decided, deadline: None }));
        assert!(!S::Decided.is_open() && !S::Rejected.is_open() && S::Forwarded.is_open());
    }

    fn facts() -> RepairFacts {
        RepairFacts {
            dishonesty: true,
            status: RecordStatus::Active,
            min_end: Some(d(2026, 8, 6)),
            repairable: true,
            evidence: true,
            commitment: true,
            open_repair: false,
        }
    }

    #[test]
    fn repair_is_possible_from_the_minimum_date_with_evidence_and_commitment() {
        assert_eq!(repair_reasons(&facts(), d(2026, 8, 5)).len(), 1);
        assert!(repair_reasons(&facts(), d(2026, 8, 6)).is_empty());
        let all_wrong = RepairFacts {
            dishonesty: false,
            status: RecordStatus::Repaired,
            min_end: Some(d(2027, 1, 1)),
            repairable: false,
            evidence: false,
            commitment: false,
            open_repair: true,
        };
        assert_eq!(repair_reasons(&all_wrong, d(2026, 8, 6)).len(), 7);
    }

    #[test]
    fn repair_decisions() {
        let c = cal();
        let filed = file_repair(d(2026, 9, 29), &Schedule { calendar: &c, deadlines: &DL });
        assert_eq!(filed.deadline.map(|x| x.date), Some(d(2026, 10, 19)));
        assert!(matches!(
            repair_step(RepairStatus::Submitted, RepairAction::Approve, Actor::Subject, None),
            Err(StepError::Forbidden(_))
        ));
        assert!(matches!(
            repair_step(RepairStatus::Submitted, RepairAction::Refuse, Actor::Unit, None),
            Err(StepError::Invalid(_))
        ));
        assert!(matches!(
            repair_step(RepairStatus::Approved, RepairAction::Refuse, Actor::Centre, Some("x")),
            Err(StepError::NotAllowed(_))
        ));
        assert_eq!(
            repair_step(RepairStatus::Submitted, RepairAction::Approve, Actor::Unit, None).map(|s| s.status),
            Ok(RepairStatus::Approved)
        );
    }

    #[test]
    fn revocation_and_the_five_year_limit() {
        assert_eq!(
            revocation_deadline(d(2026, 9, 30), &Schedule { calendar: &cal(), deadlines: &DL }).date,
            d(2026, 10, 10)
        );
        assert_eq!(provided_until(d(2021, 11, 23)), d(2026, 11, 23));
    }
}

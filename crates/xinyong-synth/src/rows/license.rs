//! 行政许可 (`admin_license`) rows, current and 2015 generation. Source key: 行政许可决定文书号
//! `沪{单位简称}许〔{年}〕{n}号`, unique because `n` counts the file's rows and the abbreviation differs
//! between units.

use std::fmt::Write as _;

use chrono::Datelike;

use super::{RowCtx, choose_fitting, decision_date, party, provenance, until};
use crate::layout::{F, Record};
use crate::rng::{Rand, chance};
use crate::subjects::Subject;
use crate::units::LicenceType;

pub(crate) fn build(ctx: &RowCtx<'_>, subject: &Subject, number: u64, rng: &mut Rand, rec: &mut Record) {
    let persons = !subject.kind.is_org();
    let Some(kind) = choose_fitting(rng, ctx.unit.licences, |t: &LicenceType| t.persons == persons) else {
        return;
    };
    party(ctx, subject, rng, rec);
    let date = decision_date(rng);
    rec.set(F::DocumentName, kind.document);
    let _ = write!(rec.buf(F::DecisionNumber), "沪{}许〔{}〕{number}号", ctx.unit.short, date.year());
    rec.set(F::LicenseCategory, kind.category);
    rec.set(F::ProjectName, kind.project);
    if !kind.certificate.is_empty() {
        rec.set(F::CertificateName, kind.certificate);
        let _ = write!(rec.buf(F::LicenseNumber), "{}{}{number:07}", kind.number_prefix, date.year());
    }
    rec.set(F::LicenseContent, kind.content);
    rec.set_date(F::DecisionDate, date);
    rec.set_date(F::ValidFrom, date);
    let expired = match until(date, kind.years * 365) {
        Some(end) if kind.years > 0 => {
            rec.set_date(F::ValidTo, end);
            true
        }
        _ => false,
    };
    let status = if chance(rng, 0.03) {
        "已注销"
    } else if expired {
        "有效期届满"
    } else {
        "有效"
    };
    rec.set(F::CurrentStatus, status);
    let office = ctx.authorities.choose(subject.district, rng);
    provenance(ctx, office, date, rng, rec);
    if chance(rng, 0.02) {
        rec.set(F::Remarks, "告知承诺制办理");
    }
}

//! 行政处罚 (`admin_penalty`) rows, current and 2015 generation. Source key: 行政处罚决定书文号
//! `沪{单位简称}罚〔{年}〕{n}号`. Facts sometimes hold ASCII quotes and a line break, amounts hold
//! thousands separators, so CSV writers must quote.

use std::fmt::Write as _;

use chrono::{Datelike, Days};
use rand::Rng;

use super::{
    RowCtx, choose_fitting, decision_date, party, provenance, until, write_chinese_date, write_wan, write_yuan,
};
use crate::layout::{F, Record};
use crate::rng::{Rand, chance, weighted};
use crate::subjects::Subject;
use crate::units::PenaltyType;

/// Penalty categories (Administrative Penalty Law 2021 art. 9): first and optional second measure.
const CATEGORIES: &[(&str, &str)] = &[
    ("罚款", ""),
    ("警告", ""),
    ("警告", "罚款"),
    ("罚款", "没收违法所得"),
    ("通报批评", ""),
    ("没收非法财物", "罚款"),
    ("责令停产停业", "罚款"),
    ("暂扣许可证件", "罚款"),
    ("吊销许可证件", ""),
    ("限制从业", "罚款"),
    ("降低资质等级", ""),
    ("其他", ""),
];
const CATEGORY_WEIGHTS: &[u32] = &[55, 10, 8, 10, 3, 3, 2, 1, 1, 1, 1, 2];
const SEVERITIES: &[&str] = &["一般", "严重", "轻微"];
const SEVERITY_WEIGHTS: &[u32] = &[80, 12, 8];

/// A fine in `range`, rounded to hundreds of yuan.
fn fine(rng: &mut Rand, (lo, hi): (u64, u64)) -> u64 {
    (rng.random_range(lo..=hi.max(lo)) / 100).max(1) * 100
}

fn write_measure(out: &mut String, category: &str, fine_yuan: u64, confiscated_yuan: u64) {
    match category {
        "罚款" => {
            out.push_str("罚款人民币");
            write_yuan(out, fine_yuan);
            out.push('元');
        }
        "没收违法所得" => {
            out.push_str("没收违法所得人民币");
            write_yuan(out, confiscated_yuan);
            out.push('元');
        }
        "没收非法财物" => out.push_str("没收非法财物（涉案物品一批）"),
        "责令停产停业" => out.push_str("责令停产停业一个月"),
        "暂扣许可证件" => out.push_str("暂扣许可证件三个月"),
        "吊销许可证件" => out.push_str("吊销许可证件"),
        "限制从业" => out.push_str("五年内不得担任同类企业的法定代表人"),
        "降低资质等级" => out.push_str("资质等级由二级降为三级"),
        "其他" => out.push_str("责令改正"),
        other => out.push_str(other),
    }
}

pub(crate) fn build(ctx: &RowCtx<'_>, subject: &Subject, number: u64, rng: &mut Rand, rec: &mut Record) {
    let persons = !subject.kind.is_org();
    let Some(kind) = choose_fitting(rng, ctx.unit.penalties, |t: &PenaltyType| t.persons || !persons) else {
        return;
    };
    party(ctx, subject, rng, rec);
    let date = decision_date(rng);
    let _ = write!(rec.buf(F::DecisionNumber), "沪{}罚〔{}〕{number}号", ctx.unit.short, date.year());
    rec.set(F::ViolationType, kind.violation);
    let facts = rec.buf(F::ViolationFacts);
    if chance(rng, 0.03) {
        facts.push_str("经查：\n");
    }
    facts.push_str("当事人");
    facts.push_str(&subject.name);
    facts.push('于');
    write_chinese_date(facts, date.checked_sub_days(Days::new(rng.random_range(20..200))).unwrap_or(date));
    facts.push_str(kind.facts);
    facts.push('。');
    rec.set(F::PenaltyBasis, kind.basis);

    let (first, second) = CATEGORIES[weighted(rng, CATEGORY_WEIGHTS)];
    let fine_yuan = fine(rng, kind.fine);
    let confiscated_yuan = fine(rng, (100, (kind.fine.1 / 2).max(100)));
    if ctx.legacy() {
        rec.set(F::PenaltyCategory, first);
        rec.set(F::PenaltyCategory2, second);
    } else {
        let c = rec.buf(F::PenaltyCategory);
        c.push_str(first);
        if !second.is_empty() {
            c.push(';');
            c.push_str(second);
        }
    }
    let content = rec.buf(F::PenaltyContent);
    write_measure(content, first, fine_yuan, confiscated_yuan);
    if !second.is_empty() {
        content.push_str("，并处");
        write_measure(content, second, fine_yuan, confiscated_yuan);
    }
    if first == "罚款" || second == "罚款" {
        write_wan(rec.buf(F::FineAmount), fine_yuan);
    }
    if second == "没收违法所得" {
        write_wan(rec.buf(F::ConfiscatedAmount), confiscated_yuan);
    }
    if first.contains("许可证件") {
        let _ =
            write!(rec.buf(F::SuspendedLicense), "许可证件（编号：沪{}{}{number:06}）", ctx.unit.short, date.year());
    }
    rec.set_date(F::DecisionDate, date);
    if let Some(end) = until(date, 365).filter(|_| chance(rng, 0.4)) {
        rec.set_date(F::ValidUntil, end);
    }
    let office = ctx.authorities.choose(subject.district, rng);
    provenance(ctx, office, date, rng, rec);
    rec.set(F::Severity, SEVERITIES[weighted(rng, SEVERITY_WEIGHTS)]);
    let _ = write!(rec.buf(F::PenaltyName), "对{}行为的处罚", kind.violation);
    rec.set(F::StatusText, "正常");
    if chance(rng, 0.03) {
        rec.set(F::Remarks, "当事人已于规定期限内缴纳罚款。\n已履行完毕");
    }
}

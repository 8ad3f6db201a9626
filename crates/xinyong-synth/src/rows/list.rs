//! Entries of the eight reward and punishment lists of the 2018 operating report (field set
//! `list_entry`). Source key: 认定文书号, e.g. `（2025）沪0115执{n}号` for 失信被执行人; `n` counts the
//! file's rows, and each list has one file, so keys are unique per item. 移出日期 is mostly empty.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use rand::Rng;

use super::{RowCtx, until, ymd};
use crate::AS_OF;
use crate::layout::{F, Record};
use crate::names::DISTRICTS;
use crate::rng::{Rand, chance, date_between, pick};
use crate::subjects::Subject;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListId {
    DishonestDebtor,
    FinancialDishonest,
    TaxA,
    CustomsAdvanced,
    MajorTaxViolation,
    CustomsDishonest,
    FoodDrugDishonest,
    WageArrears,
}

impl ListId {
    pub(crate) fn code(self) -> &'static str {
        match self {
            ListId::DishonestDebtor => "list_dishonest_debtor",
            ListId::FinancialDishonest => "list_financial_dishonest",
            ListId::TaxA => "list_tax_a",
            ListId::CustomsAdvanced => "list_customs_advanced",
            ListId::MajorTaxViolation => "list_major_tax_violation",
            ListId::CustomsDishonest => "list_customs_dishonest",
            ListId::FoodDrugDishonest => "list_food_drug_dishonest",
            ListId::WageArrears => "list_wage_arrears",
        }
    }

    /// Whether natural persons may be on the list (the catalog's `subject_kinds`).
    pub(crate) fn persons_allowed(self) -> bool {
        !matches!(self, ListId::TaxA | ListId::CustomsAdvanced | ListId::CustomsDishonest)
    }

    pub(crate) fn businesses_allowed(self) -> bool {
        !matches!(self, ListId::CustomsAdvanced | ListId::CustomsDishonest)
    }

    fn is_reward(self) -> bool {
        matches!(self, ListId::TaxA | ListId::CustomsAdvanced)
    }

    fn reasons(self) -> &'static [&'static str] {
        match self {
            ListId::DishonestDebtor => &[
                "有履行能力而拒不履行生效法律文书确定义务",
                "违反财产报告制度",
                "违反限制消费令",
                "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
                "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
                "无正当理由拒不履行执行和解协议",
            ],
            ListId::FinancialDishonest => &["恶意逃废金融债务", "拒不履行金融借款合同纠纷生效判决"],
            ListId::TaxA => &["纳税信用评价为A级"],
            ListId::CustomsAdvanced => &["经海关认证为高级认证企业"],
            ListId::MajorTaxViolation => {
                &["偷税（逃避缴纳税款）数额在100万元以上", "虚开增值税专用发票", "骗取国家出口退税款"]
            }
            ListId::CustomsDishonest => {
                &["被海关依法认定为走私犯罪", "一年内因违反海关监管规定被处罚3次以上且被处罚金额累计超过100万元"]
            }
            ListId::FoodDrugDishonest => {
                &["生产销售假药，情节严重", "生产经营不符合食品安全标准的食品，受到吊销许可证件处罚"]
            }
            ListId::WageArrears => {
                &["拒不支付劳动报酬，被依法追究刑事责任", "拖欠农民工工资数额较大，经责令限期支付逾期未支付"]
            }
        }
    }
}

fn start_date(id: ListId, rng: &mut Rand) -> NaiveDate {
    if id == ListId::TaxA {
        // A-level taxpayers are published each April for the previous year.
        let year = rng.random_range(2019..=2026);
        return ymd(year, 4, rng.random_range(1..=30)).min(AS_OF);
    }
    date_between(rng, ymd(2019, 1, 1), AS_OF)
}

pub(crate) fn build(ctx: &RowCtx<'_>, id: ListId, subject: &Subject, number: u64, rng: &mut Rand, rec: &mut Record) {
    rec.set(F::SubjectName, &subject.name);
    rec.set(F::SubjectKind, subject.kind.label());
    if subject.kind.is_org() {
        rec.set(F::Uscc, &subject.uscc);
        rec.set(F::LegalRep, &subject.rep_name);
        if !id.is_reward() && chance(rng, 0.4) {
            rec.set(F::LegalRepIdNumber, &subject.rep_id);
        }
    } else {
        rec.set(F::IdNumber, &subject.resident_id);
    }
    let start = start_date(id, rng);
    let year = start.year();
    let district_code = DISTRICTS[subject.district].0;
    let office = ctx.authorities.choose(subject.district, rng);
    let doc = rec.buf(F::DocumentNumber);
    let _ = match id {
        ListId::DishonestDebtor => {
            write!(doc, "（{year}）沪01{}执{number}号", &district_code[4..6])
        }
        ListId::FinancialDishonest => write!(doc, "（{year}）沪74执{number}号"),
        ListId::TaxA => write!(doc, "沪税信A〔{year}〕{number}号"),
        ListId::CustomsAdvanced => write!(doc, "沪关认〔{year}〕{number}号"),
        ListId::MajorTaxViolation => write!(doc, "沪税稽罚〔{year}〕{number}号"),
        ListId::CustomsDishonest => write!(doc, "沪关信〔{year}〕{number}号"),
        ListId::FoodDrugDishonest => write!(doc, "沪药监信〔{year}〕{number}号"),
        ListId::WageArrears => write!(doc, "沪人社欠薪〔{year}〕{number}号"),
    };
    let reason = rec.buf(F::Reason);
    if id == ListId::TaxA {
        let _ = write!(reason, "{}年度", year - 1);
    }
    reason.push_str(pick(rng, id.reasons()));
    rec.set_date(F::StartDate, start);
    if let Some(end) = until(start, rng.random_range(30..1000)).filter(|_| chance(rng, 0.15)) {
        rec.set_date(F::EndDate, end);
    }
    match id {
        ListId::DishonestDebtor => {
            let court = ctx.authorities.offices.get(subject.district).unwrap_or(&ctx.authorities.main);
            rec.set(F::Authority, &court.name);
        }
        ListId::FinancialDishonest => rec.set(F::Authority, "上海金融法院"),
        ListId::WageArrears => rec.set(F::Authority, &office.name),
        _ => rec.set(F::Authority, &ctx.authorities.main.name),
    }
    if chance(rng, 0.02) {
        rec.set(F::Remarks, "已纳入全国信用信息共享平台");
    }
}

//! 法人登记信息 (`legal_person_registration`): one row per legal person and individual business, keyed
//! by its USCC, as the market regulator's register exports it.

use std::fmt::Write as _;

use rand::Rng;

use super::RowCtx;
use crate::layout::{F, Record};
use crate::names::{self, DISTRICTS, INDUSTRIES, OrgKind};
use crate::rng::{Rand, chance, pick, weighted};
use crate::subjects::Subject;

const COMPANY_TYPES: &[&str] = &[
    "有限责任公司(自然人投资或控股)",
    "有限责任公司(自然人投资或控股)",
    "有限责任公司(自然人投资或控股)",
    "有限责任公司(自然人独资)",
    "有限责任公司(国有控股)",
    "有限责任公司(外国法人独资)",
];
const STATUSES: &[&str] = &["存续", "在业", "吊销", "注销", "迁出"];
const STATUS_WEIGHTS: &[u32] = &[80, 10, 3, 5, 2];
const SCOPE_TAIL: &str = "（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）";

pub(crate) fn build(_ctx: &RowCtx<'_>, subject: &Subject, rng: &mut Rand, rec: &mut Record) {
    let org = subject.org.unwrap_or(OrgKind::Enterprise);
    let district = DISTRICTS[subject.district].1;
    rec.set(F::Name, &subject.name);
    rec.set(F::Uscc, &subject.uscc);
    rec.set(
        F::EntityType,
        match org {
            // The type agrees with the name the enterprise got.
            OrgKind::Enterprise if subject.name.ends_with("分公司") => "有限责任公司分公司(自然人投资或控股)",
            OrgKind::Enterprise if subject.name.ends_with("股份有限公司") => {
                "股份有限公司(非上市、自然人投资或控股)"
            }
            OrgKind::Enterprise => pick(rng, COMPANY_TYPES),
            OrgKind::Business => "个体工商户",
            OrgKind::Institution => "事业单位",
            OrgKind::Association => "社会团体",
            OrgKind::NonProfit => "民办非企业单位",
            OrgKind::Cooperative => "农民专业合作社",
        },
    );
    rec.set(F::LegalRep, &subject.rep_name);
    let capital = rec.buf(F::RegisteredCapital);
    match org {
        OrgKind::Business => {
            let _ = write!(capital, "{}", pick(rng, &[1, 2, 3, 5, 10, 20]));
        }
        _ if chance(rng, 0.8) => {
            let _ = write!(capital, "{}", pick(rng, &[3, 10, 50, 100, 200, 500, 1000, 3000, 5000, 10000]));
        }
        _ => {
            let _ = write!(capital, "{}.{:02}", rng.random_range(1..5000), rng.random_range(1..100));
        }
    }
    rec.set_date(F::Established, subject.established);
    let authority = rec.buf(F::Authority);
    match org {
        OrgKind::Institution => authority.push_str("上海市事业单位登记管理局"),
        OrgKind::Association | OrgKind::NonProfit => authority.push_str("上海市社会团体管理局"),
        _ => {
            let _ = write!(authority, "上海市{district}市场监督管理局");
        }
    }
    rec.set(F::District, district);
    names::address(rng, subject.district, rec.buf(F::Address));
    let scope = rec.buf(F::BusinessScope);
    scope.push_str(INDUSTRIES[subject.industry].1);
    if org == OrgKind::Enterprise && chance(rng, 0.5) {
        scope.push_str(SCOPE_TAIL);
    }
    rec.set(F::RegStatus, STATUSES[weighted(rng, STATUS_WEIGHTS)]);
}

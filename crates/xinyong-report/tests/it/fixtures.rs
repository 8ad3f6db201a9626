//! A fixed company and its records: the subject of the golden files, the benches and the samples.

use chrono::{DateTime, NaiveDate};
use xinyong_domain::catalog::{Category, InfoClass, ListKind, Publication, Severity};
use xinyong_domain::subject::SubjectKind;
use xinyong_report::build::{Domains, ReportInput, ReportRecord, build};
use xinyong_report::model::{Evaluation, Field, Period, Report, ReportKind};

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub fn penalty(id: i64, date: NaiveDate, disputed: bool) -> ReportRecord {
    ReportRecord {
        id,
        item: "admin_penalty".into(),
        item_name: "行政处罚".into(),
        category: Category::Supervision,
        info_class: InfoClass::Administrative,
        publication: Publication::Penalty,
        list_kind: ListKind::None,
        severity: Severity::General,
        unit: "sh_amr".into(),
        date,
        disputed,
        document: format!("沪市监罚〔2026〕{id}号"),
        fields: vec![
            Field::new("违法行为类型", "未按规定公示年度报告"),
            Field::new("处罚类别", "罚款"),
            Field::new("处罚内容", "罚款人民币1万元"),
            Field::new("罚款金额(万元)", "1"),
            Field::new("处罚决定日期", date.to_string()),
            Field::new("处罚机关", "上海市浦东新区市场监督管理局"),
        ],
    }
}

pub fn license(id: i64) -> ReportRecord {
    ReportRecord {
        id,
        item: "admin_license".into(),
        item_name: "行政许可".into(),
        category: Category::Qualification,
        info_class: InfoClass::Administrative,
        publication: Publication::License,
        list_kind: ListKind::None,
        severity: Severity::None,
        unit: "sh_amr".into(),
        date: d(2025, 1, 2),
        disputed: false,
        document: "沪食经许〔2025〕9号".into(),
        fields: vec![
            Field::new("行政许可决定文书名称", "食品经营许可决定书"),
            Field::new("许可内容", "预包装食品销售"),
            Field::new("许可机关", "上海市浦东新区市场监督管理局"),
        ],
    }
}

pub fn debtor(id: i64) -> ReportRecord {
    ReportRecord {
        id,
        item: "list_dishonest_debtor".into(),
        item_name: "失信被执行人".into(),
        category: Category::Enforcement,
        info_class: InfoClass::Punishment,
        publication: Publication::None,
        list_kind: ListKind::Punishment,
        severity: Severity::Serious,
        unit: "sh_court".into(),
        date: d(2026, 2, 1),
        disputed: true,
        document: "（2026）沪0115执1号".into(),
        fields: vec![
            Field::new("列入原因", "有履行能力而拒不履行生效法律文书确定义务"),
            Field::new("认定机关", "上海市浦东新区人民法院"),
        ],
    }
}

/// A fixed input: the company of the golden test with `extra` more penalties.
pub fn input(kind: ReportKind, extra: usize) -> ReportInput {
    let mut records = vec![penalty(1, d(2026, 5, 6), false), license(2), debtor(3)];
    for i in 0..extra {
        records.push(penalty(100 + i as i64, d(2026, 1 + (i % 10) as u32, 1 + (i % 27) as u32), i.is_multiple_of(7)));
    }
    let domains = Domains::default_domains().unwrap();
    ReportInput {
        number: "XY20261123A1B2C3D4".into(),
        kind,
        platform: "上海市公共信用信息服务平台".into(),
        issued_at: DateTime::parse_from_rfc3339("2026-11-23T10:00:00+08:00").unwrap(),
        issued_to: "上海测试贸易有限公司（本人查询）".into(),
        purpose: "本人查询".into(),
        verify_url: "http://127.0.0.1:8080/verify/XY20261123A1B2C3D4".into(),
        subject_kind: SubjectKind::LegalPerson,
        subject_name: "上海测试贸易有限公司".into(),
        subject_identifier: "91310000MA1K4ABC1X".into(),
        basic: vec![Field::new("法定代表人", "王某"), Field::new("成立日期", "2015-03-18")],
        records,
        evaluation: None,
        queries: Vec::new(),
        period: (kind == ReportKind::Special).then_some(Period { from: d(2024, 1, 1), to: d(2026, 11, 22) }),
        domains: ["market", "tax"].iter().map(|c| domains.find(c).unwrap().clone()).collect(),
        catalog_has_judgments: false,
    }
}

pub fn report(kind: ReportKind, extra: usize) -> Report {
    build(input(kind, extra))
}

pub fn with_evaluation() -> Report {
    let mut i = input(ReportKind::Standard, 0);
    i.evaluation = Some(Evaluation { score: 812.5, grade: "A".into(), model: "sh-2026.1".into() });
    build(i)
}

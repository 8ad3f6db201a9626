//! The supplying units synth writes for, with what each of them licenses and penalises: decision
//! document names, legal bases, typical facts and fines. Unit codes and names come from the catalog; this
//! module adds the texts a unit's system would put in its export.
//!
//! ```text
//! let unit = unit_info("sh_amr").ok_or(…)?;
//! let kind = pick(&mut rng, unit.penalties);
//! ```

/// What one kind of licence looks like in a unit's export.
#[derive(Debug)]
pub(crate) struct LicenceType {
    /// 项目名称 (2015 generation) — the name of the licensing matter.
    pub project: &'static str,
    pub document: &'static str,
    pub certificate: &'static str,
    pub number_prefix: &'static str,
    pub content: &'static str,
    /// One of 普通 特许 认可 核准 登记 其他.
    pub category: &'static str,
    /// Years of validity; 0 = open-ended.
    pub years: u64,
    /// Granted to natural persons (otherwise to organisations).
    pub persons: bool,
}

/// What one kind of penalty looks like in a unit's export.
#[derive(Debug)]
pub(crate) struct PenaltyType {
    pub violation: &'static str,
    pub basis: &'static str,
    /// What the party did, after "当事人{名称}于{日期}"; some hold ASCII quotes.
    pub facts: &'static str,
    /// Fine range in yuan.
    pub fine: (u64, u64),
    /// Applies to natural persons too.
    pub persons: bool,
}

#[derive(Debug)]
pub(crate) struct UnitInfo {
    pub code: &'static str,
    /// The unit's abbreviation in document numbers: 沪{short}罚〔2025〕{n}号.
    pub short: &'static str,
    /// District bureaus that decide in the unit's name: `{prefix}{区名}{suffix}`; empty: the unit decides.
    pub district_bureau: (&'static str, &'static str),
    pub licences: &'static [LicenceType],
    pub penalties: &'static [PenaltyType],
}

/// `(certificate, number_prefix)` travel together: no certificate, no number.
const fn lic(
    project: &'static str,
    document: &'static str,
    (certificate, number_prefix): (&'static str, &'static str),
    content: &'static str,
    category: &'static str,
    years: u64,
    persons: bool,
) -> LicenceType {
    LicenceType { project, document, certificate, number_prefix, content, category, years, persons }
}

const fn pen(
    violation: &'static str,
    basis: &'static str,
    facts: &'static str,
    fine: (u64, u64),
    persons: bool,
) -> PenaltyType {
    PenaltyType { violation, basis, facts, fine, persons }
}

const DECISION: &str = "准予行政许可决定书";

#[rustfmt::skip]
pub(crate) const UNITS: &[UnitInfo] = &[
    UnitInfo {
        code: "sh_court",
        short: "法",
        district_bureau: ("上海市", "人民法院"),
        licences: &[],
        penalties: &[],
    },
    UnitInfo {
        code: "sh_amr",
        short: "市监",
        district_bureau: ("上海市", "市场监督管理局"),
        licences: &[
            lic("食品经营许可", "食品经营许可决定书", ("食品经营许可证", "JY2"), "预包装食品（含冷藏冷冻食品）销售,散装食品（含冷藏冷冻食品）销售", "普通", 5, false),
            lic("企业设立登记", "准予设立登记通知书", ("营业执照", ""), "设立登记", "登记", 0, false),
            lic("企业变更登记", "准予变更登记通知书", ("营业执照", ""), "变更登记（住所、经营范围）", "登记", 0, false),
            lic("特种设备使用登记", "特种设备使用登记决定书", ("特种设备使用登记证", "梯11沪"), "乘客电梯使用登记", "登记", 0, false),
            lic("特种设备作业人员资格认定", DECISION, ("特种设备安全管理和作业人员证", "TS"), "叉车司机（N1）", "认可", 4, true),
            lic("工业产品生产许可", DECISION, ("全国工业产品生产许可证", "沪XK"), "电线电缆生产许可", "普通", 5, false),
        ],
        penalties: &[
            pen("虚假宣传", "《中华人民共和国反不正当竞争法》第二十条第一款", "在其网店宣称产品\"销量全国第一\"，无法提供依据，构成虚假宣传", (20_000, 1_000_000), false),
            pen("经营不符合食品安全标准的食品", "《中华人民共和国食品安全法》第一百二十四条第一款", "经营的散装大米经抽检镉含量不符合食品安全标准", (50_000, 300_000), false),
            pen("无照经营", "《无证无照经营查处办法》第十三条", "未取得营业执照，在路边从事水果销售经营活动", (500, 10_000), true),
            pen("价格违法", "《中华人民共和国价格法》第四十二条", "未按规定明码标价，销售商品时在标价之外加价收取未予标明的费用", (1_000, 50_000), true),
            pen("未按规定公示年度报告", "《企业信息公示暂行条例》第十八条", "未按规定期限公示年度报告，且逾期未改正", (1_000, 10_000), false),
        ],
    },
    UnitInfo {
        code: "sh_tax",
        short: "税",
        district_bureau: ("国家税务总局上海市", "税务局"),
        licences: &[
            lic("增值税专用发票最高开票限额审批", "准予税务行政许可决定书", ("", ""), "增值税专用发票（增值税税控系统）最高开票限额十万元", "普通", 0, false),
            lic("对纳税人延期缴纳税款的核准", "准予税务行政许可决定书", ("", ""), "核准延期缴纳税款三个月", "核准", 0, false),
            lic("对纳税人延期申报的核准", "准予税务行政许可决定书", ("", ""), "核准延期办理纳税申报一个月", "核准", 0, true),
        ],
        penalties: &[
            pen("未按规定期限办理纳税申报", "《中华人民共和国税收征收管理法》第六十二条", "未按照规定期限办理纳税申报和报送纳税资料", (200, 2_000), true),
            pen("未按规定开具发票", "《中华人民共和国发票管理办法》第三十三条", "未按规定开具发票，\"应开未开\"发票三份", (1_000, 10_000), true),
            pen("偷税", "《中华人民共和国税收征收管理法》第六十三条第一款", "通过在账簿上多列支出的手段，不缴或者少缴应纳税款", (50_000, 2_000_000), false),
        ],
    },
    UnitInfo {
        code: "sh_ecology",
        short: "环",
        district_bureau: ("上海市", "生态环境局"),
        licences: &[
            lic("排污许可证核发", DECISION, ("排污许可证", "91310"), "排污许可证核发（重点管理）", "普通", 5, false),
            lic("建设项目环境影响报告表审批", "建设项目环境影响报告表审批意见", ("", ""), "同意该项目按报告表所列性质、规模、地点建设", "普通", 0, false),
            lic("危险废物经营许可", DECISION, ("危险废物经营许可证", "沪环危废"), "收集、贮存HW08废矿物油", "特许", 5, false),
        ],
        penalties: &[
            pen("超标排放大气污染物", "《中华人民共和国大气污染防治法》第九十九条第二项", "排气筒非甲烷总烃排放浓度超过《大气污染物综合排放标准》", (100_000, 1_000_000), false),
            pen("未批先建", "《中华人民共和国环境影响评价法》第三十一条第一款", "建设项目环境影响报告表未经批准，擅自开工建设", (50_000, 500_000), false),
            pen("危险废物贮存不规范", "《中华人民共和国固体废物污染环境防治法》第一百一十二条第一款", "未按规定设置危险废物识别标志，废机油露天堆放", (100_000, 500_000), false),
        ],
    },
    UnitInfo {
        code: "sh_housing",
        short: "建",
        district_bureau: ("上海市", "建设和管理委员会"),
        licences: &[
            lic("建筑工程施工许可", "建筑工程施工许可决定书", ("建筑工程施工许可证", "3101"), "新建厂房及配套用房工程施工", "普通", 0, false),
            lic("建筑业企业资质核准", DECISION, ("建筑业企业资质证书", "D231"), "建筑工程施工总承包三级", "认可", 5, false),
            lic("二级建造师执业资格注册", DECISION, ("中华人民共和国二级建造师注册证书", "沪231"), "二级建造师（建筑工程）初始注册", "认可", 3, true),
            lic("商品房预售许可", DECISION, ("上海市商品房预售许可证", "沪房预"), "商品住宅预售（12幢，建筑面积31,200平方米）", "普通", 0, false),
        ],
        penalties: &[
            pen("未取得施工许可证擅自施工", "《建筑工程施工许可管理办法》第十二条", "未取得施工许可证，擅自开工建设厂房工程", (10_000, 200_000), false),
            pen("违反工程质量管理规定", "《建设工程质量管理条例》第六十四条", "施工中偷工减料，使用不合格的建筑材料", (100_000, 800_000), false),
            pen("违法出租群租房", "《上海市住宅物业管理规定》第八十四条", "将住宅分隔后\"群租\"，出租人均居住面积低于规定标准", (10_000, 100_000), true),
        ],
    },
    UnitInfo {
        code: "sh_transport",
        short: "交",
        district_bureau: ("", ""),
        licences: &[
            lic("道路运输经营许可", "道路运输经营许可决定书", ("道路运输经营许可证", "沪交运管许可"), "道路普通货物运输", "普通", 4, false),
            lic("出租汽车经营许可", DECISION, ("出租汽车经营许可证", "沪出租"), "巡游出租汽车客运经营", "特许", 6, false),
            lic("网络预约出租汽车驾驶员证核发", DECISION, ("网络预约出租汽车驾驶员证", "沪网约"), "网络预约出租汽车驾驶员资格", "认可", 6, true),
            lic("道路运输从业人员从业资格", DECISION, ("道路运输从业人员从业资格证", "310"), "道路货物运输驾驶员", "认可", 6, true),
        ],
        penalties: &[
            pen("非法客运", "《中华人民共和国道路运输条例》第六十三条", "未取得道路运输经营许可，擅自从事道路旅客运输经营", (10_000, 100_000), true),
            pen("巡游出租车拒载", "《上海市出租汽车管理条例》第四十六条", "驾驶巡游出租汽车在虹桥枢纽拒绝载客", (200, 2_000), true),
            pen("超限运输", "《公路安全保护条例》第六十四条", "车货总质量超过规定限值，在公路上擅自超限行驶", (500, 30_000), true),
        ],
    },
    UnitInfo {
        code: "sh_hrss",
        short: "人社",
        district_bureau: ("上海市", "人力资源和社会保障局"),
        licences: &[
            lic("劳务派遣经营许可", DECISION, ("劳务派遣经营许可证", "沪人社派"), "劳务派遣经营", "普通", 3, false),
            lic("人力资源服务许可", DECISION, ("人力资源服务许可证", "沪人服证"), "职业中介活动；人力资源供求信息的收集和发布", "普通", 0, false),
            lic("特殊工时制度审批", "准予实行特殊工时工作制决定书", ("", ""), "实行综合计算工时工作制（周期：季度）", "其他", 3, false),
            lic("职业技能等级认定", DECISION, ("职业技能等级证书", "S0000310"), "中式烹调师（四级）", "认可", 0, true),
        ],
        penalties: &[
            pen("拖欠劳动者工资", "《劳动保障监察条例》第二十六条", "未按劳动合同约定支付劳动者劳动报酬，经责令限期支付逾期不支付", (2_000, 50_000), false),
            pen("未依法订立书面劳动合同", "《中华人民共和国劳动合同法实施条例》第三十四条", "与十二名劳动者未订立书面劳动合同", (2_000, 20_000), false),
            pen("未按规定办理社会保险登记", "《中华人民共和国社会保险法》第八十四条", "自用工之日起三十日内未为职工办理社会保险登记", (5_000, 30_000), false),
        ],
    },
    UnitInfo {
        code: "sh_drug",
        short: "药",
        district_bureau: ("", ""),
        licences: &[
            lic("药品经营许可", DECISION, ("药品经营许可证", "沪AA"), "处方药、非处方药：化学药制剂、中成药、生物制品", "普通", 5, false),
            lic("第三类医疗器械经营许可", DECISION, ("医疗器械经营许可证", "沪食药监械经营许"), "Ⅲ类：6815注射穿刺器械,6866医用高分子材料及制品", "普通", 5, false),
            lic("执业药师注册", DECISION, ("执业药师注册证", "3120"), "执业药师注册（执业类别：药学）", "认可", 5, true),
            lic("化妆品生产许可", DECISION, ("化妆品生产许可证", "沪妆"), "一般液态单元（护发清洁类、护肤水类）", "普通", 5, false),
        ],
        penalties: &[
            pen("经营劣药", "《中华人民共和国药品管理法》第一百一十七条第一款", "销售的\"复方甘草片\"经检验含量测定不符合规定", (10_000, 500_000), false),
            pen("经营不符合标准的化妆品", "《化妆品监督管理条例》第六十条", "经营的面霜经检验菌落总数不符合化妆品安全技术规范", (10_000, 200_000), true),
            pen("未遵守药品经营质量管理规范", "《中华人民共和国药品管理法》第一百二十六条", "未按规定对冷藏药品进行温湿度监测和记录", (100_000, 500_000), false),
        ],
    },
    UnitInfo {
        code: "sh_finance",
        short: "金",
        district_bureau: ("", ""),
        licences: &[
            lic("小额贷款公司设立审批", DECISION, ("", ""), "同意设立小额贷款公司，注册资本人民币二亿元", "特许", 0, false),
            lic("融资担保业务经营许可", DECISION, ("融资担保业务经营许可证", "沪"), "借款类担保业务、发行债券担保业务", "特许", 5, false),
        ],
        penalties: &[pen("违规发放贷款", "《上海市小额贷款公司监管办法》第四十一条", "向关联方发放贷款超过规定比例", (10_000, 300_000), false)],
    },
    UnitInfo {
        code: "sh_customs",
        short: "关",
        district_bureau: ("", ""),
        licences: &[],
        penalties: &[
            pen("申报不实", "《中华人民共和国海关行政处罚实施条例》第十五条第四项", "以一般贸易方式申报进口货物，申报商品编号与实际不符，影响国家税款征收", (5_000, 500_000), false),
            pen("旅客携带物品未申报", "《中华人民共和国海关行政处罚实施条例》第十九条第四项", "经旅检通道入境时未向海关申报所携带的应税物品", (500, 20_000), true),
            pen("走私普通货物", "《中华人民共和国海关行政处罚实施条例》第九条第一款第三项", "通过\"化整为零\"方式逃避海关监管，走私进境冻品", (20_000, 1_000_000), true),
        ],
    },
];

/// Customs offices under 上海海关 that decide penalties.
pub(crate) const CUSTOMS_OFFICES: &[&str] = &[
    "中华人民共和国浦东海关",
    "中华人民共和国外高桥港区海关",
    "中华人民共和国洋山海关",
    "中华人民共和国浦东国际机场海关",
    "中华人民共和国虹桥机场海关",
    "中华人民共和国吴淞海关",
];

pub(crate) fn unit_info(code: &str) -> Option<&'static UnitInfo> {
    UNITS.iter().find(|u| u.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_are_distinct_so_document_numbers_are() {
        let mut shorts: Vec<&str> = UNITS.iter().map(|u| u.short).collect();
        shorts.sort_unstable();
        shorts.dedup();
        assert_eq!(shorts.len(), UNITS.len());
    }

    #[test]
    fn categories_are_catalog_values() {
        for u in UNITS {
            for l in u.licences {
                assert!(["普通", "特许", "认可", "核准", "登记", "其他"].contains(&l.category), "{}", l.project);
            }
        }
    }
}

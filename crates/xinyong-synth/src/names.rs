//! Realistic, invented Chinese names: persons (common and compound surnames, given names with some
//! rare characters such as 垚 喆 昇 玥 堃 that must survive GB18030), companies
//! (`上海{字号}{行业}有限公司`), individual businesses (`{区名}{字号}{行业}店`), public institutions,
//! social organisations and cooperatives, plus Shanghai districts and addresses. No real person's data.
//!
//! Character tables are strings of 3-byte (BMP CJK) characters indexed by position; a test checks that.
//!
//! ```text
//! let mut name = String::new();
//! person_name(&mut rng, &mut name); // e.g. 欧阳玥 or 张伟
//! ```

use std::fmt::Write as _;

use crate::rng::{Rand, chance, pick, skewed_index};
use rand::Rng;

/// Common surnames, most frequent first.
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";
const COMPOUND_SURNAMES: &[&str] = &["欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "慕容", "令狐", "夏侯", "尉迟"];
const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红文辉力建国亮斌飞宇浩鹏欣怡婷雪琳晨晓子涵梓轩一诺博思雨嘉俊熙宁安佳颖瑶璐蕾倩茜婉琦瑞凯鑫宏海峰波阳帆晶珊莉兰凤梅琴云慧鹤龙虎豪毅锋健康志忠诚林森彬韬翔泽楠婧妍曦晗昕瑾萱悦彤蕊岚柯航远逸辰皓哲睿铭煜炜烨灿卓然昊旭晖恒春秋冬夏金银德仁义礼智信美丽清水山川";
/// Rare characters (outside the most common 3,500): they exercise encoders and fonts.
const RARE_GIVEN: &str = "垚喆昇玥堃犇淼燚劼珺璟翀蓁祎昉焜珏旻昶婕";
/// Syllables of trade names (字号).
const TRADE: &str = "华盛鑫源泰恒达宏顺兴丰瑞祥安康福佳美嘉和元通利信诚德金银宝龙凤海天星辰光明新东方浦江申沪中亚欧汇融创智博卓越优品尚典君泽润浩昌晟隆旺益晶锦绣云峰岚松柏竹梅兰菊荷橙青蓝紫朗汐澜禾田谷麦稻茗茶香味真正道远志启航舟帆桥城都邦国际联合盟众友家宜居乐悦欣喜逸雅致精艺工匠坊舍庭苑园林森木火水土石玉珍珠翠彩虹霞雪月日阳春夏秋冬晨曦暖鼎凯捷迅驰骏腾飞扬展宇寰宸坤乾泓沁澄淳朴素简初本原实诺承传继峻岳川河湖渊溪泉涛波洋洲岛湾港滨临望观景图思维知识学文武仁义礼麒麟骐骥鸿鹄鹏程万里千百佰仟亿兆";

/// Shanghai districts: code, name.
pub(crate) const DISTRICTS: &[(&str, &str)] = &[
    ("310101", "黄浦区"),
    ("310104", "徐汇区"),
    ("310105", "长宁区"),
    ("310106", "静安区"),
    ("310107", "普陀区"),
    ("310109", "虹口区"),
    ("310110", "杨浦区"),
    ("310112", "闵行区"),
    ("310113", "宝山区"),
    ("310114", "嘉定区"),
    ("310115", "浦东新区"),
    ("310116", "金山区"),
    ("310117", "松江区"),
    ("310118", "青浦区"),
    ("310120", "奉贤区"),
    ("310151", "崇明区"),
];
/// Relative number of market subjects per district (Pudong largest).
pub(crate) const DISTRICT_WEIGHTS: &[u32] = &[5, 7, 5, 7, 6, 5, 7, 12, 9, 8, 22, 4, 8, 6, 6, 3];

/// Industries: the word in a company name and its business scope (some scopes hold ASCII commas).
pub(crate) const INDUSTRIES: &[(&str, &str)] = &[
    ("科技", "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；软件开发"),
    ("信息技术", "信息系统集成服务；软件开发；数据处理服务"),
    ("贸易", "日用百货销售；服装服饰批发；五金产品批发,电子产品销售"),
    ("餐饮管理", "餐饮服务；餐饮管理；食品销售"),
    ("建筑工程", "建设工程施工；建筑材料销售；园林绿化工程施工"),
    ("物流", "道路货物运输（不含危险货物）；国内货物运输代理；仓储服务"),
    ("实业", "实业投资；企业管理咨询；会议及展览服务"),
    ("文化传媒", "组织文化艺术交流活动；广告设计、代理；广告制作"),
    ("电子商务", "互联网销售（除销售需要许可的商品）；供应链管理服务"),
    ("生物科技", "生物科技领域内的技术开发；化妆品批发；第一类医疗器械销售"),
    ("医药", "药品批发；医疗器械经营；保健食品销售"),
    ("环保科技", "环保咨询服务；大气污染治理；固体废物治理"),
    ("机械设备", "机械设备销售,机械设备租赁,通用设备修理"),
    ("食品", "食品生产；食品销售；农副产品销售"),
    ("物业管理", "物业管理；停车场服务；家政服务"),
    ("汽车服务", "汽车租赁；机动车修理和维护；汽车零配件零售"),
    ("教育科技", "教育咨询服务（不含涉许可审批的教育培训活动）；软件开发"),
    ("人力资源", "人力资源服务（不含职业中介活动、劳务派遣服务）；劳务服务（不含劳务派遣）"),
    ("投资管理", "投资管理；资产管理；企业管理咨询"),
    ("装饰工程", "住宅室内装饰装修；建筑装饰材料销售"),
];
const SHOPS: &[&str] = &[
    "便利店",
    "面馆",
    "水果店",
    "五金店",
    "理发店",
    "小吃店",
    "服装店",
    "烟杂店",
    "早餐店",
    "花店",
    "眼镜店",
    "家电维修店",
    "干洗店",
    "茶叶店",
    "粮油店",
    "汽车修理店",
];
const COMPANY_SUFFIXES: &[&str] = &["有限公司", "有限公司", "有限公司", "有限公司", "股份有限公司", "（集团）有限公司"];
const INSTITUTIONS: &[&str] = &["社区卫生服务中心", "文化活动中心", "小学", "青少年活动中心", "图书馆", "养老服务中心"];
const ASSOCIATIONS: &[&str] = &["行业协会", "商会", "联合会", "促进会"];
const NON_PROFITS: &[&str] = &["培训中心", "养老院", "幼儿园", "康复中心", "社会工作服务社"];
const PRODUCE: &[&str] = &["蔬果", "水稻", "草莓", "葡萄", "蜜梨", "水产", "花卉"];
const ROADS: &[&str] = &[
    "南京西路",
    "淮海中路",
    "张江路",
    "世纪大道",
    "漕溪北路",
    "中山北路",
    "四平路",
    "沪闵路",
    "松卫北路",
    "曹安公路",
    "共和新路",
    "延安西路",
    "长寿路",
    "天山路",
    "虹桥路",
    "龙华中路",
    "浦电路",
    "杨高南路",
    "江场路",
    "宝杨路",
    "嘉松北路",
    "新松江路",
    "青安路",
    "南桥路",
    "城桥镇八一路",
    "莘庄镇莘松路",
    "七莘路",
    "金山大道",
    "博学路",
];

/// The `k`-th character of a 3-byte character table.
fn nth(table: &'static str, k: usize) -> &'static str {
    table.get(3 * k..3 * k + 3).unwrap_or("")
}

fn one(rng: &mut Rand, table: &'static str) -> &'static str {
    nth(table, rng.random_range(0..table.len() / 3))
}

fn one_skewed(rng: &mut Rand, table: &'static str) -> &'static str {
    nth(table, skewed_index(rng, table.len() / 3))
}

/// A person's full name: surname (1% compound) and a given name of one or two characters.
pub(crate) fn person_name(rng: &mut Rand, out: &mut String) {
    if chance(rng, 0.01) {
        out.push_str(pick(rng, COMPOUND_SURNAMES));
    } else {
        out.push_str(one_skewed(rng, SURNAMES));
    }
    let len = if chance(rng, 0.3) { 1 } else { 2 };
    for _ in 0..len {
        out.push_str(if chance(rng, 0.04) { one(rng, RARE_GIVEN) } else { one(rng, GIVEN) });
    }
}

fn trade_name(rng: &mut Rand, out: &mut String) {
    out.push_str(one(rng, TRADE));
    out.push_str(one(rng, TRADE));
}

/// Kinds of organisation by the first two characters of their USCC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrgKind {
    /// `91` enterprise.
    Enterprise,
    /// `12` public institution (事业单位).
    Institution,
    /// `51` social organisation (社会团体).
    Association,
    /// `52` private non-enterprise unit (民办非企业单位).
    NonProfit,
    /// `93` farmers' cooperative.
    Cooperative,
    /// `92` individual business (个体工商户).
    Business,
}

impl OrgKind {
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            OrgKind::Enterprise => "91",
            OrgKind::Institution => "12",
            OrgKind::Association => "51",
            OrgKind::NonProfit => "52",
            OrgKind::Cooperative => "93",
            OrgKind::Business => "92",
        }
    }
}

/// The name of an organisation of `kind` in `district`, in `industry`.
pub(crate) fn org_name(rng: &mut Rand, kind: OrgKind, district: usize, industry: usize, out: &mut String) {
    let district_name = DISTRICTS[district].1;
    let industry_word = INDUSTRIES[industry].0;
    match kind {
        OrgKind::Enterprise => {
            out.push_str("上海");
            trade_name(rng, out);
            out.push_str(industry_word);
            out.push_str(pick(rng, COMPANY_SUFFIXES));
            if chance(rng, 0.03) {
                out.push_str(district_name.trim_end_matches('区'));
                out.push_str("分公司");
            }
        }
        OrgKind::Business => {
            out.push_str(district_name);
            trade_name(rng, out);
            out.push_str(pick(rng, SHOPS));
        }
        OrgKind::Institution => {
            out.push_str("上海市");
            out.push_str(district_name);
            trade_name(rng, out);
            out.push_str(pick(rng, INSTITUTIONS));
        }
        OrgKind::Association => {
            out.push_str("上海市");
            out.push_str(district_name);
            trade_name(rng, out);
            out.push_str(industry_word);
            out.push_str(pick(rng, ASSOCIATIONS));
        }
        OrgKind::NonProfit => {
            out.push_str("上海");
            out.push_str(district_name);
            trade_name(rng, out);
            out.push_str(pick(rng, NON_PROFITS));
        }
        OrgKind::Cooperative => {
            out.push_str("上海");
            out.push_str(district_name);
            trade_name(rng, out);
            out.push_str(pick(rng, PRODUCE));
            out.push_str("专业合作社");
        }
    }
}

/// `上海市{区}{路}{n}号[{k}室]`.
pub(crate) fn address(rng: &mut Rand, district: usize, out: &mut String) {
    let _ = write!(out, "上海市{}{}{}号", DISTRICTS[district].1, pick(rng, ROADS), rng.random_range(1..2000));
    if chance(rng, 0.5) {
        let _ = write!(out, "{}室", rng.random_range(101..2999));
    }
}

/// A district index, weighted by the number of market subjects.
pub(crate) fn district(rng: &mut Rand) -> usize {
    crate::rng::weighted(rng, DISTRICT_WEIGHTS)
}

/// An industry index (the first industries are more common).
pub(crate) fn industry(rng: &mut Rand) -> usize {
    skewed_index(rng, INDUSTRIES.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::subject_rng;

    #[test]
    fn character_tables_hold_only_three_byte_characters() {
        for table in [SURNAMES, GIVEN, RARE_GIVEN, TRADE] {
            assert_eq!(table.len(), 3 * table.chars().count(), "{table}");
        }
    }

    #[test]
    fn names_survive_a_gb18030_round_trip() {
        let mut rng = subject_rng(1, 1);
        let mut all = String::from(RARE_GIVEN);
        for i in 0..500 {
            person_name(&mut rng, &mut all);
            org_name(&mut rng, OrgKind::Business, i % DISTRICTS.len(), i % INDUSTRIES.len(), &mut all);
        }
        let (bytes, _, unmappable) = encoding_rs::GB18030.encode(&all);
        assert!(!unmappable);
        let (back, _, bad) = encoding_rs::GB18030.decode(&bytes);
        assert!(!bad);
        assert_eq!(back, all);
    }

    #[test]
    fn weights_cover_every_district() {
        assert_eq!(DISTRICTS.len(), DISTRICT_WEIGHTS.len());
    }
}

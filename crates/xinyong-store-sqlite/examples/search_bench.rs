//! THROWAWAY: search latency at 1,000,000 synthetic company names. Delete after measuring.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::time::{Duration, Instant};

use rusqlite::Connection;
use xinyong_domain::ids::{Identifier, Uscc, complete_uscc};
use xinyong_domain::subject::{SubjectClaim, SubjectKind};
use xinyong_store::conformance::{draft, install_default, load};
use xinyong_store::search::{SearchQuery, SearchStore};
use xinyong_store_sqlite::{DB_FILE, SqliteStore};

const COMMON: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞";
const REGIONS: [&str; 12] =
    ["上海", "北京", "浦东", "深圳", "杭州", "广州", "南京", "苏州", "成都", "武汉", "天津", "重庆"];
const TRADES: [&str; 16] = [
    "贸易", "科技", "餐饮", "建筑", "物流", "咨询", "电子", "服装", "食品", "医药", "文化", "传媒", "机械", "化工",
    "投资", "教育",
];
const SUFFIXES: [&str; 5] = ["有限公司", "有限责任公司", "股份有限公司", "商店", "经营部"];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn pct(mut v: Vec<Duration>, p: f64) -> f64 {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

fn main() {
    let n: usize = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(1_000_000);
    let dir = std::path::PathBuf::from(std::env::args().nth(2).unwrap_or("/tmp/search-bench".into()));
    let common: Vec<char> = COMMON.chars().collect();
    let mut rng = Rng(42);
    let mut names = Vec::with_capacity(n);
    for _ in 0..n {
        let brand_len = 2 + rng.below(2);
        let brand: String = (0..brand_len).map(|_| common[rng.below(common.len())]).collect();
        let name = match rng.below(4) {
            0 => format!("{brand}{}{}", TRADES[rng.below(16)], SUFFIXES[rng.below(5)]),
            _ => format!("{}{brand}{}{}", REGIONS[rng.below(12)], TRADES[rng.below(16)], SUFFIXES[rng.below(5)]),
        };
        names.push(name);
    }
    let fresh = !dir.join(DB_FILE).exists();
    let store = if fresh { SqliteStore::create(&dir, true).unwrap() } else { SqliteStore::open(&dir).unwrap() };
    if fresh {
        install_default(&store).unwrap();
        let t = Instant::now();
        for (c, chunk) in names.chunks(50_000).enumerate() {
            let drafts: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let k = c * 50_000 + i;
                    let code = complete_uscc(&format!("91310115{k:08}")).unwrap();
                    let claim = SubjectClaim {
                        kind: SubjectKind::LegalPerson,
                        id: Identifier::Uscc(Uscc::parse(&code).unwrap()),
                        name: name.clone(),
                    };
                    draft(i as u64 + 2, &format!("k{k}"), Some(claim), "罚款")
                })
                .collect();
            load(&store, &format!("b-{c}"), 6, &drafts).unwrap();
        }
        println!("loaded {n} subjects+records in {:.1} s", t.elapsed().as_secs_f64());
    }
    let conn = Connection::open(dir.join(DB_FILE)).unwrap();
    let fts: i64 = conn
        .query_row("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'subject_names_fts%'", [], |r| r.get(0))
        .unwrap();
    let subj: i64 = conn
        .query_row(
            "SELECT sum(pgsize) FROM dbstat WHERE name = 'subjects' OR name LIKE 'sqlite_autoindex_subjects%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let total: i64 = conn.query_row("SELECT sum(pgsize) FROM dbstat", [], |r| r.get(0)).unwrap();
    println!(
        "fts index {:.1} MB, subjects table+indexes {:.1} MB, whole db {:.1} MB",
        fts as f64 / 1e6,
        subj as f64 / 1e6,
        total as f64 / 1e6
    );
    drop(conn);

    let run = |label: &str, queries: &[String]| {
        // warm-up
        for q in queries.iter().take(50) {
            store
                .search_subjects(&SearchQuery {
                    text: q.clone(),
                    include_natural_persons: false,
                    page: 1,
                    per_page: 20,
                })
                .unwrap();
        }
        let mut times = Vec::new();
        let mut totals = Vec::new();
        for q in queries {
            let t = Instant::now();
            let page = store
                .search_subjects(&SearchQuery {
                    text: q.clone(),
                    include_natural_persons: false,
                    page: 1,
                    per_page: 20,
                })
                .unwrap();
            times.push(t.elapsed());
            totals.push(page.total);
        }
        let mut worst: Vec<_> = times.iter().zip(queries).zip(&totals).collect();
        worst.sort_by(|a, b| b.0.0.cmp(a.0.0));
        let worst: Vec<_> =
            worst.iter().take(5).map(|((t, q), n)| format!("{q}:{:.1}ms/{n}", t.as_secs_f64() * 1000.0)).collect();
        println!("  slowest: {}", worst.join(", "));
        totals.sort();
        println!(
            "{label}: n={} p50 {:.3} ms p90 {:.3} ms p99 {:.3} ms max {:.3} ms; matches p50 {} max {}",
            queries.len(),
            pct(times.clone(), 0.5),
            pct(times.clone(), 0.9),
            pct(times.clone(), 0.99),
            pct(times, 1.0),
            totals[totals.len() / 2],
            totals[totals.len() - 1]
        );
    };
    let mut qrng = Rng(7);
    let sub = |rng: &mut Rng, len: usize| {
        loop {
            let name: Vec<char> = names[rng.below(names.len())].chars().collect();
            if name.len() >= len {
                let s = rng.below(name.len() - len + 1);
                return name[s..s + len].iter().collect::<String>();
            }
        }
    };
    let two: Vec<String> = (0..2000).map(|_| sub(&mut qrng, 2)).collect();
    let four: Vec<String> = (0..2000).map(|_| sub(&mut qrng, 4)).collect();
    let rare2: Vec<String> = (0..2000).map(|_| (0..2).map(|_| common[qrng.below(common.len())]).collect()).collect();
    run("2-char (substrings of stored names)", &two);
    run("2-char (random pairs of common chars)", &rare2);
    run("4-char (substrings of stored names)", &four);
    for q in ["有限", "上海", "科技", "公司", "上海科技", "有限公司"] {
        run(&format!("fixed {q}"), &vec![q.to_owned(); 200]);
    }
    if std::env::args().nth(3).as_deref() == Some("backfill") {
        drop(store);
        let conn = Connection::open(dir.join(DB_FILE)).unwrap();
        conn.execute_batch("DROP TABLE subject_names_fts; DELETE FROM schema_migrations WHERE version = 2;").unwrap();
        drop(conn);
        let store = SqliteStore::open(&dir).unwrap();
        let t = Instant::now();
        store
            .search_subjects(&SearchQuery {
                text: "上海".into(),
                include_natural_persons: false,
                page: 1,
                per_page: 20,
            })
            .unwrap();
        println!("rebuilding the index for {n} names (backfill): {:.1} s", t.elapsed().as_secs_f64());
    }
}

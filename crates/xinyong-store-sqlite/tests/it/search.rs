//! Subject search: names by any part of 2 or more characters, identifiers in full or by USCC prefix,
//! ranked and paged, always in step with what is committed.

use rusqlite::Connection;
use tempfile::TempDir;
use xinyong_domain::ids::Identifier;
use xinyong_domain::subject::SubjectClaim;
use xinyong_store::conformance::{company, draft, install_default, load, person};
use xinyong_store::search::{MatchRank, SearchPage, SearchQuery, SearchStore};
use xinyong_store::{BatchMeta, BatchStore, SubjectKey, SubjectStore};
use xinyong_store_sqlite::{DB_FILE, SqliteStore};

fn store() -> (SqliteStore, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::create(&dir.path().join("data"), false).unwrap();
    install_default(&store).unwrap();
    (store, dir)
}

/// Company `n` (a valid USCC of its own) under a chosen name.
fn named(n: u32, name: &str) -> SubjectClaim {
    SubjectClaim { name: name.to_owned(), ..company(n) }
}

fn load_all(store: &SqliteStore, batch: &str, claims: &[SubjectClaim]) {
    let drafts: Vec<_> = claims
        .iter()
        .enumerate()
        .map(|(i, c)| draft(i as u64 + 2, &format!("{batch}-{i}"), Some(c.clone()), "警告"))
        .collect();
    load(store, batch, 6, &drafts).unwrap();
}

fn query(text: &str) -> SearchQuery {
    SearchQuery { text: text.to_owned(), include_natural_persons: false, page: 1, per_page: 100 }
}

fn search(store: &SqliteStore, text: &str) -> SearchPage {
    store.search_subjects(&query(text)).unwrap()
}

fn names(page: &SearchPage) -> Vec<String> {
    page.hits.iter().map(|h| h.name.clone()).collect()
}

fn uscc(claim: &SubjectClaim) -> String {
    claim.id.as_str().to_owned()
}

#[test]
fn two_characters_find_every_name_containing_them_and_nothing_else() {
    let (store, _dir) = store();
    let all =
        ["上海浦东示例贸易有限公司", "浦东小吃店", "示例", "北京示例科技有限公司", "浦", "东浦新村商店", "浦 东书店"];
    let claims: Vec<_> = all.iter().enumerate().map(|(i, n)| named(i as u32 + 1, n)).collect();
    load_all(&store, "b-1", &claims);

    let mut found = names(&search(&store, "浦东"));
    found.sort();
    assert_eq!(found, ["上海浦东示例贸易有限公司", "浦 东书店", "浦东小吃店"]);
    let found = search(&store, "示例");
    assert_eq!(found.total, 3);
    assert!(names(&found).iter().all(|n| n.contains("示例")));
}

#[test]
fn four_characters_match_only_as_a_substring() {
    let (store, _dir) = store();
    let claims = [
        named(1, "上海示例贸易有限公司"),
        named(2, "上海示例商贸易有限公司"),
        named(3, "贸易示例有限公司"),
        named(4, "示例贸易"),
        // Every bigram of 示例贸易 (示例, 例贸, 贸易), but never in a row.
        named(5, "示例贸例贸易"),
    ];
    load_all(&store, "b-1", &claims);

    let found = search(&store, "示例贸易");
    assert_eq!(names(&found), ["示例贸易", "上海示例贸易有限公司"]);
    assert_eq!(found.hits[0].rank, MatchRank::NamePrefix);
    assert_eq!(found.hits[1].rank, MatchRank::NameSubstring);
}

#[test]
fn width_case_spaces_and_punctuation_are_ignored_on_both_sides() {
    let (store, _dir) = store();
    load_all(&store, "b-1", &[named(1, "上海ABC（浦东）科技有限公司"), named(2, "ｘｙｚ 示例·商店")]);

    assert_eq!(names(&search(&store, "abc浦东")), ["上海ABC（浦东）科技有限公司"]);
    assert_eq!(names(&search(&store, "ＡＢＣ")), ["上海ABC（浦东）科技有限公司"]);
    assert_eq!(names(&search(&store, "XYZ示例商店")), ["ｘｙｚ 示例·商店"]);
}

#[test]
fn one_character_does_no_name_search() {
    let (store, _dir) = store();
    load_all(&store, "b-1", &[named(1, "示例"), named(2, "示")]);
    let found = search(&store, "示");
    assert_eq!((found.total, found.hits.len()), (0, 0));
}

#[test]
fn an_exact_uscc_ranks_before_name_prefix_before_substring() {
    let (store, _dir) = store();
    let target = named(1, "上海目标有限公司");
    let code = uscc(&target);
    let claims = [
        named(2, &format!("上海{code}有限公司")),
        named(3, &format!("{code}商店")),
        target.clone(),
        named(4, &format!("{code}有限公司")),
    ];
    load_all(&store, "b-1", &claims);

    let found = search(&store, &code.to_lowercase());
    let ranked: Vec<_> = found.hits.iter().map(|h| (h.rank, h.name.clone())).collect();
    assert_eq!(
        ranked,
        [
            (MatchRank::ExactId, "上海目标有限公司".to_owned()),
            (MatchRank::NamePrefix, format!("{code}商店")),
            (MatchRank::NamePrefix, format!("{code}有限公司")),
            (MatchRank::NameSubstring, format!("上海{code}有限公司")),
        ]
    );
    assert_eq!(found.hits[0].uscc.as_deref(), Some(code.as_str()));
    assert_eq!(found.total, 4);
}

#[test]
fn a_uscc_prefix_ranks_after_names_and_shorter_names_come_first() {
    let (store, _dir) = store();
    let claims =
        [named(1, "上海一号有限公司"), named(2, "9131便利店"), named(3, "上海9131科技"), named(4, "上海二号公司")];
    load_all(&store, "b-1", &claims);

    let found = search(&store, "9131");
    let ranked: Vec<_> = found.hits.iter().map(|h| (h.rank, h.name.as_str())).collect();
    assert_eq!(
        ranked,
        [
            (MatchRank::NamePrefix, "9131便利店"),
            (MatchRank::NameSubstring, "上海9131科技"),
            (MatchRank::IdPrefix, "上海二号公司"),
            (MatchRank::IdPrefix, "上海一号有限公司"),
        ]
    );
    // Three characters of a code are not looked for (only the names containing them are found), nor
    // characters outside the USCC alphabet.
    let short = search(&store, "913");
    assert_eq!((short.total, short.hits.iter().all(|h| h.rank != MatchRank::IdPrefix)), (2, true));
    assert_eq!(search(&store, "9131O").total, 0);
}

#[test]
fn an_organisation_code_finds_the_subjects_carrying_it() {
    let (store, _dir) = store();
    let target = named(1, "上海目标有限公司");
    load_all(&store, "b-1", &[target.clone(), named(2, "别的公司")]);
    let Identifier::Uscc(u) = &target.id else { unreachable!() };
    let found = search(&store, u.org_code());
    assert_eq!(names(&found), ["上海目标有限公司"]);
    assert_eq!(found.hits[0].rank, MatchRank::ExactId);
}

#[test]
fn a_rename_makes_the_old_name_unsearchable_and_the_new_one_searchable() {
    let (store, _dir) = store();
    load_all(&store, "b-1", &[named(1, "浦东小吃店"), named(2, "浦东书店"), person(7, "张小吃")]);
    load_all(&store, "b-2", &[named(1, "静安点心铺有限公司"), person(7, "张点心")]);
    let everyone = |text: &str| {
        let found = store.search_subjects(&SearchQuery { include_natural_persons: true, ..query(text) }).unwrap();
        names(&found)
    };

    assert_eq!(everyone("小吃"), Vec::<&str>::new());
    assert_eq!(everyone("浦东"), ["浦东书店"]);
    assert_eq!(everyone("点心"), ["张点心", "静安点心铺有限公司"]);
    // Renaming back works too: the index holds the current name only.
    load_all(&store, "b-3", &[named(1, "浦东小吃店"), person(7, "张小吃")]);
    assert_eq!(everyone("点心"), Vec::<&str>::new());
    assert_eq!(everyone("小吃"), ["张小吃", "浦东小吃店"]);
    assert_eq!(search(&store, "浦东").total, 2);
}

#[test]
fn a_dropped_batch_leaves_nothing_to_find() {
    let (store, _dir) = store();
    let prepared = xinyong_store::conformance::prepare(&store, &[draft(2, "k", Some(named(1, "浦东小吃店")), "x")]);
    {
        let meta = BatchMeta {
            id: "b-gone".into(),
            unit: "sh_amr".into(),
            item: "admin_penalty".into(),
            item_version: 1,
            file_name: None,
            all_or_nothing: false,
            started_at: chrono::DateTime::parse_from_rfc3339("2026-05-06T10:00:00+08:00").unwrap(),
        };
        let mut w = store.begin_batch(meta).unwrap();
        w.write(&prepared.unwrap()).unwrap();
    }
    assert_eq!(search(&store, "小吃").total, 0);
}

#[test]
fn a_full_resident_id_finds_the_person_and_a_partial_one_does_not() {
    let (store, _dir) = store();
    let p = person(7, "张三");
    load_all(&store, "b-1", &[p.clone(), named(1, "张三丰餐饮有限公司")]);
    let full = p.id.as_str().to_owned();

    let found = search(&store, &full);
    assert_eq!(found.total, 1);
    let hit = &found.hits[0];
    assert_eq!((hit.name.as_str(), hit.rank), ("张三", MatchRank::ExactId));
    assert_eq!(hit.resident_id.as_ref().map(|r| r.as_str()), Some(full.as_str()), "decrypted for the caller to mask");
    assert_eq!(search(&store, &full[..17]).total, 0);
    assert_eq!(search(&store, &full[..10]).total, 0);
    assert_eq!(search(&store, &full[..6]).total, 0);
}

#[test]
fn natural_persons_are_found_by_name_only_when_asked() {
    let (store, _dir) = store();
    let p = person(7, "张三");
    load_all(&store, "b-1", &[p.clone(), named(1, "张三丰餐饮有限公司")]);

    assert_eq!(names(&search(&store, "张三")), ["张三丰餐饮有限公司"]);
    let asked = store.search_subjects(&SearchQuery { include_natural_persons: true, ..query("张三") }).unwrap();
    assert_eq!(names(&asked), ["张三", "张三丰餐饮有限公司"]);
    assert_eq!(asked.hits[0].resident_id.as_ref().map(|r| r.as_str()), Some(p.id.as_str()));
    assert_eq!(asked.hits[1].resident_id, None);
}

#[test]
fn pages_split_the_ranked_matches_and_total_counts_them_all() {
    let (store, _dir) = store();
    let claims: Vec<_> = (1..=25).map(|n| named(n, &format!("示例{}号", "甲".repeat(n as usize)))).collect();
    load_all(&store, "b-1", &claims);
    let page = |page, per_page| store.search_subjects(&SearchQuery { page, per_page, ..query("示例") }).unwrap();

    let pages: Vec<_> = (1..=4).map(|p| page(p, 10)).collect();
    assert!(pages.iter().all(|p| p.total == 25));
    assert_eq!(pages.iter().map(|p| p.hits.len()).collect::<Vec<_>>(), [10, 10, 5, 0]);
    let lengths: Vec<_> = pages.iter().flat_map(|p| &p.hits).map(|h| h.name.chars().count()).collect();
    assert!(lengths.is_sorted(), "shorter names first across pages: {lengths:?}");
    assert_eq!(page(0, 10), pages[0], "page 0 is the first page");
    assert_eq!(page(1, 0).hits.len(), 1, "at least one per page");
    let many: Vec<_> = (26..=130).map(|n| named(n, &format!("示例{n}"))).collect();
    load_all(&store, "b-2", &many);
    assert_eq!(page(1, 1000).hits.len(), 100, "at most 100 per page");
}

#[test]
fn subjects_stored_before_the_index_existed_are_indexed_on_first_search() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = SqliteStore::create(&data, false).unwrap();
    install_default(&store).unwrap();
    load_all(&store, "b-1", &[named(1, "浦东小吃店"), named(2, "浦东书店")]);
    drop(store);
    // Back to a database from before migration 2.
    let conn = Connection::open(data.join(DB_FILE)).unwrap();
    conn.execute_batch("DROP TABLE subject_names_fts; DELETE FROM schema_migrations WHERE version = 2;").unwrap();
    drop(conn);

    let store = SqliteStore::open(&data).unwrap();
    assert_eq!(search(&store, "浦东").total, 2);
    load_all(&store, "b-2", &[named(1, "静安小吃店")]);
    assert_eq!(names(&search(&store, "小吃")), ["静安小吃店"]);
}

/// SplitMix64: a reproducible stream for the property test below (no proptest in this crate's
/// dev-dependencies).
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

    fn word(&mut self, alphabet: &[char], min: usize, max: usize) -> String {
        let len = min + self.below(max - min + 1);
        (0..len).map(|_| alphabet[self.below(alphabet.len())]).collect()
    }
}

/// Every page of a search, concatenated.
fn all_hits(store: &SqliteStore, text: &str) -> (u64, Vec<(MatchRank, String, i64)>) {
    let mut out = Vec::new();
    let mut total = 0;
    for page in 1.. {
        let p = store.search_subjects(&SearchQuery { page, ..query(text) }).unwrap();
        total = p.total;
        if p.hits.is_empty() {
            break;
        }
        out.extend(p.hits.into_iter().map(|h| (h.rank, h.name, h.subject_id)));
    }
    (total, out)
}

#[test]
fn name_search_agrees_with_a_naive_substring_filter() {
    const ALPHABET: [char; 6] = ['上', '海', '示', '例', '贸', '易'];
    for seed in 1..=3u64 {
        let mut rng = Rng(seed);
        let (store, _dir) = store();
        let names: Vec<String> = (0..300).map(|_| rng.word(&ALPHABET, 1, 8)).collect();
        let claims: Vec<_> = names.iter().enumerate().map(|(i, n)| named(i as u32 + 1, n)).collect();
        load_all(&store, "b-1", &claims);
        let id_of = |name: &str, i: usize| {
            let s = store.find_subject(&SubjectKey::Identifier(claims[i].id.clone())).unwrap().unwrap();
            assert_eq!(s.name, name);
            s.id
        };
        let ids: Vec<i64> = names.iter().enumerate().map(|(i, n)| id_of(n, i)).collect();

        for _ in 0..150 {
            let q = rng.word(&ALPHABET, 2, 5);
            let mut expected: Vec<_> = names
                .iter()
                .zip(&ids)
                .filter(|(n, _)| n.contains(&q))
                .map(|(n, id)| {
                    let rank = if n.starts_with(&q) { MatchRank::NamePrefix } else { MatchRank::NameSubstring };
                    (rank, n.clone(), *id)
                })
                .collect();
            expected.sort_by_key(|(rank, name, id)| (*rank, name.chars().count(), *id));
            let (total, found) = all_hits(&store, &q);
            assert_eq!(found, expected, "seed {seed}, query {q}");
            assert_eq!(total, expected.len() as u64, "seed {seed}, query {q}");
        }
    }
}

//! Subject search (issue 3) as every backend must show it: names by any part of 2 or more characters,
//! identifiers in full or by USCC prefix, ranked and paged, always in step with what is committed.

use xinyong_domain::ids::Identifier;
use xinyong_domain::subject::SubjectClaim;

use super::{Check, company, draft, err, install_default, load, person, prepare};
use crate::search::{MatchRank, SearchPage, SearchQuery};
use crate::{BatchMeta, Store, SubjectKey};

/// Company `n` (a valid USCC of its own) under a chosen name.
fn named(n: u32, name: &str) -> SubjectClaim {
    SubjectClaim { name: name.to_owned(), ..company(n) }
}

fn load_all(store: &dyn Store, batch: &str, claims: &[SubjectClaim]) -> Check {
    let drafts: Vec<_> = claims
        .iter()
        .enumerate()
        .map(|(i, c)| draft(i as u64 + 2, &format!("{batch}-{i}"), Some(c.clone()), "警告"))
        .collect();
    load(store, batch, 6, &drafts).map(|_| ())
}

fn query(text: &str) -> SearchQuery {
    SearchQuery { text: text.to_owned(), include_natural_persons: false, page: 1, per_page: 100 }
}

fn search(store: &dyn Store, text: &str) -> Result<SearchPage, String> {
    store.search_subjects(&query(text)).map_err(err)
}

fn everyone(store: &dyn Store, text: &str) -> Result<SearchPage, String> {
    store.search_subjects(&SearchQuery { include_natural_persons: true, ..query(text) }).map_err(err)
}

fn names(page: &SearchPage) -> Vec<String> {
    page.hits.iter().map(|h| h.name.clone()).collect()
}

fn ranked(page: &SearchPage) -> Vec<(MatchRank, String)> {
    page.hits.iter().map(|h| (h.rank, h.name.clone())).collect()
}

pub fn two_characters_find_every_name_containing_them_and_nothing_else(store: &dyn Store) -> Check {
    install_default(store)?;
    let all =
        ["上海浦东示例贸易有限公司", "浦东小吃店", "示例", "北京示例科技有限公司", "浦", "东浦新村商店", "浦 东书店"];
    let claims: Vec<_> = all.iter().enumerate().map(|(i, n)| named(i as u32 + 1, n)).collect();
    load_all(store, "b-1", &claims)?;
    let mut found = names(&search(store, "浦东")?);
    found.sort();
    ensure!(found == ["上海浦东示例贸易有限公司", "浦 东书店", "浦东小吃店"], "浦东 finds {found:?}");
    let found = search(store, "示例")?;
    ensure!(found.total == 3 && names(&found).iter().all(|n| n.contains("示例")), "示例 finds {:?}", names(&found));
    Ok(())
}

pub fn four_characters_match_only_as_a_substring(store: &dyn Store) -> Check {
    install_default(store)?;
    let claims = [
        named(1, "上海示例贸易有限公司"),
        named(2, "上海示例商贸易有限公司"),
        named(3, "贸易示例有限公司"),
        named(4, "示例贸易"),
        // Every bigram of 示例贸易 (示例, 例贸, 贸易), but never in a row.
        named(5, "示例贸例贸易"),
    ];
    load_all(store, "b-1", &claims)?;
    let found = search(store, "示例贸易")?;
    let expected =
        [(MatchRank::NamePrefix, "示例贸易".to_owned()), (MatchRank::NameSubstring, "上海示例贸易有限公司".to_owned())];
    ensure!(ranked(&found) == expected, "示例贸易 finds {:?}", ranked(&found));
    Ok(())
}

pub fn width_case_spaces_and_punctuation_are_ignored_on_both_sides(store: &dyn Store) -> Check {
    install_default(store)?;
    load_all(store, "b-1", &[named(1, "上海ABC（浦东）科技有限公司"), named(2, "ｘｙｚ 示例·商店")])?;
    for (text, name) in [
        ("abc浦东", "上海ABC（浦东）科技有限公司"),
        ("ＡＢＣ", "上海ABC（浦东）科技有限公司"),
        ("XYZ示例商店", "ｘｙｚ 示例·商店"),
    ] {
        let found = names(&search(store, text)?);
        ensure!(found == [name], "{text} finds {found:?}");
    }
    Ok(())
}

pub fn one_character_does_no_name_search(store: &dyn Store) -> Check {
    install_default(store)?;
    load_all(store, "b-1", &[named(1, "示例"), named(2, "示")])?;
    let found = search(store, "示")?;
    ensure!(found.total == 0 && found.hits.is_empty(), "示 finds {:?}", names(&found));
    Ok(())
}

pub fn an_exact_uscc_ranks_before_name_prefix_before_substring(store: &dyn Store) -> Check {
    install_default(store)?;
    let target = named(1, "上海目标有限公司");
    let code = target.id.as_str().to_owned();
    let claims = [
        named(2, &format!("上海{code}有限公司")),
        named(3, &format!("{code}商店")),
        target.clone(),
        named(4, &format!("{code}有限公司")),
    ];
    load_all(store, "b-1", &claims)?;
    let found = search(store, &code.to_lowercase())?;
    let expected = [
        (MatchRank::ExactId, "上海目标有限公司".to_owned()),
        (MatchRank::NamePrefix, format!("{code}商店")),
        (MatchRank::NamePrefix, format!("{code}有限公司")),
        (MatchRank::NameSubstring, format!("上海{code}有限公司")),
    ];
    ensure!(ranked(&found) == expected, "ranks {:?}", ranked(&found));
    ensure!(found.hits[0].uscc.as_deref() == Some(code.as_str()) && found.total == 4, "hit carries its uscc");
    Ok(())
}

pub fn a_uscc_prefix_ranks_after_names_and_shorter_names_come_first(store: &dyn Store) -> Check {
    install_default(store)?;
    let claims =
        [named(1, "上海一号有限公司"), named(2, "9131便利店"), named(3, "上海9131科技"), named(4, "上海二号公司")];
    load_all(store, "b-1", &claims)?;
    let found = search(store, "9131")?;
    let expected = [
        (MatchRank::NamePrefix, "9131便利店".to_owned()),
        (MatchRank::NameSubstring, "上海9131科技".to_owned()),
        (MatchRank::IdPrefix, "上海二号公司".to_owned()),
        (MatchRank::IdPrefix, "上海一号有限公司".to_owned()),
    ];
    ensure!(ranked(&found) == expected, "ranks {:?}", ranked(&found));
    // Three characters of a code are not looked for (only the names containing them are found), nor
    // characters outside the USCC alphabet.
    let short = search(store, "913")?;
    ensure!(short.total == 2 && short.hits.iter().all(|h| h.rank != MatchRank::IdPrefix), "913: {:?}", ranked(&short));
    ensure!(search(store, "9131O")?.total == 0, "9131O is no USCC prefix");
    Ok(())
}

pub fn an_organisation_code_finds_the_subjects_carrying_it(store: &dyn Store) -> Check {
    install_default(store)?;
    let target = named(1, "上海目标有限公司");
    load_all(store, "b-1", &[target.clone(), named(2, "别的公司")])?;
    let Identifier::Uscc(u) = &target.id else { return Err("a company has a USCC".into()) };
    let found = search(store, u.org_code())?;
    ensure!(ranked(&found) == [(MatchRank::ExactId, "上海目标有限公司".to_owned())], "{:?}", ranked(&found));
    Ok(())
}

pub fn a_rename_makes_the_old_name_unsearchable_and_the_new_one_searchable(store: &dyn Store) -> Check {
    install_default(store)?;
    load_all(store, "b-1", &[named(1, "浦东小吃店"), named(2, "浦东书店"), person(7, "张小吃")])?;
    load_all(store, "b-2", &[named(1, "静安点心铺有限公司"), person(7, "张点心")])?;
    ensure!(names(&everyone(store, "小吃")?).is_empty(), "old names are gone");
    ensure!(names(&everyone(store, "浦东")?) == ["浦东书店"], "浦东: {:?}", names(&everyone(store, "浦东")?));
    ensure!(names(&everyone(store, "点心")?) == ["张点心", "静安点心铺有限公司"], "new names found");
    // Renaming back works too: the index holds the current name only.
    load_all(store, "b-3", &[named(1, "浦东小吃店"), person(7, "张小吃")])?;
    ensure!(names(&everyone(store, "点心")?).is_empty(), "renamed back");
    ensure!(
        names(&everyone(store, "小吃")?) == ["张小吃", "浦东小吃店"],
        "小吃: {:?}",
        names(&everyone(store, "小吃")?)
    );
    ensure!(search(store, "浦东")?.total == 2, "浦东 twice");
    Ok(())
}

pub fn a_dropped_batch_leaves_nothing_to_find(store: &dyn Store) -> Check {
    install_default(store)?;
    let prepared = prepare(store, &[draft(2, "k", Some(named(1, "浦东小吃店")), "x")])?;
    {
        let meta = BatchMeta {
            id: "b-gone".into(),
            unit: "sh_amr".into(),
            item: "admin_penalty".into(),
            item_version: 1,
            file_name: None,
            all_or_nothing: false,
            started_at: super::at(6),
        };
        let mut w = store.begin_batch(meta).map_err(err)?;
        w.write(&prepared).map_err(err)?;
    }
    ensure!(search(store, "小吃")?.total == 0, "a rolled-back subject is not found");
    Ok(())
}

pub fn a_full_resident_id_finds_the_person_and_a_partial_one_does_not(store: &dyn Store) -> Check {
    install_default(store)?;
    let p = person(7, "张三");
    load_all(store, "b-1", &[p.clone(), named(1, "张三丰餐饮有限公司")])?;
    let full = p.id.as_str().to_owned();
    let found = search(store, &full)?;
    ensure!(found.total == 1, "one person: {}", found.total);
    let hit = &found.hits[0];
    ensure!(hit.name == "张三" && hit.rank == MatchRank::ExactId, "the person, exactly: {hit:?}");
    ensure!(hit.resident_id.as_ref().map(|r| r.as_str()) == Some(full.as_str()), "decrypted for the caller to mask");
    for len in [17, 10, 6] {
        ensure!(search(store, &full[..len])?.total == 0, "{len} characters of a resident id find nothing");
    }
    Ok(())
}

pub fn natural_persons_are_found_by_name_only_when_asked(store: &dyn Store) -> Check {
    install_default(store)?;
    let p = person(7, "张三");
    load_all(store, "b-1", &[p.clone(), named(1, "张三丰餐饮有限公司")])?;
    ensure!(names(&search(store, "张三")?) == ["张三丰餐饮有限公司"], "persons left out");
    let asked = everyone(store, "张三")?;
    ensure!(names(&asked) == ["张三", "张三丰餐饮有限公司"], "persons when asked: {:?}", names(&asked));
    ensure!(asked.hits[0].resident_id.as_ref().map(|r| r.as_str()) == Some(p.id.as_str()), "person's id");
    ensure!(asked.hits[1].resident_id.is_none(), "a company has none");
    Ok(())
}

pub fn pages_split_the_ranked_matches_and_total_counts_them_all(store: &dyn Store) -> Check {
    install_default(store)?;
    let claims: Vec<_> = (1..=25).map(|n| named(n, &format!("示例{}号", "甲".repeat(n as usize)))).collect();
    load_all(store, "b-1", &claims)?;
    let page = |page, per_page| store.search_subjects(&SearchQuery { page, per_page, ..query("示例") }).map_err(err);
    let pages = (1..=4).map(|p| page(p, 10)).collect::<Result<Vec<_>, String>>()?;
    ensure!(pages.iter().all(|p| p.total == 25), "total counts all");
    let sizes: Vec<_> = pages.iter().map(|p| p.hits.len()).collect();
    ensure!(sizes == [10, 10, 5, 0], "page sizes {sizes:?}");
    let lengths: Vec<_> = pages.iter().flat_map(|p| &p.hits).map(|h| h.name.chars().count()).collect();
    ensure!(lengths.is_sorted(), "shorter names first across pages: {lengths:?}");
    ensure!(page(0, 10)? == pages[0], "page 0 is the first page");
    ensure!(page(1, 0)?.hits.len() == 1, "at least one per page");
    let many: Vec<_> = (26..=130).map(|n| named(n, &format!("示例{n}"))).collect();
    load_all(store, "b-2", &many)?;
    ensure!(page(1, 1000)?.hits.len() == 100, "at most 100 per page");
    Ok(())
}

/// SplitMix64: a reproducible stream for the property check below.
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

/// A hit as the property check compares it.
type Hit = (MatchRank, String, i64);

/// Every page of a search, concatenated.
fn all_hits(store: &dyn Store, text: &str) -> Result<(u64, Vec<Hit>), String> {
    let mut out = Vec::new();
    let mut total = 0;
    for page in 1.. {
        let p = store.search_subjects(&SearchQuery { page, ..query(text) }).map_err(err)?;
        total = p.total;
        if p.hits.is_empty() {
            break;
        }
        out.extend(p.hits.into_iter().map(|h| (h.rank, h.name, h.subject_id)));
    }
    Ok((total, out))
}

/// Three rounds of random names over a six-character alphabet, each searched with random text and
/// compared with a plain substring filter over every name stored so far.
pub fn name_search_agrees_with_a_naive_substring_filter(store: &dyn Store) -> Check {
    const ALPHABET: [char; 6] = ['上', '海', '示', '例', '贸', '易'];
    install_default(store)?;
    let mut stored: Vec<(String, i64)> = Vec::new();
    for seed in 1..=3u32 {
        let mut rng = Rng(u64::from(seed));
        let names: Vec<String> = (0..300).map(|_| rng.word(&ALPHABET, 1, 8)).collect();
        let claims: Vec<_> = names.iter().enumerate().map(|(i, n)| named(seed * 1000 + i as u32, n)).collect();
        load_all(store, &format!("b-{seed}"), &claims)?;
        for (claim, name) in claims.iter().zip(&names) {
            let s = store.find_subject(&SubjectKey::Identifier(claim.id.clone())).map_err(err)?.ok_or("stored")?;
            ensure!(s.name == *name, "subject {} is named {name}", s.id);
            stored.push((name.clone(), s.id));
        }
        for _ in 0..150 {
            let q = rng.word(&ALPHABET, 2, 5);
            let mut expected: Vec<_> = stored
                .iter()
                .filter(|(n, _)| n.contains(&q))
                .map(|(n, id)| {
                    let rank = if n.starts_with(&q) { MatchRank::NamePrefix } else { MatchRank::NameSubstring };
                    (rank, n.clone(), *id)
                })
                .collect();
            expected.sort_by_key(|(rank, name, id)| (*rank, name.chars().count(), *id));
            let (total, found) = all_hits(store, &q)?;
            ensure!(found == expected, "seed {seed}, query {q}: {found:?}");
            ensure!(total == expected.len() as u64, "seed {seed}, query {q}: total {total}");
        }
    }
    Ok(())
}

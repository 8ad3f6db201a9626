//! The manifest against the files: same seed, same bytes; row counts; catalog units and items;
//! ingestion order.

use std::collections::BTreeSet;

use xinyong_domain::catalog::Catalog;
use xinyong_synth::{MANIFEST_FILE, Manifest};

use crate::support::{SUBJECTS, read, run};

#[test]
fn the_same_seed_gives_byte_identical_files_and_manifest() {
    let (a, b) = (run(11), run(11));
    assert_eq!(a.manifest, b.manifest);
    let mut names: Vec<String> = a.manifest.files.iter().map(|f| f.path.clone()).collect();
    names.push(MANIFEST_FILE.to_owned());
    for name in &names {
        let (x, y) = (std::fs::read(a.out().join(name)), std::fs::read(b.out().join(name)));
        let (x, y) = (x.unwrap_or_default(), y.unwrap_or_default());
        assert!(!x.is_empty(), "{name} is empty");
        assert!(x == y, "{name} differs between two runs with the same seed");
    }
    let on_disk = std::fs::read_dir(a.out()).map(|d| d.count()).unwrap_or_default();
    assert_eq!(on_disk, names.len(), "files on disk that the manifest does not list");
}

#[test]
fn another_seed_gives_other_data() {
    let (a, b) = (run(1), run(2));
    let first = &a.manifest.files[1];
    assert_ne!(a.bytes(first), b.bytes(first));
}

#[test]
fn the_manifest_on_disk_is_the_one_returned_and_counts_the_data_rows() {
    let r = run(3);
    let text = std::fs::read_to_string(r.out().join(MANIFEST_FILE)).unwrap_or_default();
    let on_disk: Manifest = serde_json::from_str(&text).unwrap_or_else(|e| panic!("manifest.json: {e}"));
    assert_eq!(on_disk, r.manifest);
    assert_eq!((on_disk.seed, on_disk.subjects), (3, SUBJECTS));
    for file in &r.manifest.files {
        assert!(file.invalid_rows <= file.rows, "{}", file.path);
        assert!(!file.path.contains('/') && !file.path.contains('\\'), "{} is not relative", file.path);
        if let Some(table) = read(&r.out(), file) {
            assert_eq!(table.rows.len() as u64, file.rows, "{}", file.path);
        }
    }
    let rows: u64 = r.manifest.files.iter().map(|f| f.rows).sum();
    let per_subject = rows as f64 / SUBJECTS as f64;
    assert!((8.5..11.5).contains(&per_subject), "{per_subject} rows per subject");
}

#[test]
fn every_file_is_a_unit_and_item_the_default_catalog_allows() {
    let catalog = Catalog::default_catalog().unwrap_or_else(|e| panic!("{e}"));
    let r = run(4);
    for file in &r.manifest.files {
        let unit = catalog.units.iter().find(|u| u.code == file.unit);
        let unit = unit.unwrap_or_else(|| panic!("{}: unit {} not in the catalog", file.path, file.unit));
        assert!(unit.supplies.contains(&file.item), "{} does not supply {}", file.unit, file.item);
        assert!(catalog.item(&file.item).is_some(), "{}", file.item);
    }
}

#[test]
fn files_are_listed_registration_first_then_licences_penalties_lists() {
    let r = run(5);
    let stage = |item: &str| match item {
        "legal_person_registration" => 0,
        "admin_license" => 1,
        "admin_penalty" => 2,
        _ => 3,
    };
    let stages: Vec<u8> = r.manifest.files.iter().map(|f| stage(&f.item)).collect();
    assert!(stages.windows(2).all(|w| w[0] <= w[1]), "{stages:?}");
    assert_eq!(r.manifest.files.iter().filter(|f| stage(&f.item) == 0).count(), 1);
    let pairs: BTreeSet<(&str, &str)> = r.manifest.files.iter().map(|f| (f.unit.as_str(), f.item.as_str())).collect();
    assert_eq!(pairs.len(), r.manifest.files.len(), "one file per unit and item");
    let lists: BTreeSet<&str> =
        r.manifest.files.iter().filter(|f| stage(&f.item) == 3).map(|f| f.item.as_str()).collect();
    assert_eq!(lists.len(), 8, "{lists:?}");
}

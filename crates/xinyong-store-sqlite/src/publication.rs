//! Published records for the public lists (双公示, reward and punishment lists), filtered by their
//! window at the moment of the query.
//!
//! The publication index (migration 13) holds the active, published records only, each under its key
//! with its window's end and its unit: a list's total is counted from the index alone, and its page
//! reads the table for the rows it shows and those it skips.

use rusqlite::types::Value;
use xinyong_store::search::{PublicationStore, PublishedQuery};
use xinyong_store::{Record, Result};

use crate::subjects::RECORD_COLUMNS;
use crate::{SqliteStore, db_err};

/// The publication index's key: a record's item and decision date, joined by a space.
const KEY: &str = "item || ' ' || record_date";

/// The key range of an item's records decided from `from` (or ever) up to `to`. Exact: item codes
/// hold no space, and a space sorts below every character they hold, so no other item's key falls
/// between the two bounds.
fn key_range(item: &str, from: Option<chrono::NaiveDate>, to: chrono::NaiveDate) -> [Value; 2] {
    let from = from.map(|d| d.to_string()).unwrap_or_default();
    [Value::Text(format!("{item} {from}")), Value::Text(format!("{item} {to}"))]
}

/// The list's two statements, its page's and its count's, and the parameters both take.
///
/// Each item is asked apart, one range of the index with the conditions repeated (`UNION ALL` of one
/// `SELECT` per item): SQLite uses a partial index only for a statement whose own conditions imply the
/// index's, which an `OR` of the items' ranges does not, and it then scanned the whole index.
fn statements(q: &PublishedQuery) -> ([String; 2], Vec<Value>) {
    // ?1 is today, ?2 the unit; then each item's range, from ?3 on.
    let mut params = vec![Value::Text(q.today.to_string()), q.unit.clone().map_or(Value::Null, Value::Text)];
    // The index's own condition is spelled as it is, for SQLite to find the index usable.
    let mut common = "status = 'active' AND published = 1 AND (public_until IS NULL OR public_until > ?1)".to_owned();
    if q.unit.is_some() {
        common.push_str(" AND unit = ?2");
    }
    // Decided by today and inside the asked dates.
    let to = q.to.map_or(q.today, |to| to.min(q.today));
    // An item named twice is listed once.
    let mut items: Vec<&str> = q.items.iter().map(String::as_str).collect();
    items.sort_unstable();
    items.dedup();
    let filters: Vec<String> = items
        .into_iter()
        .map(|item| {
            params.extend(key_range(item, q.from, to));
            format!("{KEY} BETWEEN ?{} AND ?{} AND {common}", params.len() - 1, params.len())
        })
        .collect();
    let (per_page, offset) = q.limit_offset();
    let limit = format!("LIMIT {per_page} OFFSET {offset}");
    let page = match filters.as_slice() {
        // One item's records come newest first straight from the index, each day's sorted by id (the
        // index orders a day's entries by window and unit).
        [filter] => format!("SELECT {RECORD_COLUMNS} FROM records WHERE {filter} ORDER BY {KEY} DESC, id DESC {limit}"),
        // Several items': each gives its first `offset + per_page` in that order, and only those are
        // sorted together, not every listed record of every item.
        _ => {
            let first = offset + per_page;
            let arms: Vec<String> = filters
                .iter()
                .map(|filter| {
                    format!(
                        "SELECT * FROM (SELECT {RECORD_COLUMNS} FROM records WHERE {filter} \
                         ORDER BY {KEY} DESC, id DESC LIMIT {first})"
                    )
                })
                .collect();
            format!("{} ORDER BY record_date DESC, id DESC {limit}", arms.join(" UNION ALL "))
        }
    };
    let counts: Vec<String> =
        filters.iter().map(|filter| format!("SELECT count(*) AS n FROM records WHERE {filter}")).collect();
    let count = format!("SELECT sum(n) FROM ({})", counts.join(" UNION ALL "));
    ([page, count], params)
}

impl PublicationStore for SqliteStore {
    fn published_records(&self, q: &PublishedQuery) -> Result<(Vec<Record>, u64)> {
        if q.items.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let ([page, count], params) = statements(q);
        self.read(|conn| {
            let total: i64 = conn
                .prepare_cached(&count)
                .map_err(db_err)?
                .query_row(rusqlite::params_from_iter(params.iter()), |r| r.get(0))
                .map_err(db_err)?;
            let mut stmt = conn.prepare_cached(&page).map_err(db_err)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(params.iter())).map_err(db_err)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(db_err)? {
                out.push(self.record_from_row(row)?);
            }
            Ok((out, total as u64))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// A list of `items` of one unit's, and a new store to ask SQLite about its statements in.
    fn query(items: &[&str], unit: Option<&str>) -> (tempfile::TempDir, SqliteStore, PublishedQuery) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::create(dir.path(), false).unwrap();
        let q = PublishedQuery {
            items: items.iter().map(|i| (*i).to_owned()).collect(),
            today: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            unit: unit.map(str::to_owned),
            from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1),
            to: None,
            page: 3,
            per_page: 20,
        };
        (dir, store, q)
    }

    /// The rows of `EXPLAIN` (bytecode) or `EXPLAIN QUERY PLAN` for each of the list's two statements.
    fn explained<T>(
        items: &[&str],
        unit: Option<&str>,
        explain: &str,
        row: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T> + Copy,
    ) -> [Vec<T>; 2] {
        let (_dir, store, q) = query(items, unit);
        let (sqls, params) = statements(&q);
        sqls.map(|sql| {
            store
                .read(|conn| {
                    let mut stmt = conn.prepare(&format!("{explain} {sql}")).unwrap();
                    Ok(stmt
                        .query_map(rusqlite::params_from_iter(params.iter()), row)
                        .unwrap()
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .unwrap())
                })
                .unwrap()
        })
    }

    /// What SQLite plans for the list's page and its count, one line per step.
    fn plans(items: &[&str]) -> [String; 2] {
        explained(items, Some("sh_amr"), "EXPLAIN QUERY PLAN", |r| r.get::<_, String>(3)).map(|steps| steps.join("\n"))
    }

    const RANGE: &str = "SEARCH records USING INDEX records_item_date (<expr>>? AND <expr><?)";

    #[test]
    fn one_item_is_listed_from_the_publication_index_in_its_order() {
        let [page, count] = plans(&["admin_penalty"]);
        for plan in [&page, &count] {
            assert!(plan.contains(RANGE), "{plan}");
            assert!(!plan.contains("USE TEMP B-TREE FOR ORDER BY"), "no sort of the whole list: {plan}");
        }
        assert!(!count.contains("TEMP B-TREE"), "{count}");
    }

    #[test]
    fn several_items_are_each_read_from_the_publication_index_in_its_order() {
        let [page, count] = plans(&["admin_penalty", "admin_license"]);
        for plan in [&page, &count] {
            assert_eq!(plan.matches(RANGE).count(), 2, "{plan}");
            assert!(!plan.contains("SCAN records"), "{plan}");
        }
        assert!(page.contains("MERGE (UNION ALL)"), "{page}");
        // Each item's records are read in the index's order up to the page's end, only those of one
        // day sorted by id: not every listed record sorted for each page.
        assert_eq!(page.matches("USE TEMP B-TREE FOR LAST TERM OF ORDER BY").count(), 2, "{page}");
    }

    /// The count reads no column of the table (`Column` on a cursor that `OpenRead` opened on a table,
    /// whose fourth operand is its column count where an index's is its key's description, `k(…)`): the
    /// index holds every column the count's conditions name, whichever filters are given.
    #[test]
    fn a_list_is_counted_from_the_publication_index_alone() {
        for items in [&["admin_penalty"][..], &["admin_penalty", "admin_license"]] {
            for unit in [None, Some("sh_amr")] {
                // (opcode, p1, p4) of each instruction.
                let [_, count] = explained(items, unit, "EXPLAIN", |r| {
                    Ok((r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, Option<String>>(5)?))
                });
                let opened = |table: bool| -> Vec<i64> {
                    count
                        .iter()
                        .filter(|(op, _, p4)| {
                            op == "OpenRead" && table != p4.as_deref().is_some_and(|k| k.starts_with("k("))
                        })
                        .map(|(_, cursor, _)| *cursor)
                        .collect()
                };
                let reads =
                    |cursors: Vec<i64>| count.iter().filter(|(op, c, _)| op == "Column" && cursors.contains(c)).count();
                assert_eq!(reads(opened(true)), 0, "{items:?} {unit:?}: {count:?}");
                assert!(reads(opened(false)) > 0, "{items:?} {unit:?}: {count:?}");
            }
        }
    }
}

//! Published records for the public lists (双公示, reward and punishment lists), filtered by their
//! window at the moment of the query.

use rusqlite::types::Value;
use xinyong_store::search::{PublicationStore, PublishedQuery};
use xinyong_store::{Record, Result};

use crate::subjects::RECORD_COLUMNS;
use crate::{SqliteStore, db_err};

/// The publication index's key (migration 12): a record's item and decision date, joined by a space.
const KEY: &str = "item || ' ' || record_date";

/// The key range of an item's records decided from `from` (or ever) up to `to`. Exact: item codes
/// hold no space, and a space sorts below every character they hold, so no other item's key falls
/// between the two bounds.
fn key_range(item: &str, from: Option<chrono::NaiveDate>, to: chrono::NaiveDate) -> [Value; 2] {
    let from = from.map(|d| d.to_string()).unwrap_or_default();
    [Value::Text(format!("{item} {from}")), Value::Text(format!("{item} {to}"))]
}

/// The list's two statements, its page's and its count's, and the parameters both take.
fn statements(q: &PublishedQuery) -> ([String; 2], Vec<Value>) {
    // Decided by today and inside the asked dates: one range of the index per item.
    let to = q.to.map_or(q.today, |to| to.min(q.today));
    let ranges = vec![format!("{KEY} BETWEEN ? AND ?"); q.items.len()].join(" OR ");
    let mut conditions = vec![
        format!("({ranges})"),
        "status = 'active'".to_owned(),
        "published = 1".to_owned(),
        "(public_until IS NULL OR public_until > ?)".to_owned(),
    ];
    let mut params: Vec<Value> = q.items.iter().flat_map(|item| key_range(item, q.from, to)).collect();
    params.push(Value::Text(q.today.to_string()));
    if let Some(unit) = &q.unit {
        conditions.push("unit = ?".to_owned());
        params.push(Value::Text(unit.clone()));
    }
    let filter = conditions.join(" AND ");
    // One item's records come newest first straight from the index; several items' are sorted.
    let order = if q.items.len() == 1 { KEY } else { "record_date" };
    let per_page = q.per_page.clamp(1, 100);
    let offset = (q.page.max(1) - 1) * per_page;
    let page = format!(
        "SELECT {RECORD_COLUMNS} FROM records WHERE {filter} ORDER BY {order} DESC, id DESC LIMIT {per_page} OFFSET {offset}"
    );
    ([page, format!("SELECT count(*) FROM records WHERE {filter}")], params)
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

    /// What SQLite plans for the list's page and its count, one line per step.
    fn plans(items: &[&str]) -> [String; 2] {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::create(dir.path(), false).unwrap();
        let q = PublishedQuery {
            items: items.iter().map(|i| (*i).to_owned()).collect(),
            today: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            unit: Some("sh_amr".to_owned()),
            from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1),
            to: None,
            page: 3,
            per_page: 20,
        };
        let (sqls, params) = statements(&q);
        sqls.map(|sql| {
            store
                .read(|conn| {
                    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
                    let steps = stmt
                        .query_map(rusqlite::params_from_iter(params.iter()), |r| r.get::<_, String>(3))
                        .unwrap()
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .unwrap();
                    Ok(steps.join("\n"))
                })
                .unwrap()
        })
    }

    #[test]
    fn one_item_is_listed_from_the_publication_index_in_its_order() {
        for plan in plans(&["admin_penalty"]) {
            assert!(plan.contains("USING INDEX records_item_date (<expr>>? AND <expr><?)"), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
        }
    }

    #[test]
    fn several_items_are_each_found_through_the_publication_index() {
        let [page, count] = plans(&["admin_penalty", "admin_license"]);
        for plan in [&page, &count] {
            assert!(plan.contains("MULTI-INDEX OR"), "{plan}");
            assert_eq!(plan.matches("USING INDEX records_item_date").count(), 2, "{plan}");
        }
        assert!(page.contains("USE TEMP B-TREE FOR ORDER BY"), "{page}");
    }
}

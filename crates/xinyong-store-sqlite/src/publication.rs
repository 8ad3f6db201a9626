//! Published records for the public lists (双公示, reward and punishment lists), filtered by their
//! window at the moment of the query.

use rusqlite::types::Value;
use xinyong_store::search::{PublicationStore, PublishedQuery};
use xinyong_store::{Record, Result};

use crate::subjects::RECORD_COLUMNS;
use crate::{SqliteStore, db_err};

impl PublicationStore for SqliteStore {
    fn published_records(&self, q: &PublishedQuery) -> Result<(Vec<Record>, u64)> {
        if q.items.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let mut conditions = vec![
            format!("item IN ({})", vec!["?"; q.items.len()].join(", ")),
            "status = 'active'".to_owned(),
            "published = 1".to_owned(),
            "record_date <= ?".to_owned(),
            "(public_until IS NULL OR public_until > ?)".to_owned(),
        ];
        let today = q.today.to_string();
        let mut params: Vec<Value> = q.items.iter().map(|i| Value::Text(i.clone())).collect();
        params.push(Value::Text(today.clone()));
        params.push(Value::Text(today));
        if let Some(unit) = &q.unit {
            conditions.push("unit = ?".to_owned());
            params.push(Value::Text(unit.clone()));
        }
        if let Some(from) = q.from {
            conditions.push("record_date >= ?".to_owned());
            params.push(Value::Text(from.to_string()));
        }
        if let Some(to) = q.to {
            conditions.push("record_date <= ?".to_owned());
            params.push(Value::Text(to.to_string()));
        }
        let filter = conditions.join(" AND ");
        let per_page = q.per_page.clamp(1, 100);
        let offset = (q.page.max(1) - 1) * per_page;
        self.read(|conn| {
            let total: i64 = conn
                .prepare_cached(&format!("SELECT count(*) FROM records WHERE {filter}"))
                .map_err(db_err)?
                .query_row(rusqlite::params_from_iter(params.iter()), |r| r.get(0))
                .map_err(db_err)?;
            let sql = format!(
                "SELECT {RECORD_COLUMNS} FROM records WHERE {filter} ORDER BY record_date DESC, id DESC LIMIT {per_page} OFFSET {offset}"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(params.iter())).map_err(db_err)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(db_err)? {
                out.push(self.record_from_row(row)?);
            }
            Ok((out, total as u64))
        })
    }
}

//! Published records for the public lists (双公示, reward and punishment lists), filtered by their
//! window at the moment of the query. One statement whatever the filters: absent ones are NULL.

use xinyong_store::search::{PublicationStore, PublishedQuery};
use xinyong_store::{Record, Result};

use crate::PgStore;
use crate::subjects::record_columns;

macro_rules! published_filter {
    () => {
        " FROM records WHERE item_no = ANY(ARRAY(SELECT no FROM item_numbers WHERE item = ANY($1)))
            AND status = 'active' AND published AND record_date <= $2
            AND (public_until IS NULL OR public_until > $2)
            AND ($3::text IS NULL OR unit = $3)
            AND ($4::date IS NULL OR record_date >= $4)
            AND ($5::date IS NULL OR record_date <= $5)"
    };
}

/// A list's total. The publication index (migration 15) holds the active, published records only, with
/// each one's window and unit beside its key, so the server can count them by an index-only scan.
const COUNT: &str = concat!("SELECT count(*)", published_filter!());

impl PublicationStore for PgStore {
    fn published_records(&self, q: &PublishedQuery) -> Result<(Vec<Record>, u64)> {
        if q.items.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let per_page = i64::from(q.per_page.clamp(1, 100));
        let offset = i64::from(q.page.max(1) - 1) * per_page;
        let (total, rows) = self.with(|c| {
            let params: [&(dyn postgres::types::ToSql + Sync); 5] = [&q.items, &q.today, &q.unit, &q.from, &q.to];
            let total: i64 = c.query_one(COUNT, &params)?.get(0);
            let rows = c.query(
                concat!(
                    "SELECT ",
                    record_columns!(),
                    published_filter!(),
                    " ORDER BY record_date DESC, id DESC LIMIT $6 OFFSET $7"
                ),
                &[&q.items, &q.today, &q.unit, &q.from, &q.to, &per_page, &offset],
            )?;
            Ok((total, rows))
        })?;
        let records = rows.iter().map(|r| self.record_from_row(r)).collect::<Result<Vec<_>>>()?;
        Ok((records, total as u64))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::scratch::ScratchDatabase;

    /// With or without a unit, the count can be answered from the publication index alone: with the
    /// scans that read the table turned off, the server plans an index-only scan of it. (On a store
    /// this small it would rather read the table; on a large one the index is the cheaper way.)
    #[test]
    fn a_list_is_counted_by_an_index_only_scan() {
        let db = ScratchDatabase::create().unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().unwrap();
        let store = PgStore::create(db.url(), &dir.path().join("data"), false).unwrap();
        let items = vec!["admin_license".to_owned()];
        let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        for unit in [None, Some("sh_amr".to_owned())] {
            // `SET LOCAL`: the settings end with the transaction, also when the `EXPLAIN` fails, so the
            // pooled connection goes back as it came.
            let plan = store
                .with(|c| {
                    c.transaction(|c| {
                        c.client
                            .batch_execute(
                                "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;
                                 SET LOCAL enable_indexscan = off",
                            )
                            .map_err(crate::db_err)?;
                        let params: [&(dyn postgres::types::ToSql + Sync); 5] =
                            [&items, &today, &unit, &None::<chrono::NaiveDate>, &None::<chrono::NaiveDate>];
                        let rows = c.client.query(&format!("EXPLAIN {COUNT}"), &params).map_err(crate::db_err)?;
                        Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>().join("\n"))
                    })
                })
                .unwrap();
            assert!(plan.contains("Index Only Scan using records_item_date"), "{unit:?}: {plan}");
        }
    }
}

//! Published records for the public lists (双公示, reward and punishment lists), filtered by their
//! window at the moment of the query. One statement whatever the filters: absent ones are NULL.

use xinyong_store::search::{PublicationStore, PublishedQuery};
use xinyong_store::{Record, Result};

use crate::PgStore;
use crate::subjects::record_columns;

/// The numbers of the list's items (`item_numbers`, migration 13).
macro_rules! item_numbers {
    () => {
        "ARRAY(SELECT no FROM item_numbers WHERE item = ANY($1))"
    };
}

/// What a listed record satisfies, its item number compared as the SQL pieces given say.
macro_rules! published_filter {
    ($($item_no:tt)+) => {
        concat!(
            " FROM records WHERE item_no ",
            $($item_no)+,
            " AND status = 'active' AND published AND record_date <= $2
            AND (public_until IS NULL OR public_until > $2)
            AND ($3::text IS NULL OR unit = $3)
            AND ($4::date IS NULL OR record_date >= $4)
            AND ($5::date IS NULL OR record_date <= $5)"
        )
    };
}

/// A list's total. The publication index (migration 15) holds the active, published records only, with
/// each one's window and unit beside its key, so the server can count them by an index-only scan.
const COUNT: &str = concat!("SELECT count(*)", published_filter!("= ANY(", item_numbers!(), ")"));

/// A page of a list, newest first. Asked of all its items at once (`item_no = ANY(…)`), the server
/// cannot read the publication index in date order, and sorted every listed record for each page:
/// 3.2–4.0 s a page for the 7.2 million licences of a million-subject store (`docs/scale.md` §6). So
/// each item is asked for its first `offset + per_page` records, which the index gives in date order
/// (only records of one date are sorted, by id), and only those are sorted together: 7–10 ms.
const PAGE: &str = concat!(
    "SELECT r.* FROM unnest(",
    item_numbers!(),
    ") AS n(no) CROSS JOIN LATERAL (SELECT ",
    record_columns!(),
    published_filter!("= n.no"),
    " ORDER BY record_date DESC, id DESC LIMIT $6::bigint + $7::bigint) r
    ORDER BY r.record_date DESC, r.id DESC LIMIT $6 OFFSET $7"
);

impl PublicationStore for PgStore {
    fn published_records(&self, q: &PublishedQuery) -> Result<(Vec<Record>, u64)> {
        if q.items.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let (per_page, offset) = q.limit_offset();
        let (total, rows) = self.with(|c| {
            let params: [&(dyn postgres::types::ToSql + Sync); 5] = [&q.items, &q.today, &q.unit, &q.from, &q.to];
            let total: i64 = c.query_one(COUNT, &params)?.get(0);
            let rows = c.query(PAGE, &[&q.items, &q.today, &q.unit, &q.from, &q.to, &per_page, &offset])?;
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

    /// On a new store, the plans of `sql` for a list of licences without a unit and of one unit's
    /// (the list's parameters, then `extra`), with the scans and sorts that `off` turns off: `SET
    /// LOCAL`, so the settings end with the transaction, also when the `EXPLAIN` fails, and the pooled
    /// connection goes back as it came.
    fn plans(off: &str, sql: &str, extra: &[i64]) -> Vec<(Option<String>, String)> {
        let db = ScratchDatabase::create().unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().unwrap();
        let store = PgStore::create(db.url(), &dir.path().join("data"), false).unwrap();
        let items = vec!["admin_license".to_owned()];
        let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let none = None::<chrono::NaiveDate>;
        [None, Some("sh_amr".to_owned())]
            .into_iter()
            .map(|unit| {
                let plan = store
                    .with(|c| {
                        c.transaction(|c| {
                            c.client.batch_execute(off).map_err(crate::db_err)?;
                            let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> =
                                vec![&items, &today, &unit, &none, &none];
                            params.extend(extra.iter().map(|e| e as &(dyn postgres::types::ToSql + Sync)));
                            let rows = c.client.query(&format!("EXPLAIN {sql}"), &params).map_err(crate::db_err)?;
                            Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>().join("\n"))
                        })
                    })
                    .unwrap();
                (unit, plan)
            })
            .collect()
    }

    /// With or without a unit, the count can be answered from the publication index alone: with the
    /// scans that read the table turned off, the server plans an index-only scan of it. (On a store
    /// this small it would rather read the table; on a large one the index is the cheaper way.)
    #[test]
    fn a_list_is_counted_by_an_index_only_scan() {
        let off = "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexscan = off";
        for (unit, plan) in plans(off, COUNT, &[]) {
            assert!(plan.contains("Index Only Scan using records_item_date"), "{unit:?}: {plan}");
        }
    }

    /// A page reads each item's records from the publication index newest first, so that the server
    /// stops after the page's records instead of sorting the whole list: with the scans that read the
    /// table whole and plain sorts turned off, it plans a backward scan of the index, with or without a
    /// unit. (On a store this small it would rather read and sort the table.) The order and the window
    /// of what it answers are the conformance suite's (`published_records_keep_their_window_and_order`).
    #[test]
    fn a_page_reads_the_index_newest_first() {
        let off = "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off";
        for (unit, plan) in plans(off, PAGE, &[20, 40]) {
            assert!(plan.contains("Index Scan Backward using records_item_date"), "{unit:?}: {plan}");
        }
    }
}

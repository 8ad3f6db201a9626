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

impl PublicationStore for PgStore {
    fn published_records(&self, q: &PublishedQuery) -> Result<(Vec<Record>, u64)> {
        if q.items.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let per_page = i64::from(q.per_page.clamp(1, 100));
        let offset = i64::from(q.page.max(1) - 1) * per_page;
        let (total, rows) = self.with(|c| {
            let params: [&(dyn postgres::types::ToSql + Sync); 5] = [&q.items, &q.today, &q.unit, &q.from, &q.to];
            let total: i64 = c.query_one(concat!("SELECT count(*)", published_filter!()), &params)?.get(0);
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

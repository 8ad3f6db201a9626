//! Collection statistics from the batch ledger: rows per unit, category and month of collection, and
//! each unit's link rate (the 2018 report's 关联入库 figure).

use std::collections::BTreeMap;

use xinyong_store::{CatalogStore, CategoryMonth, CollectionStats, Result, StatsStore, UnitStats};

use crate::PgStore;

impl StatsStore for PgStore {
    fn collection_stats(&self) -> Result<CollectionStats> {
        let catalog = self.load_catalog()?;
        self.with(|c| {
            let mut stats = CollectionStats::default();
            for row in c.query("SELECT kind, count(*) FROM subjects GROUP BY kind", &[])? {
                let n = row.get::<_, i64>(1) as u64;
                stats.subjects += n;
                stats.subjects_by_kind.insert(row.get(0), n);
            }
            stats.records = c.query_one("SELECT count(*) FROM records", &[])?.get::<_, i64>(0) as u64;

            let names: BTreeMap<&str, &str> =
                catalog.units.iter().map(|u| (u.code.as_str(), u.name.as_str())).collect();
            for row in c.query(
                "SELECT unit, count(*), sum(rows)::bigint, sum(accepted)::bigint, sum(rejected)::bigint,
                        sum(linked)::bigint
                 FROM batches WHERE status = 'committed' GROUP BY unit ORDER BY sum(accepted) DESC, unit",
                &[],
            )? {
                let unit: String = row.get(0);
                let n = |i: usize| row.get::<_, i64>(i) as u64;
                let (accepted, linked) = (n(3), n(5));
                stats.batches += n(1);
                stats.by_unit.push(UnitStats {
                    name: names.get(unit.as_str()).map(|s| (*s).to_owned()).unwrap_or_default(),
                    unit,
                    batches: n(1),
                    rows: n(2),
                    accepted,
                    rejected: n(4),
                    linked,
                    link_rate: if accepted == 0 { 0.0 } else { linked as f64 / accepted as f64 },
                });
            }

            let mut grouped: BTreeMap<(String, String, String), u64> = BTreeMap::new();
            for row in c.query(
                "SELECT item, substr(finished_at, 1, 7), unit, sum(accepted)::bigint FROM batches
                 WHERE status = 'committed' GROUP BY 1, 2, 3",
                &[],
            )? {
                let item: String = row.get(0);
                let category = catalog.item(&item).map(|i| i.category.as_str()).unwrap_or("unknown").to_owned();
                *grouped.entry((category, row.get(1), row.get(2))).or_default() += row.get::<_, i64>(3) as u64;
            }
            stats.by_category_month = grouped
                .into_iter()
                .map(|((category, month, unit), accepted)| CategoryMonth { category, month, unit, accepted })
                .collect();
            Ok(stats)
        })
    }
}

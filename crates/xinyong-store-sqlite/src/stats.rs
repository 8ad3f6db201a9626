//! Collection statistics from the batch ledger: rows per unit, category and month of collection, and
//! each unit's link rate (the 2018 report's 关联入库 figure).

use std::collections::BTreeMap;

use xinyong_store::{CatalogStore, CategoryMonth, CollectionStats, Result, StatsStore, UnitStats};

use crate::{SqliteStore, db_err};

impl StatsStore for SqliteStore {
    fn collection_stats(&self) -> Result<CollectionStats> {
        let catalog = self.load_catalog()?;
        self.read(|conn| {
            let mut stats = CollectionStats::default();
            let mut stmt = conn.prepare_cached("SELECT kind, count(*) FROM subjects GROUP BY kind").map_err(db_err)?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).map_err(db_err)?;
            for row in rows {
                let (kind, n) = row.map_err(db_err)?;
                stats.subjects += n as u64;
                stats.subjects_by_kind.insert(kind, n as u64);
            }
            stats.records =
                conn.query_row("SELECT count(*) FROM records", [], |r| r.get::<_, i64>(0)).map_err(db_err)? as u64;

            let names: BTreeMap<String, String> =
                catalog.units.iter().map(|u| (u.code.clone(), u.name.clone())).collect();
            let mut stmt = conn
                .prepare_cached(
                    "SELECT unit, count(*), sum(rows), sum(accepted), sum(rejected), sum(linked)
                     FROM batches WHERE status = 'committed' GROUP BY unit ORDER BY sum(accepted) DESC, unit",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, [r.get::<_, i64>(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?]))
                })
                .map_err(db_err)?;
            for row in rows {
                let (unit, n) = row.map_err(db_err)?;
                stats.batches += n[0] as u64;
                let accepted = n[2] as u64;
                let linked = n[4] as u64;
                stats.by_unit.push(UnitStats {
                    name: names.get(&unit).cloned().unwrap_or_default(),
                    unit,
                    batches: n[0] as u64,
                    rows: n[1] as u64,
                    accepted,
                    rejected: n[3] as u64,
                    linked,
                    link_rate: if accepted == 0 { 0.0 } else { linked as f64 / accepted as f64 },
                });
            }

            let mut stmt = conn
                .prepare_cached(
                    "SELECT item, substr(finished_at, 1, 7), unit, sum(accepted) FROM batches
                     WHERE status = 'committed' GROUP BY 1, 2, 3",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
                })
                .map_err(db_err)?;
            let mut grouped: BTreeMap<(String, String, String), u64> = BTreeMap::new();
            for row in rows {
                let (item, month, unit, n) = row.map_err(db_err)?;
                let category = catalog.item(&item).map(|i| i.category.as_str()).unwrap_or("unknown").to_owned();
                *grouped.entry((category, month, unit)).or_default() += n as u64;
            }
            stats.by_category_month = grouped
                .into_iter()
                .map(|((category, month, unit), accepted)| CategoryMonth { category, month, unit, accepted })
                .collect();
            Ok(stats)
        })
    }
}

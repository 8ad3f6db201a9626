//! Catalog and units in the embedded store. Item definitions are stored as JSON, one row per version.

use std::sync::Arc;

use rusqlite::{OptionalExtension, params};
use xinyong_domain::catalog::{Catalog, CatalogItem, UnitDef};
use xinyong_store::{CatalogStore, InstallSummary, Result, StoreError, Timestamp};

use crate::{SqliteStore, db_err};

fn definition_json(item: &CatalogItem) -> Result<String> {
    serde_json::to_string(item).map_err(|e| StoreError::Invalid(format!("catalog item {}: {e}", item.code)))
}

/// The definition without its version number, to tell whether a definition really changed.
fn unversioned(item: &CatalogItem) -> Result<String> {
    let mut copy = item.clone();
    copy.version = 0;
    definition_json(&copy)
}

impl CatalogStore for SqliteStore {
    fn load_catalog(&self) -> Result<Arc<Catalog>> {
        let stamp = self.read(|conn| {
            conn.query_row(
                "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'catalog_stamp'), 0)",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(db_err)
        })?;
        if let Some((cached, catalog)) = self.catalog_cache.lock().map_err(|_| crate::poisoned())?.as_ref()
            && *cached == stamp
        {
            return Ok(Arc::clone(catalog));
        }
        let catalog = Arc::new(self.read_catalog()?);
        *self.catalog_cache.lock().map_err(|_| crate::poisoned())? = Some((stamp, Arc::clone(&catalog)));
        Ok(catalog)
    }

    fn install_catalog(&self, catalog: &Catalog, now: Timestamp) -> Result<InstallSummary> {
        let summary = self.install_catalog_tx(catalog, now)?;
        Ok(summary)
    }

    fn put_unit(&self, unit: &UnitDef, now: Timestamp) -> Result<()> {
        self.put_unit_tx(unit, now)
    }
}

impl SqliteStore {
    fn read_catalog(&self) -> Result<Catalog> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT definition FROM catalog_items c
                     WHERE version = (SELECT max(version) FROM catalog_items d WHERE d.code = c.code)
                     ORDER BY code",
                )
                .map_err(db_err)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(db_err)?;
            let mut items = Vec::new();
            for row in rows {
                let json = row.map_err(db_err)?;
                let item: CatalogItem = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("catalog item definition: {e}")))?;
                items.push(item);
            }
            let mut units = Vec::new();
            let mut stmt = conn.prepare_cached("SELECT code, name FROM units ORDER BY code").map_err(db_err)?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(db_err)?;
            for row in rows {
                let (code, name) = row.map_err(db_err)?;
                units.push(UnitDef { code, name, supplies: Vec::new() });
            }
            let mut stmt =
                conn.prepare_cached("SELECT item FROM unit_items WHERE unit = ?1 ORDER BY item").map_err(db_err)?;
            for unit in &mut units {
                let rows = stmt.query_map([&unit.code], |r| r.get::<_, String>(0)).map_err(db_err)?;
                for row in rows {
                    unit.supplies.push(row.map_err(db_err)?);
                }
            }
            let version: u32 = conn
                .query_row("SELECT value FROM meta WHERE key = 'catalog_version'", [], |r| r.get::<_, String>(0))
                .optional()
                .map_err(db_err)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            Catalog::from_items(version, units, items).map_err(|e| StoreError::Corrupt(e.to_string()))
        })
    }

    fn install_catalog_tx(&self, catalog: &Catalog, now: Timestamp) -> Result<InstallSummary> {
        let now = now.to_rfc3339();
        self.write(|conn| {
            let tx = conn.transaction().map_err(db_err)?;
            let mut summary = InstallSummary::default();
            for item in catalog.items() {
                let latest: Option<(u32, String)> = tx
                    .query_row(
                        "SELECT version, definition FROM catalog_items WHERE code = ?1 ORDER BY version DESC LIMIT 1",
                        [&item.code],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(db_err)?;
                let next = match &latest {
                    None => 1,
                    Some((v, json)) => {
                        let stored: CatalogItem = serde_json::from_str(json)
                            .map_err(|e| StoreError::Corrupt(format!("catalog item definition: {e}")))?;
                        if unversioned(&stored)? == unversioned(item)? {
                            continue;
                        }
                        v + 1
                    }
                };
                let mut versioned = item.clone();
                versioned.version = next;
                tx.execute(
                    "INSERT INTO catalog_items (code, version, definition, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![item.code, next, definition_json(&versioned)?, now],
                )
                .map_err(db_err)?;
                if next == 1 {
                    summary.items_added += 1;
                } else {
                    summary.items_versioned += 1;
                }
            }
            for unit in &catalog.units {
                put_unit_tx(&tx, unit, &now)?;
                summary.units += 1;
            }
            bump_stamp(&tx)?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('catalog_version', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [catalog.version.to_string()],
            )
            .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            Ok(summary)
        })
    }

    fn put_unit_tx(&self, unit: &UnitDef, now: Timestamp) -> Result<()> {
        let now = now.to_rfc3339();
        self.write(|conn| {
            let tx = conn.transaction().map_err(db_err)?;
            for item in &unit.supplies {
                let known: bool = tx
                    .query_row("SELECT EXISTS (SELECT 1 FROM catalog_items WHERE code = ?1)", [item], |r| r.get(0))
                    .map_err(db_err)?;
                if !known {
                    return Err(StoreError::Invalid(format!("item {item} is not in the catalog")));
                }
            }
            put_unit_tx(&tx, unit, &now)?;
            bump_stamp(&tx)?;
            tx.commit().map_err(db_err)
        })
    }
}

/// Every change of items or units bumps `catalog_stamp`, so every process's cached catalog reloads.
fn bump_stamp(tx: &rusqlite::Transaction<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('catalog_stamp', '1')
         ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
        [],
    )
    .map_err(db_err)?;
    Ok(())
}

fn put_unit_tx(tx: &rusqlite::Transaction<'_>, unit: &UnitDef, now: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO units (code, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
        params![unit.code, unit.name, now],
    )
    .map_err(db_err)?;
    tx.execute("DELETE FROM unit_items WHERE unit = ?1", [&unit.code]).map_err(db_err)?;
    for item in &unit.supplies {
        tx.execute("INSERT INTO unit_items (unit, item) VALUES (?1, ?2)", params![unit.code, item]).map_err(db_err)?;
    }
    Ok(())
}

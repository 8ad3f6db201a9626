//! Catalog and units. Item definitions are stored as JSON, one row per version; a stamp in `meta`
//! changes with every install, so each process reloads its cached catalog only when it changed.

use std::sync::Arc;

use xinyong_domain::catalog::{Catalog, CatalogItem, UnitDef};
use xinyong_store::{CatalogStore, InstallSummary, Result, StoreError, Timestamp};

use crate::pool::Conn;
use crate::{PgStore, poisoned};

fn definition_json(item: &CatalogItem) -> Result<String> {
    serde_json::to_string(item).map_err(|e| StoreError::Invalid(format!("catalog item {}: {e}", item.code)))
}

/// The definition without its version number, to tell whether a definition really changed.
fn unversioned(item: &CatalogItem) -> Result<String> {
    let mut copy = item.clone();
    copy.version = 0;
    definition_json(&copy)
}

impl CatalogStore for PgStore {
    fn load_catalog(&self) -> Result<Arc<Catalog>> {
        let stamp: i64 = self.with(|c| {
            Ok(c.query_one("SELECT coalesce((SELECT value::bigint FROM meta WHERE key = 'catalog_stamp'), 0)", &[])?
                .get(0))
        })?;
        if let Some((cached, catalog)) = self.catalog_cache.lock().map_err(|_| poisoned())?.as_ref()
            && *cached == stamp
        {
            return Ok(Arc::clone(catalog));
        }
        let catalog = Arc::new(self.with(read_catalog)?);
        *self.catalog_cache.lock().map_err(|_| poisoned())? = Some((stamp, Arc::clone(&catalog)));
        Ok(catalog)
    }

    fn install_catalog(&self, catalog: &Catalog, now: Timestamp) -> Result<InstallSummary> {
        let now = now.to_rfc3339();
        self.with(|conn| {
            conn.transaction(|c| {
                let mut summary = InstallSummary::default();
                for item in catalog.items() {
                    let latest = c.query_opt(
                        "SELECT version, definition FROM catalog_items WHERE code = $1 ORDER BY version DESC LIMIT 1",
                        &[&item.code],
                    )?;
                    let next = match latest {
                        None => 1,
                        Some(row) => {
                            let (v, json): (i32, String) = (row.get(0), row.get(1));
                            let stored: CatalogItem = serde_json::from_str(&json)
                                .map_err(|e| StoreError::Corrupt(format!("catalog item definition: {e}")))?;
                            if unversioned(&stored)? == unversioned(item)? {
                                continue;
                            }
                            v + 1
                        }
                    };
                    let mut versioned = item.clone();
                    versioned.version = next as u32;
                    c.execute(
                        "INSERT INTO catalog_items (code, version, definition, created_at) VALUES ($1, $2, $3, $4)",
                        &[&item.code, &next, &definition_json(&versioned)?, &now],
                    )?;
                    if next == 1 {
                        summary.items_added += 1;
                    } else {
                        summary.items_versioned += 1;
                    }
                }
                for unit in &catalog.units {
                    put_unit(c, unit, &now)?;
                    summary.units += 1;
                }
                bump_stamp(c)?;
                c.execute(
                    "INSERT INTO meta (key, value) VALUES ('catalog_version', $1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    &[&catalog.version.to_string()],
                )?;
                Ok(summary)
            })
        })
    }

    fn put_unit(&self, unit: &UnitDef, now: Timestamp) -> Result<()> {
        let now = now.to_rfc3339();
        self.with(|conn| {
            conn.transaction(|c| {
                for item in &unit.supplies {
                    let known: bool =
                        c.query_one("SELECT EXISTS (SELECT 1 FROM catalog_items WHERE code = $1)", &[item])?.get(0);
                    if !known {
                        return Err(StoreError::Invalid(format!("item {item} is not in the catalog")));
                    }
                }
                put_unit(c, unit, &now)?;
                bump_stamp(c)
            })
        })
    }
}

fn read_catalog(c: &mut Conn) -> Result<Catalog> {
    let mut items = Vec::new();
    for row in c.query("SELECT DISTINCT ON (code) definition FROM catalog_items ORDER BY code, version DESC", &[])? {
        let json: String = row.get(0);
        let item: CatalogItem =
            serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("catalog item definition: {e}")))?;
        items.push(item);
    }
    let mut units: Vec<UnitDef> = c
        .query("SELECT code, name FROM units ORDER BY code", &[])?
        .into_iter()
        .map(|r| UnitDef { code: r.get(0), name: r.get(1), supplies: Vec::new() })
        .collect();
    let supplies = c.query("SELECT unit, item FROM unit_items ORDER BY unit, item", &[])?;
    for row in supplies {
        let (unit, item): (String, String) = (row.get(0), row.get(1));
        if let Some(u) = units.iter_mut().find(|u| u.code == unit) {
            u.supplies.push(item);
        }
    }
    let version: u32 = c
        .query_opt("SELECT value FROM meta WHERE key = 'catalog_version'", &[])?
        .and_then(|r| r.get::<_, String>(0).parse().ok())
        .unwrap_or(0);
    Catalog::from_items(version, units, items).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Every change of items or units bumps `catalog_stamp`, so every process's cached catalog reloads.
fn bump_stamp(c: &mut Conn) -> Result<()> {
    c.execute(
        "INSERT INTO meta (key, value) VALUES ('catalog_stamp', '1')
         ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text",
        &[],
    )?;
    Ok(())
}

fn put_unit(c: &mut Conn, unit: &UnitDef, now: &str) -> Result<()> {
    c.execute(
        "INSERT INTO units (code, name, created_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
        &[&unit.code, &unit.name, &now],
    )?;
    c.execute("DELETE FROM unit_items WHERE unit = $1", &[&unit.code])?;
    for item in &unit.supplies {
        c.execute("INSERT INTO unit_items (unit, item) VALUES ($1, $2)", &[&unit.code, item])?;
    }
    Ok(())
}

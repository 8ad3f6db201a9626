//! `xinyong init`: an empty platform with the default catalog and units.

use std::path::Path;

use serde_json::json;
use xinyong_domain::access::Role;
use xinyong_domain::catalog::Catalog;
use xinyong_store::keyring::Keyring;

use crate::args::Global;
use crate::context::{create_store, location, now, print_json};
use crate::{CmdResult, Failure};

pub fn run(g: &Global, force: bool, catalog: Option<&Path>) -> CmdResult {
    let catalog = match catalog {
        Some(path) => super::read_catalog(path)?,
        None => Catalog::default_catalog().map_err(Failure::failed)?,
    };
    let (summary, token) = create(g, force, &catalog)?;
    if g.json {
        print_json(&json!({
            "data": location(g),
            "catalog_items": summary.items_added + summary.items_versioned,
            "units": summary.units,
            "admin_token": token,
        }))
    } else {
        println!(
            "platform created in {} — {} catalog items, {} units",
            location(g),
            summary.items_added + summary.items_versioned,
            summary.units
        );
        println!("admin API token (shown only this once):");
        println!("{token}");
        Ok(())
    }
}

/// Creates the store, installs the catalog, makes the signing keys and the `admin` account; returns
/// the admin's token (shared with `demo`).
pub fn create(g: &Global, force: bool, catalog: &Catalog) -> Result<(xinyong_store::InstallSummary, String), Failure> {
    let store = create_store(g, force)?;
    let summary = store.install_catalog(catalog, now(g)?)?;
    Keyring::create(&g.data.join("keys"), now(g)?)?;
    let (_, token) = super::create_account(g, &*store, "admin", None, Role::Admin, None)?;
    Ok((summary, token))
}

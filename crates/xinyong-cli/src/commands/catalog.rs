//! `xinyong catalog list|show`.

use serde_json::{Value, json};
use xinyong_domain::catalog::{Catalog, CatalogItem};

use crate::args::{CatalogCommand, Global};
use crate::context::{open_store, print_json};
use crate::{CmdResult, Failure};

fn units_of(catalog: &Catalog, item: &str) -> Vec<String> {
    catalog.units.iter().filter(|u| u.supplies.iter().any(|s| s == item)).map(|u| u.code.clone()).collect()
}

fn summary(catalog: &Catalog, item: &CatalogItem) -> Value {
    json!({
        "code": item.code,
        "name": item.name,
        "version": item.version,
        "units": units_of(catalog, &item.code),
        "category": item.category,
        "category_label": item.category.label(),
        "info_class": item.info_class,
        "openness": item.openness,
        "severity": item.severity,
        "publication": item.publication,
        "list_kind": item.list_kind,
        "subject_kinds": item.subject_kinds,
        "source_key": item.source_key,
        "fields": item.fields.len(),
    })
}

pub fn run(g: &Global, command: CatalogCommand) -> CmdResult {
    let store = open_store(g)?;
    let catalog = store.load_catalog()?;
    match command {
        CatalogCommand::List => {
            if g.json {
                let items: Vec<Value> = catalog.items().iter().map(|i| summary(&catalog, i)).collect();
                return print_json(&json!({ "items": items }));
            }
            for i in catalog.items() {
                println!(
                    "{:<28} v{:<3} {:<10} {:<22} {}",
                    i.code,
                    i.version,
                    i.category.label(),
                    i.name,
                    units_of(&catalog, &i.code).join(",")
                );
            }
            Ok(())
        }
        CatalogCommand::Show { item } => {
            let found =
                catalog.item(&item).ok_or_else(|| Failure::failed(format!("item {item} is not in the catalog")))?;
            if g.json {
                let mut v = serde_json::to_value(found).map_err(Failure::failed)?;
                if let Some(obj) = v.as_object_mut() {
                    obj.insert("units".into(), json!(units_of(&catalog, &item)));
                }
                return print_json(&v);
            }
            println!(
                "{} {} (v{}) — {} / {:?} / {:?}",
                found.code,
                found.name,
                found.version,
                found.category.label(),
                found.openness,
                found.severity
            );
            println!("suppliers: {}", units_of(&catalog, &item).join(", "));
            println!("source key: {}   date: {}", found.source_key, found.date_field);
            for f in &found.fields {
                let flags = [(f.required, "required"), (f.masked, "masked")]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, s)| *s)
                    .collect::<Vec<_>>()
                    .join(",");
                println!(
                    "  {:<24} {:<36} {:<8} {:<16} {}",
                    f.key,
                    f.label,
                    format!("{:?}", f.field_type).to_lowercase(),
                    flags,
                    f.aliases.join(" ")
                );
            }
            Ok(())
        }
    }
}

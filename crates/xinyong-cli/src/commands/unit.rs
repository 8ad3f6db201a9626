//! `xinyong unit add|list`.

use serde_json::json;
use xinyong_domain::catalog::UnitDef;

use crate::args::{Global, UnitCommand};
use crate::context::{now, open_store, print_json};
use crate::{CmdResult, Failure};

pub fn run(g: &Global, command: UnitCommand) -> CmdResult {
    let store = open_store(g)?;
    match command {
        UnitCommand::Add { code, name, supplies } => {
            if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                return Err(Failure::usage(format!("unit code {code:?}: use ASCII letters, digits, _ or -")));
            }
            let unit = UnitDef { code, name, supplies: supplies.into_iter().filter(|s| !s.is_empty()).collect() };
            store.put_unit(&unit, now(g)?)?;
            if g.json {
                print_json(&unit)
            } else {
                println!("unit {} ({}) supplies: {}", unit.code, unit.name, unit.supplies.join(", "));
                Ok(())
            }
        }
        UnitCommand::List => {
            let catalog = store.load_catalog()?;
            if g.json {
                return print_json(&json!({ "units": catalog.units }));
            }
            for u in &catalog.units {
                println!("{:<20} {:<24} {}", u.code, u.name, u.supplies.join(","));
            }
            Ok(())
        }
    }
}

//! `xinyong calendar show|load`: the working-day calendar. The shipped years come with the binary;
//! years an admin loads (next year's State Council notice) are kept in the store and replace them.

use serde_json::json;
use xinyong_domain::calendar::{Calendar, YearPlan};

use crate::args::{CalendarCommand, Global};
use crate::context::{now, open_store, print_json};
use crate::{CmdResult, Failure};

pub fn run(g: &Global, command: CalendarCommand) -> CmdResult {
    let store = open_store(g)?;
    match command {
        CalendarCommand::Load { file } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
            let years = Calendar::parse_years(&text).map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
            if years.is_empty() {
                return Err(Failure::usage(format!("{}: no [[years]] in the file", file.display())));
            }
            let at = now(g)?;
            for plan in &years {
                let json = serde_json::to_string(plan).map_err(Failure::failed)?;
                store.put_calendar_year(plan.year, &json, at)?;
            }
            let loaded: Vec<i32> = years.iter().map(|p| p.year).collect();
            if g.json {
                print_json(&json!({ "loaded": loaded }))
            } else {
                println!("loaded calendar years: {loaded:?}");
                Ok(())
            }
        }
        CalendarCommand::Show => {
            let mut calendar = Calendar::default_calendar().map_err(Failure::failed)?;
            for json in store.calendar_years()? {
                let plan: YearPlan = serde_json::from_str(&json).map_err(Failure::failed)?;
                calendar.load_year(plan).map_err(Failure::failed)?;
            }
            let years: Vec<_> = calendar
                .years()
                .map(|p| {
                    json!({ "year": p.year, "source": p.source, "provisional": p.provisional,
                                 "days_off": p.off.len(), "working_weekend_days": p.work.len() })
                })
                .collect();
            if g.json {
                return print_json(&json!({ "years": years }));
            }
            for p in calendar.years() {
                let mark = if p.provisional { " (provisional)" } else { "" };
                println!(
                    "{}{mark}: {} days off, {} working weekend days — {}",
                    p.year,
                    p.off.len(),
                    p.work.len(),
                    p.source
                );
            }
            Ok(())
        }
    }
}

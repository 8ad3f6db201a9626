//! `xinyong inspect`: inspection plans of graded supervision (分级分类监管). `plan` draws per grade from a
//! recorded seed and stores the plan; `show` prints it and checks that redoing the draw gives the same
//! sample; either exports the list with `-o FILE.csv|FILE.xlsx` (identifiers masked).

use std::collections::BTreeMap;
use std::path::Path;

use xinyong_evaluate::export;
use xinyong_evaluate::supervision::{self, Plan};
use xinyong_server::api::inspections::{export_rows, make_plan, parse_population};
use xinyong_store::Store;
use xinyong_store::evaluation::Inspection;

use crate::args::{Global, InspectCommand};
use crate::context::{audit_console, now, open_store, print_json};
use crate::{CmdResult, Failure};

fn parse_ratios(list: &[String]) -> Result<Option<BTreeMap<String, f64>>, Failure> {
    if list.is_empty() {
        return Ok(None);
    }
    let mut out = BTreeMap::new();
    for item in list {
        let (grade, ratio) = item
            .split_once('=')
            .ok_or_else(|| Failure::usage(format!("--ratio {item}: use GRADE=SHARE, e.g. D=0.3")))?;
        let ratio: f64 =
            ratio.trim().parse().map_err(|_| Failure::usage(format!("--ratio {item}: {ratio:?} is not a number")))?;
        out.insert(grade.trim().to_owned(), ratio);
    }
    Ok(Some(out))
}

pub fn run(g: &Global, command: InspectCommand) -> CmdResult {
    let store = open_store(g)?;
    match command {
        InspectCommand::Plan { name, population, ratio, seed, out } => {
            let population = parse_population(&population).map_err(Failure::usage)?;
            let ratios = parse_ratios(&ratio)?;
            let seed = seed.unwrap_or_else(rand::random);
            let inspection = make_plan(&*store, &name, population, ratios, seed, 0, now(g)?)
                .map_err(|e| Failure::failed(e.message))?;
            audit_console(
                g,
                &*store,
                "inspection_plan",
                "allowed",
                format!("inspection plan {} seed {seed}", inspection.id),
            )?;
            show(g, &*store, &inspection, out.as_deref())
        }
        InspectCommand::Show { id, out } => {
            let inspection =
                store.inspection(id)?.ok_or_else(|| Failure::failed(format!("no inspection plan {id}")))?;
            show(g, &*store, &inspection, out.as_deref())
        }
    }
}

fn show(g: &Global, store: &dyn Store, inspection: &Inspection, out: Option<&Path>) -> CmdResult {
    let plan: Plan = serde_json::from_value(inspection.plan.clone()).map_err(Failure::failed)?;
    let reproducible = supervision::redraw(&plan).is_ok_and(|s| s == plan.sample);
    if let Some(path) = out {
        let today = now(g)?.date_naive();
        let rows = export_rows(store, &plan, today).map_err(|e| Failure::failed(e.message))?;
        let xlsx = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
        let bytes =
            if xlsx { export::xlsx(&plan, &rows) } else { export::csv(&plan, &rows) }.map_err(Failure::failed)?;
        std::fs::write(path, bytes).map_err(|e| Failure::failed(format!("{}: {e}", path.display())))?;
        audit_console(g, store, "inspection_export", "allowed", format!("inspection plan {} exported", inspection.id))?;
    }
    if g.json {
        return print_json(&serde_json::json!({
            "id": inspection.id, "name": plan.name, "population": plan.population, "ratios": plan.ratios,
            "seed": plan.seed, "algorithm": plan.algorithm, "model": plan.model,
            "population_by_grade": plan.population_by_grade, "drawn_by_grade": plan.drawn_by_grade,
            "reproducible": reproducible, "sample": plan.sample,
        }));
    }
    println!("抽查计划 {} 「{}」 seed {} model {}", inspection.id, plan.name, plan.seed, plan.model);
    for (grade, n) in &plan.population_by_grade {
        let drawn = plan.drawn_by_grade.get(grade).copied().unwrap_or(0);
        let ratio = plan.ratios.get(grade).copied().unwrap_or(0.0);
        println!("  {grade}: {drawn} of {n} drawn (ratio {ratio})");
    }
    println!("  the draw {}", if reproducible { "reproduces from its seed" } else { "DOES NOT reproduce" });
    if let Some(path) = out {
        println!("  exported to {}", path.display());
    }
    Ok(())
}

//! `xinyong subject KEY --purpose P`: a profile as an operator at the console sees it. It goes through
//! the same handler as the API — same rules, same masking, same query log (channel `cli`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use xinyong_server::api::subjects::get::{ProfileParams, profile};
use xinyong_server::{FixedClock, Settings};
use xinyong_store::Store;

use crate::args::Global;
use crate::context::{console_caller, now, open_store, print_json};
use crate::{CmdResult, Failure};

pub fn run(g: &Global, key: &str, purpose: Option<&str>) -> CmdResult {
    let store: Arc<dyn Store> = Arc::from(open_store(g)?);
    let now = now(g)?;
    let state = xinyong_server::app_state(store, Settings::default(), Arc::new(FixedClock(now)), None)
        .map_err(Failure::failed)?;
    let caller = console_caller(now);
    let params = ProfileParams { purpose: purpose.map(str::to_owned), openness: None };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(Failure::failed)?;
    let result = runtime.block_on(profile(State(state), caller, Path(key.to_owned()), Query(params)));
    match result {
        Ok(axum::Json(p)) => {
            if g.json {
                return print_json(&p);
            }
            let s = &p.subject;
            println!("{} {} ({:?})", s.uscc.as_deref().or(s.resident_id.as_deref()).unwrap_or("-"), s.name, s.kind);
            for r in &p.records {
                println!(
                    "  {} {} {:<12} {:<8} {}",
                    r.date,
                    r.item_name,
                    r.status,
                    if r.public { "public" } else { "" },
                    r.id
                );
            }
            for l in &p.lists {
                println!("  名单 {} ({}) from {}", l.name, l.kind, l.from);
            }
            if let Some(e) = &p.evaluation {
                let text = |k: &str| e[k].as_str().unwrap_or("-").to_owned();
                println!("  信用评价 score {} grade {} (model {})", e["score"], text("grade"), text("model"));
                for i in e["explanation"]["indicators"].as_array().into_iter().flatten() {
                    println!(
                        "    {:+} {} ×{} records {}",
                        i["points"].as_f64().unwrap_or(0.0),
                        i["label"].as_str().unwrap_or("-"),
                        i["count"],
                        i["records"]
                    );
                }
            }
            Ok(())
        }
        Err(e) => Err(Failure { code: if e.status.as_u16() == 400 { 2 } else { 1 }, message: e.message }),
    }
}

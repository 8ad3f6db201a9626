//! `xinyong validate-id`: one line out per line in, `INPUT<TAB>KIND<TAB>valid|invalid<TAB>REASON`.

use std::io::{BufRead, Write};

use serde_json::json;
use xinyong_domain::ids::classify;

use crate::args::Global;
use crate::context::{print_json, today};
use crate::{CmdResult, Failure};

pub fn run(g: &Global) -> CmdResult {
    let today = today(g)?;
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut results = Vec::new();
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| Failure::usage(format!("stdin: {e}")))?;
        let input = line.strip_suffix('\r').unwrap_or(&line);
        let c = classify(input, today);
        let (valid, reason) = match &c.result {
            Ok(_) => (true, "ok"),
            Err(e) => (false, e.code()),
        };
        if g.json {
            results.push(json!({"input": input, "kind": c.kind.as_str(), "valid": valid, "reason": reason}));
        } else {
            let verdict = if valid { "valid" } else { "invalid" };
            writeln!(out, "{input}\t{}\t{verdict}\t{reason}", c.kind.as_str()).map_err(Failure::failed)?;
        }
    }
    out.flush().map_err(Failure::failed)?;
    if g.json {
        print_json(&json!({ "results": results }))?;
    }
    Ok(())
}

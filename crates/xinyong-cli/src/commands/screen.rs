//! `xinyong screen FILE [--scenario S] [-o OUT.csv]`: batch screening against the lists.

use std::io::{BufReader, Write};
use std::path::Path;

use xinyong_domain::access::Purpose;
use xinyong_domain::measures::Library;
use xinyong_ingest::screen::{ScreenError, screen};

use crate::args::Global;
use crate::context::{now, open_store, print_json};
use crate::{CmdResult, Failure};

pub fn run(g: &Global, file: &Path, scenario: Option<&str>, out: Option<&Path>) -> CmdResult {
    let scenario = match scenario {
        None => None,
        Some(s) => Some(Purpose::parse(s).ok_or_else(|| Failure::usage(format!("{s:?} is not a scenario")))?.code()),
    };
    let store = open_store(g)?;
    let catalog = store.load_catalog()?;
    let library = Library::default_library().map_err(Failure::failed)?;
    let today = now(g)?.date_naive();
    let input: Box<dyn std::io::BufRead> = if file == Path::new("-") {
        Box::new(BufReader::new(std::io::stdin().lock()))
    } else {
        let f = std::fs::File::open(file).map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
        Box::new(BufReader::with_capacity(1 << 16, f))
    };
    let output: Box<dyn Write> = match out {
        None => Box::new(std::io::stdout().lock()),
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| Failure::usage(format!("{}: {e}", p.display())))?,
        )),
    };
    let summary = screen(&*store, &catalog, &library, scenario, today, input, output).map_err(|e| match e {
        ScreenError::Input(m) => Failure::usage(format!("{}: {m}", file.display())),
        other => Failure::failed(other),
    })?;
    if g.json && out.is_some() {
        return print_json(&summary);
    }
    eprintln!(
        "screened {} rows: {} invalid, {} not on file, {} on a list",
        summary.rows, summary.invalid, summary.not_found, summary.listed
    );
    Ok(())
}

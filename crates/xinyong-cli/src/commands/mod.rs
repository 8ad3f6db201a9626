//! One module per command.

mod account;
mod audit;
mod batch;
mod calendar;
mod catalog;
mod demo;
mod evaluate;
mod ingest;
mod init;
mod inspect;
mod keys;
mod report;
mod screen;
mod serve;
mod stats;
mod subject;
mod synth;
mod unit;
mod validate_id;
mod verify;

pub use demo::load_manifest;
pub use evaluate::full as evaluate_all;
pub use ingest::{FileJob, ingest_batches, ingest_file};

use crate::args::{Cli, Command};

use crate::{CmdResult, Failure};
pub use account::create_account;

pub fn dispatch(cli: Cli) -> CmdResult {
    let g = &cli.global;
    match cli.command {
        Command::Init { force, catalog } => init::run(g, force, catalog.as_deref()),
        Command::Synth { out, subjects, seed } => synth::run(g, &out, subjects, seed),
        Command::Demo { subjects, listen, seed, no_serve } => demo::run(g, subjects, listen, seed, !no_serve),
        Command::Ingest(args) => ingest::run(g, &args),
        Command::ValidateId => validate_id::run(g),
        Command::Stats => stats::run(g),
        Command::Unit { command } => unit::run(g, command),
        Command::Evaluate { model } => evaluate::run(g, model.as_deref()),
        Command::Inspect { command } => inspect::run(g, command),
        Command::Calendar { command } => calendar::run(g, command),
        Command::Screen { file, scenario, out } => screen::run(g, &file, scenario.as_deref(), out.as_deref()),
        Command::Catalog { command } => catalog::run(g, command),
        Command::Batch { id } => batch::run(g, &id),
        Command::Serve { listen, config } => serve::run(g, listen, config.as_deref()),
        Command::Account { command } => account::run(g, command),
        Command::Subject { key, purpose } => subject::run(g, &key, purpose.as_deref()),
        Command::Audit { command } => audit::run(g, command),
        Command::Report { key, format, out, special, domains, from, to, purpose } => {
            report::run(g, report::Args { key, format, out, special, domains, from, to, purpose })
        }
        Command::Verify { file, keys } => verify::run(g, &file, keys.as_deref()),
        Command::Keys { command } => keys::run(g, command),
    }
}

/// Reads a catalog file for `init --catalog`.
fn read_catalog(path: &std::path::Path) -> Result<xinyong_domain::catalog::Catalog, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    xinyong_domain::catalog::Catalog::from_toml(&text).map_err(|e| Failure::failed(format!("{}: {e}", path.display())))
}

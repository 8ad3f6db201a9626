//! One module per command.

mod batch;
mod catalog;
mod demo;
mod ingest;
mod init;
mod stats;
mod synth;
mod unit;
mod validate_id;

pub use demo::load_manifest;
pub use ingest::ingest_file;

use crate::args::{Cli, Command};
use crate::{CmdResult, Failure};

pub fn dispatch(cli: Cli) -> CmdResult {
    let g = &cli.global;
    match cli.command {
        Command::Init { force, catalog } => init::run(g, force, catalog.as_deref()),
        Command::Synth { out, subjects, seed } => synth::run(g, &out, subjects, seed),
        Command::Demo { subjects, listen, seed } => demo::run(g, subjects, listen, seed),
        Command::Ingest(args) => ingest::run(g, &args),
        Command::ValidateId => validate_id::run(g),
        Command::Stats => stats::run(g),
        Command::Unit { command } => unit::run(g, command),
        Command::Catalog { command } => catalog::run(g, command),
        Command::Batch { id } => batch::run(g, &id),
    }
}

/// Reads a catalog file for `init --catalog`.
fn read_catalog(path: &std::path::Path) -> Result<xinyong_domain::catalog::Catalog, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    xinyong_domain::catalog::Catalog::from_toml(&text).map_err(|e| Failure::failed(format!("{}: {e}", path.display())))
}

//! The `xinyong` command line: argument parsing and wiring, nothing else. Each command lives in
//! `commands/<name>.rs` and talks to the store through `xinyong_store` traits.
//!
//! Exit codes (CONTRACT.md §1): 0 success; 1 the operation failed (one `error:` line on stderr);
//! 2 usage error or an input file that cannot be read at all.

pub mod args;
pub mod bench;
pub mod commands;
pub mod context;

use std::process::ExitCode;

pub use args::Cli;

/// A failed command: what to print and how to exit.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// Exit 1: the operation failed.
    pub fn failed(message: impl std::fmt::Display) -> Failure {
        Failure { code: 1, message: message.to_string() }
    }

    /// Exit 2: usage error or unreadable input.
    pub fn usage(message: impl std::fmt::Display) -> Failure {
        Failure { code: 2, message: message.to_string() }
    }
}

impl From<xinyong_store::StoreError> for Failure {
    fn from(e: xinyong_store::StoreError) -> Self {
        Failure::failed(e)
    }
}

pub type CmdResult = Result<(), Failure>;

/// Runs a parsed command line and turns the outcome into an exit code.
pub fn run(cli: Cli) -> ExitCode {
    match commands::dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let message = f.message.replace('\n', " ");
            eprintln!("error: {message}");
            ExitCode::from(f.code)
        }
    }
}

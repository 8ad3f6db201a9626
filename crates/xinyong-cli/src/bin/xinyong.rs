//! The `xinyong` binary.

/// Ingest allocates many small strings per row on two threads; mimalloc measured faster than glibc's
/// allocator there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("XINYONG_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    xinyong_cli::run(xinyong_cli::Cli::parse())
}

//! The `xinyong-bench` binary: one JSON line per figure (CONTRACT.md §5).

/// Ingest allocates many small strings per row on two threads; mimalloc measured faster than glibc's
/// allocator there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = xinyong_cli::bench::BenchArgs::parse();
    match xinyong_cli::bench::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

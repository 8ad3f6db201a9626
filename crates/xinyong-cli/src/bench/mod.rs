//! Benchmarks: each measures our path and a raw baseline of the same work in the same run, so the
//! ratio holds on a noisy machine. Output: one JSON line per figure on stdout.

mod evaluate;
mod http;
mod ingest;
mod report;
mod screen;

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use serde::Serialize;

#[derive(Debug, Parser)]
#[command(name = "xinyong-bench", about = "xinyong benchmarks against raw baselines")]
pub struct BenchArgs {
    pub name: BenchName,
    /// Synthetic subjects to generate (≈ 10 rows each).
    #[arg(long, default_value_t = 100_000)]
    pub subjects: u64,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Work folder (a temporary folder when not given; kept only when given).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Run against PostgreSQL (`ingest`, `query`). The bench replaces the platform in that database
    /// (`ingest` always; `query` unless the work folder `--dir` already holds its keys).
    #[arg(long, env = "XINYONG_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BenchName {
    Ingest,
    Query,
    Search,
    /// `--subjects` identifiers against 0.4 × as many list entries.
    Screen,
    /// PDF and HTML credit reports per second for subjects with 10 and 200 records (`--subjects` unused).
    Report,
    /// Full recompute of `--subjects` evaluations, then an incremental one after a 10,000-row batch.
    Evaluate,
}

/// One benchmark figure.
#[derive(Debug, Serialize)]
pub struct Figure {
    pub bench: &'static str,
    pub n: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub baseline: &'static str,
    pub baseline_per_second: f64,
    pub ratio: f64,
    pub peak_rss_mb: f64,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Figure {
    /// A figure from what was measured: our path did `n` units in `seconds`, the baseline
    /// `baseline_n` in `baseline_seconds`. Rates, ratio and peak memory are derived here, once.
    pub fn measured(
        bench: &'static str,
        (n, seconds): (u64, f64),
        baseline: &'static str,
        (baseline_n, baseline_seconds): (u64, f64),
        extra: serde_json::Map<String, serde_json::Value>,
    ) -> Figure {
        let per_second = n as f64 / seconds;
        let baseline_per_second = baseline_n as f64 / baseline_seconds;
        Figure {
            bench,
            n,
            seconds: round(seconds),
            per_second: per_second.round(),
            baseline,
            baseline_per_second: baseline_per_second.round(),
            ratio: round(per_second / baseline_per_second),
            peak_rss_mb: round(peak_rss_mb()),
            extra,
        }
    }
}

/// Three decimals: enough for milliseconds and ratios.
pub fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let temp;
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let url = args.database_url.as_deref();
    let figures = match (args.name, url) {
        (BenchName::Ingest, None) => ingest::run(&dir, args.subjects, args.seed)?,
        (BenchName::Ingest, Some(url)) => ingest::run_pg(&dir, url, args.subjects, args.seed)?,
        (BenchName::Query, _) => http::query(&dir, url, args.subjects, args.seed)?,
        (BenchName::Search, None) => http::search(&dir, args.subjects, args.seed)?,
        (BenchName::Search, Some(_)) => {
            anyhow::bail!("the search bench measures the embedded store's FTS5 index; run it without --database-url")
        }
        (BenchName::Screen, None) => screen::run(&dir, args.subjects, args.seed)?,
        (BenchName::Report, _) => report::run(&dir)?,
        (BenchName::Screen, Some(_)) => {
            anyhow::bail!("the screen bench runs on the embedded store; run it without --database-url")
        }
        (BenchName::Evaluate, None) => evaluate::run(&dir, args.subjects, args.seed)?,
        (BenchName::Evaluate, Some(_)) => {
            anyhow::bail!("the evaluate bench runs on the embedded store; run it without --database-url")
        }
    };
    for f in figures {
        println!("{}", serde_json::to_string(&f)?);
    }
    Ok(())
}

/// Peak resident set size of this process so far, in MiB (Linux `VmHWM`).
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

//! Command-line arguments (CONTRACT.md §1–2).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "xinyong", version, about = "公共信用信息服务平台 — public credit information platform")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The embedded store's data folder.
    #[arg(long, global = true, env = "XINYONG_DATA", default_value = "./xinyong-data")]
    pub data: PathBuf,
    /// A PostgreSQL store instead of the embedded one.
    #[arg(long, global = true, env = "XINYONG_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Print exactly one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Run as if it were this moment (RFC 3339); for rehearsals and tests of deadlines.
    #[arg(long, global = true, env = "XINYONG_NOW", hide = true)]
    pub now: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an empty platform: store, default catalog and units, keys.
    Init {
        /// Replace an existing platform.
        #[arg(long)]
        force: bool,
        /// A catalog file instead of the default catalog.
        #[arg(long)]
        catalog: Option<PathBuf>,
    },
    /// Write realistic synthetic agency files and manifest.json.
    Synth {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 20_000)]
        subjects: u64,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// init + synth + ingest of everything + evaluate + statistics, on a fresh data folder.
    Demo {
        #[arg(long, default_value_t = 20_000)]
        subjects: u64,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Stop after loading (for scripts and tests) instead of serving.
        #[arg(long, hide = true)]
        no_serve: bool,
    },
    /// Load one batch.
    Ingest(IngestArgs),
    /// Check identifiers read from stdin, one per line.
    ValidateId,
    /// Collection, quality and workflow statistics.
    Stats,
    /// Units (government departments).
    Unit {
        #[command(subcommand)]
        command: UnitCommand,
    },
    /// The catalog of information items.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// A batch and its errors.
    Batch {
        /// The batch id (b-…).
        id: String,
    },
    /// Run the web portal, workbench and API.
    Serve {
        #[arg(long, env = "XINYONG_LISTEN")]
        listen: Option<SocketAddr>,
        /// A TOML settings file (see the server's settings documentation).
        #[arg(long, env = "XINYONG_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Accounts (API tokens are printed once and stored only as hashes).
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// A subject's profile as an operator sees it (logged as a query).
    Subject {
        /// USCC, resident ID or internal subject id.
        key: String,
        #[arg(long)]
        purpose: Option<String>,
    },
    /// The audit trail: verify its hash chain and signed checkpoints, or sign a checkpoint now.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Batch check (批量核查) of many identifiers against the reward and punishment lists: one output row per
    /// input row, in order.
    Screen {
        /// One identifier per line, or a CSV with an identifier column (统一社会信用代码, 证件号码, identifier …); `-` for stdin.
        file: PathBuf,
        /// Add the measures the lists trigger in this scenario (code or Chinese name).
        #[arg(long)]
        scenario: Option<String>,
        /// Where the result CSV goes (default: stdout).
        #[arg(short = 'o', long = "out")]
        out: Option<PathBuf>,
    },
    /// Recompute every subject's evaluation score and grade (公共信用综合评价); print the count per grade.
    Evaluate {
        /// A model file (TOML, as data/evaluation/default.toml); it becomes the platform's active model.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Inspection plans of graded supervision (分级分类监管): random draws per grade from a recorded seed.
    Inspect {
        #[command(subcommand)]
        command: InspectCommand,
    },
    /// The working-day calendar every statutory deadline counts in.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Issue a credit report (公共信用信息报告), or with --special a special report (专用信用报告) for
    /// chosen domains and a period; signed, written to FILE, logged in the subject's query log.
    Report {
        /// USCC, resident ID or internal subject id.
        key: String,
        /// pdf, html or json.
        #[arg(long, default_value = "pdf")]
        format: String,
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
        /// A special report (专用信用报告) instead of the standard one.
        #[arg(long)]
        special: bool,
        /// Special reports: domains by code or name, comma-separated (market,tax or 市场监管,税务).
        #[arg(long, value_delimiter = ',')]
        domains: Vec<String>,
        /// Special reports: first day of the period (default: three years before --to).
        #[arg(long)]
        from: Option<String>,
        /// Special reports: last day of the period (default: today).
        #[arg(long)]
        to: Option<String>,
        /// 查询用途 (default 本人查询: issued at the subject's request).
        #[arg(long)]
        purpose: Option<String>,
    },
    /// Check a report file (PDF, HTML or JSON) offline: exit 1 if a byte was changed or it is not ours.
    Verify {
        file: PathBuf,
        /// The platform's public keys (a saved `GET /api/v1/keys` answer or `signing-keys.json`);
        /// default: the data folder's keys, else only the key the file carries.
        #[arg(long)]
        keys: Option<PathBuf>,
    },
    /// The report-signing keys: list them, or rotate (old keys keep verifying what they signed).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// The public keys with their validity, as `GET /api/v1/keys` publishes them.
    List,
    /// Make a new signing key; the current one stops signing but stays published.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum InspectCommand {
    /// Draw a plan and store it with its seed.
    Plan {
        #[arg(long)]
        name: String,
        /// all, unit:CODE, item:CODE or district:NAME.
        #[arg(long, default_value = "all")]
        population: String,
        /// Share of a grade, e.g. `--ratio D=0.3` (repeatable); default: the model's [supervision] ratios.
        #[arg(long)]
        ratio: Vec<String>,
        /// The random seed (recorded); drawn by the platform when omitted.
        #[arg(long)]
        seed: Option<u64>,
        /// Export the list: FILE.csv or FILE.xlsx.
        #[arg(short = 'o', long = "out")]
        out: Option<PathBuf>,
    },
    /// A stored plan; checks that its draw reproduces from its seed.
    Show {
        id: i64,
        #[arg(short = 'o', long = "out")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// The years the calendar covers, with their source and whether they are provisional.
    Show,
    /// Load years from a file in the format of data/calendar/cn.toml (a loaded year replaces the shipped one).
    Load { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account and print its API token once.
    Add {
        name: String,
        #[arg(long)]
        unit: Option<String>,
        /// admin, supplier, department, market or subject.
        #[arg(long)]
        role: String,
        /// For the subject role: the subject (USCC or resident ID) this account is.
        #[arg(long)]
        subject: Option<String>,
    },
    /// The accounts (never their tokens).
    List,
    /// Set the password a person signs in to the portal with, read as one line from stdin (so it stays
    /// out of the shell history). Ends the account's open sessions.
    Password { name: String },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain and check every signed checkpoint; exit 1 if anything is wrong.
    Verify,
    /// Sign a checkpoint of the current chain head.
    Checkpoint,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[arg(long)]
    pub unit: String,
    #[arg(long)]
    pub item: String,
    /// csv, xlsx or jsonl; from the file extension when not given.
    #[arg(long)]
    pub format: Option<String>,
    /// auto, utf-8 or gb18030.
    #[arg(long, default_value = "auto")]
    pub encoding: String,
    /// Reject the whole batch if any row is bad.
    #[arg(long)]
    pub all_or_nothing: bool,
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum UnitCommand {
    /// Register a unit, or update its name and supplies.
    Add {
        code: String,
        name: String,
        /// Items it may supply, comma separated.
        #[arg(long, value_delimiter = ',')]
        supplies: Vec<String>,
    },
    /// The registered units.
    List,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    List,
    Show { item: String },
}

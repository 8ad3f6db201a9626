//! End-to-end tests of the `xinyong` binary on real data folders.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::new_without_default)]

mod calendar;
mod console;
mod crash;
mod evaluate;
mod ingest;
mod postgres;
mod report;
mod screen;
mod synth;
mod validate_id;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A fresh data folder; `init` already run. On PostgreSQL, a database of its own as well (the data
/// folder then holds the keys only).
pub struct Platform {
    pub dir: tempfile::TempDir,
    pub db: Option<xinyong_store_pg::scratch::ScratchDatabase>,
}

impl Platform {
    pub fn new() -> Platform {
        Platform::init(Platform { dir: tempfile::tempdir().unwrap(), db: None })
    }

    pub fn postgres() -> Platform {
        let db = xinyong_store_pg::scratch::ScratchDatabase::create().unwrap_or_else(|e| panic!("{e}"));
        Platform::init(Platform { dir: tempfile::tempdir().unwrap(), db: Some(db) })
    }

    fn init(p: Platform) -> Platform {
        let out = p.run(&["init"]);
        assert!(out.status.success(), "init: {}", stderr(&out));
        p
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_xinyong"));
        c.arg("--data").arg(self.data());
        if let Some(db) = &self.db {
            c.arg("--database-url").arg(db.url());
        }
        c.args(args);
        c.env_remove("XINYONG_DATA").env_remove("XINYONG_DATABASE_URL");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs with `--json` and parses stdout.
    pub fn json(&self, args: &[&str]) -> (Output, Value) {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        let value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out, value)
    }

    pub fn ingest(&self, unit: &str, item: &str, file: &Path, extra: &[&str]) -> (Output, Value) {
        let mut args = vec!["ingest", "--unit", unit, "--item", item];
        args.extend_from_slice(extra);
        let f = file.to_str().unwrap();
        args.push(f);
        self.json(&args)
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs the binary with stdin.
pub fn run_with_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xinyong"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

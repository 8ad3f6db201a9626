//! Shared helpers: run the generator into a temporary folder and read its CSV and JSON lines files
//! back into header + cells, as an importer would.

use std::path::Path;

use tempfile::TempDir;
use xinyong_domain::value::Cell;
use xinyong_synth::{Manifest, ManifestFile, SynthOptions, generate};

pub const SUBJECTS: u64 = 2_000;

/// A finished run in its own temporary folder (removed on drop).
pub struct Run {
    pub dir: TempDir,
    pub manifest: Manifest,
}

pub fn run(seed: u64) -> Run {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let opts = SynthOptions { out: dir.path().join("out"), subjects: SUBJECTS, seed };
    let manifest = generate(&opts).unwrap_or_else(|e| panic!("generate: {e}"));
    Run { dir, manifest }
}

impl Run {
    pub fn out(&self) -> std::path::PathBuf {
        self.dir.path().join("out")
    }

    pub fn bytes(&self, file: &ManifestFile) -> Vec<u8> {
        let path = self.out().join(&file.path);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

/// A file read back: header labels and the cells of each data row.
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// Decodes a text file as its manifest entry says (panics on bytes invalid in that encoding).
pub fn decode(bytes: &[u8], file: &ManifestFile) -> String {
    let text = if file.encoding == "gb18030" {
        let (text, _, bad) = encoding_rs::GB18030.decode(bytes);
        assert!(!bad, "{} is not valid GB18030", file.path);
        text.into_owned()
    } else {
        String::from_utf8(bytes.to_vec()).unwrap_or_else(|e| panic!("{} is not UTF-8: {e}", file.path))
    };
    text.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(text)
}

fn text_cell(s: &str) -> Cell {
    if s.is_empty() { Cell::Empty } else { Cell::Text(s.into()) }
}

/// Reads a CSV or JSON lines file; `None` for XLSX (no reader among our dependencies).
pub fn read(dir: &Path, file: &ManifestFile) -> Option<Table> {
    if file.format == "xlsx" {
        return None;
    }
    let path = dir.join(&file.path);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = decode(&bytes, file);
    match file.format.as_str() {
        "csv" => {
            let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
            let headers = reader.headers().map(|h| h.iter().map(str::to_owned).collect()).unwrap_or_default();
            let rows = reader
                .records()
                .map(|r| r.unwrap_or_else(|e| panic!("{}: {e}", file.path)).iter().map(text_cell).collect())
                .collect();
            Some(Table { headers, rows })
        }
        "jsonl" => {
            let mut headers: Vec<String> = Vec::new();
            let mut objects = Vec::new();
            for line in text.lines() {
                let value: serde_json::Value =
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("{}: {e}: {line}", file.path));
                let object = value.as_object().cloned().unwrap_or_else(|| panic!("{}: not an object", file.path));
                for key in object.keys() {
                    if !headers.contains(key) {
                        headers.push(key.clone());
                    }
                }
                objects.push(object);
            }
            let rows = objects
                .iter()
                .map(|o| {
                    headers
                        .iter()
                        .map(|h| match o.get(h) {
                            None | Some(serde_json::Value::Null) => Cell::Empty,
                            Some(serde_json::Value::Number(n)) => Cell::Number(n.as_f64().unwrap_or(f64::NAN)),
                            Some(serde_json::Value::String(s)) => text_cell(s),
                            Some(other) => Cell::Text(other.to_string().into()),
                        })
                        .collect()
                })
                .collect();
            Some(Table { headers, rows })
        }
        _ => None,
    }
}

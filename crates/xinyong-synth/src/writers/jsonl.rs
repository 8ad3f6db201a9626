//! JSON lines: one object per line, keys are the layout's headers (English keys or Chinese labels),
//! empty fields left out, plain decimals as JSON numbers, everything else as strings. Written by hand
//! (no intermediate `serde_json::Value`) because it runs for millions of rows.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use super::{create, io_error, is_plain_decimal};
use crate::SynthError;
use crate::layout::{Layout, Record, Ty};

#[derive(Debug)]
pub(crate) struct JsonlSink {
    path: PathBuf,
    file: BufWriter<File>,
    /// `"header":` per column, escaped once.
    keys: Vec<String>,
    line: String,
}

/// Appends `s` as a JSON string literal (copying the runs that need no escape in one go).
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            b if b < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            use std::fmt::Write as _;
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

impl JsonlSink {
    pub(crate) fn open(path: PathBuf, layout: &Layout) -> Result<JsonlSink, SynthError> {
        let file = create(&path)?;
        let keys = layout
            .columns
            .iter()
            .map(|c| {
                let mut k = String::new();
                push_json_string(&mut k, &c.header);
                k.push(':');
                k
            })
            .collect();
        Ok(JsonlSink { path, file, keys, line: String::with_capacity(2048) })
    }

    pub(crate) fn write(&mut self, layout: &Layout, rec: &Record) -> Result<(), SynthError> {
        self.line.clear();
        self.line.push('{');
        for (column, key) in layout.columns.iter().zip(&self.keys) {
            let value = rec.get(column.f);
            if value.is_empty() {
                continue;
            }
            if self.line.len() > 1 {
                self.line.push(',');
            }
            self.line.push_str(key);
            if column.f.ty() == Ty::Decimal && is_plain_decimal(value) {
                self.line.push_str(value);
            } else {
                push_json_string(&mut self.line, value);
            }
        }
        self.line.push_str("}\n");
        self.file.write_all(self.line.as_bytes()).map_err(|e| io_error(&self.path, e))
    }

    pub(crate) fn finish(mut self) -> Result<(), SynthError> {
        self.file.flush().map_err(|e| io_error(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_reads_them() {
        let raw = "当事人\"某\"\n于\\2024\t年\u{1}";
        let mut s = String::new();
        push_json_string(&mut s, raw);
        assert_eq!(serde_json::from_str::<String>(&s).ok().as_deref(), Some(raw));
    }
}

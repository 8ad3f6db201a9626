//! JSON lines: one JSON object per line, its keys are the headers.
//!
//! Headers are keys in first-seen order; a row's new keys are added before the row is returned, so a
//! row never refers past `headers()`. Row numbers are line numbers (first line = 1, blank lines count
//! but are skipped). Values: string → text, number → number, bool → bool, null → empty; an array or
//! object makes the row `bad_cell`. A line that is not JSON or not an object is `bad_json`, except the
//! first non-blank line: if that is not an object the file is not JSON lines at all (a `FileError`).
//!
//! ```text
//! {"名称": "甲公司", "金额": 1000}           line 1 → headers [名称, 金额]
//!                                             line 2, skipped
//! {"名称": "乙公司", "决定日期": "2018-04-27"} line 3 → headers [名称, 金额, 决定日期]
//! ```

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read};

use serde_json::{Map, Value};
use xinyong_domain::value::Cell;

use super::encoding::{TextSource, as_text};
use super::{MAX_COLUMNS, MAX_RECORD_BYTES, code, one_line, read_error, text_cell};
use crate::reader::{Encoding, FileError, RawRow, RowError, RowReader};

pub(super) fn open(source: TextSource) -> Result<Box<dyn RowReader>, FileError> {
    let mut reader = JsonlReader {
        lines: BufReader::new(source.stream),
        encoding: source.encoding,
        headers: Vec::new(),
        columns: HashMap::new(),
        line_no: 0,
        buf: Vec::new(),
        pending: None,
    };
    loop {
        match reader.read_line()? {
            None => {
                return Err(FileError::new("no JSON object in the file: it holds only blank lines"));
            }
            Some(Line::Blank) => continue,
            Some(Line::Bad { message, .. }) => {
                return Err(FileError::new(format!("not a JSON lines file: the first line {message}")));
            }
            Some(Line::Object(object)) => {
                reader.pending = reader.row_of(object);
                return Ok(Box::new(reader));
            }
        }
    }
}

struct JsonlReader {
    lines: BufReader<Box<dyn Read + Send>>,
    encoding: Encoding,
    headers: Vec<String>,
    /// Key → index in `headers`.
    columns: HashMap<String, usize>,
    /// Number of the line last read.
    line_no: u64,
    buf: Vec<u8>,
    /// The first row, read while opening.
    pending: Option<Result<RawRow, RowError>>,
}

/// One line, classified.
enum Line {
    Blank,
    Object(Map<String, Value>),
    /// `message` completes "the line …".
    Bad {
        code: &'static str,
        message: String,
    },
}

impl JsonlReader {
    fn read_line(&mut self) -> Result<Option<Line>, FileError> {
        self.buf.clear();
        let limit = MAX_RECORD_BYTES + 1;
        let n = (&mut self.lines).take(limit).read_until(b'\n', &mut self.buf).map_err(read_error)?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        if self.buf.last() != Some(&b'\n') && self.buf.len() as u64 >= limit {
            skip_rest_of_line(&mut self.lines).map_err(read_error)?;
            let message = format!("is longer than {} MiB", MAX_RECORD_BYTES / (1024 * 1024));
            return Ok(Some(Line::Bad { code: code::BAD_JSON, message }));
        }
        let Some(text) = as_text(&self.buf, self.encoding) else {
            let message = format!("holds bytes that are not valid {} text", self.encoding.as_str());
            return Ok(Some(Line::Bad { code: code::BAD_ENCODING, message }));
        };
        if text.trim().is_empty() {
            return Ok(Some(Line::Blank));
        }
        let line = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => Line::Object(object),
            Ok(other) => Line::Bad { code: code::BAD_JSON, message: format!("is {}, not an object", kind(&other)) },
            Err(e) => {
                // serde_json says "at line 1 column N" of the one line it saw; keep only the column.
                let mut what = e.to_string();
                if let Some(at) = what.rfind(" at line ") {
                    what.truncate(at);
                }
                Line::Bad {
                    code: code::BAD_JSON,
                    message: format!("is not valid JSON: {what} at column {}", e.column()),
                }
            }
        };
        Ok(Some(line))
    }

    /// The row of one object, adding its new keys to the headers; `None` when all its values are empty.
    fn row_of(&mut self, object: Map<String, Value>) -> Option<Result<RawRow, RowError>> {
        let row = self.line_no;
        let mut cells = Vec::new();
        let mut bad = None;
        for (key, value) in object {
            let column = match self.columns.get(&key) {
                Some(&column) => column,
                None if self.headers.len() >= MAX_COLUMNS => {
                    let message = format!("the file has more than {MAX_COLUMNS} different keys");
                    return Some(Err(RowError { row, code: code::BAD_JSON, message }));
                }
                None => {
                    self.headers.push(key.clone());
                    self.columns.insert(key.clone(), self.headers.len() - 1);
                    self.headers.len() - 1
                }
            };
            let cell = match value {
                Value::Null => Cell::Empty,
                Value::Bool(b) => Cell::Bool(b),
                Value::Number(n) => n.as_f64().map_or_else(|| text_cell(&n.to_string()), Cell::Number),
                Value::String(s) => text_cell(&s),
                Value::Array(_) | Value::Object(_) => {
                    bad.get_or_insert(key);
                    continue;
                }
            };
            if cells.len() <= column {
                cells.resize(column + 1, Cell::Empty);
            }
            cells[column] = cell;
        }
        if let Some(key) = bad {
            let message = format!("{:?} holds a list or an object, not a single value", one_line(&key, 40));
            return Some(Err(RowError { row, code: code::BAD_CELL, message }));
        }
        if cells.iter().all(Cell::is_empty) {
            return None;
        }
        Some(Ok(RawRow { row, cells }))
    }
}

impl RowReader for JsonlReader {
    fn headers(&self) -> &[String] {
        &self.headers
    }

    fn encoding(&self) -> Encoding {
        self.encoding
    }

    fn next_row(&mut self) -> Result<Option<Result<RawRow, RowError>>, FileError> {
        if let Some(first) = self.pending.take() {
            return Ok(Some(first));
        }
        loop {
            match self.read_line()? {
                None => return Ok(None),
                Some(Line::Blank) => continue,
                Some(Line::Bad { code, message }) => {
                    let message = format!("the line {message}");
                    return Ok(Some(Err(RowError { row: self.line_no, code, message })));
                }
                Some(Line::Object(object)) => {
                    if let Some(row) = self.row_of(object) {
                        return Ok(Some(row));
                    }
                }
            }
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Discards input up to and including the next newline, holding at most one buffer in memory.
fn skip_rest_of_line(reader: &mut impl BufRead) -> io::Result<()> {
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(());
        }
        if let Some(end) = buf.iter().position(|&b| b == b'\n') {
            reader.consume(end + 1);
            return Ok(());
        }
        let len = buf.len();
        reader.consume(len);
    }
}

//! Readers: a file's bytes → a header and a stream of raw rows of [`Cell`]s, without loading the file.
//!
//! Formats: CSV (UTF-8 with or without BOM, GB18030/GBK; LF or CRLF; quoted fields may hold newlines),
//! XLSX (first worksheet, streamed cell by cell), JSON lines (one object per line, keys are headers).
//! A file that cannot be read at all is a [`FileError`] (the CLI exits 2, nothing is stored); a single
//! malformed row is a [`RowError`] that the caller records against that row and goes on.
//!
//! Row numbers are the ones a spreadsheet user sees: the header is row 1, the first data row is row 2;
//! for JSON lines the line number (first line = 1).

use std::io::Read;
use std::path::Path;

use xinyong_domain::value::Cell;

/// File formats we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Xlsx,
    Jsonl,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Jsonl => "jsonl",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "csv" | "txt" => Some(Format::Csv),
            "xlsx" | "xlsm" => Some(Format::Xlsx),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            _ => None,
        }
    }

    /// The format a file name's extension implies.
    pub fn from_path(path: &Path) -> Option<Format> {
        path.extension().and_then(|e| e.to_str()).and_then(Format::parse)
    }
}

/// Which text encoding to read CSV and JSON lines in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncodingChoice {
    /// UTF-8 when the first 64 KiB are valid UTF-8 (a BOM also says so), GB18030 otherwise.
    Auto,
    Utf8,
    Gb18030,
}

impl EncodingChoice {
    pub fn parse(s: &str) -> Option<EncodingChoice> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "auto" => Some(EncodingChoice::Auto),
            "utf-8" | "utf8" => Some(EncodingChoice::Utf8),
            "gb18030" | "gbk" | "gb2312" => Some(EncodingChoice::Gb18030),
            _ => None,
        }
    }
}

/// The encoding a reader actually used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Utf8,
    Gb18030,
    /// XLSX carries its own encoding.
    Native,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Gb18030 => "gb18030",
            Encoding::Native => "native",
        }
    }
}

/// A file that cannot be read at all: not the format it claims, truncated, binary garbage, no header.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct FileError {
    pub message: String,
}

impl FileError {
    pub fn new(message: impl Into<String>) -> FileError {
        FileError { message: message.into() }
    }
}

/// One row that could not be read (e.g. bytes invalid in the file's encoding, a JSON line that is not
/// an object). The rows around it are still read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: u64,
    pub code: &'static str,
    pub message: String,
}

/// One data row. `cells[i]` belongs to `headers()[i]`; a row may be shorter than the header.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    pub row: u64,
    pub cells: Vec<Cell>,
}

/// A stream of rows from one file.
pub trait RowReader: Send {
    /// Header labels in column order, as written in the file (not normalised). For JSON lines the list
    /// grows as new keys appear; a row never refers past the headers known when it is returned.
    fn headers(&self) -> &[String];

    /// The encoding in use.
    fn encoding(&self) -> Encoding;

    /// The next row, a row-level error, or `None` at the end. A `FileError` here means the file broke
    /// off in a way that makes the rest unreadable (e.g. a truncated XLSX): the caller stores nothing.
    fn next_row(&mut self) -> Result<Option<Result<RawRow, RowError>>, FileError>;
}

/// Opens a file for reading.
pub fn open_path(path: &Path, format: Format, encoding: EncodingChoice) -> Result<Box<dyn RowReader>, FileError> {
    implementation::open_path(path, format, encoding)
}

/// Opens a stream (an HTTP upload). XLSX needs random access, so it is spooled to a temporary file first.
pub fn open_stream(
    input: Box<dyn Read + Send>,
    format: Format,
    encoding: EncodingChoice,
) -> Result<Box<dyn RowReader>, FileError> {
    implementation::open_stream(input, format, encoding)
}

mod implementation;

//! The readers behind [`super::open_path`] and [`super::open_stream`]: one module per format plus the
//! encoding sniffer the two text formats share.
//!
//! Invariants every reader keeps:
//! - memory is bounded by one record (at most [`MAX_RECORD_BYTES`]) plus fixed buffers, never by the
//!   file size (XLSX adds calamine's shared-string table, see [`xlsx`]);
//! - the header is read while opening, so [`RowReader::headers`] is valid as soon as `open_*` returns;
//! - rows whose cells are all empty are skipped, never returned;
//! - a row never holds more cells than `headers()` has labels: a non-empty cell to the right of the
//!   last labelled column is a [`super::RowError`] with code `extra_cells`;
//! - [`FileError`] messages are one line and quote no cell content (only labels, clipped).
//!
//! ```no_run
//! # use xinyong_ingest::reader::{open_path, EncodingChoice, Format};
//! let mut rows = open_path("penalties.csv".as_ref(), Format::Csv, EncodingChoice::Auto)?;
//! while let Some(row) = rows.next_row()? {
//!     match row {
//!         Ok(row) => println!("row {}: {} cells", row.row, row.cells.len()),
//!         Err(e) => println!("row {}: {} ({})", e.row, e.message, e.code),
//!     }
//! }
//! # Ok::<(), xinyong_ingest::reader::FileError>(())
//! ```

mod csv;
mod encoding;
mod jsonl;
mod xlsx;
mod xlsx_worker;

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use xinyong_domain::value::{Cell, CompactString, is_blank};

use super::{EncodingChoice, FileError, Format, RowReader};

/// Longest CSV record or JSON line we hold in memory. Real rows are a few KiB; anything longer is an
/// unclosed quote or not a text file, and reading on would make memory grow with the file.
pub(super) const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// Most columns a file may have (Excel's limit); bounds the JSON lines header, which grows with keys.
pub(super) const MAX_COLUMNS: usize = 16_384;

/// Row-level error codes the readers produce (stable API, like the validation codes).
pub(super) mod code {
    /// Bytes that are not valid in the file's encoding.
    pub const BAD_ENCODING: &str = "bad_encoding";
    /// A cell that holds no usable value: a spreadsheet error, a JSON array or object.
    pub const BAD_CELL: &str = "bad_cell";
    /// A JSON line that is not valid JSON or not an object.
    pub const BAD_JSON: &str = "bad_json";
    /// A non-empty cell in a column without a header label.
    pub const EXTRA_CELLS: &str = "extra_cells";
}

pub(super) fn open_path(
    path: &Path,
    format: Format,
    encoding: EncodingChoice,
) -> Result<Box<dyn RowReader>, FileError> {
    let file = File::open(path).map_err(|e| FileError::new(format!("cannot open the file: {e}")))?;
    match format {
        Format::Xlsx => xlsx::open(file),
        Format::Csv | Format::Jsonl => open_stream(Box::new(file), format, encoding),
    }
}

pub(super) fn open_stream(
    input: Box<dyn Read + Send>,
    format: Format,
    encoding: EncodingChoice,
) -> Result<Box<dyn RowReader>, FileError> {
    match format {
        Format::Csv => csv::open(encoding::open_text(input, encoding, "CSV")?),
        Format::Jsonl => jsonl::open(encoding::open_text(input, encoding, "JSON lines")?),
        Format::Xlsx => xlsx::open(spool(input)?),
    }
}

/// Copies a stream to an anonymous temporary file (deleted by the OS even if we crash), because
/// XLSX is a ZIP archive and needs random access.
fn spool(mut input: Box<dyn Read + Send>) -> Result<File, FileError> {
    let temp_error = |e: io::Error| FileError::new(format!("cannot spool the upload to a temporary file: {e}"));
    let mut file = tempfile::tempfile().map_err(temp_error)?;
    io::copy(&mut input, &mut file).map_err(read_error)?;
    io::Seek::rewind(&mut file).map_err(temp_error)?;
    Ok(file)
}

fn read_error(e: io::Error) -> FileError {
    FileError::new(format!("cannot read the file: {}", one_line(&e.to_string(), 120)))
}

/// A cell from text as found in a file: whitespace-only text is [`Cell::Empty`]; other text is kept
/// as written (normalisation is the validator's job).
///
/// Blankness is decided on `s`, still warm in the reader's buffer, before it is copied into the cell.
fn text_cell(s: &str) -> Cell {
    if is_blank(s) { Cell::Empty } else { Cell::Text(s.into()) }
}

/// [`text_cell`] of text already owned.
fn owned_text_cell(s: CompactString) -> Cell {
    if is_blank(&s) { Cell::Empty } else { Cell::Text(s) }
}

/// `s` on one line and at most `max` characters, for quoting labels or foreign error messages.
fn one_line(s: &str, max: usize) -> String {
    let mut out: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).take(max).collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

/// Drops trailing empty labels, so `headers()` never ends in an unlabelled column.
fn trim_trailing_empty(labels: &mut Vec<String>) {
    while labels.last().is_some_and(|l| l.is_empty()) {
        labels.pop();
    }
}

/// Fits a row's cells to a header of `width` labels: trailing empty cells past the header are
/// dropped; a non-empty one is an error message for code `extra_cells`.
fn fit_to_header(cells: &mut Vec<Cell>, width: usize) -> Result<(), String> {
    if let Some(extra) = cells.iter().skip(width).position(|c| !c.is_empty()) {
        return Err(format!("column {} holds a value but the header has only {width} columns", width + extra + 1));
    }
    cells.truncate(width);
    Ok(())
}

//! CSV: comma-separated, quoted fields may hold commas, quotes and newlines; LF or CRLF.
//!
//! Records are read as raw [`ByteRecord`]s and each field is checked as UTF-8 on its own, so bytes
//! invalid in the file's encoding cost one `bad_encoding` row, not the file (see [`super::encoding`]).
//!
//! Row numbers count CSV *records* in file order, header = 1: a newline inside a quoted field does not
//! add a row, and a record whose cells are all empty (`,,,`) is counted but not returned. Lines that are
//! entirely blank are skipped by the `csv` crate itself and are *not* counted, so after a blank line our
//! numbers run one below a spreadsheet's (spreadsheet exports never write blank lines between records).
//!
//! ```text
//! 名称,统一社会信用代码      row 1 (header)
//! "甲公司                    row 2 (one record over two lines)
//! 分部",91350100M000100Y3X
//! 乙公司,91350100M000100Y4Y  row 3
//! ```

use std::io::{self, Read};

use ::csv::{ByteRecord, ReaderBuilder};
use xinyong_domain::value::Cell;

use super::encoding::{TextSource, as_text};
use super::{MAX_RECORD_BYTES, code, fit_to_header, read_error, text_cell, trim_trailing_empty};
use crate::reader::{Encoding, FileError, RawRow, RowError, RowReader};

pub(super) fn open(source: TextSource) -> Result<Box<dyn RowReader>, FileError> {
    let stream = Bounded { inner: source.stream, consumed: 0, limit: MAX_RECORD_BYTES };
    let records = ReaderBuilder::new().has_headers(false).flexible(true).from_reader(stream);
    let mut reader =
        CsvReader { records, record: ByteRecord::new(), headers: Vec::new(), encoding: source.encoding, index: 0 };
    if !reader.read_record()? {
        return Err(FileError::new("no header row: the file holds only blank lines"));
    }
    let mut headers = Vec::with_capacity(reader.record.len());
    for field in &reader.record {
        let label = as_text(field, reader.encoding)
            .filter(|l| !l.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n')));
        let Some(label) = label else {
            return Err(FileError::new(format!(
                "the header row is not readable {} text (wrong encoding or binary data)",
                reader.encoding.as_str()
            )));
        };
        // Line breaks inside a quoted label (Alt+Enter in a spreadsheet) are kept; header mapping
        // normalises labels.
        headers.push(label.trim().to_owned());
    }
    trim_trailing_empty(&mut headers);
    if headers.is_empty() {
        return Err(FileError::new("the header row is empty"));
    }
    reader.headers = headers;
    Ok(Box::new(reader))
}

struct CsvReader {
    records: ::csv::Reader<Bounded>,
    record: ByteRecord,
    headers: Vec<String>,
    encoding: Encoding,
    /// Records read so far, the header included: the row number of the current record.
    index: u64,
}

impl CsvReader {
    /// Reads the next record into `self.record`; `false` at the end.
    fn read_record(&mut self) -> Result<bool, FileError> {
        let found = self.records.read_byte_record(&mut self.record).map_err(|e| self.csv_error(e))?;
        if found {
            self.index += 1;
            let next_start = self.records.position().byte();
            self.records.get_mut().limit = next_start.saturating_add(MAX_RECORD_BYTES);
        }
        Ok(found)
    }

    fn csv_error(&self, e: ::csv::Error) -> FileError {
        match e.into_kind() {
            ::csv::ErrorKind::Io(io) if io.get_ref().is_some_and(|i| i.is::<RecordTooLong>()) => {
                FileError::new(format!(
                    "row {} is longer than {} MiB (an unclosed quote?)",
                    self.index + 1,
                    MAX_RECORD_BYTES / (1024 * 1024)
                ))
            }
            ::csv::ErrorKind::Io(io) => read_error(io),
            _ => FileError::new(format!("cannot read CSV after row {}", self.index)),
        }
    }
}

impl RowReader for CsvReader {
    fn headers(&self) -> &[String] {
        &self.headers
    }

    fn encoding(&self) -> Encoding {
        self.encoding
    }

    fn next_row(&mut self) -> Result<Option<Result<RawRow, RowError>>, FileError> {
        loop {
            if !self.read_record()? {
                return Ok(None);
            }
            let row = self.index;
            let mut cells = Vec::with_capacity(self.record.len());
            let mut blank = true;
            // The record's fields lie end to end in one buffer, so one check covers them all: a field
            // is valid text exactly when it is a slice of that text on character boundaries (a field
            // of valid text starts and ends a character where the whole does). A field that is not is
            // checked on its own, which finds the column to report.
            let whole = as_text(self.record.as_slice(), self.encoding);
            for (column, field) in self.record.iter().enumerate() {
                let in_whole = whole.zip(self.record.range(column)).and_then(|(whole, range)| whole.get(range));
                let Some(text) = in_whole.or_else(|| as_text(field, self.encoding)) else {
                    let message =
                        format!("column {} holds bytes that are not valid {} text", column + 1, self.encoding.as_str());
                    return Ok(Some(Err(RowError { row, code: code::BAD_ENCODING, message })));
                };
                let cell = text_cell(text);
                blank &= matches!(cell, Cell::Empty);
                cells.push(cell);
            }
            if blank {
                continue;
            }
            if let Err(message) = fit_to_header(&mut cells, self.headers.len()) {
                return Ok(Some(Err(RowError { row, code: code::EXTRA_CELLS, message })));
            }
            return Ok(Some(Ok(RawRow { row, cells })));
        }
    }
}

/// The stream under the CSV parser, failing once one record runs past [`MAX_RECORD_BYTES`]: the parser
/// buffers a whole record, so an unclosed quote in a large file would otherwise buffer the rest of it.
struct Bounded {
    inner: Box<dyn Read + Send>,
    /// Bytes handed to the parser so far.
    consumed: u64,
    /// `consumed` may not pass this; moved forward after every record.
    limit: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("record too long")]
struct RecordTooLong;

impl Read for Bounded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.consumed >= self.limit {
            return Err(io::Error::new(io::ErrorKind::InvalidData, RecordTooLong));
        }
        let room = usize::try_from(self.limit - self.consumed).unwrap_or(usize::MAX).min(buf.len());
        let n = self.inner.read(&mut buf[..room])?;
        self.consumed += n as u64;
        Ok(n)
    }
}

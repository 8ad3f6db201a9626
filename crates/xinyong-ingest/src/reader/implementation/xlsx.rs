//! XLSX: the first worksheet, streamed row by row (the calamine part lives in [`super::xlsx_worker`]).
//!
//! The header is the first row holding any value; its columns start at its leftmost value, so a table
//! placed at `B3` has no phantom empty column A. Data rows keep their sheet row numbers (1-based, as
//! Excel shows them), so a row error points at the row the user sees. Cell values: text → text,
//! numbers → number, booleans → bool, date-formatted numbers → date; an error value (`#DIV/0!`) makes
//! the row `bad_cell`; a value outside the header's columns makes it `extra_cells`.
//!
//! ```text
//!    A      B             C
//! 1                                        (blank, skipped)
//! 2         名称          处罚决定日期      header: [名称, 处罚决定日期]
//! 3         甲公司        2018-04-27        row 3: [Text, Date]
//! ```

use std::fs::File;
use std::io::{Read, Seek};
use std::sync::mpsc::Receiver;

use xinyong_domain::value::Cell;

use super::xlsx_worker::{self, Msg, SheetCell, SheetRow};
use super::{MAX_COLUMNS, code, one_line, read_error};
use crate::reader::{Encoding, FileError, RawRow, RowError, RowReader};

/// How every XLSX (a ZIP archive) starts; an empty archive starts with `PK\x05\x06`.
const ZIP_MAGIC: &[u8] = b"PK";
/// How OLE compound files start: old `.xls` workbooks and encrypted `.xlsx` ones.
const CFB_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

pub(super) fn open(mut file: File) -> Result<Box<dyn RowReader>, FileError> {
    check_container(&mut file)?;
    let mut reader =
        XlsxReader { rows: xlsx_worker::spawn(file)?, headers: Vec::new(), first_column: 0, finished: false };
    let Some(header) = reader.receive()? else {
        return Err(FileError::new("the first worksheet is empty"));
    };
    reader.set_header(header)?;
    Ok(Box::new(reader))
}

/// Answers the common mistakes (an empty file, a CSV or an old `.xls` named `.xlsx`) in plain words
/// before calamine would in ZIP terms.
fn check_container(file: &mut File) -> Result<(), FileError> {
    let mut magic = Vec::with_capacity(CFB_MAGIC.len());
    file.take(CFB_MAGIC.len() as u64).read_to_end(&mut magic).map_err(read_error)?;
    file.rewind().map_err(read_error)?;
    if magic.is_empty() {
        return Err(FileError::new("file is empty"));
    }
    if magic == CFB_MAGIC {
        return Err(FileError::new(
            "not an XLSX workbook: an old .xls workbook or an encrypted one, save it as .xlsx without a password",
        ));
    }
    if !magic.starts_with(ZIP_MAGIC) {
        return Err(FileError::new("not an XLSX workbook: the file is not a ZIP archive"));
    }
    Ok(())
}

struct XlsxReader {
    rows: Receiver<Msg>,
    headers: Vec<String>,
    /// Sheet column (0-based) of `headers[0]`.
    first_column: u32,
    /// The worker sent its last message.
    finished: bool,
}

impl XlsxReader {
    fn receive(&mut self) -> Result<Option<SheetRow>, FileError> {
        if self.finished {
            return Ok(None);
        }
        let message = self
            .rows
            .recv()
            .unwrap_or_else(|_| Msg::Failed("the XLSX reader stopped unexpectedly (a damaged workbook?)".into()));
        match message {
            Msg::Row(row) => Ok(Some(row)),
            Msg::End => {
                self.finished = true;
                Ok(None)
            }
            Msg::Failed(message) => {
                self.finished = true;
                Err(FileError::new(message))
            }
        }
    }

    fn set_header(&mut self, header: SheetRow) -> Result<(), FileError> {
        let columns = header.cells.iter().map(|(column, _)| *column);
        let (first, last) = (columns.clone().min().unwrap_or(0), columns.max().unwrap_or(0));
        let width = (last - first) as usize + 1;
        if width > MAX_COLUMNS {
            return Err(FileError::new(format!("the header row has more than {MAX_COLUMNS} columns")));
        }
        let mut labels = vec![String::new(); width];
        for (column, value) in header.cells {
            labels[(column - first) as usize] = match value {
                SheetCell::Value(cell) => label(&cell),
                SheetCell::Bad(what) => {
                    let at = cell_name(column, header.row);
                    return Err(FileError::new(format!("the header row: cell {at} holds {}", one_line(&what, 60))));
                }
            };
        }
        self.headers = labels;
        self.first_column = first;
        Ok(())
    }

    fn row_of(&self, sheet_row: SheetRow) -> Result<RawRow, RowError> {
        let row = u64::from(sheet_row.row) + 1;
        let mut cells: Vec<Cell> = Vec::new();
        let mut extra = None;
        for (column, value) in sheet_row.cells {
            let cell = match value {
                SheetCell::Value(cell) => cell,
                SheetCell::Bad(what) => {
                    let message = format!("cell {} holds {what}", cell_name(column, sheet_row.row));
                    return Err(RowError { row, code: code::BAD_CELL, message });
                }
            };
            let index = column.checked_sub(self.first_column).map(|i| i as usize).filter(|&i| i < self.headers.len());
            let Some(index) = index else {
                extra.get_or_insert(column);
                continue;
            };
            if cells.len() <= index {
                cells.resize(index + 1, Cell::Empty);
            }
            cells[index] = cell;
        }
        if let Some(column) = extra {
            let message =
                format!("cell {} holds a value but its column has no header", cell_name(column, sheet_row.row));
            return Err(RowError { row, code: code::EXTRA_CELLS, message });
        }
        Ok(RawRow { row, cells })
    }
}

impl RowReader for XlsxReader {
    fn headers(&self) -> &[String] {
        &self.headers
    }

    fn encoding(&self) -> Encoding {
        Encoding::Native
    }

    fn next_row(&mut self) -> Result<Option<Result<RawRow, RowError>>, FileError> {
        // The worker sends only rows holding a value, so no row here is all empty.
        Ok(self.receive()?.map(|row| self.row_of(row)))
    }
}

/// A header cell as a label: text trimmed; numbers, dates and booleans as Excel would show them.
fn label(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(s) => s.trim().to_owned(),
        Cell::Number(n) => n.to_string(),
        Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
    }
}

/// `A1`-style name of a 0-based (column, row).
fn cell_name(column: u32, row: u32) -> String {
    let mut letters = Vec::new();
    let mut n = u64::from(column) + 1;
    while n > 0 {
        n -= 1;
        letters.push(char::from(b'A' + (n % 26) as u8));
        n /= 26;
    }
    letters.iter().rev().collect::<String>() + &(u64::from(row) + 1).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_named_like_excel_names_them() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(25, 9), "Z10");
        assert_eq!(cell_name(26, 0), "AA1");
        assert_eq!(cell_name(16_383, 1_048_575), "XFD1048576");
    }
}

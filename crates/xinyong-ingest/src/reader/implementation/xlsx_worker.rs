//! The calamine side of the XLSX reader, running on its own thread.
//!
//! calamine streams a worksheet with `XlsxCellReader<'a>`, which borrows the `Xlsx` workbook; the two
//! cannot live in one struct without self-reference (and `unsafe` is forbidden here). So a worker
//! thread owns the workbook, walks the first worksheet cell by cell in XML order, groups the cells of
//! each sheet row, converts them to [`Cell`]s and sends the rows over a bounded channel.
//!
//! Memory: at most [`ROWS_IN_FLIGHT`] rows wait in the channel and a row holds at most
//! [`MAX_COLUMNS`] cells. calamine itself loads the workbook's shared-string table (every distinct
//! text in the workbook) when opening; the sheet XML is inflated from the ZIP as it is read.
//! Dropping the receiving end stops the worker at its next send. If calamine panicked on a damaged
//! file, the channel closes without an `End` and the reader reports a `FileError`.

use std::fs::File;
use std::io::BufReader;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

use calamine::{DataRef, ExcelDateTime, Reader, SheetType, Xlsx, XlsxError};
use chrono::NaiveDate;
use xinyong_domain::value::Cell;

use super::{MAX_COLUMNS, one_line};
use crate::reader::FileError;

/// Rows read ahead of the consumer.
const ROWS_IN_FLIGHT: usize = 64;

pub(super) enum Msg {
    Row(SheetRow),
    /// The workbook cannot be read (on): a one-line message for a `FileError`.
    Failed(String),
    End,
}

/// The non-empty cells of one sheet row. `row` and the columns are 0-based sheet coordinates.
pub(super) struct SheetRow {
    pub row: u32,
    pub cells: Vec<(u32, SheetCell)>,
}

pub(super) enum SheetCell {
    Value(Cell),
    /// A cell without a usable value; completes "cell B5 holds …".
    Bad(String),
}

pub(super) fn spawn(file: File) -> Result<Receiver<Msg>, FileError> {
    let (tx, rx) = sync_channel(ROWS_IN_FLIGHT);
    thread::Builder::new()
        .name("xlsx-reader".into())
        .spawn(move || {
            let last = match read_first_sheet(file, &tx) {
                Ok(()) => Msg::End,
                Err(Stop::Failed(message)) => Msg::Failed(message),
                Err(Stop::HungUp) => return,
            };
            // The reader may be gone already; then nobody needs to know.
            let _ = tx.send(last);
        })
        .map_err(|e| FileError::new(format!("cannot start the XLSX reader: {e}")))?;
    Ok(rx)
}

enum Stop {
    Failed(String),
    /// The reader was dropped.
    HungUp,
}

fn read_first_sheet(file: File, tx: &SyncSender<Msg>) -> Result<(), Stop> {
    let mut workbook = Xlsx::new(BufReader::new(file)).map_err(|e| Stop::Failed(not_xlsx(&e)))?;
    let sheet = workbook
        .sheets_metadata()
        .iter()
        .find(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .ok_or_else(|| Stop::Failed("the workbook has no worksheet".into()))?;
    let mut cells = workbook.worksheet_cells_reader(&sheet).map_err(|e| Stop::Failed(not_xlsx(&e)))?;
    let mut current: Option<SheetRow> = None;
    let mut rows_done = 0u32;
    loop {
        let cell = match cells.next_cell() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            Err(e) => {
                let message = format!("the XLSX workbook is damaged after sheet row {rows_done}: {}", detail(&e));
                return Err(Stop::Failed(message));
            }
        };
        let (row, column) = cell.get_position();
        let Some(value) = convert(cell.get_value()) else {
            continue;
        };
        if let Some(done) = current.take_if(|r| r.row != row) {
            rows_done = done.row + 1;
            send(tx, done)?;
        }
        let current = current.get_or_insert_with(|| SheetRow { row, cells: Vec::new() });
        if current.cells.len() >= MAX_COLUMNS {
            return Err(Stop::Failed(format!("sheet row {} has more than {MAX_COLUMNS} cells", row + 1)));
        }
        current.cells.push((column, value));
    }
    match current {
        Some(last) => send(tx, last),
        None => Ok(()),
    }
}

fn send(tx: &SyncSender<Msg>, row: SheetRow) -> Result<(), Stop> {
    tx.send(Msg::Row(row)).map_err(|_| Stop::HungUp)
}

fn not_xlsx(e: &XlsxError) -> String {
    match e {
        XlsxError::Password => "not an XLSX workbook: it is password protected, save it without a password".into(),
        e => format!("not an XLSX workbook: {}", detail(e)),
    }
}

/// calamine's message, one line and short (they name XML parts, never cell contents, but be safe).
fn detail(e: &XlsxError) -> String {
    one_line(&e.to_string(), 100)
}

/// Our cell for calamine's value; `None` for an empty cell (also whitespace-only text).
fn convert(value: &DataRef<'_>) -> Option<SheetCell> {
    let cell = match value {
        DataRef::Empty => return None,
        DataRef::String(s) | DataRef::DateTimeIso(s) if s.trim().is_empty() => return None,
        DataRef::SharedString(s) if s.trim().is_empty() => return None,
        DataRef::String(s) | DataRef::DurationIso(s) => Cell::Text(s.as_str().into()),
        DataRef::SharedString(s) => Cell::Text((*s).into()),
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(dt) => return Some(date_time(dt)),
        DataRef::DateTimeIso(s) => match s.get(..10).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) {
            Some(date) => Cell::Date(date),
            None => Cell::Text(s.as_str().into()),
        },
        DataRef::Error(e) => return Some(SheetCell::Bad(format!("the error value {e}"))),
    };
    Some(SheetCell::Value(cell))
}

/// A date-formatted number. calamine's own calendar arithmetic (which knows the 1904 epoch and
/// Excel's phantom 1900-02-29) gives the date without its `chrono` feature; the time of day is
/// dropped. A serial below 1 is a time of day only and is kept as `HH:MM:SS` text.
fn date_time(dt: &ExcelDateTime) -> SheetCell {
    let serial = dt.as_f64();
    if dt.is_duration() {
        return SheetCell::Value(Cell::Number(serial));
    }
    if !(serial.is_finite() && serial >= 0.0) {
        return SheetCell::Bad("a date cell with a negative serial number".into());
    }
    let (year, month, day, hour, minute, second, _) = dt.to_ymd_hms_milli();
    if serial < 1.0 {
        return SheetCell::Value(Cell::Text(format!("{hour:02}:{minute:02}:{second:02}").into()));
    }
    match NaiveDate::from_ymd_opt(year.into(), month.into(), day.into()) {
        Some(date) => SheetCell::Value(Cell::Date(date)),
        None => SheetCell::Bad(format!("the date {year}-{month:02}-{day:02}, which does not exist")),
    }
}

#[cfg(test)]
mod tests {
    use calamine::ExcelDateTimeType;

    use super::*;

    fn date_of(serial: f64, is_1904: bool) -> Option<NaiveDate> {
        match date_time(&ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, is_1904)) {
            SheetCell::Value(Cell::Date(d)) => Some(d),
            _ => None,
        }
    }

    #[test]
    fn an_excel_serial_is_a_date_in_either_epoch() {
        assert_eq!(date_of(43217.0, false), NaiveDate::from_ymd_opt(2018, 4, 27));
        assert_eq!(date_of(43217.75, false), NaiveDate::from_ymd_opt(2018, 4, 27));
        assert_eq!(date_of(41755.0, true), NaiveDate::from_ymd_opt(2018, 4, 27));
    }

    #[test]
    fn excels_phantom_leap_day_is_a_bad_cell() {
        assert_eq!(date_of(60.0, false), None);
        assert_eq!(date_of(61.0, false), NaiveDate::from_ymd_opt(1900, 3, 1));
    }
}

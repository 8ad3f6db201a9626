//! XLSX files: one worksheet, a header row, identifiers and texts as string cells, dates as
//! date-formatted cells, plain decimals as numbers, and — as a deliberate fault — an identifier as a
//! number cell the way a spreadsheet mangles it. The document creation time is fixed, so the same rows
//! give the same bytes.
//!
//! rust_xlsxwriter's constant-memory mode needs its `constant_memory` cargo feature, which this crate
//! does not enable; the worksheet is therefore held in memory until `finish` (about 2.7 KB a row). To
//! keep memory bounded, XLSX files get small shares of their item's rows and stop at [`MAX_ROWS`], as a
//! unit's spreadsheet export would be cut off; only runs of well over a million subjects reach it.

use std::path::PathBuf;

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::is_plain_decimal;
use crate::layout::{Layout, Record, Ty, iso_date};
use crate::{AS_OF, SynthError};

/// Data rows an XLSX file holds at most; the run drops further rows planned for it.
pub(crate) const MAX_ROWS: u64 = 20_000;

pub(crate) struct XlsxSink {
    path: PathBuf,
    sheet: Worksheet,
    date_format: Format,
    /// The next row to write (0 is the header).
    row: u32,
}

impl std::fmt::Debug for XlsxSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XlsxSink").field("path", &self.path).field("row", &self.row).finish()
    }
}

fn excel_date(d: chrono::NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    use chrono::Datelike;
    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
}

impl XlsxSink {
    pub(crate) fn open(path: PathBuf, layout: &Layout) -> Result<XlsxSink, SynthError> {
        let mut sheet = Worksheet::new();
        let header = Format::new().set_bold();
        let result = (|| -> Result<(), XlsxError> {
            sheet.set_name("数据")?;
            for (col, column) in layout.columns.iter().enumerate() {
                sheet.write_string_with_format(0, col as u16, &column.header, &header)?;
                sheet.set_column_width(col as u16, 18)?;
            }
            sheet.set_freeze_panes(1, 0)?;
            Ok(())
        })();
        result.map_err(|source| SynthError::Xlsx { path: path.clone(), source })?;
        Ok(XlsxSink { path, sheet, date_format: Format::new().set_num_format("yyyy-mm-dd"), row: 1 })
    }

    fn write_cells(&mut self, layout: &Layout, rec: &Record) -> Result<(), XlsxError> {
        let row = self.row;
        for (col, column) in layout.columns.iter().enumerate() {
            let col = col as u16;
            let value = rec.get(column.f);
            if rec.numeric == Some(column.f) {
                // What Excel keeps of an 18-digit number: 15 significant digits.
                let digits: String = value.chars().take(17).collect();
                let n = digits.parse::<f64>().unwrap_or(3.101_011_990_010_11e16) * 10.0;
                self.sheet.write_number(row, col, n)?;
                continue;
            }
            if value.is_empty() {
                continue;
            }
            match column.f.ty() {
                Ty::Date => match iso_date(value) {
                    Some(d) => self.sheet.write_datetime_with_format(row, col, excel_date(d)?, &self.date_format)?,
                    None => self.sheet.write_string(row, col, value)?,
                },
                Ty::Decimal if is_plain_decimal(value) => {
                    self.sheet.write_number(row, col, value.parse::<f64>().unwrap_or_default())?
                }
                _ => self.sheet.write_string(row, col, value)?,
            };
        }
        self.row += 1;
        Ok(())
    }

    pub(crate) fn write(&mut self, layout: &Layout, rec: &Record) -> Result<(), SynthError> {
        self.write_cells(layout, rec).map_err(|source| SynthError::Xlsx { path: self.path.clone(), source })
    }

    pub(crate) fn finish(self) -> Result<(), SynthError> {
        let XlsxSink { path, sheet, .. } = self;
        let result = (|| -> Result<(), XlsxError> {
            let mut workbook = Workbook::new();
            // A fixed creation time (the default is "now") keeps the bytes identical between runs.
            let created = excel_date(AS_OF)?;
            workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
            workbook.push_worksheet(sheet);
            workbook.save(&path)
        })();
        result.map_err(|source| SynthError::Xlsx { path, source })
    }
}

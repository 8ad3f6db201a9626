//! Tables offered for download as CSV or XLSX: the `?format=` parameter, the MIME type and extension, and
//! the writers for tables of text.

use crate::error::{ApiError, ApiResult};

/// A download's format. In XLSX every cell of [`xlsx`] is text, so that a spreadsheet program cannot
/// turn an 18-digit ID into a rounded number when the file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sheet {
    Csv,
    Xlsx,
}

impl Sheet {
    /// A `format` query parameter: `csv` (also when absent) or `xlsx`; anything else is 400.
    pub fn from_param(format: Option<&str>) -> ApiResult<Sheet> {
        match format {
            None | Some("csv") => Ok(Sheet::Csv),
            Some("xlsx") => Ok(Sheet::Xlsx),
            Some(other) => Err(ApiError::bad_request("bad_format", format!("format {other:?}: use csv or xlsx"))),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Sheet::Csv => "text/csv; charset=utf-8",
            Sheet::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Sheet::Csv => "csv",
            Sheet::Xlsx => "xlsx",
        }
    }
}

/// CSV in UTF-8 with a BOM, so that spreadsheet programs read the Chinese as UTF-8.
pub fn csv<L: AsRef<[String]>>(head: &[&str], lines: &[L]) -> csv::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record(head)?;
    for line in lines {
        out.write_record(line.as_ref())?;
    }
    out.flush()?;
    out.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// One worksheet `name`: the head in bold, every other cell text.
pub fn xlsx(name: &str, head: &[&str], lines: &[Vec<String>]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(name)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (col, title) in (0u16..).zip(head) {
        sheet.write_string_with_format(0, col, *title, &bold)?;
    }
    for (row, line) in (1u32..).zip(lines) {
        for (col, value) in (0u16..).zip(line) {
            sheet.write_string(row, col, value)?;
        }
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_parameter_is_csv_by_default_and_nothing_but_csv_or_xlsx() {
        assert_eq!(Sheet::from_param(None).ok(), Some(Sheet::Csv));
        assert_eq!(Sheet::from_param(Some("xlsx")).ok(), Some(Sheet::Xlsx));
        assert!(Sheet::from_param(Some("pdf")).is_err());
    }
}

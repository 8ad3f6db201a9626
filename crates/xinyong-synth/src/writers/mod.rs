//! Writers: records → bytes of one file, streamed. CSV (UTF-8 with or without BOM, or GB18030 encoded
//! in chunks), JSON lines (one object per line; empty fields left out; decimals as JSON numbers) and
//! XLSX (identifiers as text cells, dates as date cells; a fixed creation time so bytes repeat).
//!
//! ```text
//! let mut sink = Sink::open(dir, def, &layout)?;
//! sink.write(&layout, &rec)?;
//! sink.finish()?;
//! ```

mod delimited;
mod gb18030;
mod jsonl;
mod xlsx;

pub(crate) use xlsx::MAX_ROWS as XLSX_MAX_ROWS;

use std::fmt::Write as _;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};

use crate::SynthError;
use crate::layout::{Layout, Record};
use crate::plan::{DateStyle, FileDef, Format};

pub(crate) use gb18030::Gb18030Writer;

/// Buffer size of every file writer.
const BUFFER: usize = 256 * 1024;

/// An open output file of any format.
#[derive(Debug)]
pub(crate) enum Sink {
    /// Boxed: the CSV writer's buffer lives inline.
    Csv(Box<delimited::CsvSink>),
    Jsonl(jsonl::JsonlSink),
    /// Boxed: the worksheet is large and there are few XLSX files.
    Xlsx(Box<xlsx::XlsxSink>),
}

impl Sink {
    /// Creates `dir/def.path` and writes its header.
    pub(crate) fn open(dir: &Path, def: &FileDef, layout: &Layout) -> Result<Sink, SynthError> {
        let path = dir.join(def.path);
        Ok(match def.format {
            Format::Csv => Sink::Csv(Box::new(delimited::CsvSink::open(path, def, layout)?)),
            Format::Jsonl => Sink::Jsonl(jsonl::JsonlSink::open(path, layout)?),
            Format::Xlsx => Sink::Xlsx(Box::new(xlsx::XlsxSink::open(path, layout)?)),
        })
    }

    pub(crate) fn write(&mut self, layout: &Layout, rec: &Record) -> Result<(), SynthError> {
        match self {
            Sink::Csv(s) => s.write(layout, rec),
            Sink::Jsonl(s) => s.write(layout, rec),
            Sink::Xlsx(s) => s.write(layout, rec),
        }
    }

    /// Flushes everything to disk (XLSX: writes the workbook).
    pub(crate) fn finish(self) -> Result<(), SynthError> {
        match self {
            Sink::Csv(s) => s.finish(),
            Sink::Jsonl(s) => s.finish(),
            Sink::Xlsx(s) => s.finish(),
        }
    }
}

pub(crate) fn create(path: &Path) -> Result<BufWriter<File>, SynthError> {
    let file = File::create(path).map_err(|e| io_error(path, e))?;
    Ok(BufWriter::with_capacity(BUFFER, file))
}

pub(crate) fn io_error(path: &Path, source: std::io::Error) -> SynthError {
    SynthError::Io { path: PathBuf::from(path), source }
}

/// Writes an ISO date in `style` (the caller has checked it is a date).
pub(crate) fn style_date(out: &mut String, d: NaiveDate, style: DateStyle) {
    out.clear();
    let (y, m, day) = (d.year(), d.month(), d.day());
    let _ = match style {
        DateStyle::Iso => write!(out, "{y:04}-{m:02}-{day:02}"),
        DateStyle::Slash => write!(out, "{y}/{m}/{day}"),
        DateStyle::Compact => write!(out, "{y:04}{m:02}{day:02}"),
        DateStyle::Chinese => write!(out, "{y}年{m}月{day}日"),
    };
}

/// True for the plain decimals row builders write (`12`, `0.05`), which JSON and XLSX write as numbers.
pub(crate) fn is_plain_decimal(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    !int.is_empty() && digits(int) && digits(frac) && (s.len() == int.len() || !frac.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_in_every_accepted_style() {
        let d = NaiveDate::from_ymd_opt(2024, 5, 7).unwrap_or_default();
        let mut s = String::new();
        for (style, want) in [
            (DateStyle::Iso, "2024-05-07"),
            (DateStyle::Slash, "2024/5/7"),
            (DateStyle::Compact, "20240507"),
            (DateStyle::Chinese, "2024年5月7日"),
        ] {
            style_date(&mut s, d, style);
            assert_eq!(s, want);
        }
    }

    #[test]
    fn only_plain_decimals_are_numbers() {
        for ok in ["0", "12", "0.05", "100.5"] {
            assert!(is_plain_decimal(ok), "{ok}");
        }
        for bad in ["", "十万", "1.", ".5", "1,000", "-1", "3.10101E+17"] {
            assert!(!is_plain_decimal(bad), "{bad}");
        }
    }
}

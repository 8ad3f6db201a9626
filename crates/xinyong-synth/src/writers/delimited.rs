//! CSV files: UTF-8 with or without BOM, or GB18030; LF or CRLF; fields quoted where they hold a comma,
//! quote or line break (the `csv` crate's rules). Dates are restyled per file (`2024/5/7` …).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use super::{Gb18030Writer, create, io_error, style_date};
use crate::SynthError;
use crate::layout::{Layout, Record, Ty, iso_date};
use crate::plan::{DateStyle, Encoding, FileDef};

/// The byte stream under the CSV writer.
#[derive(Debug)]
pub(crate) enum Output {
    Utf8(BufWriter<File>),
    Gb18030(Gb18030Writer<BufWriter<File>>),
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Utf8(w) => w.write(buf),
            Output::Gb18030(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Utf8(w) => w.flush(),
            Output::Gb18030(w) => w.flush(),
        }
    }
}

impl Output {
    fn finish(self) -> std::io::Result<()> {
        let mut file = match self {
            Output::Utf8(w) => w,
            Output::Gb18030(w) => w.finish()?,
        };
        file.flush()
    }
}

#[derive(Debug)]
pub(crate) struct CsvSink {
    path: PathBuf,
    writer: csv::Writer<Output>,
    dates: DateStyle,
    scratch: String,
}

impl CsvSink {
    pub(crate) fn open(path: PathBuf, def: &FileDef, layout: &Layout) -> Result<CsvSink, SynthError> {
        let mut file = create(&path)?;
        let output = match def.encoding {
            Encoding::Utf8Bom => {
                file.write_all(b"\xEF\xBB\xBF").map_err(|e| io_error(&path, e))?;
                Output::Utf8(file)
            }
            Encoding::Utf8 => Output::Utf8(file),
            Encoding::Gb18030 => Output::Gb18030(Gb18030Writer::new(file)),
        };
        let terminator = if def.crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') };
        let writer = csv::WriterBuilder::new().terminator(terminator).buffer_capacity(64 * 1024).from_writer(output);
        let mut sink = CsvSink { path, writer, dates: def.dates, scratch: String::with_capacity(32) };
        let headers = layout.columns.iter().map(|c| c.header.as_str());
        sink.writer.write_record(headers).map_err(|e| sink.error(e))?;
        Ok(sink)
    }

    fn error(&self, source: csv::Error) -> SynthError {
        SynthError::Csv { path: self.path.clone(), source }
    }

    pub(crate) fn write(&mut self, layout: &Layout, rec: &Record) -> Result<(), SynthError> {
        for column in &layout.columns {
            let value = rec.get(column.f);
            let restyle = column.f.ty() == Ty::Date && self.dates != DateStyle::Iso;
            let result = match if restyle { iso_date(value) } else { None } {
                Some(d) => {
                    style_date(&mut self.scratch, d, self.dates);
                    self.writer.write_field(&self.scratch)
                }
                None => self.writer.write_field(value),
            };
            result.map_err(|e| SynthError::Csv { path: self.path.clone(), source: e })?;
        }
        self.writer.write_record(std::iter::empty::<&[u8]>()).map_err(|e| self.error(e))
    }

    pub(crate) fn finish(self) -> Result<(), SynthError> {
        let path = self.path;
        let output = self.writer.into_inner().map_err(|e| io_error(&path, e.into_error()))?;
        output.finish().map_err(|e| io_error(&path, e))
    }
}

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

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use xinyong_domain::value::Cell;

use super::encoding::{TextSource, as_text};
use super::{MAX_COLUMNS, MAX_RECORD_BYTES, code, one_line, owned_text_cell, read_error, text_cell};
use crate::reader::{Encoding, FileError, RawRow, RowError, RowReader};

pub(super) fn open(source: TextSource) -> Result<Box<dyn RowReader>, FileError> {
    let mut reader = JsonlReader {
        lines: BufReader::new(source.stream),
        encoding: source.encoding,
        headers: Vec::new(),
        columns: HashMap::new(),
        next_column: 0,
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
            Some(Line::Row(row)) => {
                reader.pending = row;
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
    /// The column after the last one found: lines of one file mostly repeat their keys in one order,
    /// so a key is first compared with this column's and looked up only if it differs.
    next_column: usize,
    /// Number of the line last read.
    line_no: u64,
    buf: Vec<u8>,
    /// The first row, read while opening.
    pending: Option<Result<RawRow, RowError>>,
}

/// One line, classified.
enum Line {
    Blank,
    /// An object's row; `None` when all its values are empty.
    Row(Option<Result<RawRow, RowError>>),
    /// `message` completes "the line …".
    Bad {
        code: &'static str,
        message: String,
    },
}

impl JsonlReader {
    fn read_line(&mut self) -> Result<Option<Line>, FileError> {
        // The line is parsed out of a buffer taken from `self`, so that its keys can stay borrowed
        // from it while the row takes its columns from `self`.
        let mut buf = std::mem::take(&mut self.buf);
        let line = self.read_line_into(&mut buf);
        self.buf = buf;
        line
    }

    fn read_line_into(&mut self, buf: &mut Vec<u8>) -> Result<Option<Line>, FileError> {
        buf.clear();
        let limit = MAX_RECORD_BYTES + 1;
        let n = (&mut self.lines).take(limit).read_until(b'\n', buf).map_err(read_error)?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        if buf.last() != Some(&b'\n') && buf.len() as u64 >= limit {
            skip_rest_of_line(&mut self.lines).map_err(read_error)?;
            let message = format!("is longer than {} MiB", MAX_RECORD_BYTES / (1024 * 1024));
            return Ok(Some(Line::Bad { code: code::BAD_JSON, message }));
        }
        let Some(text) = as_text(buf, self.encoding) else {
            let message = format!("holds bytes that are not valid {} text", self.encoding.as_str());
            return Ok(Some(Line::Bad { code: code::BAD_ENCODING, message }));
        };
        if text.trim().is_empty() {
            return Ok(Some(Line::Blank));
        }
        let line = match serde_json::from_str::<TopLevel>(text) {
            Ok(TopLevel::Object(members)) => Line::Row(self.row_of(members)),
            Ok(TopLevel::Other(kind)) => {
                Line::Bad { code: code::BAD_JSON, message: format!("is {kind}, not an object") }
            }
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
    /// A key given twice keeps its first place and its last value, as a JSON map reads it.
    fn row_of(&mut self, members: Vec<(Cow<'_, str>, Member)>) -> Option<Result<RawRow, RowError>> {
        let row = self.line_no;
        let mut cells = Vec::with_capacity(self.headers.len());
        // Columns in the order their keys first appear; per column, whether its (last) value is a list
        // or an object, `None` while its key has not been given.
        let (mut order, mut nested) = (Vec::with_capacity(members.len()), Vec::new());
        for (key, member) in members {
            let column = match self.column_of(key) {
                Ok(column) => column,
                Err(message) => return Some(Err(RowError { row, code: code::BAD_JSON, message })),
            };
            if cells.len() <= column {
                cells.resize(column + 1, Cell::Empty);
                nested.resize(column + 1, None);
            }
            if nested[column].is_none() {
                order.push(column);
            }
            nested[column] = Some(matches!(member, Member::Nested));
            if let Member::Cell(cell) = member {
                cells[column] = cell;
            }
        }
        if let Some(&column) = order.iter().find(|&&c| nested[c] == Some(true)) {
            let key = self.headers.get(column).map(String::as_str).unwrap_or_default();
            let message = format!("{:?} holds a list or an object, not a single value", one_line(key, 40));
            return Some(Err(RowError { row, code: code::BAD_CELL, message }));
        }
        if cells.iter().all(Cell::is_empty) {
            return None;
        }
        Some(Ok(RawRow { row, cells }))
    }

    /// The column of a key, added to the headers when new.
    fn column_of(&mut self, key: Cow<'_, str>) -> Result<usize, String> {
        let column = if self.headers.get(self.next_column).is_some_and(|h| *h == key) {
            self.next_column
        } else if let Some(&column) = self.columns.get(key.as_ref()) {
            column
        } else if self.headers.len() >= MAX_COLUMNS {
            return Err(format!("the file has more than {MAX_COLUMNS} different keys"));
        } else {
            let key = key.into_owned();
            self.columns.insert(key.clone(), self.headers.len());
            self.headers.push(key);
            self.headers.len() - 1
        };
        self.next_column = column + 1;
        Ok(column)
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
                Some(Line::Row(Some(row))) => return Ok(Some(row)),
                Some(Line::Row(None)) => continue,
            }
        }
    }
}

/// A line's JSON value, read without building a map: an object's members, or the kind of anything
/// else. (Reading each line into a `serde_json::Value` built an ordered hash map per line and hashed
/// every key twice; that was about half the reader's time on JSON lines.)
enum TopLevel<'a> {
    /// The members in the order written, a key given twice as often as given.
    Object(Vec<(Cow<'a, str>, Member)>),
    Other(&'static str),
}

/// One member's value: a cell, or a list or an object, which no cell can hold.
enum Member {
    Cell(Cell),
    Nested,
}

impl<'de> Deserialize<'de> for TopLevel<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TopLevel<'de>, D::Error> {
        deserializer.deserialize_any(TopLevelVisitor)
    }
}

struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    type Value = TopLevel<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(32));
        while let Some(key) = map.next_key::<Key<'de>>()? {
            members.push((key.0, map.next_value::<Member>()?));
        }
        Ok(TopLevel::Object(members))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TopLevel<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(TopLevel::Other("an array"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<TopLevel<'de>, E> {
        Ok(TopLevel::Other("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<TopLevel<'de>, E> {
        Ok(TopLevel::Other("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<TopLevel<'de>, E> {
        Ok(TopLevel::Other("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<TopLevel<'de>, E> {
        Ok(TopLevel::Other("a number"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<TopLevel<'de>, E> {
        Ok(TopLevel::Other("a string"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<TopLevel<'de>, E> {
        Ok(TopLevel::Other("null"))
    }
}

/// A member's key, borrowed from the line when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key<'de>, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(key)))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(key.to_owned())))
    }

    fn visit_string<E: de::Error>(self, key: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(key)))
    }
}

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Member, D::Error> {
        deserializer.deserialize_any(MemberVisitor)
    }
}

struct MemberVisitor;

/// Values as cells: a string is text (empty when blank), a number a number, a boolean a boolean,
/// `null` an empty cell.
impl<'de> Visitor<'de> for MemberVisitor {
    type Value = Member;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Member, E> {
        Ok(Member::Cell(Cell::Bool(b)))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Member, E> {
        Ok(Member::Cell(Cell::Number(n as f64)))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Member, E> {
        Ok(Member::Cell(Cell::Number(n as f64)))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Member, E> {
        Ok(Member::Cell(Cell::Number(n)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Member, E> {
        Ok(Member::Cell(text_cell(s)))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Member, E> {
        Ok(Member::Cell(owned_text_cell(s.into())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Member, E> {
        Ok(Member::Cell(Cell::Empty))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Member, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Member::Nested)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Member, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Member::Nested)
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

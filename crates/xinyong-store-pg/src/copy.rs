//! Rows for `COPY … FROM STDIN` in PostgreSQL's text format: tab-separated columns, `\N` for NULL,
//! backslash escapes for backslash, tab, newline and carriage return; `bytea` as `\x` + hex.
//!
//! ```text
//! 42→上海示例\ttab→\N→\\x0a1b→2026-05-06→t        (→ is a tab)
//! ```

use std::io::Write;

use chrono::NaiveDate;
use xinyong_store::Result;

use crate::db_err;
use crate::pool::Conn;

#[derive(Default)]
pub struct CopyRows {
    buf: Vec<u8>,
    /// At the start of a row (no separator before the next column).
    row_start: bool,
    rows: usize,
}

impl CopyRows {
    pub fn new() -> CopyRows {
        CopyRows { buf: Vec::with_capacity(1 << 16), row_start: true, rows: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    fn sep(&mut self) {
        if !self.row_start {
            self.buf.push(b'\t');
        }
        self.row_start = false;
    }

    pub fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        // Runs without a special byte are copied whole (most text has none: this is the ingest hot path).
        let mut rest = s.as_bytes();
        while let Some(i) = rest.iter().position(|&b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r')) {
            self.buf.extend_from_slice(&rest[..i]);
            self.buf.extend_from_slice(match rest[i] {
                b'\\' => b"\\\\",
                b'\t' => b"\\t",
                b'\n' => b"\\n",
                _ => b"\\r",
            });
            rest = &rest[i + 1..];
        }
        self.buf.extend_from_slice(rest);
        self
    }

    pub fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(b"\\N");
        self
    }

    pub fn int(&mut self, n: i64) -> &mut Self {
        self.sep();
        // Writing to a Vec cannot fail.
        let _ = write!(self.buf, "{n}");
        self
    }

    pub fn bool(&mut self, b: bool) -> &mut Self {
        self.sep();
        self.buf.push(if b { b't' } else { b'f' });
        self
    }

    pub fn date(&mut self, d: NaiveDate) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{}", d.format("%Y-%m-%d"));
        self
    }

    pub fn opt_date(&mut self, d: Option<NaiveDate>) -> &mut Self {
        match d {
            Some(d) => self.date(d),
            None => self.null(),
        }
    }

    /// `\x` + hex, its backslash escaped for the text format.
    pub fn bytea(&mut self, bytes: &[u8]) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(b"\\\\x");
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for b in bytes {
            self.buf.push(HEX[(b >> 4) as usize]);
            self.buf.push(HEX[(b & 15) as usize]);
        }
        self
    }

    pub fn opt_bytea(&mut self, bytes: Option<&[u8]>) -> &mut Self {
        match bytes {
            Some(b) => self.bytea(b),
            None => self.null(),
        }
    }

    pub fn end_row(&mut self) {
        self.buf.push(b'\n');
        self.row_start = true;
        self.rows += 1;
    }

    /// Sends the rows with `copy` (a `COPY … FROM STDIN` statement) and empties the buffer.
    pub fn send(&mut self, conn: &mut Conn, copy: &str) -> Result<u64> {
        if self.rows == 0 {
            return Ok(0);
        }
        let mut writer = conn.client.copy_in(copy).map_err(db_err)?;
        writer.write_all(&self.buf)?;
        let n = writer.finish().map_err(db_err)?;
        self.buf.clear();
        self.rows = 0;
        self.row_start = true;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_nulls_and_bytes_are_escaped() {
        let mut rows = CopyRows::new();
        rows.int(42).text("a\tb\\c\nd").null().bytea(&[10, 27]).date(NaiveDate::MIN).bool(true).end_row();
        let text = String::from_utf8(rows.buf.clone()).unwrap_or_default();
        assert!(text.starts_with("42\ta\\tb\\\\c\\nd\t\\N\t\\\\x0a1b\t"), "{text}");
        assert!(text.ends_with("\tt\n"));
    }
}

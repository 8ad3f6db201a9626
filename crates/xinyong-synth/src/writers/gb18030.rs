//! A `Write` adapter that takes UTF-8 and writes GB18030, a chunk at a time: bytes are collected until
//! a chunk is full, the complete characters are encoded, and the tail of a character split between two
//! writes waits for the next chunk. Memory stays at two chunk buffers and one table.
//!
//! The bytes of each character come from `encoding_rs::GB18030`. Its Hanzi encoder is slow without the
//! `fast-gb-hanzi-encode` cargo feature (more than half of a run's time went there), and GB18030 is a
//! stateless encoding, so the encoding of each character is looked up once and kept in a table: same
//! bytes as encoding the whole text at once (a test checks), a fraction of the time.
//!
//! ```text
//! let mut w = Gb18030Writer::new(file);
//! w.write_all("王垚".as_bytes())?;
//! let file = w.finish()?;
//! ```

use std::io::{self, Write};

use encoding_rs::GB18030;

const CHUNK: usize = 64 * 1024;

/// GB18030 bytes of one character: length (1, 2 or 4; 0 = not looked up yet) and bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Encoded {
    len: u8,
    bytes: [u8; 4],
}

fn encode_char(c: char) -> Encoded {
    let mut utf8 = [0u8; 4];
    let (bytes, _, _) = GB18030.encode(c.encode_utf8(&mut utf8));
    let mut e = Encoded { len: bytes.len().min(4) as u8, bytes: [0; 4] };
    e.bytes[..usize::from(e.len)].copy_from_slice(&bytes[..usize::from(e.len)]);
    e
}

pub(crate) struct Gb18030Writer<W: Write> {
    inner: W,
    /// Encodings of the Basic Multilingual Plane, filled as characters appear.
    table: Vec<Encoded>,
    /// UTF-8 not yet encoded.
    pending: Vec<u8>,
    out: Vec<u8>,
}

impl<W: Write> std::fmt::Debug for Gb18030Writer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gb18030Writer").field("pending", &self.pending.len()).finish()
    }
}

impl<W: Write> Gb18030Writer<W> {
    pub(crate) fn new(inner: W) -> Self {
        Gb18030Writer {
            inner,
            table: vec![Encoded::default(); 0x1_0000],
            pending: Vec::with_capacity(CHUNK + 4),
            out: Vec::with_capacity(CHUNK * 2),
        }
    }

    /// Encodes the complete characters of `pending` (all of it when `last`).
    fn encode(&mut self, last: bool) -> io::Result<()> {
        let Gb18030Writer { inner, table, pending, out } = self;
        let not_utf8 = |_| io::Error::new(io::ErrorKind::InvalidData, "text to encode is not UTF-8");
        let text = match std::str::from_utf8(pending) {
            Ok(text) => text,
            // The last character is cut off: keep its start for the next chunk.
            Err(e) if e.error_len().is_none() && !last => {
                std::str::from_utf8(&pending[..e.valid_up_to()]).map_err(not_utf8)?
            }
            Err(e) => return Err(not_utf8(e)),
        };
        out.clear();
        for c in text.chars() {
            if c.is_ascii() {
                out.push(c as u8);
                continue;
            }
            let e = match table.get_mut(c as usize) {
                Some(slot) => {
                    if slot.len == 0 {
                        *slot = encode_char(c);
                    }
                    *slot
                }
                None => encode_char(c),
            };
            match e.len {
                2 => out.extend_from_slice(&[e.bytes[0], e.bytes[1]]),
                len => out.extend_from_slice(&e.bytes[..usize::from(len)]),
            }
        }
        let done = text.len();
        inner.write_all(out)?;
        pending.drain(..done);
        Ok(())
    }

    /// Encodes what is left and returns the inner writer, flushed.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.encode(true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Gb18030Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= CHUNK {
            self.encode(false)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.encode(false)?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_split_across_writes_are_encoded_as_encoding_rs_encodes_the_whole_text() -> io::Result<()> {
        let text = "上海华盛科技有限公司,王垚,欧阳玥,喆昇堃〔2024〕（集团）€𠀀\n".repeat(5000);
        let mut w = Gb18030Writer::new(Vec::new());
        for piece in text.as_bytes().chunks(7) {
            w.write_all(piece)?;
        }
        let bytes = w.finish()?;
        let (expected, _, _) = GB18030.encode(&text);
        assert_eq!(bytes, expected.as_ref());
        Ok(())
    }
}

//! Encoding for the text formats: sniff the first 64 KiB once, refuse binary data, and hand the
//! format reader a byte stream it can split into records.
//!
//! The stream a [`TextSource`] carries is, by encoding:
//! - UTF-8: the file's raw bytes without the BOM. They may hold invalid UTF-8 after the sniffed
//!   prefix; readers check each CSV record or JSON line as a whole (with `simdutf8`), a CSV field on
//!   its own only when that check cannot vouch for it, so a bad byte costs one row.
//! - GB18030: text decoded to UTF-8 by `encoding_rs_io`; malformed input becomes U+FFFD, which readers
//!   report as `bad_encoding` (a U+FFFD in a GB18030 file means the text was already damaged).
//!
//! `Auto` picks UTF-8 when a UTF-8 BOM is present or the prefix is valid UTF-8 (a multi-byte sequence
//! cut by the 64 KiB boundary counts as valid), GB18030 otherwise. An explicit choice is respected,
//! except that a UTF-8 BOM always means UTF-8: no GB18030 text starts with those bytes.

use std::io::{Cursor, Read};

use encoding_rs::GB18030;
use encoding_rs_io::DecodeReaderBytesBuilder;

use super::read_error;
use crate::reader::{Encoding, EncodingChoice, FileError};

/// How much of a file the sniffer looks at.
const SNIFF_BYTES: usize = 64 * 1024;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A text file opened for a format reader; see the module docs for what `stream` yields.
pub(super) struct TextSource {
    pub encoding: Encoding,
    pub stream: Box<dyn Read + Send>,
}

/// Sniffs `input` and wraps it for reading. `what` names the format in messages ("CSV").
pub(super) fn open_text(
    mut input: Box<dyn Read + Send>,
    choice: EncodingChoice,
    what: &str,
) -> Result<TextSource, FileError> {
    let mut prefix = Vec::with_capacity(SNIFF_BYTES);
    (&mut input).take(SNIFF_BYTES as u64).read_to_end(&mut prefix).map_err(read_error)?;
    if prefix.is_empty() {
        return Err(FileError::new("file is empty"));
    }
    if prefix.starts_with(b"\xFF\xFE") || prefix.starts_with(b"\xFE\xFF") {
        return Err(FileError::new("UTF-16 text is not supported, save the file as UTF-8 or GB18030"));
    }
    let has_bom = prefix.starts_with(UTF8_BOM);
    if has_bom {
        prefix.drain(..UTF8_BOM.len());
        if prefix.is_empty() {
            return Err(FileError::new("file is empty"));
        }
    }
    if prefix.contains(&0) || looks_binary(&prefix) {
        return Err(FileError::new(format!("binary data, not a {what} file")));
    }
    let cut_at_boundary = prefix.len() + usize::from(has_bom) * UTF8_BOM.len() >= SNIFF_BYTES;
    let utf8 = is_utf8_prefix(&prefix, cut_at_boundary);
    let encoding = match choice {
        _ if has_bom => Encoding::Utf8,
        EncodingChoice::Utf8 => Encoding::Utf8,
        EncodingChoice::Gb18030 => Encoding::Gb18030,
        EncodingChoice::Auto if utf8 => Encoding::Utf8,
        EncodingChoice::Auto => Encoding::Gb18030,
    };
    if encoding == Encoding::Gb18030 && mostly_malformed_gb18030(&prefix) {
        return Err(FileError::new(if utf8 {
            "the file is not GB18030 text: it reads as UTF-8".to_owned()
        } else {
            format!("binary data, not a {what} file (neither UTF-8 nor GB18030 text)")
        }));
    }
    let raw: Box<dyn Read + Send> = Box::new(Cursor::new(prefix).chain(input));
    let stream: Box<dyn Read + Send> = match encoding {
        Encoding::Gb18030 => {
            Box::new(DecodeReaderBytesBuilder::new().encoding(Some(GB18030)).bom_sniffing(false).build(raw))
        }
        Encoding::Utf8 | Encoding::Native => raw,
    };
    Ok(TextSource { encoding, stream })
}

/// A record's bytes from a [`TextSource`] stream as text, or `None` when they were invalid in the
/// file's encoding (see the module docs).
pub(super) fn as_text(bytes: &[u8], encoding: Encoding) -> Option<&str> {
    let text = simdutf8::basic::from_utf8(bytes).ok()?;
    let replaced = encoding == Encoding::Gb18030 && text.contains(char::REPLACEMENT_CHARACTER);
    (!replaced).then_some(text)
}

/// Valid UTF-8, allowing one incomplete sequence at the end when the prefix was cut from a longer file.
fn is_utf8_prefix(prefix: &[u8], cut_at_boundary: bool) -> bool {
    match std::str::from_utf8(prefix) {
        Ok(_) => true,
        Err(e) => cut_at_boundary && e.error_len().is_none(),
    }
}

/// More than one byte in ten is a control character that text files do not hold.
fn looks_binary(prefix: &[u8]) -> bool {
    let controls = prefix
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A)) || b == 0x7F)
        .count();
    controls * 10 > prefix.len()
}

/// More than one character in twenty is malformed when read as GB18030.
fn mostly_malformed_gb18030(prefix: &[u8]) -> bool {
    let (text, _) = GB18030.decode_without_bom_handling(prefix);
    let (mut chars, mut malformed) = (0usize, 0usize);
    for c in text.chars() {
        chars += 1;
        malformed += usize::from(c == char::REPLACEMENT_CHARACTER);
    }
    malformed * 20 > chars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multibyte_character_cut_by_the_sniff_window_is_still_utf8() {
        let cut = &"张".as_bytes()[..2];
        assert!(is_utf8_prefix(cut, true));
        assert!(!is_utf8_prefix(cut, false));
    }

    #[test]
    fn chinese_text_is_not_binary() {
        let (gbk, _, _) = GB18030.encode("统一社会信用代码,名称\r\n");
        assert!(!looks_binary(&gbk));
        assert!(!mostly_malformed_gb18030(&gbk));
        assert!(mostly_malformed_gb18030(b"\xFF\xFF\xFF\x80"));
    }
}

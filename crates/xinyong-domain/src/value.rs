//! Typed field values: a raw cell from a file becomes the canonical text stored for a field, or an
//! error with a stable code. Canonical forms make reloads idempotent across formats: dates are ISO
//! `YYYY-MM-DD`, decimals have no trailing zeros, enums are their catalog value, identifiers normalised.

use chrono::{Datelike, NaiveDate};
pub use compact_str::CompactString;

use crate::catalog::{CodeKind, Field, FieldType};
use crate::ids::{self, IdError, OrgCode, ResidentId, Uscc};

/// Longest text accepted in one field (characters).
pub const MAX_TEXT_CHARS: usize = 4000;

/// A cell as a reader found it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    /// Text of up to 24 bytes is kept in the cell itself (two thirds of the values of a bench load are
    /// that short): a reader makes millions of cells for validators on other threads to read
    /// (`docs/scale.md` §6).
    Text(CompactString),
    /// A numeric spreadsheet cell or JSON number.
    Number(f64),
    /// A date-formatted spreadsheet cell.
    Date(NaiveDate),
    Bool(bool),
}

impl Cell {
    /// The cell as a spreadsheet shows it (a rejected row given back to its unit): whole numbers without
    /// a decimal point, dates as YYYY-MM-DD.
    pub fn as_written(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.to_string(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{n:.0}"),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => is_blank(s),
            _ => false,
        }
    }
}

/// Whether `s` is empty or whitespace only. Not `trim`, which decodes the text from both ends: a
/// reader asks this of every cell, and nearly every cell begins with a printable ASCII character or
/// a CJK one, which answers it from the first byte.
pub fn is_blank(s: &str) -> bool {
    match s.as_bytes().first() {
        None => true,
        Some(0x21..=0x7E | 0xE4..=0xE9) => false,
        Some(_) => s.chars().all(char::is_whitespace),
    }
}

/// Why a cell is not a valid value of its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    pub code: &'static str,
    pub message: String,
}

impl ValueError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        ValueError { code, message: message.into() }
    }

    fn from_id(e: IdError) -> Self {
        ValueError::new(e.code(), e.to_string())
    }
}

/// Full-width ASCII → half-width, ideographic space → space, trimmed. Chinese text is otherwise kept.
pub fn normalize_text(s: &str) -> String {
    if !s.chars().any(|c| matches!(c, '\u{FF01}'..='\u{FF5E}' | '\u{3000}')) {
        return s.trim().to_owned();
    }
    let mapped: String = s
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect();
    mapped.trim().to_owned()
}

/// Parses one cell for one field. `Ok(None)` is an empty optional value. A value of up to 24 bytes is
/// kept in the `CompactString` itself, without an allocation: a load parses every cell of millions of
/// rows, and two thirds of a bench load's values (dates, codes, short text) are that short
/// (`docs/scale.md` §6).
pub fn parse_cell(field: &Field, cell: &Cell, today: NaiveDate) -> Result<Option<CompactString>, ValueError> {
    if cell.is_empty() {
        return if field.required {
            Err(ValueError::new("missing_value", format!("{} is required", field.label)))
        } else {
            Ok(None)
        };
    }
    let value = match field.field_type {
        FieldType::Text => parse_text(cell)?,
        FieldType::Date => date_compact(parse_date_cell(cell)?),
        FieldType::Integer => parse_integer(cell)?.into(),
        FieldType::Decimal => parse_decimal(cell)?.into(),
        FieldType::Enum => parse_enum(field, cell)?.into(),
        FieldType::Code => parse_code(field.code_kind, cell, today)?,
    };
    Ok(Some(value))
}

fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(s) => normalize_text(s),
        Cell::Number(n) => format_number(*n),
        Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        Cell::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { format!("{n}") }
}

fn parse_text(cell: &Cell) -> Result<CompactString, ValueError> {
    let s = match cell {
        Cell::Text(s) => return parse_text_str(s),
        // No text field holds a 16-digit float: it was an identifier whose digits the spreadsheet lost.
        Cell::Number(n) if n.abs() >= 1e15 => return Err(ValueError::from_id(IdError::MangledNumber)),
        other => cell_text(other),
    };
    check_text(s).map(CompactString::from)
}

/// Whether any byte of `bytes` satisfies `pred`. For scans of text that nearly never finds one: the
/// bytes are tested in blocks of 16 without a branch per byte, which the compiler vectorises.
pub fn any_byte(bytes: &[u8], pred: impl Fn(u8) -> bool) -> bool {
    bytes.chunks(16).any(|block| block.iter().fold(false, |found, &b| found | pred(b)))
}

/// Text cells without decoding them in the common case (nothing to map), one copy.
fn parse_text_str(s: &str) -> Result<CompactString, ValueError> {
    let trimmed = s.trim();
    // Most text has no byte that can begin a control character (below 0x20, 0x7F, 0xC2 for
    // U+0080–U+009F), a full-width form (0xEF) or the ideographic space (0xE3): then its characters are
    // counted by their first bytes, both passes without a branch per byte. Other text is read
    // character by character.
    let bytes = trimmed.as_bytes();
    if !any_byte(bytes, |b| b < 0x20 || b == 0x7F || b == 0xC2 || b == 0xE3 || b == 0xEF) {
        if bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count() > MAX_TEXT_CHARS {
            return Err(too_long());
        }
        return Ok(CompactString::new(trimmed));
    }
    let (mut chars, mut control) = (0usize, false);
    for c in trimmed.chars() {
        if matches!(c, '\u{FF01}'..='\u{FF5E}' | '\u{3000}') {
            return check_text(normalize_text(s)).map(CompactString::from);
        }
        chars += 1;
        control |= is_bad_control(c);
    }
    if control {
        return Err(bad_char());
    }
    if chars > MAX_TEXT_CHARS {
        return Err(too_long());
    }
    Ok(CompactString::new(trimmed))
}

fn check_text(s: String) -> Result<String, ValueError> {
    if s.chars().count() > MAX_TEXT_CHARS {
        return Err(too_long());
    }
    if s.chars().any(is_bad_control) {
        return Err(bad_char());
    }
    Ok(s)
}

fn is_bad_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\r' && c != '\t'
}

fn too_long() -> ValueError {
    ValueError::new("too_long", format!("text longer than {MAX_TEXT_CHARS} characters"))
}

fn bad_char() -> ValueError {
    ValueError::new("bad_char", "text contains control characters")
}

/// Dates as CONTRACT.md §3 lists them: `2018-04-27`, `2018/4/27`, `20180427`, `2018年4月27日`,
/// `2018.4.27`, with an optional time part, and spreadsheet date cells.
pub fn parse_date_cell(cell: &Cell) -> Result<NaiveDate, ValueError> {
    match cell {
        Cell::Date(d) => Ok(*d),
        Cell::Text(s) => match iso_date(s.trim()) {
            Some(date) => Ok(date),
            None => parse_date(&normalize_text(s)),
        },
        Cell::Number(n) if n.fract() == 0.0 && (19000101.0..=21001231.0).contains(n) => {
            parse_date(&format!("{}", *n as i64))
        }
        _ => Err(ValueError::new("bad_date", "not a date")),
    }
}

pub fn parse_date(s: &str) -> Result<NaiveDate, ValueError> {
    iso_date(s.trim()).map_or_else(|| parse_date_forms(s), Ok)
}

/// Every form [`parse_date`] takes, `YYYY-MM-DD` too (the tests compare [`iso_date`] with it).
fn parse_date_forms(s: &str) -> Result<NaiveDate, ValueError> {
    let bad = || ValueError::new("bad_date", format!("{s:?} is not a date (use 2018-04-27)"));
    let s = s.trim();
    // Drop a time part: "2018-04-27 00:00:00", "2018-04-27T08:00:00+08:00".
    let date_part = s.split([' ', 'T']).next().unwrap_or(s);
    let cleaned = date_part.replace(['年', '月'], "-").replace('日', "");
    let (y, m, d) = if date_part.len() == 8 && date_part.bytes().all(|b| b.is_ascii_digit()) {
        (&date_part[..4], &date_part[4..6], &date_part[6..8])
    } else {
        let mut parts = cleaned.split(['-', '/', '.']);
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(y), Some(m), Some(d), None) => (y, m, d),
            _ => return Err(bad()),
        }
    };
    let all_digits = |p: &str| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit());
    if !(y.len() == 4 && all_digits(y) && all_digits(m) && m.len() <= 2 && all_digits(d) && d.len() <= 2) {
        return Err(bad());
    }
    let date = NaiveDate::from_ymd_opt(
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    )
    .ok_or_else(bad)?;
    if !(1900..=2200).contains(&date.year()) {
        return Err(bad());
    }
    Ok(date)
}

/// `YYYY-MM-DD` exactly, the form of nearly every file's dates and of every stored one, read without
/// allocating; `None` for anything else, which [`parse_date`] reads or rejects the long way.
fn iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let number =
        |digits: &[u8]| digits.iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')));
    let year = i32::try_from(number(b.get(..4)?)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(b.get(5..7)?)?, number(b.get(8..)?)?)?;
    (1900..=2200).contains(&year).then_some(date)
}

/// A date as records store it, `YYYY-MM-DD` (what `NaiveDate` displays for years 0–9999), written
/// directly: every row stores two or three dates, and `Display` goes through the formatter.
pub fn date_text(date: NaiveDate) -> String {
    date_compact(date).into_string()
}

/// [`date_text`] without an allocation: ten bytes fit in the `CompactString` itself.
pub fn date_compact(date: NaiveDate) -> CompactString {
    let year = date.year();
    if !(0..=9999).contains(&year) {
        return compact_str::format_compact!("{date}");
    }
    let digits =
        |n: u32, width: u32| (0..width).rev().map(move |place| char::from(b'0' + (n / 10u32.pow(place) % 10) as u8));
    let mut out = CompactString::with_capacity(10);
    out.extend(digits(year.unsigned_abs(), 4));
    out.push('-');
    out.extend(digits(date.month(), 2));
    out.push('-');
    out.extend(digits(date.day(), 2));
    out
}

fn parse_integer(cell: &Cell) -> Result<String, ValueError> {
    let bad = || ValueError::new("bad_number", "not a whole number");
    match cell {
        Cell::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Ok(format!("{}", *n as i64)),
        Cell::Text(s) => {
            let t = normalize_text(s).replace(',', "");
            t.parse::<i64>().map(|v| v.to_string()).map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

/// Canonical decimal text: optional minus, digits, optional fraction without trailing zeros.
fn parse_decimal(cell: &Cell) -> Result<String, ValueError> {
    let bad = |s: &str| ValueError::new("bad_number", format!("{s:?} is not a decimal number"));
    let text = match cell {
        Cell::Number(n) if n.is_finite() => format!("{n}"),
        Cell::Text(s) => normalize_text(s).replace(',', ""),
        _ => return Err(bad("")),
    };
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !digits(int) || !digits(frac) || int.len() > 18 {
        return Err(bad(&text));
    }
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let frac = frac.trim_end_matches('0');
    let mut out = String::new();
    if neg && (int != "0" || !frac.is_empty()) {
        out.push('-');
    }
    out.push_str(int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Ok(out)
}

fn parse_enum(field: &Field, cell: &Cell) -> Result<String, ValueError> {
    let text = cell_text(cell);
    let parts: Vec<&str> = if field.multiple {
        text.split([';', '；', '、', ',', '，']).map(str::trim).filter(|p| !p.is_empty()).collect()
    } else {
        vec![text.as_str()]
    };
    for p in &parts {
        if !field.values.iter().any(|v| v == p) {
            return Err(ValueError::new("bad_enum", format!("{p:?} is not one of {}", field.values.join("/"))));
        }
    }
    Ok(parts.join(";"))
}

fn parse_code(kind: Option<CodeKind>, cell: &Cell, today: NaiveDate) -> Result<CompactString, ValueError> {
    let text = match cell {
        // A number cell cannot hold an 18-character identifier without losing digits.
        Cell::Number(n) if n.fract() != 0.0 || n.abs() >= 1e15 => {
            return Err(ValueError::from_id(IdError::MangledNumber));
        }
        // The identifier normalisation maps full-width characters and drops spaces itself (a test
        // shows it gives the same as after `normalize_text`), so a text cell is not copied first.
        Cell::Text(s) => return parse_code_text(kind, &ids::normalize(s), today),
        other => cell_text(other),
    };
    parse_code_text(kind, &ids::normalize(&text), today)
}

fn parse_code_text(kind: Option<CodeKind>, n: &str, today: NaiveDate) -> Result<CompactString, ValueError> {
    if ids::is_mangled_number(n) {
        return Err(ValueError::from_id(IdError::MangledNumber));
    }
    let parsed = match kind {
        Some(CodeKind::Uscc) => Uscc::parse(n).map(|u| CompactString::new(u.as_str())),
        Some(CodeKind::OrgCode) => OrgCode::parse(n).map(|o| CompactString::new(o.as_str())),
        Some(CodeKind::ResidentId) => ResidentId::parse(n, today).map(|r| CompactString::new(r.as_str())),
        None => Ok(CompactString::new(n)),
    };
    parsed.map_err(ValueError::from_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_is_given_back_as_a_spreadsheet_shows_it() {
        assert_eq!(Cell::Number(310_101.0).as_written(), "310101");
        assert_eq!(Cell::Number(0.56).as_written(), "0.56");
        assert_eq!(Cell::Number(3.101_011_990_010_112e17).as_written(), "310101199001011200");
        assert_eq!(
            NaiveDate::from_ymd_opt(2026, 5, 6).map(|d| Cell::Date(d).as_written()).as_deref(),
            Some("2026-05-06")
        );
        assert_eq!(Cell::Bool(true).as_written(), "TRUE");
        assert_eq!(Cell::Text(" 原样 ".into()).as_written(), " 原样 ");
        assert_eq!(Cell::Empty.as_written(), "");
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn every_contract_date_form_is_accepted() {
        for s in ["2018-04-27", "2018/4/27", "20180427", "2018年4月27日", "2018.04.27", "2018-04-27 00:00:00"] {
            assert_eq!(parse_date(s), Ok(date(2018, 4, 27)), "{s}");
        }
        assert_eq!(parse_date_cell(&Cell::Date(date(2018, 4, 27))), Ok(date(2018, 4, 27)));
    }

    #[test]
    fn impossible_dates_are_rejected() {
        for s in ["2018-02-30", "2018-13-01", "18-4-27", "明天", "2018-04", ""] {
            assert_eq!(parse_date(s).map_err(|e| e.code), Err("bad_date"), "{s}");
        }
    }

    #[test]
    fn decimals_are_canonical() {
        assert_eq!(parse_decimal(&Cell::Text("1.50".into())), Ok("1.5".into()));
        assert_eq!(parse_decimal(&Cell::Text("１,０００".into())), Ok("1000".into()));
        assert_eq!(parse_decimal(&Cell::Number(0.25)), Ok("0.25".into()));
        assert_eq!(parse_decimal(&Cell::Text("00.0".into())), Ok("0".into()));
        assert!(parse_decimal(&Cell::Text("1.2.3".into())).is_err());
        assert!(parse_decimal(&Cell::Text("abc".into())).is_err());
        assert!(parse_decimal(&Cell::Text(".".into())).is_err());
    }

    #[test]
    fn a_float_cell_in_an_identifier_field_is_mangled() {
        let e = parse_code(Some(CodeKind::Uscc), &Cell::Number(3.10101e17), date(2026, 1, 1));
        assert_eq!(e.map_err(|e| e.code), Err("mangled_number"));
        let e = parse_code(Some(CodeKind::Uscc), &Cell::Text("3.10101E+17".into()), date(2026, 1, 1));
        assert_eq!(e.map_err(|e| e.code), Err("mangled_number"));
    }

    #[test]
    fn text_is_trimmed_checked_and_bounded_with_or_without_full_width_characters() {
        let text = |s: &str| parse_text(&Cell::Text(s.into()));
        assert_eq!(text("  上海某某公司\t"), Ok("上海某某公司".into()));
        assert_eq!(text("　（上海）某某公司 "), Ok("(上海)某某公司".into()));
        assert_eq!(text("第一行\n第二行"), Ok("第一行\n第二行".into()));
        for bad in ["上海\u{7}公司", "ＡＢ\u{0}Ｃ"] {
            assert_eq!(text(bad).map_err(|e| e.code), Err("bad_char"), "{bad:?}");
        }
        let at_limit = "字".repeat(MAX_TEXT_CHARS);
        assert_eq!(text(&format!(" {at_limit} ")), Ok(at_limit.as_str().into()));
        assert_eq!(text(&format!("{at_limit}字")).map_err(|e| e.code), Err("too_long"));
        assert_eq!(text(&format!("{at_limit}Ａ")).map_err(|e| e.code), Err("too_long"));
    }

    #[test]
    fn blank_text_is_whitespace_only() {
        for blank in ["", " ", "\t\r\n", "\u{3000}", "\u{a0}", "\u{0b}", " \u{2003} "] {
            assert!(is_blank(blank), "{blank:?}");
        }
        for text in ["a", " a", "中", "〔2025〕", "\u{3000}公司", "\u{2003}x", "\u{1}"] {
            assert!(!is_blank(text), "{text:?}");
        }
    }

    #[test]
    fn full_width_text_is_normalised() {
        assert_eq!(normalize_text("　ＡＢＣ（有限公司）　"), "ABC(有限公司)");
    }

    proptest::proptest! {
        #[test]
        fn date_parsing_never_panics(s in "\\PC{0,30}") {
            let _ = parse_date(&s);
        }

        /// The first-byte answer of `is_blank` is the answer of asking every character, whatever the
        /// text begins with: Unicode spaces (U+3000 among them), controls, ASCII, CJK.
        #[test]
        fn blank_is_whitespace_only(s in "[ \t\n\u{0b}\u{0c}\r\u{85}\u{a0}\u{2000}-\u{200b}\u{3000}]{0,3}\\PC{0,3}|\\PC{0,6}") {
            proptest::prop_assert_eq!(is_blank(&s), s.chars().all(char::is_whitespace), "{:?}", s);
        }

        /// The short way for `YYYY-MM-DD` reads exactly what the long way reads, and nothing else.
        #[test]
        fn iso_dates_read_as_every_form_does(s in "[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9-]{10}|\\PC{0,12}") {
            match iso_date(&s) {
                Some(date) => proptest::prop_assert_eq!(parse_date_forms(&s), Ok(date)),
                None => {
                    let iso_form = s.len() == 10
                        && s.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
                    proptest::prop_assert!(!iso_form || parse_date_forms(&s).is_err(), "{s:?} read only the long way");
                }
            }
        }

        /// An identifier cell reads the same with or without the text normalisation first.
        #[test]
        fn identifier_normalisation_covers_text_normalisation(s in "[ 　0-9A-Za-z０-９Ａ-Ｚａ-ｚ－-]{0,24}|\\PC{0,24}") {
            proptest::prop_assert_eq!(ids::normalize(&s), ids::normalize(&normalize_text(&s)));
        }

        /// Text reads as the character-by-character rules read it: trimmed, full-width forms mapped,
        /// control characters (C0 and C1, but tab and line breaks) refused, at most the length limit.
        #[test]
        fn text_reads_as_the_character_rules_read_it(
            s in "[ \t\n\r\u{0}-\u{1f}\u{7f}-\u{a0}a-z上海（）　、。ｱＡ１\u{ff01}-\u{ff5e}\u{3000}-\u{3003}\u{e000}\u{feff}]{0,40}|\\PC{0,40}",
            long in 0usize..3
        ) {
            // Around the length limit too: the text repeated up to it and past it.
            let s = if long == 0 || s.is_empty() {
                s
            } else {
                let n = MAX_TEXT_CHARS / s.chars().count().max(1) + long - 1;
                s.repeat(n)
            };
            let by_chars = {
                let n = normalize_text(&s);
                let full_width = s.trim().chars().any(|c| matches!(c, '\u{FF01}'..='\u{FF5E}' | '\u{3000}'));
                match (n.chars().count() > MAX_TEXT_CHARS, n.chars().any(is_bad_control)) {
                    (false, false) => Ok(CompactString::from(n)),
                    // Both wrong: text with full-width forms is measured first, other text checked first.
                    (true, true) if !full_width => Err("bad_char"),
                    (true, _) => Err("too_long"),
                    (false, true) => Err("bad_char"),
                }
            };
            proptest::prop_assert_eq!(parse_text(&Cell::Text(s.as_str().into())).map_err(|e| e.code), by_chars, "{:?}", s);
        }

        /// Dates are stored as `Display` writes them.
        #[test]
        fn date_text_is_display(days in -1_000_000i32..4_000_000) {
            let date = NaiveDate::from_num_days_from_ce_opt(days).unwrap_or_default();
            proptest::prop_assert_eq!(date_text(date), date.to_string());
        }

        #[test]
        fn decimal_parsing_never_panics(s in "[-+0-9.,]{0,30}") {
            let _ = parse_decimal(&Cell::Text(s.into()));
        }
    }
}

//! Readers on real files: encodings, line ends, quoted newlines, row numbers, damaged and foreign
//! files, JSON lines with growing keys, and property tests that no input makes a reader panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::sync::OnceLock;

use chrono::NaiveDate;
use proptest::prelude::*;
use xinyong_domain::value::Cell;
use xinyong_ingest::reader::EncodingChoice::{self, Auto, Gb18030, Utf8};
use xinyong_ingest::reader::Format::{self, Csv, Jsonl, Xlsx};
use xinyong_ingest::reader::{Encoding, FileError, RawRow, RowError, RowReader};
use xinyong_ingest::reader::{open_path, open_stream};

// ---- helpers ----------------------------------------------------------------------------

fn open_file(
    bytes: impl AsRef<[u8]>,
    format: Format,
    encoding: EncodingChoice,
) -> Result<Box<dyn RowReader>, FileError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("input.{}", format.as_str()));
    std::fs::write(&path, bytes).unwrap();
    open_path(&path, format, encoding)
}

fn open_ok(bytes: impl AsRef<[u8]>, format: Format) -> Box<dyn RowReader> {
    let opened = open_file(bytes, format, Auto);
    opened.map_err(|e| e.message).unwrap()
}

/// The message of the `FileError` that opening `bytes` must give.
fn open_error(bytes: impl AsRef<[u8]>, format: Format, encoding: EncodingChoice) -> String {
    let opened = open_file(bytes, format, encoding);
    opened.err().expect("expected a FileError").message
}

fn drain(reader: &mut dyn RowReader) -> Vec<Result<RawRow, RowError>> {
    std::iter::from_fn(|| reader.next_row().unwrap()).collect()
}

/// Text cells; `""` is an empty cell.
fn t(texts: &[&str]) -> Vec<Cell> {
    let cell = |s: &str| (!s.is_empty()).then(|| Cell::Text(s.into()));
    texts.iter().map(|s| cell(s).unwrap_or(Cell::Empty)).collect()
}

fn row(row: u64, cells: Vec<Cell>) -> Result<RawRow, RowError> {
    Ok(RawRow { row, cells })
}

/// (row, code) of each row error.
fn codes(rows: &[Result<RawRow, RowError>]) -> Vec<(u64, &'static str)> {
    let errors = rows.iter().filter_map(|r| r.as_ref().err());
    errors.map(|e| (e.row, e.code)).collect()
}

// ---- CSV ----------------------------------------------------------------------------------

#[test]
fn a_utf8_csv_without_bom_reads_header_and_rows_with_spreadsheet_row_numbers() {
    let mut reader = open_ok(" 名称 ,代码\n甲公司,91350100M000100Y3X\n乙公司,\n", Csv);
    assert_eq!(reader.headers(), ["名称", "代码"]);
    assert_eq!(reader.encoding(), Encoding::Utf8);
    let expected = [row(2, t(&["甲公司", "91350100M000100Y3X"])), row(3, t(&["乙公司", ""]))];
    assert_eq!(drain(reader.as_mut()), expected);
}

#[test]
fn a_utf8_bom_is_stripped_from_the_first_header() {
    let mut reader = open_ok("\u{FEFF}名称,代码\n甲,1\n", Csv);
    assert_eq!(reader.headers(), ["名称", "代码"]);
    assert_eq!(drain(reader.as_mut()), [row(2, t(&["甲", "1"]))]);
}

#[test]
fn a_gb18030_file_is_detected_without_being_told() {
    let text = "行政相对人名称,处罚决定日期\r\n厦门某某有限公司,2018年4月27日\r\n";
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    let mut reader = open_ok(bytes, Csv);
    assert_eq!(reader.encoding(), Encoding::Gb18030);
    assert_eq!(reader.headers(), ["行政相对人名称", "处罚决定日期"]);
    let expected = [row(2, t(&["厦门某某有限公司", "2018年4月27日"]))];
    assert_eq!(drain(reader.as_mut()), expected);
}

#[test]
fn an_explicit_encoding_is_respected_even_when_the_bytes_are_valid_utf8() {
    let mut reader = open_file("a,b\n中文,x\n", Csv, Gb18030).unwrap();
    assert_eq!(reader.encoding(), Encoding::Gb18030);
    let (misread, _) = encoding_rs::GB18030.decode_without_bom_handling("中文".as_bytes());
    assert_eq!(drain(reader.as_mut()), [row(2, t(&[&misread, "x"]))]);
}

#[test]
fn crlf_line_ends_do_not_leak_into_cells() {
    let mut reader = open_ok("a,b\r\n1,2\r\n3,4\r\n", Csv);
    assert_eq!(reader.headers(), ["a", "b"]);
    let expected = [row(2, t(&["1", "2"])), row(3, t(&["3", "4"]))];
    assert_eq!(drain(reader.as_mut()), expected);
}

#[test]
fn a_quoted_newline_stays_in_its_cell_and_does_not_add_a_row() {
    let mut reader = open_ok("名称,地址\r\n甲,\"厦门市\r\n思明区\"\r\n乙,福州\r\n", Csv);
    let expected = [row(2, t(&["甲", "厦门市\r\n思明区"])), row(3, t(&["乙", "福州"]))];
    assert_eq!(drain(reader.as_mut()), expected);
}

#[test]
fn an_invalid_utf8_byte_costs_only_its_row() {
    let mut reader = open_file(b"a,b\n1,x\n2,\xFFbad\n3,y\n", Csv, Utf8).unwrap();
    let rows = drain(reader.as_mut());
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0], row(2, t(&["1", "x"])));
    assert_eq!(codes(&rows), [(3, "bad_encoding")]);
    assert_eq!(rows[2], row(4, t(&["3", "y"])));
}

#[test]
fn an_invalid_byte_after_the_sniffed_64_kib_keeps_auto_detected_utf8() {
    let mut bytes = b"name,value\n".to_vec();
    for i in 0..5000 {
        bytes.extend_from_slice(format!("名称{i},{i}\n").as_bytes());
    }
    assert!(bytes.len() > 64 * 1024);
    bytes.extend_from_slice(b"late,\xC0\xAF\nlast,1\n");
    let mut reader = open_ok(&bytes, Csv);
    assert_eq!(reader.encoding(), Encoding::Utf8);
    let rows = drain(reader.as_mut());
    assert_eq!(rows.len(), 5002);
    assert_eq!(codes(&rows), [(5002, "bad_encoding")]);
    assert_eq!(rows[5001], row(5003, t(&["last", "1"])));
}

#[test]
fn empty_records_are_skipped_but_counted_and_whitespace_is_empty() {
    // A record of Unicode spaces (the ideographic one, a no-break one) is as empty as one of commas.
    let mut reader = open_ok("a,b,c\n,,\n1,  ,\n\u{3000},\t,\u{a0}\n2\n", Csv);
    let expected = [row(3, t(&["1", "", ""])), row(5, t(&["2"]))];
    assert_eq!(drain(reader.as_mut()), expected);
}

#[test]
fn a_value_in_a_column_without_a_header_is_a_row_error() {
    let mut reader = open_ok("a,b,,\n1,2,,\n1,2,3\n", Csv);
    assert_eq!(reader.headers(), ["a", "b"]);
    let rows = drain(reader.as_mut());
    assert_eq!(rows[0], row(2, t(&["1", "2"])));
    assert_eq!(codes(&rows), [(3, "extra_cells")]);
}

#[test]
fn a_csv_with_only_a_header_has_no_rows() {
    let mut reader = open_ok("a,b\r\n", Csv);
    assert_eq!(reader.headers(), ["a", "b"]);
    assert!(drain(reader.as_mut()).is_empty());
}

#[test]
fn an_empty_file_is_a_file_error() {
    for format in [Csv, Jsonl, Xlsx] {
        assert_eq!(open_error("", format, Auto), "file is empty");
    }
}

#[test]
fn png_bytes_given_as_csv_are_binary_data() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0\x1f\xf3\xffa";
    assert_eq!(open_error(png, Csv, Auto), "binary data, not a CSV file");
}

#[test]
fn an_empty_or_unreadable_header_is_a_file_error() {
    let message = open_error(",,\n1,2\n", Csv, Auto);
    assert_eq!(message, "the header row is empty");
    let message = open_error(b"\xFF\xFEa", Csv, Auto);
    assert!(message.contains("UTF-16"), "{message}");
    let message = open_error(b"n\xE4me,x\n", Csv, Utf8);
    assert!(message.starts_with("the header row is not readable"));
}

#[test]
fn a_record_longer_than_16_mib_is_a_file_error_not_unbounded_memory() {
    let mut bytes = b"a,b\n1,\"".to_vec();
    bytes.resize(bytes.len() + 17 * 1024 * 1024, b'x');
    let mut reader = open_ok(&bytes, Csv);
    let message = reader.next_row().expect_err("a FileError").message;
    assert!(message.contains("longer than 16 MiB"), "{message}");
}

// ---- XLSX ---------------------------------------------------------------------------------

/// A table placed at B2: header in sheet row 2, data in rows 3 and 5, an error value in row 6
/// and a value outside the table in row 7.
fn workbook() -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format as CellFormat, Formula, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (col, label) in [(1, "名称"), (2, "金额"), (3, "处罚决定日期"), (4, "备注")] {
        sheet.write_string(1, col, label).unwrap();
    }
    sheet.write_string(2, 1, "厦门某某有限公司").unwrap();
    sheet.write_number(2, 2, 1500.5).unwrap();
    let date = ExcelDateTime::from_ymd(2018, 4, 27).unwrap();
    let ymd = CellFormat::new().set_num_format("yyyy-mm-dd");
    sheet.write_date_with_format(2, 3, date, &ymd).unwrap();
    sheet.write_boolean(2, 4, true).unwrap();
    sheet.write_string(4, 1, "乙").unwrap();
    let error = Formula::new("=1/0").set_result("#DIV/0!");
    sheet.write_formula(5, 2, error).unwrap();
    sheet.write_string(6, 6, "stray").unwrap();
    book.save_to_buffer().unwrap()
}

fn expected_workbook_rows() -> Vec<Result<RawRow, RowError>> {
    let date = Cell::Date(NaiveDate::from_ymd_opt(2018, 4, 27).unwrap());
    let mut first = t(&["厦门某某有限公司"]);
    first.extend([Cell::Number(1500.5), date, Cell::Bool(true)]);
    vec![row(3, first), row(5, t(&["乙"]))]
}

#[test]
fn an_xlsx_sheet_is_read_with_typed_cells_and_sheet_row_numbers() {
    let mut reader = open_ok(workbook(), Xlsx);
    assert_eq!(reader.encoding(), Encoding::Native);
    assert_eq!(reader.headers(), ["名称", "金额", "处罚决定日期", "备注"]);
    let rows = drain(reader.as_mut());
    assert_eq!(rows[..2], expected_workbook_rows()[..]);
    assert_eq!(codes(&rows), [(6, "bad_cell"), (7, "extra_cells")]);
}

#[test]
fn an_uploaded_xlsx_stream_is_spooled_and_read_the_same() {
    let upload = Box::new(Cursor::new(workbook()));
    let mut reader = open_stream(upload, Xlsx, Auto).unwrap();
    assert_eq!(drain(reader.as_mut())[..2], expected_workbook_rows()[..]);
}

#[test]
fn a_truncated_xlsx_is_a_file_error() {
    let bytes = workbook();
    let message = open_error(&bytes[..bytes.len() / 2], Xlsx, Auto);
    assert!(message.starts_with("not an XLSX workbook: "), "{message}");
    assert!(!message.contains('\n'));
}

#[test]
fn a_csv_named_xlsx_is_not_a_workbook() {
    let message = open_error("a,b\n1,2\n", Xlsx, Auto);
    let expected = "not an XLSX workbook: the file is not a ZIP archive";
    assert_eq!(message, expected);
}

#[test]
fn a_workbook_with_an_empty_first_sheet_is_a_file_error() {
    let mut book = rust_xlsxwriter::Workbook::new();
    book.add_worksheet();
    let message = open_error(book.save_to_buffer().unwrap(), Xlsx, Auto);
    assert_eq!(message, "the first worksheet is empty");
}

// ---- JSON lines ---------------------------------------------------------------------------

#[test]
fn json_lines_headers_grow_with_new_keys_before_the_row_is_returned() {
    let input = concat!(
        "{\"名称\":\"甲\",\"金额\":10}\n",
        "\n",
        "{\"名称\":\"乙\",\"日期\":\"2018-04-27\",\"有效\":true,\"金额\":null}\n",
    );
    let mut reader = open_ok(input, Jsonl);
    let first = reader.next_row().unwrap().unwrap();
    let expected = row(1, vec![Cell::Text("甲".into()), Cell::Number(10.0)]);
    assert_eq!(first, expected);
    assert_eq!(reader.headers(), ["名称", "金额"]);
    let second = reader.next_row().unwrap().unwrap();
    assert_eq!(reader.headers(), ["名称", "金额", "日期", "有效"]);
    let mut expected = t(&["乙", "", "2018-04-27"]);
    expected.push(Cell::Bool(true));
    assert_eq!(second, row(3, expected));
    assert!(reader.next_row().unwrap().is_none());
}

#[test]
fn a_bad_json_line_in_the_middle_costs_only_its_line() {
    let input = "{\"a\":1}\n{\"a\":2,\n[1,2]\n{\"a\":[3]}\n{\"a\":4}\r\n";
    let mut reader = open_ok(input, Jsonl);
    let rows = drain(reader.as_mut());
    let expected = [(2, "bad_json"), (3, "bad_json"), (4, "bad_cell")];
    assert_eq!(codes(&rows), expected);
    assert_eq!(rows[0], row(1, vec![Cell::Number(1.0)]));
    assert_eq!(rows[4], row(5, vec![Cell::Number(4.0)]));
}

#[test]
fn gb18030_json_lines_are_detected_without_being_told() {
    let (bytes, _, _) = encoding_rs::GB18030.encode("{\"行政相对人名称\":\"厦门某某有限公司\"}\n");
    let mut reader = open_ok(bytes, Jsonl);
    assert_eq!(reader.encoding(), Encoding::Gb18030);
    assert_eq!(drain(reader.as_mut()), [row(1, t(&["厦门某某有限公司"]))]);
    assert_eq!(reader.headers(), ["行政相对人名称"]);
}

#[test]
fn json_lines_whose_first_line_is_not_an_object_are_not_json_lines() {
    let message = open_error("\n[1,2]\n{\"a\":1}\n", Jsonl, Auto);
    let expected = "not a JSON lines file: the first line is an array, not an object";
    assert_eq!(message, expected);
    let message = open_error("a,b\n1,2\n", Jsonl, Auto);
    assert!(message.starts_with("not a JSON lines file: the first line is not valid JSON"));
    let message = open_error(b"\x89PNG\r\n\x1a\n\0\0\0\r", Jsonl, Auto);
    assert_eq!(message, "binary data, not a JSON lines file");
}

/// The JSON lines reader reads what `serde_json::Value` reads, the way it read lines when it built
/// one per line: headers in first-seen order, a key given twice keeps its first place and its last
/// value, lists and objects make the row `bad_cell` (named by the first such key), other values than
/// objects make it `bad_json`, and rows of empty values are skipped.
fn jsonl_as_serde_json_reads_it(text: &str) -> (Vec<String>, Vec<Result<RawRow, RowError>>) {
    let (mut headers, mut rows) = (Vec::<String>::new(), Vec::new());
    for (i, line) in text.split('\n').enumerate() {
        let row = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let object = match serde_json::from_str::<serde_json::Value>(line).unwrap() {
            serde_json::Value::Object(object) => object,
            other => {
                let kind = match other {
                    serde_json::Value::Array(_) => "an array",
                    serde_json::Value::String(_) => "a string",
                    serde_json::Value::Number(_) => "a number",
                    serde_json::Value::Bool(_) => "a boolean",
                    _ => "null",
                };
                let message = format!("the line is {kind}, not an object");
                rows.push(Err(RowError { row, code: "bad_json", message }));
                continue;
            }
        };
        let mut cells = Vec::new();
        let mut bad = None;
        for (key, value) in object {
            let column = headers.iter().position(|h| *h == key).unwrap_or_else(|| {
                headers.push(key.clone());
                headers.len() - 1
            });
            let cell = match value {
                serde_json::Value::Null => Cell::Empty,
                serde_json::Value::Bool(b) => Cell::Bool(b),
                serde_json::Value::Number(n) => Cell::Number(n.as_f64().unwrap()),
                serde_json::Value::String(s) if s.trim().is_empty() => Cell::Empty,
                serde_json::Value::String(s) => Cell::Text(s.into()),
                _ => {
                    bad.get_or_insert(key);
                    continue;
                }
            };
            if cells.len() <= column {
                cells.resize(column + 1, Cell::Empty);
            }
            cells[column] = cell;
        }
        if let Some(key) = bad {
            let message = format!("{key:?} holds a list or an object, not a single value");
            rows.push(Err(RowError { row, code: "bad_cell", message }));
        } else if !cells.iter().all(Cell::is_empty) {
            rows.push(Ok(RawRow { row, cells }));
        }
    }
    (headers, rows)
}

fn json_member() -> impl Strategy<Value = String> {
    let key = prop_oneof![Just("名称"), Just("金额"), Just("a"), Just("b\\\"q"), Just("\\u540d\\u79f0"), Just("日期")];
    let value = prop_oneof![
        Just("\"甲公司\"".to_owned()),
        Just("\"  \"".to_owned()),
        Just("\"\\u4e59\\n\"".to_owned()),
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("[1, [2]]".to_owned()),
        Just("{\"x\": {}}".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (-1e6..1e6f64).prop_map(|n| format!("{n:?}")),
    ];
    (key, value).prop_map(|(k, v)| format!("\"{k}\": {v}"))
}

fn json_line() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::collection::vec(json_member(), 0..6).prop_map(|m| format!("{{{}}}", m.join(", "))),
        1 => prop_oneof![Just("[1, 2]"), Just("\"s\""), Just("7"), Just("false"), Just("null"), Just("  ")]
            .prop_map(str::to_owned),
    ]
}

proptest! {
    #[test]
    fn json_lines_read_as_serde_json_values_would(
        first in prop::collection::vec(json_member(), 1..6),
        rest in prop::collection::vec(json_line(), 0..12),
    ) {
        let text = [format!("{{{}}}", first.join(", "))].into_iter().chain(rest).collect::<Vec<_>>().join("\n");
        let (headers, expected) = jsonl_as_serde_json_reads_it(&text);
        let mut reader = open_ok(&text, Jsonl);
        prop_assert_eq!(drain(reader.as_mut()), expected);
        prop_assert_eq!(reader.headers(), headers.as_slice());
    }
}

// ---- CSV text is checked as each field on its own would be -------------------------------

/// Pieces of a field's bytes: text, and characters cut apart, so that a field may end inside a
/// character the next one completes (the record's bytes as a whole are then valid UTF-8).
fn field_piece() -> impl Strategy<Value = &'static [u8]> {
    let name = "名".as_bytes();
    let rare = "𠀀".as_bytes();
    prop::sample::select(vec![
        b"a".as_slice(),
        b"1",
        b" ",
        name,
        &name[..1],
        &name[1..],
        &name[2..],
        rare,
        &rare[..3],
        &rare[3..],
        "\u{FFFD}".as_bytes(),
        b"\xFF",
        b"\xC0\xAF",
    ])
}

/// A record of one to three fields, each quoted or not.
fn csv_record() -> impl Strategy<Value = Vec<u8>> {
    let field = (prop::collection::vec(field_piece(), 0..5), any::<bool>()).prop_map(|(pieces, quoted)| {
        let bytes = pieces.concat();
        if quoted { [b"\"".as_slice(), &bytes, b"\""].concat() } else { bytes }
    });
    prop::collection::vec(field, 1..=3).prop_map(|fields| fields.join(b",".as_slice()))
}

/// What the CSV reader must give for `bytes` (a UTF-8 file whose header is `a,b,c`): each field checked
/// as UTF-8 on its own, the first invalid one reported.
fn csv_as_fields_read_alone(bytes: &[u8]) -> Vec<Result<RawRow, RowError>> {
    let mut records = ::csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut out = Vec::new();
    for (index, record) in records.byte_records().enumerate().skip(1) {
        let (record, row) = (record.unwrap(), index as u64 + 1);
        let texts: Result<Vec<&str>, usize> =
            record.iter().enumerate().map(|(column, field)| std::str::from_utf8(field).map_err(|_| column)).collect();
        match texts {
            Err(column) => out.push(Err(RowError {
                row,
                code: "bad_encoding",
                message: format!("column {} holds bytes that are not valid utf-8 text", column + 1),
            })),
            Ok(texts) => {
                let cells: Vec<Cell> = texts
                    .into_iter()
                    .map(|s| Some(Cell::Text(s.into())).filter(|c| !c.is_empty()).unwrap_or(Cell::Empty))
                    .collect();
                if cells.iter().any(|c| !c.is_empty()) {
                    out.push(Ok(RawRow { row, cells }));
                }
            }
        }
    }
    out
}

proptest! {
    #[test]
    fn csv_fields_are_checked_as_text_as_if_each_were_checked_alone(
        records in prop::collection::vec(csv_record(), 1..8),
    ) {
        let bytes = [b"a,b,c\n".as_slice(), &records.join(b"\n".as_slice()), b"\n"].concat();
        let mut reader = open_file(&bytes, Csv, Utf8).unwrap();
        prop_assert_eq!(drain(reader.as_mut()), csv_as_fields_read_alone(&bytes));
    }
}

// ---- no input makes a reader panic -------------------------------------------------------

/// Reads everything; any outcome but a panic (or a row wider than the header) is fine.
fn read_to_end(input: Vec<u8>, format: Format, encoding: EncodingChoice) {
    let Ok(mut reader) = open_stream(Box::new(Cursor::new(input)), format, encoding) else {
        return;
    };
    while let Ok(Some(row)) = reader.next_row() {
        let width = row.map_or(0, |r| r.cells.len());
        assert!(width <= reader.headers().len());
    }
}

fn valid_workbook() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(workbook)
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..2048)
}

fn encodings() -> impl Strategy<Value = EncodingChoice> {
    prop_oneof![Just(Auto), Just(Utf8), Just(Gb18030)]
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_make_the_csv_reader_panic(bytes in bytes(), encoding in encodings()) {
        read_to_end(bytes, Csv, encoding);
    }

    #[test]
    fn csv_like_text_never_makes_the_csv_reader_panic(text in "[a-c,\"\r\n 名\u{FFFD}]{0,200}") {
        read_to_end(text.into_bytes(), Csv, Auto);
    }

    #[test]
    fn arbitrary_bytes_never_make_the_jsonl_reader_panic(bytes in bytes(), encoding in encodings()) {
        read_to_end(bytes, Jsonl, encoding);
    }

    #[test]
    fn json_like_text_never_makes_the_jsonl_reader_panic(text in "[{}\\[\\]\":,a1 \n名]{0,200}") {
        read_to_end(text.into_bytes(), Jsonl, Auto);
    }

    #[test]
    fn arbitrary_bytes_never_make_the_xlsx_reader_panic(bytes in bytes()) {
        let zip_like = [b"PK\x03\x04".as_slice(), &bytes].concat();
        read_to_end(bytes, Xlsx, Auto);
        read_to_end(zip_like, Xlsx, Auto);
    }

    #[test]
    fn a_damaged_workbook_never_makes_the_xlsx_reader_panic(
        keep in 0.0..1.2f64,
        flips in prop::collection::vec((0.0..1.0f64, 1..=255u8), 0..8),
    ) {
        // Truncated to `keep` of its length (all of it from 1.0 on), then a few bytes flipped.
        let valid = valid_workbook();
        let mut bytes = valid[..((valid.len() as f64 * keep) as usize).min(valid.len())].to_vec();
        let last = bytes.len().saturating_sub(1);
        for (at, mask) in flips {
            if let Some(byte) = bytes.get_mut(((last as f64 * at) as usize).min(last)) {
                *byte ^= mask;
            }
        }
        read_to_end(bytes, Xlsx, Auto);
    }
}

//! `xinyong ingest` end to end: results, errors, idempotence, all-or-nothing, encodings, formats.

use serde_json::Value;
use xinyong_store::{BatchStore, SubjectKey, SubjectStore};
use xinyong_store_sqlite::SqliteStore;

use super::{Platform, stderr};

const HEADER: &str = "行政相对人名称,行政相对人类别,统一社会信用代码,证件类型,证件号码,行政处罚决定书文号,处罚类别,处罚内容,罚款金额(万元),处罚决定日期,处罚机关";

fn penalty_csv(rows: &[&str]) -> String {
    let mut s = String::from(HEADER);
    for r in rows {
        s.push_str("\r\n");
        s.push_str(r);
    }
    s.push_str("\r\n");
    s
}

const GOOD_COMPANY: &str = "上海示例贸易有限公司,法人及非法人组织,91310000631696382C,,,沪市监罚〔2025〕1号,罚款,罚款1万元,1.00,2025-03-04,上海市市场监督管理局";
const GOOD_SHOP: &str =
    "浦东示例小吃店,个体工商户,92340602MA2PBMEM24,,,沪市监罚〔2025〕2号,警告,警告,,2025/3/5,上海市市场监督管理局";
const GOOD_PERSON: &str =
    "张三,自然人,,身份证,360426199101010071,沪市监罚〔2025〕3号,罚款,罚款500元,0.05,2025年3月6日,上海市市场监督管理局";
const BAD_CHECK: &str = "上海坏码有限公司,法人及非法人组织,91310000631696382D,,,沪市监罚〔2025〕4号,罚款,罚款,1,2025-03-07,上海市市场监督管理局";
const NO_NAME: &str =
    ",法人及非法人组织,91110000600037341L,,,沪市监罚〔2025〕5号,罚款,罚款,1,2025-03-08,上海市市场监督管理局";

fn errors_of(v: &Value) -> Vec<(u64, String, String)> {
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["field"].as_str().unwrap_or("").to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn good_rows_are_stored_and_bad_rows_named_by_row_field_and_code() {
    let p = Platform::new();
    let f = p.file("p.csv", penalty_csv(&[GOOD_COMPANY, BAD_CHECK, GOOD_SHOP, NO_NAME, GOOD_PERSON]).as_bytes());
    let (out, v) = p.ingest("sh_amr", "admin_penalty", &f, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!((v["rows"].as_u64(), v["accepted"].as_u64(), v["rejected"].as_u64()), (Some(5), Some(3), Some(2)));
    assert_eq!((v["created"].as_u64(), v["updated"].as_u64(), v["unchanged"].as_u64()), (Some(3), Some(0), Some(0)));
    assert!(v["batch"].as_str().unwrap().starts_with("b-"));
    assert_eq!(v["unit"], "sh_amr");
    assert_eq!(v["item"], "admin_penalty");
    assert_eq!(
        errors_of(&v),
        [
            (3, "统一社会信用代码".into(), "bad_check_digit".into()),
            (5, "行政相对人名称".into(), "missing_value".into())
        ]
    );
    // The batch can be read back with its errors.
    let (_, b) = p.json(&["batch", v["batch"].as_str().unwrap()]);
    assert_eq!(b["errors"].as_array().map(Vec::len), Some(2));
    // And the rejected rows with their cells as filed, sealed, the resident ID column marked personal.
    let store = SqliteStore::open(&p.data()).unwrap();
    let rejected = store.rejected_rows(v["batch"].as_str().unwrap()).unwrap();
    assert_eq!(rejected.iter().map(|r| r.row).collect::<Vec<_>>(), [3, 5]);
    let cells = rejected[0].open(store.vault()).unwrap();
    assert_eq!(cells.headers.join(","), HEADER);
    assert_eq!(cells.cells.join(","), BAD_CHECK);
    assert_eq!(cells.personal, [4], "证件号码");
    assert_eq!(rejected[1].open(store.vault()).unwrap().cells.join(","), NO_NAME);
}

#[test]
fn loading_the_same_file_twice_changes_nothing_and_a_changed_row_is_an_update() {
    let p = Platform::new();
    let f = p.file("p.csv", penalty_csv(&[GOOD_COMPANY, GOOD_SHOP]).as_bytes());
    p.ingest("sh_amr", "admin_penalty", &f, &[]);
    let (_, v) = p.ingest("sh_amr", "admin_penalty", &f, &[]);
    assert_eq!((v["created"].as_u64(), v["unchanged"].as_u64()), (Some(0), Some(2)));
    let changed = GOOD_COMPANY.replace("罚款1万元", "罚款2万元");
    let f2 = p.file("p2.csv", penalty_csv(&[&changed, GOOD_SHOP]).as_bytes());
    let (_, v) = p.ingest("sh_amr", "admin_penalty", &f2, &[]);
    assert_eq!((v["updated"].as_u64(), v["unchanged"].as_u64()), (Some(1), Some(1)));
    let (_, stats) = p.json(&["stats"]);
    assert_eq!(stats["records"], 2);
    assert_eq!(stats["subjects"], 2);
}

#[test]
fn all_or_nothing_with_a_bad_row_stores_nothing_and_exits_1() {
    let p = Platform::new();
    let f = p.file("p.csv", penalty_csv(&[GOOD_COMPANY, BAD_CHECK]).as_bytes());
    let (out, v) = p.ingest("sh_amr", "admin_penalty", &f, &["--all-or-nothing"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    assert_eq!(v["status"], "rejected");
    assert_eq!(v["accepted"], 0);
    assert_eq!(errors_of(&v).len(), 1);
    let (_, stats) = p.json(&["stats"]);
    assert_eq!(stats["records"], 0);
    assert_eq!(stats["subjects"], 0);
    // Without a bad row, the same flag stores everything.
    let f = p.file("ok.csv", penalty_csv(&[GOOD_COMPANY, GOOD_SHOP]).as_bytes());
    let (out, v) = p.ingest("sh_amr", "admin_penalty", &f, &["--all-or-nothing"]);
    assert!(out.status.success());
    assert_eq!(v["accepted"], 2);
}

/// The USCC of test company `i`: `91310115MA`, `i` in six digits and the check digit.
fn company_uscc(i: u32) -> String {
    xinyong_domain::ids::complete_uscc(&format!("91310115MA{i:06}")).unwrap()
}

/// `code` with its check digit made wrong.
fn with_wrong_check_digit(mut code: String) -> String {
    let wrong = if code.ends_with('0') { '1' } else { '0' };
    code.pop();
    code.push(wrong);
    code
}

/// A penalty row of test company `number` under `code`: its name and decision number carry the number.
fn company_penalty(number: u32, code: &str, fine: u32) -> String {
    format!(
        "上海测试{number}有限公司,法人及非法人组织,{code},,,沪市监罚〔2025〕{number}号,罚款,罚款,{fine},2025-03-07,上海市市场监督管理局"
    )
}

fn csv_of(lines: &[String]) -> String {
    penalty_csv(&lines.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A file of `rows` penalties of distinct companies, longer than one chunk of the ingest pipeline
/// (8,192 rows), whose row `bad` (as a spreadsheet counts, the header being row 1) has a wrong check
/// digit.
fn long_penalty_csv(rows: u32, bad: u32) -> String {
    let lines: Vec<String> = (0..rows)
        .map(|i| {
            let uscc = company_uscc(i);
            let uscc = if i + 2 == bad { with_wrong_check_digit(uscc) } else { uscc };
            company_penalty(i, &uscc, 1)
        })
        .collect();
    csv_of(&lines)
}

#[test]
fn a_bad_row_in_a_later_chunk_is_rejected_alone_or_takes_the_batch_with_it() {
    let p = Platform::new();
    let f = p.file("long.csv", long_penalty_csv(20_000, 17_002).as_bytes());
    let (out, v) = p.ingest("sh_amr", "admin_penalty", &f, &["--all-or-nothing"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!((v["status"].as_str(), v["accepted"].as_u64()), (Some("rejected"), Some(0)));
    assert_eq!(errors_of(&v), [(17_002, "统一社会信用代码".to_owned(), "bad_check_digit".to_owned())]);
    let (_, stats) = p.json(&["stats"]);
    assert_eq!(
        (stats["records"].as_u64(), stats["subjects"].as_u64()),
        (Some(0), Some(0)),
        "the first two chunks are gone"
    );

    let (out, v) = p.ingest("sh_amr", "admin_penalty", &f, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!((v["accepted"].as_u64(), v["rejected"].as_u64()), (Some(19_999), Some(1)));
    let (_, stats) = p.json(&["stats"]);
    assert_eq!((stats["records"].as_u64(), stats["subjects"].as_u64()), (Some(19_999), Some(19_999)));
}

/// Chunks are validated on several threads but written in the order of the file: a key filed twice,
/// in the first chunk and in the fourth, keeps the later row, and bad rows in four chunks are reported
/// in row order.
#[test]
fn chunks_validated_side_by_side_are_written_in_the_order_of_the_file() {
    const ROWS: u32 = 30_000;
    let bad_rows = [10, 9_000, 17_002, 29_999];
    let repeat = 25_000;
    let lines: Vec<String> = (0..ROWS)
        .map(|i| {
            let row = i + 2;
            let code = company_uscc(if row == repeat { 100 } else { i });
            let code = if bad_rows.contains(&row) { with_wrong_check_digit(code) } else { code };
            let (number, fine) = if row == repeat { (100, 7) } else { (i, 1) };
            company_penalty(number, &code, fine)
        })
        .collect();
    let p = Platform::new();
    let f = p.file("long.csv", csv_of(&lines).as_bytes());
    let (out, v) = p.ingest("sh_amr", "admin_penalty", &f, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let counts = ["accepted", "rejected", "created", "updated"].map(|k| v[k].as_u64().unwrap());
    assert_eq!(counts, [29_996, 4, 29_995, 1]);
    let rows: Vec<u64> = errors_of(&v).into_iter().map(|(row, _, _)| row).collect();
    assert_eq!(rows, bad_rows.map(u64::from));

    let store = SqliteStore::open(&p.data()).unwrap();
    let id = xinyong_domain::ids::Uscc::parse(&company_uscc(100)).unwrap();
    let subject =
        store.find_subject(&SubjectKey::Identifier(xinyong_domain::ids::Identifier::Uscc(id))).unwrap().unwrap();
    let records = store.records_of(subject.id).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].version, records[0].fields.get("fine_amount").map(String::as_str)), (2, Some("7")));
}

fn dump(p: &Platform) -> Vec<(String, String, String)> {
    let store = SqliteStore::open(&p.data()).unwrap();
    let mut out = Vec::new();
    for key in ["91310000631696382C", "92340602MA2PBMEM24"] {
        let id = xinyong_domain::ids::Uscc::parse(key).unwrap();
        let s =
            store.find_subject(&SubjectKey::Identifier(xinyong_domain::ids::Identifier::Uscc(id))).unwrap().unwrap();
        for r in store.records_of(s.id).unwrap() {
            out.push((s.name.clone(), r.source_key.clone(), format!("{:?}", r.fields)));
        }
    }
    out
}

#[test]
fn the_same_data_in_gb18030_and_utf8_gives_the_same_store() {
    let text = penalty_csv(&[GOOD_COMPANY, GOOD_SHOP, GOOD_PERSON]);
    let utf8 = Platform::new();
    let f = utf8.file("u.csv", format!("\u{feff}{text}").as_bytes());
    let (_, a) = utf8.ingest("sh_amr", "admin_penalty", &f, &[]);
    let gbk = Platform::new();
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(&text);
    assert!(!unmappable);
    let f = gbk.file("g.csv", &bytes);
    let (_, b) = gbk.ingest("sh_amr", "admin_penalty", &f, &[]);
    assert_eq!(a["encoding"], "utf-8");
    assert_eq!(b["encoding"], "gb18030");
    assert_eq!(a["accepted"], 3);
    assert_eq!(b["accepted"], 3);
    assert_eq!(dump(&utf8), dump(&gbk));
}

#[test]
fn a_file_that_is_not_csv_exits_2_and_stores_nothing() {
    let p = Platform::new();
    let f = p.file("x.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89");
    let out = p.run(&["ingest", "--unit", "sh_amr", "--item", "admin_penalty", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.starts_with("error: ") && err.lines().count() == 1, "{err}");
    let (_, stats) = p.json(&["stats"]);
    assert_eq!(stats["batches"], 0);
}

#[test]
fn a_header_without_a_required_column_exits_2_naming_it() {
    let p = Platform::new();
    let f = p.file("h.csv", "行政相对人名称,统一社会信用代码\n某公司,91310000631696382C\n".as_bytes());
    let out = p.run(&["ingest", "--unit", "sh_amr", "--item", "admin_penalty", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("行政处罚决定书文号"), "{}", stderr(&out));
}

#[test]
fn a_unit_may_file_only_the_items_it_supplies() {
    let p = Platform::new();
    let f = p.file("p.csv", penalty_csv(&[GOOD_COMPANY]).as_bytes());
    let out = p.run(&["ingest", "--unit", "sh_court", "--item", "admin_penalty", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("does not supply"), "{}", stderr(&out));
    let out = p.run(&["ingest", "--unit", "nobody", "--item", "admin_penalty", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    // A unit added later may file what it is registered for.
    let out = p.run(&["unit", "add", "pd_amr", "浦东新区市场监督管理局", "--supplies", "admin_penalty"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (out, v) = p.ingest("pd_amr", "admin_penalty", &f, &[]);
    assert!(out.status.success());
    assert_eq!(v["accepted"], 1);
}

#[test]
fn consistency_rules_of_the_national_standard_are_enforced() {
    let p = Platform::new();
    let rows = [
        // 个体工商户 with a 91 code
        "某店,个体工商户,91310000631696382C,,,k1,警告,警告,,2025-01-01,机关",
        // 法人 without a USCC
        "某公司,法人及非法人组织,,,,k2,警告,警告,,2025-01-01,机关",
        // 自然人 without an ID number
        "李四,自然人,,身份证,,k3,警告,警告,,2025-01-01,机关",
        // 自然人 with an ID whose date does not exist
        "王五,自然人,,身份证,360426199113010079,k4,警告,警告,,2025-01-01,机关",
        // a decision in the future
        "某公司,法人及非法人组织,91310000631696382C,,,k5,警告,警告,,2099-01-01,机关",
        // a category that is not in the law
        "某公司,法人及非法人组织,91310000631696382C,,,k6,罚金,罚金,,2025-01-01,机关",
        // an amount in words
        "某公司,法人及非法人组织,91310000631696382C,,,k7,罚款,罚款,十万,2025-01-01,机关",
        // a spreadsheet-mangled ID
        "赵六,自然人,,身份证,3.10101E+17,k8,警告,警告,,2025-01-01,机关",
        // a passport: valid, stored, not linked
        "John Smith,自然人,,护照号,E12345678,k9,警告,警告,,2025-01-01,机关",
    ];
    let f = p.file("c.csv", penalty_csv(&rows).as_bytes());
    let (_, v) = p.ingest("sh_amr", "admin_penalty", &f, &[]);
    let codes: Vec<(u64, String)> = errors_of(&v).into_iter().map(|(r, _, c)| (r, c)).collect();
    assert_eq!(
        codes,
        [
            (2, "kind_mismatch".into()),
            (3, "missing_uscc".into()),
            (4, "missing_id".into()),
            (5, "bad_date".into()),
            (6, "bad_date".into()),
            (7, "bad_enum".into()),
            (8, "bad_number".into()),
            (9, "mangled_number".into()),
        ]
    );
    assert_eq!((v["accepted"].as_u64(), v["linked"].as_u64()), (Some(1), Some(0)));
}

#[test]
fn the_2015_header_generation_is_read_with_its_own_meanings() {
    let p = Platform::new();
    let text = "行政处罚决定书文号,处罚名称,处罚类别1,处罚事由,处罚依据,行政相对人名称,行政相对人代码_1(统一社会信用代码),\
行政相对人代码_2(组织机构代码),行政相对人代码_5(居民身份证号),法定代表人姓名,处罚结果,处罚决定日期,处罚机关,当前状态,地方编码\n\
沪交罚〔2016〕1号,超限运输,罚款,超限,条例,上海某运输有限公司,91310000631696382C,,,李明,罚款2000元,2016-05-06,上海市交通委员会,0,310000\n\
沪交罚〔2016〕2号,无证经营,警告,无证,条例,孙七,,,360426199101010071,,警告,2016-05-07,上海市交通委员会,0,310000\n";
    let f = p.file("old.csv", text.as_bytes());
    let (out, v) = p.ingest("sh_transport", "admin_penalty", &f, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!((v["accepted"].as_u64(), v["linked"].as_u64()), (Some(2), Some(2)), "{v}");
    assert!(v["warnings"].as_array().unwrap().is_empty(), "{v}");
}

#[test]
fn xlsx_and_json_lines_are_read_too() {
    let p = Platform::new();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let header = [
        "行政相对人名称",
        "统一社会信用代码",
        "证件号码",
        "行政处罚决定书文号",
        "处罚内容",
        "处罚决定日期",
        "处罚机关",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2025, 4, 27).unwrap();
    let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    ws.write_string(1, 0, "上海示例贸易有限公司").unwrap();
    ws.write_string(1, 1, "91310000631696382C").unwrap();
    ws.write_string(1, 3, "x1").unwrap();
    ws.write_string(1, 4, "警告").unwrap();
    ws.write_datetime_with_format(1, 5, &date, &fmt).unwrap();
    ws.write_string(1, 6, "机关").unwrap();
    ws.write_string(2, 0, "钱八").unwrap();
    ws.write_number(2, 2, 3.10101199001011e17).unwrap();
    ws.write_string(2, 3, "x2").unwrap();
    ws.write_string(2, 4, "警告").unwrap();
    ws.write_datetime_with_format(2, 5, &date, &fmt).unwrap();
    ws.write_string(2, 6, "机关").unwrap();
    let f = p.dir.path().join("p.xlsx");
    wb.save(&f).unwrap();
    let (out, v) = p.ingest("sh_amr", "admin_penalty", &f, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(v["accepted"], 1, "{v}");
    assert_eq!(errors_of(&v), [(3, "证件号码".into(), "mangled_number".into())]);

    let jsonl = "{\"party_name\":\"上海示例贸易有限公司\",\"uscc\":\"91310000631696382C\",\"decision_number\":\"j1\",\"penalty_content\":\"警告\",\"decision_date\":\"2025-04-27\",\"authority\":\"机关\",\"fine_amount\":1.5}\n\
                 not json\n\
                 {\"行政相对人名称\":\"张三\",\"证件号码\":\"360426199101010071\",\"行政处罚决定书文号\":\"j2\",\"处罚内容\":\"警告\",\"处罚决定日期\":\"20250427\",\"处罚机关\":\"机关\"}\n";
    let f = p.file("p.jsonl", jsonl.as_bytes());
    let (out, v) = p.ingest("sh_amr", "admin_penalty", &f, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!((v["rows"].as_u64(), v["accepted"].as_u64()), (Some(3), Some(2)), "{v}");
    assert_eq!(errors_of(&v)[0].0, 2);
}

/// `ingest_batches` (what `demo` loads with) reads the next file while the store commits the one
/// before; the batches still commit in order, a file that cannot be loaded stops the load with its own
/// error, and nothing after it is stored — on both backends.
#[test]
fn a_sequence_of_files_commits_in_order_and_stops_at_the_first_bad_file() {
    use xinyong_cli::args::Global;
    use xinyong_cli::commands::{FileJob, ingest_batches};
    use xinyong_ingest::reader::{EncodingChoice, Format};

    for p in [Platform::new(), Platform::postgres()] {
        let good = penalty_csv(&[GOOD_COMPANY, GOOD_SHOP]);
        let second = penalty_csv(&[GOOD_PERSON, BAD_CHECK]);
        let no_date = penalty_csv(&[GOOD_COMPANY]).replace(",处罚决定日期", ",某日期");
        let files = [("1.csv", good.as_str()), ("2.csv", second.as_str()), ("3.csv", no_date.as_str())];
        let job = |(name, text): (&str, &str)| FileJob {
            unit: "sh_amr".into(),
            item: "admin_penalty".into(),
            path: p.file(name, text.as_bytes()),
            format: Format::Csv,
            encoding: EncodingChoice::Auto,
        };
        let mut jobs: Vec<FileJob> = files.into_iter().map(job).collect();
        let fourth = penalty_csv(&[&GOOD_SHOP.replace("2025〕2号", "2025〕7号")]);
        let fifth = penalty_csv(&[&GOOD_SHOP.replace("2025〕2号", "2025〕8号")]);
        jobs.extend([job(("4.csv", &fourth)), job(("5.csv", &fifth))]);
        let g =
            Global { data: p.data(), database_url: p.db.as_ref().map(|d| d.url().to_owned()), json: true, now: None };
        let store = xinyong_cli::context::open_store(&g).unwrap();

        let mut seen = Vec::new();
        let failure = ingest_batches(&g, &*store, &jobs, false, |file, report, touched| {
            seen.push((file.path.file_name().unwrap().to_owned(), report.accepted, report.rejected, touched.len()));
            Ok(())
        })
        .unwrap_err();
        assert_eq!(failure.code, 2, "{}", failure.message);
        assert!(failure.message.contains("3.csv") && failure.message.contains("处罚决定日期"), "{}", failure.message);
        assert_eq!(seen, [("1.csv".into(), 2, 0, 2), ("2.csv".into(), 1, 1, 1)]);
        drop(store);
        if p.db.is_none() {
            // The store was empty, so its record indexes were left out of the load and built after it,
            // although the load failed.
            let conn = rusqlite::Connection::open(p.data().join(xinyong_store_sqlite::DB_FILE)).unwrap();
            let mut indexes: Vec<String> = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' ORDER BY name")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            indexes.retain(|n| !n.starts_with("sqlite_autoindex"));
            assert_eq!(indexes, ["records_item_date", "records_subject"]);
        }
        let (_, stats) = p.json(&["stats"]);
        assert_eq!((stats["records"].as_u64(), stats["subjects"].as_u64()), (Some(3), Some(3)), "{stats}");

        // A caller that stops after the first batch: the file read ahead is not stored.
        let store = xinyong_cli::context::open_store(&g).unwrap();
        let mut batches = 0;
        let stopped = ingest_batches(&g, &*store, &jobs[3..], false, |_, _, _| {
            batches += 1;
            Err(xinyong_cli::Failure::failed("enough"))
        });
        assert_eq!(stopped.unwrap_err().message, "enough");
        assert_eq!(batches, 1);
        drop(store);
        let (_, stats) = p.json(&["stats"]);
        assert_eq!(stats["records"].as_u64(), Some(4), "{stats}");
    }
}

/// The files of a sequence are read and validated ahead of the store, but written in their order, chunk
/// by chunk: a key of the first file's last chunk, filed again in the second file's first row, keeps
/// the second file's row, and a key of the first file's first row, filed again in a third file, keeps
/// the third's; each batch reports its own rows and row numbers — on both backends.
#[test]
fn a_key_filed_again_in_a_later_file_of_a_sequence_keeps_the_later_row() {
    use xinyong_cli::args::Global;
    use xinyong_cli::commands::{FileJob, ingest_batches};
    use xinyong_domain::ids::{Identifier, Uscc};
    use xinyong_ingest::reader::{EncodingChoice, Format};

    const ROWS: u32 = 20_000;
    const BAD_ROW: u32 = 15_000;
    let first = csv_of(&(0..ROWS).map(|i| company_penalty(i, &company_uscc(i), 1)).collect::<Vec<_>>());
    // The second file repeats the first file's last key in its row 2 (the header is row 1), then
    // files new keys from row 3 on.
    let mut second = vec![company_penalty(ROWS - 1, &company_uscc(ROWS - 1), 7)];
    second.extend((ROWS..2 * ROWS).map(|i| {
        let code = company_uscc(i);
        let code = if i - ROWS + 3 == BAD_ROW { with_wrong_check_digit(code) } else { code };
        company_penalty(i, &code, 1)
    }));
    let second = csv_of(&second);
    let third = csv_of(&[company_penalty(0, &company_uscc(0), 9)]);

    for p in [Platform::new(), Platform::postgres()] {
        let jobs: Vec<FileJob> = [("1.csv", &first), ("2.csv", &second), ("3.csv", &third)]
            .into_iter()
            .map(|(name, text)| FileJob {
                unit: "sh_amr".into(),
                item: "admin_penalty".into(),
                path: p.file(name, text.as_bytes()),
                format: Format::Csv,
                encoding: EncodingChoice::Auto,
            })
            .collect();
        let g =
            Global { data: p.data(), database_url: p.db.as_ref().map(|d| d.url().to_owned()), json: true, now: None };
        let store = xinyong_cli::context::open_store(&g).unwrap();
        let mut seen = Vec::new();
        ingest_batches(&g, &*store, &jobs, false, |file, report, _| {
            let errors: Vec<u64> = report.errors.iter().map(|e| e.row).collect();
            let name = file.path.file_name().unwrap().to_string_lossy().into_owned();
            seen.push((name, report.accepted, report.rejected, report.created, report.updated, errors));
            Ok(())
        })
        .unwrap();
        let bad = u64::from(BAD_ROW);
        assert_eq!(
            seen,
            [
                ("1.csv".to_owned(), 20_000, 0, 20_000, 0, vec![]),
                ("2.csv".to_owned(), 20_000, 1, 19_999, 1, vec![bad]),
                ("3.csv".to_owned(), 1, 0, 0, 1, vec![]),
            ]
        );

        for (i, fine) in [(ROWS - 1, "7"), (0, "9"), (ROWS, "1")] {
            let key = SubjectKey::Identifier(Identifier::Uscc(Uscc::parse(&company_uscc(i)).unwrap()));
            let subject = store.find_subject(&key).unwrap().unwrap();
            let records = store.records_of(subject.id).unwrap();
            let kept: Vec<(u32, Option<&str>)> =
                records.iter().map(|r| (r.version, r.fields.get("fine_amount").map(String::as_str))).collect();
            let version = if i == ROWS { 1 } else { 2 };
            assert_eq!(kept, [(version, Some(fine))], "the record of row {i}");
        }
    }
}

//! Filing batches over HTTP.

use xinyong_domain::access::Role;

use super::TestApp;

const CSV: &str = "行政相对人名称,统一社会信用代码,行政处罚决定书文号,处罚内容,处罚决定日期,处罚机关\n\
上海示例贸易有限公司,91310000631696382C,沪罚〔2026〕9号,警告,2026-05-06,上海市市场监督管理局\n\
上海坏码有限公司,91310000631696382D,沪罚〔2026〕10号,警告,2026-05-06,上海市市场监督管理局\n";

#[tokio::test]
async fn a_supplier_files_a_batch_of_its_own_unit_and_reads_it_back() {
    let app = TestApp::spawn().await;
    let sup = app.account("sup", Role::Supplier, Some("sh_amr"), None);
    let resp = app
        .client
        .post(format!("{}/api/v1/batches?item=admin_penalty&format=csv", app.base))
        .bearer_auth(&sup)
        .body(CSV)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let report: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        (report["rows"].as_u64(), report["accepted"].as_u64(), report["rejected"].as_u64()),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(report["errors"][0]["row"], 3);
    assert_eq!(report["errors"][0]["code"], "bad_check_digit");
    let (status, back) = app.get(&format!("/api/v1/batches/{}", report["batch"].as_str().unwrap()), Some(&sup)).await;
    assert_eq!(status, 200);
    assert_eq!(back["errors"].as_array().map(Vec::len), Some(1));
    let other = app.account("other", Role::Supplier, Some("sh_tax"), None);
    let (status, _) = app.get(&format!("/api/v1/batches/{}", report["batch"].as_str().unwrap()), Some(&other)).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_supplier_may_not_file_for_another_unit_or_an_item_its_unit_does_not_supply() {
    let app = TestApp::spawn().await;
    let sup = app.account("sup", Role::Supplier, Some("sh_amr"), None);
    let post = |q: &'static str| {
        app.client.post(format!("{}/api/v1/batches?{q}", app.base)).bearer_auth(&sup).body(CSV).send()
    };
    assert_eq!(post("unit=sh_tax&item=admin_penalty&format=csv").await.unwrap().status(), 403);
    assert_eq!(post("item=list_dishonest_debtor&format=csv").await.unwrap().status(), 403);
    let dept = app.account("d", Role::Department, Some("sh_housing"), None);
    let resp = app
        .client
        .post(format!("{}/api/v1/batches?item=admin_penalty&format=csv", app.base))
        .bearer_auth(&dept)
        .body(CSV)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn all_or_nothing_over_http_is_422_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let sup = app.account("sup", Role::Supplier, Some("sh_amr"), None);
    let resp = app
        .client
        .post(format!("{}/api/v1/batches?item=admin_penalty&format=csv&all_or_nothing=true", app.base))
        .bearer_auth(&sup)
        .body(CSV)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "batch_rejected");
    assert_eq!(body["batch"]["status"], "rejected");
    assert_eq!(super::off_runtime(|| app.store.subject_count().unwrap()), 0);
}

/// A person's row with a resident ID whose check digit is wrong, next to a good company row.
const PERSON_CSV: &str = "行政相对人名称,行政相对人类别,证件类型,证件号码,行政处罚决定书文号,处罚内容,处罚决定日期,处罚机关\n\
张小明,自然人,身份证,110101199003071234,沪罚〔2026〕11号,警告,2026-05-06,上海市市场监督管理局\n";

#[tokio::test]
async fn the_rejected_rows_come_back_as_filed_with_their_reasons_even_from_a_rejected_batch() {
    let app = TestApp::spawn().await;
    let sup = app.account("sup", Role::Supplier, Some("sh_amr"), None);
    let post = |body: String, all_or_nothing: bool| {
        app.client
            .post(format!("{}/api/v1/batches?item=admin_penalty&format=csv&all_or_nothing={all_or_nothing}", app.base))
            .bearer_auth(&sup)
            .body(body)
            .send()
    };
    // All or nothing: nothing stored, yet the batch keeps its errors and the bad row's cells.
    let resp = post(CSV.to_owned(), true).await.unwrap();
    assert_eq!(resp.status(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    let batch = body["batch"]["batch"].as_str().unwrap().to_owned();
    let (status, back) = app.get(&format!("/api/v1/batches/{batch}"), Some(&sup)).await;
    assert_eq!(status, 200);
    assert_eq!(back["errors"][0]["code"], "bad_check_digit", "the stored batch keeps its errors: {back}");
    let (status, csv) = app.get_text(&format!("/api/v1/batches/{batch}/rejected-rows"), Some(&sup)).await;
    assert_eq!(status, 200);
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next(),
        Some("行号 row,错误 errors,行政相对人名称,统一社会信用代码,行政处罚决定书文号,处罚内容,处罚决定日期,处罚机关")
    );
    let line = lines.next().unwrap();
    assert!(
        line.starts_with("3,")
            && line.contains("统一社会信用代码")
            && line.ends_with(
                ",上海坏码有限公司,91310000631696382D,沪罚〔2026〕10号,警告,2026-05-06,上海市市场监督管理局"
            ),
        "the row as filed, with its reason: {line}"
    );
    assert_eq!(lines.next(), None, "only the rejected row");
    // Corrected, the download itself is filed again: the two added columns are ignored with a warning.
    let corrected = csv.replace("91310000631696382D", "91310000631696382C");
    let resp = post(corrected, false).await.unwrap();
    assert_eq!(resp.status(), 201);
    let again: serde_json::Value = resp.json().await.unwrap();
    assert_eq!((again["accepted"].as_u64(), again["rejected"].as_u64()), (Some(1), Some(0)), "{again}");
    assert_eq!(again["warnings"].as_array().map(Vec::len), Some(2), "{again}");

    // A person's resident ID is masked for the supplier, shown in full to an admin; both are audited.
    let resp = post(PERSON_CSV.to_owned(), false).await.unwrap();
    assert_eq!(resp.status(), 201);
    let report: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(report["rejected"], 1, "{report}");
    let batch = report["batch"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/batches/{batch}/rejected-rows");
    let (_, masked) = app.get_text(&path, Some(&sup)).await;
    assert!(masked.contains("110***********1234") && !masked.contains("110101199003071234"), "{masked}");
    let admin = app.account("root", Role::Admin, None, None);
    let (_, full) = app.get_text(&path, Some(&admin)).await;
    assert!(full.contains("110101199003071234"), "{full}");
    // As XLSX every cell is text: the ID stays 18 digits when the file is opened.
    let resp = app.client.get(format!("{}{path}?format=xlsx", app.base)).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let bytes = resp.bytes().await.unwrap();
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = calamine::Reader::worksheet_range(&mut book, "rejected").unwrap();
    assert_eq!(sheet.get_value((0, 5)), Some(&calamine::Data::String("证件号码".into())));
    assert_eq!(sheet.get_value((1, 5)), Some(&calamine::Data::String("110101199003071234".into())));
    assert_eq!(app.get_text(&format!("{path}?format=pdf"), Some(&admin)).await.0, 400);
    let other = app.account("other", Role::Supplier, Some("sh_tax"), None);
    assert_eq!(app.get_text(&path, Some(&other)).await.0, 403);
    assert_eq!(app.get_text("/api/v1/batches/b-none/rejected-rows", Some(&sup)).await.0, 404);
    let audit = super::off_runtime(|| app.store.audit_after(0, 100).unwrap());
    let downloads: Vec<_> = audit.iter().filter(|r| r.entry.action == "rejected_rows").collect();
    assert_eq!(downloads.len(), 4, "every download is logged: {downloads:?}");
    assert!(downloads.iter().any(|r| r.entry.detail.ends_with("personal data masked")));
    assert!(downloads.iter().any(|r| r.entry.detail.ends_with("personal data in full")));
}

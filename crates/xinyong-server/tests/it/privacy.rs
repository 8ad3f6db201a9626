//! No full resident ID or natural person's name leaves through a masked or public response.

use xinyong_domain::access::Role;

use super::{TestApp, seed};

#[tokio::test]
async fn public_lists_never_carry_a_full_resident_id_or_a_persons_full_name() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let (status, text) = app.get_text("/api/v1/public/penalties", None).await;
    assert_eq!(status, 200);
    assert!(!text.contains(&s.person_id), "{text}");
    assert!(!text.contains("张三丰"), "{text}");
    assert!(text.contains("张**"), "{text}");
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["total"], 2);
    assert_eq!((body["page"].as_u64(), body["per_page"].as_u64()), (Some(1), Some(20)));
    for path in [
        "/api/v1/public/licenses",
        "/api/v1/public/lists/dishonest_debtor",
        "/api/v1/public/lists/list_dishonest_debtor",
    ] {
        let (status, text) = app.get_text(path, None).await;
        assert_eq!(status, 200, "{path}");
        assert!(!text.contains(&s.person_id));
    }
    let (status, _) = app.get_text("/api/v1/public/lists/nonsense", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_market_caller_sees_a_person_masked_and_a_department_in_full() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let bank = app.account("bank", Role::Market, Some("sh_finance"), None);
    let dept = app.account("d", Role::Department, Some("sh_housing"), None);
    let (status, text) =
        app.get_text(&format!("/api/v1/subjects/{}?purpose=authorised", s.person_id), Some(&bank)).await;
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains(&s.person_id) && !text.contains("张三丰"), "{text}");
    let masked = format!("{}***********{}", &s.person_id[..3], &s.person_id[14..]);
    assert!(text.contains(&masked), "{text}");
    let (_, text) = app.get_text(&format!("/api/v1/subjects/{}?purpose=penalty", s.person_id), Some(&dept)).await;
    assert!(text.contains(&s.person_id) && text.contains("张三丰"), "{text}");
}

#[tokio::test]
async fn search_finds_by_name_part_and_identifier_and_masks_persons() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let bank = app.account("bank", Role::Market, Some("sh_finance"), None);
    let dept = app.account("d", Role::Department, Some("sh_housing"), None);
    let (status, body) = app.get("/api/v1/subjects?q=测试", Some(&bank)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"][0]["uscc"], s.company.id.as_str());
    let (_, body) = app.get(&format!("/api/v1/subjects?q={}", s.company.id.as_str()), Some(&bank)).await;
    assert_eq!(body["total"], 1);
    // Persons are found by name only by callers with full view; by full ID by anyone, masked.
    let (_, body) = app.get("/api/v1/subjects?q=张三", Some(&bank)).await;
    assert_eq!(body["total"], 0, "{body}");
    let (_, text) = app.get_text(&format!("/api/v1/subjects?q={}", s.person_id), Some(&bank)).await;
    assert!(!text.contains(&s.person_id) && text.contains("张**"), "{text}");
    let (_, body) = app.get("/api/v1/subjects?q=张三", Some(&dept)).await;
    assert_eq!(body["items"][0]["name"], "张三丰");
    let (status, _) = app.get("/api/v1/subjects?q=张", Some(&dept)).await;
    assert_eq!(status, 400);
}

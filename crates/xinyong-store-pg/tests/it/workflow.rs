//! What the PostgreSQL layout of workflow cases must hold beyond the shared suite: the history is
//! append-only in the database itself, a revision keeps the ingest lookup (`record_keys`) in step,
//! and the one-open-objection rule survives a record moving to another subject (cases are keyed by
//! the subject they were opened under).

use xinyong_domain::record::UpsertOutcome;
use xinyong_store::conformance::{company, draft, install_default, load};
use xinyong_store::workflow::{CaseKind, CaseStep, NewCase, NewEvent, RecordEffect, WorkflowStore};
use xinyong_store::{BatchStore, PreparedRecord, Store, StoreError, SubjectKey, SubjectStore, Timestamp};

use super::fresh_store;

fn at(day: u32) -> Timestamp {
    chrono::DateTime::parse_from_rfc3339(&format!("2026-05-{day:02}T10:00:00+08:00")).unwrap()
}

fn event(action: &str) -> NewEvent {
    NewEvent { actor: 1, actor_name: "admin".into(), action: action.into(), note: None, late: false }
}

fn objection(record_id: i64, subject_id: i64) -> NewCase {
    NewCase {
        kind: CaseKind::Objection,
        record_id,
        subject_id: Some(subject_id),
        unit: "sh_amr".into(),
        status: "submitted".into(),
        deadline: None,
        deadline_provisional: false,
        open: true,
        data: serde_json::json!({}),
        at: at(6),
        event: event("file"),
        effect: RecordEffect::None,
        notices: Vec::new(),
    }
}

/// Loads one record for `company(n)` and returns (record id, subject id).
fn one_record(store: &dyn Store, batch: &str, n: u32, content: &str) -> (i64, i64) {
    load(store, batch, 6, &[draft(1, "沪罚〔2026〕9号", Some(company(n)), content)]).unwrap();
    let subject = store.find_subject(&SubjectKey::Identifier(company(n).id)).unwrap().unwrap();
    let record = store.records_of(subject.id).unwrap()[0].id;
    (record, subject.id)
}

#[test]
fn case_history_cannot_be_updated_or_deleted_in_the_database() {
    let (store, guard) = fresh_store();
    install_default(&store).unwrap();
    let (record, subject) = one_record(&store, "b-1", 9, "罚款1万元");
    store.open_case(&objection(record, subject)).unwrap();

    let mut client = postgres::Client::connect(guard.db.url(), postgres::NoTls).unwrap();
    for sql in [
        "UPDATE xinyong.case_events SET note = 'rewritten'",
        "DELETE FROM xinyong.case_events",
        "TRUNCATE xinyong.case_events",
    ] {
        let e = client.batch_execute(sql).unwrap_err();
        let message = e.as_db_error().map(|db| db.message().to_owned()).unwrap_or_default();
        assert_eq!(message, "case history is append-only", "{sql}: {e}");
    }
    let events: i64 = client.query_one("SELECT count(*) FROM xinyong.case_events", &[]).unwrap().get(0);
    assert_eq!(events, 1);
}

#[test]
fn a_revised_record_is_updated_again_by_a_later_load_of_the_old_row() {
    let (store, _guard) = fresh_store();
    install_default(&store).unwrap();
    let (record, subject) = one_record(&store, "b-1", 9, "罚款1万元");
    let case = store.open_case(&objection(record, subject)).unwrap();
    let corrected =
        PreparedRecord::new(draft(1, "沪罚〔2026〕9号", Some(company(9)), "罚款5千元"), store.vault()).unwrap();
    store
        .advance_case(&CaseStep {
            case_id: case.id,
            from: "submitted".into(),
            to: "decided".into(),
            deadline: None,
            deadline_provisional: false,
            open: false,
            data: serde_json::Map::new(),
            at: at(7),
            event: event("decide"),
            effect: RecordEffect::Revise {
                fields_json: corrected.fields_json,
                secret: corrected.secret,
                content_hash: corrected.content_hash,
            },
            notices: Vec::new(),
        })
        .unwrap();

    // The corrected content is what is stored now: loading it again changes nothing …
    let same = load(&store, "b-2", 8, &[draft(1, "沪罚〔2026〕9号", Some(company(9)), "罚款5千元")]).unwrap();
    assert_eq!(same, vec![UpsertOutcome::Unchanged]);
    // … and the unit's old row is a change again.
    let old = load(&store, "b-3", 9, &[draft(1, "沪罚〔2026〕9号", Some(company(9)), "罚款1万元")]).unwrap();
    assert_eq!(old, vec![UpsertOutcome::Updated]);
    assert_eq!(store.record(record).unwrap().unwrap().version, 3);
}

#[test]
fn a_record_that_moved_to_another_subject_still_has_one_open_objection() {
    let (store, _guard) = fresh_store();
    install_default(&store).unwrap();
    let (record, first_subject) = one_record(&store, "b-1", 9, "罚款1万元");
    store.open_case(&objection(record, first_subject)).unwrap();

    let (moved, second_subject) = one_record(&store, "b-2", 8, "罚款2万元");
    assert_eq!(moved, record, "the record keeps its id");
    assert_ne!(second_subject, first_subject);
    let again = store.open_case(&objection(record, second_subject));
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

//! Commitments, evaluation scores and inspection plans (issue 7) as every backend must keep them.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Check, at, company, date, draft, err, install_default, load, person};
use crate::commitment::{CommitmentFilter, CommitmentStep, NewCommitment};
use crate::evaluation::{NewEvaluation, NewRun, Population, RunKind, SubjectFacts};
use crate::workflow::NewEvent;
use crate::{BatchMeta, BatchReport, Store, SubjectKey};

fn subject_id(store: &dyn Store, claim: &xinyong_domain::subject::SubjectClaim) -> Result<i64, String> {
    let s = store.find_subject(&SubjectKey::Identifier(claim.id.clone())).map_err(err)?;
    s.map(|s| s.id).ok_or_else(|| "subject not found".to_owned())
}

fn event(action: &str) -> NewEvent {
    NewEvent { actor: 1, actor_name: "admin".into(), action: action.into(), note: None, late: false }
}

/// A 告知承诺 of the subject, made on 2026-05-06 and due on `due`.
fn commitment(subject_id: i64, due: chrono::NaiveDate) -> NewCommitment {
    NewCommitment {
        subject_id,
        kind: "notification".into(),
        matter: "食品经营许可".into(),
        unit: "sh_amr".into(),
        content: "承诺三个月内补交材料".into(),
        date: date(2026, 5, 6),
        due,
        at: at(6),
        event: event("file"),
    }
}

fn facts_of(store: &dyn Store, ids: Option<&[i64]>, chunk: usize) -> Result<Vec<SubjectFacts>, String> {
    let mut all = Vec::new();
    store
        .evaluation_facts(ids, chunk, &mut |facts| {
            all.extend(facts);
            Ok(())
        })
        .map_err(err)?;
    Ok(all)
}

pub fn commitments_settle_once_with_history_and_surface_when_overdue(store: &dyn Store) -> Check {
    install_default(store)?;
    load(store, "b1", 2, &[draft(2, "k1", Some(company(1)), "警告")])?;
    let sid = subject_id(store, &company(1))?;
    let a = store.file_commitment(&commitment(sid, date(2026, 5, 8))).map_err(err)?;
    let b = store.file_commitment(&commitment(sid, date(2026, 8, 6))).map_err(err)?;
    ensure!(a.status == "pending" && a.history.len() == 1 && a.due == date(2026, 5, 8), "filed: {a:?}");
    ensure!(store.overdue_commitments(date(2026, 5, 8)).map_err(err)? == 0, "due today is not overdue");
    ensure!(store.overdue_commitments(date(2026, 5, 9)).map_err(err)? == 1, "one is overdue on the 9th");
    let overdue = CommitmentFilter { overdue_on: Some(date(2026, 5, 9)), limit: 10, ..CommitmentFilter::default() };
    let (items, total) = store.commitments(&overdue).map_err(err)?;
    ensure!(total == 1 && items.first().map(|c| c.id) == Some(a.id), "overdue queue: {items:?}");

    let step = |id, to: &str| CommitmentStep {
        id,
        from: "pending".into(),
        to: to.into(),
        data: serde_json::Map::from_iter([("reasons".to_owned(), json!("未补交"))]),
        at: at(10),
        event: NewEvent { note: Some("未补交".into()), ..event("breach") },
    };
    let breached = store.settle_commitment(&step(a.id, "breached")).map_err(err)?;
    ensure!(breached.status == "breached" && breached.history.len() == 2, "breached: {breached:?}");
    ensure!(breached.data["reasons"] == "未补交", "data merged: {:?}", breached.data);
    let again = store.settle_commitment(&step(a.id, "fulfilled"));
    ensure!(matches!(again, Err(crate::StoreError::Conflict(_))), "settled twice: {again:?}");
    ensure!(store.overdue_commitments(date(2026, 9, 1)).map_err(err)? == 1, "only b is open and overdue later");

    let mine = CommitmentFilter { subject_id: Some(sid), limit: 10, ..CommitmentFilter::default() };
    let (items, total) = store.commitments(&mine).map_err(err)?;
    ensure!(total == 2 && items.iter().map(|c| c.id).collect::<Vec<_>>() == [b.id, a.id], "newest first: {items:?}");
    let facts = facts_of(store, Some(&[sid]), 10)?;
    let statuses: Vec<&str> = facts.iter().flat_map(|f| f.commitments.iter().map(|c| c.status.as_str())).collect();
    ensure!(statuses == ["breached", "pending"], "facts carry commitments: {statuses:?}");
    Ok(())
}

/// A breach is settled inside the batch that files its dishonesty record: a batch dropped after the
/// step leaves the commitment pending and no record; a committed one has both, linked.
pub fn a_breach_and_its_record_are_committed_together(store: &dyn Store) -> Check {
    install_default(store)?;
    load(store, "b1", 2, &[draft(2, "k1", Some(company(1)), "警告")])?;
    let sid = subject_id(store, &company(1))?;
    let filed = store.file_commitment(&commitment(sid, date(2026, 5, 8))).map_err(err)?;
    let step = CommitmentStep {
        id: filed.id,
        from: "pending".into(),
        to: "breached".into(),
        data: serde_json::Map::from_iter([("reasons".to_owned(), json!("未补交"))]),
        at: at(10),
        event: NewEvent { note: Some("未补交".into()), ..event("breach") },
    };
    let entry = || draft(2, "XYCN-1", Some(company(1)), "违背承诺");
    {
        let mut w = store.begin_batch(super::meta("b-dropped", 10)).map_err(err)?;
        w.write(&super::prepare(store, &[entry()])?).map_err(err)?;
        let missing = w.settle_commitment(&step, "no-such-key");
        ensure!(matches!(missing, Err(crate::StoreError::NotFound(_))), "no record under that key: {missing:?}");
        w.settle_commitment(&step, "XYCN-1").map_err(err)?;
        // dropped without commit, as when the process dies before the commit
    }
    let pending = store.commitment(filed.id).map_err(err)?.ok_or("commitment gone")?;
    ensure!(pending.status == "pending" && pending.record_id.is_none(), "rolled back: {pending:?}");
    ensure!(pending.history.len() == 1, "no breach event survives: {:?}", pending.history);
    ensure!(store.records_of(sid).map_err(err)?.len() == 1, "no breach record survives");

    let mut w = store.begin_batch(super::meta("b-breach", 10)).map_err(err)?;
    w.write(&super::prepare(store, &[entry()])?).map_err(err)?;
    let record = w.settle_commitment(&step, "XYCN-1").map_err(err)?;
    w.commit(&super::report("b-breach", 10, 1, [1, 0, 0, 1], Vec::new())).map_err(err)?;
    let breached = store.commitment(filed.id).map_err(err)?.ok_or("commitment gone")?;
    ensure!(breached.status == "breached" && breached.record_id == Some(record), "linked: {breached:?}");
    ensure!(breached.history.len() == 2 && breached.data["reasons"] == "未补交", "step kept: {breached:?}");
    let stored = store.record(record).map_err(err)?.ok_or("the linked record is missing")?;
    ensure!(stored.source_key == "XYCN-1" && stored.subject_id == Some(sid), "the breach entry: {stored:?}");

    // Settled once: a second breach batch conflicts and takes nothing with it.
    let mut w = store.begin_batch(super::meta("b-again", 11)).map_err(err)?;
    w.write(&super::prepare(store, &[draft(2, "XYCN-2", Some(company(1)), "再次")])?).map_err(err)?;
    let again = w.settle_commitment(&step, "XYCN-2");
    ensure!(matches!(again, Err(crate::StoreError::Conflict(_))), "settled twice: {again:?}");
    drop(w);
    ensure!(store.records_of(sid).map_err(err)?.len() == 2, "the conflicting batch left nothing");
    Ok(())
}

/// A full run that read a subject's facts before a batch, and saves after the batch's incremental run,
/// leaves that run's score in place; the daily run finds when the newest full run began.
fn full_run(day: u32) -> NewRun {
    NewRun { kind: RunKind::Full, model: "m1".into(), model_text: "text".into(), cause: "daily".into(), at: at(day) }
}

pub fn a_full_run_is_claimed_once_since_an_instant_even_by_racing_servers(store: &dyn Store) -> Check {
    install_default(store)?;
    let incremental = NewRun { kind: RunKind::Incremental, ..full_run(4) };
    let refused = store.claim_full_run(&incremental, at(4));
    ensure!(matches!(refused, Err(crate::StoreError::Invalid(_))), "an incremental claim: {refused:?}");
    store.begin_evaluation_run(&incremental).map_err(err)?;
    let first = store.claim_full_run(&full_run(4), at(4)).map_err(err)?;
    ensure!(first.is_some(), "an incremental run does not count as the day's full run");
    ensure!(store.latest_full_run_at().map_err(err)? == Some(at(4)), "the claimed run has begun");
    let again = store.claim_full_run(&full_run(4), at(4)).map_err(err)?;
    ensure!(again.is_none(), "a second claim since the same instant gets nothing: {again:?}");
    ensure!(store.claim_full_run(&full_run(5), at(5)).map_err(err)?.is_some(), "the next day's claim starts a run");

    // Four servers check at the same instant: exactly one starts the run.
    let claims: Vec<_> = std::thread::scope(|scope| {
        let racers: Vec<_> = (0..4).map(|_| scope.spawn(|| store.claim_full_run(&full_run(6), at(6)))).collect();
        racers.into_iter().map(|r| r.join().map_err(|_| "a claiming thread panicked".to_owned())).collect()
    });
    let mut won = 0;
    for claim in claims {
        won += usize::from(claim?.map_err(err)?.is_some());
    }
    ensure!(won == 1, "{won} of four racing claims started a run");
    ensure!(store.latest_full_run_at().map_err(err)? == Some(at(6)), "the winner's run has begun");
    Ok(())
}

pub fn a_later_runs_score_is_not_overwritten_by_an_earlier_run(store: &dyn Store) -> Check {
    install_default(store)?;
    load(store, "b1", 2, &[draft(2, "k1", Some(company(1)), "警告")])?;
    let sid = subject_id(store, &company(1))?;
    ensure!(store.latest_full_run_at().map_err(err)?.is_none(), "no full run yet");
    let begin = |kind, day| {
        store
            .begin_evaluation_run(&NewRun {
                kind,
                model: "m1".into(),
                model_text: "text".into(),
                cause: "test".into(),
                at: at(day),
            })
            .map_err(err)
    };
    let score = |score: i32| NewEvaluation {
        subject_id: sid,
        score,
        grade: if score >= 700 { "B".into() } else { "C".into() },
        explanation: json!([]),
        fingerprint: i64::from(score),
    };
    let full = begin(RunKind::Full, 4)?;
    ensure!(store.latest_full_run_at().map_err(err)? == Some(at(4)), "an unfinished full run counts as begun");
    let incremental = begin(RunKind::Incremental, 5)?;
    store.save_evaluations(incremental, &[score(640)]).map_err(err)?;
    store.save_evaluations(full, &[score(720)]).map_err(err)?;
    let latest = store.latest_evaluation(sid).map_err(err)?.ok_or("no score")?;
    ensure!(latest.score == 640 && latest.run_id == incremental, "the later run's score stays: {latest:?}");
    let history = store.evaluation_history(sid).map_err(err)?;
    ensure!(history.len() == 1, "the earlier run's stale score is not kept: {history:?}");
    let later = begin(RunKind::Incremental, 6)?;
    store.save_evaluations(later, &[score(700)]).map_err(err)?;
    let latest = store.latest_evaluation(sid).map_err(err)?.ok_or("no score")?;
    ensure!(latest.score == 700 && latest.run_id == later, "a newer run still replaces it: {latest:?}");
    let missing = store.save_evaluations(999_999, &[score(1)]);
    ensure!(matches!(missing, Err(crate::StoreError::NotFound(_))), "unknown run: {missing:?}");
    Ok(())
}

pub fn evaluation_facts_come_in_chunks_and_scores_keep_history(store: &dyn Store) -> Check {
    install_default(store)?;
    let claims = [company(1), company(2), person(3, "张三")];
    let drafts: Vec<_> = claims
        .iter()
        .enumerate()
        .map(|(i, c)| draft(i as u64 + 2, &format!("k{i}"), Some(c.clone()), "警告"))
        .collect();
    load(store, "b1", 2, &drafts)?;
    let ids: Vec<i64> = claims.iter().map(|c| subject_id(store, c)).collect::<Result<_, _>>()?;
    // A write says which subject each row is linked to (what an incremental evaluation recomputes).
    let mut w = store.begin_batch(super::meta("b2", 3)).map_err(err)?;
    let outcomes = w.write(&super::prepare(store, &[draft(2, "k9", Some(company(1)), "罚款")])?).map_err(err)?;
    ensure!(outcomes.iter().map(|o| o.subject_id).collect::<Vec<_>>() == [Some(ids[0])], "{outcomes:?}");
    w.commit(&super::report("b2", 3, 1, [1, 0, 0, 1], Vec::new())).map_err(err)?;

    let all = facts_of(store, None, 2)?;
    ensure!(all.iter().map(|f| f.id).collect::<Vec<_>>() == ids, "every subject once, by id: {all:?}");
    ensure!(all[0].records.len() == 2 && all[2].records.len() == 1, "records attached: {all:?}");
    ensure!(all.iter().all(|f| f.current.is_none()), "nothing scored yet");
    let some = facts_of(store, Some(&[ids[2], ids[0], 999_999]), 10)?;
    ensure!(some.iter().map(|f| f.id).collect::<Vec<_>>() == [ids[0], ids[2]], "chosen subjects: {some:?}");

    let run = |kind, score_of: &dyn Fn(usize) -> i32, day| -> Result<crate::evaluation::EvaluationRun, String> {
        let id = store
            .begin_evaluation_run(&NewRun {
                kind,
                model: "m1".into(),
                model_text: format!("text {day}"),
                cause: "test".into(),
                at: at(day),
            })
            .map_err(err)?;
        let evaluations: Vec<NewEvaluation> = ids
            .iter()
            .enumerate()
            .map(|(i, s)| NewEvaluation {
                subject_id: *s,
                score: score_of(i),
                grade: if score_of(i) >= 700 { "B".into() } else { "C".into() },
                explanation: json!({ "indicators": [{ "indicator": "x", "records": [i] }] }),
                fingerprint: i64::from(score_of(i)),
            })
            .collect();
        store.save_evaluations(id, &evaluations).map_err(err)?;
        store.finish_evaluation_run(id, 3, 3).map_err(err)
    };
    let first = run(RunKind::Full, &|_| 720, 4)?;
    let grades: BTreeMap<String, u64> = [("B".to_owned(), 3)].into_iter().collect();
    ensure!(first.grades == grades && first.subjects == 3, "first run: {first:?}");
    let second = run(RunKind::Incremental, &|i| if i == 0 { 640 } else { 720 }, 5)?;
    let grades: BTreeMap<String, u64> = [("B".to_owned(), 2), ("C".to_owned(), 1)].into_iter().collect();
    ensure!(second.grades == grades && second.kind == RunKind::Incremental, "second run: {second:?}");

    let latest = store.latest_evaluation(ids[0]).map_err(err)?.ok_or("no latest")?;
    ensure!(latest.score == 640 && latest.grade == "C" && latest.model == "m1" && latest.at == at(5), "{latest:?}");
    ensure!(latest.explanation["indicators"][0]["records"][0] == 0, "explanation kept: {latest:?}");
    let history = store.evaluation_history(ids[0]).map_err(err)?;
    ensure!(history.iter().map(|e| e.score).collect::<Vec<_>>() == [640, 720], "history newest first: {history:?}");
    ensure!(store.latest_evaluation(999_999).map_err(err)?.is_none(), "an unknown subject has none");
    let current = facts_of(store, Some(&[ids[0]]), 10)?;
    let c = current.first().and_then(|f| f.current.clone()).ok_or("no current score in facts")?;
    ensure!(c.score == 640 && c.grade == "C" && c.fingerprint == 640, "current in facts: {c:?}");

    let runs = store.evaluation_runs(10).map_err(err)?;
    ensure!(runs.iter().map(|r| r.id).collect::<Vec<_>>() == [second.id, first.id], "runs newest first: {runs:?}");
    ensure!(store.active_model().map_err(err)?.as_deref() == Some("text 4"), "active model is the full run's");

    let everyone = store.graded_population(&Population::All).map_err(err)?;
    ensure!(everyone == [(ids[0], "C".into()), (ids[1], "B".into()), (ids[2], "B".into())], "{everyone:?}");
    let of_unit = store.graded_population(&Population::Unit("sh_amr".into())).map_err(err)?;
    ensure!(of_unit.len() == 3, "unit population: {of_unit:?}");
    let of_item = store.graded_population(&Population::Item("admin_license".into())).map_err(err)?;
    ensure!(of_item.is_empty(), "no licences: {of_item:?}");
    let district = store.graded_population(&Population::District("浦东新区".into())).map_err(err)?;
    ensure!(district.is_empty(), "no registrations: {district:?}");

    let plan = json!({ "name": "抽查", "seed": "42", "sample": [{ "subject": ids[0], "grade": "C" }] });
    let saved = store.save_inspection(&plan, 1, at(6)).map_err(err)?;
    ensure!(saved.plan == plan && saved.created_at == at(6), "saved: {saved:?}");
    ensure!(store.inspection(saved.id).map_err(err)?.as_ref() == Some(&saved), "read back");
    ensure!(store.inspections(5).map_err(err)?.len() == 1, "listed");

    // A record moving to another subject touches both: the write names the one it left.
    let mut w = store.begin_batch(super::meta("b3", 7)).map_err(err)?;
    let outcomes = w.write(&super::prepare(store, &[draft(2, "k0", Some(company(2)), "罚款")])?).map_err(err)?;
    let moved: Vec<_> = outcomes.iter().map(|o| (o.subject_id, o.previous_subject_id)).collect();
    ensure!(moved == [(Some(ids[1]), Some(ids[0]))], "moved from the first company to the second: {moved:?}");
    w.commit(&super::report("b3", 7, 1, [0, 1, 0, 1], Vec::new())).map_err(err)?;

    // A registration places its subject in a district, which reads back under its full key.
    let mut registration = draft(2, "r1", Some(company(2)), "登记");
    registration.fields.insert("district".into(), "浦东新区".into());
    let item = "legal_person_registration".to_owned();
    let mut w = store.begin_batch(BatchMeta { item: item.clone(), ..super::meta("b4", 8) }).map_err(err)?;
    w.write(&super::prepare(store, &[registration])?).map_err(err)?;
    w.commit(&BatchReport { item, ..super::report("b4", 8, 1, [1, 0, 0, 1], Vec::new()) }).map_err(err)?;
    let district = store.graded_population(&Population::District("浦东新区".into())).map_err(err)?;
    ensure!(district == [(ids[1], "B".into())], "the registered company: {district:?}");
    let elsewhere = store.graded_population(&Population::District("黄浦区".into())).map_err(err)?;
    ensure!(elsewhere.is_empty(), "no registration there: {elsewhere:?}");
    let records = store.records_of(ids[1]).map_err(err)?;
    let registered = records.iter().find(|r| r.item == "legal_person_registration").ok_or("no registration")?;
    ensure!(registered.fields.get("district").map(String::as_str) == Some("浦东新区"), "{registered:?}");
    Ok(())
}

/// Rows written before field keys were stored as codes hold their keys in full (`crate::field_codes`);
/// they read back the same, and the district of such a registration still places its subject.
/// `rewrite` replaces the stored fields of the one registration with the JSON given, in the backend's
/// own SQL, and returns what was stored before.
pub fn rows_with_full_field_keys_read_as_coded_ones(store: &dyn Store, rewrite: &dyn Fn(&str) -> String) -> Check {
    evaluation_facts_come_in_chunks_and_scores_keep_history(store)?;
    let registered = || -> Result<_, String> {
        let district = store.graded_population(&Population::District("浦东新区".into())).map_err(err)?;
        let subject = district.first().ok_or("nobody in the district")?.0;
        let records = store.records_of(subject).map_err(err)?;
        let r = records.into_iter().find(|r| r.item == "legal_person_registration").ok_or("no registration")?;
        Ok((district, r.fields))
    };
    let coded = registered()?;
    let stored = rewrite(r#"{"decision_number":"r1","district":"浦东新区","penalty_content":"登记"}"#);
    ensure!(stored == r#"{"6":"r1","55":"浦东新区","42":"登记"}"#, "stored with codes: {stored}");
    let full = registered()?;
    ensure!(full == coded, "full keys {full:?} read as codes {coded:?}");
    ensure!(coded.1.get("district").map(String::as_str) == Some("浦东新区"), "{coded:?}");
    Ok(())
}

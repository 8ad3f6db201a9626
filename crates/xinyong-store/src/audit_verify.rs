//! Verifying the audit trail, and signing its head (DOMAIN.md §9: "tamper-evident … verifiable by a
//! command").
//!
//! [`verify_audit`] walks the whole chain in pages and reports every problem it finds rather than
//! stopping at the first, naming the entry where the chain breaks:
//! - an entry whose content no longer matches its own hash was altered in place;
//! - an entry whose `prev_hash` is not its predecessor's hash follows a removed, inserted or rewritten one;
//! - a gap in `seq` means entries were removed;
//! - a checkpoint whose hash differs from the chain's at its `seq` means the chain was rewritten from
//!   there on (even with every hash recomputed), one naming a `seq` beyond the head that it was cut;
//! - a checkpoint whose signature does not verify against the published keys was forged.
//!
//! Entries appended after the last checkpoint are only as safe as the database's own protection; a
//! checkpoint every few minutes ([`make_checkpoint`]) bounds that window.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::audit::{AuditCheckpoint, AuditStore, GENESIS_HASH, chain_hash, checkpoint_message};
use crate::keyring::{KeyInfo, Keyring, verify};
use crate::{Result, StoreError, Timestamp};

/// Entries read per call while walking the chain.
const PAGE: u32 = 1000;
/// Problems listed in full; past this only their number is added.
const MAX_PROBLEMS: usize = 1000;

/// The outcome of a verification run (`xinyong audit verify`, `/api/v1/audit/verify`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerification {
    pub entries: u64,
    pub checkpoints: u64,
    /// Sequence number of the last entry (0 for an empty trail).
    pub head_seq: i64,
    /// Its hash in hex (the genesis hash for an empty trail).
    pub head_hash: String,
    /// What is wrong, one line each, in chain order; empty when intact.
    pub problems: Vec<String>,
}

impl AuditVerification {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

#[derive(Default)]
struct Problems {
    listed: Vec<String>,
    more: usize,
}

impl Problems {
    fn push(&mut self, problem: String) {
        if self.listed.len() < MAX_PROBLEMS { self.listed.push(problem) } else { self.more += 1 }
    }

    fn finish(mut self) -> Vec<String> {
        if self.more > 0 {
            self.listed.push(format!("… and {} more problems", self.more));
        }
        self.listed
    }
}

/// Walks the whole trail and checks every hash, link, sequence number and checkpoint.
pub fn verify_audit(store: &dyn AuditStore, public_keys: &[KeyInfo]) -> Result<AuditVerification> {
    let checkpoints = store.checkpoints()?;
    let mut problems = Problems::default();
    let mut by_seq: BTreeMap<i64, Vec<&AuditCheckpoint>> = BTreeMap::new();
    for cp in &checkpoints {
        let message = checkpoint_message(cp.seq, &cp.hash);
        if let Err(e) = verify(public_keys, &cp.key_id, &message, &cp.signature) {
            problems.push(format!("checkpoint at seq {}: {e}", cp.seq));
        }
        by_seq.entry(cp.seq).or_default().push(cp);
    }

    let mut entries = 0u64;
    let mut head_seq = 0i64;
    let mut head_hash = GENESIS_HASH.to_vec();
    loop {
        let page = store.audit_after(head_seq, PAGE)?;
        let Some(last) = page.last().map(|r| r.seq) else { break };
        if last <= head_seq {
            return Err(StoreError::Corrupt(format!("audit_after({head_seq}) returned seq {last}")));
        }
        for record in &page {
            if record.seq != head_seq + 1 {
                problems.push(format!(
                    "entry {}: follows entry {head_seq}, entries {}..={} are missing",
                    record.seq,
                    head_seq + 1,
                    record.seq - 1
                ));
            }
            if record.prev_hash != head_hash {
                problems.push(format!("entry {}: does not link to the hash of entry {head_seq}", record.seq));
            }
            if chain_hash(&record.prev_hash, record.seq, &record.entry) != record.hash {
                problems.push(format!("entry {}: content does not match its hash (altered)", record.seq));
            }
            for cp in by_seq.remove(&record.seq).unwrap_or_default() {
                if cp.hash != record.hash {
                    problems.push(format!(
                        "checkpoint at seq {}: signed hash differs from the chain's (rewritten from there on)",
                        cp.seq
                    ));
                }
            }
            entries += 1;
            head_seq = record.seq;
            head_hash = record.hash.clone();
        }
        if page.len() < PAGE as usize {
            break;
        }
    }
    for seq in by_seq.keys() {
        problems.push(format!("checkpoint at seq {seq}: the chain has no entry {seq} (cut short or removed)"));
    }

    Ok(AuditVerification {
        entries,
        checkpoints: checkpoints.len() as u64,
        head_seq,
        head_hash: hex::encode(&head_hash),
        problems: problems.finish(),
    })
}

/// Signs the head of the trail if it moved since the last checkpoint, and stores the checkpoint.
///
/// Before signing it checks the entries since the last valid checkpoint (links, hashes, and that the
/// checkpointed entry still has the signed hash), so that a tampered stretch is never vouched for:
/// that is an error.
pub fn make_checkpoint(store: &dyn AuditStore, keyring: &Keyring, now: Timestamp) -> Result<Option<AuditCheckpoint>> {
    // The newest checkpoint that still verifies (one by a since retired key, or a forged one, is
    // passed over here; `verify_audit` reports it).
    let last = store
        .checkpoints()?
        .into_iter()
        .filter(|cp| {
            verify(keyring.public_keys(), &cp.key_id, &checkpoint_message(cp.seq, &cp.hash), &cp.signature).is_ok()
        })
        .max_by_key(|cp| cp.seq);
    // Re-read the last checkpointed entry itself, to anchor the stretch to it.
    let mut after = last.as_ref().map_or(0, |cp| cp.seq - 1);
    let mut head: Option<(i64, Vec<u8>)> = None;
    loop {
        let page = store.audit_after(after, PAGE)?;
        for record in &page {
            let linked = match (&head, &last) {
                (Some((seq, hash)), _) => record.seq == seq + 1 && record.prev_hash == *hash,
                (None, None) => record.seq == 1 && record.prev_hash == GENESIS_HASH,
                (None, Some(cp)) => record.seq == cp.seq && record.hash == cp.hash,
            };
            if !linked || chain_hash(&record.prev_hash, record.seq, &record.entry) != record.hash {
                return Err(StoreError::Corrupt(format!("audit chain broken at entry {}: not signing", record.seq)));
            }
            head = Some((record.seq, record.hash.clone()));
        }
        match page.last() {
            Some(r) if page.len() == PAGE as usize => after = r.seq,
            _ => break,
        }
    }
    let (seq, hash) = match (head, &last) {
        (None, None) => return Ok(None),
        (None, Some(cp)) => {
            return Err(StoreError::Corrupt(format!("audit entry {} of the last checkpoint is gone", cp.seq)));
        }
        (Some((seq, _)), Some(cp)) if seq == cp.seq => return Ok(None),
        (Some(head), _) => head,
    };
    let (key_id, signature) = keyring.sign(&checkpoint_message(seq, &hash));
    let checkpoint = AuditCheckpoint { seq, hash, at: now, key_id, signature };
    store.add_checkpoint(&checkpoint)?;
    Ok(Some(checkpoint))
}

/// An in-memory audit store for unit tests of this crate.
#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::Mutex;

    use xinyong_domain::access::{Channel, Purpose, Role};

    use crate::Result;
    use crate::audit::{AuditCheckpoint, AuditEntry, AuditRecord, AuditStore, GENESIS_HASH, chain_hash};

    #[derive(Default)]
    pub struct MemoryAudit {
        records: Mutex<Vec<AuditRecord>>,
        checkpoints: Mutex<Vec<AuditCheckpoint>>,
        batches: Mutex<Vec<usize>>,
        failing: bool,
    }

    impl MemoryAudit {
        pub fn failing() -> MemoryAudit {
            MemoryAudit { failing: true, ..MemoryAudit::default() }
        }

        pub fn all(&self) -> Vec<AuditRecord> {
            self.records.lock().map(|r| r.clone()).unwrap_or_default()
        }

        /// The number of entries of each `append_audit` call, in order.
        pub fn batches(&self) -> Vec<usize> {
            self.batches.lock().map(|b| b.clone()).unwrap_or_default()
        }

        /// Replaces the stored records (an attacker with write access).
        pub fn tamper(&self, f: impl FnOnce(&mut Vec<AuditRecord>)) {
            if let Ok(mut records) = self.records.lock() {
                f(&mut records);
            }
        }
    }

    impl AuditStore for MemoryAudit {
        fn append_audit(&self, entries: &[AuditEntry]) -> Result<Vec<AuditRecord>> {
            if let Ok(mut batches) = self.batches.lock() {
                batches.push(entries.len());
            }
            if self.failing {
                return Err(crate::StoreError::Backend("disk full".into()));
            }
            let mut records = self.records.lock().map_err(|_| crate::StoreError::Backend("poisoned".into()))?;
            let mut out = Vec::new();
            for entry in entries {
                let (seq, prev_hash) =
                    records.last().map_or((1, GENESIS_HASH.to_vec()), |r| (r.seq + 1, r.hash.clone()));
                let hash = chain_hash(&prev_hash, seq, entry);
                let record = AuditRecord { seq, entry: entry.clone(), prev_hash, hash };
                records.push(record.clone());
                out.push(record);
            }
            Ok(out)
        }

        fn audit_after(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>> {
            let records = self.all();
            Ok(records.into_iter().filter(|r| r.seq > after).take(limit as usize).collect())
        }

        fn audit_of_subject(&self, subject_id: i64, limit: u32, offset: u32) -> Result<Vec<AuditRecord>> {
            let records = self.all();
            let of = records.into_iter().rev().filter(|r| r.entry.subject_id == Some(subject_id));
            Ok(of.skip(offset as usize).take(limit as usize).collect())
        }

        fn add_checkpoint(&self, checkpoint: &AuditCheckpoint) -> Result<()> {
            if let Ok(mut c) = self.checkpoints.lock() {
                c.push(checkpoint.clone());
            }
            Ok(())
        }

        fn checkpoints(&self) -> Result<Vec<AuditCheckpoint>> {
            Ok(self.checkpoints.lock().map(|c| c.clone()).unwrap_or_default())
        }
    }

    /// A profile query; `detail` names `n` so each entry is distinct.
    pub fn entry(n: i64) -> AuditEntry {
        AuditEntry {
            at: chrono::DateTime::parse_from_rfc3339("2026-05-06T10:00:00+08:00").unwrap_or_default(),
            account_id: Some(3),
            account_name: "jg-user".into(),
            unit: Some("sh_amr".into()),
            role: Role::Department,
            action: "profile".into(),
            subject_id: Some(n % 7),
            purpose: Some(Purpose::Supervision),
            channel: Channel::Api,
            outcome: "allowed".into(),
            detail: format!("query {n}"),
            request_id: Some(format!("req-{n}")),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::test_support::{MemoryAudit, entry};
    use super::*;

    fn at(hour: u32) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(&format!("2026-05-06T{hour:02}:00:00+08:00")).unwrap()
    }

    struct Folder(std::path::PathBuf);

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn keyring() -> (Keyring, Folder) {
        let mut bytes = [0u8; 8];
        rand::fill(&mut bytes);
        let dir = std::env::temp_dir().join(format!("xinyong-audit-verify-{}", hex::encode(bytes)));
        (Keyring::create(&dir.join("keys"), at(8)).unwrap(), Folder(dir))
    }

    fn filled(n: i64) -> MemoryAudit {
        let store = MemoryAudit::default();
        let entries: Vec<_> = (1..=n).map(entry).collect();
        store.append_audit(&entries).unwrap();
        store
    }

    #[test]
    fn an_untouched_trail_with_checkpoints_is_intact() {
        let (ring, _dir) = keyring();
        let store = filled(2500);
        assert_eq!(make_checkpoint(&store, &ring, at(10)).unwrap().map(|c| c.seq), Some(2500));
        assert_eq!(make_checkpoint(&store, &ring, at(11)).unwrap(), None, "the head did not move");
        store.append_audit(&[entry(2501)]).unwrap();
        assert_eq!(make_checkpoint(&store, &ring, at(12)).unwrap().map(|c| c.seq), Some(2501));

        let v = verify_audit(&store, ring.public_keys()).unwrap();
        assert!(v.is_intact(), "{:?}", v.problems);
        assert_eq!((v.entries, v.checkpoints, v.head_seq), (2501, 2, 2501));
        assert_eq!(v.head_hash, hex::encode(&store.all()[2500].hash));
    }

    #[test]
    fn an_empty_trail_is_intact_and_needs_no_checkpoint() {
        let (ring, _dir) = keyring();
        let store = MemoryAudit::default();
        assert_eq!(make_checkpoint(&store, &ring, at(10)).unwrap(), None);
        let v = verify_audit(&store, ring.public_keys()).unwrap();
        assert!(v.is_intact());
        assert_eq!((v.entries, v.head_seq, v.head_hash.clone()), (0, 0, hex::encode(GENESIS_HASH)));
    }

    #[test]
    fn an_altered_entry_is_named() {
        let store = filled(10);
        store.tamper(|r| r[4].entry.outcome = "denied".into());
        let v = verify_audit(&store, &[]).unwrap();
        assert_eq!(v.problems, vec!["entry 5: content does not match its hash (altered)".to_owned()]);
    }

    #[test]
    fn a_removed_entry_breaks_the_link_and_the_sequence() {
        let store = filled(10);
        store.tamper(|r| {
            r.remove(6);
        });
        let v = verify_audit(&store, &[]).unwrap();
        assert_eq!(v.problems.len(), 2, "{:?}", v.problems);
        assert!(v.problems.iter().all(|p| p.starts_with("entry 8:")), "{:?}", v.problems);
    }

    #[test]
    fn a_rewritten_chain_is_caught_by_its_checkpoint() {
        let (ring, _dir) = keyring();
        let store = filled(10);
        make_checkpoint(&store, &ring, at(10)).unwrap();
        store.tamper(|r| {
            r[3].entry.outcome = "denied".into();
            let mut prev = r[2].hash.clone();
            for rec in r.iter_mut().skip(3) {
                rec.prev_hash = prev;
                rec.hash = chain_hash(&rec.prev_hash, rec.seq, &rec.entry);
                prev = rec.hash.clone();
            }
        });
        let v = verify_audit(&store, ring.public_keys()).unwrap();
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
        assert!(v.problems[0].starts_with("checkpoint at seq 10: signed hash differs"), "{:?}", v.problems);
        store.append_audit(&[entry(11)]).unwrap();
        let e = make_checkpoint(&store, &ring, at(11)).unwrap_err();
        assert!(e.to_string().contains("broken at entry 10"), "a rewritten stretch is not signed: {e}");
    }

    #[test]
    fn a_cut_tail_and_a_forged_checkpoint_are_reported() {
        let (ring, _dir) = keyring();
        let store = filled(10);
        make_checkpoint(&store, &ring, at(10)).unwrap();
        store.tamper(|r| r.truncate(8));
        let mut forged = store.checkpoints().unwrap()[0].clone();
        forged.seq = 8;
        forged.hash = store.all()[7].hash.clone();
        store.add_checkpoint(&forged).unwrap();
        let v = verify_audit(&store, ring.public_keys()).unwrap();
        assert_eq!(v.problems.len(), 2, "{:?}", v.problems);
        assert!(v.problems[0].starts_with("checkpoint at seq 8: signature by key"), "{:?}", v.problems);
        assert!(v.problems[1].starts_with("checkpoint at seq 10: the chain has no entry 10"), "{:?}", v.problems);
    }
}

//! The query log and audit trail (DOMAIN.md §9): typed, append-only, hash-chained entries with
//! periodic signed checkpoints.
//!
//! Every entry's hash is `SHA-256(previous hash ‖ seq ‖ canonical JSON of the entry)`, the first entry
//! chaining to 32 zero bytes. Changing, removing or reordering any entry breaks every later hash; a
//! checkpoint signs (seq, hash) with the platform's Ed25519 key so the chain head itself cannot be
//! rewritten unnoticed. Backends append in one durable transaction per call; the server calls through
//! a group committer so that one fsync carries the entries of many concurrent requests.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use xinyong_domain::access::{Channel, Purpose, Role};

use crate::{Result, Timestamp};

/// What an access was and how it ended. Never carries personal data beyond the subject's internal id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub account_id: Option<i64>,
    pub account_name: String,
    pub unit: Option<String>,
    pub role: Role,
    /// `profile`, `report`, `check`, `batch`, `login` …
    pub action: String,
    pub subject_id: Option<i64>,
    pub purpose: Option<Purpose>,
    pub channel: Channel,
    /// `allowed`, `denied`, `not_found`, `failed`.
    pub outcome: String,
    /// Why it was denied, which report was issued …
    pub detail: String,
    pub request_id: Option<String>,
}

/// An entry as stored, with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub entry: AuditEntry,
    #[serde(with = "hex_bytes")]
    pub prev_hash: Vec<u8>,
    #[serde(with = "hex_bytes")]
    pub hash: Vec<u8>,
}

/// A signed statement that the chain had this head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCheckpoint {
    pub seq: i64,
    #[serde(with = "hex_bytes")]
    pub hash: Vec<u8>,
    pub at: Timestamp,
    pub key_id: String,
    #[serde(with = "hex_bytes")]
    pub signature: Vec<u8>,
}

/// The hash that chains an entry to its predecessor.
pub fn chain_hash(prev_hash: &[u8], seq: i64, entry: &AuditEntry) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(prev_hash);
    h.update(seq.to_be_bytes());
    // serde_json writes struct fields in declaration order: the encoding is canonical for this type.
    h.update(serde_json::to_vec(entry).unwrap_or_default());
    h.finalize().to_vec()
}

/// The bytes a checkpoint signature covers.
pub fn checkpoint_message(seq: i64, hash: &[u8]) -> Vec<u8> {
    let mut m = b"xinyong-audit-checkpoint\0".to_vec();
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash);
    m
}

pub const GENESIS_HASH: [u8; 32] = [0; 32];

pub trait AuditStore {
    /// Appends entries after the current head in one durable transaction; returns them as stored.
    /// If this fails, none was written and the accesses they record must be refused.
    fn append_audit(&self, entries: &[AuditEntry]) -> Result<Vec<AuditRecord>>;
    /// Entries with `seq > after`, in order, at most `limit`.
    fn audit_after(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>>;
    /// Entries about a subject, newest first.
    fn audit_of_subject(&self, subject_id: i64, limit: u32, offset: u32) -> Result<Vec<AuditRecord>>;
    fn add_checkpoint(&self, checkpoint: &AuditCheckpoint) -> Result<()>;
    fn checkpoints(&self) -> Result<Vec<AuditCheckpoint>>;
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

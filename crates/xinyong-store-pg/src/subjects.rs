//! Reading subjects and records. Personal data is decrypted here, once, and handed up as typed values;
//! masking is the caller's business (it knows who is asking).
//!
//! A profile is read from one subject's rows only (subject, names, records), so on a distributed
//! cluster every statement here routes to one shard; an identifier first finds its subject id in
//! `subject_keys` (one shard too).

use postgres::Row;
use xinyong_domain::catalog::Severity;
use xinyong_domain::ids::{Identifier, ResidentId};
use xinyong_domain::record::RecordStatus;
use xinyong_domain::subject::SubjectKind;
use xinyong_store::vault::Vault;
use xinyong_store::{Record, RecordVersion, Result, StoreError, Subject, SubjectKey, SubjectStore, Timestamp};

use crate::PgStore;
use crate::pool::Conn;

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

pub(crate) fn time(s: &str) -> Result<Timestamp> {
    chrono::DateTime::parse_from_rfc3339(s).map_err(|e| corrupt("timestamp", e))
}

pub(crate) fn severity(s: &str) -> Result<Severity> {
    [Severity::None, Severity::Minor, Severity::General, Severity::Serious]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or_else(|| corrupt("severity", s))
}

pub(crate) fn parse_kind(kind: &str) -> Result<SubjectKind> {
    SubjectKind::parse(kind).ok_or_else(|| corrupt("subject kind", kind))
}

/// The key of an identifier in `subject_keys`.
pub(crate) fn identifier_key(vault: &Vault, id: &Identifier) -> String {
    match id {
        Identifier::Uscc(u) => format!("u:{}", u.as_str()),
        Identifier::OrgCode(o) => format!("o:{}", o.as_str()),
        Identifier::ResidentId(r) => format!("r:{}", hex::encode(vault.lookup_hash(r.as_str()))),
    }
}

pub(crate) fn decrypt_resident_id(vault: &Vault, sealed: &[u8]) -> Result<ResidentId> {
    let plain = vault.decrypt(sealed)?;
    String::from_utf8(plain)
        .ok()
        .and_then(|text| ResidentId::from_stored(&text))
        .ok_or_else(|| corrupt("resident id", "malformed"))
}

/// The columns [`PgStore::record_from_row`] reads, in its order.
macro_rules! record_columns {
    () => {
        "id, item, item_version, source_key, subject_id, unit, version, status, record_date, end_date, fields, \
         secret, batch_id, created_at, updated_at, severity, published, public_until"
    };
}
pub(crate) use record_columns;

impl PgStore {
    pub(crate) fn record_from_row(&self, r: &Row) -> Result<Record> {
        let status: String = r.try_get(7).map_err(crate::db_err)?;
        let subject_id: i64 = r.try_get(4).map_err(crate::db_err)?;
        let item_version: i32 = r.try_get(2).map_err(crate::db_err)?;
        let version: i32 = r.try_get(6).map_err(crate::db_err)?;
        Ok(Record {
            id: r.try_get(0).map_err(crate::db_err)?,
            item: r.try_get(1).map_err(crate::db_err)?,
            item_version: item_version as u32,
            source_key: r.try_get(3).map_err(crate::db_err)?,
            subject_id: (subject_id != 0).then_some(subject_id),
            unit: r.try_get(5).map_err(crate::db_err)?,
            version: version as u32,
            status: RecordStatus::parse(&status).ok_or_else(|| corrupt("record status", &status))?,
            date: r.try_get(8).map_err(crate::db_err)?,
            end_date: r.try_get(9).map_err(crate::db_err)?,
            fields: xinyong_store::field_codes::merge(
                &self.vault,
                r.try_get(10).map_err(crate::db_err)?,
                r.try_get(11).map_err(crate::db_err)?,
            )?,
            batch: r.try_get(12).map_err(crate::db_err)?,
            created_at: time(r.try_get(13).map_err(crate::db_err)?)?,
            updated_at: time(r.try_get(14).map_err(crate::db_err)?)?,
            severity: severity(r.try_get(15).map_err(crate::db_err)?)?,
            published: r.try_get(16).map_err(crate::db_err)?,
            public_until: r.try_get(17).map_err(crate::db_err)?,
        })
    }

    /// The subject id an identifier names (for an organisation code, the oldest subject carrying it).
    pub(crate) fn subject_id_of(&self, c: &mut Conn, id: &Identifier) -> Result<Option<i64>> {
        let key = identifier_key(&self.vault, id);
        Ok(c.query_opt("SELECT subject_id FROM subject_keys WHERE key = $1 ORDER BY subject_id LIMIT 1", &[&key])?
            .map(|r| r.get(0)))
    }

    fn read_subject(&self, c: &mut Conn, id: i64) -> Result<Option<Subject>> {
        let Some(row) = c.query_opt(
            "SELECT id, kind, name, uscc, org_code, rid_enc, created_at FROM subjects WHERE id = $1",
            &[&id],
        )?
        else {
            return Ok(None);
        };
        let kind = parse_kind(row.get(1))?;
        let resident_id =
            row.get::<_, Option<Vec<u8>>>(5).map(|sealed| decrypt_resident_id(&self.vault, &sealed)).transpose()?;
        let names = c
            .query("SELECT name FROM subject_names WHERE subject_id = $1 ORDER BY first_seen, name", &[&id])?
            .into_iter()
            .map(|r| r.get(0))
            .collect();
        Ok(Some(Subject {
            id,
            kind,
            name: row.get(2),
            names,
            uscc: row.get(3),
            org_code: row.get(4),
            resident_id,
            created_at: time(row.get(6))?,
        }))
    }
}

impl SubjectStore for PgStore {
    fn find_subject(&self, key: &SubjectKey) -> Result<Option<Subject>> {
        self.with(|c| {
            let id = match key {
                SubjectKey::Id(id) => *id,
                SubjectKey::Identifier(identifier) => match self.subject_id_of(c, identifier)? {
                    Some(id) => id,
                    None => return Ok(None),
                },
            };
            self.read_subject(c, id)
        })
    }

    fn records_of(&self, subject_id: i64) -> Result<Vec<Record>> {
        if subject_id == 0 {
            // 0 marks unlinked records; no subject has it.
            return Ok(Vec::new());
        }
        let rows = self.with(|c| {
            c.query(
                concat!(
                    "SELECT ",
                    record_columns!(),
                    " FROM records WHERE subject_id = $1 ORDER BY record_date DESC, id DESC"
                ),
                &[&subject_id],
            )
        })?;
        rows.iter().map(|r| self.record_from_row(r)).collect()
    }

    fn record(&self, id: i64) -> Result<Option<Record>> {
        let row =
            self.with(|c| c.query_opt(concat!("SELECT ", record_columns!(), " FROM records WHERE id = $1"), &[&id]))?;
        row.map(|r| self.record_from_row(&r)).transpose()
    }

    fn record_history(&self, id: i64) -> Result<Vec<RecordVersion>> {
        let rows = self.with(|c| {
            c.query(
                "SELECT version, fields, secret, batch_id, superseded_at FROM record_versions
                 WHERE record_id = $1 ORDER BY version",
                &[&id],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(RecordVersion {
                    version: r.get::<_, i32>(0) as u32,
                    fields: xinyong_store::field_codes::merge(&self.vault, r.get(1), r.get(2))?,
                    batch: r.get(3),
                    superseded_at: time(r.get(4))?,
                })
            })
            .collect()
    }

    fn subject_count(&self) -> Result<u64> {
        self.with(|c| Ok(c.query_one("SELECT count(*) FROM subjects", &[])?.get::<_, i64>(0) as u64))
    }
}

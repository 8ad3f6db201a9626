//! Reading subjects and records. Personal data is decrypted here, once, and handed up as typed values;
//! masking is the caller's business (it knows who is asking).

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, Row, params};
use xinyong_domain::catalog::Severity;
use xinyong_domain::ids::{Identifier, ResidentId};
use xinyong_domain::record::RecordStatus;
use xinyong_domain::subject::SubjectKind;
use xinyong_store::{Record, RecordVersion, Result, StoreError, Subject, SubjectKey, SubjectStore, Timestamp};

use crate::{SqliteStore, db_err};

const SUBJECT_COLUMNS: &str = "id, kind, name, uscc, org_code, rid_enc, created_at";
pub(crate) const RECORD_COLUMNS: &str = "id, item, item_version, source_key, subject_id, unit, version, status, record_date, \
     end_date, fields, secret, batch_id, created_at, updated_at, severity, published, public_until";

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

pub(crate) fn date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| corrupt("date", e))
}

struct RawSubject {
    id: i64,
    kind: String,
    name: String,
    uscc: Option<String>,
    org_code: Option<String>,
    rid_enc: Option<Vec<u8>>,
    created_at: String,
}

fn raw_subject(r: &Row<'_>) -> rusqlite::Result<RawSubject> {
    Ok(RawSubject {
        id: r.get(0)?,
        kind: r.get(1)?,
        name: r.get(2)?,
        uscc: r.get(3)?,
        org_code: r.get(4)?,
        rid_enc: r.get(5)?,
        created_at: r.get(6)?,
    })
}

impl SqliteStore {
    fn subject_from_raw(&self, conn: &Connection, raw: RawSubject) -> Result<Subject> {
        let kind = SubjectKind::parse(&raw.kind).ok_or_else(|| corrupt("subject kind", &raw.kind))?;
        let resident_id = match raw.rid_enc {
            None => None,
            Some(sealed) => {
                let plain = self.vault.decrypt(&sealed)?;
                let text = String::from_utf8(plain).map_err(|e| corrupt("resident id", e))?;
                Some(ResidentId::from_stored(&text).ok_or_else(|| corrupt("resident id", "malformed"))?)
            }
        };
        let mut stmt = conn
            .prepare_cached("SELECT name FROM subject_names WHERE subject_id = ?1 ORDER BY first_seen, name")
            .map_err(db_err)?;
        let names = stmt
            .query_map([raw.id], |r| r.get::<_, String>(0))
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        Ok(Subject {
            id: raw.id,
            kind,
            name: raw.name,
            names,
            uscc: raw.uscc,
            org_code: raw.org_code,
            resident_id,
            created_at: time(&raw.created_at)?,
        })
    }

    pub(crate) fn record_from_row(&self, r: &Row<'_>) -> Result<Record> {
        let get = |e: rusqlite::Error| db_err(e);
        let status: String = r.get(7).map_err(get)?;
        let end: Option<String> = r.get(9).map_err(get)?;
        Ok(Record {
            id: r.get(0).map_err(get)?,
            item: r.get(1).map_err(get)?,
            item_version: r.get(2).map_err(get)?,
            source_key: r.get(3).map_err(get)?,
            subject_id: r.get(4).map_err(get)?,
            unit: r.get(5).map_err(get)?,
            version: r.get(6).map_err(get)?,
            status: RecordStatus::parse(&status).ok_or_else(|| corrupt("record status", &status))?,
            date: date(&r.get::<_, String>(8).map_err(get)?)?,
            end_date: end.as_deref().map(date).transpose()?,
            severity: severity(&r.get::<_, String>(15).map_err(get)?)?,
            published: r.get(16).map_err(get)?,
            public_until: r.get::<_, Option<String>>(17).map_err(get)?.as_deref().map(date).transpose()?,
            fields: xinyong_store::field_codes::merge(
                &self.vault,
                &r.get::<_, String>(10).map_err(get)?,
                r.get(11).map_err(get)?,
            )?,
            batch: r.get(12).map_err(get)?,
            created_at: time(&r.get::<_, String>(13).map_err(get)?)?,
            updated_at: time(&r.get::<_, String>(14).map_err(get)?)?,
        })
    }
}

impl SubjectStore for SqliteStore {
    fn find_subject(&self, key: &SubjectKey) -> Result<Option<Subject>> {
        self.read(|conn| {
            let sql_for = |cond: &str| format!("SELECT {SUBJECT_COLUMNS} FROM subjects WHERE {cond}");
            let raw = match key {
                SubjectKey::Id(id) => conn.query_row(&sql_for("id = ?1"), [id], raw_subject),
                SubjectKey::Identifier(Identifier::Uscc(u)) => {
                    conn.query_row(&sql_for("uscc = ?1"), [u.as_str()], raw_subject)
                }
                SubjectKey::Identifier(Identifier::OrgCode(o)) => {
                    conn.query_row(&sql_for("org_code = ?1 ORDER BY id LIMIT 1"), [o.as_str()], raw_subject)
                }
                SubjectKey::Identifier(Identifier::ResidentId(r)) => {
                    conn.query_row(&sql_for("rid_hash = ?1"), [self.vault.lookup_hash(r.as_str())], raw_subject)
                }
            }
            .optional()
            .map_err(db_err)?;
            raw.map(|raw| self.subject_from_raw(conn, raw)).transpose()
        })
    }

    fn records_of(&self, subject_id: i64) -> Result<Vec<Record>> {
        self.read(|conn| {
            let sql = format!(
                "SELECT {RECORD_COLUMNS} FROM records WHERE subject_id = ?1 ORDER BY record_date DESC, id DESC"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            let mut rows = stmt.query([subject_id]).map_err(db_err)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(db_err)? {
                out.push(self.record_from_row(row)?);
            }
            Ok(out)
        })
    }

    fn record(&self, id: i64) -> Result<Option<Record>> {
        self.read(|conn| {
            let sql = format!("SELECT {RECORD_COLUMNS} FROM records WHERE id = ?1");
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            let mut rows = stmt.query([id]).map_err(db_err)?;
            match rows.next().map_err(db_err)? {
                Some(row) => Ok(Some(self.record_from_row(row)?)),
                None => Ok(None),
            }
        })
    }

    fn record_history(&self, id: i64) -> Result<Vec<RecordVersion>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT version, fields, secret, batch_id, superseded_at FROM record_versions
                     WHERE record_id = ?1 ORDER BY version",
                )
                .map_err(db_err)?;
            let mut rows = stmt.query(params![id]).map_err(db_err)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(db_err)? {
                out.push(RecordVersion {
                    version: r.get(0).map_err(db_err)?,
                    fields: xinyong_store::field_codes::merge(
                        &self.vault,
                        &r.get::<_, String>(1).map_err(db_err)?,
                        r.get(2).map_err(db_err)?,
                    )?,
                    batch: r.get(3).map_err(db_err)?,
                    superseded_at: time(&r.get::<_, String>(4).map_err(db_err)?)?,
                });
            }
            Ok(out)
        })
    }

    fn subject_count(&self) -> Result<u64> {
        self.read(|conn| {
            conn.query_row("SELECT count(*) FROM subjects", [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(db_err)
        })
    }
}

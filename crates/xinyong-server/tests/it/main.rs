//! The real server on a random port over a fresh store, driven over HTTP. The same tests are built
//! twice (Cargo.toml): `it` runs them on SQLite, `it_pg` on PostgreSQL, a database per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod batches;
mod evaluation;
mod joint;
mod limits;
mod privacy;
mod push;
mod reports;
mod service;
mod web;
mod workflows;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate};
use reqwest::StatusCode;
use serde_json::Value;
use xinyong_domain::access::Role;
use xinyong_domain::ids::Identifier;
use xinyong_domain::record::{RecordDraft, RecordHead};
use xinyong_domain::subject::{SubjectClaim, SubjectKind};
use xinyong_server::{FixedClock, Settings};
use xinyong_store::access::{NewAccount, new_token, token_hash};
use xinyong_store::conformance::{company, install_default, person};
use xinyong_store::{BatchMeta, BatchReport, BatchStatus, PreparedRecord, Store, SubjectKey};
use xinyong_store_pg::PgStore;
use xinyong_store_pg::scratch::ScratchDatabase;
use xinyong_store_sqlite::SqliteStore;

pub const NOW: &str = "2026-11-23T10:00:00+08:00";

pub struct TestApp {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    /// On PostgreSQL, this test's database (dropped after the store).
    _db: Option<ScratchDatabase>,
}

/// Runs blocking store work off the test's async runtime: the PostgreSQL client drives its own small
/// runtime and may not block a thread that drives async tasks (the server itself calls the store from
/// `spawn_blocking` threads).
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

/// Which backend this test binary runs on: the name of the test target (see Cargo.toml).
pub fn on_postgres() -> bool {
    env!("CARGO_CRATE_NAME") == "it_pg"
}

/// Starts a server over `store` on a free local port, its clock standing still at `now`; its base URL.
async fn serve(
    store: Arc<dyn Store>,
    mut settings: Settings,
    now: DateTime<FixedOffset>,
    keyring: Option<Arc<xinyong_store::keyring::Keyring>>,
) -> String {
    settings.listen = "127.0.0.1:0".parse().unwrap();
    let listener = tokio::net::TcpListener::bind(settings.listen).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = xinyong_server::app_state(store, settings, Arc::new(FixedClock(now)), keyring).unwrap();
    tokio::spawn(xinyong_server::serve(listener, state, std::future::pending()));
    base
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Settings::default()).await
    }

    /// A server whose clock stands still at `now` (RFC 3339).
    pub async fn spawn_at(now: &str) -> TestApp {
        TestApp::start(Settings::default(), now).await
    }

    pub async fn spawn_with(settings: Settings) -> TestApp {
        TestApp::start(settings, NOW).await
    }

    async fn start(settings: Settings, now: &str) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let (store, db): (Arc<dyn Store>, _) = off_runtime(|| {
            let (store, db): (Arc<dyn Store>, _) = if on_postgres() {
                let db = ScratchDatabase::create().unwrap_or_else(|e| panic!("{e}"));
                (Arc::new(PgStore::create(db.url(), &dir.path().join("data"), false).unwrap()), Some(db))
            } else {
                (Arc::new(SqliteStore::create(&dir.path().join("data"), false).unwrap()), None)
            };
            install_default(&*store).unwrap();
            (store, db)
        });
        let clock = DateTime::parse_from_rfc3339(now).unwrap();
        let keyring = off_runtime(|| {
            xinyong_store::keyring::Keyring::create(&dir.path().join("data").join("keys"), clock).unwrap()
        });
        let base = serve(Arc::clone(&store), settings, clock, Some(Arc::new(keyring))).await;
        TestApp { base, store, client: reqwest::Client::new(), _dir: dir, _db: db }
    }

    /// A second server over the same store, with its own memory (as behind a load balancer).
    pub async fn beside(&self, settings: Settings) -> TestApp {
        let base = serve(Arc::clone(&self.store), settings, DateTime::parse_from_rfc3339(NOW).unwrap(), None).await;
        let (store, dir) = (Arc::clone(&self.store), tempfile::tempdir().unwrap());
        TestApp { base, store, client: reqwest::Client::new(), _dir: dir, _db: None }
    }

    /// Creates an account and returns its token.
    pub fn account(&self, name: &str, role: Role, unit: Option<&str>, subject_id: Option<i64>) -> String {
        let token = new_token();
        let new = NewAccount {
            name: name.to_owned(),
            unit: unit.map(str::to_owned),
            role,
            subject_id,
            token_hash: token_hash(&token),
            created_at: DateTime::parse_from_rfc3339(NOW).unwrap(),
        };
        off_runtime(|| self.store.create_account(&new).unwrap());
        token
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get_text(&self, path: &str, token: Option<&str>) -> (StatusCode, String) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    pub fn subject_id(&self, claim: &SubjectClaim) -> i64 {
        off_runtime(|| self.store.find_subject(&SubjectKey::Identifier(claim.id.clone())).unwrap().unwrap().id)
    }

    /// Files one record of `item` about `subject` with the given fields, as unit `unit`.
    pub fn file(
        &self,
        unit: &str,
        item: &str,
        key: &str,
        subject: Option<SubjectClaim>,
        date: NaiveDate,
        fields: &[(&str, &str)],
    ) {
        off_runtime(|| self.file_blocking(unit, item, key, subject, date, fields));
    }

    fn file_blocking(
        &self,
        unit: &str,
        item: &str,
        key: &str,
        subject: Option<SubjectClaim>,
        date: NaiveDate,
        fields: &[(&str, &str)],
    ) {
        let catalog = self.store.load_catalog().unwrap();
        let it = catalog.item(item).unwrap();
        let mut public = BTreeMap::new();
        let mut secret = BTreeMap::new();
        for (k, v) in fields {
            let masked = it.field(k).is_some_and(|f| f.masked);
            if masked {
                secret.insert((*k).to_owned(), (*v).to_owned())
            } else {
                public.insert((*k).to_owned(), (*v).to_owned())
            };
        }
        let regimes = xinyong_domain::disclosure::Regimes::default_regimes().unwrap();
        let public_until = if it.publication == xinyong_domain::catalog::Publication::Penalty {
            regimes.window(it.severity, date).map(|w| w.max_end)
        } else {
            None
        };
        let head = RecordHead {
            row: 2,
            source_key: key.to_owned(),
            date,
            end_date: None,
            severity: it.severity,
            published: true,
            public_until,
            subject,
        };
        let draft = RecordDraft { head, fields: public, secret_fields: secret };
        let prepared = PreparedRecord::new(draft, self.store.vault()).unwrap();
        let started = DateTime::parse_from_rfc3339(NOW).unwrap();
        let id = format!("b-test-{key}");
        let mut w = self
            .store
            .begin_batch(BatchMeta {
                id: id.clone(),
                unit: unit.to_owned(),
                item: item.to_owned(),
                item_version: 1,
                file_name: None,
                all_or_nothing: false,
                started_at: started,
            })
            .unwrap();
        w.write(&[prepared]).unwrap();
        w.commit(&BatchReport {
            batch: id,
            unit: unit.to_owned(),
            item: item.to_owned(),
            item_version: 1,
            status: BatchStatus::Committed,
            format: "csv".into(),
            encoding: "utf-8".into(),
            file_name: None,
            rows: 1,
            accepted: 1,
            rejected: 0,
            created: 1,
            updated: 0,
            unchanged: 0,
            linked: 1,
            errors: vec![],
            warnings: vec![],
            started_at: started,
            finished_at: started,
        })
        .unwrap();
    }
}

/// A company with a penalty, a licence, a dishonest-debtor entry, an authorised-only tax arrears
/// record and a government-only social insurance record; and a natural person with a penalty.
pub struct Seeded {
    pub company: SubjectClaim,
    pub person: SubjectClaim,
    pub person_id: String,
}

pub fn seed(app: &TestApp) -> Seeded {
    let company = company(1);
    let uscc = company.id.as_str().to_owned();
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    app.file(
        "sh_amr",
        "admin_penalty",
        "沪罚〔2026〕1号",
        Some(company.clone()),
        d(2026, 5, 6),
        &[
            ("party_name", &company.name),
            ("uscc", &uscc),
            ("decision_number", "沪罚〔2026〕1号"),
            ("penalty_content", "罚款1万元"),
            ("decision_date", "2026-05-06"),
            ("authority", "上海市市场监督管理局"),
        ],
    );
    app.file(
        "sh_amr",
        "admin_license",
        "沪许〔2025〕9号",
        Some(company.clone()),
        d(2025, 1, 2),
        &[
            ("party_name", &company.name),
            ("uscc", &uscc),
            ("decision_number", "沪许〔2025〕9号"),
            ("document_name", "准予许可决定书"),
            ("license_content", "食品经营"),
            ("decision_date", "2025-01-02"),
            ("authority", "上海市市场监督管理局"),
        ],
    );
    app.file(
        "sh_court",
        "list_dishonest_debtor",
        "（2026）沪0115执1号",
        Some(company.clone()),
        d(2026, 2, 1),
        &[
            ("subject_name", &company.name),
            ("uscc", &uscc),
            ("document_number", "（2026）沪0115执1号"),
            ("reason", "有履行能力而拒不履行"),
            ("start_date", "2026-02-01"),
            ("authority", "浦东新区人民法院"),
        ],
    );
    app.file(
        "sh_tax",
        "tax_arrears",
        "沪税欠〔2026〕7号",
        Some(company.clone()),
        d(2026, 3, 1),
        &[
            ("subject_name", &company.name),
            ("uscc", &uscc),
            ("document_number", "沪税欠〔2026〕7号"),
            ("amount", "12.5"),
            ("start_date", "2026-03-01"),
            ("authority", "国家税务总局上海市浦东新区税务局"),
        ],
    );
    app.file(
        "sh_hrss",
        "social_insurance_arrears",
        "沪社欠〔2026〕3号",
        Some(company.clone()),
        d(2026, 4, 1),
        &[
            ("subject_name", &company.name),
            ("uscc", &uscc),
            ("document_number", "沪社欠〔2026〕3号"),
            ("amount", "3"),
            ("start_date", "2026-04-01"),
            ("authority", "上海市社会保险事业管理中心"),
        ],
    );
    let person = person(5, "张三丰");
    let Identifier::ResidentId(rid) = &person.id else { unreachable!() };
    let person_id = rid.as_str().to_owned();
    app.file(
        "sh_amr",
        "admin_penalty",
        "沪罚〔2026〕2号",
        Some(person.clone()),
        d(2026, 6, 1),
        &[
            ("party_name", "张三丰"),
            ("party_kind", "自然人"),
            ("id_type", "身份证"),
            ("id_number", &person_id),
            ("decision_number", "沪罚〔2026〕2号"),
            ("penalty_content", "警告"),
            ("decision_date", "2026-06-01"),
            ("authority", "上海市市场监督管理局"),
        ],
    );
    assert_eq!(person.kind, SubjectKind::NaturalPerson);
    Seeded { company, person, person_id }
}

//! `xinyong report KEY --format pdf|html|json -o FILE [--special --domains D,… --from --to]`: issues a
//! report as the platform's operator at the console. It goes through the server's issuing code — same
//! rules, same masking, same query log (channel `cli`) — and is stored like one issued over the API.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::json;
use xinyong_report::model::ReportKind;
use xinyong_report::sign::Format;
use xinyong_server::reports::{IssueRequest, issue, render};
use xinyong_server::{FixedClock, Settings};
use xinyong_store::Store;
use xinyong_store::keyring::Keyring;

use crate::args::Global;
use crate::context::{console_caller, now, open_store, print_json};
use crate::{CmdResult, Failure};

pub struct Args {
    pub key: String,
    pub format: String,
    pub out: PathBuf,
    pub special: bool,
    pub domains: Vec<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub purpose: Option<String>,
}

fn date(flag: &str, value: Option<&str>) -> Result<Option<NaiveDate>, Failure> {
    value
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|e| Failure::usage(format!("{flag} {v:?}: expected YYYY-MM-DD ({e})")))
        })
        .transpose()
}

pub fn run(g: &Global, a: Args) -> CmdResult {
    let format = Format::parse(&a.format)
        .ok_or_else(|| Failure::usage(format!("--format {:?}: expected pdf, html or json", a.format)))?;
    if !a.special && (!a.domains.is_empty() || a.from.is_some() || a.to.is_some()) {
        return Err(Failure::usage("--domains, --from and --to belong to a special report: add --special"));
    }
    let req = IssueRequest {
        subject: a.key.clone(),
        kind: if a.special { ReportKind::Special } else { ReportKind::Standard },
        domains: a.domains.clone(),
        from: date("--from", a.from.as_deref())?,
        to: date("--to", a.to.as_deref())?,
        purpose: a.purpose.clone(),
    };
    let store: Arc<dyn Store> = Arc::from(open_store(g)?);
    let now = now(g)?;
    let keyring = Keyring::open(&g.data.join("keys"))
        .map_err(|e| Failure::failed(format!("the platform's signing keys: {e} (made by `xinyong init`)")))?;
    let settings = Settings::load(None, |k| std::env::var(k).ok()).map_err(Failure::usage)?;
    let state = xinyong_server::app_state(store, settings, Arc::new(FixedClock(now)), Some(Arc::new(keyring)))
        .map_err(Failure::failed)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(Failure::failed)?;
    let caller = console_caller(now);
    let (stored, bytes) = runtime
        .block_on(async {
            let stored = issue(&state, &caller, req).await?;
            let bytes = render(&state, &stored, format).await?;
            Ok::<_, xinyong_server::error::ApiError>((stored, bytes))
        })
        .map_err(|e| Failure { code: if e.status.as_u16() == 400 { 2 } else { 1 }, message: e.message })?;
    std::fs::write(&a.out, &bytes).map_err(|e| Failure::failed(format!("{}: {e}", a.out.display())))?;
    if g.json {
        return print_json(&json!({
            "id": stored.id,
            "number": stored.number,
            "kind": stored.kind,
            "subject": stored.subject_id,
            "issued_at": stored.issued_at.to_rfc3339(),
            "format": format.extension(),
            "file": a.out.display().to_string(),
            "bytes": bytes.len(),
        }));
    }
    println!(
        "report {} ({}) issued {} → {} ({} bytes)",
        stored.number,
        stored.kind,
        stored.issued_at.to_rfc3339(),
        a.out.display(),
        bytes.len()
    );
    Ok(())
}

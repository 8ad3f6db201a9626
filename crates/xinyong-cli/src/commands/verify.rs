//! `xinyong verify FILE [--keys KEYS.json]`: checks a report file offline. Exit 0 and its number,
//! subject, kind and issue time when authentic; exit 1 when any byte changed or the key is not the
//! platform's. Keys: `--keys` (a saved `GET /api/v1/keys` answer or a `signing-keys.json`), else the
//! data folder's, else only the public key the file carries (said so on stderr).

use std::path::Path;

use serde_json::json;
use xinyong_report::sign::verify;
use xinyong_store::keyring::KeyInfo;

use crate::args::Global;
use crate::context::print_json;
use crate::{CmdResult, Failure};

fn read_keys(path: &Path) -> Result<Vec<KeyInfo>, Failure> {
    let text = std::fs::read(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    #[derive(serde::Deserialize)]
    struct Published {
        keys: Vec<KeyInfo>,
    }
    serde_json::from_slice::<Published>(&text)
        .map(|p| p.keys)
        .or_else(|_| serde_json::from_slice::<Vec<KeyInfo>>(&text))
        .map_err(|e| Failure::usage(format!("{}: not a list of public keys: {e}", path.display())))
}

pub fn run(g: &Global, file: &Path, keys: Option<&Path>) -> CmdResult {
    let bytes = std::fs::read(file).map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
    let local = g.data.join("keys").join("signing-keys.json");
    let keys = match keys {
        Some(path) => Some(read_keys(path)?),
        None if local.is_file() => Some(read_keys(&local)?),
        None => None,
    };
    match verify(&bytes, keys.as_deref()) {
        Ok(v) => {
            if !v.key_checked {
                eprintln!(
                    "note: no platform keys at hand (--keys or --data): checked against the key the file carries"
                );
            }
            if g.json {
                return print_json(&json!({
                    "valid": true,
                    "number": v.number,
                    "subject": v.subject,
                    "kind": v.kind,
                    "issued_at": v.issued_at,
                    "format": v.format.extension(),
                    "key_id": v.key_id,
                    "key_checked": v.key_checked,
                }));
            }
            println!("valid\t{}\t{}\t{}\t{}", v.number, v.subject, v.kind, v.issued_at);
            Ok(())
        }
        Err(e) => {
            if g.json {
                print_json(&json!({ "valid": false, "reason": e.to_string() }))?;
            }
            Err(Failure::failed(format!("{}: not an authentic report: {e}", file.display())))
        }
    }
}

//! `xinyong keys list|rotate`: the report-signing keys in the data folder's `keys/`. Rotating ends the
//! current key's validity but keeps it published, so reports it signed still verify.

use serde_json::json;
use xinyong_store::keyring::Keyring;

use crate::args::{Global, KeysCommand};
use crate::context::{now, print_json};
use crate::{CmdResult, Failure};

pub fn run(g: &Global, command: KeysCommand) -> CmdResult {
    let dir = g.data.join("keys");
    let mut ring = Keyring::open(&dir).map_err(|e| Failure::failed(format!("{e} (made by `xinyong init`)")))?;
    if let KeysCommand::Rotate = command {
        let new = ring.rotate(now(g)?)?;
        if !g.json {
            println!("new signing key {} valid from {}", new.key_id, new.valid_from.to_rfc3339());
        }
    }
    if g.json {
        return print_json(&json!({ "keys": ring.public_keys() }));
    }
    for k in ring.public_keys() {
        let until = k.valid_until.map_or("current".to_owned(), |t| format!("until {}", t.to_rfc3339()));
        let retired = if k.retired { " retired" } else { "" };
        println!("{}\tfrom {}\t{until}{retired}", k.key_id, k.valid_from.to_rfc3339());
    }
    Ok(())
}

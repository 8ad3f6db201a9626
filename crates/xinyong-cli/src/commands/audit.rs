//! `xinyong audit verify|checkpoint`.

use xinyong_store::audit_verify::{make_checkpoint, verify_audit};
use xinyong_store::keyring::Keyring;

use crate::args::{AuditCommand, Global};
use crate::context::{now, open_store, print_json};
use crate::{CmdResult, Failure};

pub fn run(g: &Global, command: AuditCommand) -> CmdResult {
    let store = open_store(g)?;
    let keyring = Keyring::open(&g.data.join("keys"))?;
    match command {
        AuditCommand::Verify => {
            let report = verify_audit(&*store, keyring.public_keys())?;
            if g.json {
                print_json(&report)?;
            } else {
                println!(
                    "{} entries, {} signed checkpoints, head #{} {}",
                    report.entries, report.checkpoints, report.head_seq, report.head_hash
                );
                for p in &report.problems {
                    println!("  problem: {p}");
                }
            }
            if report.is_intact() {
                Ok(())
            } else {
                Err(Failure::failed(format!("the audit trail is not intact: {} problem(s)", report.problems.len())))
            }
        }
        AuditCommand::Checkpoint => {
            let made = make_checkpoint(&*store, &keyring, now(g)?)?;
            match (&made, g.json) {
                (_, true) => print_json(&made),
                (Some(cp), false) => {
                    println!("checkpoint #{} signed with key {}", cp.seq, cp.key_id);
                    Ok(())
                }
                (None, false) => {
                    println!("nothing new to sign");
                    Ok(())
                }
            }
        }
    }
}

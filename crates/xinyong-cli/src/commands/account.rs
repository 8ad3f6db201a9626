//! `xinyong account add|list|password`.

use serde_json::json;
use xinyong_domain::access::Role;
use xinyong_domain::ids::classify;
use xinyong_store::access::{NewAccount, new_token, token_hash};
use xinyong_store::{Store, SubjectKey};

use crate::args::{AccountCommand, Global};
use crate::context::{now, open_store, print_json};
use crate::{CmdResult, Failure};

pub fn run(g: &Global, command: AccountCommand) -> CmdResult {
    let store = open_store(g)?;
    match command {
        AccountCommand::Add { name, unit, role, subject } => {
            let role = Role::parse(&role).filter(|r| *r != Role::Public).ok_or_else(|| {
                Failure::usage(format!("--role {role}: use admin, supplier, department, market or subject"))
            })?;
            let (account, token) = create_account(g, &*store, &name, unit.as_deref(), role, subject.as_deref())?;
            if g.json {
                return print_json(&json!({ "account": account, "token": token }));
            }
            println!("account {} ({}) created; its API token, shown only this once:", account.name, role.as_str());
            println!("{token}");
            Ok(())
        }
        AccountCommand::Password { name } => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map_err(Failure::failed)?;
            let password = line.trim_end_matches(['\r', '\n']);
            set_password(g, &*store, &name, password)?;
            if g.json {
                return print_json(&json!({ "account": name, "password_set": true }));
            }
            println!("password of {name} set; its open sessions were ended");
            Ok(())
        }
        AccountCommand::List => {
            let accounts = store.accounts()?;
            if g.json {
                return print_json(&json!({ "accounts": accounts }));
            }
            for a in accounts {
                println!("{:<5} {:<24} {:<11} {}", a.id, a.name, a.role.as_str(), a.unit.unwrap_or_default());
            }
            Ok(())
        }
    }
}

/// Sets an account's sign-in password after checking it against the portal's rules.
pub fn set_password(g: &Global, store: &dyn Store, name: &str, password: &str) -> Result<(), Failure> {
    use xinyong_server::web::session::{hash_password, password_problem};
    let creds = store.credentials(name)?.ok_or_else(|| Failure::failed(format!("no account named {name}")))?;
    if let Some(problem) = password_problem(name, password) {
        return Err(Failure::usage(problem));
    }
    let hash = hash_password(password).map_err(|e| Failure::failed(e.message))?;
    store.set_password(creds.account.id, &hash, now(g)?)?;
    Ok(())
}

/// Creates an account and returns it with its token (shared with `init` and `demo`).
pub fn create_account(
    g: &Global,
    store: &dyn Store,
    name: &str,
    unit: Option<&str>,
    role: Role,
    subject: Option<&str>,
) -> Result<(xinyong_store::access::Account, String), Failure> {
    let now = now(g)?;
    if let Some(u) = unit
        && !store.load_catalog()?.units.iter().any(|x| x.code == u)
    {
        return Err(Failure::failed(format!("unit {u} is not registered (xinyong unit add)")));
    }
    if matches!(role, Role::Supplier | Role::Department | Role::Market) && unit.is_none() {
        return Err(Failure::usage(format!("a {} account needs --unit", role.as_str())));
    }
    let subject_id = match (role, subject) {
        (Role::Subject, None) => return Err(Failure::usage("a subject account needs --subject KEY")),
        (Role::Subject, Some(key)) => {
            let c = classify(key, now.date_naive());
            let id = c.result.map_err(|e| Failure::usage(format!("--subject {key}: {}", e.code())))?;
            let found = store.find_subject(&SubjectKey::Identifier(id))?;
            Some(found.ok_or_else(|| Failure::failed(format!("no subject {key} on this platform")))?.id)
        }
        (_, Some(_)) => return Err(Failure::usage("--subject is only for the subject role")),
        (_, None) => None,
    };
    let token = new_token();
    let account = store.create_account(&NewAccount {
        name: name.to_owned(),
        unit: unit.map(str::to_owned),
        role,
        subject_id,
        token_hash: token_hash(&token),
        created_at: now,
    })?;
    Ok((account, token))
}

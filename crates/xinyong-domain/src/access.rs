//! Who may see what, for which purpose (DOMAIN.md §9). Pure rules; the server applies them in one
//! place and logs every decision.
//!
//! | role | purposes | openness seen | personal data |
//! |---|---|---|---|
//! | admin | all | all | full |
//! | department (using unit) | the government scenarios | public, authorised, government | full |
//! | market (bank, credit firm) | 授权查询 | public; authorised only under the subject's unexpired authorisation | masked |
//! | subject | 本人查询 (own data only) | all of its own | full (its own) |
//! | supplier | none: suppliers file data, they do not query profiles | — | — |
//! | public | none: public endpoints need no purpose | public | masked |

use serde::{Deserialize, Serialize};

use crate::catalog::Openness;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Supplier,
    Department,
    Market,
    Subject,
    Public,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Admin, Role::Supplier, Role::Department, Role::Market, Role::Subject, Role::Public];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supplier => "supplier",
            Role::Department => "department",
            Role::Market => "market",
            Role::Subject => "subject",
            Role::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "平台管理员",
            Role::Supplier => "数据提供单位",
            Role::Department => "使用单位",
            Role::Market => "市场机构",
            Role::Subject => "信用主体",
            Role::Public => "社会公众",
        }
    }
}

/// A purpose (应用场景) that every profile query must name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Approval,
    Supervision,
    Procurement,
    Bidding,
    Commendation,
    Funding,
    Employment,
    Penalty,
    Repair,
    #[serde(rename = "self")]
    SelfQuery,
    Authorised,
}

const PURPOSES: [(Purpose, &str, &str); 11] = [
    (Purpose::Approval, "approval", "行政审批"),
    (Purpose::Supervision, "supervision", "日常监管"),
    (Purpose::Procurement, "procurement", "政府采购"),
    (Purpose::Bidding, "bidding", "招标投标"),
    (Purpose::Commendation, "commendation", "表彰评优"),
    (Purpose::Funding, "funding", "资金支持"),
    (Purpose::Employment, "employment", "录用晋升"),
    (Purpose::Penalty, "penalty", "行政处罚"),
    (Purpose::Repair, "repair", "信用修复"),
    (Purpose::SelfQuery, "self", "本人查询"),
    (Purpose::Authorised, "authorised", "授权查询"),
];

impl Purpose {
    /// Accepts the code or the Chinese name (CONTRACT.md §4).
    pub fn parse(s: &str) -> Option<Purpose> {
        let s = s.trim();
        PURPOSES.iter().find(|(_, code, label)| *code == s || *label == s).map(|(p, _, _)| *p)
    }

    pub fn code(self) -> &'static str {
        PURPOSES.iter().find(|(p, _, _)| *p == self).map(|(_, c, _)| *c).unwrap_or("")
    }

    pub fn label(self) -> &'static str {
        PURPOSES.iter().find(|(p, _, _)| *p == self).map(|(_, _, l)| *l).unwrap_or("")
    }

    pub fn all() -> impl Iterator<Item = Purpose> {
        PURPOSES.iter().map(|(p, _, _)| *p)
    }

    /// The government scenarios a using unit may name.
    pub fn is_government(self) -> bool {
        !matches!(self, Purpose::SelfQuery | Purpose::Authorised)
    }
}

/// May this role query a profile for this purpose?
pub fn may_use_purpose(role: Role, purpose: Purpose) -> bool {
    match role {
        Role::Admin => true,
        Role::Department => purpose.is_government(),
        Role::Market => purpose == Purpose::Authorised,
        Role::Subject => purpose == Purpose::SelfQuery,
        Role::Supplier | Role::Public => false,
    }
}

/// May this caller see an item of this openness? `authorised`: a market institution holds the
/// subject's unexpired authorisation covering it; `own`: a subject looks at itself.
pub fn may_see(role: Role, openness: Openness, authorised: bool, own: bool) -> bool {
    match (role, openness) {
        (_, Openness::Public) => true,
        (Role::Admin | Role::Department, _) => true,
        (Role::Subject, _) => own,
        (Role::Market, Openness::Authorised) => authorised,
        _ => false,
    }
}

/// How personal data (resident IDs, natural persons' names, masked fields) is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    Full,
    Masked,
}

pub fn personal_view(role: Role, own: bool) -> View {
    match role {
        Role::Admin | Role::Department => View::Full,
        Role::Subject if own => View::Full,
        _ => View::Masked,
    }
}

/// Through which door a query came (the query log's `channel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Api,
    Web,
    Cli,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Api => "api",
            Channel::Web => "web",
            Channel::Cli => "cli",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_parse_by_code_and_chinese_name() {
        assert_eq!(Purpose::parse("supervision"), Some(Purpose::Supervision));
        assert_eq!(Purpose::parse("日常监管"), Some(Purpose::Supervision));
        assert_eq!(Purpose::parse("self"), Some(Purpose::SelfQuery));
        assert_eq!(Purpose::parse("本人查询"), Some(Purpose::SelfQuery));
        assert_eq!(Purpose::parse("gossip"), None);
    }

    #[test]
    fn a_bank_may_only_query_under_authorisation() {
        assert!(may_use_purpose(Role::Market, Purpose::Authorised));
        assert!(!may_use_purpose(Role::Market, Purpose::Supervision));
        assert!(!may_see(Role::Market, Openness::Authorised, false, false));
        assert!(may_see(Role::Market, Openness::Authorised, true, false));
        assert!(!may_see(Role::Market, Openness::Government, true, false));
    }

    #[test]
    fn departments_query_for_government_scenarios_only() {
        assert!(may_use_purpose(Role::Department, Purpose::Approval));
        assert!(!may_use_purpose(Role::Department, Purpose::SelfQuery));
        assert!(may_see(Role::Department, Openness::Government, false, false));
    }

    #[test]
    fn suppliers_and_the_public_do_not_query_profiles() {
        for p in Purpose::all() {
            assert!(!may_use_purpose(Role::Supplier, p));
            assert!(!may_use_purpose(Role::Public, p));
        }
    }

    #[test]
    fn personal_data_is_masked_for_market_and_public() {
        assert_eq!(personal_view(Role::Market, false), View::Masked);
        assert_eq!(personal_view(Role::Public, false), View::Masked);
        assert_eq!(personal_view(Role::Subject, false), View::Masked);
        assert_eq!(personal_view(Role::Subject, true), View::Full);
    }
}

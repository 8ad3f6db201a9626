//! Credit subjects (信用主体): legal persons and unincorporated organisations, individual businesses,
//! natural persons.

use serde::{Deserialize, Serialize};

use crate::ids::{Identifier, Uscc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// 法人及非法人组织
    LegalPerson,
    /// 个体工商户
    IndividualBusiness,
    /// 自然人
    NaturalPerson,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::LegalPerson => "legal_person",
            SubjectKind::IndividualBusiness => "individual_business",
            SubjectKind::NaturalPerson => "natural_person",
        }
    }

    pub fn parse(s: &str) -> Option<SubjectKind> {
        match s {
            "legal_person" | "法人及非法人组织" | "法人" | "非法人组织" => {
                Some(SubjectKind::LegalPerson)
            }
            "individual_business" | "个体工商户" => Some(SubjectKind::IndividualBusiness),
            "natural_person" | "自然人" => Some(SubjectKind::NaturalPerson),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SubjectKind::LegalPerson => "法人及非法人组织",
            SubjectKind::IndividualBusiness => "个体工商户",
            SubjectKind::NaturalPerson => "自然人",
        }
    }

    /// The kind a USCC alone implies.
    pub fn of_uscc(uscc: &Uscc) -> SubjectKind {
        if uscc.is_individual_business() { SubjectKind::IndividualBusiness } else { SubjectKind::LegalPerson }
    }
}

/// What a row says about its subject, after validation: the identifier it is linked by and a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectClaim {
    pub kind: SubjectKind,
    pub id: Identifier,
    pub name: String,
}

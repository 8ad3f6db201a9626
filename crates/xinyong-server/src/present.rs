//! Presentation of subjects and records to a caller — the ONE place where personal data is masked.
//!
//! With [`View::Masked`], resident IDs become `310***********1234`, natural persons' names `张*`, and
//! every field the catalog marks `masked` is masked; with [`View::Full`] nothing is. Every endpoint
//! that returns subject data builds it through a [`Presenter`], so masking cannot be forgotten.
//! Record status and public visibility are computed here at the moment of the request: a penalty past
//! its window is `expired` and not public whether or not any job has run.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;
use xinyong_domain::access::{Role, View};
use xinyong_domain::catalog::{Catalog, CatalogItem, FieldType, ListKind, Openness};
use xinyong_domain::ids::ResidentId;
use xinyong_domain::masking::{mask_name, mask_personal_value, mask_resident_id};
use xinyong_domain::record::RecordStatus;
use xinyong_domain::subject::SubjectKind;
use xinyong_domain::workflow::provided_until;
use xinyong_store::search::SearchHit;
use xinyong_store::{Record, Subject};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectView {
    pub id: i64,
    #[schema(value_type = String)]
    pub kind: SubjectKind,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resident_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordView {
    pub id: i64,
    pub item: String,
    pub item_name: String,
    pub category: String,
    pub date: NaiveDate,
    pub status: String,
    pub public: bool,
    pub disputed: bool,
    pub severity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_until: Option<NaiveDate>,
    /// A penalty's disclosure window under the regime of its decision date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<crate::policy::WindowView>,
    pub unit: String,
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListView {
    pub list: String,
    pub name: String,
    pub kind: String,
    pub from: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    pub record: i64,
}

pub struct Presenter<'a> {
    pub catalog: &'a Catalog,
    pub view: View,
    pub today: NaiveDate,
}

impl Presenter<'_> {
    pub fn subject(&self, s: &Subject) -> SubjectView {
        self.subject_view(s.id, s.kind, &s.name, s.uscc.as_deref(), s.resident_id.as_ref())
    }

    pub fn hit(&self, h: &SearchHit) -> SubjectView {
        self.subject_view(h.subject_id, h.kind, &h.name, h.uscc.as_deref(), h.resident_id.as_ref())
    }

    fn subject_view(
        &self,
        id: i64,
        kind: SubjectKind,
        name: &str,
        uscc: Option<&str>,
        resident_id: Option<&ResidentId>,
    ) -> SubjectView {
        let masked = self.view == View::Masked;
        let natural = kind == SubjectKind::NaturalPerson;
        SubjectView {
            id,
            kind,
            name: if natural && masked { mask_name(name) } else { name.to_owned() },
            uscc: uscc.map(str::to_owned),
            resident_id: resident_id.map(|r| if masked { r.masked() } else { r.as_str().to_owned() }),
        }
    }

    /// The status at this moment: an active record past its window is `expired`, and so is dishonesty
    /// information five years after the conduct ended (art. 35: no longer provided).
    pub fn status(&self, r: &Record) -> RecordStatus {
        match (r.status, r.public_until) {
            (RecordStatus::Active, Some(until)) if until <= self.today => RecordStatus::Expired,
            (RecordStatus::Active, _) if self.past_five_years(r) => RecordStatus::Expired,
            (s, _) => s,
        }
    }

    fn past_five_years(&self, r: &Record) -> bool {
        let dishonest = self.catalog.item(&r.item).is_some_and(|i| crate::policy::is_dishonesty(i, r.severity));
        dishonest && provided_until(r.end_date.unwrap_or(r.date)) <= self.today
    }

    /// Shown to the public right now: public openness and [`Presenter::is_current`].
    pub fn is_public(&self, r: &Record, item: Option<&CatalogItem>) -> bool {
        let open = item.is_some_and(|i| i.openness == Openness::Public);
        open && self.is_current(r)
    }

    /// In force and disclosed right now: published, active (not repaired, expired, revoked or deleted),
    /// decided, inside its window. What a credit report may carry, whatever its openness.
    pub fn is_current(&self, r: &Record) -> bool {
        r.published && self.in_force(r)
    }

    /// Active and decided, published or not: what a special report looks for in its period (a minor
    /// penalty decided by simplified procedure may never be published, yet it is a penalty).
    pub fn in_force(&self, r: &Record) -> bool {
        self.status(r) == RecordStatus::Active && r.date <= self.today
    }

    pub fn record(&self, r: &Record, disputed: bool) -> RecordView {
        let item = self.catalog.item(&r.item);
        RecordView {
            id: r.id,
            item: r.item.clone(),
            item_name: item.map(|i| i.name.clone()).unwrap_or_default(),
            category: item.map(|i| i.category.as_str().to_owned()).unwrap_or_default(),
            date: r.date,
            status: self.status(r).as_str().to_owned(),
            public: self.is_public(r, item),
            disputed,
            severity: r.severity.as_str().to_owned(),
            public_until: r.public_until,
            window: None,
            unit: r.unit.clone(),
            fields: self.fields(r, item),
        }
    }

    fn fields(&self, r: &Record, item: Option<&CatalogItem>) -> BTreeMap<String, String> {
        if self.view == View::Full {
            return r.fields.clone();
        }
        let Some(item) = item else {
            // An item no longer in the catalog: show nothing rather than risk personal data.
            return BTreeMap::new();
        };
        let natural = concerns_natural_person(r, item);
        let mut out = BTreeMap::new();
        for (key, value) in &r.fields {
            let field = item.field(key);
            let shown = if field.is_some_and(|f| f.masked) {
                mask_personal_value(value)
            } else if natural && *key == item.party.name {
                mask_name(value)
            } else if field.is_none_or(|f| f.field_type == FieldType::Text) && looks_like_resident_id(value) {
                // Belt and braces: a resident ID typed into a free-text field is masked too.
                mask_resident_id(value)
            } else {
                value.clone()
            };
            out.insert(key.clone(), shown);
        }
        out
    }

    /// A list entry of the subject, if the record is one.
    pub fn list_entry(&self, r: &Record) -> Option<ListView> {
        let item = self.catalog.item(&r.item)?;
        let kind = match item.list_kind {
            ListKind::None => return None,
            ListKind::Reward => "reward",
            ListKind::Punishment => "punishment",
        };
        Some(ListView {
            list: item.code.clone(),
            name: item.name.clone(),
            kind: kind.to_owned(),
            from: r.date,
            to: r.end_date,
            record: r.id,
        })
    }
}

/// Whether a record is shared with this caller at all. Deleted and revoked records leave every output;
/// a repaired one is no longer shared with departments or third parties (the subject still sees its
/// own, marked repaired). Admins see all.
pub fn shared_with(role: Role, own: bool, r: &Record) -> bool {
    let withdrawn = matches!(r.status, RecordStatus::Deleted | RecordStatus::Revoked);
    let repaired = r.status == RecordStatus::Repaired;
    role == Role::Admin || !(withdrawn || (repaired && !own))
}

fn concerns_natural_person(r: &Record, item: &CatalogItem) -> bool {
    let kind = item.party.kind.as_ref().and_then(|k| r.fields.get(k));
    match kind {
        Some(k) => SubjectKind::parse(k) == Some(SubjectKind::NaturalPerson),
        None => {
            let has_uscc = item.party.uscc.as_ref().is_some_and(|k| r.fields.contains_key(k));
            let has_id = item.party.id_number.as_ref().is_some_and(|k| r.fields.contains_key(k));
            has_id && !has_uscc
        }
    }
}

fn looks_like_resident_id(value: &str) -> bool {
    let far_future = NaiveDate::from_ymd_opt(2999, 12, 31).unwrap_or(NaiveDate::MAX);
    value.len() >= 15 && value.len() <= 18 && ResidentId::parse(value, far_future).is_ok()
}

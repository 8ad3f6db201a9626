//! Push of list changes to subscribed units (DOMAIN.md §6): an outbox, so nothing is lost when a
//! receiver or this server stops.
//!
//! Changes are facts already in the store (a committed batch of a list; a closed repair, revocation or
//! deleting objection on a list entry). [`OutboxStore::pump_list_changes`] turns each such fact not yet
//! fanned out into one delivery per subscription of its list, and marks the fact fanned out, in one
//! transaction: run it any number of times, after any crash, and every change is queued exactly once.
//! Deliveries are then attempted until the receiver answers 2xx, with backoff, and stay visible.

use serde::Serialize;

use crate::{Result, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subscription {
    pub id: i64,
    pub unit: String,
    pub url: String,
    /// The HMAC-SHA256 key of the `X-Xinyong-Signature` header.
    #[serde(skip_serializing)]
    pub secret: String,
    pub lists: Vec<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubscription {
    pub unit: String,
    pub url: String,
    pub secret: String,
    pub lists: Vec<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Given up after the last attempt (an admin may requeue it).
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        [DeliveryStatus::Pending, DeliveryStatus::Delivered, DeliveryStatus::Failed]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub subscription: i64,
    pub unit: String,
    pub url: String,
    /// The change: `batch:<id>` or `case:<id>`.
    pub change: String,
    pub payload: serde_json::Value,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Delivered,
    /// Try again at this moment.
    Retry {
        error: String,
        at: Timestamp,
    },
    GiveUp {
        error: String,
    },
}

pub trait OutboxStore {
    fn subscribe(&self, new: &NewSubscription) -> Result<Subscription>;

    /// Subscriptions, of one unit or all.
    fn subscriptions(&self, unit: Option<&str>) -> Result<Vec<Subscription>>;

    /// Queues every list change not yet fanned out (see the module documentation); `lists` are the
    /// catalog's list items. Returns how many deliveries were queued. A change goes to the subscriptions
    /// that exist when it is fanned out; while no unit subscribes at all, changes wait, so the first
    /// subscriber receives them (a later one starts from the lists' current state, `GET /lists/{list}`).
    fn pump_list_changes(&self, lists: &[String], now: Timestamp) -> Result<u64>;

    /// Pending deliveries due at `now`, oldest first, with their subscription's secret.
    fn due_deliveries(&self, now: Timestamp, limit: u32) -> Result<Vec<(Delivery, String)>>;

    fn record_attempt(&self, id: i64, attempt: &Attempt, now: Timestamp) -> Result<()>;

    /// Deliveries newest first, of one unit or all, optionally of one status.
    fn deliveries(&self, unit: Option<&str>, status: Option<DeliveryStatus>, limit: u32) -> Result<Vec<Delivery>>;
}

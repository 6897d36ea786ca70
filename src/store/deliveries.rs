//! Webhook deliveries as recorded: one row per attempt, so `daily_scan alerts deliveries`
//! shows what was sent where, when, and what came back. A webhook is recorded by its name and
//! its endpoint (scheme, host and port only): URLs and tokens may be secrets and never reach
//! the database.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::Serialize;

use super::{Store, StoreError};

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryOutcome {
    /// A 2xx answer.
    Delivered,
    /// Failed; another attempt follows.
    Retrying,
    /// Failed, and no attempt follows (last attempt, or an answer retrying cannot fix).
    Failed,
}

impl DeliveryOutcome {
    pub const ALL: [DeliveryOutcome; 3] = [
        DeliveryOutcome::Delivered,
        DeliveryOutcome::Retrying,
        DeliveryOutcome::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::Retrying => "retrying",
            DeliveryOutcome::Failed => "failed",
        }
    }
}

impl fmt::Display for DeliveryOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeliveryOutcome {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        DeliveryOutcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| format!("unknown delivery outcome {s:?}"))
    }
}

/// One attempt to deliver one run's alerts to one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryAttempt {
    /// The run whose alerts were sent (a plain id: retention may delete the snapshot).
    pub snapshot_id: i64,
    /// The webhook's `name` (or `webhook[i]`).
    pub webhook: String,
    /// `scheme://host:port` of the URL, nothing more.
    pub endpoint: String,
    pub format: String,
    /// Alerts in the payload.
    pub alerts: u32,
    /// 1, 2, 3...
    pub attempt: u32,
    pub attempted_at: Timestamp,
    /// The HTTP status, when an answer came.
    pub status_code: Option<u16>,
    pub outcome: DeliveryOutcome,
    /// Why it failed (never holding the URL or the token).
    pub error: Option<String>,
    /// The outbox row this attempt was for (`None` for a test send).
    pub outbox_id: Option<i64>,
}

/// Which deliveries [`Store::query_deliveries`] returns: newest first, at most `limit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    /// Only this webhook's or email's name.
    pub destination: Option<String>,
    pub outcome: Option<DeliveryOutcome>,
    pub limit: usize,
    /// Only attempts with a smaller id (the previous page's last id).
    pub before_id: Option<i64>,
}

/// A recorded attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub id: i64,
    #[serde(flatten)]
    pub attempt: DeliveryAttempt,
}

impl Store {
    /// Records one attempt; returns its id.
    pub fn record_delivery(&mut self, d: &DeliveryAttempt) -> Result<i64, StoreError> {
        self.db.record_delivery(d)
    }

    /// The latest `limit` attempts, newest first.
    pub fn list_deliveries(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        self.query_deliveries(&DeliveryFilter {
            limit,
            ..DeliveryFilter::default()
        })
    }

    /// The attempts `filter` keeps, newest first.
    pub fn query_deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError> {
        self.db
            .list_deliveries(filter)?
            .into_iter()
            .map(|r| {
                let id = r.id;
                let bad = |what: &str, v: &dyn fmt::Debug| {
                    self.corrupt(format!("delivery {id}: {what} {v:?}"))
                };
                Ok(Delivery {
                    id,
                    attempt: DeliveryAttempt {
                        snapshot_id: r.snapshot_id,
                        webhook: r.webhook,
                        endpoint: r.endpoint,
                        format: r.format,
                        alerts: u32::try_from(r.alerts).map_err(|_| bad("alerts", &r.alerts))?,
                        attempt: u32::try_from(r.attempt)
                            .map_err(|_| bad("attempt", &r.attempt))?,
                        attempted_at: self.timestamp(&r.attempted_at)?,
                        status_code: match r.status_code {
                            None => None,
                            Some(c) => Some(u16::try_from(c).map_err(|_| bad("status", &c))?),
                        },
                        outcome: r.outcome.parse().map_err(|_| bad("outcome", &r.outcome))?,
                        error: r.error,
                        outbox_id: r.outbox_id,
                    },
                })
            })
            .collect()
    }
}

/// The columns of a delivery as read, before they are checked; backends read them in this
/// order.
pub(super) struct RawDelivery {
    pub id: i64,
    pub snapshot_id: i64,
    pub webhook: String,
    pub endpoint: String,
    pub format: String,
    pub alerts: i64,
    pub attempt: i64,
    pub attempted_at: String,
    pub status_code: Option<i64>,
    pub outcome: String,
    pub error: Option<String>,
    pub outbox_id: Option<i64>,
}

#[cfg(test)]
mod tests;

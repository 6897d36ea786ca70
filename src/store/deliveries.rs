//! Webhook deliveries as recorded: one row per attempt, so `daily_scan alerts deliveries`
//! shows what was sent where, when, and what came back. A webhook is recorded by its name and
//! its endpoint (scheme, host and port only): URLs and tokens may be secrets and never reach
//! the database.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use rusqlite::params;
use serde::Serialize;

use super::rows::{parse_time, time_text};
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
        self.conn
            .execute(
                "INSERT INTO deliveries (snapshot_id, webhook, endpoint, format, alerts, attempt,
                                         attempted_at, status_code, outcome, error, outbox_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    d.snapshot_id,
                    d.webhook,
                    d.endpoint,
                    d.format,
                    d.alerts,
                    d.attempt,
                    time_text(d.attempted_at),
                    d.status_code,
                    d.outcome.as_str(),
                    d.error,
                    d.outbox_id
                ],
            )
            .map_err(|e| self.sql(e))?;
        Ok(self.conn.last_insert_rowid())
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
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, snapshot_id, webhook, endpoint, format, alerts, attempt,
                        attempted_at, status_code, outcome, error, outbox_id
                   FROM deliveries
                  WHERE (?2 IS NULL OR id < ?2) AND (?3 IS NULL OR webhook = ?3)
                    AND (?4 IS NULL OR outcome = ?4)
                  ORDER BY id DESC LIMIT ?1",
            )
            .map_err(|e| self.sql(e))?;
        let rows: Vec<RawDelivery> = stmt
            .query_map(
                params![
                    limit,
                    filter.before_id,
                    filter.destination,
                    filter.outcome.map(DeliveryOutcome::as_str)
                ],
                |r| {
                    Ok(RawDelivery {
                        id: r.get(0)?,
                        snapshot_id: r.get(1)?,
                        webhook: r.get(2)?,
                        endpoint: r.get(3)?,
                        format: r.get(4)?,
                        alerts: r.get(5)?,
                        attempt: r.get(6)?,
                        attempted_at: r.get(7)?,
                        status_code: r.get(8)?,
                        outcome: r.get(9)?,
                        error: r.get(10)?,
                        outbox_id: r.get(11)?,
                    })
                },
            )
            .map_err(|e| self.sql(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.sql(e))?;
        rows.into_iter()
            .map(|r| {
                let id = r.id;
                Ok(Delivery {
                    id,
                    attempt: DeliveryAttempt {
                        snapshot_id: r.snapshot_id,
                        webhook: r.webhook,
                        endpoint: r.endpoint,
                        format: r.format,
                        alerts: r.alerts,
                        attempt: r.attempt,
                        attempted_at: parse_time(&r.attempted_at).map_err(|e| self.error(e))?,
                        status_code: r.status_code,
                        outcome: r
                            .outcome
                            .parse()
                            .map_err(|e: String| self.corrupt(format!("delivery {id}: {e}")))?,
                        error: r.error,
                        outbox_id: r.outbox_id,
                    },
                })
            })
            .collect()
    }
}

/// The columns of a delivery as read, before the time and outcome are checked.
struct RawDelivery {
    id: i64,
    snapshot_id: i64,
    webhook: String,
    endpoint: String,
    format: String,
    alerts: u32,
    attempt: u32,
    attempted_at: String,
    status_code: Option<u16>,
    outcome: String,
    error: Option<String>,
    outbox_id: Option<i64>,
}

#[cfg(test)]
mod tests;

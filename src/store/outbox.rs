//! The outbox: every notification a run makes (a webhook document, a mail) is written in the
//! run's alert transaction, then sent. One that was not delivered stays `pending` and is sent
//! again by later runs (and `daily_scan notify retry`) until it is delivered or older than
//! `[notify] max_age`, when it becomes `expired`. A delivered row is never sent again: the
//! sender marks it delivered the moment the destination accepted it, and only pending rows
//! are read for sending (writers are serialised by the batch writer lock). The SQL is in each
//! backend.

use jiff::Timestamp;
use serde::Serialize;

use super::rows::time_text;
use super::{Store, StoreError};

/// A notification to write in a run's commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutbox {
    pub snapshot_id: i64,
    /// The `[[webhook]]` or `[[email]]` name it is for.
    pub destination: String,
    /// `webhook` or `email`.
    pub channel: String,
    /// `json`, `slack` or `email`.
    pub format: String,
    /// Alerts in it.
    pub alerts: u32,
    /// What is sent, rendered once (a retry sends the same document). Never a secret: URLs,
    /// tokens and passwords come from the configuration at send time.
    pub body: String,
}

/// A stored notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxItem {
    pub id: i64,
    pub snapshot_id: i64,
    pub destination: String,
    pub channel: String,
    pub format: String,
    pub alerts: u32,
    #[serde(skip)]
    pub body: String,
    pub created_at: Timestamp,
    /// `pending`, `delivered` or `expired`.
    pub status: String,
    /// Attempts made so far, over all runs.
    pub attempts: u32,
    pub last_error: Option<String>,
    pub delivered_at: Option<Timestamp>,
}

/// The columns of an outbox row as read, in this order: `id, snapshot_id, destination,
/// channel, format, alerts, body, created_at, status, attempts, last_error, delivered_at`.
pub(super) struct RawOutbox {
    pub id: i64,
    pub snapshot_id: i64,
    pub destination: String,
    pub channel: String,
    pub format: String,
    pub alerts: i64,
    pub body: String,
    pub created_at: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
}

/// Which rows a backend reads, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OutboxRows {
    Pending,
    All,
}

impl Store {
    /// Marks pending notifications created before `cutoff` expired; returns them.
    pub fn expire_outbox(&mut self, cutoff: Timestamp) -> Result<Vec<OutboxItem>, StoreError> {
        let raw = self.db.expire_outbox(&time_text(cutoff))?;
        self.outbox_items(raw)
    }

    /// Pending notifications, oldest first.
    pub fn pending_outbox(&self) -> Result<Vec<OutboxItem>, StoreError> {
        let raw = self.db.outbox(OutboxRows::Pending)?;
        self.outbox_items(raw)
    }

    /// Every notification, newest first (at most `limit`).
    pub fn list_outbox(&self, limit: usize) -> Result<Vec<OutboxItem>, StoreError> {
        let mut all = self.outbox_items(self.db.outbox(OutboxRows::All)?)?;
        all.reverse();
        all.truncate(limit);
        Ok(all)
    }

    /// Records `attempts` more attempts; when `delivered`, the row is done for good.
    pub fn finish_outbox_attempts(
        &mut self,
        id: i64,
        attempts: u32,
        delivered: bool,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = time_text(Timestamp::now());
        self.db
            .finish_outbox(id, i64::from(attempts), delivered, error, &now)
    }

    /// Runs `f` holding the outbox lock: on PostgreSQL an advisory lock that every sender
    /// takes, since runs of different profiles write the database side by side; on SQLite the
    /// writer lock file already keeps senders apart.
    pub fn with_outbox_lock<T>(
        &mut self,
        f: impl FnOnce(&mut Store) -> T,
    ) -> Result<T, StoreError> {
        self.db.lock_outbox(true)?;
        let out = f(self);
        self.db.lock_outbox(false)?;
        Ok(out)
    }

    fn outbox_items(&self, raw: Vec<RawOutbox>) -> Result<Vec<OutboxItem>, StoreError> {
        raw.into_iter()
            .map(|r| {
                let number = |what: &str, n: i64| {
                    u32::try_from(n)
                        .map_err(|_| self.corrupt(format!("outbox {}: {what} {n}", r.id)))
                };
                Ok(OutboxItem {
                    id: r.id,
                    snapshot_id: r.snapshot_id,
                    alerts: number("alerts", r.alerts)?,
                    attempts: number("attempts", r.attempts)?,
                    created_at: self.timestamp(&r.created_at)?,
                    delivered_at: r
                        .delivered_at
                        .as_deref()
                        .map(|t| self.timestamp(t))
                        .transpose()?,
                    destination: r.destination,
                    channel: r.channel,
                    format: r.format,
                    body: r.body,
                    status: r.status,
                    last_error: r.last_error,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;

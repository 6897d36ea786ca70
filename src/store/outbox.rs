//! The outbox: every notification a run makes (a webhook document, a mail) is written in the
//! run's alert transaction, then sent. One that was not delivered stays `pending` and is sent
//! again by later runs (and `daily_scan notify retry`) until it is delivered or older than
//! `[notify] max_age`, when it becomes `expired`. A delivered row is never sent again: the
//! sender marks it delivered the moment the destination accepted it, and only pending rows
//! are read for sending (writers are serialised by the batch writer lock).

use jiff::Timestamp;
use rusqlite::{Transaction, params};
use serde::Serialize;

use super::rows::{parse_time, time_text};
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

/// Writes `items` inside the run's transaction.
pub(super) fn insert_all(
    tx: &Transaction<'_>,
    items: &[NewOutbox],
    now: &str,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO outbox (snapshot_id, destination, channel, format, alerts, body,
                             created_at, status, attempts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', 0)",
    )?;
    for i in items {
        stmt.execute(params![
            i.snapshot_id,
            i.destination,
            i.channel,
            i.format,
            i.alerts,
            i.body,
            now
        ])?;
    }
    Ok(())
}

const COLUMNS: &str = "id, snapshot_id, destination, channel, format, alerts, body, created_at,
                       status, attempts, last_error, delivered_at";

impl Store {
    /// Marks pending notifications created before `cutoff` expired; returns them.
    pub fn expire_outbox(&mut self, cutoff: Timestamp) -> Result<Vec<OutboxItem>, StoreError> {
        let cutoff = time_text(cutoff);
        let expired = self.outbox_where("status = 'pending' AND created_at < ?1", &cutoff)?;
        self.conn
            .execute(
                "UPDATE outbox SET status = 'expired'
                  WHERE status = 'pending' AND created_at < ?1",
                [&cutoff],
            )
            .map_err(|e| self.sql(e))?;
        Ok(expired)
    }

    /// Pending notifications, oldest first.
    pub fn pending_outbox(&self) -> Result<Vec<OutboxItem>, StoreError> {
        self.outbox_where("status = 'pending' AND ?1 = ?1", "")
    }

    /// Every notification, newest first (at most `limit`).
    pub fn list_outbox(&self, limit: usize) -> Result<Vec<OutboxItem>, StoreError> {
        let mut all = self.outbox_where("?1 = ?1", "")?;
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
        self.conn
            .execute(
                "UPDATE outbox SET attempts = attempts + ?2, last_error = ?3,
                        status = CASE WHEN ?4 THEN 'delivered' ELSE status END,
                        delivered_at = CASE WHEN ?4 THEN ?5 ELSE delivered_at END
                  WHERE id = ?1 AND status = 'pending'",
                params![id, attempts, error, delivered, now],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    fn outbox_where(&self, condition: &str, arg: &str) -> Result<Vec<OutboxItem>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE {condition} ORDER BY id");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.sql(e))?;
        type Raw = (
            i64,
            i64,
            String,
            String,
            String,
            u32,
            String,
            String,
            String,
            u32,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Raw> = stmt
            .query_map([arg], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                ))
            })
            .map_err(|e| self.sql(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.sql(e))?;
        rows.into_iter()
            .map(|r| {
                Ok(OutboxItem {
                    id: r.0,
                    snapshot_id: r.1,
                    destination: r.2,
                    channel: r.3,
                    format: r.4,
                    alerts: r.5,
                    body: r.6,
                    created_at: parse_time(&r.7).map_err(|e| self.error(e))?,
                    status: r.8,
                    attempts: r.9,
                    last_error: r.10,
                    delivered_at: r
                        .11
                        .as_deref()
                        .map(parse_time)
                        .transpose()
                        .map_err(|e| self.error(e))?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;

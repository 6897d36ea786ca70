//! Alerts as stored: what was raised, its state, and the operator's actions on it.
//!
//! An alert is the lasting form of a condition (a port that should not be open, a host that
//! appeared...). Its identity is (kind, ip, protocol, port); while it is not resolved there is
//! at most one row per identity (a partial unique index enforces it). Raising, refreshing and
//! resolving alerts after a run is the run's business; this module holds the rows and the
//! operator's transitions:
//!
//! ```text
//! open --ack--> actioned          open | actioned --ignore--> ignored --unignore--> open
//! ```
//!
//! `resolved` is only ever set by a run that covered the address and no longer sees the
//! condition. An ignored alert is never resolved or raised again until un-ignored.

use std::fmt;

use jiff::Timestamp;
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::rows::{parse_time, time_text};
use super::{Store, StoreError};
use crate::model::{AlertAction, AlertKind, AlertStatus, Severity};

/// One stored alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub id: i64,
    pub kind: AlertKind,
    pub severity: Severity,
    pub ip: String,
    /// `None` for host alerts (`new_host`, `host_gone`).
    pub protocol: Option<String>,
    pub port: Option<u16>,
    pub message: String,
    pub status: AlertStatus,
    /// The snapshot that raised it and the latest one that still saw the condition.
    pub first_snapshot: i64,
    pub last_snapshot: i64,
    pub created_at: Timestamp,
    /// When the row last changed (seen again, acknowledged, ignored, resolved).
    pub updated_at: Timestamp,
    /// The operator's note from `ack` or `ignore`.
    pub note: Option<String>,
}

/// An alert to insert as open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub kind: AlertKind,
    pub severity: Severity,
    pub ip: String,
    pub protocol: Option<String>,
    pub port: Option<u16>,
    pub message: String,
    pub snapshot: i64,
}

/// Which alerts [`Store::list_alerts`] returns; every field narrows the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    pub status: Option<AlertStatus>,
    /// Exactly this severity.
    pub severity: Option<Severity>,
    /// This severity or a worse one.
    pub min_severity: Option<Severity>,
    pub limit: Option<usize>,
    /// Only alerts with a smaller id (a cursor for paging, newest first).
    pub before_id: Option<i64>,
}

/// The statuses `action` may start from (the lifecycle in [`AlertStatus`]'s docs).
fn allowed_from(action: AlertAction) -> &'static [AlertStatus] {
    match action {
        AlertAction::Ack => &[AlertStatus::Open],
        AlertAction::Ignore => &[AlertStatus::Open, AlertStatus::Actioned],
        AlertAction::Unignore => &[AlertStatus::Ignored],
    }
}

/// The status `action` leads to.
fn target(action: AlertAction) -> AlertStatus {
    match action {
        AlertAction::Ack => AlertStatus::Actioned,
        AlertAction::Ignore => AlertStatus::Ignored,
        AlertAction::Unignore => AlertStatus::Open,
    }
}

/// Longest operator note kept; a longer one is refused rather than cut.
pub const MAX_NOTE_CHARS: usize = 1000;

const COLUMNS: &str = "id, kind, severity, ip, protocol, port, message, status, \
                       first_snapshot, last_snapshot, created_at, updated_at, note";

/// The columns of an alert as read, before their text is checked.
struct RawAlert {
    id: i64,
    kind: String,
    severity: String,
    ip: String,
    protocol: Option<String>,
    port: Option<i64>,
    message: String,
    status: String,
    first_snapshot: i64,
    last_snapshot: i64,
    created_at: String,
    updated_at: String,
    note: Option<String>,
}

fn raw_alert(r: &Row<'_>) -> rusqlite::Result<RawAlert> {
    Ok(RawAlert {
        id: r.get(0)?,
        kind: r.get(1)?,
        severity: r.get(2)?,
        ip: r.get(3)?,
        protocol: r.get(4)?,
        port: r.get(5)?,
        message: r.get(6)?,
        status: r.get(7)?,
        first_snapshot: r.get(8)?,
        last_snapshot: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        note: r.get(12)?,
    })
}

impl Store {
    /// Alerts matching `filter`, newest (highest id) first.
    pub fn list_alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>, StoreError> {
        let limit = filter
            .limit
            .map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
        // Severity order is not text order, so the minimum is passed as the list it allows.
        let allowed: Option<String> = filter.min_severity.map(|min| {
            Severity::ALL
                .into_iter()
                .filter(|s| *s >= min)
                .map(Severity::as_str)
                .collect::<Vec<_>>()
                .join(",")
        });
        let sql = format!(
            "SELECT {COLUMNS} FROM alerts
              WHERE (?1 IS NULL OR status = ?1)
                AND (?2 IS NULL OR severity = ?2)
                AND (?3 IS NULL OR instr(',' || ?3 || ',', ',' || severity || ',') > 0)
                AND (?4 IS NULL OR id < ?4)
              ORDER BY id DESC LIMIT ?5"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.sql(e))?;
        let raw = stmt
            .query_map(
                params![
                    filter.status.map(AlertStatus::as_str),
                    filter.severity.map(Severity::as_str),
                    allowed,
                    filter.before_id,
                    limit
                ],
                raw_alert,
            )
            .map_err(|e| self.sql(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.sql(e))?;
        raw.into_iter().map(|r| self.alert_of(r)).collect()
    }

    /// One alert by id.
    pub fn alert(&self, id: i64) -> Result<Alert, StoreError> {
        let raw = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM alerts WHERE id = ?1"),
                [id],
                raw_alert,
            )
            .optional()
            .map_err(|e| self.sql(e))?
            .ok_or(StoreError::AlertNotFound(id))?;
        self.alert_of(raw)
    }

    /// Inserts `new` as an open alert as it is, without looking for an existing one: callers
    /// that raise alerts from a run check for an unresolved alert of the same identity first
    /// (the unique index refuses a second one).
    pub fn insert_alert(&mut self, new: &NewAlert) -> Result<Alert, StoreError> {
        let now = time_text(Timestamp::now());
        self.conn
            .execute(
                "INSERT INTO alerts (kind, severity, ip, protocol, port, message, status,
                                     first_snapshot, last_snapshot, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?7, ?8, ?8)",
                params![
                    new.kind.as_str(),
                    new.severity.as_str(),
                    new.ip,
                    new.protocol,
                    new.port,
                    new.message,
                    new.snapshot,
                    now
                ],
            )
            .map_err(|e| self.sql(e))?;
        let id = self.conn.last_insert_rowid();
        self.alert(id)
    }

    /// `open` → `actioned`: someone is on it. The note says what was done.
    pub fn ack_alert(&mut self, id: i64, note: Option<&str>) -> Result<Alert, StoreError> {
        self.transition(id, AlertAction::Ack, note)
    }

    /// `open` or `actioned` → `ignored`: the condition is accepted and never alerts again
    /// until [`Store::unignore_alert`].
    pub fn ignore_alert(&mut self, id: i64, note: Option<&str>) -> Result<Alert, StoreError> {
        self.transition(id, AlertAction::Ignore, note)
    }

    /// `ignored` → `open`: the condition alerts again (and resolves when gone).
    pub fn unignore_alert(&mut self, id: i64) -> Result<Alert, StoreError> {
        self.transition(id, AlertAction::Unignore, None)
    }

    fn transition(
        &mut self,
        id: i64,
        action: AlertAction,
        note: Option<&str>,
    ) -> Result<Alert, StoreError> {
        if let Some(note) = note
            && note.chars().count() > MAX_NOTE_CHARS
        {
            return Err(StoreError::NoteTooLong {
                max: MAX_NOTE_CHARS,
            });
        }
        let from: Vec<&str> = allowed_from(action).iter().map(|s| s.as_str()).collect();
        // One statement checks and changes the status, so two operators acting at once
        // cannot both succeed from a stale read.
        let changed = self
            .conn
            .execute(
                "UPDATE alerts SET status = ?2, updated_at = ?3, note = coalesce(?4, note)
                  WHERE id = ?1 AND instr(',' || ?5 || ',', ',' || status || ',') > 0",
                params![
                    id,
                    target(action).as_str(),
                    time_text(Timestamp::now()),
                    note,
                    from.join(",")
                ],
            )
            .map_err(|e| self.sql(e))?;
        let alert = self.alert(id)?;
        if changed == 0 {
            return Err(StoreError::AlertTransition {
                id,
                action,
                status: alert.status,
            });
        }
        Ok(alert)
    }

    fn alert_of(&self, r: RawAlert) -> Result<Alert, StoreError> {
        let bad = |what: &str, value: &dyn fmt::Debug| {
            self.corrupt(format!("alert {}: {what} {value:?}", r.id))
        };
        Ok(Alert {
            id: r.id,
            kind: r.kind.parse().map_err(|_| bad("kind", &r.kind))?,
            severity: r
                .severity
                .parse()
                .map_err(|_| bad("severity", &r.severity))?,
            protocol: r.protocol.clone(),
            port: match r.port {
                None => None,
                Some(p) => Some(u16::try_from(p).map_err(|_| bad("port", &p))?),
            },
            status: r.status.parse().map_err(|_| bad("status", &r.status))?,
            first_snapshot: r.first_snapshot,
            last_snapshot: r.last_snapshot,
            created_at: parse_time(&r.created_at).map_err(|e| self.error(e))?,
            updated_at: parse_time(&r.updated_at).map_err(|e| self.error(e))?,
            ip: r.ip,
            message: r.message,
            note: r.note,
        })
    }
}

#[cfg(test)]
mod tests;

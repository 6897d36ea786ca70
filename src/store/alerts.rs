//! Alerts as stored: the rows, the operator's notes, and status changes applied atomically.
//!
//! An alert is the lasting form of a condition (a port that should not be open, a host that
//! appeared...). Its identity is (kind, ip, protocol, port); while it is not resolved there is
//! at most one row per identity (a partial unique index enforces it). Which alerts a run
//! raises, refreshes and resolves, and which status an operator's action may start from, are
//! alert rules (`alerts::sync`, `alerts::lifecycle`); the store reads and writes the rows they
//! decide on, each decision in one transaction or one statement.

use std::fmt;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::rows::{RowError, parse_time, time_text};
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
    /// Any of these kinds (all kinds when empty).
    pub kinds: Vec<AlertKind>,
    /// Addresses inside this network (a single address is a /32 or /128).
    pub network: Option<ipnet::IpNet>,
    /// Case-insensitive part of the message, address or note.
    pub text: Option<String>,
    /// Raised at or after this time.
    pub since: Option<Timestamp>,
    /// Raised before this time.
    pub until: Option<Timestamp>,
    pub limit: Option<usize>,
    /// Only alerts with a smaller id (a cursor for paging, newest first).
    pub before_id: Option<i64>,
}

/// A status change an operator's action makes, as the alert rules define it
/// (`alerts::lifecycle`): from any of `from` to `to`. [`Store::change_alert_status`] checks and
/// changes the status in one statement, so two operators acting at once cannot both succeed
/// from a stale read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    pub action: AlertAction,
    pub from: &'static [AlertStatus],
    pub to: AlertStatus,
}

/// Longest operator note kept; a longer one is refused rather than cut.
pub const MAX_NOTE_CHARS: usize = 1000;

/// The columns of [`RawAlert`], in its order.
const COLUMNS: &str = "id, kind, severity, ip, protocol, port, message, status, \
                       first_snapshot, last_snapshot, created_at, updated_at, note";

/// Inserts a [`NewAlert`] as open: `?1`-`?7` its fields, `?8` the time.
const INSERT: &str = "
    INSERT INTO alerts (kind, severity, ip, protocol, port, message, status,
                        first_snapshot, last_snapshot, created_at, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?7, ?8, ?8)";

/// The columns of an alert as read, before their text is checked.
pub(super) struct RawAlert {
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

/// Reads [`COLUMNS`] from the start of `r`.
pub(super) fn raw_alert(r: &Row<'_>) -> rusqlite::Result<RawAlert> {
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
    /// Alerts matching `filter`, newest (highest id) first. Everything but the network is
    /// narrowed in SQL; addresses are parsed and tested against the network while the rows
    /// stream, and reading stops at `limit`.
    pub fn list_alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>, StoreError> {
        let limit = filter.limit.unwrap_or(usize::MAX);
        // Severity order is not text order, so the minimum is passed as the list it allows.
        let allowed: Option<String> = filter.min_severity.map(|min| {
            Severity::ALL
                .into_iter()
                .filter(|s| *s >= min)
                .map(Severity::as_str)
                .collect::<Vec<_>>()
                .join(",")
        });
        let kinds: Option<String> = (!filter.kinds.is_empty()).then(|| {
            filter
                .kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(",")
        });
        let text = filter
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase);
        // A single address is matched in SQL (the index on ip serves it); a wider network
        // is tested per row below.
        let exact_ip = filter
            .network
            .filter(|n| n.prefix_len() == n.max_prefix_len())
            .map(|n| n.addr().to_string());
        let sql = format!(
            "SELECT {COLUMNS} FROM alerts
              WHERE (?1 IS NULL OR status = ?1)
                AND (?2 IS NULL OR severity = ?2)
                AND (?3 IS NULL OR instr(',' || ?3 || ',', ',' || severity || ',') > 0)
                AND (?4 IS NULL OR id < ?4)
                AND (?5 IS NULL OR instr(',' || ?5 || ',', ',' || kind || ',') > 0)
                AND (?6 IS NULL OR instr(lower(message || ' ' || ip || ' ' || coalesce(note, '')), ?6) > 0)
                AND (?7 IS NULL OR created_at >= ?7)
                AND (?8 IS NULL OR created_at < ?8)
                AND (?9 IS NULL OR ip = ?9)
              ORDER BY id DESC"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(
                params![
                    filter.status.map(AlertStatus::as_str),
                    filter.severity.map(Severity::as_str),
                    allowed,
                    filter.before_id,
                    kinds,
                    text,
                    filter.since.map(time_text),
                    filter.until.map(time_text),
                    exact_ip,
                ],
                raw_alert,
            )
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for raw in rows {
            if out.len() >= limit {
                break;
            }
            let alert = raw
                .map_err(|e| self.sql(e))?
                .into_alert()
                .map_err(|e| self.error(e))?;
            if let Some(net) = filter.network
                && !alert
                    .ip
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| net.contains(&ip))
            {
                continue;
            }
            out.push(alert);
        }
        Ok(out)
    }

    /// Alerts a run raised (its `first_snapshot`), worst first.
    pub fn alerts_raised_by(&self, snapshot: i64) -> Result<Vec<Alert>, StoreError> {
        self.alerts_where("first_snapshot = ?1", params![snapshot])
    }

    /// Resolved alerts last seen by snapshot `last_seen` and resolved at or after `since`:
    /// what the run after `last_seen` (started at `since`) resolved. The store keeps no
    /// "resolved by" column; a run resolves what its predecessor still saw, so this is it.
    pub fn alerts_resolved_after(
        &self,
        last_seen: i64,
        since: Timestamp,
    ) -> Result<Vec<Alert>, StoreError> {
        self.alerts_where(
            "status = 'resolved' AND last_snapshot = ?1 AND updated_at >= ?2",
            params![last_seen, time_text(since)],
        )
    }

    fn alerts_where(
        &self,
        condition: &str,
        values: impl rusqlite::Params,
    ) -> Result<Vec<Alert>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM alerts WHERE {condition} ORDER BY id");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.sql(e))?;
        let raw = stmt
            .query_map(values, raw_alert)
            .map_err(|e| self.sql(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.sql(e))?;
        let mut alerts = raw
            .into_iter()
            .map(|r| r.into_alert().map_err(|e| self.error(e)))
            .collect::<Result<Vec<_>, _>>()?;
        alerts.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
        Ok(alerts)
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
        raw.into_alert().map_err(|e| self.error(e))
    }

    /// Inserts `new` as an open alert as it is, without looking for an existing one: callers
    /// that raise alerts from a run check for an unresolved alert of the same identity first
    /// (the unique index refuses a second one).
    pub fn insert_alert(&mut self, new: &NewAlert) -> Result<Alert, StoreError> {
        let now = time_text(Timestamp::now());
        let id = insert_open(&self.conn, new, &now).map_err(|e| self.sql(e))?;
        self.alert(id)
    }

    /// Applies `change` to alert `id` if its status allows it, keeping an earlier note when
    /// `note` is `None`. The check and the change are one statement.
    pub fn change_alert_status(
        &mut self,
        id: i64,
        change: &StatusChange,
        note: Option<&str>,
    ) -> Result<Alert, StoreError> {
        if let Some(note) = note
            && note.chars().count() > MAX_NOTE_CHARS
        {
            return Err(StoreError::NoteTooLong {
                max: MAX_NOTE_CHARS,
            });
        }
        let from: Vec<&str> = change.from.iter().map(|s| s.as_str()).collect();
        let changed = self
            .conn
            .execute(
                "UPDATE alerts SET status = ?2, updated_at = ?3, note = coalesce(?4, note)
                  WHERE id = ?1 AND instr(',' || ?5 || ',', ',' || status || ',') > 0",
                params![
                    id,
                    change.to.as_str(),
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
                action: change.action,
                status: alert.status,
            });
        }
        Ok(alert)
    }
}

impl RawAlert {
    /// The alert, once its text columns are checked.
    pub(super) fn into_alert(self) -> Result<Alert, RowError> {
        let bad = |what: &str, value: &dyn fmt::Debug| {
            RowError::Corrupt(format!("alert {}: {what} {value:?}", self.id))
        };
        Ok(Alert {
            id: self.id,
            kind: self.kind.parse().map_err(|_| bad("kind", &self.kind))?,
            severity: self
                .severity
                .parse()
                .map_err(|_| bad("severity", &self.severity))?,
            protocol: self.protocol.clone(),
            port: match self.port {
                None => None,
                Some(p) => Some(u16::try_from(p).map_err(|_| bad("port", &p))?),
            },
            status: self
                .status
                .parse()
                .map_err(|_| bad("status", &self.status))?,
            first_snapshot: self.first_snapshot,
            last_snapshot: self.last_snapshot,
            created_at: parse_time(&self.created_at)?,
            updated_at: parse_time(&self.updated_at)?,
            ip: self.ip,
            message: self.message,
            note: self.note,
        })
    }
}

/// Inserts `new` as an open alert at time `now` (stored text); returns its id.
pub(super) fn insert_open(conn: &Connection, new: &NewAlert, now: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached(INSERT)?.execute(params![
        new.kind.as_str(),
        new.severity.as_str(),
        new.ip,
        new.protocol,
        new.port,
        new.message,
        new.snapshot,
        now
    ])?;
    Ok(conn.last_insert_rowid())
}

#[cfg(test)]
mod tests;

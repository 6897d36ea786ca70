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

/// An [`AlertFilter`] as a backend runs it: the minimum severity spelled out as the
/// severities it allows (severity order is not text order), the text lower-cased, times as
/// stored. Everything but a network wider than one address is narrowed in SQL; such a
/// network is tested by [`Store::list_alerts`] on the rows that come back, so the query then
/// has no limit.
pub(super) struct AlertQuery {
    pub status: Option<&'static str>,
    pub severity: Option<&'static str>,
    pub allowed: Option<Vec<&'static str>>,
    pub before_id: Option<i64>,
    /// Any of these kinds.
    pub kinds: Option<Vec<&'static str>>,
    /// A lower-case part of `lower(message || ' ' || ip || ' ' || coalesce(note, ''))`.
    pub text: Option<String>,
    /// `created_at` at or after / before these.
    pub since: Option<String>,
    pub until: Option<String>,
    /// Exactly this address (a network of one address; the index on ip serves it).
    pub exact_ip: Option<String>,
    pub limit: i64,
}

impl AlertQuery {
    fn of(filter: &AlertFilter) -> AlertQuery {
        let exact_ip = filter
            .network
            .filter(|n| n.prefix_len() == n.max_prefix_len())
            .map(|n| n.addr().to_string());
        let wide_network = filter.network.is_some() && exact_ip.is_none();
        AlertQuery {
            status: filter.status.map(AlertStatus::as_str),
            severity: filter.severity.map(Severity::as_str),
            allowed: filter.min_severity.map(|min| {
                Severity::ALL
                    .into_iter()
                    .filter(|s| *s >= min)
                    .map(Severity::as_str)
                    .collect()
            }),
            before_id: filter.before_id,
            kinds: (!filter.kinds.is_empty())
                .then(|| filter.kinds.iter().map(|k| k.as_str()).collect()),
            text: filter
                .text
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_lowercase),
            since: filter.since.map(time_text),
            until: filter.until.map(time_text),
            exact_ip,
            limit: match filter.limit {
                Some(l) if !wide_network => i64::try_from(l).unwrap_or(i64::MAX),
                _ => i64::MAX,
            },
        }
    }
}

/// The columns of an alert as read, before their text is checked; backends read them in
/// this order (`id, kind, severity, ip, protocol, port, message, status, first_snapshot,
/// last_snapshot, created_at, updated_at, note`).
pub(super) struct RawAlert {
    pub id: i64,
    pub kind: String,
    pub severity: String,
    pub ip: String,
    pub protocol: Option<String>,
    pub port: Option<i64>,
    pub message: String,
    pub status: String,
    pub first_snapshot: i64,
    pub last_snapshot: i64,
    pub created_at: String,
    pub updated_at: String,
    pub note: Option<String>,
}

impl Store {
    /// Alerts matching `filter`, newest (highest id) first. Everything but the network is
    /// narrowed in SQL; addresses are parsed and tested against the network while the rows
    /// stream, and reading stops at `limit`.
    pub fn list_alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>, StoreError> {
        let mut out = Vec::new();
        for raw in self.db.list_alerts(&AlertQuery::of(filter))? {
            if out.len() >= filter.limit.unwrap_or(usize::MAX) {
                break;
            }
            let alert = raw.into_alert().map_err(|d| self.corrupt(d))?;
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
        let rows = self.db.alerts_raised_by(snapshot)?;
        self.worst_first(rows)
    }

    /// Resolved alerts last seen by snapshot `last_seen` and resolved at or after `since`:
    /// what the run after `last_seen` (started at `since`) resolved. The store keeps no
    /// "resolved by" column; a run resolves what its predecessor still saw, so this is it.
    pub fn alerts_resolved_after(
        &self,
        last_seen: i64,
        since: Timestamp,
    ) -> Result<Vec<Alert>, StoreError> {
        let rows = self
            .db
            .alerts_resolved_after(last_seen, &time_text(since))?;
        self.worst_first(rows)
    }

    /// `rows` (in id order) as alerts, worst severity first, then by id.
    fn worst_first(&self, rows: Vec<RawAlert>) -> Result<Vec<Alert>, StoreError> {
        let mut alerts = rows
            .into_iter()
            .map(|r| r.into_alert().map_err(|d| self.corrupt(d)))
            .collect::<Result<Vec<_>, _>>()?;
        alerts.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
        Ok(alerts)
    }

    /// One alert by id.
    pub fn alert(&self, id: i64) -> Result<Alert, StoreError> {
        let raw = self.db.alert(id)?.ok_or(StoreError::AlertNotFound(id))?;
        raw.into_alert().map_err(|d| self.corrupt(d))
    }

    /// Inserts `new` as an open alert as it is, without looking for an existing one: callers
    /// that raise alerts from a run check for an unresolved alert of the same identity first
    /// (the unique index refuses a second one).
    pub fn insert_alert(&mut self, new: &NewAlert) -> Result<Alert, StoreError> {
        let id = self.db.insert_alert(new, &time_text(Timestamp::now()))?;
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
        let now = time_text(Timestamp::now());
        let changed = self
            .db
            .change_alert_status(id, change.from, change.to, &now, note)?;
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
    pub(super) fn into_alert(self) -> Result<Alert, String> {
        let bad =
            |what: &str, value: &dyn fmt::Debug| format!("alert {}: {what} {value:?}", self.id);
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

#[cfg(test)]
mod tests;

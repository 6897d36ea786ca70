//! Applying a run's alert decisions to the alerts table, in one transaction.
//!
//! Which alerts a run refreshes, resolves and raises is an alert rule (`alerts::sync::plan`);
//! the store knows only rows. [`Store::sync_alerts`] reads the unresolved alerts, hands them to
//! the caller's decision and writes what it decided, all inside one `IMMEDIATE` transaction,
//! so no other writer changes the rows between the read and the writes.

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::{TransactionBehavior, params};

use super::alerts::{Alert, NewAlert, RawAlert, insert_open, raw_alert};
use super::outbox::{NewOutbox, insert_all};
use super::rows::{parse_time, time_text};
use super::{Store, StoreError, row_error, sql_error};
use crate::model::AlertStatus;

/// An unresolved alert as read for a run's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnresolvedAlert {
    pub alert: Alert,
    /// The profile of the snapshot that last saw it (`None` once retention deleted it).
    pub last_profile: Option<String>,
}

/// What a run does to the alerts table, decided from the [`UnresolvedAlert`]s.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertChanges {
    /// Unresolved alerts whose condition still holds: their `last_snapshot` becomes the run's
    /// (when it is newer).
    pub seen_again: Vec<i64>,
    /// Unresolved alerts to resolve, in the order [`AlertSync::resolved`] lists them.
    pub resolve: Vec<i64>,
    /// New alerts to insert as open, in this order (after the resolutions).
    pub raise: Vec<NewAlert>,
}

/// What [`Store::sync_alerts`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertSync {
    /// Alerts this run raised (the ones to notify about), in evaluation order.
    pub raised: Vec<Alert>,
    /// Unresolved alerts seen again.
    pub refreshed: usize,
    /// Alerts this run resolved.
    pub resolved: Vec<Alert>,
}

/// An unresolved alert's columns and its last snapshot's profile, as read.
struct UnresolvedRow {
    alert: RawAlert,
    last_profile: Option<String>,
}

/// The alert columns in `raw_alert`'s order, then the profile of the alert's last snapshot.
const SELECT_UNRESOLVED: &str = "
    SELECT a.id, a.kind, a.severity, a.ip, a.protocol, a.port, a.message, a.status,
           a.first_snapshot, a.last_snapshot, a.created_at, a.updated_at, a.note, s.profile
      FROM alerts AS a LEFT JOIN snapshots AS s ON s.id = a.last_snapshot
     WHERE a.status <> 'resolved' ORDER BY a.id";
// Refreshes and resolutions are one statement each over a JSON array of ids: a run that sees
// 200,000 alerts again does not pay 200,000 statements.
const REFRESH: &str = "UPDATE alerts SET last_snapshot = ?2, updated_at = ?3
                        WHERE id IN (SELECT value FROM json_each(?1)) AND last_snapshot < ?2";
const RESOLVE: &str = "UPDATE alerts SET status = 'resolved', updated_at = ?2
                        WHERE id IN (SELECT value FROM json_each(?1))";

impl Store {
    /// Reads the unresolved alerts, asks `decide` what snapshot `snapshot_id` changes about
    /// them, and applies its answer, in one transaction. Ids `decide` names that are not among
    /// the unresolved alerts are ignored.
    pub fn sync_alerts(
        &mut self,
        snapshot_id: i64,
        decide: impl FnOnce(&[UnresolvedAlert]) -> AlertChanges,
    ) -> Result<AlertSync, StoreError> {
        self.sync_alerts_and_enqueue(snapshot_id, decide, |_| Vec::new())
    }

    /// [`Store::sync_alerts`], and in the same transaction the notifications `enqueue` makes
    /// of what changed (see [`super::outbox`]): a run's alerts and what it owes the
    /// destinations are committed together.
    pub fn sync_alerts_and_enqueue(
        &mut self,
        snapshot_id: i64,
        decide: impl FnOnce(&[UnresolvedAlert]) -> AlertChanges,
        enqueue: impl FnOnce(&AlertSync) -> Vec<NewOutbox>,
    ) -> Result<AlertSync, StoreError> {
        let path = self.path.clone();
        let sql = |e| sql_error(&path, e);
        let now_ts = Timestamp::now();
        let now = time_text(now_ts);
        // Stored times have nine fractional digits: the returned alerts carry the same value.
        let now_ts = parse_time(&now).unwrap_or(now_ts);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let rows: Vec<UnresolvedRow> = tx
            .prepare_cached(SELECT_UNRESOLVED)
            .and_then(|mut stmt| {
                stmt.query_map([], |r| {
                    Ok(UnresolvedRow {
                        alert: raw_alert(r)?,
                        last_profile: r.get(13)?,
                    })
                })?
                .collect()
            })
            .map_err(sql)?;
        let unresolved = rows
            .into_iter()
            .map(|row| {
                Ok(UnresolvedAlert {
                    alert: row.alert.into_alert().map_err(|e| row_error(&path, e))?,
                    last_profile: row.last_profile,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let changes = decide(&unresolved);

        let mut by_id: HashMap<i64, Alert> = unresolved
            .into_iter()
            .map(|u| (u.alert.id, u.alert))
            .collect();
        let seen_again = changes
            .seen_again
            .iter()
            .filter(|id| by_id.contains_key(id))
            .count();
        let mut refreshed = Vec::new();
        for id in &changes.seen_again {
            if let Some(alert) = by_id.get_mut(id).filter(|a| a.last_snapshot < snapshot_id) {
                refreshed.push(*id);
                alert.last_snapshot = snapshot_id;
                alert.updated_at = now_ts;
            }
        }
        let resolved: Vec<Alert> = changes
            .resolve
            .iter()
            .filter_map(|id| by_id.remove(id))
            .map(|alert| Alert {
                status: AlertStatus::Resolved,
                updated_at: now_ts,
                ..alert
            })
            .collect();
        let ids = |list: &[i64]| serde_json::to_string(list).unwrap_or_else(|_| "[]".into());
        if !refreshed.is_empty() {
            tx.prepare_cached(REFRESH)
                .and_then(|mut st| st.execute(params![ids(&refreshed), snapshot_id, now]))
                .map_err(sql)?;
        }
        // Before the inserts: a replaced alert must stop being unresolved first (one
        // unresolved alert per identity).
        if !resolved.is_empty() {
            let resolved_ids: Vec<i64> = resolved.iter().map(|a| a.id).collect();
            tx.prepare_cached(RESOLVE)
                .and_then(|mut st| st.execute(params![ids(&resolved_ids), now]))
                .map_err(sql)?;
        }
        let mut raised = Vec::with_capacity(changes.raise.len());
        for new in changes.raise {
            let id = insert_open(&tx, &new, &now).map_err(sql)?;
            raised.push(Alert {
                id,
                kind: new.kind,
                severity: new.severity,
                ip: new.ip,
                protocol: new.protocol,
                port: new.port,
                message: new.message,
                status: AlertStatus::Open,
                first_snapshot: new.snapshot,
                last_snapshot: new.snapshot,
                created_at: now_ts,
                updated_at: now_ts,
                note: None,
            });
        }
        let sync = AlertSync {
            raised,
            refreshed: seen_again,
            resolved,
        };
        insert_all(&tx, &enqueue(&sync), &now).map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(sync)
    }
}

#[cfg(test)]
mod tests;

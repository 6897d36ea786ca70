//! Applying a run's alert decisions to the alerts table, in one transaction.
//!
//! Which alerts a run refreshes, resolves and raises is an alert rule (`alerts::sync::plan`);
//! the store knows only rows. [`Store::sync_alerts`] reads the unresolved alerts, hands them to
//! the caller's decision and writes what it decided, all inside one transaction that no other
//! writer enters between the read and the writes (SQLite `IMMEDIATE`; PostgreSQL an advisory
//! transaction lock), the same on both backends.

use std::collections::HashMap;

use jiff::Timestamp;

use super::alerts::{Alert, NewAlert};
use super::outbox::NewOutbox;
use super::rows::{parse_time, time_text};
use super::{Store, StoreError};
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
        let name = self.name().to_string();
        let corrupt = |detail| StoreError::Corrupt {
            db: name.clone(),
            detail,
        };
        let now_ts = Timestamp::now();
        let now = time_text(now_ts);
        // Stored times have nine fractional digits: the returned alerts carry the same value.
        let now_ts = parse_time(&now).unwrap_or(now_ts);
        let mut tx = self.db.alert_sync()?;
        let unresolved = tx
            .unresolved()?
            .into_iter()
            .map(|(raw, last_profile)| {
                Ok(UnresolvedAlert {
                    alert: raw.into_alert().map_err(corrupt)?,
                    last_profile,
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
        if !refreshed.is_empty() {
            tx.refresh(&refreshed, snapshot_id, &now)?;
        }
        // Before the inserts: a replaced alert must stop being unresolved first (one
        // unresolved alert per identity).
        if !resolved.is_empty() {
            let resolved_ids: Vec<i64> = resolved.iter().map(|a| a.id).collect();
            tx.resolve(&resolved_ids, &now)?;
        }
        let ids = if changes.raise.is_empty() {
            Vec::new()
        } else {
            tx.raise(&changes.raise, &now)?
        };
        let raised = changes
            .raise
            .into_iter()
            .zip(ids)
            .map(|(new, id)| Alert {
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
            })
            .collect();
        let sync = AlertSync {
            raised,
            refreshed: seen_again,
            resolved,
        };
        let outbox = enqueue(&sync);
        if !outbox.is_empty() {
            tx.enqueue(&outbox, &now)?;
        }
        tx.commit()?;
        Ok(sync)
    }
}

#[cfg(test)]
mod tests;

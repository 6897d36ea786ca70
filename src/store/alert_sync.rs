//! Applying a run's [`Evaluation`] to the alerts table, in one transaction: refresh what still
//! holds, resolve what is gone, raise what is new.
//!
//! - An unresolved alert whose condition holds gets `last_snapshot` = this run (seen again).
//! - One whose condition is gone is `resolved`, unless it is ignored (never resolved or raised
//!   again until un-ignored). A port alert last seen by a snapshot of another profile is not
//!   resolved either: another port selection may simply not have probed the port.
//! - A condition with no unresolved alert of its identity is inserted as `open`: a new alert.
//!   A `service_changed` seen while an earlier one is still open (the service changed again)
//!   resolves the earlier one and raises a new one.
//! - Addresses the run did not cover are never touched ([`Judgement::Unknown`]).

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::{TransactionBehavior, params};

use super::alerts::{Alert, AlertKind, AlertStatus};
use super::rows::time_text;
use super::{Store, StoreError, sql_error};
use crate::alerts::{AlertKey, Evaluation, Judgement};

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

struct Existing {
    id: i64,
    key: AlertKey,
    status: AlertStatus,
    /// The profile of the snapshot that last saw it (`None` once retention deleted it).
    profile: Option<String>,
}

impl Store {
    /// Raises, refreshes and resolves alerts for snapshot `snapshot_id` (of `profile`) from
    /// `eval`, in one transaction.
    pub fn sync_alerts(
        &mut self,
        snapshot_id: i64,
        profile: &str,
        eval: &Evaluation,
    ) -> Result<AlertSync, StoreError> {
        let path = self.path.clone();
        let sql = |e| sql_error(&path, e);
        let now = time_text(Timestamp::now());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let existing = {
            let mut stmt = tx
                .prepare(
                    "SELECT a.id, a.kind, a.ip, a.protocol, a.port, a.status, s.profile
                       FROM alerts AS a LEFT JOIN snapshots AS s ON s.id = a.last_snapshot
                      WHERE a.status <> 'resolved' ORDER BY a.id",
                )
                .map_err(sql)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, Option<String>>(6)?,
                    ))
                })
                .map_err(sql)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql)?;
            let mut out = Vec::with_capacity(rows.len());
            for (id, kind, ip, protocol, port, status, profile) in rows {
                let bad = |what: &str| StoreError::Corrupt {
                    path: path.clone(),
                    detail: format!("alert {id}: invalid {what}"),
                };
                out.push(Existing {
                    id,
                    key: AlertKey {
                        kind: kind.parse().map_err(|_| bad("kind"))?,
                        ip,
                        protocol,
                        port: port
                            .map(u16::try_from)
                            .transpose()
                            .map_err(|_| bad("port"))?,
                    },
                    status: status.parse().map_err(|_| bad("status"))?,
                    profile,
                });
            }
            out
        };

        let mut outcome = AlertSync::default();
        let mut resolved_ids = Vec::new();
        let mut unresolved: HashMap<AlertKey, (i64, AlertStatus)> = HashMap::new();
        for a in existing {
            let mut judgement = eval.judge(&a.key);
            let other_ports =
                a.key.port.is_some() && a.profile.as_deref().is_some_and(|p| p != profile);
            if judgement == Judgement::Gone && other_ports {
                judgement = Judgement::Unknown;
            }
            match judgement {
                Judgement::Holds => {
                    tx.execute(
                        "UPDATE alerts SET last_snapshot = ?2, updated_at = ?3
                          WHERE id = ?1 AND last_snapshot < ?2",
                        params![a.id, snapshot_id, now],
                    )
                    .map_err(sql)?;
                    outcome.refreshed += 1;
                }
                Judgement::Gone if a.status != AlertStatus::Ignored => {
                    tx.execute(
                        "UPDATE alerts SET status = 'resolved', updated_at = ?2 WHERE id = ?1",
                        params![a.id, now],
                    )
                    .map_err(sql)?;
                    resolved_ids.push(a.id);
                    continue;
                }
                Judgement::Gone | Judgement::Unknown => {}
            }
            unresolved.insert(a.key, (a.id, a.status));
        }

        let mut raised_ids = Vec::new();
        for c in &eval.raise {
            if let Some(&(id, status)) = unresolved.get(&c.key) {
                let changed_again =
                    c.key.kind == AlertKind::ServiceChanged && status != AlertStatus::Ignored;
                if !changed_again {
                    continue;
                }
                tx.execute(
                    "UPDATE alerts SET status = 'resolved', updated_at = ?2 WHERE id = ?1",
                    params![id, now],
                )
                .map_err(sql)?;
                resolved_ids.push(id);
            }
            tx.execute(
                "INSERT INTO alerts (kind, severity, ip, protocol, port, message, status,
                                     first_snapshot, last_snapshot, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?7, ?8, ?8)",
                params![
                    c.key.kind.as_str(),
                    c.severity.as_str(),
                    c.key.ip,
                    c.key.protocol,
                    c.key.port,
                    c.message,
                    snapshot_id,
                    now
                ],
            )
            .map_err(sql)?;
            raised_ids.push(tx.last_insert_rowid());
        }
        tx.commit().map_err(sql)?;

        for id in raised_ids {
            outcome.raised.push(self.alert(id)?);
        }
        for id in resolved_ids {
            outcome.resolved.push(self.alert(id)?);
        }
        Ok(outcome)
    }
}

#[cfg(test)]
#[path = "alert_sync_tests.rs"]
mod tests;

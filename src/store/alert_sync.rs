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

use super::alerts::Alert;
use super::rows::{parse_time, time_text};
use super::{Store, StoreError, sql_error};
use crate::alerts::{AlertKey, Evaluation, Judgement};
use crate::model::{AlertKind, AlertStatus};

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
    alert: Alert,
    key: AlertKey,
    /// The profile of the snapshot that last saw it (`None` once retention deleted it).
    profile: Option<String>,
}

/// Columns of an unresolved alert and its last snapshot's profile, as read.
type Row = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    String,
    String,
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
);

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
const INSERT: &str = "INSERT INTO alerts (kind, severity, ip, protocol, port, message, status,
                                          first_snapshot, last_snapshot, created_at, updated_at)
                      VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?7, ?8, ?8)";

fn existing(r: Row, path: &std::path::Path) -> Result<Existing, StoreError> {
    let (id, kind, severity, ip, protocol, port, message, status, first, last) =
        (r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9);
    let bad = |what: &str| StoreError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("alert {id}: invalid {what}"),
    };
    let time = |text: &str| parse_time(text).map_err(|_| bad("time"));
    let alert = Alert {
        id,
        kind: kind.parse().map_err(|_| bad("kind"))?,
        severity: severity.parse().map_err(|_| bad("severity"))?,
        ip,
        protocol,
        port: port
            .map(u16::try_from)
            .transpose()
            .map_err(|_| bad("port"))?,
        message,
        status: status.parse().map_err(|_| bad("status"))?,
        first_snapshot: first,
        last_snapshot: last,
        created_at: time(&r.10)?,
        updated_at: time(&r.11)?,
        note: r.12,
    };
    Ok(Existing {
        key: AlertKey {
            kind: alert.kind,
            ip: alert.ip.clone(),
            protocol: alert.protocol.clone(),
            port: alert.port,
        },
        alert,
        profile: r.13,
    })
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
        let now_ts = Timestamp::now();
        let now = time_text(now_ts);
        // Stored times have nine fractional digits: the returned alerts carry the same value.
        let now_ts = parse_time(&now).unwrap_or(now_ts);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let mut outcome = AlertSync::default();
        {
            let rows: Vec<Row> = tx
                .prepare_cached(SELECT_UNRESOLVED)
                .and_then(|mut stmt| {
                    stmt.query_map([], |r| {
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
                            r.get(12)?,
                            r.get(13)?,
                        ))
                    })?
                    .collect()
                })
                .map_err(sql)?;
            let mut insert = tx.prepare_cached(INSERT).map_err(sql)?;
            let (mut refreshed, mut resolved) = (Vec::new(), Vec::new());
            let mut unresolved: HashMap<AlertKey, Alert> = HashMap::with_capacity(rows.len());
            for row in rows {
                let Existing {
                    mut alert,
                    key,
                    profile: seen_by,
                } = existing(row, &path)?;
                let mut judgement = eval.judge(&key);
                let other_ports =
                    key.port.is_some() && seen_by.as_deref().is_some_and(|p| p != profile);
                if judgement == Judgement::Gone && other_ports {
                    judgement = Judgement::Unknown;
                }
                match judgement {
                    Judgement::Holds => {
                        if alert.last_snapshot < snapshot_id {
                            refreshed.push(alert.id);
                            alert.last_snapshot = snapshot_id;
                            alert.updated_at = now_ts;
                        }
                        outcome.refreshed += 1;
                    }
                    Judgement::Gone if alert.status != AlertStatus::Ignored => {
                        resolved.push(alert.id);
                        alert.status = AlertStatus::Resolved;
                        alert.updated_at = now_ts;
                        outcome.resolved.push(alert);
                        continue;
                    }
                    Judgement::Gone | Judgement::Unknown => {}
                }
                unresolved.insert(key, alert);
            }

            let mut new = Vec::new();
            for c in &eval.raise {
                if let Some(old) = unresolved.remove(&c.key) {
                    let changed_again = c.key.kind == AlertKind::ServiceChanged
                        && old.status != AlertStatus::Ignored;
                    if !changed_again {
                        unresolved.insert(c.key.clone(), old);
                        continue;
                    }
                    resolved.push(old.id);
                    outcome.resolved.push(Alert {
                        status: AlertStatus::Resolved,
                        updated_at: now_ts,
                        ..old
                    });
                }
                new.push(c);
            }
            let ids = |list: &[i64]| serde_json::to_string(list).unwrap_or_else(|_| "[]".into());
            if !refreshed.is_empty() {
                tx.prepare_cached(REFRESH)
                    .and_then(|mut st| st.execute(params![ids(&refreshed), snapshot_id, now]))
                    .map_err(sql)?;
            }
            // Before the inserts: a replaced service_changed must stop being unresolved first.
            if !resolved.is_empty() {
                tx.prepare_cached(RESOLVE)
                    .and_then(|mut st| st.execute(params![ids(&resolved), now]))
                    .map_err(sql)?;
            }
            for c in new {
                insert
                    .execute(params![
                        c.key.kind.as_str(),
                        c.severity.as_str(),
                        c.key.ip,
                        c.key.protocol,
                        c.key.port,
                        c.message,
                        snapshot_id,
                        now
                    ])
                    .map_err(sql)?;
                outcome.raised.push(Alert {
                    id: tx.last_insert_rowid(),
                    kind: c.key.kind,
                    severity: c.severity,
                    ip: c.key.ip.clone(),
                    protocol: c.key.protocol.clone(),
                    port: c.key.port,
                    message: c.message.clone(),
                    status: AlertStatus::Open,
                    first_snapshot: snapshot_id,
                    last_snapshot: snapshot_id,
                    created_at: now_ts,
                    updated_at: now_ts,
                    note: None,
                });
            }
        }
        tx.commit().map_err(sql)?;
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests;

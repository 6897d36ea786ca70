//! Which alerts a run refreshes, resolves and raises: pure, the unresolved alerts and the run's
//! [`Evaluation`] in, the [`AlertChanges`] the store applies in one transaction out
//! (`Store::sync_alerts`).
//!
//! - An unresolved alert whose condition holds is seen again (`last_snapshot` = this run).
//! - One whose condition is gone is `resolved`, unless it is ignored (never resolved or raised
//!   again until un-ignored). A port alert last seen by a snapshot of another profile is not
//!   resolved either: another port selection may simply not have probed the port.
//! - A condition with no unresolved alert of its identity is raised as a new `open` alert.
//!   A `service_changed` seen while an earlier one is still unresolved and not ignored (the
//!   service changed again) resolves the earlier one and raises a new one.
//! - Addresses the run did not cover are never touched ([`Judgement::Unknown`]).

use std::collections::HashMap;

use super::{AlertKey, Evaluation, Judgement};
use crate::model::{AlertKind, AlertStatus};
use crate::store::{Alert, AlertChanges, NewAlert, UnresolvedAlert};

impl AlertKey {
    /// The identity of a stored alert.
    pub fn of(alert: &Alert) -> AlertKey {
        AlertKey {
            kind: alert.kind,
            ip: alert.ip.clone(),
            protocol: alert.protocol.clone(),
            port: alert.port,
        }
    }
}

/// What snapshot `snapshot_id` of `profile`, evaluated as `eval`, changes about the
/// `unresolved` alerts.
pub fn plan(
    unresolved: &[UnresolvedAlert],
    snapshot_id: i64,
    profile: &str,
    eval: &Evaluation,
) -> AlertChanges {
    let mut changes = AlertChanges::default();
    let mut remaining: HashMap<AlertKey, &Alert> = HashMap::with_capacity(unresolved.len());
    for row in unresolved {
        let alert = &row.alert;
        let key = AlertKey::of(alert);
        let mut judgement = eval.judge(&key);
        let other_ports =
            key.port.is_some() && row.last_profile.as_deref().is_some_and(|p| p != profile);
        if judgement == Judgement::Gone && other_ports {
            judgement = Judgement::Unknown;
        }
        match judgement {
            Judgement::Holds => changes.seen_again.push(alert.id),
            Judgement::Gone if alert.status != AlertStatus::Ignored => {
                changes.resolve.push(alert.id);
                continue;
            }
            Judgement::Gone | Judgement::Unknown => {}
        }
        remaining.insert(key, alert);
    }
    for c in &eval.raise {
        if let Some(old) = remaining.get(&c.key) {
            let changed_again =
                c.key.kind == AlertKind::ServiceChanged && old.status != AlertStatus::Ignored;
            if !changed_again {
                continue;
            }
            changes.resolve.push(old.id);
            remaining.remove(&c.key);
        }
        changes.raise.push(NewAlert {
            kind: c.key.kind,
            severity: c.severity,
            ip: c.key.ip.clone(),
            protocol: c.key.protocol.clone(),
            port: c.key.port,
            message: c.message.clone(),
            snapshot: snapshot_id,
        });
    }
    changes
}

#[cfg(test)]
mod tests;

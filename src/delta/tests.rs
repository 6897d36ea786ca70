//! Table-driven tests over small hand-built snapshots (documentation address ranges only).

mod changes;
mod json;
mod not_compared;
mod score;
mod status;

use super::*;
use crate::config::ExpectedPorts;
use crate::model::{Host, Port, Script, Service};
use crate::snapshot::{SnapshotStatus, TargetRecord, TargetStatus};
pub(super) use crate::testdata::{done, host, open, port, target, up};

pub(super) fn snap(profile: &str, targets: Vec<TargetRecord>, hosts: Vec<Host>) -> Snapshot {
    Snapshot {
        scanned: None,
        unconfirmed: Vec::new(),
        id: None,
        started_at: "2026-11-20T02:00:00Z".parse().unwrap(),
        finished_at: "2026-11-20T02:05:00Z".parse().unwrap(),
        profile: profile.into(),
        nmap_args: "nmap -oX -".into(),
        nmap_version: "7.93".into(),
        status: SnapshotStatus::from_targets(&targets),
        targets,
        hosts,
    }
}

/// Both sides cover 192.0.2.0/28 (completed).
pub(super) fn pair(before: Vec<Host>, after: Vec<Host>) -> Delta {
    let a = snap("default", vec![done("192.0.2.0/28")], before);
    let b = snap("default", vec![done("192.0.2.0/28")], after);
    compare(Some(&a), &b, &DeltaConfig::default())
}

/// A change in brief: kind, ip, (protocol, port), severity.
pub(super) type Brief = (ChangeKind, String, Option<(String, u16)>, Severity);

/// Each change in brief, for compact expectations.
pub(super) fn brief(delta: &Delta) -> Vec<Brief> {
    delta
        .changes
        .iter()
        .map(|c| {
            let port = c.port.as_ref().map(|p| (p.protocol.clone(), p.port));
            (c.kind, c.ip.clone(), port, c.severity)
        })
        .collect()
}

pub(super) fn script(id: &str, output: &str) -> Script {
    Script {
        id: id.into(),
        output: output.into(),
    }
}

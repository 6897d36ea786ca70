//! `[alerts] gone_after_runs = N`: a `host_gone` or `port_closed` alert only once the
//! disappearance has held for N consecutive confirmed runs. Pure: the run and the earlier runs
//! of its technique (each with its delta, newest first; `history::recent_runs` loads them) in,
//! the changes to raise now out.
//!
//! A disappearance starts with the (confirmed) change in some run's delta; it counts the runs
//! from that one to this one that scanned the thing and still saw it gone. A run that did not
//! scan it (address not covered, port outside its selection) neither counts nor breaks the
//! count; a run that saw it back (host up, port open) ends it, and a later disappearance
//! starts a new count. The deltas themselves are never delayed: they report what the run
//! confirmed.

use std::collections::HashSet;

use super::{AlertKey, AlertKind, Judgement, observe};
use crate::delta::index::Indexed;
use crate::delta::{Change, ChangeKind, Delta};
use crate::snapshot::Snapshot;

/// Earlier runs a run past the first may skip (did not scan the thing) and still count.
pub const SKIPPED_RUNS: u32 = 3;

/// How many earlier runs [`held`] needs for `gone_after_runs = n` (none for 1).
pub fn runs_needed(n: u32) -> usize {
    if n <= 1 {
        0
    } else {
        (n - 1 + SKIPPED_RUNS) as usize
    }
}

/// The `host_gone` and `port_closed` changes of `runs` (`runs[0]` this run, then earlier runs
/// of its technique newest first, each with its delta against the run before it) whose
/// disappearance has been seen by at least `n` runs since, this one included, and never
/// undone. Each thing once, from its latest change.
pub fn held(runs: &[(&Snapshot, &Delta)], n: u32) -> Vec<Change> {
    let judges: Vec<_> = runs
        .iter()
        .map(|(s, _)| observe(&Indexed::new(s)))
        .collect();
    let mut decided: HashSet<AlertKey> = HashSet::new();
    let mut out = Vec::new();
    for (j, (_, delta)) in runs.iter().enumerate() {
        for c in &delta.changes {
            let Some(key) = key_of(c) else { continue };
            if !decided.insert(key.clone()) {
                continue;
            }
            // Run j saw it go; runs j-1 .. 0 came after it.
            let mut seen_gone = 0u32;
            let mut back = false;
            for judge in judges[..=j].iter().rev() {
                match judge.judge(&key) {
                    Judgement::Holds => seen_gone += 1,
                    Judgement::Gone => back = true,
                    Judgement::Unknown => {}
                }
            }
            if !back && seen_gone >= n {
                out.push(c.clone());
            }
        }
    }
    out
}

/// The alert identity of a disappearance, `None` for other changes.
fn key_of(c: &Change) -> Option<AlertKey> {
    let ip = c.ip.parse::<std::net::IpAddr>().ok()?.to_string();
    match (c.kind, &c.port) {
        (ChangeKind::HostGone, _) => Some(AlertKey {
            kind: AlertKind::HostGone,
            ip,
            protocol: None,
            port: None,
        }),
        (ChangeKind::PortClosed, Some(p)) => Some(AlertKey {
            kind: AlertKind::PortClosed,
            ip,
            protocol: Some(p.protocol.to_ascii_lowercase()),
            port: Some(p.port),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests;

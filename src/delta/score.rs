//! The security score of a snapshot: 100 minus a penalty per open port now.
//!
//! Only what was really observed is scored: up hosts covered by a *completed* target. A host
//! of a failed or timed-out target is not scored (its absence of ports proves nothing), and an
//! entry none of whose targets completed has no score (`null`) rather than a flattering 100.
//! The overall score counts each host once even when several entries cover it.

use serde::{Deserialize, Serialize};

use super::index::Indexed;
use super::severity::{DeltaConfig, is_unexpected};
use crate::model::Severity;
use crate::snapshot::Snapshot;

/// Points an unexpected open port takes off, on top of its severity's penalty.
pub const UNEXPECTED_PENALTY: u64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Band {
    Critical,
    Monitor,
    Good,
    Excellent,
}

impl Band {
    /// Excellent 90+, Good 70-89, Monitor 50-69, Critical 0-49.
    pub fn of(score: u8) -> Band {
        match score {
            90.. => Band::Excellent,
            70..=89 => Band::Good,
            50..=69 => Band::Monitor,
            _ => Band::Critical,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Band::Excellent => "Excellent",
            Band::Good => "Good",
            Band::Monitor => "Monitor",
            Band::Critical => "Critical",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    /// `None` when no target of the snapshot completed.
    pub overall: Option<u8>,
    pub band: Option<Band>,
    /// One per `targets.txt` entry, in file order.
    pub entries: Vec<EntryScore>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryScore {
    pub entry: String,
    /// `None` when none of the entry's targets completed.
    pub score: Option<u8>,
    pub band: Option<Band>,
}

/// Points an open port of this severity takes off the security score.
pub fn penalty(severity: Severity) -> u64 {
    match severity {
        Severity::Critical => 30,
        Severity::High => 15,
        Severity::Medium => 5,
        Severity::Low | Severity::Info => 0,
    }
}

/// 100 minus `penalty`, floored at 0.
pub fn from_penalty(penalty: u64) -> u8 {
    u8::try_from(100u64.saturating_sub(penalty)).unwrap_or(0)
}

/// The score of `snapshot` on its own (for reports without a delta).
pub fn score(snapshot: &Snapshot, delta_config: &DeltaConfig) -> Score {
    score_indexed(&Indexed::new(snapshot), delta_config)
}

pub(crate) fn score_indexed(ix: &Indexed<'_>, delta_config: &DeltaConfig) -> Score {
    let mut overall = 0u64;
    let mut per_entry = vec![0u64; ix.entries.len()];
    for (&ip, host) in &ix.hosts {
        if !host.up || !ix.covered.contains(ip) {
            continue;
        }
        let mut open = host.ports.iter().filter(|p| p.is_open()).peekable();
        if open.peek().is_none() {
            continue;
        }
        let expected = ix.expected_ports(delta_config, ip);
        let penalty: u64 = open
            .map(|p| {
                let unexpected = is_unexpected(expected.as_ref(), &p.protocol, p.portid);
                penalty(delta_config.severity_of(p.portid))
                    + if unexpected { UNEXPECTED_PENALTY } else { 0 }
            })
            .sum();
        overall += penalty;
        for &id in ix.entry_index.entries_of(ip) {
            per_entry[id as usize] += penalty;
        }
    }
    let any_completed = ix.snapshot.targets.iter().any(|t| t.is_completed());
    let overall = any_completed.then(|| from_penalty(overall));
    Score {
        overall,
        band: overall.map(Band::of),
        entries: ix
            .entries
            .iter()
            .zip(&ix.entry_completed)
            .zip(per_entry)
            .map(|((entry, &completed), penalty)| {
                let score = completed.then(|| from_penalty(penalty));
                EntryScore {
                    entry: entry.to_string(),
                    score,
                    band: score.map(Band::of),
                }
            })
            .collect(),
    }
}

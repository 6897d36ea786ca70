//! From nmap outcomes to a snapshot. A run's chunks end as [`ChunkState`]s plus what the
//! completed ones found ([`Harvest`]); the targets' records follow from the plan and the
//! states alone. A sharded run stores each shard's states and harvest, and its finalize puts
//! them together with the same functions, so a run split over N shards gives the snapshot
//! one process would have.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::plan::Plan;
use crate::model::Host;
use crate::nmap::ScanOutcome;
use crate::snapshot::{
    PortCoverage, Snapshot, SnapshotStatus, TargetRecord, TargetStatus, runs_version_detection,
};

/// How one chunk (one nmap process) ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ChunkState {
    Completed,
    Failed {
        reason: String,
    },
    /// Stopped after `seconds` (`nmap_timeout`).
    TimedOut {
        seconds: u64,
    },
    /// Its shard never stored a result (sharded runs only).
    ShardMissing {
        shard: u32,
        shards: u32,
    },
}

/// What the completed chunks found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Harvest {
    pub hosts: Vec<Host>,
    /// The ports nmap says it probed, merged over the chunks.
    pub scanned: Option<PortCoverage>,
    /// The first completed chunk's nmap version.
    pub nmap_version: String,
}

impl Harvest {
    /// Adds `other` (chunks later in address order) to this one.
    pub fn extend(&mut self, other: Harvest) {
        self.hosts.extend(other.hosts);
        if let Some(c) = other.scanned {
            self.scanned
                .get_or_insert_with(PortCoverage::default)
                .merge(&c);
        }
        if self.nmap_version.is_empty() {
            self.nmap_version = other.nmap_version;
        }
    }
}

/// Splits `(chunk index, outcome)` pairs into each chunk's state and what the completed
/// ones found; `nmap_args` says whether version detection ran.
pub fn harvest(
    outcomes: Vec<(usize, ScanOutcome)>,
    nmap_args: &[String],
    timeout: Duration,
) -> (Vec<(usize, ChunkState)>, Harvest) {
    let version_detection = runs_version_detection(nmap_args.iter().map(String::as_str));
    let mut states = Vec::with_capacity(outcomes.len());
    let mut found = Harvest::default();
    for (i, outcome) in outcomes {
        let state = match outcome {
            ScanOutcome::Completed(result) => {
                // What nmap says it probed (its `--top-ports` list included), chunk by chunk.
                let scanned = PortCoverage::from_scaninfo(&result.scaninfo, version_detection);
                found.extend(Harvest {
                    hosts: result.hosts,
                    scanned,
                    nmap_version: result.nmap_version,
                });
                ChunkState::Completed
            }
            ScanOutcome::Failed(reason) => ChunkState::Failed { reason },
            ScanOutcome::TimedOut => ChunkState::TimedOut {
                seconds: timeout.as_secs(),
            },
        };
        states.push((i, state));
    }
    (states, found)
}

/// Each planned target's record: completed when every chunk holding one of its addresses
/// completed, else the first problem in address order, with the reason. `states` is indexed
/// like `plan.chunks`; a chunk without a state was never run.
pub fn target_records(plan: &Plan, states: &[Option<ChunkState>]) -> Vec<TargetRecord> {
    let runs = plan.chunks.len();
    plan.targets
        .iter()
        .map(|t| {
            let (status, error, covers) = match &t.covers {
                Err(u) => (u.status, Some(u.error.clone()), Vec::new()),
                Ok(covers) => {
                    let problem = t.chunks.iter().find_map(|&i| {
                        let n = i + 1;
                        match states.get(i).and_then(Option::as_ref) {
                            Some(ChunkState::Completed) => None,
                            Some(ChunkState::Failed { reason }) => Some((
                                TargetStatus::Failed,
                                format!("nmap run {n} of {runs} failed: {reason}"),
                            )),
                            Some(ChunkState::TimedOut { seconds }) => Some((
                                TargetStatus::Timeout,
                                format!(
                                    "nmap run {n} of {runs} did not finish within {seconds} s \
                                     and was stopped"
                                ),
                            )),
                            Some(ChunkState::ShardMissing { shard, shards }) => Some((
                                TargetStatus::ShardMissing,
                                format!(
                                    "shard {shard}/{shards} (nmap run {n} of {runs}) never \
                                     finished"
                                ),
                            )),
                            None => Some((TargetStatus::Failed, "nmap was not run".to_string())),
                        }
                    });
                    match problem {
                        Some((status, error)) => (status, Some(error), covers.clone()),
                        None => (TargetStatus::Completed, None, covers.clone()),
                    }
                }
            };
            TargetRecord {
                entry: t.entry.clone(),
                target: t.target.clone(),
                status,
                error,
                covers,
            }
        })
        .collect()
}

/// How a run was asked of nmap, for the snapshot's head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunHead {
    /// The snapshot's profile (with `+ports=SPEC` when overridden).
    pub profile_label: String,
    pub nmap_args: Vec<String>,
}

/// The snapshot of a finished run (not saved, not yet confirmed).
pub fn snapshot(
    head: &RunHead,
    plan: &Plan,
    started_at: Timestamp,
    states: &[Option<ChunkState>],
    found: Harvest,
) -> Snapshot {
    let targets = target_records(plan, states);
    Snapshot {
        scanned: found.scanned,
        unconfirmed: Vec::new(),
        id: None,
        started_at,
        finished_at: Timestamp::now(),
        profile: head.profile_label.clone(),
        nmap_args: head.nmap_args.join(" "),
        nmap_version: found.nmap_version,
        status: SnapshotStatus::from_targets(&targets),
        targets,
        hosts: found.hosts,
    }
}

/// States indexed like the plan's chunks, from `(index, state)` pairs.
pub fn by_chunk(plan: &Plan, states: Vec<(usize, ChunkState)>) -> Vec<Option<ChunkState>> {
    let mut out = vec![None; plan.chunks.len()];
    for (i, state) in states {
        if let Some(slot) = out.get_mut(i) {
            *slot = Some(state);
        }
    }
    out
}

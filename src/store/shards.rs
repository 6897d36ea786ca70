//! Sharded runs (PostgreSQL only; see `batch::shard`): the run's plan, registered by its
//! first shard, each shard's part, and the mark that the run was finalized into one snapshot.
//! The store keeps the rows and the atomicity (a retry replaces its shard's part; a run is
//! finalized at most once); what a part holds is the batch's business (opaque JSON text).

use jiff::Timestamp;
use serde::Serialize;

use super::deltas::DeltaOf;
use super::rows::{parse_time, time_text};
use super::{Store, StoreError};
use crate::snapshot::Snapshot;

/// A run as its first shard registered it, in stored form.
#[derive(Debug, Clone)]
pub(super) struct RawShardRun {
    pub run_id: String,
    pub shards: i64,
    pub profile: String,
    pub created_at: String,
    pub snapshot_id: Option<i64>,
    pub finalized_at: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct RawShardPart {
    pub shard: i64,
    pub state: String,
    pub attempts: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    /// Its part is stored (or was, until the run was finalized).
    pub stored: bool,
}

/// What registering a shard found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// Registered as running; scan.
    Running,
    /// The run was finalized already (its snapshot, unless retention deleted it).
    Finalized(Option<i64>),
    /// The run was registered with another shard count, profile or plan.
    Mismatch(String),
}

/// What storing a shard's part found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartCommit {
    /// Whether the run was registered at all.
    pub known: bool,
    pub shards: i64,
    /// Shards whose part is stored.
    pub done: i64,
    /// `Some` when the run was finalized already (nothing was stored).
    pub finalized: Option<Option<i64>>,
}

impl PartCommit {
    /// Every shard's part is stored and the run is not finalized yet.
    pub fn complete(&self) -> bool {
        self.known && self.finalized.is_none() && self.done >= self.shards
    }
}

/// Where one shard of a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShardState {
    /// Started and not ended: still scanning, or its process died (a retry follows).
    Running,
    /// Its part is stored.
    Done,
    /// Every one of its nmap runs failed (its part, stored, says so), or it ended with an
    /// error before storing one (`error`).
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardPart {
    pub shard: u32,
    pub state: ShardState,
    pub attempts: u32,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub error: Option<String>,
    /// Its part is in: the run can be finalized with it.
    pub stored: bool,
}

/// A sharded run and its shards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardRun {
    pub run_id: String,
    pub shards: u32,
    pub profile: String,
    pub created_at: Timestamp,
    /// The finalized snapshot (`None` while pending, or after retention deleted it).
    pub snapshot_id: Option<i64>,
    pub finalized_at: Option<Timestamp>,
    /// The shards that ever started, by shard; the others are missing.
    pub parts: Vec<ShardPart>,
}

impl ShardRun {
    fn count(&self, state: ShardState) -> u32 {
        self.parts.iter().filter(|p| p.state == state).count() as u32
    }

    pub fn done(&self) -> u32 {
        self.count(ShardState::Done)
    }

    pub fn failed(&self) -> u32 {
        self.count(ShardState::Failed)
    }

    pub fn running(&self) -> u32 {
        self.count(ShardState::Running)
    }

    /// Shards that never started.
    pub fn missing(&self) -> u32 {
        self.shards.saturating_sub(self.parts.len() as u32)
    }

    /// Shards whose part is in.
    pub fn stored(&self) -> u32 {
        self.parts.iter().filter(|p| p.stored).count() as u32
    }

    /// Shards without a stored part (failed before storing, still running, never started).
    pub fn missing_shards(&self) -> Vec<u32> {
        (0..self.shards)
            .filter(|k| !self.parts.iter().any(|p| p.shard == *k && p.stored))
            .collect()
    }
}

fn corrupt(store: &Store, detail: String) -> StoreError {
    StoreError::Corrupt {
        db: store.db.name().to_string(),
        detail,
    }
}

fn small(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Store {
    /// Registers shard `shard` of `run_id` (`shards` in all, `profile`, `plan` as JSON text)
    /// as running. [`Registration::Mismatch`] when the run was registered differently.
    pub fn register_shard(
        &mut self,
        run_id: &str,
        shards: u32,
        profile: &str,
        plan: &str,
        shard: u32,
    ) -> Result<Registration, StoreError> {
        let run = RawShardRun {
            run_id: run_id.to_string(),
            shards: i64::from(shards),
            profile: profile.to_string(),
            created_at: time_text(Timestamp::now()),
            snapshot_id: None,
            finalized_at: None,
        };
        self.db.register_shard(&run, plan, i64::from(shard))
    }

    /// Stores shard `shard`'s part (JSON text), replacing an earlier attempt's (`failed`:
    /// every chunk in it failed); with `None`, records that the shard failed with `error`.
    pub fn commit_shard_part(
        &mut self,
        run_id: &str,
        shard: u32,
        part: Option<&str>,
        failed: bool,
        error: Option<&str>,
    ) -> Result<PartCommit, StoreError> {
        let now = time_text(Timestamp::now());
        self.db
            .commit_shard_part(run_id, i64::from(shard), part, failed, error, &now)
    }

    /// Sharded runs, newest first, at most `limit`; only `run_id` when given.
    pub fn shard_runs(
        &self,
        run_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ShardRun>, StoreError> {
        let rows = self.db.shard_runs(run_id, i64::from(limit))?;
        let time = |t: &str| parse_time(t).map_err(|e| corrupt(self, e));
        let mut out = Vec::with_capacity(rows.len());
        for (run, parts) in rows {
            let mut heads = Vec::with_capacity(parts.len());
            for p in parts {
                let state = match p.state.as_str() {
                    "running" => ShardState::Running,
                    "done" => ShardState::Done,
                    "failed" => ShardState::Failed,
                    other => return Err(corrupt(self, format!("shard state {other:?}"))),
                };
                heads.push(ShardPart {
                    shard: small(p.shard),
                    state,
                    attempts: small(p.attempts),
                    started_at: time(&p.started_at)?,
                    finished_at: p.finished_at.as_deref().map(time).transpose()?,
                    error: p.error,
                    stored: p.stored,
                });
            }
            out.push(ShardRun {
                run_id: run.run_id,
                shards: small(run.shards),
                profile: run.profile,
                created_at: time(&run.created_at)?,
                snapshot_id: run.snapshot_id,
                finalized_at: run.finalized_at.as_deref().map(time).transpose()?,
                parts: heads,
            });
        }
        Ok(out)
    }

    /// The plan (JSON text) `run_id` was registered with.
    pub fn shard_run_plan(&self, run_id: &str) -> Result<Option<String>, StoreError> {
        self.db.shard_run_plan(run_id)
    }

    /// The stored parts (JSON text) of `run_id`, by shard.
    pub fn shard_parts(&self, run_id: &str) -> Result<Vec<(u32, String)>, StoreError> {
        Ok(self
            .db
            .shard_parts(run_id)?
            .into_iter()
            .map(|(k, part)| (small(k), part))
            .collect())
    }

    /// Saves `s` as the snapshot of `run_id` and marks the run finalized, in one transaction;
    /// `None` (nothing saved) when it was finalized already.
    /// `delta` makes the stored delta's row for the new id, as in
    /// [`Store::save_snapshot_with_delta`].
    pub fn save_finalized(
        &mut self,
        run_id: &str,
        s: &Snapshot,
        delta: DeltaOf<'_>,
    ) -> Result<Option<i64>, StoreError> {
        let now = time_text(Timestamp::now());
        self.db.save_finalized(run_id, s, Some(delta), &now)
    }

    /// Runs not finalized whose first shard started before `before`, oldest first.
    pub fn unfinalized_shard_runs(&self, before: Timestamp) -> Result<Vec<String>, StoreError> {
        self.db.unfinalized_shard_runs(&time_text(before))
    }
}

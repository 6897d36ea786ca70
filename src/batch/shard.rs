//! One run split over N shards that meet in PostgreSQL: the pods of a Kubernetes Indexed Job,
//! or any N processes given `--shard K/N --run-id ID`.
//!
//! Every shard builds the same plan (targets → chunks, split by
//! [`plan::build_sharded`](super::plan::build_sharded)) and runs only its own chunks. The
//! first to start registers the run with its plan; a shard whose plan differs (another
//! targets file, a hostname resolved otherwise) is refused, so the parts always fit together.
//! A shard stores its part (each chunk's state and what the completed ones found) in one
//! transaction, replacing an earlier attempt of the same shard. The shard that stores the
//! last part finalizes the run: under the profile's writer lock, the parts become one
//! snapshot, saved and marked finalized in one transaction, then the usual confirmation,
//! delta, alerts, notifications, reports and retention ([`super::commit`]). `finalize`
//! (`daily_scan finalize`) does the same for a run whose missing shards never came; their
//! chunks are [`ChunkState::ShardMissing`], so their targets are not compared, never gone.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use log::info;
use serde::{Deserialize, Serialize};

use super::assemble::{self, ChunkState, Harvest, RunHead};
use super::plan::Plan;
use super::{BatchError, Prepared, Recheck, RunOptions, RunOutput, commit, run_chunks};
use crate::config::{Config, Database, PostgresUrl};
use crate::store::{PgWriterLock, Registration, ShardRun, Store, StoreError};
pub use identity::{MAX_SHARDS, RunId, ShardError, ShardSpec, from_args};

mod identity;

/// What the shards of a run agree on: registered by the first, compared by the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct RunPlan {
    head: RunHead,
    plan: Plan,
}

/// One shard's contribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Part {
    started_at: Timestamp,
    finished_at: Timestamp,
    /// Its chunks (indexes into the plan's) and how each ended.
    chunks: Vec<(usize, ChunkState)>,
    found: Harvest,
}

/// How a shard process ended.
#[derive(Debug)]
pub enum ShardOutcome {
    /// Its part is stored; `done` of `shards` parts are in.
    Stored { done: i64, shards: i64 },
    /// It stored the last part and finalized the run.
    Finalized(Box<RunOutput>),
    /// Its part is stored and the run complete, but another process is finalizing it.
    FinalizingElsewhere,
    /// The run was finalized before this shard ended: its result was not used.
    TooLate(Option<i64>),
}

fn postgres(config: &Config) -> Result<PostgresUrl, BatchError> {
    match config.database() {
        Database::Postgres(url) => Ok(url),
        Database::Sqlite(path) => Err(StoreError::ShardsNeedPostgres {
            db: path.display().to_string(),
        }
        .into()),
    }
}

/// Runs shard `spec` of run `run_id`: `p` must be prepared with `spec.count` shards.
pub fn run_shard(
    config: &Config,
    p: &Prepared,
    spec: ShardSpec,
    run_id: &RunId,
    opts: &RunOptions,
) -> Result<ShardOutcome, BatchError> {
    let url = postgres(config)?;
    let mut store = Store::connect(&Database::Postgres(url))?;
    let plan = RunPlan {
        head: p.head(),
        plan: p.plan.clone(),
    };
    let plan_text = serde_json::to_string(&plan).map_err(|e| ShardError::Corrupt {
        run_id: run_id.to_string(),
        what: "plan",
        detail: e.to_string(),
    })?;
    let id = run_id.as_str();
    match store.register_shard(id, spec.count, &p.profile_label, &plan_text, spec.index)? {
        Registration::Running => {}
        Registration::Finalized(snapshot) => return Ok(ShardOutcome::TooLate(snapshot)),
        Registration::Mismatch(detail) => {
            return Err(ShardError::Mismatch {
                run_id: id.to_string(),
                detail,
            }
            .into());
        }
    }
    info!("run {id}: shard {spec} registered");
    let started_at = Timestamp::now();
    let outcomes = match run_chunks(p, Some(spec.index), opts.show_progress) {
        Ok(o) => o,
        Err(e) => {
            store.commit_shard_part(id, spec.index, None, false, Some(&e.to_string()))?;
            return Err(e);
        }
    };
    let (chunks, found) = assemble::harvest(outcomes, &p.nmap_args, p.timeout);
    let part = Part {
        started_at,
        finished_at: Timestamp::now(),
        chunks,
        found,
    };
    let part_text = serde_json::to_string(&part).map_err(|e| ShardError::Corrupt {
        run_id: id.to_string(),
        what: "part",
        detail: e.to_string(),
    })?;
    let failed = part
        .chunks
        .iter()
        .filter(|(_, state)| *state != ChunkState::Completed)
        .count();
    let all_failed = failed > 0 && failed == part.chunks.len();
    let error = (failed > 0).then(|| {
        format!(
            "{failed} of {} nmap runs failed or timed out (see the run's targets)",
            part.chunks.len()
        )
    });
    let stored = store.commit_shard_part(
        id,
        spec.index,
        Some(&part_text),
        all_failed,
        error.as_deref(),
    )?;
    if let Some(snapshot) = stored.finalized {
        return Ok(ShardOutcome::TooLate(snapshot));
    }
    info!(
        "run {id}: shard {spec} stored its part ({} of {} shards in)",
        stored.done, stored.shards
    );
    if !stored.complete() {
        return Ok(ShardOutcome::Stored {
            done: stored.done,
            shards: stored.shards,
        });
    }
    drop(store);
    Ok(
        match finalize(config, run_id, opts, Finalize::WhenComplete)? {
            Finalized::Done(out) => ShardOutcome::Finalized(out),
            Finalized::Already(snapshot) => ShardOutcome::TooLate(snapshot),
            Finalized::Busy | Finalized::Waiting { .. } => ShardOutcome::FinalizingElsewhere,
        },
    )
}

/// When [`finalize`] may finalize a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finalize {
    /// Only once every shard's part is stored (what the last shard does).
    WhenComplete,
    /// Now, whatever is missing (`daily_scan finalize --run-id ID`).
    Now,
    /// When complete, or once the run is older than this (`--after`, the safety net).
    After(Duration),
}

/// What [`finalize`] did.
#[derive(Debug)]
pub enum Finalized {
    Done(Box<RunOutput>),
    /// Finalized before (its snapshot, unless retention deleted it).
    Already(Option<i64>),
    /// Another process holds the profile's writer lock (finalizing, or a run of it).
    Busy,
    /// Not complete, and not old enough for `--after`.
    Waiting {
        run: ShardRun,
    },
}

/// Finalizes run `run_id` into one snapshot (see the module docs), at most once.
pub fn finalize(
    config: &Config,
    run_id: &RunId,
    opts: &RunOptions,
    when: Finalize,
) -> Result<Finalized, BatchError> {
    let url = postgres(config)?;
    let id = run_id.as_str();
    let db = Database::Postgres(url.clone());
    let mut store = Store::connect(&db)?;
    let run = load_run(&store, id)?;
    if run.finalized_at.is_some() {
        return Ok(Finalized::Already(run.snapshot_id));
    }
    let complete = run.stored() >= run.shards;
    let due = match when {
        Finalize::WhenComplete => complete,
        Finalize::Now => true,
        Finalize::After(after) => complete || older_than(run.created_at, after),
    };
    if !due {
        return Ok(Finalized::Waiting { run });
    }
    let Some(_lock) = PgWriterLock::try_acquire(&url, Some(&run.profile))? else {
        return Ok(Finalized::Busy);
    };
    // Read again under the lock: another finalizer may have finished meanwhile.
    let run = load_run(&store, id)?;
    if run.finalized_at.is_some() {
        return Ok(Finalized::Already(run.snapshot_id));
    }
    let corrupt = |what: &'static str, e: serde_json::Error| ShardError::Corrupt {
        run_id: id.to_string(),
        what,
        detail: e.to_string(),
    };
    let plan_text = store
        .shard_run_plan(id)?
        .ok_or_else(|| ShardError::UnknownRun(id.to_string()))?;
    let plan: RunPlan = serde_json::from_str(&plan_text).map_err(|e| corrupt("plan", e))?;
    let mut states = vec![None; plan.plan.chunks.len()];
    let mut found = Harvest::default();
    let mut have = vec![false; plan.plan.shards as usize];
    for (k, text) in store.shard_parts(id)? {
        let part: Part = serde_json::from_str(&text).map_err(|e| corrupt("part", e))?;
        if let Some(slot) = have.get_mut(k as usize) {
            *slot = true;
        }
        for (i, state) in part.chunks {
            if let Some(slot) = states.get_mut(i) {
                *slot = Some(state);
            }
        }
        found.extend(part.found);
    }
    for (slot, chunk) in states.iter_mut().zip(&plan.plan.chunks) {
        if slot.is_none() && !have.get(chunk.shard as usize).copied().unwrap_or(false) {
            *slot = Some(ChunkState::ShardMissing {
                shard: chunk.shard,
                shards: plan.plan.shards,
            });
        }
    }
    let missing = run.missing_shards();
    if !missing.is_empty() {
        log::warn!(
            "run {id}: finalizing without shard{} {} of {}: their targets are not compared",
            if missing.len() == 1 { "" } else { "s" },
            missing
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            run.shards
        );
    }
    let snapshot = assemble::snapshot(&plan.head, &plan.plan, run.created_at, &states, found);
    let recheck = Recheck {
        program: config.nmap_path.clone(),
        nmap_args: plan.head.nmap_args.clone(),
        timeout: config.nmap_timeout(),
    };
    let mut out = commit(config, &mut store, &recheck, snapshot, opts, Some(id))?;
    out.sharded = store.shard_runs(Some(id), 1)?.into_iter().next();
    info!("run {id}: finalized as snapshot {:?}", out.snapshot.id);
    Ok(Finalized::Done(Box::new(out)))
}

fn older_than(t: Timestamp, after: Duration) -> bool {
    let after = SignedDuration::try_from(after).unwrap_or(SignedDuration::MAX);
    Timestamp::now()
        .checked_sub(after)
        .is_ok_and(|cutoff| t <= cutoff)
}

fn load_run(store: &Store, id: &str) -> Result<ShardRun, BatchError> {
    Ok(store
        .shard_runs(Some(id), 1)?
        .into_iter()
        .next()
        .ok_or_else(|| ShardError::UnknownRun(id.to_string()))?)
}

/// Where run `run_id` stands now (`None`: no shard of it ever started).
pub fn status(config: &Config, run_id: &RunId) -> Result<Option<ShardRun>, BatchError> {
    let store = Store::connect(&Database::Postgres(postgres(config)?))?;
    Ok(store
        .shard_runs(Some(run_id.as_str()), 1)?
        .into_iter()
        .next())
}

/// Every run not finalized whose first shard started more than `after` ago, oldest first
/// (what the safety-net `daily_scan finalize --after` looks at).
pub fn stale_runs(config: &Config, after: Duration) -> Result<Vec<RunId>, BatchError> {
    let url = postgres(config)?;
    let store = Store::connect(&Database::Postgres(url))?;
    let after = SignedDuration::try_from(after).unwrap_or(SignedDuration::MAX);
    let before = Timestamp::now()
        .checked_sub(after)
        .unwrap_or(Timestamp::MIN);
    Ok(store
        .unfinalized_shard_runs(before)?
        .into_iter()
        .filter_map(|id| id.parse().ok())
        .collect())
}

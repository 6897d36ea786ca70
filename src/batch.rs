//! One `daily_scan` run: targets file → plan → nmap runs on a pool of our own → one snapshot,
//! saved in one transaction → delta against the previous snapshot of the same profile →
//! alerts raised/resolved and their notifications written to the outbox in one transaction
//! (`alerts`, `notify::enqueue`, `Store::sync_alerts_and_enqueue`) → outbox flushed (`notify`) → `<output_dir>/<UTC stamp>/{scan.json, delta.json, delta.csv, report.html}`.
//!
//! Failure semantics: a chunk (one nmap process) that fails or times out marks every target
//! with an address in it failed or timed out; its addresses are then not covered, so the delta
//! lists them as "not compared" instead of reading silence as closed ports. Nothing reaches
//! the database until every chunk has ended: a run killed half-way leaves no snapshot.

pub mod assemble;
mod commit;
pub mod confirm;
pub mod dry_run;
pub mod import;
pub mod lock;
pub mod metrics;
pub mod plan;
pub mod progress;
mod retention;
pub mod shard;
pub mod tls;

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use log::{info, warn};
use rayon::prelude::*;

use crate::config::{Config, Database};
use crate::delta::{Delta, DeltaConfig};
use crate::history::TimelineRow;
use crate::nmap::run::{NmapInvocation, output_budget};
use crate::nmap::{self, ScanOutcome};
use crate::notify::{Backoff, WebhookResult};
use crate::profile::{PortSpec, PortSpecError, Profile, ProfileError};
use crate::report;
use crate::snapshot::{Snapshot, SnapshotStatus};
use crate::store::{AlertSync, PgWriterLock, Store, StoreError};
use crate::target::{self, TargetError, TargetFileError};
pub use commit::commit;
use lock::{HeldLock, LockError, WriterLock};
use plan::{Chunk, Plan};
use progress::{ChunkEnd, Progress};
pub use retention::{Pruned, retention};

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{0}")]
    TargetsFile(#[from] TargetFileError),
    #[error("{file}: {source}")]
    Targets {
        file: String,
        #[source]
        source: TargetError,
    },
    #[error("{file}: no targets (every line is blank or a comment)")]
    NoTargets { file: String },
    #[error("{0}")]
    Profile(#[from] ProfileError),
    #[error("batch.ports / --ports: {0}")]
    Ports(#[source] PortSpecError),
    #[error("{0}")]
    Lock(#[from] LockError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot write {}: {source}", path.display())]
    Output {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot start the nmap worker threads: {0}")]
    Pool(#[from] rayon::ThreadPoolBuildError),
    #[error("{0}")]
    Shard(#[from] shard::ShardError),
    #[error("run {0} was finalized by another process meanwhile")]
    FinalizedElsewhere(String),
}

/// Everything decided before anything runs: what `--dry-run` prints.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub targets_file: PathBuf,
    pub profile: Profile,
    pub ports: Option<PortSpec>,
    /// The snapshot's profile: the name, plus `+ports=SPEC` when the port selection is
    /// overridden (a different port set must never be compared as closures).
    pub profile_label: String,
    /// nmap's arguments before `-oX -` and the targets.
    pub nmap_args: Vec<String>,
    pub program: PathBuf,
    pub timeout: Duration,
    pub parallel: usize,
    pub chunk_size: usize,
    pub plan: Plan,
    /// `[tls] enabled` (after `--tls`/`--no-tls`): the TLS pass follows the port scan.
    pub tls: bool,
    /// [`Config::warnings`]: `[[expect]]` ports this run does not scan.
    pub warnings: Vec<String>,
}

/// Reads and checks everything a run needs (targets file, profile, ports, tuning), resolves
/// hostnames once and builds the plan. Scans nothing.
pub fn prepare(config: &Config, targets_file: &Path) -> Result<Prepared, BatchError> {
    prepare_shards(config, targets_file, 1)
}

/// [`prepare`] for a run split over `shards` (see [`shard`]).
pub fn prepare_shards(
    config: &Config,
    targets_file: &Path,
    shards: u32,
) -> Result<Prepared, BatchError> {
    let file = targets_file.display().to_string();
    let entries = target::parse_targets_file(targets_file)?;
    if entries.is_empty() {
        return Err(BatchError::NoTargets { file });
    }
    let profile = config.batch.profile;
    let ports = match config.batch.ports.trim() {
        "" => None,
        spec => Some(PortSpec::parse(spec, None).map_err(BatchError::Ports)?),
    };
    let access = crate::profile::raw_socket_access();
    profile.check_privilege(access)?;
    let tuning = config.nmap_tuning().normalized()?;
    let mut nmap_args = profile.nmap_args(&tuning, ports.as_ref());
    if profile.needs_raw_socket() {
        nmap_args.extend(access.nmap_args().iter().map(|a| a.to_string()));
    }
    let policy = config.network_policy();
    let expanded = target::expand(&entries, &policy, config.batch.max_hosts_per_run)
        .map_err(|source| BatchError::Targets { file, source })?;
    let plan = plan::build_sharded(&expanded, config.batch.chunk_size, shards);
    let profile_label = match &ports {
        Some(spec) => format!("{}+ports={spec}", profile.name()),
        None => profile.name().to_string(),
    };
    Ok(Prepared {
        targets_file: targets_file.to_path_buf(),
        profile,
        ports,
        profile_label,
        nmap_args,
        program: config.nmap_path.clone(),
        timeout: config.nmap_timeout(),
        parallel: config.batch.parallel,
        chunk_size: config.batch.chunk_size,
        plan,
        tls: config.tls.enabled,
        warnings: config.warnings(),
    })
}

/// How the confirmation re-check calls nmap: the run's program, arguments and timeout.
#[derive(Debug, Clone)]
pub struct Recheck {
    pub program: PathBuf,
    pub nmap_args: Vec<String>,
    pub timeout: Duration,
}

impl Prepared {
    /// What the confirmation re-check reuses of this run.
    pub fn recheck(&self) -> Recheck {
        Recheck {
            program: self.program.clone(),
            nmap_args: self.nmap_args.clone(),
            timeout: self.timeout,
        }
    }

    /// The profile and nmap arguments the snapshot's head records.
    pub fn head(&self) -> assemble::RunHead {
        assemble::RunHead {
            profile_label: self.profile_label.clone(),
            nmap_args: self.nmap_args.clone(),
        }
    }

    pub fn invocation(&self, chunk: &Chunk) -> NmapInvocation {
        NmapInvocation {
            program: self.program.clone(),
            args: self.nmap_args.clone(),
            targets: chunk.targets.clone(),
            timeout: self.timeout,
            max_output_bytes: output_budget(
                chunk.addresses,
                self.ports
                    .as_ref()
                    .map_or(PORTS_WHEN_UNSPECIFIED, PortSpec::count),
            ),
        }
    }
}

/// Port count assumed when the profile picks its own ports (nmap's default is the top 1000).
const PORTS_WHEN_UNSPECIFIED: u32 = 1000;
/// Runs every chunk (at most `parallel` nmap processes at once, on a pool of our own) and
/// assembles the snapshot. Saves nothing.
pub fn scan(p: &Prepared, show_progress: bool) -> Result<Snapshot, BatchError> {
    let started_at = Timestamp::now();
    let outcomes = run_chunks(p, None, show_progress)?;
    let (states, found) = assemble::harvest(outcomes, &p.nmap_args, p.timeout);
    let states = assemble::by_chunk(&p.plan, states);
    Ok(assemble::snapshot(
        &p.head(),
        &p.plan,
        started_at,
        &states,
        found,
    ))
}

/// Runs the plan's chunks, or only those of `shard`, at most `parallel` at once; returns
/// each chunk's index with its outcome, in plan order.
pub fn run_chunks(
    p: &Prepared,
    shard: Option<u32>,
    show_progress: bool,
) -> Result<Vec<(usize, ScanOutcome)>, BatchError> {
    let chunks: Vec<(usize, &Chunk)> = p
        .plan
        .chunks
        .iter()
        .enumerate()
        .filter(|(_, c)| shard.is_none_or(|k| c.shard == k))
        .collect();
    let total = p.plan.chunks.len();
    let addresses = chunks.iter().map(|(_, c)| c.addresses).sum();
    let progress = Progress::new(chunks.len(), addresses, show_progress);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(p.parallel.clamp(1, chunks.len().max(1)))
        .thread_name(|i| format!("nmap-{i}"))
        .build()?;
    info!(
        "scanning {} with {}, {} at a time (profile {})",
        report::text::count(addresses, "address"),
        report::text::count(chunks.len() as u64, "nmap run"),
        p.parallel,
        p.profile_label
    );
    let outcomes = progress.run(|| {
        pool.install(|| {
            chunks
                .par_iter()
                .enumerate()
                .map(|(n, &(i, chunk))| {
                    let clock = Instant::now();
                    let scan = nmap::scan(&p.invocation(chunk));
                    let end = match &scan.outcome {
                        ScanOutcome::Completed(_) => ChunkEnd::Completed,
                        ScanOutcome::Failed(reason) => {
                            warn!("nmap run {} of {total} failed: {reason}", i + 1);
                            ChunkEnd::Failed
                        }
                        ScanOutcome::TimedOut => {
                            warn!(
                                "nmap run {} of {total} timed out after {} s and was stopped",
                                i + 1,
                                p.timeout.as_secs()
                            );
                            ChunkEnd::TimedOut
                        }
                    };
                    progress.chunk_done(n, chunk.addresses, end, clock.elapsed());
                    (i, scan.outcome)
                })
                .collect()
        })
    });
    progress.finish();
    Ok(outcomes)
}

/// The snapshot of a finished run from each chunk's outcome (indexed like the plan's
/// chunks): see [`assemble`].
pub fn assemble(p: &Prepared, started_at: Timestamp, outcomes: Vec<ScanOutcome>) -> Snapshot {
    let (states, found) = assemble::harvest(
        outcomes.into_iter().enumerate().collect(),
        &p.nmap_args,
        p.timeout,
    );
    let states = assemble::by_chunk(&p.plan, states);
    assemble::snapshot(&p.head(), &p.plan, started_at, &states, found)
}

/// Options of a run beyond the configuration.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub show_progress: bool,
    /// Keep only the latest N snapshots of each profile after the run.
    pub keep: Option<usize>,
    pub delta: DeltaConfig,
    /// Spacing of notification retries.
    pub backoff: Backoff,
}

/// What a finished run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// The saved snapshot (with its id).
    pub snapshot: Snapshot,
    pub delta: Delta,
    pub timeline: Vec<TimelineRow>,
    pub report_dir: PathBuf,
    /// What retention deleted.
    pub pruned: Pruned,
    /// Alerts raised, refreshed and resolved by this run.
    pub alerts: AlertSync,
    /// One per notification the run's flush sent (this run's and earlier pending ones).
    pub webhooks: Vec<WebhookResult>,
    /// What the confirmation re-check did (all zero with `confirm = false`).
    pub confirmation: confirm::Confirmation,
    /// How the TLS pass went.
    pub tls: tls::TlsPass,
    /// A finalized sharded run: its shards as they ended.
    pub sharded: Option<crate::store::ShardRun>,
}

impl RunOutput {
    /// Exit code 1 territory: there were targets and none of them completed.
    pub fn all_failed(&self) -> bool {
        !self.snapshot.targets.is_empty() && self.snapshot.status == SnapshotStatus::Failed
    }

    /// Whether the run has news for a person: a change, a new or resolved alert, or a target
    /// that did not complete. `--quiet` prints nothing otherwise.
    pub fn changed(&self) -> bool {
        !self.delta.changes.is_empty()
            || !self.alerts.raised.is_empty()
            || !self.alerts.resolved.is_empty()
            || self.snapshot.status != SnapshotStatus::Complete
    }
}

/// One whole run: lock, scan, save, compare, raise/resolve alerts, send the new ones to the
/// webhooks (whose failures are only recorded), write the reports, apply retention.
pub fn run(config: &Config, p: &Prepared, opts: &RunOptions) -> Result<RunOutput, BatchError> {
    create_output_dir(config)?;
    // Opened before scanning: a bad database fails the run before hours of nmap.
    let (mut store, _lock) = open_for_writing(config, Some(&p.profile_label))?;
    let snapshot = scan(p, opts.show_progress)?;
    commit(config, &mut store, &p.recheck(), snapshot, opts, None)
}

fn create_output_dir(config: &Config) -> Result<(), BatchError> {
    let out_dir = &config.output_dir;
    std::fs::create_dir_all(out_dir).map_err(|source| BatchError::Output {
        path: out_dir.clone(),
        source,
    })
}

/// The database for writing (a run of `profile`; `import` and `prune` pass `None`), behind
/// the writer lock that keeps two writers apart (see [`lock`]); a SQLite file's directory is
/// created when it is the default one under `output_dir`. The lock is released when the
/// returned [`HeldLock`] is dropped.
pub fn open_for_writing(
    config: &Config,
    profile: Option<&str>,
) -> Result<(Store, HeldLock), BatchError> {
    let db = match config.database() {
        Database::Sqlite(db) => db,
        Database::Postgres(url) => {
            let lock = PgWriterLock::try_acquire(&url, profile)?.ok_or_else(|| {
                LockError::PostgresBusy {
                    database: url.to_string(),
                    scope: profile
                        .map_or("(import or prune)".to_string(), |p| format!("profile {p}")),
                }
            })?;
            return Ok((
                Store::connect(&Database::Postgres(url))?,
                HeldLock::Postgres(lock),
            ));
        }
    };
    if config.database.is_none() {
        std::fs::create_dir_all(&config.output_dir).map_err(|source| BatchError::Output {
            path: config.output_dir.clone(),
            source,
        })?;
    }
    let lock = WriterLock::acquire(&db)?;
    Ok((Store::open(&db)?, HeldLock::File(lock)))
}

/// A new directory `<out>/<YYYYMMDDTHHMMSSZ>` (suffixed `-2`, `-3`... when taken).
fn report_dir(out: &Path, started_at: Timestamp) -> Result<PathBuf, BatchError> {
    for n in 1..1000 {
        let dir = out.join(report::run_files::folder_name(started_at, n));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(BatchError::Output { path: dir, source }),
        }
    }
    Err(BatchError::Output {
        path: out.join(report::run_files::folder_name(started_at, 1)),
        source: io::Error::new(io::ErrorKind::AlreadyExists, "every suffix is taken"),
    })
}

#[cfg(test)]
mod tests;

//! One `daily_scan` run: targets file → plan → nmap runs on a pool of our own → one snapshot,
//! saved in one transaction → delta against the previous snapshot of the same profile →
//! alerts raised/resolved and their notifications written to the outbox in one transaction
//! (`alerts`, `notify::enqueue`, `Store::sync_alerts_and_enqueue`) → outbox flushed (`notify`) → `<output_dir>/<UTC stamp>/{scan.json, delta.json, delta.csv, report.html}`.
//!
//! Failure semantics: a chunk (one nmap process) that fails or times out marks every target
//! with an address in it failed or timed out; its addresses are then not covered, so the delta
//! lists them as "not compared" instead of reading silence as closed ports. Nothing reaches
//! the database until every chunk has ended: a run killed half-way leaves no snapshot.

pub mod confirm;
pub mod dry_run;
pub mod import;
pub mod lock;
pub mod metrics;
pub mod plan;
pub mod progress;
pub mod tls;

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use log::{info, warn};
use rayon::prelude::*;

use crate::alerts::{self, AlertRules};
use crate::config::{Config, Database};
use crate::delta::{Delta, DeltaConfig};
use crate::history::{self, TimelineRow};
use crate::nmap::run::{DEFAULT_MAX_OUTPUT_BYTES, NmapInvocation};
use crate::nmap::{self, ScanOutcome};
use crate::notify::{self, Backoff, WebhookResult};
use crate::profile::{PortSpec, PortSpecError, Profile, ProfileError};
use crate::report;
use crate::snapshot::{
    PortCoverage, Snapshot, SnapshotStatus, TargetRecord, TargetStatus, runs_version_detection,
};
use crate::store::{AlertSync, PgWriterLock, Store, StoreError};
use crate::target::{self, TargetError, TargetFileError};
use lock::{HeldLock, LockError, WriterLock};
use plan::{Chunk, Plan};
use progress::{ChunkEnd, Progress};

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
    let plan = plan::build(&expanded, config.batch.chunk_size);
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

impl Prepared {
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
/// Smallest stdout cap for one nmap run.
const MIN_OUTPUT_BYTES: usize = 8 * 1024 * 1024;

/// The stdout cap for one nmap run over `addresses` hosts and `ports` ports: 16 KiB per host
/// plus 4 KiB per host and port (far above what nmap writes, scripts included), between 8 MiB
/// and [`DEFAULT_MAX_OUTPUT_BYTES`]. Output is held in memory until nmap exits, so a broken
/// nmap printing garbage costs memory in proportion to the work asked of it, not always the
/// largest cap (a one-host run used to buffer up to 256 MiB; measured 402 MB RSS on 200 MB).
fn output_budget(addresses: u64, ports: u32) -> usize {
    let per_host = 16 * 1024 + 4 * 1024 * u64::from(ports);
    let budget = addresses.saturating_mul(per_host);
    usize::try_from(budget)
        .unwrap_or(usize::MAX)
        .clamp(MIN_OUTPUT_BYTES, DEFAULT_MAX_OUTPUT_BYTES)
}

/// Runs every chunk (at most `parallel` nmap processes at once, on a pool of our own) and
/// assembles the snapshot. Saves nothing.
pub fn scan(p: &Prepared, show_progress: bool) -> Result<Snapshot, BatchError> {
    let started_at = Timestamp::now();
    let chunks = &p.plan.chunks;
    let progress = Progress::new(chunks.len(), p.plan.addresses, show_progress);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(p.parallel.clamp(1, chunks.len().max(1)))
        .thread_name(|i| format!("nmap-{i}"))
        .build()?;
    info!(
        "scanning {} with {}, {} at a time (profile {})",
        report::text::count(p.plan.addresses, "address"),
        report::text::count(chunks.len() as u64, "nmap run"),
        p.parallel,
        p.profile_label
    );
    let outcomes: Vec<ScanOutcome> = progress.run(|| {
        pool.install(|| {
            chunks
                .par_iter()
                .enumerate()
                .map(|(i, chunk)| {
                    let clock = Instant::now();
                    let scan = nmap::scan(&p.invocation(chunk));
                    let end = match &scan.outcome {
                        ScanOutcome::Completed(_) => ChunkEnd::Completed,
                        ScanOutcome::Failed(reason) => {
                            warn!("nmap run {} of {} failed: {reason}", i + 1, chunks.len());
                            ChunkEnd::Failed
                        }
                        ScanOutcome::TimedOut => {
                            warn!(
                                "nmap run {} of {} timed out after {} s and was stopped",
                                i + 1,
                                chunks.len(),
                                p.timeout.as_secs()
                            );
                            ChunkEnd::TimedOut
                        }
                    };
                    progress.chunk_done(i, chunk.addresses, end, clock.elapsed());
                    scan.outcome
                })
                .collect()
        })
    });
    progress.finish();
    Ok(assemble(p, started_at, outcomes))
}

/// The snapshot of a finished run. Targets whose chunks did not all complete are recorded as
/// failed or timed out (the first problem in address order), with the reason.
pub fn assemble(p: &Prepared, started_at: Timestamp, outcomes: Vec<ScanOutcome>) -> Snapshot {
    let runs = outcomes.len();
    let targets: Vec<TargetRecord> = p
        .plan
        .targets
        .iter()
        .map(|t| {
            let (status, error, covers) = match &t.covers {
                Err(u) => (u.status, Some(u.error.clone()), Vec::new()),
                Ok(covers) => {
                    let problem = t.chunks.iter().find_map(|&i| match outcomes.get(i) {
                        Some(ScanOutcome::Completed(_)) => None,
                        Some(ScanOutcome::Failed(reason)) => Some((
                            TargetStatus::Failed,
                            format!("nmap run {} of {runs} failed: {reason}", i + 1),
                        )),
                        Some(ScanOutcome::TimedOut) => Some((
                            TargetStatus::Timeout,
                            format!(
                                "nmap run {} of {runs} did not finish within {} s and was stopped",
                                i + 1,
                                p.timeout.as_secs()
                            ),
                        )),
                        None => Some((TargetStatus::Failed, "nmap was not run".to_string())),
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
        .collect();
    let mut nmap_version = String::new();
    let mut hosts = Vec::new();
    let version_detection = runs_version_detection(p.nmap_args.iter().map(String::as_str));
    let mut scanned: Option<PortCoverage> = None;
    for outcome in outcomes {
        if let ScanOutcome::Completed(result) = outcome {
            if nmap_version.is_empty() {
                nmap_version = result.nmap_version;
            }
            // What nmap says it probed (its `--top-ports` list included), chunk by chunk.
            if let Some(c) = PortCoverage::from_scaninfo(&result.scaninfo, version_detection) {
                scanned.get_or_insert_with(PortCoverage::default).merge(&c);
            }
            hosts.extend(result.hosts);
        }
    }
    Snapshot {
        scanned,
        unconfirmed: Vec::new(),
        id: None,
        started_at,
        finished_at: Timestamp::now(),
        profile: p.profile_label.clone(),
        nmap_args: p.nmap_args.join(" "),
        nmap_version,
        status: SnapshotStatus::from_targets(&targets),
        targets,
        hosts,
    }
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
    let out_dir = &config.output_dir;
    std::fs::create_dir_all(out_dir).map_err(|source| BatchError::Output {
        path: out_dir.clone(),
        source,
    })?;
    // Opened before scanning: a bad database fails the run before hours of nmap.
    let (mut store, _lock) = open_for_writing(config, Some(&p.profile_label))?;
    let mut snapshot = scan(p, opts.show_progress)?;
    // What the run is compared with: loaded once for the re-check and the delta.
    let previous = history::previous_of_unsaved(&store, &snapshot)?;
    let confirmation = if config.batch.confirm {
        confirm::confirm(
            p,
            previous.as_ref(),
            &mut snapshot,
            &opts.delta,
            config.batch.confirm_max,
        )
    } else {
        confirm::Confirmation::default()
    };
    let tls = tls::pass(config, &mut snapshot);
    // The delta is stored in the snapshot's transaction, for the readers (dashboard, delta
    // routes, timelines).
    let (id, delta) =
        history::save_with_delta(&mut store, &mut snapshot, previous.as_ref(), &opts.delta)?;
    drop(previous);
    info!(
        "saved snapshot {id} ({}): {} up, {}",
        snapshot.status.as_str(),
        report::text::count(snapshot.hosts_up() as u64, "host"),
        report::text::count(snapshot.open_ports() as u64, "open port")
    );
    let gone_after = config.alerts.gone_after_runs;
    let gone_held = if gone_after > 1 {
        let earlier = history::earlier_runs(
            &store,
            id,
            alerts::gone::runs_needed(gone_after),
            &opts.delta,
        )?;
        let runs: Vec<(&Snapshot, &Delta)> = std::iter::once((&snapshot, &delta))
            .chain(earlier.iter().map(|(s, d)| (s, d)))
            .collect();
        Some(alerts::gone::held(&runs, gone_after))
    } else {
        None
    };
    let rules = AlertRules {
        cert_expiry_days: config.alerts.cert_expiry_days,
        now: Timestamp::now(),
        min_grade: config.tls.min_grade,
        self_signed: config.alerts.self_signed,
        previous_certs: tls::previous_certs(store.latest_port_tls(Some(id))?),
        open_port_min_severity: config.alerts.open_port_min_severity,
        gone_held,
    };
    let evaluation = alerts::evaluate(&snapshot, &delta, &opts.delta, &rules);
    let alerts = store.sync_alerts_and_enqueue(
        id,
        |unresolved| alerts::sync::plan(unresolved, id, &snapshot.profile, &evaluation),
        |sync| notify::enqueue(config, &snapshot, &delta, &opts.delta, sync),
    )?;
    if !alerts.raised.is_empty() || !alerts.resolved.is_empty() {
        info!(
            "alerts: {} raised, {} resolved, {} seen again",
            alerts.raised.len(),
            alerts.resolved.len(),
            alerts.refreshed
        );
    }
    // Sent as soon as the alerts and their notifications are committed: a report that cannot
    // be written later must not hold them up. The flush also retries earlier runs' pending
    // notifications.
    let env = |key: &str| std::env::var(key).ok();
    let webhooks = notify::flush(&mut store, config, &env, opts.backoff);
    let timeline = history::timeline(
        &store,
        history::CHART_POINTS,
        Some(&snapshot.profile),
        Some(id),
        &opts.delta,
    )?;
    let report_dir = report_dir(out_dir, snapshot.started_at)?;
    report::write_run_files(&report_dir, &snapshot, &delta, &timeline).map_err(|source| {
        BatchError::Output {
            path: report_dir.clone(),
            source,
        }
    })?;
    let pruned = retention(&mut store, out_dir, config.batch.retention_days, opts.keep)?;
    Ok(RunOutput {
        snapshot,
        delta,
        timeline,
        report_dir,
        pruned,
        alerts,
        webhooks,
        confirmation,
        tls,
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

/// What retention removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Snapshots deleted from the database.
    pub snapshots: usize,
    /// Their report folders removed from `output_dir`.
    pub folders: Vec<PathBuf>,
    /// Folders that could not be removed, with the reason (the snapshots are gone anyway).
    pub failed: Vec<(PathBuf, String)>,
}

impl Pruned {
    /// One line for people: "deleted 2 snapshots and their 2 report folders".
    pub fn summary(&self) -> String {
        use crate::report::text::plural;
        let mut line = format!(
            "deleted {} snapshot{}",
            self.snapshots,
            plural(self.snapshots)
        );
        if !self.folders.is_empty() {
            line.push_str(&format!(
                " and {} report folder{} ({})",
                self.folders.len(),
                plural(self.folders.len()),
                self.folders
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for (dir, why) in &self.failed {
            line.push_str(&format!("; could not remove {}: {why}", dir.display()));
        }
        line
    }
}

/// Deletes snapshots past `retention_days` and beyond the latest `keep` of each profile,
/// VACUUMs when anything went, then removes the deleted runs' report folders under
/// `out_dir` (a folder that cannot be removed is reported, not fatal: the database is
/// already consistent).
pub fn retention(
    store: &mut Store,
    out_dir: &Path,
    retention_days: u32,
    keep: Option<usize>,
) -> Result<Pruned, StoreError> {
    let mut deleted = Vec::new();
    if retention_days > 0 {
        let age = SignedDuration::from_hours(24 * i64::from(retention_days));
        if let Ok(cutoff) = Timestamp::now().checked_sub(age) {
            deleted.extend(store.delete_older_than(cutoff)?);
        }
    }
    if let Some(n) = keep {
        deleted.extend(store.keep_latest(n)?);
    }
    let mut pruned = Pruned {
        snapshots: deleted.len(),
        ..Pruned::default()
    };
    if deleted.is_empty() {
        return Ok(pruned);
    }
    store.vacuum()?;
    for d in &deleted {
        let Some(dir) = report::run_files::locate(out_dir, d.id, d.started_at) else {
            continue;
        };
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => pruned.folders.push(dir),
            Err(e) => {
                warn!("retention: cannot remove {}: {e}", dir.display());
                pruned.failed.push((dir, e.to_string()));
            }
        }
    }
    info!(
        "retention: deleted {} snapshots (database vacuumed) and {} report folders",
        pruned.snapshots,
        pruned.folders.len()
    );
    Ok(pruned)
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

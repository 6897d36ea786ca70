//! The scan engine owned by `api_server`: runs the nmap work of every request on its own rayon
//! pool, never more than `max_concurrent_scans` nmap processes at once across all requests.
//!
//! One nmap process per target. Measured on this project's 2-core machine (see
//! `docs/BENCHMARKS.md`, "API"), ten loopback targets finish sooner as ten processes over the
//! slots than as one nmap over all ten (nmap serialises much of its per-host work, `-sV` in
//! particular), and one process per target gives per-target isolation for free: a target's
//! crash, garbage output or timeout is that target's outcome only.
//!
//! A request reserves `min(targets that need nmap, max_concurrent_scans)` slots at once (see
//! [`capacity`]) and runs its targets on exactly that many pool jobs, each taking the next
//! target until none is left. The pool has `max_concurrent_scans` threads, so reserved slots
//! always find a free thread and no job ever waits inside the pool.

pub mod capacity;

use std::net::IpAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::model::HostReport;
use crate::nmap::{self, ScanOutcome, run::NmapInvocation};
pub use capacity::{AcquireError, Capacity, Reservation};

/// stdout cap for one target's nmap run: a single host's XML is a few hundred KiB at most.
const MAX_OUTPUT_BYTES: usize = 32 * 1024 * 1024;

/// One target of a request, ready to scan or already failed (e.g. it did not resolve).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTarget {
    /// As the client wrote it.
    pub target: String,
    /// The name the client gave, reported as the result's `hostname`.
    pub hostname: Option<String>,
    /// The pinned address nmap is given, or why there is none.
    pub address: Result<IpAddr, String>,
    /// Time already spent on it (resolution).
    pub spent: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Completed,
    Failed,
    Timeout,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Timeout => "timeout",
        }
    }
}

/// What became of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetOutcome {
    pub target: String,
    pub status: Status,
    /// The address scanned (absent when resolution failed).
    pub ip: Option<IpAddr>,
    /// The host as nmap saw it; `Some` exactly when `status` is `Completed`.
    pub report: Option<HostReport>,
    /// Why the target failed or timed out.
    pub error: Option<String>,
    /// Wall time spent on this target.
    pub duration: Duration,
    /// Wall time of its nmap process, when one ran.
    pub nmap_duration: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot start the scan thread pool: {0}")]
    Pool(String),
}

pub struct ScanEngine {
    pool: rayon::ThreadPool,
    capacity: Capacity,
    /// nmap processes alive now (for health and metrics; read without any lock).
    running: AtomicUsize,
    queue_timeout: Duration,
    nmap_path: PathBuf,
    nmap_timeout: Duration,
}

impl ScanEngine {
    pub fn new(config: &Config) -> Result<Self, EngineError> {
        let max = config.api.max_concurrent_scans;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(max)
            .thread_name(|i| format!("scan-{i}"))
            .build()
            .map_err(|e| EngineError::Pool(e.to_string()))?;
        Ok(ScanEngine {
            pool,
            capacity: Capacity::new(max),
            running: AtomicUsize::new(0),
            queue_timeout: Duration::from_secs(config.api.queue_timeout),
            nmap_path: config.nmap_path.clone(),
            nmap_timeout: config.nmap_timeout(),
        })
    }

    /// nmap processes running now.
    pub fn active_scans(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    pub fn queue_timeout(&self) -> Duration {
        self.queue_timeout
    }

    pub fn max_concurrent_scans(&self) -> usize {
        self.capacity.max()
    }

    /// Starts no new nmap process from now on: waiting requests are refused, targets of running
    /// requests that have not started yet are reported failed.
    pub fn close(&self) {
        self.capacity.close();
    }
}

impl ScanEngine {
    /// Scans `targets` with nmap arguments `args` (a profile's vector; the runner adds the XML
    /// output flags and the address). Waits at most `queue_timeout` for capacity; then every
    /// target gets an outcome, in the order given.
    pub fn run(
        &self,
        args: &[String],
        targets: &[PlannedTarget],
    ) -> Result<Vec<TargetOutcome>, AcquireError> {
        let runnable: Vec<usize> = (0..targets.len())
            .filter(|&i| targets[i].address.is_ok())
            .collect();
        let slots: Mutex<Vec<Option<TargetOutcome>>> = Mutex::new(vec![None; targets.len()]);
        if !runnable.is_empty() {
            let reservation = self
                .capacity
                .acquire(runnable.len(), Instant::now() + self.queue_timeout)?;
            let next = AtomicUsize::new(0);
            self.pool.scope(|scope| {
                for _ in 0..reservation.slots() {
                    scope.spawn(|_| {
                        loop {
                            let n = next.fetch_add(1, Ordering::SeqCst);
                            let Some(&i) = runnable.get(n) else { break };
                            let outcome = self.run_guarded(args, &targets[i]);
                            slots.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(outcome);
                        }
                    });
                }
            });
            drop(reservation);
        }
        let slots = slots.into_inner().unwrap_or_else(|p| p.into_inner());
        Ok(targets
            .iter()
            .zip(slots)
            .map(|(t, slot)| slot.unwrap_or_else(|| unscanned(t)))
            .collect())
    }

    /// One target; a panic while scanning it becomes that target's failure alone.
    fn run_guarded(&self, args: &[String], target: &PlannedTarget) -> TargetOutcome {
        catch_unwind(AssertUnwindSafe(|| self.run_one(args, target))).unwrap_or_else(|_| {
            log::error!("scanning {} panicked", target.target);
            TargetOutcome {
                status: Status::Failed,
                error: Some("internal error while scanning this target".to_string()),
                ..unscanned(target)
            }
        })
    }

    fn run_one(&self, args: &[String], target: &PlannedTarget) -> TargetOutcome {
        let Ok(ip) = target.address else {
            return unscanned(target);
        };
        if self.capacity.is_closed() {
            return TargetOutcome {
                ip: Some(ip),
                error: Some("not scanned: the server is shutting down".to_string()),
                ..unscanned(target)
            };
        }
        let invocation = NmapInvocation {
            program: self.nmap_path.clone(),
            args: args.to_vec(),
            targets: vec![ip.to_string()],
            timeout: self.nmap_timeout,
            max_output_bytes: MAX_OUTPUT_BYTES,
        };
        self.running.fetch_add(1, Ordering::SeqCst);
        let scan = nmap::scan(&invocation);
        self.running.fetch_sub(1, Ordering::SeqCst);
        let base = TargetOutcome {
            target: target.target.clone(),
            status: Status::Failed,
            ip: Some(ip),
            report: None,
            error: None,
            duration: target.spent + scan.duration,
            nmap_duration: Some(scan.duration),
        };
        match scan.outcome {
            ScanOutcome::Completed(result) => TargetOutcome {
                status: Status::Completed,
                report: Some(host_report(&result, ip, target.hostname.as_deref())),
                ..base
            },
            ScanOutcome::Failed(reason) => {
                log::warn!("nmap failed for {}: {reason}", target.target);
                TargetOutcome {
                    error: Some(reason),
                    ..base
                }
            }
            ScanOutcome::TimedOut => TargetOutcome {
                status: Status::Timeout,
                error: Some(format!(
                    "nmap did not finish within {} s and was stopped",
                    self.nmap_timeout.as_secs()
                )),
                ..base
            },
        }
    }
}

/// The outcome of a target nmap never ran for.
fn unscanned(target: &PlannedTarget) -> TargetOutcome {
    let (ip, error) = match &target.address {
        Ok(ip) => (Some(*ip), "not scanned".to_string()),
        Err(e) => (None, e.clone()),
    };
    TargetOutcome {
        target: target.target.clone(),
        status: Status::Failed,
        ip,
        report: None,
        error: Some(error),
        duration: target.spent,
        nmap_duration: None,
    }
}

/// The scanned host in nmap's document. nmap leaves a host that did not answer out of its XML,
/// so absence means `down` (a completed finding, not a failure).
fn host_report(
    result: &crate::model::ScanResult,
    ip: IpAddr,
    hostname: Option<&str>,
) -> HostReport {
    let wanted = ip.to_string();
    let mut report = result
        .hosts
        .iter()
        .find(|h| h.ip() == Some(wanted.as_str()))
        .map(HostReport::from)
        .unwrap_or_else(|| HostReport {
            ip: wanted.clone(),
            host_state: "down".to_string(),
            ..HostReport::default()
        });
    if let Some(name) = hostname {
        report.hostname = Some(name.to_string());
    }
    report
}

#[cfg(test)]
mod tests;

//! The scan engine owned by `api_server`: runs the nmap work of every request on its own rayon
//! pool, never more than `max_concurrent_scans` nmap processes at once across all requests.
//!
//! A request's targets are spread over nmap processes by how much each costs ([`group`]): a
//! target with many ports to probe gets its own process (nmap serialises much of its per-host
//! work, `-sV` in particular, so parallel processes finish sooner), targets with few ports
//! share one (a process start-up costs more than probing them), and when the request has more
//! processes' worth of targets than `max_concurrent_scans`, the targets share the slots'
//! processes instead of running in waves. The answer is split per host. Isolation is kept: a
//! process over several targets that fails or times out is followed by one process per target
//! of it, so a target's crash, garbage output or timeout is that target's outcome only (a
//! target that makes nmap hang therefore costs `nmap_timeout` twice).
//!
//! A request reserves as many slots as it will run processes (see [`capacity`]), each process
//! on its own pool job. The pool has `max_concurrent_scans` threads, so reserved slots always
//! find a free thread and no job ever waits inside the pool.

pub mod capacity;
mod group;
pub mod tls;

use std::net::IpAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::model::{Host, HostReport};
use crate::nmap::{self, ScanOutcome, run::NmapInvocation};
pub use capacity::{AcquireError, Capacity, Reservation};
pub use tls::{TlsPass, TlsPassSpec};

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
    /// nmap's full record of the host (service tunnels, scripts) when it listed it: what a
    /// later pass over the host ([`ScanEngine::tls_pass`]) reads.
    pub host: Option<Host>,
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
    /// What a request's TLS pass runs with, or why it cannot run (a bad nmap tuning).
    tls: Result<TlsPassSpec, String>,
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
            tls: TlsPassSpec::from_config(config),
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
            let wanted = group::processes_wanted(runnable.len(), group::ports_per_target(args));
            let reservation = self
                .capacity
                .acquire(wanted, Instant::now() + self.queue_timeout)?;
            let groups = group::split(runnable.len(), reservation.slots());
            self.pool.scope(|scope| {
                for range in &groups {
                    let slots = &slots;
                    let group: Vec<(usize, &PlannedTarget)> = runnable[range.clone()]
                        .iter()
                        .map(|&i| (i, &targets[i]))
                        .collect();
                    scope.spawn(move |_| {
                        for (i, outcome) in self.run_group(args, &group) {
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

    /// Targets sharing one nmap process (by index in the request). When that process fails or
    /// times out, each target is scanned again alone, so one target's fault (a crash, a host
    /// that makes nmap hang) is that target's outcome only.
    fn run_group(
        &self,
        args: &[String],
        group: &[(usize, &PlannedTarget)],
    ) -> Vec<(usize, TargetOutcome)> {
        if let [(i, target)] = group {
            return vec![(*i, self.run_guarded(args, target))];
        }
        let together = catch_unwind(AssertUnwindSafe(|| self.run_together(args, group)));
        match together {
            Ok(Ok(outcomes)) => outcomes,
            Ok(Err(reason)) => {
                log::warn!(
                    "nmap over {} targets together {reason}; scanning each alone",
                    group.len()
                );
                group
                    .iter()
                    .map(|(i, t)| (*i, self.run_guarded(args, t)))
                    .collect()
            }
            Err(_) => {
                log::error!("scanning {} targets together panicked", group.len());
                group
                    .iter()
                    .map(|(i, t)| (*i, self.run_guarded(args, t)))
                    .collect()
            }
        }
    }

    /// One nmap process over every target of `group`, split per host; `Err` (why) when the
    /// process did not complete.
    fn run_together(
        &self,
        args: &[String],
        group: &[(usize, &PlannedTarget)],
    ) -> Result<Vec<(usize, TargetOutcome)>, String> {
        if self.capacity.is_closed() {
            return Ok(group
                .iter()
                .map(|(i, t)| (*i, self.run_one(args, t)))
                .collect());
        }
        let ips: Vec<IpAddr> = group
            .iter()
            .filter_map(|(_, t)| t.address.as_ref().ok().copied())
            .collect();
        let invocation = NmapInvocation {
            program: self.nmap_path.clone(),
            args: args.to_vec(),
            targets: ips.iter().map(IpAddr::to_string).collect(),
            timeout: self.nmap_timeout,
            max_output_bytes: MAX_OUTPUT_BYTES.saturating_mul(ips.len()),
        };
        self.running.fetch_add(1, Ordering::SeqCst);
        let scan = nmap::scan(&invocation);
        self.running.fetch_sub(1, Ordering::SeqCst);
        let result = match scan.outcome {
            ScanOutcome::Completed(result) => result,
            ScanOutcome::Failed(reason) => return Err(format!("failed ({reason})")),
            ScanOutcome::TimedOut => return Err("timed out".to_string()),
        };
        Ok(group
            .iter()
            .map(|(i, target)| {
                let outcome = match target.address {
                    Ok(ip) => TargetOutcome {
                        target: target.target.clone(),
                        status: Status::Completed,
                        ip: Some(ip),
                        report: Some(host_report(&result, ip, target.hostname.as_deref())),
                        host: nmap_host(&result, ip),
                        error: None,
                        duration: target.spent + scan.duration,
                        nmap_duration: Some(scan.duration),
                    },
                    Err(_) => unscanned(target),
                };
                (*i, outcome)
            })
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
            host: None,
            error: None,
            duration: target.spent + scan.duration,
            nmap_duration: Some(scan.duration),
        };
        match scan.outcome {
            ScanOutcome::Completed(result) => TargetOutcome {
                status: Status::Completed,
                report: Some(host_report(&result, ip, target.hostname.as_deref())),
                host: nmap_host(&result, ip),
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
        host: None,
        error: Some(error),
        duration: target.spent,
        nmap_duration: None,
    }
}

/// The scanned host's record in nmap's document, when nmap listed it.
fn nmap_host(result: &crate::model::ScanResult, ip: IpAddr) -> Option<Host> {
    let wanted = ip.to_string();
    result
        .hosts
        .iter()
        .find(|h| h.ip() == Some(wanted.as_str()))
        .cloned()
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

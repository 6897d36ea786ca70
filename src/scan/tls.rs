//! The TLS pass: after a port scan, one nmap run over the open ports that speak TLS, with nmap's
//! `ssl-cert` and `ssl-enum-ciphers` scripts; what it reads joins the hosts' ports (scripts and
//! [`crate::model::TlsInfo`]). The batch runs it over a snapshot's hosts
//! (`batch::tls`), `POST /api/scan` with `"tls": true` over its completed targets
//! ([`ScanEngine::tls_pass`], under the engine's capacity).
//!
//! Its failure never touches the port scan's result: the ports simply stay unexamined.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use log::{info, warn};
use serde::Serialize;

use super::{AcquireError, ScanEngine, Status, TargetOutcome};
use crate::config::Config;
use crate::model::{Host, Port};
use crate::nmap::run::{NmapInvocation, output_budget};
use crate::nmap::{self, ScanOutcome};
use crate::profile::NmapTuning;
use crate::profile::tls::{speaks_tls, tls_pass_args};

/// How a TLS pass went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TlsPass {
    /// `[tls] enabled = false` or `--no-tls` (batch only).
    Disabled,
    /// No open port looked like TLS.
    NoPorts,
    /// nmap ran; `examined` ports of `selected` reported a certificate or ciphers.
    Completed { selected: usize, examined: usize },
    /// nmap failed, timed out or found no capacity; no port was examined.
    Failed { selected: usize, error: String },
}

impl TlsPass {
    /// One line for a batch run's text output.
    pub fn line(&self) -> Option<String> {
        match self {
            TlsPass::Disabled => None,
            TlsPass::NoPorts => Some("TLS pass: no open port looked like TLS".into()),
            TlsPass::Completed { selected, examined } => Some(format!(
                "TLS pass: {examined} of {selected} TLS-looking ports answered with TLS"
            )),
            TlsPass::Failed { selected, error } => Some(format!(
                "TLS pass failed ({selected} ports not examined; the port scan stands): {error}"
            )),
        }
    }
}

/// What one TLS pass needs from the configuration: the nmap program and tuning, `[tls] ports`,
/// and the nmap timeout.
#[derive(Debug, Clone)]
pub struct TlsPassSpec {
    pub program: PathBuf,
    /// Already normalized.
    pub tuning: NmapTuning,
    /// `[tls] ports`: treated as TLS by number.
    pub extra_ports: Vec<u16>,
    pub timeout: Duration,
}

impl TlsPassSpec {
    /// From the configuration; `Err` (why) when the nmap tuning is invalid.
    pub fn from_config(config: &Config) -> Result<TlsPassSpec, String> {
        Ok(TlsPassSpec {
            program: config.nmap_path.clone(),
            tuning: config
                .nmap_tuning()
                .normalized()
                .map_err(|e| e.to_string())?,
            extra_ports: config.tls.ports.clone(),
            timeout: config.nmap_timeout(),
        })
    }
}

/// The (address, port) pairs of `hosts` worth a TLS look: open TCP ports of up hosts.
pub fn selected(hosts: &[Host], extra_ports: &[u16]) -> HashSet<(IpAddr, u16)> {
    let mut wanted = HashSet::new();
    for h in hosts.iter().filter(|h| h.is_up()) {
        let Some(ip) = address(h) else {
            continue;
        };
        for p in h.ports.iter().filter(|p| speaks_tls(p, extra_ports)) {
            wanted.insert((ip, p.portid));
        }
    }
    wanted
}

/// Runs the TLS pass over `hosts`' open TLS-looking ports and merges what it read.
pub fn pass_hosts(spec: &TlsPassSpec, hosts: &mut [Host]) -> TlsPass {
    pass_hosts_with(spec, hosts, nmap::scan)
}

/// [`pass_hosts`] with the nmap run supplied (the engine counts its running processes).
fn pass_hosts_with(
    spec: &TlsPassSpec,
    hosts: &mut [Host],
    run: impl FnOnce(&NmapInvocation) -> nmap::Scan,
) -> TlsPass {
    let wanted = selected(hosts, &spec.extra_ports);
    if wanted.is_empty() {
        return TlsPass::NoPorts;
    }
    let inv = invocation(spec, &wanted);
    info!(
        "TLS pass: {} ports on {} addresses (ssl-cert, ssl-enum-ciphers)",
        wanted.len(),
        inv.targets.len()
    );
    let result = match run(&inv).outcome {
        ScanOutcome::Completed(result) => result,
        ScanOutcome::Failed(reason) => return failed(wanted.len(), reason),
        ScanOutcome::TimedOut => {
            let why = format!(
                "nmap did not finish within {} s and was stopped",
                spec.timeout.as_secs()
            );
            return failed(wanted.len(), why);
        }
    };
    let examined = merge(hosts, &wanted, result.hosts);
    TlsPass::Completed {
        selected: wanted.len(),
        examined,
    }
}

/// The one nmap run over every wanted port of every wanted address.
fn invocation(spec: &TlsPassSpec, wanted: &HashSet<(IpAddr, u16)>) -> NmapInvocation {
    let ips: BTreeSet<IpAddr> = wanted.iter().map(|(ip, _)| *ip).collect();
    let ports: Vec<u16> = wanted.iter().map(|(_, port)| *port).collect();
    let distinct_ports = ports.iter().collect::<BTreeSet<_>>().len();
    NmapInvocation {
        program: spec.program.clone(),
        args: tls_pass_args(&spec.tuning, &ports),
        targets: ips.iter().map(IpAddr::to_string).collect(),
        timeout: spec.timeout,
        max_output_bytes: output_budget(
            ips.len() as u64,
            u32::try_from(distinct_ports).unwrap_or(u32::MAX),
        ),
    }
}

/// Copies the TLS pass's scripts and facts onto the wanted ports of `hosts`; returns how many
/// ports it examined.
fn merge(hosts: &mut [Host], wanted: &HashSet<(IpAddr, u16)>, seen: Vec<Host>) -> usize {
    let mut found: HashMap<(IpAddr, u16), Port> = HashMap::new();
    for h in seen {
        let Some(ip) = address(&h) else {
            continue;
        };
        for p in h.ports {
            if p.tls.is_some() && p.protocol.eq_ignore_ascii_case("tcp") {
                found.insert((ip, p.portid), p);
            }
        }
    }
    let mut examined = 0;
    for h in hosts {
        let Some(ip) = address(h) else {
            continue;
        };
        for p in &mut h.ports {
            if !p.protocol.eq_ignore_ascii_case("tcp") || !wanted.contains(&(ip, p.portid)) {
                continue;
            }
            if let Some(seen) = found.remove(&(ip, p.portid)) {
                let ids: Vec<&str> = seen.scripts.iter().map(|s| s.id.as_str()).collect();
                p.scripts.retain(|s| !ids.contains(&s.id.as_str()));
                p.scripts.extend(seen.scripts);
                p.tls = seen.tls;
                examined += 1;
            }
        }
    }
    examined
}

fn address(h: &Host) -> Option<IpAddr> {
    h.ip().and_then(|ip| ip.parse::<IpAddr>().ok())
}

fn failed(selected: usize, error: String) -> TlsPass {
    warn!("TLS pass failed, certificates not examined: {error}");
    TlsPass::Failed { selected, error }
}

impl ScanEngine {
    /// The TLS pass over the completed targets of one request, as one more nmap process under
    /// the same limits as its port scans: it waits at most `queue_timeout` for a slot of
    /// `max_concurrent_scans` and runs at most `nmap_timeout`. The ports it examined carry
    /// their facts in `report.open_ports[..].tls`; a failed pass leaves every outcome as it was.
    pub fn tls_pass(&self, outcomes: &mut [TargetOutcome]) -> TlsPass {
        let mut hosts: Vec<Host> = outcomes
            .iter()
            .filter(|o| o.status == Status::Completed)
            .filter_map(|o| o.host.clone())
            .collect();
        let spec = match &self.tls {
            Ok(spec) => spec,
            Err(why) => {
                let selected = selected(&hosts, &[]).len();
                return failed(selected, why.clone());
            }
        };
        let selected = selected(&hosts, &spec.extra_ports).len();
        if selected == 0 {
            return TlsPass::NoPorts;
        }
        let reservation = match self
            .capacity
            .acquire(1, Instant::now() + self.queue_timeout)
        {
            Ok(r) => r,
            Err(AcquireError::Timeout) => {
                let why = format!(
                    "no scan capacity free within {} s",
                    self.queue_timeout.as_secs()
                );
                return failed(selected, why);
            }
            Err(AcquireError::Closed) => {
                return failed(selected, "not run: the server is shutting down".into());
            }
        };
        let guarded = catch_unwind(AssertUnwindSafe(|| {
            pass_hosts_with(spec, &mut hosts, |inv| {
                self.running.fetch_add(1, Ordering::SeqCst);
                let scan = nmap::scan(inv);
                self.running.fetch_sub(1, Ordering::SeqCst);
                scan
            })
        }));
        drop(reservation);
        let pass = guarded.unwrap_or_else(|_| {
            log::error!("the TLS pass panicked");
            failed(selected, "internal error during the TLS pass".into())
        });
        if matches!(pass, TlsPass::Completed { .. }) {
            for o in outcomes.iter_mut() {
                attach(o, &hosts);
            }
        }
        pass
    }
}

/// Copies the TLS facts of `o`'s host (found in `hosts` by address) onto its open ports.
fn attach(o: &mut TargetOutcome, hosts: &[Host]) {
    let (Some(ip), Some(report)) = (o.ip, o.report.as_mut()) else {
        return;
    };
    let Some(host) = hosts.iter().find(|h| address(h) == Some(ip)) else {
        return;
    };
    for port in &mut report.open_ports {
        port.tls = host
            .ports
            .iter()
            .find(|p| p.portid == port.port && p.protocol.eq_ignore_ascii_case(&port.protocol))
            .and_then(|p| p.tls.clone());
    }
    o.host = Some(host.clone());
}

#[cfg(test)]
mod tests;

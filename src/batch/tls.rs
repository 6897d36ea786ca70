//! The TLS pass of a batch run: after the port scan, one nmap run over the open ports that
//! speak TLS, with nmap's `ssl-cert` and `ssl-enum-ciphers` scripts; what it reads joins the
//! snapshot's ports (scripts and [`crate::model::TlsInfo`]).
//!
//! Its failure never marks the port scan failed: the ports simply stay unexamined, and the
//! certificate alerts on them are neither raised nor resolved (`alerts::Judgement::Unknown`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use log::{info, warn};
use serde::Serialize;

use crate::alerts::SeenCert;
use crate::config::Config;
use crate::nmap::run::NmapInvocation;
use crate::nmap::{self, ScanOutcome};
use crate::profile::tls::{speaks_tls, tls_pass_args};
use crate::snapshot::Snapshot;
use crate::store::PortTls;

/// How the TLS pass of a run went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TlsPass {
    /// `[tls] enabled = false` or `--no-tls`.
    Disabled,
    /// No open port looked like TLS.
    NoPorts,
    /// nmap ran; `examined` ports of `selected` reported a certificate or ciphers.
    Completed { selected: usize, examined: usize },
    /// nmap failed or timed out; no port was examined.
    Failed { selected: usize, error: String },
}

impl TlsPass {
    /// One line for the run's text output.
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

/// Runs the TLS pass over `snapshot`'s open TLS-looking ports and merges what it read.
pub fn pass(config: &Config, snapshot: &mut Snapshot) -> TlsPass {
    if !config.tls.enabled {
        return TlsPass::Disabled;
    }
    let mut wanted: HashSet<(IpAddr, u16)> = HashSet::new();
    for h in &snapshot.hosts {
        let Some(ip) = h.ip().and_then(|ip| ip.parse::<IpAddr>().ok()) else {
            continue;
        };
        if !h.is_up() {
            continue;
        }
        for p in h.ports.iter().filter(|p| speaks_tls(p, &config.tls.ports)) {
            wanted.insert((ip, p.portid));
        }
    }
    if wanted.is_empty() {
        return TlsPass::NoPorts;
    }
    let ips: BTreeSet<IpAddr> = wanted.iter().map(|(ip, _)| *ip).collect();
    let ports: Vec<u16> = wanted.iter().map(|(_, port)| *port).collect();
    let tuning = match config.nmap_tuning().normalized() {
        Ok(t) => t,
        Err(e) => return failed(wanted.len(), e.to_string()),
    };
    let args = tls_pass_args(&tuning, &ports);
    let distinct_ports = ports.iter().collect::<BTreeSet<_>>().len();
    let inv = NmapInvocation {
        program: config.nmap_path.clone(),
        args,
        targets: ips.iter().map(IpAddr::to_string).collect(),
        timeout: config.nmap_timeout(),
        max_output_bytes: super::output_budget(
            ips.len() as u64,
            u32::try_from(distinct_ports).unwrap_or(u32::MAX),
        ),
    };
    info!(
        "TLS pass: {} ports on {} addresses (ssl-cert, ssl-enum-ciphers)",
        wanted.len(),
        ips.len()
    );
    let result = match nmap::scan(&inv).outcome {
        ScanOutcome::Completed(result) => result,
        ScanOutcome::Failed(reason) => return failed(wanted.len(), reason),
        ScanOutcome::TimedOut => {
            return failed(
                wanted.len(),
                format!(
                    "nmap did not finish within {} s and was stopped",
                    config.nmap_timeout().as_secs()
                ),
            );
        }
    };
    let mut found = HashMap::new();
    for h in result.hosts {
        let Some(ip) = h.ip().and_then(|ip| ip.parse::<IpAddr>().ok()) else {
            continue;
        };
        for p in h.ports {
            if p.tls.is_some() && p.protocol.eq_ignore_ascii_case("tcp") {
                found.insert((ip, p.portid), p);
            }
        }
    }
    let mut examined = 0;
    for h in &mut snapshot.hosts {
        let Some(ip) = h.ip().and_then(|ip| ip.parse::<IpAddr>().ok()) else {
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
    TlsPass::Completed {
        selected: wanted.len(),
        examined,
    }
}

fn failed(selected: usize, error: String) -> TlsPass {
    warn!("TLS pass failed, certificates not examined this run: {error}");
    TlsPass::Failed { selected, error }
}

/// The certificate each port showed last, keyed as the alert rules look it up.
pub fn previous_certs(rows: Vec<PortTls>) -> HashMap<(String, String, u16), SeenCert> {
    rows.into_iter()
        .filter_map(|r| {
            let cert = r.tls.cert?;
            let ip = r.ip.parse::<IpAddr>().ok()?.to_string();
            Some((
                (ip, r.protocol.to_ascii_lowercase(), r.port),
                SeenCert {
                    sha256: cert.sha256,
                    issuer: cert.issuer,
                },
            ))
        })
        .collect()
}

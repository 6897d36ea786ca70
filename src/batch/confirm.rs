//! Confirmation: before a run commits, every candidate `port_closed`, `host_gone` and (when
//! both sides ran `-sV`) `service_changed` is re-checked by one targeted nmap run per address
//! family over just those addresses and ports, with more retries, slower timing and `-Pn` (so
//! lost discovery probes cannot fake a disappearance). A candidate that does not hold is not a
//! change: the snapshot keeps the earlier record of that port or host (the confirmed state), and
//! the candidate is listed in [`Snapshot::unconfirmed`]. Candidates past `confirm_max`, or whose
//! re-check failed, are kept the same way with `checked: false` ("not compared: unconfirmed").
//! A port seen open again after a missed run is therefore never a `port_opened`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::time::Instant;

use log::{info, warn};

use super::Recheck;
use crate::delta::{self, ChangeKind, DeltaConfig};
use crate::model::{Host, Port, ScanResult};
use crate::nmap::run::NmapInvocation;
use crate::nmap::{self, ScanOutcome};
use crate::snapshot::{Snapshot, Unconfirmed, host_ip};

/// nmap arguments of the main run that the re-check keeps: the scan technique and privilege.
const KEPT_ARGS: [&str; 5] = ["-sT", "-sS", "-sU", "--privileged", "--unprivileged"];

/// Retries per probe in the re-check (the main run's default is 2): at 30% loss, a port that
/// is open answers all but 0.3^7 ≈ 0.02% of re-checks.
const RETRIES: &str = "6";

/// What the re-check did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Confirmation {
    /// Candidate changes re-checked.
    pub checked: usize,
    /// Re-checked candidates that did not hold (dropped as flaps).
    pub flaps: usize,
    /// Candidates not re-checked (past `confirm_max` or a failed re-check).
    pub unchecked: usize,
    pub seconds: f64,
}

/// One candidate change, by its identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Candidate {
    kind: ChangeKind,
    ip: IpAddr,
    /// `None` for `host_gone`.
    port: Option<(String, u16)>,
}

/// Re-checks the candidate changes of `run` against `previous` (the snapshot it will be
/// compared with) and rewrites `run` to the confirmed state.
pub fn confirm(
    p: &Recheck,
    previous: Option<&Snapshot>,
    run: &mut Snapshot,
    delta_config: &DeltaConfig,
    confirm_max: usize,
) -> Confirmation {
    let Some(previous) = previous else {
        return Confirmation::default();
    };
    let clock = Instant::now();
    let delta = delta::compare(Some(previous), run, delta_config);
    let mut candidates: Vec<Candidate> = delta
        .changes
        .iter()
        .filter(|c| {
            matches!(
                c.kind,
                ChangeKind::PortClosed | ChangeKind::HostGone | ChangeKind::ServiceChanged
            )
        })
        .filter_map(|c| {
            Some(Candidate {
                kind: c.kind,
                ip: c.ip.parse().ok()?,
                port: c.port.as_ref().map(|p| (p.protocol.clone(), p.port)),
            })
        })
        .collect();
    if candidates.is_empty() {
        return Confirmation::default();
    }
    candidates.sort();
    // The cap counts (address, port) pairs; a host_gone rides on its ports' closures.
    let mut pairs = 0usize;
    let (mut checked, mut unchecked) = (Vec::new(), Vec::new());
    for c in candidates {
        let cost = usize::from(c.port.is_some());
        if pairs + cost <= confirm_max {
            pairs += cost;
            checked.push(c);
        } else {
            unchecked.push(c);
        }
    }
    let services = checked.iter().any(|c| c.kind == ChangeKind::ServiceChanged);
    let anchors = anchors(run, &checked);
    let recheck = recheck(p, &checked, &anchors, services);
    let mut out = Confirmation {
        checked: checked.len(),
        ..Confirmation::default()
    };
    let prev_hosts = hosts_by_ip(previous);
    let mut restore_hosts: BTreeSet<IpAddr> = BTreeSet::new();
    let mut restore_ports: Vec<(IpAddr, String, u16)> = Vec::new();
    let mut confirmed_closed: HashSet<(IpAddr, String, u16)> = HashSet::new();
    let record = |c: &Candidate, checked: bool| Unconfirmed {
        kind: c.kind.as_str().to_string(),
        ip: c.ip.to_string(),
        protocol: c.port.as_ref().map(|p| p.0.clone()),
        port: c.port.as_ref().map(|p| p.1),
        checked,
    };
    let mut list = Vec::new();
    match &recheck {
        Some(seen) => {
            for c in &checked {
                let holds = match (&c.kind, &c.port) {
                    (ChangeKind::HostGone, _) => !seen.any_open(c.ip, prev_hosts.get(&c.ip)),
                    (ChangeKind::PortClosed, Some((proto, port))) => {
                        !seen.is_open(c.ip, proto, *port)
                    }
                    (ChangeKind::ServiceChanged, Some((proto, port))) => {
                        let before = prev_port(&prev_hosts, c.ip, proto, *port);
                        !seen.same_service(c.ip, proto, *port, before)
                    }
                    _ => true,
                };
                if holds {
                    if let (ChangeKind::PortClosed, Some((proto, port))) = (&c.kind, &c.port) {
                        confirmed_closed.insert((c.ip, proto.clone(), *port));
                    }
                    continue;
                }
                out.flaps += 1;
                list.push(record(c, true));
                keep_earlier(c, &mut restore_hosts, &mut restore_ports);
            }
        }
        None => unchecked.append(&mut checked),
    }
    for c in &unchecked {
        out.unchecked += 1;
        list.push(record(c, false));
        keep_earlier(c, &mut restore_hosts, &mut restore_ports);
    }
    restore(
        run,
        &prev_hosts,
        &restore_hosts,
        &restore_ports,
        &confirmed_closed,
    );
    run.unconfirmed = list;
    out.seconds = clock.elapsed().as_secs_f64();
    info!(
        "confirmation: {} candidate changes re-checked, {} did not hold, {} not re-checked ({:.1} s)",
        out.checked, out.flaps, out.unchecked, out.seconds
    );
    out
}

/// Marks a candidate that is not reported: its host or port keeps the earlier record.
fn keep_earlier(
    c: &Candidate,
    hosts: &mut BTreeSet<IpAddr>,
    ports: &mut Vec<(IpAddr, String, u16)>,
) {
    match &c.port {
        None => {
            hosts.insert(c.ip);
        }
        Some((proto, port)) => ports.push((c.ip, proto.clone(), *port)),
    }
}

fn hosts_by_ip(s: &Snapshot) -> HashMap<IpAddr, &Host> {
    let mut map = HashMap::new();
    for h in &s.hosts {
        if let Some(ip) = host_ip(h)
            && h.is_up()
        {
            map.insert(ip, h);
        }
    }
    map
}

fn prev_port<'a>(
    hosts: &HashMap<IpAddr, &'a Host>,
    ip: IpAddr,
    proto: &str,
    port: u16,
) -> Option<&'a Port> {
    hosts
        .get(&ip)?
        .ports
        .iter()
        .find(|p| p.protocol == proto && p.portid == port)
}

/// The re-check's answers.
struct Seen {
    ports: HashMap<(IpAddr, String, u16), Port>,
}

impl Seen {
    fn is_open(&self, ip: IpAddr, proto: &str, port: u16) -> bool {
        self.ports
            .get(&(ip, proto.to_string(), port))
            .is_some_and(Port::is_open)
    }

    /// Whether any port the host had open before answers open now.
    fn any_open(&self, ip: IpAddr, before: Option<&&Host>) -> bool {
        before.is_some_and(|h| {
            h.open_ports()
                .any(|p| self.is_open(ip, &p.protocol, p.portid))
        })
    }

    /// Whether the port is open with the service it had before.
    fn same_service(&self, ip: IpAddr, proto: &str, port: u16, before: Option<&Port>) -> bool {
        match (self.ports.get(&(ip, proto.to_string(), port)), before) {
            (Some(now), Some(b)) => {
                now.is_open()
                    && now.service.name == b.service.name
                    && now.service.product == b.service.product
                    && now.service.version == b.service.version
            }
            _ => false,
        }
    }
}

/// Ports seen open in this run on the candidates' addresses (a few per address), probed along
/// with the candidates: nmap retransmits to a silent port only as often as it needed to for
/// ports that answered, so a lone silent port would get one retry, not [`RETRIES`].
const ANCHORS_PER_HOST: usize = 4;

fn anchors(run: &Snapshot, candidates: &[Candidate]) -> Vec<Candidate> {
    let ips: BTreeSet<IpAddr> = candidates.iter().map(|c| c.ip).collect();
    let mut out = Vec::new();
    for h in &run.hosts {
        let Some(ip) = host_ip(h) else { continue };
        if !h.is_up() || !ips.contains(&ip) {
            continue;
        }
        out.extend(h.open_ports().take(ANCHORS_PER_HOST).map(|p| Candidate {
            kind: ChangeKind::PortOpened,
            ip,
            port: Some((p.protocol.clone(), p.portid)),
        }));
    }
    out
}

/// Re-check rounds at most. nmap retransmits to a silent port only about as often as the
/// ports that answered needed (once, when they answered at once), so one run leaves a silent
/// port at 30% loss unanswered about 9% of the time. A port that answered (open, or closed
/// with a reset) is settled; only ports with no answer at all are probed again, so a real
/// closure costs one run and a lost SYN rarely survives four (0.09^4 ≈ 0.007%).
const ROUNDS: usize = 4;

/// The re-check: [`recheck_once`] repeated for the candidates nmap got no answer for.
fn recheck(
    p: &Recheck,
    candidates: &[Candidate],
    anchors: &[Candidate],
    services: bool,
) -> Option<Seen> {
    let mut seen = Seen {
        ports: HashMap::new(),
    };
    let mut pending: Vec<Candidate> = candidates.to_vec();
    for _ in 0..ROUNDS {
        let round = recheck_once(p, &pending, anchors, services)?;
        for (key, port) in round.ports {
            let settled = seen.ports.get(&key).is_some_and(Port::is_open);
            if !settled {
                seen.ports.insert(key, port);
            }
        }
        pending.retain(|c| {
            c.port.as_ref().is_some_and(|(proto, port)| {
                seen.ports
                    .get(&(c.ip, proto.clone(), *port))
                    .is_none_or(|p| p.state != "open" && p.state != "closed")
            })
        });
        if pending.is_empty() {
            break;
        }
    }
    Some(seen)
}

/// One slower nmap run per address family over the candidates' addresses and ports (plus the
/// anchors). `None` when a run failed or timed out: nothing can be confirmed then.
fn recheck_once(
    p: &Recheck,
    candidates: &[Candidate],
    anchors: &[Candidate],
    services: bool,
) -> Option<Seen> {
    let mut seen = Seen {
        ports: HashMap::new(),
    };
    for v6 in [false, true] {
        let mine: Vec<&Candidate> = candidates
            .iter()
            .chain(anchors)
            .filter(|c| c.ip.is_ipv6() == v6 && c.port.is_some())
            .collect();
        if mine.is_empty() {
            continue;
        }
        let ips: BTreeSet<IpAddr> = mine.iter().map(|c| c.ip).collect();
        let mut by_proto: HashMap<&str, BTreeSet<u16>> = HashMap::new();
        for c in &mine {
            if let Some((proto, port)) = &c.port {
                by_proto.entry(proto.as_str()).or_default().insert(*port);
            }
        }
        let mut args: Vec<String> = p
            .nmap_args
            .iter()
            .filter(|a| KEPT_ARGS.contains(&a.as_str()))
            .cloned()
            .collect();
        if services {
            args.push("-sV".into());
        }
        let spec: Vec<String> = by_proto
            .iter()
            .map(|(proto, ports)| {
                let letter = match *proto {
                    "udp" => "U",
                    "sctp" => "S",
                    _ => "T",
                };
                let list: Vec<String> = ports.iter().map(u16::to_string).collect();
                format!("{letter}:{}", list.join(","))
            })
            .collect();
        args.extend(
            [
                "-Pn",
                "-n",
                "-T3",
                "--max-retries",
                RETRIES,
                "-p",
                &spec.join(","),
                "--noninteractive",
            ]
            .map(String::from),
        );
        let inv = NmapInvocation {
            program: p.program.clone(),
            args,
            targets: ips.iter().map(IpAddr::to_string).collect(),
            timeout: p.timeout,
            max_output_bytes: 64 * 1024 * 1024,
        };
        match nmap::scan(&inv).outcome {
            ScanOutcome::Completed(result) => collect(&mut seen, result),
            ScanOutcome::Failed(reason) => {
                warn!("confirmation re-check failed: {reason}; candidates stay unconfirmed");
                return None;
            }
            ScanOutcome::TimedOut => {
                warn!("confirmation re-check timed out; candidates stay unconfirmed");
                return None;
            }
        }
    }
    Some(seen)
}

fn collect(seen: &mut Seen, result: ScanResult) {
    for h in result.hosts {
        let Some(ip) = host_ip(&h) else { continue };
        for port in h.ports {
            seen.ports
                .insert((ip, port.protocol.clone(), port.portid), port);
        }
    }
}

/// Puts the earlier record back where a candidate did not hold: a whole host (less the ports
/// whose closure was confirmed), or one port on a host that is up.
fn restore(
    run: &mut Snapshot,
    prev: &HashMap<IpAddr, &Host>,
    hosts: &BTreeSet<IpAddr>,
    ports: &[(IpAddr, String, u16)],
    confirmed_closed: &HashSet<(IpAddr, String, u16)>,
) {
    for ip in hosts {
        let Some(before) = prev.get(ip) else { continue };
        let mut host = (*before).clone();
        host.ports
            .retain(|p| !confirmed_closed.contains(&(*ip, p.protocol.clone(), p.portid)));
        run.hosts.retain(|h| host_ip(h) != Some(*ip));
        run.hosts.push(host);
    }
    for (ip, proto, port) in ports {
        if hosts.contains(ip) {
            continue;
        }
        let Some(before) = prev_port(prev, *ip, proto, *port) else {
            continue;
        };
        let mut placed = false;
        for h in run.hosts.iter_mut() {
            if host_ip(h) == Some(*ip) && h.is_up() {
                h.ports
                    .retain(|p| !(p.protocol == *proto && p.portid == *port));
                if !placed {
                    h.ports.push(before.clone());
                    placed = true;
                }
            }
        }
        if !placed && let Some(h) = prev.get(ip) {
            // The host is not up in this run: put it back with just this port.
            let mut host = (*h).clone();
            host.ports = vec![before.clone()];
            run.hosts.retain(|x| host_ip(x) != Some(*ip));
            run.hosts.push(host);
        }
    }
}

//! How a request's targets are spread over nmap processes.
//!
//! An nmap process costs a start-up (~50 ms of CPU: loading its data files) before it probes
//! anything, and nmap works through one process's hosts largely in sequence. So a target with
//! many ports to probe is best alone in its process, several processes side by side; targets
//! with few ports are best together in one process (ten loopback targets, one port each: one
//! nmap 0.05-0.14 s, ten nmaps two at a time 0.6-0.7 s on this project's 2-core machine). And
//! when the request has more processes' worth of targets than it has slots, the targets share
//! the slots' processes instead of waiting for each other in waves of start-ups.

use std::ops::Range;

use crate::profile::PortSpec;

/// Ports per target below which targets share a process: `GROUP_PORTS / ports` targets share
/// one (one port: up to 50; 100 ports or more: one target a process, when slots allow).
pub const GROUP_PORTS: u32 = 50;

/// nmap's own default when the arguments select no ports.
const NMAP_DEFAULT_PORTS: u32 = 1000;

/// How many ports `args` (a profile's nmap arguments) probe on each target.
pub fn ports_per_target(args: &[String]) -> u32 {
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    if let Some(n) = value("--top-ports").and_then(|n| n.parse().ok()) {
        return n;
    }
    match value("-p") {
        Some(spec) => match PortSpec::parse(spec, None) {
            Ok(spec) => spec.count(),
            // `T:...,U:...`: TCP and UDP lists; counting entries is close enough here.
            Err(_) => spec.split(',').count() as u32,
        },
        None => NMAP_DEFAULT_PORTS,
    }
}

/// How many nmap processes `targets` targets of `ports` ports each want.
pub fn processes_wanted(targets: usize, ports: u32) -> usize {
    let per_process = (GROUP_PORTS / ports.max(1)).max(1) as usize;
    targets.div_ceil(per_process)
}

/// `targets` split into `processes` runs of consecutive indices, as even as they go.
pub fn split(targets: usize, processes: usize) -> Vec<Range<usize>> {
    let processes = processes.clamp(1, targets.max(1));
    let (base, extra) = (targets / processes, targets % processes);
    let mut start = 0;
    (0..processes)
        .map(|i| {
            let len = base + usize::from(i < extra);
            let range = start..start + len;
            start += len;
            range
        })
        .filter(|r| !r.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ports_are_read_from_the_profile_arguments() {
        assert_eq!(ports_per_target(&args(&["-sT", "--top-ports", "100"])), 100);
        assert_eq!(
            ports_per_target(&args(&["-sT", "-p", "22,80,8000-8009"])),
            12
        );
        assert_eq!(ports_per_target(&args(&["-sT", "-p", "T:22,U:53"])), 2);
        assert_eq!(ports_per_target(&args(&["-sT"])), 1000);
    }

    #[test]
    fn few_ports_share_a_process_many_ports_do_not() {
        assert_eq!(processes_wanted(10, 1), 1);
        assert_eq!(processes_wanted(10, 10), 2);
        assert_eq!(processes_wanted(10, 100), 10);
        assert_eq!(processes_wanted(10, 1000), 10);
        assert_eq!(processes_wanted(0, 1), 0);
    }

    #[test]
    fn split_covers_every_target_once_evenly() {
        assert_eq!(split(10, 2), [0..5, 5..10]);
        assert_eq!(
            split(10, 8),
            [0..2, 2..4, 4..5, 5..6, 6..7, 7..8, 8..9, 9..10]
        );
        assert_eq!(split(3, 8), [0..1, 1..2, 2..3]);
        assert_eq!(split(1, 1).len(), 1);
        assert_eq!(split(1, 1)[0], 0..1);
    }
}

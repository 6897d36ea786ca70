//! One run's record: what it covered and what nmap reported. A [`Snapshot`] is the unit the
//! store saves, the delta compares and `scan.json` serialises.
//!
//! Coverage is explicit: every [`TargetRecord`] says which addresses it stood for and whether it
//! completed, so that a failed or missing target is never read as "every port closed".

use std::collections::HashSet;
use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Subnets, Ipv6Subnets};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::{Host, ScanResult};

pub mod entries;
pub mod ports;
pub use ports::{PortCoverage, runs_version_detection};

/// One run (a `daily_scan` batch, an API request or an imported XML file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The store's id; `None` until the snapshot is saved.
    pub id: Option<i64>,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub profile: String,
    pub nmap_args: String,
    pub nmap_version: String,
    pub status: SnapshotStatus,
    /// What the run covered: one record per target atom.
    pub targets: Vec<TargetRecord>,
    /// Every host nmap reported, up or down, with its ports as nmap listed them.
    pub hosts: Vec<Host>,
    /// Which (protocol, port) the completed targets were scanned for, and whether version
    /// detection ran. `None` for snapshots stored before it was recorded (and scans that
    /// probed no port): those compare only with snapshots of the same profile, as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanned: Option<PortCoverage>,
    /// Candidate changes the confirmation re-check did not hold, or could not check: they are
    /// not reported as changes (the snapshot records the confirmed state).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unconfirmed: Vec<Unconfirmed>,
}

/// A candidate `port_closed`, `host_gone` or `service_changed` that was not reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unconfirmed {
    /// The change kind's JSON spelling.
    pub kind: String,
    pub ip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `false` when it was past `confirm_max` and never re-checked ("not compared").
    pub checked: bool,
}

/// How a whole run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotStatus {
    /// Every target completed (also a run with no targets: nothing failed).
    Complete,
    /// Some targets completed, some did not.
    Partial,
    /// No target completed.
    Failed,
}

impl SnapshotStatus {
    /// The run's status from its targets' outcomes.
    pub fn from_targets(targets: &[TargetRecord]) -> SnapshotStatus {
        let completed = targets.iter().filter(|t| t.is_completed()).count();
        if completed == targets.len() {
            SnapshotStatus::Complete
        } else if completed == 0 {
            SnapshotStatus::Failed
        } else {
            SnapshotStatus::Partial
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotStatus::Complete => "complete",
            SnapshotStatus::Partial => "partial",
            SnapshotStatus::Failed => "failed",
        }
    }

    /// The inverse of [`SnapshotStatus::as_str`].
    pub fn parse(s: &str) -> Option<SnapshotStatus> {
        match s {
            "complete" => Some(SnapshotStatus::Complete),
            "partial" => Some(SnapshotStatus::Partial),
            "failed" => Some(SnapshotStatus::Failed),
            _ => None,
        }
    }
}

/// One target atom of a run and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRecord {
    /// The `targets.txt` entry (line text) the atom came from; scores are computed per entry.
    pub entry: String,
    /// The atom, e.g. `127.0.0.0/29`, `localhost`, `127.0.0.1-5`.
    pub target: String,
    pub status: TargetStatus,
    pub error: Option<String>,
    /// The addresses this atom stood for (resolved, CIDR-summarised). Empty when unresolved.
    pub covers: Vec<IpNet>,
}

impl TargetRecord {
    pub fn is_completed(&self) -> bool {
        self.status == TargetStatus::Completed
    }
}

/// How one target ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetStatus {
    Completed,
    Failed,
    Timeout,
    Unresolved,
    /// A sharded run finalized without the shard that held the target's addresses (its pod
    /// never finished): nothing is known about them, so nothing is compared.
    #[serde(rename = "shard_missing")]
    ShardMissing,
}

impl TargetStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetStatus::Completed => "completed",
            TargetStatus::Failed => "failed",
            TargetStatus::Timeout => "timeout",
            TargetStatus::Unresolved => "unresolved",
            TargetStatus::ShardMissing => "shard_missing",
        }
    }

    /// The inverse of [`TargetStatus::as_str`].
    pub fn parse(s: &str) -> Option<TargetStatus> {
        match s {
            "completed" => Some(TargetStatus::Completed),
            "failed" => Some(TargetStatus::Failed),
            "timeout" => Some(TargetStatus::Timeout),
            "unresolved" => Some(TargetStatus::Unresolved),
            "shard_missing" => Some(TargetStatus::ShardMissing),
            _ => None,
        }
    }
}

/// The smallest list of CIDR blocks that covers exactly `start..=end`, for a dash range's
/// `covers`. `None` when the two ends are of different families or `start > end`.
pub fn range_covers(start: IpAddr, end: IpAddr) -> Option<Vec<IpNet>> {
    match (start, end) {
        (IpAddr::V4(s), IpAddr::V4(e)) if s <= e => {
            Some(Ipv4Subnets::new(s, e, 0).map(IpNet::V4).collect())
        }
        (IpAddr::V6(s), IpAddr::V6(e)) if s <= e => {
            Some(Ipv6Subnets::new(s, e, 0).map(IpNet::V6).collect())
        }
        _ => None,
    }
}

/// The smallest list of CIDR blocks covering exactly `addresses` (any order, duplicates and
/// both families allowed): IPv4 blocks first, then IPv6, each in address order. This is how a
/// run records what a target, or a whole XML file, stood for.
pub fn summarise(addresses: impl IntoIterator<Item = IpAddr>) -> Vec<IpNet> {
    let (mut v4, mut v6): (Vec<u128>, Vec<u128>) = (Vec::new(), Vec::new());
    for ip in addresses {
        match ip {
            IpAddr::V4(a) => v4.push(u128::from(u32::from(a))),
            IpAddr::V6(a) => v6.push(u128::from(a)),
        }
    }
    let mut out = Vec::new();
    for (mut list, v6) in [(v4, false), (v6, true)] {
        list.sort_unstable();
        list.dedup();
        let to_ip = |n: u128| {
            if v6 {
                IpAddr::V6(n.into())
            } else {
                IpAddr::V4(u32::try_from(n).unwrap_or(u32::MAX).into())
            }
        };
        let mut i = 0;
        while i < list.len() {
            let start = list[i];
            let mut end = start;
            while i + 1 < list.len() && list[i + 1] == end + 1 {
                i += 1;
                end = list[i];
            }
            i += 1;
            out.extend(range_covers(to_ip(start), to_ip(end)).unwrap_or_default());
        }
    }
    out
}

/// A profile label without its `+ports=` override: the scan technique. A run is compared with
/// the latest earlier run of the same technique, over the ports both scanned.
pub fn technique(profile: &str) -> &str {
    profile.split_once('+').map_or(profile, |(base, _)| base)
}

/// A host's address as the delta and the store identify it: parsed (so `::0001` and `::1` are
/// the same host), with any IPv6 zone (`%eth0`) dropped.
pub fn host_ip(host: &Host) -> Option<IpAddr> {
    parse_host_ip(host.ip()?)
}

/// [`host_ip`] of the text [`Host::ip`] gave (as the store keeps it): a zone is dropped.
pub fn parse_host_ip(text: &str) -> Option<IpAddr> {
    let text = text.split_once('%').map_or(text, |(addr, _zone)| addr);
    text.parse().ok()
}

impl Snapshot {
    /// A snapshot of an existing nmap XML file (`daily_scan import`, `diff FILE.xml`).
    ///
    /// Coverage choice: the file is trusted only for the hosts it lists, up or down. Each
    /// listed address becomes one completed target (entry = `source`, target = the address,
    /// covers = that address alone). nmap omits down hosts from XML unless asked, so an address
    /// the file does not list is *not covered*: comparing two files never reports a host gone or
    /// a port closed merely because the later file does not mention it; such addresses appear as
    /// `target_added`/`target_removed` instead. The targets nmap was asked for are not parsed
    /// from `args` (nmap's option grammar is too loose to be trusted for coverage).
    ///
    /// Times come from the file (`nmaprun@start`, `finished@time`); `fallback_time` is used when
    /// it has none.
    pub fn from_scan_result(
        result: &ScanResult,
        source: &str,
        profile: &str,
        fallback_time: Timestamp,
    ) -> Snapshot {
        Self::from_scan_result_owned(result.clone(), source, profile, fallback_time)
    }

    /// [`Snapshot::from_scan_result`] taking the result by value: the hosts are moved, not
    /// copied (an import of 65,536 hosts spent a fifth of its time copying and freeing them).
    pub fn from_scan_result_owned(
        result: ScanResult,
        source: &str,
        profile: &str,
        fallback_time: Timestamp,
    ) -> Snapshot {
        let from_unix = |secs: Option<i64>| secs.and_then(|s| Timestamp::from_second(s).ok());
        let started_at = from_unix(result.start).unwrap_or(fallback_time);
        let finished_at = from_unix(result.end).unwrap_or(started_at);
        let mut seen = HashSet::new();
        let targets = result
            .hosts
            .iter()
            .filter_map(host_ip)
            .filter(|ip| seen.insert(*ip))
            .map(|ip| TargetRecord {
                entry: source.to_string(),
                target: ip.to_string(),
                status: TargetStatus::Completed,
                error: None,
                covers: vec![IpNet::from(ip)],
            })
            .collect();
        let version_detection = runs_version_detection(result.args.split_whitespace());
        Snapshot {
            scanned: PortCoverage::from_scaninfo(&result.scaninfo, version_detection),
            unconfirmed: Vec::new(),
            id: None,
            started_at,
            finished_at,
            profile: profile.to_string(),
            nmap_args: result.args,
            nmap_version: result.nmap_version,
            status: SnapshotStatus::Complete,
            targets,
            hosts: result.hosts,
        }
    }

    pub fn hosts_up(&self) -> usize {
        self.hosts.iter().filter(|h| h.is_up()).count()
    }

    /// Open ports on up hosts.
    pub fn open_ports(&self) -> usize {
        self.hosts
            .iter()
            .filter(|h| h.is_up())
            .map(|h| h.open_ports().count())
            .sum()
    }

    /// Targets that did not complete (failed, timed out or unresolved).
    pub fn targets_failed(&self) -> usize {
        self.targets.iter().filter(|t| !t.is_completed()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Address, Port};

    fn host(ip: &str, state: &str) -> Host {
        Host {
            state: state.into(),
            addresses: vec![Address {
                addr: ip.into(),
                addrtype: if ip.contains(':') { "ipv6" } else { "ipv4" }.into(),
                vendor: String::new(),
            }],
            ..Host::default()
        }
    }

    fn target(status: TargetStatus) -> TargetRecord {
        TargetRecord {
            entry: "e".into(),
            target: "t".into(),
            status,
            error: None,
            covers: vec![],
        }
    }

    #[test]
    fn status_from_targets() {
        use TargetStatus::*;
        let cases: &[(&[TargetStatus], SnapshotStatus)] = &[
            (&[], SnapshotStatus::Complete),
            (&[Completed, Completed], SnapshotStatus::Complete),
            (&[Completed, Timeout], SnapshotStatus::Partial),
            (&[Failed, Unresolved], SnapshotStatus::Failed),
        ];
        for (statuses, want) in cases {
            let targets: Vec<_> = statuses.iter().map(|s| target(*s)).collect();
            assert_eq!(
                SnapshotStatus::from_targets(&targets),
                *want,
                "{statuses:?}"
            );
        }
    }

    #[test]
    fn status_strings_round_trip() {
        for s in [
            SnapshotStatus::Complete,
            SnapshotStatus::Partial,
            SnapshotStatus::Failed,
        ] {
            assert_eq!(SnapshotStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in [
            TargetStatus::Completed,
            TargetStatus::Failed,
            TargetStatus::Timeout,
            TargetStatus::Unresolved,
        ] {
            assert_eq!(TargetStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(TargetStatus::parse("Completed"), None);
    }

    #[test]
    fn range_covers_summarises() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let nets = |v: &[&str]| v.iter().map(|s| s.parse().unwrap()).collect::<Vec<IpNet>>();
        assert_eq!(
            range_covers(ip("127.0.0.1"), ip("127.0.0.5")),
            Some(nets(&["127.0.0.1/32", "127.0.0.2/31", "127.0.0.4/31"]))
        );
        assert_eq!(
            range_covers(ip("127.0.0.0"), ip("127.0.0.255")),
            Some(nets(&["127.0.0.0/24"]))
        );
        assert_eq!(range_covers(ip("::1"), ip("::1")), Some(nets(&["::1/128"])));
        assert_eq!(range_covers(ip("127.0.0.5"), ip("127.0.0.1")), None);
        assert_eq!(range_covers(ip("127.0.0.1"), ip("::1")), None);
    }

    #[test]
    fn summarise_merges_runs_of_addresses() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let nets = |v: &[&str]| v.iter().map(|s| s.parse().unwrap()).collect::<Vec<IpNet>>();
        let input = [
            "127.0.0.3",
            "::1",
            "127.0.0.0",
            "127.0.0.2",
            "127.0.0.1",
            "127.0.0.2",
            "127.0.0.9",
        ];
        assert_eq!(
            summarise(input.iter().map(|s| ip(s))),
            nets(&["127.0.0.0/30", "127.0.0.9/32", "::1/128"])
        );
        let block: Vec<IpAddr> = (0..=255u8)
            .map(|n| ip(&format!("198.51.100.{n}")))
            .collect();
        assert_eq!(summarise(block), nets(&["198.51.100.0/24"]));
        assert_eq!(
            summarise([ip("255.255.255.255")]),
            nets(&["255.255.255.255/32"])
        );
        assert!(summarise([]).is_empty());
    }

    #[test]
    fn host_ip_normalises() {
        assert_eq!(
            host_ip(&host("0:0:0:0:0:0:0:1", "up")),
            Some("::1".parse().unwrap())
        );
        assert_eq!(
            host_ip(&host("fe80::1%eth0", "up")),
            Some("fe80::1".parse().unwrap())
        );
        assert_eq!(host_ip(&host("not-an-ip", "up")), None);
    }

    #[test]
    fn import_covers_listed_hosts_only() {
        let mut up = host("192.0.2.1", "up");
        up.ports.push(Port {
            protocol: "tcp".into(),
            portid: 22,
            state: "open".into(),
            ..Port::default()
        });
        let result = ScanResult {
            args: "nmap -oX - 192.0.2.0/29".into(),
            nmap_version: "7.93".into(),
            start: Some(1_700_000_000),
            end: None,
            hosts: vec![up, host("192.0.2.2", "down"), host("192.0.2.1", "up")],
            ..ScanResult::default()
        };
        let fallback: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
        let s = Snapshot::from_scan_result(&result, "old.xml", "imported", fallback);
        assert_eq!(s.started_at, Timestamp::from_second(1_700_000_000).unwrap());
        assert_eq!(s.finished_at, s.started_at);
        assert_eq!(s.status, SnapshotStatus::Complete);
        let covered: Vec<_> = s.targets.iter().map(|t| t.target.as_str()).collect();
        assert_eq!(covered, ["192.0.2.1", "192.0.2.2"]);
        assert!(
            s.targets
                .iter()
                .all(|t| t.entry == "old.xml" && t.is_completed())
        );
        assert_eq!(
            s.targets[1].covers,
            vec!["192.0.2.2/32".parse::<IpNet>().unwrap()]
        );
        assert_eq!(
            (s.hosts_up(), s.open_ports(), s.targets_failed()),
            (2, 1, 0)
        );

        let owned =
            Snapshot::from_scan_result_owned(result.clone(), "old.xml", "imported", fallback);
        assert_eq!(owned, s);

        let empty = Snapshot::from_scan_result(&ScanResult::default(), "e.xml", "p", fallback);
        assert_eq!(empty.started_at, fallback);
        assert!(empty.targets.is_empty());
    }

    #[test]
    fn json_round_trip() {
        let result = ScanResult {
            hosts: vec![host("192.0.2.1", "up")],
            ..ScanResult::default()
        };
        let s = Snapshot::from_scan_result(&result, "f.xml", "p", Timestamp::UNIX_EPOCH);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""covers":["192.0.2.1/32"]"#), "{json}");
        assert_eq!(serde_json::from_str::<Snapshot>(&json).unwrap(), s);
    }
}

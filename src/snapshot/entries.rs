//! A snapshot seen per `targets.txt` entry: which addresses an entry's targets cover (as
//! merged ranges, looked up by binary search: O((addresses + targets) log n), not addresses ×
//! targets), and how many up hosts and open ports each entry has. The dashboard's cards count
//! with this, and a run stores the counts beside its delta so the dashboard need not read
//! every host.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::{Snapshot, TargetRecord, host_ip};

/// An address as a sortable number, IPv4 and IPv6 apart.
pub type Key = (u8, u128);

pub fn key(ip: IpAddr) -> Key {
    match ip {
        IpAddr::V4(v4) => (4, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => (6, u128::from(v6)),
    }
}

/// The addresses the targets cover, as sorted, non-overlapping inclusive ranges.
pub fn merged_ranges(targets: &[&TargetRecord]) -> Vec<(Key, Key)> {
    let mut ranges: Vec<(Key, Key)> = targets
        .iter()
        .flat_map(|t| t.covers.iter())
        .map(|n| (key(n.network()), key(n.broadcast())))
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(Key, Key)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some((_, last_end)) if start <= *last_end => *last_end = (*last_end).max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// The items of `sorted` (by key) whose key lies in one of `ranges`.
pub fn in_ranges<'a, T>(
    sorted: &'a [(Key, T)],
    ranges: &'a [(Key, Key)],
) -> impl Iterator<Item = &'a T> + 'a {
    ranges.iter().flat_map(move |(start, end)| {
        let from = sorted.partition_point(|(k, _)| k < start);
        let to = sorted.partition_point(|(k, _)| k <= end);
        sorted[from..to].iter().map(|(_, t)| t)
    })
}

/// An entry's up hosts (those its targets cover) and the ports open on them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryCount {
    pub hosts_up: usize,
    pub open_ports: usize,
}

/// Every up host of `s` with an address, and how many ports are open on it.
pub fn up_hosts(s: &Snapshot) -> Vec<(IpAddr, usize)> {
    s.hosts
        .iter()
        .filter(|h| h.is_up())
        .filter_map(|h| Some((host_ip(h)?, h.open_ports().count())))
        .collect()
}

/// Per entry of `targets`: the [`EntryCount`] of the `up_hosts` (address, open ports) its
/// targets cover. A host covered by several entries counts for each.
pub fn entry_counts(
    targets: &[TargetRecord],
    up_hosts: &[(IpAddr, usize)],
) -> BTreeMap<String, EntryCount> {
    let mut by_entry: HashMap<&str, Vec<&TargetRecord>> = HashMap::new();
    for t in targets {
        by_entry.entry(t.entry.as_str()).or_default().push(t);
    }
    let mut hosts: Vec<(Key, usize)> = up_hosts.iter().map(|&(ip, n)| (key(ip), n)).collect();
    hosts.sort_unstable_by_key(|(k, _)| *k);
    by_entry
        .into_iter()
        .map(|(entry, targets)| {
            let ranges = merged_ranges(&targets);
            let mut count = EntryCount::default();
            for open in in_ranges(&hosts, &ranges) {
                count.hosts_up += 1;
                count.open_ports += open;
            }
            (entry.to_string(), count)
        })
        .collect()
}

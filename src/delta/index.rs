//! A snapshot indexed for comparison and scoring: hosts by address, coverage as intervals,
//! entries by address. Built once per snapshot, in O(n log n).

use std::collections::HashMap;
use std::net::IpAddr;

use super::coverage::{Coverage, EntryIndex};
use super::severity::{DeltaConfig, Expected};
use crate::model::Port;
use crate::snapshot::{Snapshot, host_ip};

/// One address's merged view: nmap may report an address twice (overlapping entries); it is up
/// if any report says so, and a port is open if any report says so.
#[derive(Debug, Default)]
pub(crate) struct HostView<'a> {
    pub(crate) up: bool,
    /// Ports of up reports only, one per (protocol, port), sorted by (protocol, port).
    pub(crate) ports: Vec<&'a Port>,
}

pub(crate) struct Indexed<'a> {
    pub(crate) snapshot: &'a Snapshot,
    /// Addresses covered by a completed target.
    pub(crate) covered: Coverage,
    pub(crate) hosts: HashMap<IpAddr, HostView<'a>>,
    /// Distinct `targets.txt` entries, in first-seen order.
    pub(crate) entries: Vec<&'a str>,
    /// Whether any target of the entry (same index) completed.
    pub(crate) entry_completed: Vec<bool>,
    /// Entry ids by address, from completed targets only.
    pub(crate) entry_index: EntryIndex,
}

impl<'a> Indexed<'a> {
    pub(crate) fn new(snapshot: &'a Snapshot) -> Indexed<'a> {
        let completed = || snapshot.targets.iter().filter(|t| t.is_completed());
        let covered = Coverage::new(completed().flat_map(|t| &t.covers));

        let mut entries: Vec<&str> = Vec::new();
        let mut entry_completed = Vec::new();
        let mut entry_ids: HashMap<&str, u32> = HashMap::new();
        let mut memberships = Vec::new();
        for t in &snapshot.targets {
            let id = *entry_ids.entry(&t.entry).or_insert_with(|| {
                entries.push(&t.entry);
                entry_completed.push(false);
                u32::try_from(entries.len() - 1).unwrap_or(u32::MAX)
            });
            if t.is_completed() {
                entry_completed[id as usize] = true;
                memberships.extend(t.covers.iter().map(|net| (id, net)));
            }
        }

        let mut hosts: HashMap<IpAddr, HostView> = HashMap::with_capacity(snapshot.hosts.len());
        for h in &snapshot.hosts {
            let Some(ip) = host_ip(h) else { continue };
            let view = hosts.entry(ip).or_default();
            if h.is_up() {
                view.up = true;
                view.ports.extend(&h.ports);
            }
        }
        for view in hosts.values_mut() {
            // Open first within a key, so dedup keeps the open report.
            view.ports.sort_by(|a, b| {
                (&a.protocol, a.portid, !a.is_open()).cmp(&(&b.protocol, b.portid, !b.is_open()))
            });
            view.ports
                .dedup_by(|a, b| a.protocol == b.protocol && a.portid == b.portid);
        }

        Indexed {
            snapshot,
            covered,
            hosts,
            entries,
            entry_completed,
            entry_index: EntryIndex::new(memberships),
        }
    }

    /// The entries (of completed targets) that cover `ip`.
    pub(crate) fn entries_of(&self, ip: IpAddr) -> Vec<&'a str> {
        self.entry_index
            .entries_of(ip)
            .iter()
            .filter_map(|&id| self.entries.get(id as usize).copied())
            .collect()
    }

    pub(crate) fn expected_ports<'c>(
        &self,
        delta_config: &'c DeltaConfig,
        ip: IpAddr,
    ) -> Option<Expected<'c>> {
        if delta_config.expected.is_empty() {
            return None;
        }
        delta_config.expected_ports(ip, &self.entries_of(ip))
    }
}

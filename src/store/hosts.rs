//! A snapshot's hosts one at a time, with their ports, in the order nmap reported them: what
//! a full load collects, and what the read API streams or pages without holding every host
//! in memory. Each backend reads hosts and ports by two cursors in one read transaction (so
//! both see the same snapshot); `rows::merge_hosts` puts them together.

use super::rows::host_of;
use super::{Store, StoreError};
use crate::model::Host;

/// Which hosts of a snapshot to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostRange {
    /// Only hosts after this position (0-based, as nmap listed them); `None`: from the first.
    pub after: Option<u64>,
    /// At most this many hosts; `None`: all of them.
    pub limit: Option<u64>,
}

impl HostRange {
    /// The first position to read (`after` + 1), as a backend binds it.
    pub(super) fn first(&self) -> i64 {
        self.after.map_or(0, |a| {
            i64::try_from(a).unwrap_or(i64::MAX).saturating_add(1)
        })
    }

    /// `limit` as a backend binds it (`None`: no limit).
    pub(super) fn limit(&self) -> Option<i64> {
        self.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX))
    }

    /// The last position the range can reach: hosts are saved at positions 0, 1, 2... with no
    /// gap, so a page's ports lie between [`HostRange::first`] and this (an index range, not
    /// the rest of the snapshot).
    pub(super) fn last(&self) -> i64 {
        self.limit().map_or(i64::MAX, |l| {
            self.first().saturating_add(l.saturating_sub(1))
        })
    }
}

impl Store {
    /// Every up host of snapshot `id` as (its address text, as [`Host::ip`] gives it, and how
    /// many of its ports are `open`), in order: what the dashboard's cards count, without
    /// loading the ports.
    pub fn up_hosts_open_ports(&self, id: i64) -> Result<Vec<(String, usize)>, StoreError> {
        Ok(self
            .db
            .up_hosts_open_ports(id)?
            .into_iter()
            .map(|(ip, open)| (ip, usize::try_from(open).unwrap_or(0)))
            .collect())
    }

    /// Calls `each` with (position, host) for the hosts of snapshot `id` in `range`, in order,
    /// until it returns `false`. The snapshot must exist (else [`StoreError::NotFound`]).
    pub fn for_each_host(
        &self,
        id: i64,
        range: HostRange,
        mut each: impl FnMut(u64, Host) -> bool,
    ) -> Result<(), StoreError> {
        let mut bad = None;
        let found =
            self.db.for_each_host(
                id,
                range,
                &mut |position, row, ports| match host_of(row, ports) {
                    Ok(host) => each(u64::try_from(position).unwrap_or(0), host),
                    Err(detail) => {
                        bad = Some(detail);
                        false
                    }
                },
            )?;
        if !found {
            return Err(StoreError::NotFound(id));
        }
        match bad {
            Some(detail) => Err(self.corrupt(detail)),
            None => Ok(()),
        }
    }
}

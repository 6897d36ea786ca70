//! Address-interval lookups in O(log n): which addresses a snapshot covered, and which
//! `targets.txt` entries an address belongs to. Addresses become integers (IPv4 and IPv6 kept
//! apart), CIDR blocks become closed intervals.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;

fn key(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(v4) => (false, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => (true, u128::from(v6)),
    }
}

fn bounds(net: &IpNet) -> (bool, u128, u128) {
    let (v6, lo) = key(net.network());
    let (_, hi) = key(net.broadcast());
    (v6, lo, hi)
}

/// The last interval starting at or before `x` (intervals sorted by start).
fn at_or_before<T>(list: &[T], x: u128, start: impl Fn(&T) -> u128) -> Option<&T> {
    let i = list.partition_point(|item| start(item) <= x);
    i.checked_sub(1).map(|i| &list[i])
}

/// A union of networks as sorted, disjoint, non-adjacent closed intervals.
#[derive(Debug, Clone, Default)]
pub(crate) struct Coverage {
    v4: Vec<(u128, u128)>,
    v6: Vec<(u128, u128)>,
}

impl Coverage {
    pub(crate) fn new<'a>(nets: impl IntoIterator<Item = &'a IpNet>) -> Coverage {
        let mut cov = Coverage::default();
        for net in nets {
            let (v6, lo, hi) = bounds(net);
            if v6 { &mut cov.v6 } else { &mut cov.v4 }.push((lo, hi));
        }
        for list in [&mut cov.v4, &mut cov.v6] {
            list.sort_unstable();
            let mut merged: Vec<(u128, u128)> = Vec::with_capacity(list.len());
            for &(lo, hi) in list.iter() {
                match merged.last_mut() {
                    Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                    _ => merged.push((lo, hi)),
                }
            }
            *list = merged;
        }
        cov
    }

    fn list(&self, v6: bool) -> &[(u128, u128)] {
        if v6 { &self.v6 } else { &self.v4 }
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let (v6, x) = key(ip);
        at_or_before(self.list(v6), x, |iv| iv.0).is_some_and(|iv| iv.1 >= x)
    }

    /// Whether every address of `net` is covered.
    pub(crate) fn contains_net(&self, net: &IpNet) -> bool {
        let (v6, lo, hi) = bounds(net);
        at_or_before(self.list(v6), lo, |iv| iv.0).is_some_and(|iv| iv.1 >= hi)
    }
}

#[derive(Debug, Clone)]
struct Segment {
    lo: u128,
    hi: u128,
    ids: Vec<u32>,
}

/// Maps an address to the ids of every entry whose networks contain it. Overlapping entries are
/// cut into elementary segments once, so a lookup is one binary search.
#[derive(Debug, Clone, Default)]
pub(crate) struct EntryIndex {
    v4: Vec<Segment>,
    v6: Vec<Segment>,
}

impl EntryIndex {
    pub(crate) fn new<'a>(items: impl IntoIterator<Item = (u32, &'a IpNet)>) -> EntryIndex {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for (id, net) in items {
            let (is_v6, lo, hi) = bounds(net);
            if is_v6 { &mut v6 } else { &mut v4 }.push((id, lo, hi));
        }
        EntryIndex {
            v4: segments(v4),
            v6: segments(v6),
        }
    }

    pub(crate) fn entries_of(&self, ip: IpAddr) -> &[u32] {
        let (v6, x) = key(ip);
        let list = if v6 { &self.v6 } else { &self.v4 };
        match at_or_before(list, x, |s| s.lo) {
            Some(seg) if seg.hi >= x => &seg.ids,
            _ => &[],
        }
    }
}

/// Sweep over interval starts and ends, emitting a segment wherever the active set is constant.
fn segments(mut items: Vec<(u32, u128, u128)>) -> Vec<Segment> {
    // Merge each id's own intervals first, so an id is never active twice.
    items.sort_unstable();
    let mut merged: Vec<(u32, u128, u128)> = Vec::with_capacity(items.len());
    for (id, lo, hi) in items {
        match merged.last_mut() {
            Some(last) if last.0 == id && lo <= last.2.saturating_add(1) => last.2 = last.2.max(hi),
            _ => merged.push((id, lo, hi)),
        }
    }
    // (position, is_start, id); an interval ending at the top of the space has no end event.
    let mut events: Vec<(u128, bool, u32)> = Vec::with_capacity(merged.len() * 2);
    for (id, lo, hi) in merged {
        events.push((lo, true, id));
        if let Some(end) = hi.checked_add(1) {
            events.push((end, false, id));
        }
    }
    events.sort_unstable();
    let mut out = Vec::new();
    let mut active = BTreeSet::new();
    let mut prev = 0u128;
    let mut i = 0;
    while i < events.len() {
        let pos = events[i].0;
        if !active.is_empty() && pos > prev {
            out.push(Segment {
                lo: prev,
                hi: pos - 1,
                ids: active.iter().copied().collect(),
            });
        }
        while let Some(&(p, is_start, id)) = events.get(i).filter(|e| e.0 == pos) {
            debug_assert_eq!(p, pos);
            if is_start {
                active.insert(id);
            } else {
                active.remove(&id);
            }
            i += 1;
        }
        prev = pos;
    }
    if !active.is_empty() {
        out.push(Segment {
            lo: prev,
            hi: u128::MAX,
            ids: active.iter().copied().collect(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn coverage_merges_adjacent_blocks() {
        let cov = Coverage::new(&nets(&[
            "127.0.0.0/30",
            "127.0.0.4/30",
            "127.0.0.9/32",
            "::1/128",
        ]));
        assert!(cov.contains(ip("127.0.0.0")) && cov.contains(ip("127.0.0.7")));
        assert!(!cov.contains(ip("127.0.0.8")) && cov.contains(ip("127.0.0.9")));
        assert!(!cov.contains(ip("127.0.0.10")) && !cov.contains(ip("126.255.255.255")));
        assert!(cov.contains(ip("::1")) && !cov.contains(ip("::2")));
        // ::1 and 0.0.0.1 are different addresses.
        assert!(!cov.contains(ip("0.0.0.1")));
        assert!(cov.contains_net(&"127.0.0.0/29".parse().unwrap()));
        assert!(!cov.contains_net(&"127.0.0.0/28".parse().unwrap()));
        assert!(!Coverage::default().contains(ip("127.0.0.1")));
    }

    #[test]
    fn coverage_handles_whole_spaces() {
        let cov = Coverage::new(&nets(&["0.0.0.0/0", "::/0"]));
        assert!(cov.contains(ip("255.255.255.255")));
        assert!(cov.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
    }

    #[test]
    fn entry_index_resolves_overlaps() {
        let a = nets(&["127.0.0.0/29"]);
        let b = nets(&["127.0.0.4/32", "127.0.0.6/31"]);
        let c = nets(&["::/0", "127.0.0.0/8"]);
        let items = a
            .iter()
            .map(|n| (0, n))
            .chain(b.iter().map(|n| (1, n)))
            .chain(c.iter().map(|n| (2, n)));
        let index = EntryIndex::new(items);
        let cases: &[(&str, &[u32])] = &[
            ("127.0.0.0", &[0, 2]),
            ("127.0.0.4", &[0, 1, 2]),
            ("127.0.0.5", &[0, 2]),
            ("127.0.0.7", &[0, 1, 2]),
            ("127.0.0.8", &[2]),
            ("127.255.255.255", &[2]),
            ("128.0.0.0", &[]),
            ("192.0.2.1", &[]),
            ("::1", &[2]),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &[2]),
        ];
        for (addr, want) in cases {
            assert_eq!(index.entries_of(ip(addr)), *want, "{addr}");
        }
        assert_eq!(
            EntryIndex::default().entries_of(ip("127.0.0.1")),
            &[] as &[u32]
        );
    }
}

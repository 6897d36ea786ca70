//! The plan of a run: which addresses each target stands for, and how they are cut into nmap
//! invocations (chunks). Pure: expanded targets in, a [`Plan`] out; nothing is run.
//!
//! Every address is scanned once, however many entries name it. The union of all addresses is
//! cut, in address order and one family at a time (nmap takes one family per process), into
//! chunks of at most `chunk_size` addresses, each written as few CIDR blocks as possible: a
//! /24 with `chunk_size = 256` is one nmap process given `127.0.0.0/24`, not 256 processes.
//! A target is completed only when every chunk holding one of its addresses completed.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::snapshot::{TargetStatus, range_covers, summarise};
use crate::target::{ExpandedEntry, TargetError};

/// One target atom of `targets.txt` and what it stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedTarget {
    /// 1-based line of the entry in the targets file.
    pub line: usize,
    /// The entry as written (comment removed); scores are computed per entry.
    pub entry: String,
    /// The atom, canonical (`127.0.0.1-127.0.0.20`, `localhost`, ...).
    pub target: String,
    /// Its addresses as CIDR blocks, or why it cannot be scanned.
    pub covers: Result<Vec<IpNet>, Unscannable>,
    /// How many addresses it stands for (0 when unscannable).
    pub addresses: u64,
    /// Indexes into [`Plan::chunks`] of the chunks holding its addresses.
    pub chunks: Vec<usize>,
}

/// A target that never reaches nmap: the outcome it is recorded with, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unscannable {
    pub status: TargetStatus,
    pub error: String,
}

/// One nmap invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// nmap's target arguments: addresses and CIDR blocks, all of one family, in order.
    pub targets: Vec<String>,
    pub addresses: u64,
    pub ipv6: bool,
    /// The shard (0-based) that runs it; always 0 for an unsharded run.
    pub shard: u32,
    /// First and last address (as integers of the family), for mapping targets to chunks.
    first: u128,
    last: u128,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub targets: Vec<PlannedTarget>,
    pub chunks: Vec<Chunk>,
    /// Distinct addresses scanned.
    pub addresses: u64,
    /// How many shards the chunks are split over (1: an unsharded run).
    pub shards: u32,
}

/// Builds the plan of an unsharded run; `chunk_size` is at least 1 (the configuration
/// guarantees it).
pub fn build(expanded: &[ExpandedEntry], chunk_size: usize) -> Plan {
    build_sharded(expanded, chunk_size, 1)
}

/// Builds the plan of a run split over `shards` (at least 1): the sorted union of addresses
/// is cut into `shards` consecutive parts of (nearly) equal address count, and each part into
/// chunks of at most `chunk_size`. Pure and deterministic: the same targets and `shards`
/// give every shard, and every retry of one, the same chunks.
pub fn build_sharded(expanded: &[ExpandedEntry], chunk_size: usize, shards: u32) -> Plan {
    let shards = shards.max(1);
    let chunk_size = chunk_size.max(1) as u128;
    let mut targets = Vec::new();
    let mut all: Vec<IpAddr> = Vec::new();
    for entry in expanded {
        for t in &entry.targets {
            let (covers, addresses) = match &t.addresses {
                Ok(list) => {
                    all.extend(list);
                    let covers = summarise(list.iter().copied());
                    let count = covers.iter().map(block_size).sum::<u128>();
                    (Ok(covers), u64::try_from(count).unwrap_or(u64::MAX))
                }
                Err(e) => (Err(unscannable(e)), 0),
            };
            targets.push(PlannedTarget {
                line: entry.entry.line,
                entry: entry.entry.text.clone(),
                target: t.target.to_string(),
                covers,
                addresses,
                chunks: Vec::new(),
            });
        }
    }
    let union = summarise(all);
    let mut chunks = Vec::new();
    for (k, part) in (0u32..).zip(split(&intervals(&union), shards)) {
        chunks.extend(
            cut(&part, chunk_size)
                .into_iter()
                .map(|c| Chunk { shard: k, ..c }),
        );
    }
    for t in &mut targets {
        if let Ok(covers) = &t.covers {
            t.chunks = chunks_of(covers, &chunks);
        }
    }
    let addresses = chunks.iter().map(|c| c.addresses).sum();
    Plan {
        targets,
        chunks,
        addresses,
        shards,
    }
}

/// Splits the intervals (in order) into `shards` consecutive runs of addresses: address `i`
/// of `total` (in order) goes to shard `floor(i * shards / total)`.
fn split(intervals: &[(bool, u128, u128)], shards: u32) -> Vec<Vec<(bool, u128, u128)>> {
    let n = u128::from(shards.max(1));
    let mut out = vec![Vec::new(); n as usize];
    let total: u128 = intervals
        .iter()
        .map(|&(_, lo, hi)| hi - lo + 1)
        .fold(0u128, u128::saturating_add);
    let mut seen = 0u128;
    for &(v6, lo, hi) in intervals {
        let mut start = lo;
        loop {
            let k = (seen.saturating_mul(n) / total).min(n - 1);
            // The first address (in order) of shard k + 1.
            let next = ((k + 1).saturating_mul(total)).div_ceil(n);
            let room = next.saturating_sub(seen).max(1);
            let left = hi - start + 1;
            if left <= room {
                out[k as usize].push((v6, start, hi));
                seen += left;
                break;
            }
            out[k as usize].push((v6, start, start + room - 1));
            seen += room;
            start += room;
        }
    }
    out
}

fn unscannable(e: &TargetError) -> Unscannable {
    let status = match e {
        TargetError::Unresolved { .. } => TargetStatus::Unresolved,
        _ => TargetStatus::Failed,
    };
    Unscannable {
        status,
        error: e.to_string(),
    }
}

fn key(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        IpAddr::V6(a) => (true, u128::from(a)),
    }
}

fn to_ip(v6: bool, n: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(n.into())
    } else {
        IpAddr::V4(u32::try_from(n).unwrap_or(u32::MAX).into())
    }
}

fn block_size(net: &IpNet) -> u128 {
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
}

/// Closed intervals `(ipv6, first, last)` of sorted, disjoint blocks, adjacent ones merged.
fn intervals(nets: &[IpNet]) -> Vec<(bool, u128, u128)> {
    let mut out: Vec<(bool, u128, u128)> = Vec::new();
    for net in nets {
        let (v6, lo) = key(net.network());
        let (_, hi) = key(net.broadcast());
        match out.last_mut() {
            Some(last) if last.0 == v6 && last.2.checked_add(1) == Some(lo) => last.2 = hi,
            _ => out.push((v6, lo, hi)),
        }
    }
    out
}

/// Cuts the intervals, in order, into chunks of at most `size` addresses of one family.
fn cut(intervals: &[(bool, u128, u128)], size: u128) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut pieces: Vec<(u128, u128)> = Vec::new();
    let mut family = false;
    let mut filled = 0u128;
    let mut flush = |pieces: &mut Vec<(u128, u128)>, v6: bool, filled: &mut u128| {
        if pieces.is_empty() {
            return;
        }
        let mut targets = Vec::new();
        for &(lo, hi) in pieces.iter() {
            for net in range_covers(to_ip(v6, lo), to_ip(v6, hi)).unwrap_or_default() {
                targets.push(if net.prefix_len() == net.max_prefix_len() {
                    net.addr().to_string()
                } else {
                    net.to_string()
                });
            }
        }
        chunks.push(Chunk {
            targets,
            addresses: u64::try_from(*filled).unwrap_or(u64::MAX),
            ipv6: v6,
            shard: 0,
            first: pieces[0].0,
            last: pieces[pieces.len() - 1].1,
        });
        pieces.clear();
        *filled = 0;
    };
    for &(v6, lo, hi) in intervals {
        if v6 != family {
            flush(&mut pieces, family, &mut filled);
            family = v6;
        }
        let mut start = lo;
        loop {
            let room = size - filled;
            let left = hi - start; // addresses left in this interval, minus one
            if left < room {
                pieces.push((start, hi));
                filled += left + 1;
                if filled == size {
                    flush(&mut pieces, family, &mut filled);
                }
                break;
            }
            let end = start + (room - 1);
            pieces.push((start, end));
            filled += room;
            flush(&mut pieces, family, &mut filled);
            start = end + 1;
        }
    }
    flush(&mut pieces, family, &mut filled);
    chunks
}

/// The chunks holding any address of `covers`. Chunks partition the sorted union of all
/// addresses, so a chunk whose span meets one of the target's blocks holds some of its
/// addresses.
fn chunks_of(covers: &[IpNet], chunks: &[Chunk]) -> Vec<usize> {
    let mut out = Vec::new();
    for &(v6, lo, hi) in &intervals(covers) {
        let start = chunks.partition_point(|c| (c.ipv6, c.last) < (v6, lo));
        for (i, c) in chunks.iter().enumerate().skip(start) {
            if c.ipv6 != v6 || c.first > hi {
                break;
            }
            out.push(i);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{NetworkPolicy, expand, parse_targets};

    fn plan(text: &str, chunk_size: usize) -> Plan {
        let entries = parse_targets(text, "targets.txt").unwrap();
        let expanded = expand(&entries, &NetworkPolicy::loopback_only(), 1 << 20).unwrap();
        build(&expanded, chunk_size)
    }

    fn chunk_targets(p: &Plan) -> Vec<Vec<&str>> {
        p.chunks
            .iter()
            .map(|c| c.targets.iter().map(String::as_str).collect())
            .collect()
    }

    fn sharded(text: &str, chunk_size: usize, shards: u32) -> Plan {
        let entries = parse_targets(text, "targets.txt").unwrap();
        let expanded = expand(&entries, &NetworkPolicy::loopback_only(), 1 << 20).unwrap();
        build_sharded(&expanded, chunk_size, shards)
    }

    /// Each shard's chunks' targets.
    fn by_shard(p: &Plan) -> Vec<Vec<&str>> {
        let mut out = vec![Vec::new(); p.shards as usize];
        for c in &p.chunks {
            out[c.shard as usize].extend(c.targets.iter().map(String::as_str));
        }
        out
    }

    #[test]
    fn shards_split_the_addresses_evenly_in_order() {
        let p = sharded("127.0.0.1-127.0.0.8\n", 256, 4);
        assert_eq!(
            by_shard(&p),
            [
                ["127.0.0.1", "127.0.0.2"],
                ["127.0.0.3", "127.0.0.4"],
                ["127.0.0.5", "127.0.0.6"],
                ["127.0.0.7", "127.0.0.8"],
            ]
        );
        assert_eq!(p.targets[0].chunks, [0, 1, 2, 3]);
        // 10 addresses over 3 shards: 4, 3, 3 (address i goes to floor(i * 3 / 10)).
        let p = sharded("127.0.0.0/29\n127.0.1.0/31\n", 2, 3);
        let sizes: Vec<u64> = (0..3)
            .map(|k| {
                p.chunks
                    .iter()
                    .filter(|c| c.shard == k)
                    .map(|c| c.addresses)
                    .sum()
            })
            .collect();
        assert_eq!(sizes, [4, 3, 3]);
        assert!(p.chunks.iter().all(|c| c.addresses <= 2));
        assert_eq!(p.chunks.iter().map(|c| c.addresses).sum::<u64>(), 10);
    }

    #[test]
    fn sharding_is_deterministic_and_one_shard_is_the_plain_plan() {
        let text = "127.0.0.0/24\n127.0.5.7\n::1\nlocalhost\n";
        assert_eq!(sharded(text, 16, 5), sharded(text, 16, 5));
        assert_eq!(sharded(text, 16, 1), plan(text, 16));
        // More shards than addresses: some shards have nothing to do.
        let p = sharded("127.0.0.1\n127.0.0.2\n", 256, 4);
        assert_eq!(by_shard(&p).iter().filter(|s| s.is_empty()).count(), 2);
        // Families never share a chunk.
        let p = sharded("127.0.0.1\n::1\n", 256, 1);
        assert_eq!(chunk_targets(&p), [["127.0.0.1"], ["::1"]]);
    }

    #[test]
    fn a_plan_survives_json() {
        let p = sharded("127.0.0.0/30\n127.0.0.9\n", 2, 2);
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Plan>(&text).unwrap(), p);
    }

    #[test]
    fn a_block_is_one_process_not_one_per_address() {
        let p = plan("127.0.0.0/24\n", 256);
        assert_eq!(chunk_targets(&p), [["127.0.0.0/24"]]);
        assert_eq!((p.addresses, p.chunks[0].addresses), (256, 256));
        assert_eq!(p.targets[0].chunks, [0]);
        assert_eq!(
            p.targets[0].covers,
            Ok(vec!["127.0.0.0/24".parse().unwrap()])
        );
    }

    #[test]
    fn big_blocks_are_cut_at_chunk_size() {
        let p = plan("127.0.0.0/22\n", 256);
        assert_eq!(
            chunk_targets(&p),
            [
                ["127.0.0.0/24"],
                ["127.0.1.0/24"],
                ["127.0.2.0/24"],
                ["127.0.3.0/24"]
            ]
        );
        assert_eq!(p.targets[0].chunks, [0, 1, 2, 3]);
        // A size that is not a power of two: blocks stay compact, never more than 100 each.
        let p = plan("127.0.0.0/24\n", 100);
        assert_eq!(
            chunk_targets(&p),
            [
                vec!["127.0.0.0/26", "127.0.0.64/27", "127.0.0.96/30"],
                vec![
                    "127.0.0.100/30",
                    "127.0.0.104/29",
                    "127.0.0.112/28",
                    "127.0.0.128/26",
                    "127.0.0.192/29"
                ],
                vec!["127.0.0.200/29", "127.0.0.208/28", "127.0.0.224/27"],
            ]
        );
        let sizes: Vec<u64> = p.chunks.iter().map(|c| c.addresses).collect();
        assert_eq!(sizes, [100, 100, 56]);
    }

    #[test]
    fn overlapping_entries_are_scanned_once_and_share_chunks() {
        let p = plan("127.0.0.0/30\n127.0.0.2 # again\n127.0.0.8-9, ::1\n", 4);
        assert_eq!(
            chunk_targets(&p),
            [vec!["127.0.0.0/30"], vec!["127.0.0.8/31"], vec!["::1"]]
        );
        let per_target: Vec<(&str, &str, &[usize])> = p
            .targets
            .iter()
            .map(|t| (t.entry.as_str(), t.target.as_str(), t.chunks.as_slice()))
            .collect();
        assert_eq!(
            per_target,
            [
                ("127.0.0.0/30", "127.0.0.0/30", &[0][..]),
                ("127.0.0.2", "127.0.0.2", &[0][..]),
                ("127.0.0.8-9, ::1", "127.0.0.8-127.0.0.9", &[1][..]),
                ("127.0.0.8-9, ::1", "::1", &[2][..]),
            ]
        );
        assert_eq!(p.addresses, 7);
        assert!(p.chunks[2].ipv6 && !p.chunks[1].ipv6);
    }

    #[test]
    fn scattered_addresses_fill_chunks_in_order() {
        let p = plan("127.0.0.1\n127.0.0.5\n127.0.0.9\n127.0.0.3\n", 3);
        assert_eq!(
            chunk_targets(&p),
            [
                vec!["127.0.0.1", "127.0.0.3", "127.0.0.5"],
                vec!["127.0.0.9"]
            ]
        );
        let chunks: Vec<&[usize]> = p.targets.iter().map(|t| t.chunks.as_slice()).collect();
        assert_eq!(chunks, [&[0][..], &[0][..], &[1][..], &[0][..]]);
    }

    #[test]
    fn a_target_spanning_chunks_lists_all_of_them() {
        let p = plan("127.0.0.0-127.0.0.5\n127.0.0.4-127.0.0.9\n", 4);
        let chunks: Vec<&[usize]> = p.targets.iter().map(|t| t.chunks.as_slice()).collect();
        assert_eq!(chunks, [&[0, 1][..], &[1, 2][..]]);
        assert_eq!(p.targets[1].addresses, 6);
    }

    #[test]
    fn refused_targets_are_recorded_not_scanned() {
        let entries = parse_targets("127.0.0.1\n192.0.2.1\n", "t").unwrap();
        let expanded = expand(&entries, &NetworkPolicy::loopback_only(), 10).unwrap();
        let p = build(&expanded, 256);
        assert_eq!(chunk_targets(&p), [["127.0.0.1"]]);
        let refused = p.targets[1].covers.as_ref().unwrap_err();
        assert_eq!(refused.status, TargetStatus::Failed);
        assert!(refused.error.contains("not allowed"), "{}", refused.error);
        assert!(p.targets[1].chunks.is_empty());
    }

    #[test]
    fn whole_ipv4_space_edges_do_not_overflow() {
        let entries = parse_targets("255.255.255.254/31\n", "t").unwrap();
        let policy = NetworkPolicy {
            allowed: vec!["0.0.0.0/0".parse().unwrap()],
            denied: vec![],
        };
        let p = build(&expand(&entries, &policy, 10).unwrap(), 1);
        assert_eq!(
            chunk_targets(&p),
            [["255.255.255.254"], ["255.255.255.255"]]
        );
    }
}

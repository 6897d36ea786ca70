//! A snapshot's hosts walked one at a time (the streamed and paged snapshot routes) and the
//! dashboard's open-port counts: the same on both backends, and the same hosts a full load
//! gives.

use super::{host, port, snapshot};
use crate::model::Host;
use crate::store::{HostRange, StoreError};
use crate::testdata::each_store;

/// The contract snapshot with more hosts: a portless one between hosts with ports, and one
/// with ports last (a walk must not hand one host's ports to the next).
fn saved(store: &mut crate::store::Store) -> i64 {
    let mut s = snapshot("default", "2026-11-20T02:00:00Z");
    s.hosts.push(host(
        "192.0.2.3",
        "up",
        vec![port(80, "open"), port(443, "open"), port(8080, "filtered")],
    ));
    s.hosts.push(host("192.0.2.4", "up", vec![]));
    s.hosts.push(host(
        "192.0.2.5",
        "up",
        vec![port(22, "open"), port(25, "closed")],
    ));
    store.save_snapshot(&s).unwrap()
}

fn walk(store: &crate::store::Store, id: i64, range: HostRange) -> Vec<(u64, Host)> {
    let mut out = Vec::new();
    store
        .for_each_host(id, range, |position, host| {
            out.push((position, host));
            true
        })
        .unwrap();
    out
}

#[test]
fn a_walk_gives_the_hosts_of_a_full_load_in_order() {
    each_store(|store| {
        let id = saved(store);
        let whole = store.load_snapshot(id).unwrap();
        let walked = walk(store, id, HostRange::default());
        assert_eq!(
            walked.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
        let hosts: Vec<Host> = walked.into_iter().map(|(_, h)| h).collect();
        assert_eq!(hosts, whole.hosts);

        let head = store.load_snapshot_head(id).unwrap();
        assert!(head.hosts.is_empty());
        assert_eq!(
            (head.targets, head.profile, head.scanned, head.unconfirmed),
            (
                whole.targets,
                whole.profile,
                whole.scanned,
                whole.unconfirmed
            )
        );
    });
}

#[test]
fn pages_by_limit_and_after_add_up_to_the_whole_walk() {
    each_store(|store| {
        let id = saved(store);
        let whole = walk(store, id, HostRange::default());
        for limit in 1..=6 {
            let mut paged = Vec::new();
            let mut after = None;
            loop {
                let range = HostRange {
                    after,
                    limit: Some(limit),
                };
                let page = walk(store, id, range);
                assert!(page.len() <= limit as usize);
                let Some((last, _)) = page.last() else { break };
                after = Some(*last);
                paged.extend(page);
            }
            assert_eq!(paged, whole, "limit {limit}");
        }
        // From the middle, and past the end.
        let rest = walk(
            store,
            id,
            HostRange {
                after: Some(2),
                limit: None,
            },
        );
        assert_eq!(rest, whole[3..]);
        assert!(
            walk(
                store,
                id,
                HostRange {
                    after: Some(4),
                    limit: None
                }
            )
            .is_empty()
        );
        assert!(
            walk(
                store,
                id,
                HostRange {
                    after: Some(u64::MAX),
                    limit: Some(3)
                }
            )
            .is_empty()
        );
    });
}

#[test]
fn a_walk_stops_when_asked_and_refuses_an_unknown_snapshot() {
    each_store(|store| {
        let id = saved(store);
        let mut seen = Vec::new();
        store
            .for_each_host(id, HostRange::default(), |position, _| {
                seen.push(position);
                seen.len() < 2
            })
            .unwrap();
        assert_eq!(seen, [0, 1]);
        // The connection is usable after a walk stopped half-way.
        assert_eq!(walk(store, id, HostRange::default()).len(), 5);
        let missing = store.for_each_host(id + 1, HostRange::default(), |_, _| true);
        assert!(matches!(missing, Err(StoreError::NotFound(n)) if n == id + 1));
    });
}

#[test]
fn open_port_counts_are_per_up_host_in_order() {
    each_store(|store| {
        let id = saved(store);
        assert_eq!(
            store.up_hosts_open_ports(id).unwrap(),
            [
                ("192.0.2.1".to_string(), 1),
                ("192.0.2.3".to_string(), 2),
                ("192.0.2.4".to_string(), 0),
                ("192.0.2.5".to_string(), 1),
            ]
        );
        assert!(store.up_hosts_open_ports(id + 1).unwrap().is_empty());
    });
}

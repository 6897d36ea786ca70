//! The delta stored in a snapshot's transaction, on both backends: what a reader gets from it
//! is what computing it from the two stored snapshots gives, and it is set aside when it no
//! longer holds.

use jiff::Timestamp;

use super::*;
use crate::model::Severity;
use crate::snapshot::entries::{self, EntryCount};
use crate::testdata::{done, each_store, open, port, snapshot, up};

fn at(day: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + day * 86_400).unwrap()
}

/// Saves a run of `hosts` on day `day` as a batch does: compared with what it will follow.
fn save(store: &mut Store, day: i64, hosts: Vec<crate::model::Host>) -> (i64, Delta) {
    let mut s = snapshot("default", at(day), vec![done("192.0.2.0/29")], hosts);
    let previous = previous_of_unsaved(store, &s).unwrap();
    save_with_delta(store, &mut s, previous.as_ref(), &DeltaConfig::default()).unwrap()
}

/// The delta of `id` computed from the stored snapshots, never read from the stored row.
fn computed(store: &Store, id: i64, config: &DeltaConfig) -> Delta {
    let previous = store.previous_snapshot_id(id).unwrap();
    delta_between(store, previous, id, config).unwrap()
}

#[test]
fn the_stored_delta_is_the_computed_one() {
    each_store(|store| {
        let config = DeltaConfig::default();
        let (a, baseline) = save(store, 1, vec![up("192.0.2.1", vec![open(22), open(80)])]);
        let (b, delta) = save(
            store,
            2,
            vec![
                up(
                    "192.0.2.1",
                    vec![open(22), port("tcp", 80, "closed"), open(3389)],
                ),
                up("192.0.2.2", vec![open(443)]),
            ],
        );
        assert!(!delta.changes.is_empty(), "{delta:?}");
        for (id, returned) in [(a, &baseline), (b, &delta)] {
            let fresh = computed(store, id, &config);
            assert_eq!(returned, &fresh);
            assert_eq!(returned.to.snapshot, Some(id));
            // The stored text, the delta read from it and the delta a reader gets.
            let text = store.delta_json(id).unwrap().expect("stored in the save");
            assert_eq!(text, serde_json::to_string(&fresh).unwrap());
            assert_eq!(delta_json_of_id(store, id, &config).unwrap(), text);
            assert_eq!(delta_of_id(store, id, &config).unwrap(), fresh);
        }
        assert_eq!(store.delta_row(b).unwrap().unwrap().compared_with, Some(a));
        assert_eq!(store.delta_row(a).unwrap().unwrap().compared_with, None);
        // The timeline reads the stored heads: the same rows as computed ones.
        let rows = timeline(store, 10, None, None, &config).unwrap();
        let last = rows.iter().find(|r| r.snapshot.id == b).unwrap();
        assert_eq!(
            (
                last.compared_with,
                last.delta_status,
                &last.changes,
                last.score
            ),
            (Some(a), delta.status, &delta.summary, delta.score.overall)
        );
    });
}

#[test]
fn the_stored_entry_counts_are_the_counted_ones() {
    each_store(|store| {
        let (_, _) = save(store, 1, vec![up("192.0.2.1", vec![open(22)])]);
        let mut s = snapshot(
            "default",
            at(2),
            vec![
                done("192.0.2.0/30"),
                done("192.0.2.4/30"),
                done("192.0.2.9/32"),
            ],
            vec![
                up(
                    "192.0.2.1",
                    vec![open(22), open(80), port("tcp", 81, "closed")],
                ),
                up("192.0.2.2", vec![]),
                up("192.0.2.5", vec![open(443)]),
                crate::testdata::host("192.0.2.6", "down", vec![]),
            ],
        );
        s.targets[2].entry = "192.0.2.4/30".into();
        let previous = previous_of_unsaved(store, &s).unwrap();
        let (id, _) =
            save_with_delta(store, &mut s, previous.as_ref(), &DeltaConfig::default()).unwrap();
        let counted = entries::entry_counts(&s.targets, &entries::up_hosts(&s));
        let count = |hosts_up, open_ports| EntryCount {
            hosts_up,
            open_ports,
        };
        assert_eq!(counted["192.0.2.0/30"], count(2, 2));
        assert_eq!(counted["192.0.2.4/30"], count(1, 1));
        let head = store.load_snapshot_head(id).unwrap();
        assert!(store.delta_entries(id).unwrap().is_some());
        assert_eq!(entry_counts(store, id, &head.targets).unwrap(), counted);
        // Without the stored counts (a row from before them), counted from the store.
        store.test_execute(&format!(
            "UPDATE snapshot_deltas SET entries = NULL WHERE snapshot_id = {id}"
        ));
        assert_eq!(entry_counts(store, id, &head.targets).unwrap(), counted);
    });
}

#[test]
fn a_stored_delta_that_no_longer_holds_is_computed_again() {
    each_store(|store| {
        let (_, _) = save(store, 1, vec![up("192.0.2.1", vec![open(22)])]);
        let (b, _) = save(store, 3, vec![up("192.0.2.1", vec![open(22), open(3389)])]);
        // Another severity table: the stored one is not used.
        let mut other = DeltaConfig::default();
        other.port_severity.insert(3389, Severity::Low);
        assert_eq!(
            delta_of_id(store, b, &other).unwrap(),
            computed(store, b, &other)
        );
        // An older file imported afterwards sorts between them: b is now compared with it.
        let (middle, _) = save(store, 2, vec![up("192.0.2.1", vec![open(22), open(3389)])]);
        let config = DeltaConfig::default();
        let now = delta_of_id(store, b, &config).unwrap();
        assert_eq!(now.from.as_ref().and_then(|f| f.snapshot), Some(middle));
        assert_eq!(now, computed(store, b, &config));
        assert!(now.changes.is_empty());
    });
}

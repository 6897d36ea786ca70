//! Sequences of hand-built runs (documentation addresses): when a disappearance has held long
//! enough to raise.

use super::*;
use crate::delta::{self, DeltaConfig};
use crate::snapshot::TargetStatus;
use crate::testdata::{done, open, own_target, snapshot, up};

/// Runs of 192.0.2.1 (completed unless `failed`), `ports` open in each, oldest first.
fn runs(each: &[(&[u16], bool)]) -> Vec<Snapshot> {
    each.iter()
        .enumerate()
        .map(|(i, (ports, failed))| {
            let target = if *failed {
                own_target("192.0.2.1", TargetStatus::Failed)
            } else {
                done("192.0.2.1")
            };
            let at = jiff::Timestamp::from_second(1_800_000_000 + i as i64 * 86_400).unwrap();
            let hosts = if *failed {
                vec![]
            } else {
                vec![up("192.0.2.1", ports.iter().map(|&p| open(p)).collect())]
            };
            snapshot("quick", at, vec![target], hosts)
        })
        .collect()
}

/// What [`held`] raises after the last of `seq` with `gone_after_runs = n`: `port_closed 22`.
fn raised_after(seq: &[Snapshot], n: u32) -> Vec<String> {
    let cfg = DeltaConfig::default();
    let deltas: Vec<Delta> = (0..seq.len())
        .map(|i| delta::compare(i.checked_sub(1).map(|p| &seq[p]), &seq[i], &cfg))
        .collect();
    let window: Vec<(&Snapshot, &Delta)> = seq
        .iter()
        .zip(&deltas)
        .rev()
        .take(runs_needed(n) + 1)
        .collect();
    held(&window, n)
        .iter()
        .map(|c| {
            let port = c
                .port
                .as_ref()
                .map_or(String::new(), |p| format!(" {}", p.port));
            format!("{}{port}", c.kind.as_str())
        })
        .collect()
}

const BOTH: &[u16] = &[22, 80];
const ONE: &[u16] = &[80];

#[test]
fn one_run_is_enough_by_default_and_two_wait_for_the_second() {
    let seq = runs(&[(BOTH, false), (ONE, false)]);
    assert_eq!(raised_after(&seq, 1), ["port_closed 22"]);
    assert!(
        raised_after(&seq, 2).is_empty(),
        "first confirmed run: nothing"
    );
    let seq = runs(&[(BOTH, false), (ONE, false), (ONE, false)]);
    assert_eq!(raised_after(&seq, 2), ["port_closed 22"]);
    assert!(raised_after(&seq, 3).is_empty());
}

#[test]
fn a_port_that_comes_back_in_between_resets_the_count() {
    let seq = runs(&[(BOTH, false), (ONE, false), (BOTH, false), (ONE, false)]);
    assert!(raised_after(&seq, 2).is_empty());
    let seq = runs(&[
        (BOTH, false),
        (ONE, false),
        (BOTH, false),
        (ONE, false),
        (ONE, false),
    ]);
    assert_eq!(raised_after(&seq, 2), ["port_closed 22"]);
}

#[test]
fn a_run_that_did_not_scan_it_neither_counts_nor_breaks() {
    let seq = runs(&[(BOTH, false), (ONE, false), (ONE, true)]);
    assert!(
        raised_after(&seq, 2).is_empty(),
        "the failed run saw nothing"
    );
    let seq = runs(&[(BOTH, false), (ONE, false), (ONE, true), (ONE, false)]);
    assert_eq!(raised_after(&seq, 2), ["port_closed 22"]);
}

#[test]
fn a_gone_host_waits_the_same_way() {
    let mut seq = runs(&[(BOTH, false), (BOTH, false), (BOTH, false)]);
    for s in &mut seq[1..] {
        s.hosts.clear();
    }
    let got = raised_after(&seq[..2], 2);
    assert!(got.is_empty(), "{got:?}");
    let got = raised_after(&seq, 2);
    assert_eq!(got, ["host_gone", "port_closed 22", "port_closed 80"]);
}

//! The alert lifecycle over real saved snapshots (documentation address ranges only): the rules
//! of [`plan`] as `Store::sync_alerts` applies them after each run.

use super::*;
use crate::alerts::lifecycle::{IGNORE, UNIGNORE};
use crate::alerts::{AlertRules, evaluate};
use crate::config::ExpectedPorts;
use crate::delta::{self, DeltaConfig};
use crate::model::{AlertKind, AlertStatus, Host, Severity};
use crate::snapshot::{Snapshot, TargetRecord, TargetStatus};
use crate::store::{AlertFilter, AlertSync, Store};
use crate::testdata::{own_target, service_port, snapshot, temp_store, up};

fn target(cidr: &str, status: TargetStatus) -> TargetRecord {
    own_target(cidr, status)
}

fn host(ip: &str, open: &[(u16, &str)]) -> Host {
    up(
        ip,
        open.iter()
            .map(|&(p, product)| service_port("tcp", p, "open", "svc", product))
            .collect(),
    )
}

/// Expects only 22/tcp on 192.0.2.0/29.
fn delta_config() -> DeltaConfig {
    DeltaConfig {
        expected: vec![ExpectedPorts {
            networks: vec!["192.0.2.0/29".parse().unwrap()],
            entries: vec![],
            ports: vec![("tcp".into(), 22)],
        }],
        ..DeltaConfig::default()
    }
}

struct Runs {
    _dir: tempfile::TempDir,
    store: Store,
    previous: Option<Snapshot>,
    n: i64,
}

impl Runs {
    fn new() -> Runs {
        let (dir, store) = temp_store();
        Runs {
            _dir: dir,
            store,
            previous: None,
            n: 0,
        }
    }

    /// Saves a run of `profile` and syncs its alerts, as `batch::run` does.
    fn run_as(&mut self, profile: &str, targets: Vec<TargetRecord>, hosts: Vec<Host>) -> AlertSync {
        self.n += 1;
        let at: jiff::Timestamp = "2026-11-20T02:00:00Z".parse().unwrap();
        let at = at + jiff::SignedDuration::from_hours(24 * self.n);
        let mut s = snapshot(profile, at, targets, hosts);
        let id = self.store.save_snapshot(&s).unwrap();
        s.id = Some(id);
        let prev = self.previous.take().filter(|p| p.profile == profile);
        let d = delta::compare(prev.as_ref(), &s, &delta_config());
        // Lifecycle only: 22 (high) is not also risky_port_open here.
        let rules = AlertRules {
            open_port_min_severity: Severity::Critical,
            ..AlertRules::at(at)
        };
        let e = evaluate(&s, &d, &delta_config(), &rules);
        let out = self
            .store
            .sync_alerts(id, |unresolved| plan(unresolved, id, profile, &e))
            .unwrap();
        self.previous = Some(s);
        out
    }

    fn run(&mut self, hosts: Vec<Host>) -> AlertSync {
        self.run_as(
            "default",
            vec![target("192.0.2.0/28", TargetStatus::Completed)],
            hosts,
        )
    }

    fn all(&self) -> Vec<(AlertKind, Option<u16>, AlertStatus, i64, i64)> {
        let mut list = self.store.list_alerts(&AlertFilter::default()).unwrap();
        list.reverse();
        list.iter()
            .map(|a| (a.kind, a.port, a.status, a.first_snapshot, a.last_snapshot))
            .collect()
    }
}

use AlertKind::UnexpectedPort as Unexpected;
use AlertStatus::{Ignored, Open, Resolved};

#[test]
fn raised_once_refreshed_resolved_then_raised_anew() {
    let mut r = Runs::new();
    let rdp = || host("192.0.2.1", &[(22, ""), (3389, "")]);
    let first = r.run(vec![rdp()]);
    assert_eq!(first.raised.len(), 1);
    assert_eq!(first.raised[0].severity, Severity::Critical);
    assert!(r.run(vec![rdp()]).raised.is_empty(), "a repeat is not new");
    let third = r.run(vec![rdp()]);
    assert!(third.raised.is_empty() && third.refreshed == 1);
    assert_eq!(r.all(), [(Unexpected, Some(3389), Open, 1, 3)]);

    let closed = r.run(vec![host("192.0.2.1", &[(22, "")])]);
    assert_eq!(closed.resolved.len(), 1);
    assert_eq!(r.all(), [(Unexpected, Some(3389), Resolved, 1, 3)]);
    let stored = r.store.alert(closed.resolved[0].id).unwrap();
    assert_eq!(closed.resolved[0], stored, "returned as stored");
    assert_eq!(first.raised[0].created_at, stored.created_at);

    let reopened = r.run(vec![rdp()]);
    assert_eq!(reopened.raised.len(), 1);
    assert_eq!(
        r.all(),
        [
            (Unexpected, Some(3389), Resolved, 1, 3),
            (Unexpected, Some(3389), Open, 5, 5)
        ]
    );
}

#[test]
fn ignored_alerts_stay_silent_until_unignored() {
    let mut r = Runs::new();
    let rdp = || host("192.0.2.1", &[(22, ""), (3389, "")]);
    let id = r.run(vec![rdp()]).raised[0].id;
    r.store
        .change_alert_status(id, &IGNORE, Some("lab box"))
        .unwrap();
    assert!(r.run(vec![rdp()]).raised.is_empty());
    let closed = r.run(vec![host("192.0.2.1", &[(22, "")])]);
    assert!(
        closed.resolved.is_empty(),
        "an ignored alert is never resolved"
    );
    assert!(r.run(vec![rdp()]).raised.is_empty(), "nor raised again");
    assert_eq!(r.all(), [(Unexpected, Some(3389), Ignored, 1, 4)]);

    r.store.change_alert_status(id, &UNIGNORE, None).unwrap();
    let closed = r.run(vec![host("192.0.2.1", &[(22, "")])]);
    assert_eq!(closed.resolved.len(), 1);
    assert_eq!(r.all(), [(Unexpected, Some(3389), Resolved, 1, 4)]);
}

#[test]
fn failed_targets_neither_raise_nor_resolve() {
    let mut r = Runs::new();
    r.run(vec![host("192.0.2.1", &[(22, ""), (3389, "")])]);
    let failed = r.run_as(
        "default",
        vec![
            target("192.0.2.0/30", TargetStatus::Timeout),
            target("192.0.2.4/30", TargetStatus::Completed),
        ],
        // 192.0.2.5 opens RDP in a covered block; 192.0.2.1's block timed out.
        vec![host("192.0.2.5", &[(22, ""), (3389, "")])],
    );
    assert_eq!(failed.resolved, []);
    let raised: Vec<_> = failed
        .raised
        .iter()
        .map(|a| (a.kind, a.ip.as_str()))
        .collect();
    assert_eq!(
        raised,
        [
            (AlertKind::NewHost, "192.0.2.5"),
            (AlertKind::PortOpened, "192.0.2.5"),
            (Unexpected, "192.0.2.5")
        ]
    );
    let alerts = r.all();
    assert_eq!(alerts[0], (Unexpected, Some(3389), Open, 1, 1), "untouched");
}

#[test]
fn another_profile_does_not_resolve_port_alerts() {
    let mut r = Runs::new();
    r.run(vec![host("192.0.2.1", &[(22, ""), (3389, "")])]);
    let quick = r.run_as(
        "quick",
        vec![target("192.0.2.0/28", TargetStatus::Completed)],
        vec![host("192.0.2.1", &[(22, "")])],
    );
    assert_eq!(quick.resolved, []);
    let again = r.run(vec![host("192.0.2.1", &[(22, "")])]);
    assert_eq!(again.resolved.len(), 1, "its own profile does");
}

#[test]
fn a_second_service_change_is_a_new_alert() {
    let mut r = Runs::new();
    let ssh = |product: &str| vec![host("192.0.2.9", &[(22, product)])];
    r.run(ssh("OpenSSH 9.2"));
    let first = r.run(ssh("OpenSSH 9.6"));
    assert_eq!(first.raised[0].kind, AlertKind::ServiceChanged);
    assert!(first.raised[0].message.contains("OpenSSH 9.6"));
    assert!(r.run(ssh("OpenSSH 9.6")).raised.is_empty());
    let second = r.run(ssh("Dropbear"));
    assert_eq!(second.raised.len(), 1);
    assert_eq!(second.resolved.len(), 1);
    assert_eq!(second.resolved[0].id, first.raised[0].id);
}

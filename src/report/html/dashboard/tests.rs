use jiff::Timestamp;

use super::*;
use crate::delta::{DeltaConfig, compare};
use crate::model::Host;
use crate::model::{AlertKind, AlertStatus};
use crate::snapshot::{SnapshotStatus, TargetRecord, TargetStatus};
use crate::testdata::{service_port, up};

const HOSTILE: &str = "<script>alert(1)</script>";

fn host(ip: &str, ports: &[u16]) -> Host {
    up(
        ip,
        ports
            .iter()
            .map(|&p| service_port("tcp", p, "open", "http", HOSTILE))
            .collect(),
    )
}

/// Entries: `lan` (192.0.2.0/29), `dmz<script>` (198.51.100.0/30) and `down` (failed).
fn snapshot(id: i64, profile: &str, lan: &[u16], dmz: &[u16]) -> Snapshot {
    let target = |entry: &str, net: &str, status| TargetRecord {
        entry: entry.into(),
        target: net.into(),
        status,
        error: None,
        covers: vec![net.parse().unwrap()],
    };
    Snapshot {
        scanned: None,
        unconfirmed: Vec::new(),
        id: Some(id),
        started_at: Timestamp::from_second(1_790_000_000 + id * 86_400).unwrap(),
        finished_at: Timestamp::from_second(1_790_000_000 + id * 86_400).unwrap(),
        profile: profile.into(),
        nmap_args: String::new(),
        nmap_version: "7.93".into(),
        status: SnapshotStatus::Partial,
        targets: vec![
            target("lan", "192.0.2.0/29", TargetStatus::Completed),
            target(
                &format!("dmz{HOSTILE}"),
                "198.51.100.0/30",
                TargetStatus::Completed,
            ),
            target("down", "203.0.113.0/30", TargetStatus::Failed),
        ],
        hosts: vec![host("192.0.2.1", lan), host("198.51.100.1", dmz)],
    }
}

fn state(before: &Snapshot, after: Snapshot) -> ProfileState {
    let delta = compare(Some(before), &after, &DeltaConfig::default());
    ProfileState::new(after, delta)
}

fn alert(id: i64, severity: Severity) -> Alert {
    Alert {
        id,
        kind: AlertKind::PortOpened,
        severity,
        ip: "192.0.2.1".into(),
        protocol: Some("tcp".into()),
        port: Some(3389),
        message: format!("opened {HOSTILE}"),
        status: AlertStatus::Open,
        first_snapshot: 1,
        last_snapshot: 2,
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: Timestamp::UNIX_EPOCH,
        note: None,
    }
}

#[test]
fn cards_count_each_entrys_own_changes_and_status() {
    let s = state(
        &snapshot(1, "default", &[80], &[443]),
        snapshot(2, "default", &[80, 3389], &[]),
    );
    let cards = entry_cards(std::slice::from_ref(&s));
    let by = |e: &str| cards.iter().find(|c| c.entry.starts_with(e)).unwrap();
    let lan = by("lan");
    assert_eq!(
        (lan.status, lan.ports_opened, lan.ports_closed),
        (DeltaStatus::Critical, 1, 0)
    );
    assert_eq!((lan.score, lan.hosts_up, lan.open_ports), (Some(70), 1, 2));
    let dmz = by("dmz");
    assert_eq!(
        (dmz.status, dmz.ports_opened, dmz.ports_closed),
        (DeltaStatus::Changes, 0, 1)
    );
    assert_eq!(dmz.score, Some(100));
    let down = by("down");
    assert_eq!(
        (down.status, down.score, down.not_compared),
        (DeltaStatus::Stable, None, 1)
    );
}

#[test]
fn the_newest_scan_of_an_entry_wins_across_profiles() {
    let newer = state(
        &snapshot(2, "quick", &[], &[]),
        snapshot(3, "quick", &[22], &[]),
    );
    let older = state(
        &snapshot(1, "default", &[], &[]),
        snapshot(2, "default", &[], &[]),
    );
    let cards = entry_cards(&[newer, older]);
    assert_eq!(cards.len(), 3);
    assert!(cards.iter().all(|c| c.profile == "quick"));
}

#[test]
fn filters_narrow_and_sorts_order_the_cards() {
    let s = state(
        &snapshot(1, "default", &[80], &[443]),
        snapshot(2, "default", &[80, 3389], &[]),
    );
    let cards = entry_cards(std::slice::from_ref(&s));
    let names = |f: &CardFilter| -> Vec<String> {
        filter_cards(cards.clone(), f)
            .into_iter()
            .map(|c| c.entry.chars().take(3).collect())
            .collect()
    };
    assert_eq!(names(&CardFilter::default()), ["lan", "dmz", "dow"]);
    let critical = CardFilter {
        status: Some(DeltaStatus::Critical),
        ..CardFilter::default()
    };
    assert_eq!(names(&critical), ["lan"]);
    let excellent = CardFilter {
        band: BandFilter::parse("Excellent"),
        ..CardFilter::default()
    };
    assert_eq!(names(&excellent), ["dmz"]);
    let unscored = CardFilter {
        band: BandFilter::parse("none"),
        ..CardFilter::default()
    };
    assert_eq!(names(&unscored), ["dow"]);
    let search = CardFilter {
        search: " DMZ".into(),
        ..CardFilter::default()
    };
    assert_eq!(names(&search), ["dmz"]);
    let recent = CardFilter {
        sort: Sort::Recent,
        ..CardFilter::default()
    };
    assert_eq!(names(&recent), ["dmz", "dow", "lan"], "same time: by name");
    let by_name = CardFilter {
        sort: Sort::Name,
        ..CardFilter::default()
    };
    assert_eq!(names(&by_name), ["dmz", "dow", "lan"]);
    assert_eq!(Sort::parse("name"), Some(Sort::Name));
}

#[test]
fn page_escapes_scan_text_and_allows_only_its_own_script() {
    let s = state(
        &snapshot(1, "default", &[80], &[443]),
        snapshot(2, "default", &[80, 3389], &[]),
    );
    let filter = CardFilter {
        search: format!("\"><{HOSTILE}"),
        ..CardFilter::default()
    };
    let html = render(&Dashboard {
        certificates: &[],
        states: std::slice::from_ref(&s),
        timeline: &[],
        alerts: &[alert(7, Severity::Critical)],
        open_alerts: 1,
        filter: &filter,
        message: None,
        sharded: &[],
    });
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(html.contains(&format!("<script>{SCRIPT}</script>")));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("value=\"&quot;&gt;&lt;&lt;script&gt;"));
    assert!(html.contains("<tr data-alert=\"7\" data-status=\"open\">"));
    let csp = content_security_policy(Some(SCRIPT));
    assert!(html.contains(&csp));
    let hash = base64(&sha2::Sha256::digest(SCRIPT.as_bytes()));
    assert!(csp.contains(&format!("script-src 'sha256-{hash}'")));
    assert!(!content_security_policy(None).contains("script-src"));
}

#[test]
fn base64_matches_rfc_4648_vectors() {
    for (input, expected) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(input.as_bytes()), expected);
    }
}

/// A dashboard with nothing on it.
fn bare(filter: &CardFilter) -> Dashboard<'_> {
    Dashboard {
        certificates: &[],
        states: &[],
        timeline: &[],
        alerts: &[],
        open_alerts: 0,
        filter,
        message: None,
        sharded: &[],
    }
}

#[test]
fn an_empty_database_says_how_to_fill_it() {
    let html = render(&bare(&CardFilter::default()));
    assert!(html.contains("No scans yet") && !html.contains("<script"));
}

#[test]
fn overlapping_targets_of_one_entry_count_a_host_once() {
    let mut after = snapshot(2, "default", &[80, 3389], &[]);
    after.targets.push(TargetRecord {
        entry: "lan".into(),
        target: "192.0.2.1".into(),
        status: TargetStatus::Completed,
        error: None,
        covers: vec!["192.0.2.1/32".parse().unwrap()],
    });
    let s = state(&snapshot(1, "default", &[80], &[443]), after);
    let cards = entry_cards(std::slice::from_ref(&s));
    let lan = cards.iter().find(|c| c.entry == "lan").unwrap();
    assert_eq!((lan.hosts_up, lan.open_ports, lan.ports_opened), (1, 2, 1));
}

#[test]
fn the_headline_says_baseline_stable_or_what_opened() {
    let render_one = |s: ProfileState, open_alerts| {
        render(&Dashboard {
            certificates: &[],
            states: std::slice::from_ref(&s),
            timeline: &[],
            alerts: &[],
            open_alerts,
            filter: &CardFilter::default(),
            message: None,
            sharded: &[],
        })
    };
    let first = snapshot(1, "default", &[80], &[]);
    let baseline = ProfileState::new(
        first.clone(),
        compare(None, &first, &DeltaConfig::default()),
    );
    let html = render_one(baseline, 0);
    assert!(html.contains("headline-stable\"><b>Baseline</b>"), "{html}");
    assert!(html.contains("no open alerts"));
    let html = render_one(state(&first, snapshot(2, "default", &[80], &[])), 0);
    assert!(html.contains("<b>Stable</b>: nothing changed since snapshot #1"));
    let html = render_one(state(&first, snapshot(2, "default", &[80, 3389], &[])), 2);
    assert!(html.contains("headline-critical\"><b>Critical change</b>: opened since snapshot #1: <b>3389/tcp</b> on <b>192.0.2.1</b> (critical)"));
    assert!(html.contains("2 open alerts"));
}

#[test]
fn long_not_compared_lists_show_the_first_ones_and_link_to_all() {
    let first = snapshot(1, "default", &[80], &[]);
    let mut s = state(&first, snapshot(2, "default", &[80], &[]));
    let render_it = |s: &ProfileState| {
        render(&Dashboard {
            certificates: &[],
            states: std::slice::from_ref(s),
            timeline: &[],
            alerts: &[],
            open_alerts: 0,
            filter: &CardFilter::default(),
            message: None,
            sharded: &[],
        })
    };
    s.delta.not_compared = (0..60)
        .map(|i| crate::delta::NotCompared {
            target: format!("198.51.100.{i}"),
            reason: crate::delta::NotComparedReason::Failed,
        })
        .collect();
    let html = render_it(&s);
    assert!(
        html.contains("The first 50 of 60 targets not compared."),
        "{html}"
    );
    assert!(html.contains("198.51.100.49<") && !html.contains("198.51.100.50<"));
    s.delta.not_compared.truncate(50);
    assert!(!render_it(&s).contains("targets not compared."));
}

#[test]
fn sharded_runs_still_waiting_are_shown_with_their_shards() {
    use crate::store::{ShardPart, ShardRun, ShardState};
    let at: jiff::Timestamp = "2026-12-05T02:00:00Z".parse().unwrap();
    let part = |shard, state, stored| ShardPart {
        shard,
        state,
        attempts: 1,
        started_at: at,
        finished_at: None,
        error: None,
        stored,
    };
    let run = ShardRun {
        run_id: "scan-2912<b>".into(),
        shards: 4,
        profile: "default".into(),
        created_at: at,
        snapshot_id: None,
        finalized_at: None,
        parts: vec![
            part(0, ShardState::Done, true),
            part(1, ShardState::Running, false),
            part(3, ShardState::Failed, true),
        ],
    };
    let filter = CardFilter::default();
    let html = render(&Dashboard {
        sharded: std::slice::from_ref(&run),
        ..bare(&filter)
    });
    assert!(html.contains("Sharded runs in progress"), "{html}");
    assert!(html.contains("scan-2912&lt;b&gt;") && !html.contains("scan-2912<b>"));
    assert!(
        html.contains(
            "<td>2 of 4</td><td>1</td><td>1</td><td class=\"mono\">1, 2</td><td>waiting</td>"
        ),
        "{html}"
    );
    assert!(html.contains("daily_scan finalize --run-id RUN"));
    assert!(!html.contains("No scans yet"));
}

use jiff::Timestamp;

use super::chart::nice_max;
use super::*;
use crate::delta::{DeltaConfig, Summary, compare};
use crate::model::{Address, Host, Hostname, Port, Service};
use crate::snapshot::{SnapshotStatus, TargetRecord, TargetStatus};
use crate::store::SnapshotSummary;

const HOSTILE: &str = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>&amp;";

fn host(ip: &str, product: &str) -> Host {
    Host {
        state: "up".into(),
        addresses: vec![Address {
            addr: ip.into(),
            addrtype: "ipv4".into(),
            vendor: String::new(),
        }],
        hostnames: vec![Hostname {
            name: format!("h{HOSTILE}"),
            kind: "PTR".into(),
        }],
        ports: vec![Port {
            protocol: "tcp".into(),
            portid: 3389,
            state: "open".into(),
            service: Service {
                name: "ms-wbt-server".into(),
                product: product.into(),
                version: HOSTILE.into(),
                extrainfo: HOSTILE.into(),
                ..Service::default()
            },
            ..Port::default()
        }],
        ..Host::default()
    }
}

fn snapshot(id: i64, hosts: Vec<Host>) -> Snapshot {
    Snapshot {
        scanned: None,
        unconfirmed: Vec::new(),
        id: Some(id),
        started_at: Timestamp::from_second(1_790_000_000 + id * 86_400).unwrap(),
        finished_at: Timestamp::from_second(1_790_000_010 + id * 86_400).unwrap(),
        profile: format!("default{HOSTILE}"),
        nmap_args: format!("-sT {HOSTILE}"),
        nmap_version: "7.93".into(),
        status: SnapshotStatus::Complete,
        targets: vec![
            TargetRecord {
                entry: "127.0.0.0/30".into(),
                target: "127.0.0.0/30".into(),
                status: TargetStatus::Completed,
                error: None,
                covers: vec!["127.0.0.0/30".parse().unwrap()],
            },
            TargetRecord {
                entry: format!("bad{HOSTILE}"),
                target: format!("bad{HOSTILE}"),
                status: TargetStatus::Failed,
                error: Some(format!("nmap failed: {HOSTILE}")),
                covers: vec![],
            },
        ],
        hosts,
    }
}

fn row(id: i64, open: u64, score: Option<u8>) -> TimelineRow {
    TimelineRow {
        snapshot: SnapshotSummary {
            id,
            started_at: Timestamp::from_second(1_790_000_000 + id * 86_400).unwrap(),
            finished_at: Timestamp::from_second(1_790_000_000 + id * 86_400).unwrap(),
            profile: "default".into(),
            status: SnapshotStatus::Complete,
            hosts_up: 3,
            open_ports: open,
            targets_total: 3,
            targets_failed: 0,
        },
        score,
        band: score.map(Band::of),
        compared_with: None,
        delta_status: DeltaStatus::Stable,
        changes: Summary::default(),
    }
}

#[test]
fn escape_covers_markup_quotes_and_controls() {
    assert_eq!(
        escape("<a href=\"x\">'&'</a>"),
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
    );
    assert_eq!(escape("a\u{1b}[31mb"), "a&#xFFFD;[31mb");
    assert_eq!(escape("line\nnext"), "line\nnext");
}

#[test]
fn every_scanned_string_is_escaped_and_nothing_is_fetched() {
    let before = snapshot(1, vec![host("127.0.0.1", "old")]);
    let after = snapshot(
        2,
        vec![host("127.0.0.1", "new"), host("127.0.0.2", HOSTILE)],
    );
    let delta = compare(Some(&before), &after, &DeltaConfig::default());
    assert!(!delta.changes.is_empty() && !delta.not_compared.is_empty());
    let html = run_report(&after, &delta, &[row(2, 2, Some(40)), row(1, 1, Some(70))]);
    assert!(
        !html.contains("<script"),
        "raw markup from a scan reached the page"
    );
    assert!(!html.contains("<img"));
    assert!(!html.contains("onerror=alert(1)>"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    // Escaped scan text may mention `src=`; no tag of ours may load anything.
    for external in ["http://", "https://", "url(", "@import"] {
        assert!(!html.contains(external), "page references {external}");
    }
    for tag in html
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap())
    {
        assert!(
            !tag.contains("src=") && !tag.contains("href=") && !tag.starts_with("script"),
            "tag <{tag}> loads or runs something"
        );
    }
    assert!(html.contains("Content-Security-Policy"));
    // The pieces are all there.
    for piece in [
        "Network scan report",
        "security score",
        "port opened",
        "service changed",
        "Not compared",
        "<svg",
        "Open ports now",
    ] {
        assert!(html.contains(piece), "missing {piece}");
    }
}

#[test]
fn changes_are_colour_coded_by_kind_and_severity() {
    let before = snapshot(1, vec![]);
    let after = snapshot(2, vec![host("127.0.0.1", "x")]);
    let html = changes_table(&compare(Some(&before), &after, &DeltaConfig::default()).changes);
    assert!(html.contains("<tr class=\"new\">"), "{html}");
    assert!(html.contains("sev-critical"), "{html}");
    let gone = changes_table(&compare(Some(&after), &before, &DeltaConfig::default()).changes);
    assert!(gone.contains("<tr class=\"removed\">"), "{gone}");
    assert_eq!(changes_table(&[]), "<p class=\"none\">No changes.</p>\n");
}

#[test]
fn chart_plots_oldest_to_newest_and_survives_edge_cases() {
    let svg = history_chart(&[row(3, 8, Some(55)), row(2, 0, None), row(1, 2, Some(100))]);
    let first = svg.find("#1<").unwrap();
    let last = svg.find("#3<").unwrap();
    assert!(first < last, "oldest snapshot must be on the left");
    assert_eq!(
        svg.matches("<rect").count(),
        3 + 1,
        "three bars and the legend swatch"
    );
    assert_eq!(
        svg.matches("<circle").count(),
        2,
        "no score point for a snapshot without one"
    );
    assert!(svg.contains("score none"));
    let single = history_chart(&[row(1, 0, Some(100))]);
    assert!(single.contains("<polyline") && !single.contains("NaN"));
    assert!(history_chart(&[]).contains("No history yet"));
}

#[test]
fn axis_maxima_are_round_and_divisible_in_four() {
    for (n, want) in [
        (0, 4),
        (3, 4),
        (5, 8),
        (9, 12),
        (37, 40),
        (101, 200),
        (1234, 1500),
    ] {
        assert_eq!(nice_max(n), want, "{n}");
    }
    for n in 0..5000 {
        let m = nice_max(n);
        assert!(m >= n && m.is_multiple_of(4), "{n} -> {m}");
    }
}

#[test]
fn a_closed_ports_guessed_service_is_not_shown_as_if_it_ran() {
    use crate::delta::{Change, ChangeKind, PortChange, PortView};
    let view = |state: &str| PortView {
        state: state.into(),
        service: "ms-wbt-server".into(),
        product: String::new(),
        version: String::new(),
    };
    let opened = Change {
        kind: ChangeKind::PortOpened,
        severity: crate::model::Severity::Critical,
        ip: "192.0.2.6".into(),
        port: Some(PortChange {
            protocol: "tcp".into(),
            port: 3389,
            before: Some(view("closed")),
            after: Some(view("open")),
            unexpected: false,
        }),
    };
    let html = changes_table(&[opened]);
    assert_eq!(html.matches("ms-wbt-server").count(), 1, "{html}");
    assert!(
        html.contains("<span class=\"was\"><span class=\"meta\">closed</span>"),
        "{html}"
    );
    assert!(
        html.contains("ms-wbt-server <span class=\"meta\">(open)</span>"),
        "{html}"
    );
}

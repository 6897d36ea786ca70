//! Bulk figures for the snapshot store and the delta: 65,536 hosts x 5 ports.
//! `cargo bench --bench store_delta` prints the time of each step (best of a few runs).

use std::time::{Duration, Instant};

use security_scanner::delta::{DeltaConfig, compare};
use security_scanner::model::{Address, Host, Port, Service};
use security_scanner::snapshot::{Snapshot, SnapshotStatus, TargetRecord, TargetStatus};
use security_scanner::store::Store;

const PORTS: [u16; 5] = [22, 80, 443, 3389, 8080];

/// Hosts of 2001:db8::/112, the IPv6 documentation range (data only, never scanned); `shift` varies which ports are open so the
/// two snapshots differ a little.
fn snapshot(shift: u32) -> Snapshot {
    let hosts = (0..65_536u32)
        .map(|i| {
            let ip = std::net::Ipv6Addr::from((0x2001_0db8_u128 << 96) | u128::from(i));
            Host {
                state: "up".into(),
                reason: "syn-ack".into(),
                addresses: vec![Address {
                    addr: ip.to_string(),
                    addrtype: "ipv6".into(),
                    vendor: String::new(),
                }],
                ports: PORTS
                    .iter()
                    .enumerate()
                    .map(|(k, &portid)| Port {
                        protocol: "tcp".into(),
                        portid,
                        state: if (i + shift + k as u32).is_multiple_of(7) {
                            "closed"
                        } else {
                            "open"
                        }
                        .into(),
                        reason: "syn-ack".into(),
                        service: Service {
                            name: "http".into(),
                            product: "nginx".into(),
                            version: format!("1.{}", (i + shift) % 13 / 12),
                            cpe: vec!["cpe:/a:nginx:nginx".into()],
                            ..Service::default()
                        },
                        scripts: vec![],
                        tls: None,
                    })
                    .collect(),
                ..Host::default()
            }
        })
        .collect();
    let targets = vec![TargetRecord {
        entry: "2001:db8::/112".into(),
        target: "2001:db8::/112".into(),
        status: TargetStatus::Completed,
        error: None,
        covers: vec!["2001:db8::/112".parse().unwrap()],
    }];
    Snapshot {
        scanned: None,
        unconfirmed: Vec::new(),
        id: None,
        started_at: jiff::Timestamp::now(),
        finished_at: jiff::Timestamp::now(),
        profile: "default".into(),
        nmap_args: "nmap".into(),
        nmap_version: "7.93".into(),
        status: SnapshotStatus::Complete,
        targets,
        hosts,
    }
}

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let start = Instant::now();
        let value = f();
        best = best.min(start.elapsed());
        out = Some(value);
    }
    (best, out.unwrap())
}

fn main() {
    let (a, b) = (snapshot(0), snapshot(3));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("bench.db")).unwrap();
    let (t, id) = best(3, || store.save_snapshot(&a).unwrap());
    println!("save 65,536 hosts x 5 ports:    {t:?}");
    let (t, loaded) = best(3, || store.load_snapshot(id).unwrap());
    println!("load 65,536 hosts x 5 ports:    {t:?}");
    assert_eq!(loaded.hosts.len(), a.hosts.len());
    let cfg = DeltaConfig::default();
    let (t, delta) = best(5, || compare(Some(&a), &b, &cfg));
    println!(
        "compare two such snapshots:     {t:?} ({} changes)",
        delta.changes.len()
    );
    let (t, delta) = best(5, || compare(Some(&a), &a, &cfg));
    println!(
        "compare a snapshot with itself: {t:?} ({} changes)",
        delta.changes.len()
    );
}

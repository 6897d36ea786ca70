//! Alert figures at scale: 65,536 hosts x 5 ports with `[[expect]]` allowing only 22/tcp on
//! the whole block, so every run sees ~224,000 unexpected ports (a worst case: a real
//! expectation leaves few). `cargo bench --bench alerts` prints the time of each step.

use std::time::Instant;

use security_scanner::alerts::sync::plan;
use security_scanner::alerts::{AlertRules, evaluate};
use security_scanner::config::ExpectedPorts;
use security_scanner::delta::{DeltaConfig, compare};
use security_scanner::model::{Address, Host, Port, Service};
use security_scanner::snapshot::{Snapshot, SnapshotStatus, TargetRecord, TargetStatus};
use security_scanner::store::Store;

const PORTS: [u16; 5] = [22, 80, 443, 3389, 8080];

/// Hosts of 2001:db8::/112 (documentation range, data only); `shift` varies the open ports.
fn snapshot(shift: u32) -> Snapshot {
    let hosts = (0..65_536u32)
        .map(|i| {
            let ip = std::net::Ipv6Addr::from((0x2001_0db8_u128 << 96) | u128::from(i));
            Host {
                state: "up".into(),
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
                        service: Service {
                            name: "http".into(),
                            ..Service::default()
                        },
                        ..Port::default()
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

fn main() {
    let delta_config = DeltaConfig {
        expected: vec![ExpectedPorts {
            networks: vec!["2001:db8::/112".parse().unwrap()],
            entries: vec![],
            ports: vec![("tcp".into(), 22)],
        }],
        ..DeltaConfig::default()
    };
    let rules = AlertRules::at(jiff::Timestamp::now());
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("scans.db")).unwrap();
    let mut previous: Option<Snapshot> = None;
    for (run, shift) in [(1, 0), (2, 0), (3, 1)] {
        let mut s = snapshot(shift);
        let id = store.save_snapshot(&s).unwrap();
        s.id = Some(id);
        let d = compare(previous.as_ref(), &s, &delta_config);
        let clock = Instant::now();
        let e = evaluate(&s, &d, &delta_config, &rules);
        let evaluated = clock.elapsed();
        let clock = Instant::now();
        let sync = store
            .sync_alerts(id, |unresolved| plan(unresolved, id, "default", &e))
            .unwrap();
        let synced = clock.elapsed();
        println!(
            "run {run}: evaluate {:>7.1} ms ({} conditions), sync {:>7.1} ms \
             ({} raised, {} seen again, {} resolved)",
            evaluated.as_secs_f64() * 1e3,
            e.raise.len(),
            synced.as_secs_f64() * 1e3,
            sync.raised.len(),
            sync.refreshed,
            sync.resolved.len()
        );
        previous = Some(s);
    }
}

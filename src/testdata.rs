//! Builders of hand-made scan data for unit tests (documentation address ranges only: these
//! addresses are data, never scanned). One copy, so every module's tests build hosts, ports,
//! targets, snapshots and alerts alike.

use jiff::Timestamp;

use crate::config::Database;
use crate::model::{Address, AlertKind, Host, Port, Service, Severity};
use crate::snapshot::{Snapshot, SnapshotStatus, TargetRecord, TargetStatus};
use crate::store::{NewAlert, Store};

pub(crate) mod postgres;

/// A CIDR block, or a single address as its host block.
pub(crate) fn net(text: &str) -> ipnet::IpNet {
    text.parse()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .unwrap()
}

pub(crate) fn target(
    entry: &str,
    target: &str,
    status: TargetStatus,
    covers: &[&str],
) -> TargetRecord {
    TargetRecord {
        entry: entry.into(),
        target: target.into(),
        status,
        error: None,
        covers: covers.iter().map(|c| net(c)).collect(),
    }
}

/// A target that is its own entry and covers itself.
pub(crate) fn own_target(cidr: &str, status: TargetStatus) -> TargetRecord {
    target(cidr, cidr, status, &[cidr])
}

/// A completed [`own_target`].
pub(crate) fn done(cidr: &str) -> TargetRecord {
    own_target(cidr, TargetStatus::Completed)
}

/// A port whose service nmap named `name` with this `product`.
pub(crate) fn service_port(
    protocol: &str,
    portid: u16,
    state: &str,
    name: &str,
    product: &str,
) -> Port {
    Port {
        protocol: protocol.into(),
        portid,
        state: state.into(),
        reason: "syn-ack".into(),
        service: Service {
            name: name.into(),
            product: product.into(),
            ..Service::default()
        },
        scripts: vec![],
        tls: None,
    }
}

pub(crate) fn port(protocol: &str, portid: u16, state: &str) -> Port {
    service_port(protocol, portid, state, "svc", "")
}

pub(crate) fn open(portid: u16) -> Port {
    port("tcp", portid, "open")
}

pub(crate) fn host(ip: &str, state: &str, ports: Vec<Port>) -> Host {
    Host {
        state: state.into(),
        reason: "echo-reply".into(),
        addresses: vec![Address {
            addr: ip.into(),
            addrtype: if ip.contains(':') { "ipv6" } else { "ipv4" }.into(),
            vendor: String::new(),
        }],
        ports,
        ..Host::default()
    }
}

pub(crate) fn up(ip: &str, ports: Vec<Port>) -> Host {
    host(ip, "up", ports)
}

/// A snapshot of `profile` started and finished at `at`, not saved yet (no id); its status
/// follows from its targets.
pub(crate) fn snapshot(
    profile: &str,
    at: Timestamp,
    targets: Vec<TargetRecord>,
    hosts: Vec<Host>,
) -> Snapshot {
    Snapshot {
        scanned: None,
        unconfirmed: Vec::new(),
        id: None,
        started_at: at,
        finished_at: at,
        profile: profile.into(),
        nmap_args: String::new(),
        nmap_version: "7.93".into(),
        status: SnapshotStatus::from_targets(&targets),
        targets,
        hosts,
    }
}

/// An empty store in a temporary directory (deleted when the returned guard drops).
pub(crate) fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("scans.db")).unwrap();
    (dir, store)
}

/// An empty database of each backend, for one test body run on both: a SQLite file in a
/// temporary directory (deleted when the guard drops), then a fresh PostgreSQL database in
/// the test cluster (see [`postgres`]).
pub(crate) fn each_database(test: impl Fn(&Database)) {
    let dir = tempfile::tempdir().unwrap();
    let mut databases = vec![Database::Sqlite(dir.path().join("scans.db"))];
    databases.extend(postgres::fresh_database().map(Database::Postgres));
    for db in &databases {
        eprintln!("backend: {db}");
        test(db);
    }
}

/// [`each_database`], opened for writing: one test body, both backends.
pub(crate) fn each_store(test: impl Fn(&mut Store)) {
    each_database(|db| test(&mut Store::connect(db).unwrap()));
}

/// An `unexpected_port` alert on `ip` `port`/tcp, raised by snapshot 1.
pub(crate) fn port_alert(ip: &str, port: u16, severity: Severity) -> NewAlert {
    NewAlert {
        kind: AlertKind::UnexpectedPort,
        severity,
        ip: ip.into(),
        protocol: Some("tcp".into()),
        port: Some(port),
        message: format!("{port}/tcp open on {ip}, not expected"),
        snapshot: 1,
    }
}

/// Facts about ndiff's own test scans, read from ndiff's own output in
/// `tests/fixtures/peer/ndiff-oracle/` (an oracle independent of this crate's parser), so tests
/// about those fixtures name their host without repeating its public address here.
pub(crate) struct NdiffOracle {
    text: String,
}

impl NdiffOracle {
    /// ndiff's text output for the pair `a` vs `b`, e.g. `("simple", "complex")`.
    pub(crate) fn pair(a: &str, b: &str) -> NdiffOracle {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
            "tests/fixtures/peer/ndiff-oracle/{a}_vs_{b}.text.out"
        ));
        NdiffOracle {
            text: std::fs::read_to_string(path).unwrap(),
        }
    }

    /// The scanned host's `(hostname, address)`, from ndiff's `NAME (ADDR):` header line.
    pub(crate) fn host(&self) -> (String, String) {
        let line = self
            .text
            .lines()
            .map(|l| l.trim_start_matches([' ', '-', '+']))
            .find(|l| l.ends_with("):") && l.contains(" ("))
            .unwrap();
        let (name, rest) = line.split_once(" (").unwrap();
        (name.to_string(), rest.trim_end_matches("):").to_string())
    }

    /// The nmap command line of side `-` (first file) or `+` (second file).
    pub(crate) fn args(&self, side: char) -> String {
        self.text
            .lines()
            .find(|l| l.starts_with(side) && l.contains(" as: "))
            .and_then(|l| l.split_once(" as: "))
            .map(|(_, args)| args.to_string())
            .unwrap()
    }

    /// The value ndiff printed for a script field (`|  netrange: VALUE`).
    pub(crate) fn script_field(&self, field: &str) -> String {
        self.text
            .lines()
            .find_map(|l| {
                l.split_once(&format!(" {field}: "))
                    .map(|(_, v)| v.to_string())
            })
            .unwrap()
    }
}

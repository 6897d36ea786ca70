//! `daily_scan diff FROM TO`: compare two scans, each a stored snapshot or an nmap XML file
//! (so it also replaces ndiff). The comparison itself is [`crate::delta::compare`].
//!
//! XML files are streamed: each host is trimmed to what a comparison reads (addresses,
//! hostnames, state, and per port its protocol, number, state, service, product and version)
//! as soon as the parser hands it over. Scripts, OS guesses, CPEs and reasons are dropped: they
//! never count as changes. When FROM is a file, it is streamed against TO: a FROM host
//! identical (for comparison) to its TO counterpart cannot change anything and is not kept, so
//! two 65,536-host files need memory for about one side. TO is loaded first when it is a
//! snapshot; two files are read at once, on two threads ([`pair`]). The
//! comparison runs on the hosts that differ; the score is that of the whole TO. (So
//! [`Diff::from`] holds only the FROM hosts that differ.)
//!
//! Coverage of a file: nmap leaves down hosts out of its XML unless asked, so, as ndiff does,
//! an address listed on either side counts as scanned by a file side: absent from a file means
//! down there. A stored snapshot keeps its own coverage (a failed target stays "not compared").
//! An XML file whose run ended in error (`exit="error"`) is refused: half a scan would read
//! as closures.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::BufReader;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use crate::config::Database;
use crate::delta::{self, Delta, DeltaConfig};
use crate::model::{Host, Port, Service};
use crate::nmap::xml::{self, XmlError};
use ipnet::IpNet;

use crate::snapshot::{
    PortCoverage, Snapshot, SnapshotStatus, TargetRecord, TargetStatus, host_ip,
    runs_version_detection,
};
use crate::store::{Store, StoreError};

/// Profile given to two XML files compared with each other.
pub const FILE_PROFILE: &str = "nmap-xml";

/// One side of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    Snapshot(i64),
    File(PathBuf),
}

impl Side {
    /// A whole number names a stored snapshot, unless a file of that name exists.
    pub fn parse(arg: &str) -> Side {
        match arg.parse::<i64>() {
            Ok(id) if !Path::new(arg).exists() => Side::Snapshot(id),
            _ => Side::File(PathBuf::from(arg)),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Side::Snapshot(id) => format!("snapshot {id}"),
            Side::File(path) => path.display().to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{}: {source}", path.display())]
    Xml {
        path: PathBuf,
        #[source]
        source: XmlError,
    },
    #[error("{}: nmap reported an error ({message}); an unfinished scan cannot be compared", path.display())]
    NmapError { path: PathBuf, message: String },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error(
        "snapshot {from} (profile {from_profile}) and snapshot {to} (profile {to_profile}) used \
         different profiles: their port sets differ, so they are not compared"
    )]
    ProfileMismatch {
        from: i64,
        to: i64,
        from_profile: String,
        to_profile: String,
    },
    #[error("reading {what} failed: the reader thread panicked")]
    Thread { what: String },
}

/// Both sides as compared, and the delta.
#[derive(Debug)]
pub struct Diff {
    /// The FROM side; when it is a file, only its hosts that differ from TO's.
    pub from: Snapshot,
    pub to: Snapshot,
    pub delta: Delta,
}

/// Loads both sides and compares them. `db` is only opened, read-only, when a side is a
/// snapshot id.
pub fn diff(
    from: &Side,
    to: &Side,
    db: &Database,
    delta_config: &DeltaConfig,
) -> Result<Diff, DiffError> {
    let (mut a, mut b, a_listed, skipped) = match from {
        Side::File(path) => {
            let (lean, b) = match to {
                Side::File(to_path) => pair::load_pair(path, to_path)?,
                Side::Snapshot(_) => {
                    let b = load(to, db)?;
                    (load_file_against(path, &b)?, b)
                }
            };
            (lean.snapshot, b, lean.listed, lean.skipped)
        }
        Side::Snapshot(_) => {
            let (a, b) = std::thread::scope(|scope| {
                let a = scope.spawn(|| load(from, db));
                let b = load(to, db);
                let a = a
                    .join()
                    .unwrap_or_else(|_| Err(DiffError::Thread { what: from.label() }));
                (a, b)
            });
            let a = a?;
            let listed: Vec<IpAddr> = listed(&a).collect();
            (a, b?, listed, HashSet::new())
        }
    };
    if let (Side::Snapshot(x), Side::Snapshot(y)) = (from, to)
        && a.profile != b.profile
        && (a.scanned.is_none() || b.scanned.is_none())
    {
        return Err(DiffError::ProfileMismatch {
            from: *x,
            to: *y,
            from_profile: a.profile,
            to_profile: b.profile,
        });
    }
    cover_files(from, &mut a, &a_listed, to, &mut b);
    drop(a_listed);
    let mut delta = if skipped.is_empty() {
        delta::compare(Some(&a), &b, delta_config)
    } else {
        // Hosts identical on both sides were left out of `a`: leave them out of `b` for the
        // comparison too, then score the whole of `b`.
        let changed = Snapshot {
            id: b.id,
            started_at: b.started_at,
            finished_at: b.finished_at,
            profile: b.profile.clone(),
            nmap_args: b.nmap_args.clone(),
            nmap_version: b.nmap_version.clone(),
            status: b.status,
            targets: b.targets.clone(),
            scanned: b.scanned.clone(),
            unconfirmed: b.unconfirmed.clone(),
            hosts: b
                .hosts
                .iter()
                .filter(|h| host_ip(h).is_none_or(|ip| !skipped.contains(&ip)))
                .cloned()
                .collect(),
        };
        let mut d = delta::compare(Some(&a), &changed, delta_config);
        d.score = delta::score::score(&b, delta_config);
        d
    };
    if let (Side::File(path), Some(side)) = (from, delta.from.as_mut()) {
        side.file = Some(path.display().to_string());
    }
    if let Side::File(path) = to {
        delta.to.file = Some(path.display().to_string());
    }
    Ok(Diff {
        from: a,
        to: b,
        delta,
    })
}

fn load(side: &Side, db: &Database) -> Result<Snapshot, DiffError> {
    match side {
        Side::Snapshot(id) => Ok(Store::connect_read_only(db)?.load_snapshot_for_comparison(*id)?),
        Side::File(path) => load_file(path),
    }
}

/// Streams an nmap XML file into a snapshot of trimmed hosts, with no targets yet.
pub fn load_file(path: &Path) -> Result<Snapshot, DiffError> {
    let mut hosts = Vec::new();
    let mut s = parse_trimmed(path, |h| hosts.push(h))?;
    s.hosts = hosts;
    Ok(s)
}

/// A file side read against the other side.
struct Lean {
    /// Only the hosts whose comparison could show a change.
    snapshot: Snapshot,
    /// Every address the file listed (its coverage).
    listed: Vec<IpAddr>,
    /// Addresses left out: one report on each side, identical for comparison.
    skipped: HashSet<IpAddr>,
}

/// Streams the XML file at `path` against `other`, keeping only the hosts that could differ.
fn load_file_against(path: &Path, other: &Snapshot) -> Result<Lean, DiffError> {
    // The other side's report per address; `None` when it has several (the delta merges
    // repeated reports, so only a one-to-one pair is safe to leave out).
    let mut theirs: HashMap<IpAddr, Option<&Host>> = HashMap::with_capacity(other.hosts.len());
    for h in &other.hosts {
        if let Some(ip) = host_ip(h) {
            theirs
                .entry(ip)
                .and_modify(|one| *one = None)
                .or_insert(Some(h));
        }
    }
    let mut listed = Vec::new();
    let mut seen: HashSet<IpAddr> = HashSet::new();
    let mut skipped: HashSet<IpAddr> = HashSet::new();
    let mut kept: Vec<Host> = Vec::new();
    let mut snapshot = parse_trimmed(path, |h| {
        let Some(ip) = host_ip(&h) else {
            kept.push(h);
            return;
        };
        listed.push(ip);
        let first = seen.insert(ip);
        let counterpart = theirs.get(&ip).copied().flatten();
        if !first {
            // A repeated report: if the first was left out, put it back (it equalled the
            // counterpart) so the delta sees every report the file has.
            if skipped.remove(&ip)
                && let Some(c) = counterpart
            {
                kept.push(c.clone());
            }
            kept.push(h);
        } else if counterpart.is_some_and(|c| same_for_comparison(&h, c)) {
            skipped.insert(ip);
        } else {
            kept.push(h);
        }
    })?;
    snapshot.hosts = kept;
    Ok(Lean {
        snapshot,
        listed,
        skipped,
    })
}

/// Whether two reports of one address are equal in everything a comparison reads: state, and
/// per port its protocol, number, state, service, product and version.
fn same_for_comparison(a: &Host, b: &Host) -> bool {
    if a.is_up() != b.is_up() || a.ports.len() != b.ports.len() {
        return false;
    }
    fn key(p: &Port) -> (&str, u16, &str, &str, &str, &str) {
        (
            &p.protocol,
            p.portid,
            &p.state,
            &p.service.name,
            &p.service.product,
            &p.service.version,
        )
    }
    let mut x: Vec<_> = a.ports.iter().map(key).collect();
    let mut y: Vec<_> = b.ports.iter().map(key).collect();
    x.sort_unstable();
    y.sort_unstable();
    x == y
}

/// Streams `path`, handing each trimmed host to `on_host`; the snapshot returned has no hosts
/// and no targets.
fn parse_trimmed(path: &Path, mut on_host: impl FnMut(Host)) -> Result<Snapshot, DiffError> {
    let xml_error = |source| DiffError::Xml {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(|source| {
        xml_error(XmlError::Open {
            path: path.to_path_buf(),
            source,
        })
    })?;
    let result = xml::parse_reader(BufReader::with_capacity(1 << 20, file), |h| {
        on_host(trim(h));
    })
    .map_err(xml_error)?;
    if result.runstats.exit == "error" {
        return Err(DiffError::NmapError {
            path: path.to_path_buf(),
            message: match result.runstats.errormsg.trim() {
                "" => "no message".to_string(),
                m => m.to_string(),
            },
        });
    }
    let time = |secs: Option<i64>| secs.and_then(|s| Timestamp::from_second(s).ok());
    let started_at = time(result.start).unwrap_or_else(Timestamp::now);
    let version_detection = runs_version_detection(result.args.split_whitespace());
    Ok(Snapshot {
        scanned: PortCoverage::from_scaninfo(&result.scaninfo, version_detection),
        unconfirmed: Vec::new(),
        id: None,
        started_at,
        finished_at: time(result.end).unwrap_or(started_at),
        profile: FILE_PROFILE.to_string(),
        nmap_args: result.args,
        nmap_version: result.nmap_version,
        status: SnapshotStatus::Complete,
        targets: Vec::new(),
        hosts: Vec::new(),
    })
}

/// Keeps what a comparison and its report read; the rest never counts as a change.
fn trim(h: Host) -> Host {
    let mut ports: Vec<Port> = h
        .ports
        .into_iter()
        .map(|p| Port {
            protocol: p.protocol,
            portid: p.portid,
            state: p.state,
            reason: String::new(),
            service: Service {
                name: p.service.name,
                product: p.service.product,
                version: p.service.version,
                ..Service::default()
            },
            scripts: Vec::new(),
            tls: None,
        })
        .collect();
    // The parser's buffer grew while reading; keep only what is used.
    ports.shrink_to_fit();
    Host {
        state: h.state,
        reason: String::new(),
        addresses: h.addresses,
        hostnames: h.hostnames,
        ports,
        ..Host::default()
    }
}

fn listed(s: &Snapshot) -> impl Iterator<Item = IpAddr> + '_ {
    s.hosts.iter().filter_map(host_ip)
}

/// Gives each file side its coverage, as `import` does ([`Snapshot::from_scan_result`]): one
/// completed target per address the file listed, up or down (`a_listed` is every address
/// `a`'s file listed, kept or not). An address a file does not list was not scanned there:
/// it is "not compared", never gone or new. A file side also takes the snapshot side's profile
/// when it recorded no port list (so the comparison is not refused).
fn cover_files(from: &Side, a: &mut Snapshot, a_listed: &[IpAddr], to: &Side, b: &mut Snapshot) {
    let records = |path: &Path, ips: &mut dyn Iterator<Item = IpAddr>| {
        let mut seen = HashSet::new();
        ips.filter(|ip| seen.insert(*ip))
            .map(|ip| TargetRecord {
                entry: path.display().to_string(),
                target: ip.to_string(),
                status: TargetStatus::Completed,
                error: None,
                covers: vec![IpNet::from(ip)],
            })
            .collect::<Vec<_>>()
    };
    if let Side::File(pa) = from {
        a.targets = records(pa, &mut a_listed.iter().copied());
        if a.scanned.is_none() || b.scanned.is_none() {
            a.profile = b.profile.clone();
        }
    }
    if let Side::File(pb) = to {
        let ips: Vec<IpAddr> = listed(b).collect();
        b.targets = records(pb, &mut ips.into_iter());
        if a.scanned.is_none() || b.scanned.is_none() {
            b.profile = a.profile.clone();
        }
    }
}

mod pair;

#[cfg(test)]
mod tests;

//! Snapshot <-> rows, shared by both backends: what each column holds and how it is encoded
//! and checked. A backend only moves these named row structs in and out of its tables (SQL
//! and column getters); the encoding rules live here once, so SQLite and PostgreSQL store the
//! same text and read back the same snapshot.
//!
//! Times are RFC 3339 UTC text with exactly nine fractional digits, so text order is time
//! order and nanoseconds round-trip on both backends (PostgreSQL's `timestamptz` keeps only
//! microseconds). Lists (covers, CPEs, hostnames, scripts...) are JSON text; empty lists are
//! stored as NULL in the optional columns to keep large snapshots small.

use ipnet::IpNet;
use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;
use crate::model::{Host, Port, Service};
use crate::snapshot::{
    PortCoverage, Snapshot, SnapshotStatus, TargetRecord, TargetStatus, technique,
};

/// Fixed-width RFC 3339 (nine fractional digits), so that text order is time order.
pub(super) fn time_text(t: Timestamp) -> String {
    format!("{t:.9}")
}

pub(super) fn parse_time(text: &str) -> Result<Timestamp, String> {
    text.parse().map_err(|e| format!("timestamp {text:?}: {e}"))
}

pub(super) fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// JSON text of a list, NULL when it is empty.
fn json_list<T: Serialize>(items: &[T]) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    // Serialising plain strings and integers cannot fail.
    serde_json::to_string(items).ok()
}

/// JSON text of a list, `[]` when it is empty (the NOT NULL list columns).
fn json_array<T: Serialize>(items: &[T]) -> String {
    json_list(items).unwrap_or_else(|| "[]".to_string())
}

fn from_json<T: DeserializeOwned + Default>(text: Option<&str>, what: &str) -> Result<T, String> {
    match text {
        None => Ok(T::default()),
        Some(text) => serde_json::from_str(text).map_err(|e| format!("{what} {text:?}: {e}")),
    }
}

/// How much of each host a load reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Detail {
    /// The head and targets only, no hosts: the read API walks those apart
    /// ([`merge_hosts`]).
    Head,
    /// Everything that was saved.
    Full,
    /// What a comparison reads: host state, addresses and names; per port its protocol,
    /// number, state, service, product and version. No scripts, OS matches, CPEs or reasons
    /// (decoding their JSON is most of the cost of a full load).
    Comparison,
}

/// The `hosts` columns a backend reads into a [`HostRow`], in this order: all of them, or a
/// comparison's.
pub(super) fn host_columns(full: bool) -> &'static str {
    if full {
        "state, addresses, hostnames, reason, extraports, os_matches, scripts, starttime, endtime"
    } else {
        "state, addresses, hostnames"
    }
}

/// The `ports` columns a backend reads into (host position, [`PortRow`]), in this order.
pub(super) fn port_columns(full: bool) -> &'static str {
    if full {
        "host_position, protocol, port, state, service, product, version, reason, extrainfo, \
         ostype, tunnel, method, conf, cpe, scripts, tls"
    } else {
        "host_position, protocol, port, state, service, product, version"
    }
}

/// A row of either backend read by column index: just the types the row structs hold, so
/// each struct is read by one function whatever the backend.
pub(super) trait Columns {
    type Error;
    fn text(&self, at: usize) -> Result<String, Self::Error>;
    fn text_or_null(&self, at: usize) -> Result<Option<String>, Self::Error>;
    fn int(&self, at: usize) -> Result<i64, Self::Error>;
    fn int_or_null(&self, at: usize) -> Result<Option<i64>, Self::Error>;
}

/// The `snapshots` row.
pub(super) struct HeadRow {
    pub started_at: String,
    pub finished_at: String,
    pub profile: String,
    pub nmap_args: String,
    pub nmap_version: String,
    pub status: String,
    pub hosts_up: i64,
    pub open_ports: i64,
    pub targets_total: i64,
    pub targets_failed: i64,
    /// The port list the run probed (`tcp:1-1000;udp:53`); NULL for older snapshots.
    pub scanned_ports: Option<String>,
    /// Whether the run ran `-sV`; NULL with `scanned_ports`.
    pub version_detection: Option<bool>,
    /// JSON list of candidate changes the re-check did not hold; NULL when none.
    pub unconfirmed: Option<String>,
    /// The profile without its `+ports=` override (written, never read back: the profile is).
    pub technique: String,
}

impl HeadRow {
    pub fn of(s: &Snapshot) -> HeadRow {
        HeadRow {
            started_at: time_text(s.started_at),
            finished_at: time_text(s.finished_at),
            profile: s.profile.clone(),
            nmap_args: s.nmap_args.clone(),
            nmap_version: s.nmap_version.clone(),
            status: s.status.as_str().to_string(),
            hosts_up: count(s.hosts_up()),
            open_ports: count(s.open_ports()),
            targets_total: count(s.targets.len()),
            targets_failed: count(s.targets_failed()),
            scanned_ports: s.scanned.as_ref().map(ToString::to_string),
            version_detection: s.scanned.as_ref().map(|c| c.version_detection),
            unconfirmed: json_list(&s.unconfirmed),
            technique: technique(&s.profile).to_string(),
        }
    }
}

/// A `snapshot_targets` row (without its snapshot id and position).
pub(super) struct TargetRow {
    pub entry: String,
    pub target: String,
    pub status: String,
    pub error: Option<String>,
    /// JSON array of CIDR strings.
    pub covers: String,
}

impl TargetRow {
    pub fn of(t: &TargetRecord) -> TargetRow {
        let covers: Vec<String> = t.covers.iter().map(IpNet::to_string).collect();
        TargetRow {
            entry: t.entry.clone(),
            target: t.target.clone(),
            status: t.status.as_str().to_string(),
            error: t.error.clone(),
            covers: json_array(&covers),
        }
    }

    pub fn into_target(self) -> Result<TargetRecord, String> {
        let covers: Vec<String> = from_json(Some(&self.covers), "target covers")?;
        let covers = covers
            .iter()
            .map(|c| {
                c.parse::<IpNet>()
                    .map_err(|e| format!("target cover {c:?}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        let status = &self.status;
        Ok(TargetRecord {
            status: TargetStatus::parse(status)
                .ok_or_else(|| format!("target status {status:?}"))?,
            entry: self.entry,
            target: self.target,
            error: self.error,
            covers,
        })
    }
}

/// A `hosts` row (without its snapshot id and position). Columns a comparison load does not
/// read stay empty.
#[derive(Default)]
pub(super) struct HostRow {
    /// `Host::ip()`, '' when nmap gave none (the ports' `ip` column too).
    pub ip: String,
    pub hostname: Option<String>,
    pub state: String,
    pub reason: String,
    /// JSON `[{addr, addrtype, vendor}]`.
    pub addresses: String,
    pub hostnames: Option<String>,
    pub extraports: Option<String>,
    pub os_matches: Option<String>,
    pub scripts: Option<String>,
    pub starttime: Option<i64>,
    pub endtime: Option<i64>,
}

impl HostRow {
    /// Reads [`host_columns`] from column `at` on.
    pub fn read<R: Columns>(r: &R, at: usize, full: bool) -> Result<HostRow, R::Error> {
        let lean = HostRow {
            state: r.text(at)?,
            addresses: r.text(at + 1)?,
            hostnames: r.text_or_null(at + 2)?,
            ..HostRow::default()
        };
        if !full {
            return Ok(lean);
        }
        Ok(HostRow {
            reason: r.text(at + 3)?,
            extraports: r.text_or_null(at + 4)?,
            os_matches: r.text_or_null(at + 5)?,
            scripts: r.text_or_null(at + 6)?,
            starttime: r.int_or_null(at + 7)?,
            endtime: r.int_or_null(at + 8)?,
            ..lean
        })
    }

    pub fn of(h: &Host) -> HostRow {
        HostRow {
            ip: h.ip().unwrap_or("").to_string(),
            hostname: h.hostname().map(str::to_string),
            state: h.state.clone(),
            reason: h.reason.clone(),
            addresses: json_array(&h.addresses),
            hostnames: json_list(&h.hostnames),
            extraports: json_list(&h.extraports),
            os_matches: json_list(&h.os_matches),
            scripts: json_list(&h.scripts),
            starttime: h.starttime,
            endtime: h.endtime,
        }
    }

    pub fn into_host(self, detail: Detail) -> Result<Host, String> {
        let base = Host {
            state: self.state,
            addresses: from_json(Some(&self.addresses), "host addresses")?,
            hostnames: from_json(self.hostnames.as_deref(), "host names")?,
            ..Host::default()
        };
        if detail == Detail::Comparison {
            return Ok(base);
        }
        Ok(Host {
            reason: self.reason,
            extraports: from_json(self.extraports.as_deref(), "extraports")?,
            os_matches: from_json(self.os_matches.as_deref(), "OS matches")?,
            scripts: from_json(self.scripts.as_deref(), "host scripts")?,
            starttime: self.starttime,
            endtime: self.endtime,
            ..base
        })
    }
}

/// A `ports` row (without snapshot id, host position, position and ip). Columns a comparison
/// load does not read stay empty.
#[derive(Default)]
pub(super) struct PortRow {
    pub protocol: String,
    pub port: i64,
    pub state: String,
    pub reason: String,
    pub service: String,
    pub product: String,
    pub version: String,
    pub extrainfo: String,
    pub ostype: String,
    pub tunnel: String,
    pub method: String,
    pub conf: i64,
    /// JSON array of strings.
    pub cpe: String,
    pub scripts: Option<String>,
    /// JSON `TlsInfo` from the TLS pass; NULL when the port was not examined.
    pub tls: Option<String>,
}

impl PortRow {
    /// Reads [`port_columns`]: (host position, port).
    pub fn read<R: Columns>(r: &R, full: bool) -> Result<(i64, PortRow), R::Error> {
        let lean = PortRow {
            protocol: r.text(1)?,
            port: r.int(2)?,
            state: r.text(3)?,
            service: r.text(4)?,
            product: r.text(5)?,
            version: r.text(6)?,
            ..PortRow::default()
        };
        let port = if full {
            PortRow {
                reason: r.text(7)?,
                extrainfo: r.text(8)?,
                ostype: r.text(9)?,
                tunnel: r.text(10)?,
                method: r.text(11)?,
                conf: r.int(12)?,
                cpe: r.text(13)?,
                scripts: r.text_or_null(14)?,
                tls: r.text_or_null(15)?,
                ..lean
            }
        } else {
            lean
        };
        Ok((r.int(0)?, port))
    }

    pub fn of(p: &Port) -> PortRow {
        let sv = &p.service;
        PortRow {
            protocol: p.protocol.clone(),
            port: i64::from(p.portid),
            state: p.state.clone(),
            reason: p.reason.clone(),
            service: sv.name.clone(),
            product: sv.product.clone(),
            version: sv.version.clone(),
            extrainfo: sv.extrainfo.clone(),
            ostype: sv.ostype.clone(),
            tunnel: sv.tunnel.clone(),
            method: sv.method.clone(),
            conf: i64::from(sv.conf),
            cpe: json_array(&sv.cpe),
            scripts: json_list(&p.scripts),
            // Serialising plain strings and numbers cannot fail.
            tls: p.tls.as_ref().and_then(|t| serde_json::to_string(t).ok()),
        }
    }

    pub fn into_port(self, detail: Detail) -> Result<Port, String> {
        let portid = u16::try_from(self.port).map_err(|_| format!("port {}", self.port))?;
        let base = Port {
            protocol: self.protocol,
            portid,
            state: self.state,
            service: Service {
                name: self.service,
                product: self.product,
                version: self.version,
                ..Service::default()
            },
            ..Port::default()
        };
        if detail == Detail::Comparison {
            return Ok(base);
        }
        Ok(Port {
            reason: self.reason,
            service: Service {
                extrainfo: self.extrainfo,
                ostype: self.ostype,
                tunnel: self.tunnel,
                method: self.method,
                conf: u8::try_from(self.conf).map_err(|_| format!("conf {}", self.conf))?,
                cpe: from_json(Some(&self.cpe), "port CPEs")?,
                ..base.service
            },
            scripts: from_json(self.scripts.as_deref(), "port scripts")?,
            tls: self
                .tls
                .as_deref()
                .map(|t| from_json(Some(t), "port TLS facts"))
                .transpose()?,
            ..base
        })
    }
}

/// A snapshot's rows as read back, before they are checked.
pub(super) struct SnapshotRows {
    pub head: HeadRow,
    pub targets: Vec<TargetRow>,
    pub hosts: Vec<HostRow>,
    /// (host position, port), in host then port order.
    pub ports: Vec<(i64, PortRow)>,
}

impl SnapshotRows {
    /// The rows of a [`Detail::Head`] load: no hosts, no ports.
    pub fn head_only(head: HeadRow, targets: Vec<TargetRow>) -> SnapshotRows {
        SnapshotRows {
            head,
            targets,
            hosts: Vec::new(),
            ports: Vec::new(),
        }
    }

    pub fn into_snapshot(self, id: i64, detail: Detail) -> Result<Snapshot, String> {
        let head = self.head;
        let status = &head.status;
        let scanned = match &head.scanned_ports {
            None => None,
            Some(text) => Some(
                PortCoverage::parse_ports(text, head.version_detection.unwrap_or(false))
                    .ok_or_else(|| format!("scanned ports {text:?}"))?,
            ),
        };
        let mut hosts = self
            .hosts
            .into_iter()
            .map(|h| h.into_host(detail))
            .collect::<Result<Vec<_>, _>>()?;
        for (host_position, p) in self.ports {
            let host = usize::try_from(host_position)
                .ok()
                .and_then(|i| hosts.get_mut(i))
                .ok_or_else(|| format!("port of missing host {host_position}"))?;
            host.ports.push(p.into_port(detail)?);
        }
        Ok(Snapshot {
            scanned,
            unconfirmed: from_json(head.unconfirmed.as_deref(), "unconfirmed changes")?,
            id: Some(id),
            started_at: parse_time(&head.started_at)?,
            finished_at: parse_time(&head.finished_at)?,
            status: SnapshotStatus::parse(status)
                .ok_or_else(|| format!("snapshot status {status:?}"))?,
            profile: head.profile,
            nmap_args: head.nmap_args,
            nmap_version: head.nmap_version,
            targets: self
                .targets
                .into_iter()
                .map(TargetRow::into_target)
                .collect::<Result<_, _>>()?,
            hosts,
        })
    }
}

/// What a walk calls with each host: its position, row and port rows; `false` stops it.
pub(super) type EachHost<'a> = &'a mut dyn FnMut(i64, HostRow, Vec<PortRow>) -> bool;

/// Why [`merge_hosts`] stopped: the database's error, or rows that do not fit together.
pub(super) enum WalkError<E> {
    Db(E),
    Corrupt(String),
}

impl<E> WalkError<E> {
    /// The store's error for database `db`, `db_error` mapping the backend's own.
    pub fn into_store(self, db: &str, db_error: impl FnOnce(E) -> StoreError) -> StoreError {
        match self {
            WalkError::Db(e) => db_error(e),
            WalkError::Corrupt(detail) => StoreError::Corrupt {
                db: db.to_string(),
                detail,
            },
        }
    }
}

/// A snapshot's hosts one at a time with their ports, from two cursors a backend reads side
/// by side: `next_host` gives (position, host) and `next_port` (host position, port), both in
/// position order and from the same first host on. Calls `each` with each host's position,
/// row and port rows until it returns `false`. With `whole` (every host was asked for), a port
/// left after the last host belongs to none: the rows are corrupt.
pub(super) fn merge_hosts<E>(
    mut next_host: impl FnMut() -> Result<Option<(i64, HostRow)>, E>,
    mut next_port: impl FnMut() -> Result<Option<(i64, PortRow)>, E>,
    whole: bool,
    each: EachHost<'_>,
) -> Result<(), WalkError<E>> {
    let missing = |at: i64| WalkError::Corrupt(format!("port of missing host {at}"));
    let mut pending = next_port().map_err(WalkError::Db)?;
    while let Some((position, host)) = next_host().map_err(WalkError::Db)? {
        let mut ports = Vec::new();
        while let Some((at, port)) = pending.take() {
            if at > position {
                pending = Some((at, port));
                break;
            }
            if at < position {
                return Err(missing(at));
            }
            ports.push(port);
            pending = next_port().map_err(WalkError::Db)?;
        }
        if !each(position, host, ports) {
            return Ok(());
        }
    }
    match pending {
        Some((at, _)) if whole => Err(missing(at)),
        _ => Ok(()),
    }
}

/// A walked host and its ports as the model has them (every column read).
pub(super) fn host_of(row: HostRow, ports: Vec<PortRow>) -> Result<Host, String> {
    let mut host = row.into_host(Detail::Full)?;
    host.ports = ports
        .into_iter()
        .map(|p| p.into_port(Detail::Full))
        .collect::<Result<_, _>>()?;
    Ok(host)
}

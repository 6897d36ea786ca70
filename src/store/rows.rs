//! Snapshot <-> rows. Kept apart from [`super::Store`] so the SQL of the bulk path is in one
//! place; errors are mapped to [`super::StoreError`] by the caller, which knows the path.

use ipnet::IpNet;
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::{Host, Port, Service};
use crate::snapshot::{
    PortCoverage, Snapshot, SnapshotStatus, TargetRecord, TargetStatus, technique,
};

pub(super) enum RowError {
    Sql(rusqlite::Error),
    NotFound(i64),
    Corrupt(String),
}

impl From<rusqlite::Error> for RowError {
    fn from(e: rusqlite::Error) -> Self {
        RowError::Sql(e)
    }
}

/// Fixed-width RFC 3339 (nine fractional digits), so that text order is time order.
pub(super) fn time_text(t: Timestamp) -> String {
    format!("{t:.9}")
}

pub(super) fn parse_time(text: &str) -> Result<Timestamp, RowError> {
    text.parse()
        .map_err(|e| RowError::Corrupt(format!("timestamp {text:?}: {e}")))
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// JSON text of a list, NULL when it is empty.
fn json_list<T: Serialize>(items: &[T]) -> Result<Option<String>, RowError> {
    if items.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(items)
        .map(Some)
        .map_err(|e| RowError::Corrupt(format!("cannot encode a list as JSON: {e}")))
}

fn from_json<T: DeserializeOwned + Default>(
    text: Option<String>,
    what: &str,
) -> Result<T, RowError> {
    match text {
        None => Ok(T::default()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| RowError::Corrupt(format!("{what} {text:?}: {e}"))),
    }
}

pub(super) fn save(conn: &mut Connection, s: &Snapshot) -> Result<i64, RowError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO snapshots (started_at, finished_at, profile, nmap_args, nmap_version, status,
                                hosts_up, open_ports, targets_total, targets_failed,
                                scanned_ports, version_detection, unconfirmed, technique)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            time_text(s.started_at),
            time_text(s.finished_at),
            s.profile,
            s.nmap_args,
            s.nmap_version,
            s.status.as_str(),
            count(s.hosts_up()),
            count(s.open_ports()),
            count(s.targets.len()),
            count(s.targets_failed()),
            s.scanned.as_ref().map(ToString::to_string),
            s.scanned.as_ref().map(|c| c.version_detection),
            json_list(&s.unconfirmed)?,
            technique(&s.profile),
        ],
    )?;
    let id = tx.last_insert_rowid();
    {
        let mut insert_target = tx.prepare_cached(
            "INSERT INTO snapshot_targets (snapshot_id, position, entry, target, status, error,
                                           covers)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (position, t) in s.targets.iter().enumerate() {
            let covers: Vec<String> = t.covers.iter().map(IpNet::to_string).collect();
            let covers = json_list(&covers)?.unwrap_or_else(|| "[]".to_string());
            insert_target.execute(params![
                id,
                count(position),
                t.entry,
                t.target,
                t.status.as_str(),
                t.error,
                covers
            ])?;
        }
        let mut insert_host = tx.prepare_cached(
            "INSERT INTO hosts (snapshot_id, position, ip, hostname, state, reason, addresses,
                                hostnames, extraports, os_matches, scripts, starttime, endtime)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        let mut insert_port = tx.prepare_cached(
            "INSERT INTO ports (snapshot_id, host_position, position, ip, protocol, port, state,
                                reason, service, product, version, extrainfo, ostype, tunnel,
                                method, conf, cpe, scripts, tls)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19)",
        )?;
        for (host_position, h) in s.hosts.iter().enumerate() {
            let ip = h.ip().unwrap_or("");
            insert_host.execute(params![
                id,
                count(host_position),
                ip,
                h.hostname(),
                h.state,
                h.reason,
                json_list(&h.addresses)?.unwrap_or_else(|| "[]".to_string()),
                json_list(&h.hostnames)?,
                json_list(&h.extraports)?,
                json_list(&h.os_matches)?,
                json_list(&h.scripts)?,
                h.starttime,
                h.endtime,
            ])?;
            for (position, p) in h.ports.iter().enumerate() {
                let sv = &p.service;
                let cpe = json_list(&sv.cpe)?.unwrap_or_else(|| "[]".to_string());
                insert_port.execute(params![
                    id,
                    count(host_position),
                    count(position),
                    ip,
                    p.protocol,
                    p.portid,
                    p.state,
                    p.reason,
                    sv.name,
                    sv.product,
                    sv.version,
                    sv.extrainfo,
                    sv.ostype,
                    sv.tunnel,
                    sv.method,
                    sv.conf,
                    cpe,
                    json_list(&p.scripts)?,
                    p.tls
                        .as_ref()
                        .map(serde_json::to_string)
                        .transpose()
                        .map_err(|e| RowError::Corrupt(format!("cannot encode TLS facts: {e}")))?,
                ])?;
            }
        }
    }
    tx.commit()?;
    Ok(id)
}

/// How much of each host a load reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Detail {
    /// The head and targets only: no hosts (the read API streams them apart).
    Head,
    /// Everything that was saved.
    Full,
    /// What a comparison reads: host state, addresses and names; per port its protocol,
    /// number, state, service, product and version. No scripts, OS matches, CPEs or reasons
    /// (decoding their JSON is most of the cost of a full load).
    Comparison,
}

/// The `snapshots` columns of one snapshot, as read.
struct SnapshotHead {
    started_at: String,
    finished_at: String,
    profile: String,
    nmap_args: String,
    nmap_version: String,
    status: String,
    scanned_ports: Option<String>,
    version_detection: Option<bool>,
    unconfirmed: Option<String>,
}

pub(super) fn load(conn: &Connection, id: i64, detail: Detail) -> Result<Snapshot, RowError> {
    let head = conn
        .query_row(
            "SELECT started_at, finished_at, profile, nmap_args, nmap_version, status,
                    scanned_ports, version_detection, unconfirmed
               FROM snapshots WHERE id = ?1",
            [id],
            |r| {
                Ok(SnapshotHead {
                    started_at: r.get(0)?,
                    finished_at: r.get(1)?,
                    profile: r.get(2)?,
                    nmap_args: r.get(3)?,
                    nmap_version: r.get(4)?,
                    status: r.get(5)?,
                    scanned_ports: r.get(6)?,
                    version_detection: r.get(7)?,
                    unconfirmed: r.get(8)?,
                })
            },
        )
        .optional()?
        .ok_or(RowError::NotFound(id))?;
    let status = &head.status;
    let scanned = match &head.scanned_ports {
        None => None,
        Some(text) => Some(
            PortCoverage::parse_ports(text, head.version_detection.unwrap_or(false))
                .ok_or_else(|| RowError::Corrupt(format!("scanned ports {text:?}")))?,
        ),
    };
    Ok(Snapshot {
        scanned,
        unconfirmed: from_json(head.unconfirmed, "unconfirmed changes")?,
        id: Some(id),
        started_at: parse_time(&head.started_at)?,
        finished_at: parse_time(&head.finished_at)?,
        status: SnapshotStatus::parse(status)
            .ok_or_else(|| RowError::Corrupt(format!("snapshot status {status:?}")))?,
        profile: head.profile,
        nmap_args: head.nmap_args,
        nmap_version: head.nmap_version,
        targets: load_targets(conn, id)?,
        hosts: match detail {
            Detail::Full => load_hosts(conn, id)?,
            Detail::Comparison => load_hosts_for_comparison(conn, id)?,
            Detail::Head => Vec::new(),
        },
    })
}

fn load_targets(conn: &Connection, id: i64) -> Result<Vec<TargetRecord>, RowError> {
    let mut stmt = conn.prepare_cached(
        "SELECT entry, target, status, error, covers FROM snapshot_targets
          WHERE snapshot_id = ?1 ORDER BY position",
    )?;
    let mut rows = stmt.query([id])?;
    let mut targets = Vec::new();
    while let Some(r) = rows.next()? {
        let status: String = r.get(2)?;
        let covers: Vec<String> = from_json(Some(r.get(4)?), "target covers")?;
        let covers = covers
            .iter()
            .map(|c| {
                c.parse::<IpNet>()
                    .map_err(|e| RowError::Corrupt(format!("target cover {c:?}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        targets.push(TargetRecord {
            entry: r.get(0)?,
            target: r.get(1)?,
            status: TargetStatus::parse(&status)
                .ok_or_else(|| RowError::Corrupt(format!("target status {status:?}")))?,
            error: r.get(3)?,
            covers,
        });
    }
    Ok(targets)
}

fn load_hosts(conn: &Connection, id: i64) -> Result<Vec<Host>, RowError> {
    let mut hosts = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT position, state, reason, addresses, hostnames, extraports, os_matches, scripts,
                starttime, endtime
           FROM hosts WHERE snapshot_id = ?1 ORDER BY position",
    )?;
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        hosts.push(host(r)?);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT host_position, protocol, port, state, reason, service, product, version,
                extrainfo, ostype, tunnel, method, conf, cpe, scripts, tls
           FROM ports WHERE snapshot_id = ?1 ORDER BY host_position, position",
    )?;
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        let host_position: i64 = r.get(0)?;
        let host = usize::try_from(host_position)
            .ok()
            .and_then(|i| hosts.get_mut(i))
            .ok_or_else(|| RowError::Corrupt(format!("port of missing host {host_position}")))?;
        host.ports.push(port(r)?);
    }
    Ok(hosts)
}

/// A `hosts` row read as `SELECT position, state, reason, addresses, hostnames, extraports,
/// os_matches, scripts, starttime, endtime`, without its ports.
pub(super) fn host(r: &Row<'_>) -> Result<Host, RowError> {
    Ok(Host {
        state: r.get(1)?,
        reason: r.get(2)?,
        addresses: from_json(Some(r.get(3)?), "host addresses")?,
        hostnames: from_json(r.get(4)?, "host names")?,
        ports: Vec::new(),
        extraports: from_json(r.get(5)?, "extraports")?,
        os_matches: from_json(r.get(6)?, "OS matches")?,
        scripts: from_json(r.get(7)?, "host scripts")?,
        starttime: r.get(8)?,
        endtime: r.get(9)?,
    })
}

fn load_hosts_for_comparison(conn: &Connection, id: i64) -> Result<Vec<Host>, RowError> {
    let mut hosts = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT state, addresses, hostnames FROM hosts WHERE snapshot_id = ?1 ORDER BY position",
    )?;
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        hosts.push(Host {
            state: r.get(0)?,
            addresses: from_json(Some(r.get(1)?), "host addresses")?,
            hostnames: from_json(r.get(2)?, "host names")?,
            ..Host::default()
        });
    }
    let mut stmt = conn.prepare_cached(
        "SELECT host_position, protocol, port, state, service, product, version
           FROM ports WHERE snapshot_id = ?1 ORDER BY host_position, position",
    )?;
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        let host_position: i64 = r.get(0)?;
        let host = usize::try_from(host_position)
            .ok()
            .and_then(|i| hosts.get_mut(i))
            .ok_or_else(|| RowError::Corrupt(format!("port of missing host {host_position}")))?;
        host.ports.push(Port {
            protocol: r.get(1)?,
            portid: r.get(2)?,
            state: r.get(3)?,
            service: Service {
                name: r.get(4)?,
                product: r.get(5)?,
                version: r.get(6)?,
                ..Service::default()
            },
            ..Port::default()
        });
    }
    Ok(hosts)
}

pub(super) fn port(r: &Row<'_>) -> Result<Port, RowError> {
    Ok(Port {
        protocol: r.get(1)?,
        portid: r.get(2)?,
        state: r.get(3)?,
        reason: r.get(4)?,
        service: Service {
            name: r.get(5)?,
            product: r.get(6)?,
            version: r.get(7)?,
            extrainfo: r.get(8)?,
            ostype: r.get(9)?,
            tunnel: r.get(10)?,
            method: r.get(11)?,
            conf: r.get(12)?,
            cpe: from_json(Some(r.get(13)?), "port CPEs")?,
        },
        scripts: from_json(r.get(14)?, "port scripts")?,
        tls: r
            .get::<_, Option<String>>(15)?
            .map(|t| from_json(Some(t), "port TLS facts"))
            .transpose()?,
    })
}

//! The TLS facts stored with ports (`ports.tls`, SQLite schema V5, PostgreSQL V2), read across
//! snapshots: the latest certificate each port showed, for `cert_changed` and for the
//! certificates listing.

use jiff::Timestamp;
use serde::Serialize;

use super::{Store, StoreError};
use crate::model::TlsInfo;

/// The latest TLS facts one port showed, and the snapshot that saw them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortTls {
    pub snapshot_id: i64,
    pub seen_at: Timestamp,
    pub ip: String,
    pub protocol: String,
    pub port: u16,
    pub tls: TlsInfo,
}

/// A port's TLS facts as read, before they are checked; backends read them in this order.
pub(super) struct RawPortTls {
    pub snapshot_id: i64,
    pub started_at: String,
    pub ip: String,
    pub protocol: String,
    pub port: i64,
    pub tls: String,
}

impl Store {
    /// For every port ever examined by a TLS pass in a snapshot older than `before` (all
    /// snapshots when `None`), its latest TLS facts; ordered by address text, protocol, port.
    pub fn latest_port_tls(&self, before: Option<i64>) -> Result<Vec<PortTls>, StoreError> {
        let rows = self.db.latest_port_tls(before.unwrap_or(i64::MAX))?;
        let mut out: Vec<PortTls> = Vec::with_capacity(rows.len());
        for r in rows {
            let tls = &r.tls;
            let row = PortTls {
                snapshot_id: r.snapshot_id,
                seen_at: self.timestamp(&r.started_at)?,
                port: u16::try_from(r.port)
                    .map_err(|_| self.corrupt(format!("port {}", r.port)))?,
                tls: serde_json::from_str(tls)
                    .map_err(|e| self.corrupt(format!("port TLS facts {tls:?}: {e}")))?,
                ip: r.ip,
                protocol: r.protocol,
            };
            // One port listed twice by one snapshot (two hosts with one address): keep one.
            if out.last().is_some_and(|l| {
                (l.ip.as_str(), l.protocol.as_str(), l.port)
                    == (row.ip.as_str(), row.protocol.as_str(), row.port)
            }) {
                continue;
            }
            out.push(row);
        }
        Ok(out)
    }
}

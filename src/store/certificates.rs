//! The TLS facts stored with ports (`ports.tls`, schema V4), read across snapshots: the latest
//! certificate each port showed, for `cert_changed` and for the certificates listing.

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

impl Store {
    /// For every port ever examined by a TLS pass in a snapshot older than `before` (all
    /// snapshots when `None`), its latest TLS facts; ordered by address text, protocol, port.
    pub fn latest_port_tls(&self, before: Option<i64>) -> Result<Vec<PortTls>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT p.snapshot_id, s.started_at, p.ip, p.protocol, p.port, p.tls
                   FROM ports AS p JOIN snapshots AS s ON s.id = p.snapshot_id
                  WHERE p.tls IS NOT NULL
                    AND p.snapshot_id = (SELECT max(q.snapshot_id) FROM ports AS q
                                          WHERE q.tls IS NOT NULL AND q.ip = p.ip
                                            AND q.protocol = p.protocol AND q.port = p.port
                                            AND q.snapshot_id < ?1)
                  ORDER BY p.ip, p.protocol, p.port",
            )
            .map_err(|e| self.sql(e))?;
        let before = before.unwrap_or(i64::MAX);
        let mut rows = stmt.query([before]).map_err(|e| self.sql(e))?;
        let mut out: Vec<PortTls> = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.sql(e))? {
            let text: String = r.get(1).map_err(|e| self.sql(e))?;
            let tls: String = r.get(5).map_err(|e| self.sql(e))?;
            let row = PortTls {
                snapshot_id: r.get(0).map_err(|e| self.sql(e))?,
                seen_at: super::rows::parse_time(&text).map_err(|e| self.error(e))?,
                ip: r.get(2).map_err(|e| self.sql(e))?,
                protocol: r.get(3).map_err(|e| self.sql(e))?,
                port: r.get(4).map_err(|e| self.sql(e))?,
                tls: serde_json::from_str(&tls)
                    .map_err(|e| self.corrupt(format!("port TLS facts {tls:?}: {e}")))?,
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

//! The TLS pass of a batch run: after the port scan (and the confirmation re-check), the pass
//! of [`crate::scan::tls`] over the snapshot's hosts.
//!
//! Its failure never marks the port scan failed: the ports simply stay unexamined, and the
//! certificate alerts on them are neither raised nor resolved (`alerts::Judgement::Unknown`).

use std::collections::HashMap;
use std::net::IpAddr;

use log::warn;

use crate::alerts::SeenCert;
use crate::config::Config;
pub use crate::scan::tls::TlsPass;
use crate::scan::tls::{TlsPassSpec, pass_hosts, selected};
use crate::snapshot::Snapshot;
use crate::store::PortTls;

/// Runs the TLS pass ([`crate::scan::tls`]) over `snapshot`'s open TLS-looking ports and
/// merges what it read, unless `[tls] enabled = false` or `--no-tls`.
pub fn pass(config: &Config, snapshot: &mut Snapshot) -> TlsPass {
    if !config.tls.enabled {
        return TlsPass::Disabled;
    }
    match TlsPassSpec::from_config(config) {
        Ok(spec) => pass_hosts(&spec, &mut snapshot.hosts),
        Err(error) => {
            let selected = selected(&snapshot.hosts, &config.tls.ports).len();
            warn!("TLS pass failed, certificates not examined this run: {error}");
            TlsPass::Failed { selected, error }
        }
    }
}

/// The certificate each port showed last, keyed as the alert rules look it up.
pub fn previous_certs(rows: Vec<PortTls>) -> HashMap<(String, String, u16), SeenCert> {
    rows.into_iter()
        .filter_map(|r| {
            let cert = r.tls.cert?;
            let ip = r.ip.parse::<IpAddr>().ok()?.to_string();
            Some((
                (ip, r.protocol.to_ascii_lowercase(), r.port),
                SeenCert {
                    sha256: cert.sha256,
                    issuer: cert.issuer,
                },
            ))
        })
        .collect()
}

//! `[tls]`: the TLS pass after a batch run's port scan, and what counts as weak.

use serde::{Deserialize, Deserializer, Serialize};

use super::ConfigError;
use crate::model::Grade;
use crate::profile::tls::DEFAULT_TLS_PORTS;

/// `[tls]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// Run the TLS pass after each batch run's port scan (`--tls`/`--no-tls` per run).
    pub enabled: bool,
    /// A port whose worst offered cipher grade is below this is `weak_tls`.
    #[serde(deserialize_with = "deserialize_grade")]
    pub min_grade: Grade,
    /// Open TCP ports examined even when the port scan did not see TLS on them (ports nmap
    /// saw a TLS tunnel on, or named a TLS service, are always examined).
    pub ports: Vec<u16>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            enabled: true,
            min_grade: Grade::C,
            ports: DEFAULT_TLS_PORTS.to_vec(),
        }
    }
}

fn deserialize_grade<'de, D: Deserializer<'de>>(d: D) -> Result<Grade, D::Error> {
    String::deserialize(d)?
        .parse()
        .map_err(|e| serde::de::Error::custom(format!("tls.min_grade: {e}")))
}

pub(super) fn validate_tls(t: &TlsConfig) -> Result<(), ConfigError> {
    if t.ports.contains(&0) {
        return Err(ConfigError::invalid(
            "tls.ports",
            "port 0 cannot be scanned",
        ));
    }
    if t.ports.len() > 1024 {
        return Err(ConfigError::invalid("tls.ports", "at most 1024 ports"));
    }
    Ok(())
}

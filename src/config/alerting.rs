//! The alerting part of the configuration: `[[expect]]` (expected open ports), `[alerts]`
//! and `[[webhook]]`, with their validation.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::model::{AlertKind, Severity};
use crate::profile::{PortSpec, Profile};

/// One `[[expect]]` table: on these targets, exactly these ports are expected open.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExpectConfig {
    /// Each an address, a CIDR block, or a `targets.txt` entry as written (comment removed).
    pub targets: Vec<String>,
    /// `22/tcp`, `tcp/22`, `53/udp`, or a bare number for TCP. Empty: no port is expected.
    pub ports: Vec<String>,
}

/// One `[[expect]]` table parsed: the form the delta and the alerts check hosts against. Any
/// open port on a host it applies to that is not listed is unexpected.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExpectedPorts {
    /// Hosts inside any of these networks...
    #[serde(default)]
    pub networks: Vec<IpNet>,
    /// ...or covered by any of these `targets.txt` entries (exact entry text).
    #[serde(default)]
    pub entries: Vec<String>,
    /// `(protocol, port)` pairs, e.g. `("tcp", 22)`.
    pub ports: Vec<(String, u16)>,
}

impl ExpectConfig {
    /// The parsed form: addresses and blocks become networks, anything else an entry name.
    pub fn to_expected(&self) -> ExpectedPorts {
        let mut out = ExpectedPorts::default();
        for t in &self.targets {
            let t = t.trim();
            if let Ok(net) = t.parse::<IpNet>() {
                out.networks.push(net.trunc());
            } else if let Ok(ip) = t.parse::<IpAddr>() {
                out.networks.push(IpNet::from(ip));
            } else {
                out.entries.push(t.to_string());
            }
        }
        out.ports = self
            .ports
            .iter()
            .filter_map(|p| parse_expected_port(p))
            .collect();
        out
    }
}

/// Parses `22/tcp`, `tcp/22`, `udp/53` or `22` (TCP); protocol case-insensitive.
pub(super) fn parse_expected_port(text: &str) -> Option<(String, u16)> {
    let text = text.trim();
    let (protocol, port) = match text.split_once('/') {
        Some((a, b)) if a.trim().chars().all(|c| c.is_ascii_digit()) => (b.trim(), a.trim()),
        Some((a, b)) => (a.trim(), b.trim()),
        None => ("tcp", text),
    };
    let protocol = protocol.to_ascii_lowercase();
    if !["tcp", "udp", "sctp"].contains(&protocol.as_str()) || port.is_empty() {
        return None;
    }
    port.parse().ok().map(|port| (protocol, port))
}

/// `[alerts]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// A TLS certificate (from nmap's `ssl-cert` script) that expires within this many days is
    /// a `cert_expiring` alert (medium; high once expired).
    pub cert_expiry_days: u32,
    /// Raise `self_signed` for a self-signed certificate (info). Off: loopback and lab
    /// services are often self-signed on purpose.
    pub self_signed: bool,
    /// Every open port whose severity (`[port_severity]`) is at least this is a
    /// `risky_port_open` alert on every run while it is open, the first run included.
    pub open_port_min_severity: Severity,
    /// A `host_gone` or `port_closed` alert is raised only once the disappearance has held for
    /// this many consecutive confirmed runs that scanned it (1: the run that finds it).
    pub gone_after_runs: u32,
}

/// Largest `[alerts] gone_after_runs`: each run past the first reads one more snapshot.
pub const MAX_GONE_AFTER_RUNS: u32 = 30;

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            cert_expiry_days: 30,
            self_signed: false,
            open_port_min_severity: Severity::High,
            gone_after_runs: 1,
        }
    }
}

/// How a webhook's body is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// One JSON document per run: the run summary and its new alerts.
    #[default]
    Json,
    /// A Slack incoming-webhook message: `text` and one colored attachment per alert.
    Slack,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Json => "json",
            WebhookFormat::Slack => "slack",
        }
    }
}

/// One `[[webhook]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    /// Shown in logs and `alerts deliveries` instead of the URL (which may hold a secret).
    pub name: String,
    pub url: String,
    pub format: WebhookFormat,
    /// Only alerts at least this severe are sent.
    pub min_severity: Severity,
    /// Only alerts of these kinds are sent; empty sends every kind.
    pub kinds: Vec<AlertKind>,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// Name of an environment variable holding a bearer token (sent as `Authorization`).
    pub token_env: Option<String>,
    /// Seconds one attempt may take (connect, send, answer) before it is abandoned.
    pub timeout: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            name: String::new(),
            url: String::new(),
            format: WebhookFormat::Json,
            min_severity: Severity::Info,
            kinds: Vec::new(),
            headers: BTreeMap::new(),
            token_env: None,
            timeout: 10,
        }
    }
}

impl WebhookConfig {
    /// `name`, or `webhook[i]` when none was given.
    pub fn label(&self, index: usize) -> String {
        if self.name.trim().is_empty() {
            format!("webhook[{index}]")
        } else {
            self.name.trim().to_string()
        }
    }
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Warnings about `[[expect]]` ports a run of `profile` (with `ports` overriding its
/// selection) does not scan: they will be neither missing nor present. Ports whose selection
/// is up to nmap's `--top-ports` list are not judged.
pub fn expect_outside_selection(
    list: &[ExpectConfig],
    profile: Profile,
    ports: Option<&PortSpec>,
) -> Vec<String> {
    let selection = match ports {
        Some(spec) => format!("profile {} with ports {spec}", profile.name()),
        None => format!("profile {}", profile.name()),
    };
    let mut out = Vec::new();
    for (i, exp) in list.iter().enumerate() {
        let outside: Vec<String> = exp
            .ports
            .iter()
            .filter_map(|p| parse_expected_port(p))
            .filter(|(proto, port)| profile.selects(ports, proto, *port) == Some(false))
            .map(|(proto, port)| format!("{port}/{proto}"))
            .collect();
        if !outside.is_empty() {
            out.push(format!(
                "expect[{i}]: {} not scanned by this run ({selection}): neither missing nor \
                 present, no alert either way",
                outside.join(", ")
            ));
        }
    }
    out
}

pub(super) fn validate_expect(list: &[ExpectConfig]) -> Result<(), ConfigError> {
    for (i, exp) in list.iter().enumerate() {
        let key = format!("expect[{i}]");
        if exp.targets.iter().all(|t| t.trim().is_empty()) {
            return Err(ConfigError::invalid(
                &format!("{key}.targets"),
                "give the addresses, CIDR blocks or targets.txt entries it applies to",
            ));
        }
        if let Some(bad) = exp.targets.iter().find(|t| t.trim().is_empty()) {
            return Err(ConfigError::invalid(
                &format!("{key}.targets"),
                format!("{:?} is empty", bad),
            ));
        }
        if let Some(bad) = exp.ports.iter().find(|p| parse_expected_port(p).is_none()) {
            return Err(ConfigError::invalid(
                &format!("{key}.ports"),
                format!(
                    "`{}` is not a port; write 22/tcp, 53/udp or 22",
                    bad.escape_debug()
                ),
            ));
        }
    }
    Ok(())
}

pub(super) fn validate_alerts(a: &AlertsConfig) -> Result<(), ConfigError> {
    if !(1..=3650).contains(&a.cert_expiry_days) {
        return Err(ConfigError::invalid(
            "alerts.cert_expiry_days",
            "must be between 1 and 3650 days",
        ));
    }
    if !(1..=MAX_GONE_AFTER_RUNS).contains(&a.gone_after_runs) {
        return Err(ConfigError::invalid(
            "alerts.gone_after_runs",
            format!("must be between 1 and {MAX_GONE_AFTER_RUNS} runs"),
        ));
    }
    Ok(())
}

/// Checks every `[[webhook]]`. The URL is never echoed (a Slack URL is itself a secret).
pub(super) fn validate_webhooks(list: &[WebhookConfig]) -> Result<(), ConfigError> {
    let mut names = std::collections::HashSet::new();
    for (i, w) in list.iter().enumerate() {
        let key = |field: &str| format!("webhook[{i}].{field}");
        if !names.insert(w.label(i)) {
            return Err(ConfigError::invalid(
                &key("name"),
                format!("{:?} is used by another webhook", w.label(i)),
            ));
        }
        let url = w.url.trim();
        let parsed = url.parse::<ureq::http::Uri>().ok();
        let scheme_ok = parsed
            .as_ref()
            .and_then(|u| u.scheme_str())
            .is_some_and(|s| s == "http" || s == "https");
        let host_ok = parsed
            .as_ref()
            .and_then(|u| u.host())
            .is_some_and(|h| !h.is_empty());
        if url.is_empty() {
            return Err(ConfigError::invalid(&key("url"), "is required"));
        }
        if !(scheme_ok && host_ok) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ConfigError::invalid(
                &key("url"),
                "must be an http:// or https:// URL with a host (value not shown: it may hold a secret)",
            ));
        }
        if !(1..=300).contains(&w.timeout) {
            return Err(ConfigError::invalid(
                &key("timeout"),
                "must be between 1 and 300 seconds",
            ));
        }
        if let Some(var) = &w.token_env {
            let mut chars = var.chars();
            let ok = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok {
                return Err(ConfigError::invalid(
                    &key("token_env"),
                    format!(
                        "`{}` is not an environment variable name (letters, digits, _)",
                        var.escape_debug()
                    ),
                ));
            }
        }
        for (name, value) in &w.headers {
            if name.is_empty() || !name.chars().all(is_token_char) {
                return Err(ConfigError::invalid(
                    &key("headers"),
                    format!("`{}` is not a header name", name.escape_debug()),
                ));
            }
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return Err(ConfigError::invalid(
                    &key("headers"),
                    format!("the value of `{name}` holds a control character"),
                ));
            }
            if w.token_env.is_some() && name.eq_ignore_ascii_case("authorization") {
                return Err(ConfigError::invalid(
                    &key("headers"),
                    "Authorization is set from token_env; do not set it here as well",
                ));
            }
        }
    }
    Ok(())
}

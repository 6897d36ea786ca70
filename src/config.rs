//! Configuration: `config.toml`, then environment overrides, then CLI flags, validated once at
//! start-up. A bad value stops the program with a message naming the key and the reason, so
//! a typo never silently falls back to a default.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize};

mod alerting;
mod database;
mod notify;
mod tls;
use crate::logging::LogLevel;
use crate::model::Severity;
use crate::profile::{NmapTuning, PortSpec, Profile, ProfileError};
use crate::target::NetworkPolicy;
pub use alerting::{AlertsConfig, ExpectConfig, ExpectedPorts, WebhookConfig, WebhookFormat};
pub use database::{Database, PostgresUrl, TlsVerify};
pub use notify::{EmailConfig, EmailTls, NotifyConfig, parse_age};
pub use tls::TlsConfig;

/// The file looked for in the working directory when neither `--config` nor `SCANNER_CONFIG`
/// names one.
pub const DEFAULT_CONFIG_FILE: &str = "config.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// `key` is a config file key (`api.tokens`) or an environment variable
    /// (`SCANNER_API_TOKENS`), whichever the bad value came from.
    #[error("{}: {reason}", key_label(.key))]
    Invalid { key: String, reason: String },
}

/// "config key `api.tokens`" or "environment variable `SCANNER_API_TOKENS`".
fn key_label(key: &str) -> String {
    if key.starts_with("SCANNER_") {
        format!("environment variable `{key}`")
    } else {
        format!("config key `{key}`")
    }
}

impl ConfigError {
    fn invalid(key: &str, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.to_string(),
            reason: reason.into(),
        }
    }
}

/// Every setting, with the defaults of the reference design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub output_dir: PathBuf,
    /// SQLite file or `postgres://` URL; `<output_dir>/scans.db` when unset.
    pub database: Option<PathBuf>,
    #[serde(deserialize_with = "deserialize_log_level")]
    pub log_level: LogLevel,
    pub nmap_path: PathBuf,
    /// Seconds one nmap process may run before its process group is killed.
    pub nmap_timeout: u64,
    pub nmap_timing: String,
    pub nmap_max_retries: u32,
    pub nmap_host_timeout: String,
    pub nmap_min_rate: u32,
    pub nmap_max_rate: u32,
    /// Ask nmap for reverse DNS names (`-n` when false: faster, and no lookups leave the host).
    pub nmap_reverse_dns: bool,
    pub allowed_networks: Vec<IpNet>,
    pub denied_networks: Vec<IpNet>,
    pub api: ApiConfig,
    pub batch: BatchConfig,
    /// `[port_severity]`: severity of an open port by number (`"8080" = "high"`), on top of the
    /// built-in table (3389 critical; 22, 23, 445, 5900 high; 21, 3306, 5432 medium; others low).
    pub port_severity: BTreeMap<String, Severity>,
    /// `[[expect]]`: ports expected open on some targets; any other open port on them is an
    /// `unexpected_port` alert (at least high, and 10 more points off the score), and an
    /// expected port that is not open is `expected_port_missing`.
    pub expect: Vec<ExpectConfig>,
    /// `[alerts]`.
    pub alerts: AlertsConfig,
    /// `[tls]`: the TLS pass and what counts as weak.
    pub tls: TlsConfig,
    /// `[[webhook]]`: where new alerts are sent after each run.
    pub webhook: Vec<WebhookConfig>,
    /// `[[email]]`: mailboxes told about each run that raised or resolved alerts.
    pub email: Vec<EmailConfig>,
    /// `[notify]`: how long undelivered notifications are retried.
    pub notify: NotifyConfig,
    /// The dashboard's address as people reach it (links in mails and payloads).
    pub public_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    pub bind: String,
    /// nmap processes alive at once, all requests together.
    pub max_concurrent_scans: usize,
    /// Seconds a request may wait for scan capacity before a 503.
    pub queue_timeout: u64,
    /// Largest `ports` selection one request may ask for.
    pub max_ports: u32,
    /// Requests per minute per client address; 0 disables the limit.
    pub rate_limit_per_minute: u32,
    /// Bearer tokens; empty means no authentication (the default bind is loopback only).
    pub tokens: Vec<String>,
    /// Bearer tokens that may only read (dashboard, snapshots, deltas, alerts), not scan or
    /// act on alerts.
    pub read_tokens: Vec<String>,
    /// Open client connections at once (one thread each); the next one gets 503 and is closed.
    pub max_connections: usize,
    /// `Host` values (`name:port`) a request may carry; empty means the bind address,
    /// `localhost`, `127.0.0.1` and `[::1]`, each with the bind port (DNS rebinding guard).
    pub allowed_hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchConfig {
    #[serde(deserialize_with = "deserialize_profile")]
    pub profile: Profile,
    /// Optional port spec overriding the profile's port selection.
    pub ports: String,
    pub parallel: usize,
    pub chunk_size: usize,
    pub max_hosts_per_run: usize,
    /// Snapshots older than this many days are deleted after a run; 0 keeps everything.
    pub retention_days: u32,
    /// Re-check candidate closures, disappearances and service changes with one targeted nmap
    /// run before the run commits; what does not hold is not reported.
    pub confirm: bool,
    /// At most this many (address, port) pairs re-checked a run; the rest are "not compared".
    pub confirm_max: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            output_dir: PathBuf::from("scan_results"),
            database: None,
            log_level: LogLevel::Info,
            nmap_path: PathBuf::from("nmap"),
            nmap_timeout: 300,
            nmap_timing: "-T4".to_string(),
            nmap_max_retries: 2,
            nmap_host_timeout: "10m".to_string(),
            nmap_min_rate: 800,
            nmap_max_rate: 2000,
            nmap_reverse_dns: false,
            allowed_networks: loopback_networks(),
            denied_networks: Vec::new(),
            api: ApiConfig::default(),
            batch: BatchConfig::default(),
            port_severity: BTreeMap::new(),
            expect: Vec::new(),
            alerts: AlertsConfig::default(),
            tls: TlsConfig::default(),
            webhook: Vec::new(),
            email: Vec::new(),
            notify: NotifyConfig::default(),
            public_url: None,
        }
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            bind: "127.0.0.1:5000".to_string(),
            max_concurrent_scans: 8,
            queue_timeout: 30,
            max_ports: 1000,
            rate_limit_per_minute: 60,
            tokens: Vec::new(),
            read_tokens: Vec::new(),
            max_connections: 256,
            allowed_hosts: Vec::new(),
        }
    }
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            profile: Profile::Default,
            ports: String::new(),
            parallel: 4,
            chunk_size: 256,
            max_hosts_per_run: 65536,
            retention_days: 0,
            confirm: true,
            confirm_max: 1000,
        }
    }
}

/// `log_level` from the file, `SCANNER_LOG_LEVEL` or `--log-level`: one parser, one message.
fn parse_log_level(text: &str) -> Result<LogLevel, ConfigError> {
    text.parse().map_err(|e: crate::logging::UnknownLogLevel| {
        ConfigError::invalid("log_level", e.to_string())
    })
}

/// `batch.profile` from the file or `--profile`: one parser, one message.
fn parse_profile(text: &str) -> Result<Profile, ConfigError> {
    text.trim().parse().map_err(|e: ProfileError| {
        ConfigError::invalid(
            "batch.profile",
            format!("{e} (from --profile or [batch] profile)"),
        )
    })
}

fn deserialize_log_level<'de, D: Deserializer<'de>>(d: D) -> Result<LogLevel, D::Error> {
    parse_log_level(&String::deserialize(d)?).map_err(serde::de::Error::custom)
}

fn deserialize_profile<'de, D: Deserializer<'de>>(d: D) -> Result<Profile, D::Error> {
    parse_profile(&String::deserialize(d)?).map_err(serde::de::Error::custom)
}

fn loopback_networks() -> Vec<IpNet> {
    ["127.0.0.0/8", "::1/128"]
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// Values given on the command line; they win over the environment and the file.
#[derive(Debug, Clone, Default)]
pub struct CliOverrides {
    pub config: Option<PathBuf>,
    pub output_dir: Option<PathBuf>,
    pub database: Option<PathBuf>,
    pub log_level: Option<String>,
    pub nmap_path: Option<PathBuf>,
    pub nmap_timeout: Option<u64>,
    pub bind: Option<String>,
    pub profile: Option<String>,
    pub ports: Option<String>,
    pub parallel: Option<usize>,
    /// `--tls` (true) / `--no-tls` (false): `[tls] enabled` for this run.
    pub tls: Option<bool>,
}

impl Config {
    /// Loads the configuration from the process environment and `cli`.
    pub fn load(cli: &CliOverrides) -> Result<Config, ConfigError> {
        Self::load_with(cli, |key| std::env::var(key).ok())
    }

    /// Like [`Config::load`] with an explicit environment, so precedence is testable.
    pub fn load_with(
        cli: &CliOverrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let file = cli
            .config
            .clone()
            .or_else(|| env("SCANNER_CONFIG").map(PathBuf::from))
            .or_else(|| {
                let default = PathBuf::from(DEFAULT_CONFIG_FILE);
                default.is_file().then_some(default)
            });
        let mut config = match file {
            Some(path) => Self::from_file(&path)?,
            None => Config::default(),
        };
        config.apply_env(&env)?;
        config.apply_cli(cli)?;
        config.validate()?;
        Ok(config)
    }

    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses TOML text; the error names the offending key and line (toml's own message).
    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())
    }

    fn apply_env(&mut self, env: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = env("SCANNER_OUTPUT_DIR") {
            self.output_dir = PathBuf::from(v);
        }
        if let Some(v) = env("SCANNER_LOG_LEVEL") {
            self.log_level = parse_log_level(&v)?;
        }
        if let Some(v) = env("SCANNER_NMAP_TIMEOUT") {
            self.nmap_timeout = v.trim().parse().map_err(|_| {
                ConfigError::invalid(
                    "SCANNER_NMAP_TIMEOUT",
                    format!("`{v}` is not a whole number of seconds"),
                )
            })?;
        }
        if let Some(v) = env("SCANNER_DATABASE") {
            self.database = Some(PathBuf::from(v));
        }
        if let Some(v) = env("SCANNER_BIND") {
            self.api.bind = v;
        }
        // Checked here so that a bad token names the variable it came from, not the file key.
        if let Some(v) = env("SCANNER_API_TOKENS") {
            self.api.tokens = token_list(&v);
            check_tokens("SCANNER_API_TOKENS", &self.api.tokens)?;
        }
        if let Some(v) = env("SCANNER_API_READ_TOKENS") {
            self.api.read_tokens = token_list(&v);
            check_tokens("SCANNER_API_READ_TOKENS", &self.api.read_tokens)?;
        }
        Ok(())
    }

    fn apply_cli(&mut self, cli: &CliOverrides) -> Result<(), ConfigError> {
        if let Some(v) = &cli.output_dir {
            self.output_dir = v.clone();
        }
        if let Some(v) = &cli.database {
            self.database = Some(v.clone());
        }
        if let Some(v) = &cli.log_level {
            self.log_level = parse_log_level(v)?;
        }
        if let Some(v) = &cli.nmap_path {
            self.nmap_path = v.clone();
        }
        if let Some(v) = cli.nmap_timeout {
            self.nmap_timeout = v;
        }
        if let Some(v) = &cli.bind {
            self.api.bind = v.clone();
        }
        if let Some(v) = &cli.profile {
            self.batch.profile = parse_profile(v)?;
        }
        if let Some(v) = &cli.ports {
            self.batch.ports = v.clone();
        }
        if let Some(v) = cli.parallel {
            self.batch.parallel = v;
        }
        if let Some(v) = cli.tls {
            self.tls.enabled = v;
        }
        Ok(())
    }

    /// Checks every value once, so the rest of the program can trust them.
    /// The nmap timing settings as the runner takes them (validated by [`Config::validate`]).
    pub fn nmap_tuning(&self) -> NmapTuning {
        NmapTuning {
            timing: self.nmap_timing.clone(),
            max_retries: self.nmap_max_retries,
            host_timeout: self.nmap_host_timeout.clone(),
            min_rate: self.nmap_min_rate,
            max_rate: self.nmap_max_rate,
            reverse_dns: self.nmap_reverse_dns,
        }
    }

    /// The networks targets must fall in, and those they must not.
    pub fn network_policy(&self) -> NetworkPolicy {
        NetworkPolicy {
            allowed: self.allowed_networks.clone(),
            denied: self.denied_networks.clone(),
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.output_dir.as_os_str().is_empty() {
            return Err(ConfigError::invalid("output_dir", "must not be empty"));
        }
        if self.nmap_path.as_os_str().is_empty() {
            return Err(ConfigError::invalid("nmap_path", "must not be empty"));
        }
        if !(1..=86_400).contains(&self.nmap_timeout) {
            return Err(ConfigError::invalid(
                "nmap_timeout",
                "must be between 1 and 86400 seconds",
            ));
        }
        if self.allowed_networks.is_empty() {
            return Err(ConfigError::invalid(
                "allowed_networks",
                "must list at least one network (the default is loopback only)",
            ));
        }
        self.api
            .bind
            .parse::<SocketAddr>()
            .map_err(|_| {
                ConfigError::invalid(
                    "api.bind",
                    format!("`{}` is not an address:port", self.api.bind),
                )
            })
            .map(drop)?;
        if !(1..=256).contains(&self.api.max_concurrent_scans) {
            return Err(ConfigError::invalid(
                "api.max_concurrent_scans",
                "must be between 1 and 256",
            ));
        }
        if !(2..=4096).contains(&self.api.max_connections) {
            return Err(ConfigError::invalid(
                "api.max_connections",
                "must be between 2 and 4096",
            ));
        }
        if let Some(bad) = self.api.allowed_hosts.iter().find(|h| {
            h.is_empty()
                || h.bytes()
                    .any(|b| !(b.is_ascii_alphanumeric() || b"-.:[]".contains(&b)))
        }) {
            return Err(ConfigError::invalid(
                "api.allowed_hosts",
                format!("`{bad}` is not a host[:port] (letters, digits, `-.:[]`)"),
            ));
        }
        if self.api.queue_timeout > 3600 {
            return Err(ConfigError::invalid(
                "api.queue_timeout",
                "must be at most 3600 seconds",
            ));
        }
        if !(1..=65535).contains(&self.api.max_ports) {
            return Err(ConfigError::invalid(
                "api.max_ports",
                "must be between 1 and 65535",
            ));
        }
        check_tokens("api.tokens", &self.api.tokens)?;
        check_tokens("api.read_tokens", &self.api.read_tokens)?;
        if !(1..=64).contains(&self.batch.parallel) {
            return Err(ConfigError::invalid(
                "batch.parallel",
                "must be between 1 and 64",
            ));
        }
        if !(1..=65536).contains(&self.batch.chunk_size) {
            return Err(ConfigError::invalid(
                "batch.chunk_size",
                "must be between 1 and 65536",
            ));
        }
        if !(1..=1_000_000).contains(&self.batch.confirm_max) {
            return Err(ConfigError::invalid(
                "batch.confirm_max",
                "must be between 1 and 1000000",
            ));
        }
        if !(1..=16_777_216).contains(&self.batch.max_hosts_per_run) {
            return Err(ConfigError::invalid(
                "batch.max_hosts_per_run",
                "must be between 1 and 16777216",
            ));
        }
        if let Err(e) = self.nmap_tuning().validate() {
            return Err(match e {
                ProfileError::InvalidTuning { key, reason } => ConfigError::invalid(key, reason),
                other => ConfigError::invalid("nmap", other.to_string()),
            });
        }
        if !self.batch.ports.trim().is_empty()
            && let Err(e) = PortSpec::parse(self.batch.ports.trim(), None)
        {
            return Err(ConfigError::invalid(
                "batch.ports",
                format!("{e} (from --ports or [batch] ports)"),
            ));
        }
        if let Some(bad) = self
            .port_severity
            .keys()
            .find(|k| k.parse::<u16>().is_err())
        {
            return Err(ConfigError::invalid(
                "port_severity",
                format!("`{}` is not a port number (0-65535)", bad.escape_debug()),
            ));
        }
        if let Some(db) = &self.database {
            Database::parse(db).map_err(|e| ConfigError::invalid("database", e))?;
        }
        alerting::validate_expect(&self.expect)?;
        alerting::validate_alerts(&self.alerts)?;
        tls::validate_tls(&self.tls)?;
        alerting::validate_webhooks(&self.webhook)?;
        let mut names = (0..self.webhook.len())
            .map(|i| self.webhook[i].label(i))
            .collect();
        notify::validate_emails(&self.email, &mut names)?;
        notify::validate_notify(&self.notify, self.public_url.as_deref())?;
        Ok(())
    }

    /// What a run with this configuration should know but that is not an error: `[[expect]]`
    /// ports outside `[batch]`'s port selection (`--ports` included).
    pub fn warnings(&self) -> Vec<String> {
        let ports = PortSpec::parse(self.batch.ports.trim(), None).ok();
        alerting::expect_outside_selection(&self.expect, self.batch.profile, ports.as_ref())
    }

    /// The SQLite file: `database` when set, else `<output_dir>/scans.db`. Meaningful only
    /// when [`Config::database`] is SQLite.
    pub fn database_path(&self) -> PathBuf {
        self.database
            .clone()
            .unwrap_or_else(|| self.output_dir.join("scans.db"))
    }

    /// `database` told apart: a SQLite file (the default) or a PostgreSQL URL. Checked by
    /// `validate`, so it cannot fail on a loaded configuration; a bad URL here falls back to
    /// being a file name only in a hand-built `Config`.
    pub fn database(&self) -> Database {
        let path = self.database_path();
        Database::parse(&path).unwrap_or(Database::Sqlite(path))
    }

    pub fn nmap_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.nmap_timeout)
    }
}

/// A comma list of tokens from the environment, blanks dropped.
fn token_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every token at least 16 characters without whitespace; the error names `key` (the file key
/// or the environment variable) and only the token's first characters.
fn check_tokens(key: &'static str, tokens: &[String]) -> Result<(), ConfigError> {
    match tokens
        .iter()
        .find(|t| t.len() < 16 || t.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        Some(bad) => {
            let shown: String = bad.chars().take(4).collect();
            Err(ConfigError::invalid(
                key,
                format!(
                    "token starting `{shown}` must be at least 16 characters with no whitespace"
                ),
            ))
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;

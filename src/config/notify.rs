//! The notification part of the configuration beyond webhooks: `[[email]]`, `[notify]` and
//! `public_url`, with their validation.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::model::{AlertKind, Severity};

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTls {
    /// Plain connection upgraded with STARTTLS (required: a server without it is an error).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// No encryption: only for a relay on a loopback address.
    None,
}

impl EmailTls {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailTls::Starttls => "starttls",
            EmailTls::Tls => "tls",
            EmailTls::None => "none",
        }
    }
}

/// One `[[email]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// Shown in logs and deliveries; unique among webhooks and emails.
    pub name: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub tls: EmailTls,
    /// SMTP login; with `password_env` (both or neither).
    pub username: Option<String>,
    /// Name of the environment variable holding the password (never stored or logged).
    pub password_env: Option<String>,
    /// A PEM file of extra CA certificates trusted for this server.
    pub ca_file: Option<PathBuf>,
    pub from: String,
    pub to: Vec<String>,
    /// Only alerts at least this severe are mailed.
    pub min_severity: Severity,
    /// Only alerts of these kinds are mailed; empty mails every kind.
    pub kinds: Vec<AlertKind>,
    /// Seconds one SMTP conversation may take.
    pub timeout: u64,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            name: String::new(),
            smtp_host: String::new(),
            smtp_port: 587,
            tls: EmailTls::Starttls,
            username: None,
            password_env: None,
            ca_file: None,
            from: String::new(),
            to: Vec::new(),
            min_severity: Severity::Info,
            kinds: Vec::new(),
            timeout: 30,
        }
    }
}

impl EmailConfig {
    /// `name`, or `email[i]` when none was given.
    pub fn label(&self, index: usize) -> String {
        if self.name.trim().is_empty() {
            format!("email[{index}]")
        } else {
            self.name.trim().to_string()
        }
    }

    /// `smtp://host:port`: what deliveries record.
    pub fn endpoint(&self) -> String {
        format!("smtp://{}:{}", self.smtp_host.trim(), self.smtp_port)
    }
}

/// `[notify]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// How long an undelivered notification is retried (`90s`, `30m`, `12h`, `3d`); older
    /// ones are marked expired.
    pub max_age: String,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            max_age: "3d".to_string(),
        }
    }
}

impl NotifyConfig {
    /// `max_age` in seconds (the default's when it does not parse; validation refuses that).
    pub fn max_age_secs(&self) -> i64 {
        parse_age(&self.max_age).unwrap_or(3 * 86_400)
    }
}

/// `90s`, `30m`, `12h`, `3d` (a number and one unit) in seconds.
pub fn parse_age(text: &str) -> Option<i64> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: i64 = text[..text.len() - unit.len_utf8()].trim().parse().ok()?;
    let factor = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    (number > 0).then(|| number.saturating_mul(factor))
}

fn is_env_name(var: &str) -> bool {
    let mut chars = var.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A mailbox as written in `from`/`to`: `a@b` or `Name <a@b>`, no control characters.
fn is_mailbox(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty()
        && !t.chars().any(char::is_control)
        && t.parse::<lettre::message::Mailbox>().is_ok()
}

fn is_loopback_host(host: &str) -> bool {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub(super) fn validate_notify(
    n: &NotifyConfig,
    public_url: Option<&str>,
) -> Result<(), ConfigError> {
    match parse_age(&n.max_age) {
        Some(s) if s <= 366 * 86_400 => {}
        _ => {
            return Err(ConfigError::invalid(
                "notify.max_age",
                format!(
                    "`{}` is not an age up to 366d; write e.g. 90s, 30m, 12h or 3d",
                    n.max_age.escape_debug()
                ),
            ));
        }
    }
    if let Some(url) = public_url {
        let ok = (url.starts_with("http://") || url.starts_with("https://"))
            && url
                .parse::<ureq::http::Uri>()
                .ok()
                .and_then(|u| u.host().map(str::to_string))
                .is_some_and(|h| !h.is_empty())
            && !url
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>\"'".contains(c));
        if !ok {
            return Err(ConfigError::invalid(
                "public_url",
                "must be an http:// or https:// URL with a host (e.g. https://scanner.example.org)",
            ));
        }
    }
    Ok(())
}

/// Checks every `[[email]]`; `taken` holds the webhook names (names are shared).
pub(super) fn validate_emails(
    list: &[EmailConfig],
    taken: &mut std::collections::HashSet<String>,
) -> Result<(), ConfigError> {
    for (i, e) in list.iter().enumerate() {
        let key = |field: &str| format!("email[{i}].{field}");
        if !taken.insert(e.label(i)) {
            return Err(ConfigError::invalid(
                &key("name"),
                format!("{:?} is used by another webhook or email", e.label(i)),
            ));
        }
        let host = e.smtp_host.trim();
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        {
            return Err(ConfigError::invalid(
                &key("smtp_host"),
                "must be a host name or address",
            ));
        }
        if e.smtp_port == 0 {
            return Err(ConfigError::invalid(&key("smtp_port"), "must be 1-65535"));
        }
        if e.tls == EmailTls::None && !is_loopback_host(host) {
            return Err(ConfigError::invalid(
                &key("tls"),
                "\"none\" is only for a relay on a loopback address; use \"starttls\" or \"tls\"",
            ));
        }
        if e.username.is_some() != e.password_env.is_some() {
            return Err(ConfigError::invalid(
                &key("password_env"),
                "give both username and password_env, or neither",
            ));
        }
        if let Some(var) = &e.password_env
            && !is_env_name(var)
        {
            return Err(ConfigError::invalid(
                &key("password_env"),
                format!(
                    "`{}` is not an environment variable name (letters, digits, _)",
                    var.escape_debug()
                ),
            ));
        }
        if !is_mailbox(&e.from) {
            return Err(ConfigError::invalid(
                &key("from"),
                "must be a mail address (a@example.org or Name <a@example.org>)",
            ));
        }
        if e.to.is_empty() {
            return Err(ConfigError::invalid(
                &key("to"),
                "give at least one address",
            ));
        }
        if let Some(bad) = e.to.iter().find(|t| !is_mailbox(t)) {
            return Err(ConfigError::invalid(
                &key("to"),
                format!("`{}` is not a mail address", bad.escape_debug()),
            ));
        }
        if !(1..=300).contains(&e.timeout) {
            return Err(ConfigError::invalid(
                &key("timeout"),
                "must be between 1 and 300 seconds",
            ));
        }
    }
    Ok(())
}

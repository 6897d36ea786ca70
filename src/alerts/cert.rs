//! The certificate and TLS kinds: `cert_expiring`, `cert_expired`, `weak_tls`, `self_signed`
//! (state kinds) and `cert_changed` (a change kind), from a port's [`TlsInfo`] as the TLS pass
//! read it (`ssl-cert`, `ssl-enum-ciphers`).
//!
//! Expiry comes from the structured `notAfter`; for ports without it (an nmap XML imported
//! from elsewhere) ssl-cert's text line `Not valid after:  2026-01-31T23:59:59` (UTC, no zone)
//! is read instead. An output without a readable date is "no certificate seen", never guessed.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::{AlertRules, Condition, port_key};
use crate::model::{AlertKind, CertInfo, Port, Severity, TlsInfo};

/// Within this many days `cert_expiring` is high rather than medium.
pub const URGENT_DAYS: i64 = 7;

/// The certificate's end of validity, from ssl-cert's text output.
pub fn not_valid_after(output: &str) -> Option<Timestamp> {
    let line = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("Not valid after:"))?;
    utc_time(line)
}

/// nmap's validity times: `2026-01-31T23:59:59`, with or without a trailing `Z`.
pub fn utc_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts);
    }
    let text = text.strip_suffix('Z').unwrap_or(text);
    let civil: DateTime = text.parse().ok()?;
    civil.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
}

/// How close a certificate is to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertExpiry {
    Expired { days_ago: i64 },
    Expiring { days_left: i64 },
    Fine,
}

impl CertExpiry {
    pub fn of(not_after: Timestamp, now: Timestamp, threshold_days: u32) -> CertExpiry {
        let left: SignedDuration = not_after.duration_since(now);
        let days = left.as_secs() / 86_400;
        if left.is_negative() {
            CertExpiry::Expired { days_ago: -days }
        } else if left.as_secs() <= i64::from(threshold_days) * 86_400 {
            CertExpiry::Expiring { days_left: days }
        } else {
            CertExpiry::Fine
        }
    }
}

/// Whole days from `now` to `not_after` (negative once expired).
pub fn days_left(not_after: Timestamp, now: Timestamp) -> i64 {
    not_after.duration_since(now).as_secs().div_euclid(86_400)
}

/// The certificate a port showed last time, for `cert_changed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenCert {
    pub sha256: String,
    pub issuer: String,
}

/// The state conditions of one open port whose certificate or ciphers were examined.
pub(super) fn conditions(ip: &str, p: &Port, rules: &AlertRules) -> Vec<Condition> {
    let proto = p.protocol.to_ascii_lowercase();
    let at = format!("{ip}: {}/{proto}", p.portid);
    let cond = |kind, severity, message: String| Condition {
        key: port_key(kind, ip, &proto, p.portid),
        severity,
        message,
    };
    let mut out = Vec::new();
    let cert = p.tls.as_ref().and_then(|t| t.cert.as_ref());
    let not_after = cert
        .and_then(|c| utc_time(&c.not_after))
        .or_else(|| ssl_cert_output(p).and_then(not_valid_after));
    if let Some(not_after) = not_after {
        let date = not_after.strftime("%Y-%m-%d %H:%M UTC");
        match CertExpiry::of(not_after, rules.now, rules.cert_expiry_days) {
            CertExpiry::Fine => {}
            CertExpiry::Expired { days_ago } => out.push(cond(
                AlertKind::CertExpired,
                Severity::High,
                format!("{at} TLS certificate expired on {date} ({days_ago} days ago)"),
            )),
            CertExpiry::Expiring { days_left } => out.push(cond(
                AlertKind::CertExpiring,
                if days_left < URGENT_DAYS {
                    Severity::High
                } else {
                    Severity::Medium
                },
                format!("{at} TLS certificate expires on {date} (in {days_left} days)"),
            )),
        }
    }
    if let Some(c) = cert.filter(|c| rules.self_signed && c.self_signed) {
        out.push(cond(
            AlertKind::SelfSigned,
            Severity::Low,
            format!("{at} TLS certificate is self-signed ({})", subject(c)),
        ));
    }
    if let Some(why) = p.tls.as_ref().and_then(|t| weakness(t, rules)) {
        out.push(cond(
            AlertKind::WeakTls,
            Severity::Medium,
            format!("{at} {why}"),
        ));
    }
    out
}

/// Why a port's TLS is weak: legacy versions offered, or a grade below `[tls] min_grade`.
fn weakness(t: &TlsInfo, rules: &AlertRules) -> Option<String> {
    let legacy = t.legacy_versions();
    let low = t.least_grade.filter(|g| g.below(rules.min_grade));
    let mut why = Vec::new();
    if !legacy.is_empty() {
        why.push(format!("offers {}", legacy.join(", ")));
    }
    if let Some(g) = low {
        why.push(format!(
            "weakest cipher grade {g} (below {})",
            rules.min_grade
        ));
    }
    (!why.is_empty()).then(|| format!("weak TLS: {}", why.join("; ")))
}

/// `cert_changed` when the port's certificate is not the one it showed last time.
pub(super) fn change(ip: &str, p: &Port, before: Option<&SeenCert>) -> Option<Condition> {
    let cert = p.tls.as_ref()?.cert.as_ref()?;
    let before = before?;
    if cert.sha256.is_empty() || before.sha256.is_empty() || cert.sha256 == before.sha256 {
        return None;
    }
    let proto = p.protocol.to_ascii_lowercase();
    let issuer_changed = cert.issuer != before.issuer;
    let message = if issuer_changed {
        format!(
            "{ip}: {}/{proto} TLS certificate changed ({}), issuer now {} (was {})",
            p.portid,
            subject(cert),
            cert.issuer,
            before.issuer
        )
    } else {
        format!(
            "{ip}: {}/{proto} TLS certificate changed ({}, same issuer)",
            p.portid,
            subject(cert)
        )
    };
    Some(Condition {
        key: port_key(AlertKind::CertChanged, ip, &proto, p.portid),
        severity: if issuer_changed {
            Severity::Medium
        } else {
            Severity::Info
        },
        message,
    })
}

fn subject(c: &CertInfo) -> String {
    if c.subject_cn.is_empty() {
        "no subject common name".to_string()
    } else {
        format!("CN={}", c.subject_cn)
    }
}

pub(super) fn ssl_cert_output(p: &Port) -> Option<&str> {
    p.scripts
        .iter()
        .find(|s| s.id == "ssl-cert")
        .map(|s| s.output.as_str())
}

/// Whether the run examined the port's certificate (ssl-cert reported on it).
pub(super) fn cert_examined(p: &Port) -> bool {
    ssl_cert_output(p).is_some() || p.tls.as_ref().is_some_and(|t| t.cert.is_some())
}

/// Whether the run examined the port's protocols (ssl-enum-ciphers reported on it).
pub(super) fn ciphers_examined(p: &Port) -> bool {
    p.tls.as_ref().is_some_and(TlsInfo::ciphers_examined)
        || p.scripts.iter().any(|s| s.id == "ssl-enum-ciphers")
}

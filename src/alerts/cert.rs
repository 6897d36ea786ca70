//! `cert_expiring` from nmap's `ssl-cert` script output.
//!
//! The script prints, among other lines, `Not valid after:  2026-01-31T23:59:59` (UTC, no
//! zone). Anything else in the output is ignored; an output without a readable date is treated
//! as "no certificate seen" rather than guessed at.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::{AlertRules, Condition, port_key};
use crate::model::{AlertKind, Port, Severity};

/// The certificate's end of validity, from ssl-cert's output.
pub fn not_valid_after(output: &str) -> Option<Timestamp> {
    let line = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("Not valid after:"))?;
    let text = line.trim();
    let text = text.strip_suffix('Z').unwrap_or(text);
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts);
    }
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

pub(super) fn condition(ip: &str, p: &Port, output: &str, rules: &AlertRules) -> Option<Condition> {
    let not_after = not_valid_after(output)?;
    let date = not_after.strftime("%Y-%m-%d %H:%M UTC");
    let proto = p.protocol.to_ascii_lowercase();
    let (severity, message) = match CertExpiry::of(not_after, rules.now, rules.cert_expiry_days) {
        CertExpiry::Fine => return None,
        CertExpiry::Expired { days_ago } => (
            Severity::High,
            format!(
                "{ip}: {}/{proto} TLS certificate expired on {date} ({days_ago} days ago)",
                p.portid
            ),
        ),
        CertExpiry::Expiring { days_left } => (
            Severity::Medium,
            format!(
                "{ip}: {}/{proto} TLS certificate expires on {date} (in {days_left} days)",
                p.portid
            ),
        ),
    };
    Some(Condition {
        key: port_key(AlertKind::CertExpiring, ip, &proto, p.portid),
        severity,
        message,
    })
}

//! The words of alerting: what an alert is about ([`AlertKind`]), where it is in its life
//! ([`AlertStatus`]) and what an operator may do to it ([`AlertAction`]). Config (webhook
//! filters), store (rows), alerts (rules), report and API all speak them; which action is
//! allowed from which status is an alert rule (`alerts::lifecycle`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    PortOpened,
    PortClosed,
    UnexpectedPort,
    RiskyPortOpen,
    ExpectedPortMissing,
    NewHost,
    HostGone,
    ServiceChanged,
    CertExpiring,
    CertExpired,
    CertChanged,
    WeakTls,
    SelfSigned,
}

impl AlertKind {
    pub const ALL: [AlertKind; 13] = [
        AlertKind::PortOpened,
        AlertKind::PortClosed,
        AlertKind::UnexpectedPort,
        AlertKind::RiskyPortOpen,
        AlertKind::ExpectedPortMissing,
        AlertKind::NewHost,
        AlertKind::HostGone,
        AlertKind::ServiceChanged,
        AlertKind::CertExpiring,
        AlertKind::CertExpired,
        AlertKind::CertChanged,
        AlertKind::WeakTls,
        AlertKind::SelfSigned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::PortOpened => "port_opened",
            AlertKind::PortClosed => "port_closed",
            AlertKind::UnexpectedPort => "unexpected_port",
            AlertKind::RiskyPortOpen => "risky_port_open",
            AlertKind::ExpectedPortMissing => "expected_port_missing",
            AlertKind::NewHost => "new_host",
            AlertKind::HostGone => "host_gone",
            AlertKind::ServiceChanged => "service_changed",
            AlertKind::CertExpiring => "cert_expiring",
            AlertKind::CertExpired => "cert_expired",
            AlertKind::CertChanged => "cert_changed",
            AlertKind::WeakTls => "weak_tls",
            AlertKind::SelfSigned => "self_signed",
        }
    }
}

/// Where an alert is in its life:
///
/// ```text
/// open --ack--> actioned          open | actioned --ignore--> ignored --unignore--> open
/// ```
///
/// `resolved` is only ever set by a run that covered the address and no longer sees the
/// condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Open,
    Actioned,
    Ignored,
    Resolved,
}

impl AlertStatus {
    pub const ALL: [AlertStatus; 4] = [
        AlertStatus::Open,
        AlertStatus::Actioned,
        AlertStatus::Ignored,
        AlertStatus::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Actioned => "actioned",
            AlertStatus::Ignored => "ignored",
            AlertStatus::Resolved => "resolved",
        }
    }
}

/// An operator's action on an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertAction {
    Ack,
    Ignore,
    Unignore,
}

impl AlertAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertAction::Ack => "ack",
            AlertAction::Ignore => "ignore",
            AlertAction::Unignore => "unignore",
        }
    }
}

impl fmt::Display for AlertAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! text_enum {
    ($ty:ty, $err:ident, $what:literal, $expected:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("unknown {what} {0:?}: expected {expected}", what = $what, expected = $expected)]
        pub struct $err(pub String);

        impl FromStr for $ty {
            type Err = $err;

            /// Exact lower-case names, as stored and as written in URLs and on the command line.
            fn from_str(s: &str) -> Result<Self, $err> {
                <$ty>::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $err(s.to_string()))
            }
        }
    };
}

text_enum!(
    AlertKind,
    UnknownAlertKind,
    "alert kind",
    "port_opened, port_closed, unexpected_port, risky_port_open, expected_port_missing, \
     new_host, host_gone, \
     service_changed, cert_expiring, cert_expired, cert_changed, weak_tls or self_signed"
);
text_enum!(
    AlertStatus,
    UnknownAlertStatus,
    "alert status",
    "open, actioned, ignored or resolved"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_round_trip_as_text() {
        for kind in AlertKind::ALL {
            assert_eq!(kind.as_str().parse::<AlertKind>().unwrap(), kind);
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
        for status in AlertStatus::ALL {
            assert_eq!(status.as_str().parse::<AlertStatus>().unwrap(), status);
        }
        let err = "Open".parse::<AlertStatus>().unwrap_err();
        assert!(err.to_string().contains("open, actioned"), "{err}");
        assert!("port-opened".parse::<AlertKind>().is_err());
    }
}

//! What a TLS port showed: its certificate and the protocol versions and cipher grade it
//! offers, as read from nmap's `ssl-cert` and `ssl-enum-ciphers` scripts. Pure data: the
//! parser (`nmap::xml`) fills it, the store keeps it, alerts judge it, reports show it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One TLS port's certificate and protocol facts. Every field is optional in practice (an
/// empty string or `None`): a script may not run, or may not report a field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsInfo {
    /// The certificate, when `ssl-cert` reported one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<CertInfo>,
    /// Protocol versions `ssl-enum-ciphers` saw offered (`TLSv1.0` .. `TLSv1.3`, `SSLv3`),
    /// oldest first; empty when the script did not run or saw nothing.
    #[serde(default)]
    pub versions: Vec<String>,
    /// `ssl-enum-ciphers`' "least strength": the worst cipher grade offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub least_grade: Option<Grade>,
}

impl TlsInfo {
    /// Whether `ssl-enum-ciphers` gave a result (versions or a grade).
    pub fn ciphers_examined(&self) -> bool {
        !self.versions.is_empty() || self.least_grade.is_some()
    }

    /// The offered versions older than TLS 1.2 (SSLv3, TLSv1.0, TLSv1.1).
    pub fn legacy_versions(&self) -> Vec<&str> {
        self.versions
            .iter()
            .map(String::as_str)
            .filter(|v| matches!(*v, "SSLv2" | "SSLv3" | "TLSv1.0" | "TLSv1.1"))
            .collect()
    }
}

/// A certificate's identity and validity. Times are RFC 3339 UTC text as nmap prints them
/// (`2026-12-10T07:42:41`), normalised to end in `Z`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertInfo {
    pub subject_cn: String,
    /// The issuer's name fields, `commonName=Example CA/organizationName=Example`.
    pub issuer: String,
    /// Subject alternative names as the certificate lists them (`DNS:a.example`, `IP
    /// Address:127.0.0.1`).
    pub sans: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    /// Subject and issuer names are the same.
    pub self_signed: bool,
    /// `rsa`, `ec`, ...
    pub key_type: String,
    pub key_bits: Option<u32>,
    pub signature_algorithm: String,
    /// SHA-256 of the DER certificate, lower-case hex: the certificate's identity.
    pub sha256: String,
}

/// `ssl-enum-ciphers`' letter grade, A (best) to F.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Grade {
    A,
    B,
    C,
    D,
    E,
    F,
}

impl Grade {
    pub const ALL: [Grade; 6] = [Grade::A, Grade::B, Grade::C, Grade::D, Grade::E, Grade::F];

    pub fn as_str(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
            Grade::E => "E",
            Grade::F => "F",
        }
    }

    /// Whether this grade is worse than `min` (F is worse than C).
    pub fn below(self, min: Grade) -> bool {
        self > min
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown TLS grade {0:?}: expected one of A, B, C, D, E, F")]
pub struct UnknownGrade(pub String);

impl FromStr for Grade {
    type Err = UnknownGrade;

    /// One letter, either case.
    fn from_str(s: &str) -> Result<Self, UnknownGrade> {
        let t = s.trim();
        Grade::ALL
            .into_iter()
            .find(|g| g.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownGrade(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_order_from_best_to_worst() {
        assert!(Grade::D.below(Grade::C));
        assert!(!Grade::C.below(Grade::C));
        assert!(!Grade::A.below(Grade::C));
        assert_eq!("f".parse::<Grade>().unwrap(), Grade::F);
        assert!("Z".parse::<Grade>().is_err());
    }

    #[test]
    fn legacy_versions_are_those_before_tls_1_2() {
        let t = TlsInfo {
            versions: vec!["TLSv1.0".into(), "TLSv1.2".into(), "TLSv1.3".into()],
            ..TlsInfo::default()
        };
        assert_eq!(t.legacy_versions(), ["TLSv1.0"]);
        assert!(t.ciphers_examined());
        assert!(!TlsInfo::default().ciphers_examined());
    }
}

//! The certificates view: one row per TLS port with its certificate facts, days left and why
//! it needs attention (expired, expiring, weak). Shared by `GET /api/certificates` (JSON and
//! CSV), the dashboard's certificates panel and `report.html`.

use std::io;

use jiff::Timestamp;
use serde::Serialize;

use super::csv::write_record;
use crate::alerts::{CertExpiry, days_left, utc_time};
use crate::model::{Grade, TlsInfo};
use crate::snapshot::Snapshot;
use crate::store::PortTls;

/// What "expiring" and "weak" mean for a listing.
#[derive(Debug, Clone, Copy)]
pub struct CertPolicy {
    pub now: Timestamp,
    /// Expiring: at most this many days left (`[alerts] cert_expiry_days` or the query's
    /// `expiring_within`).
    pub expiring_within: u32,
    /// `[tls] min_grade`.
    pub min_grade: Grade,
}

/// One TLS port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateRow {
    pub ip: String,
    pub protocol: String,
    pub port: u16,
    /// The snapshot that saw it (absent for a row of the snapshot being rendered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<i64>,
    pub seen_at: Timestamp,
    pub subject_cn: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    /// Whole days from now to `not_after`; negative once expired; `None` without a date.
    pub days_left: Option<i64>,
    pub self_signed: bool,
    pub key_type: String,
    pub key_bits: Option<u32>,
    pub signature_algorithm: String,
    pub sha256: String,
    pub tls_versions: Vec<String>,
    pub least_grade: Option<Grade>,
    pub expired: bool,
    pub expiring: bool,
    pub weak: bool,
}

impl CertificateRow {
    /// Whether the row needs attention: expired, expiring or weak.
    pub fn flagged(&self) -> bool {
        self.expired || self.expiring || self.weak
    }

    /// `expired`, `expiring`, `weak`, joined by spaces (the status cell).
    pub fn status(&self) -> String {
        let mut words = Vec::new();
        if self.expired {
            words.push("expired");
        }
        if self.expiring {
            words.push("expiring");
        }
        if self.weak {
            words.push("weak");
        }
        if words.is_empty() { "ok" } else { "" }.to_string() + &words.join(" ")
    }
}

/// The row of one port's TLS facts.
pub fn row(
    (ip, protocol, port): (&str, &str, u16),
    snapshot_id: Option<i64>,
    seen_at: Timestamp,
    tls: &TlsInfo,
    policy: &CertPolicy,
) -> CertificateRow {
    let cert = tls.cert.clone().unwrap_or_default();
    let not_after = utc_time(&cert.not_after);
    let days = not_after.map(|t| days_left(t, policy.now));
    // The same judgement as the cert_expiring / cert_expired alerts.
    let expiry = not_after.map(|t| CertExpiry::of(t, policy.now, policy.expiring_within));
    let expired = matches!(expiry, Some(CertExpiry::Expired { .. }));
    let expiring = matches!(expiry, Some(CertExpiry::Expiring { .. }));
    let weak = !tls.legacy_versions().is_empty()
        || tls.least_grade.is_some_and(|g| g.below(policy.min_grade));
    CertificateRow {
        ip: ip.to_string(),
        protocol: protocol.to_string(),
        port,
        snapshot_id,
        seen_at,
        subject_cn: cert.subject_cn,
        issuer: cert.issuer,
        sans: cert.sans,
        not_before: cert.not_before,
        not_after: cert.not_after,
        days_left: days,
        self_signed: cert.self_signed,
        key_type: cert.key_type,
        key_bits: cert.key_bits,
        signature_algorithm: cert.signature_algorithm,
        sha256: cert.sha256,
        tls_versions: tls.versions.clone(),
        least_grade: tls.least_grade,
        expired,
        expiring,
        weak,
    }
}

/// Rows of the latest TLS facts per port (from the store).
pub fn of_ports(list: &[PortTls], policy: &CertPolicy) -> Vec<CertificateRow> {
    list.iter()
        .map(|p| {
            row(
                (&p.ip, &p.protocol, p.port),
                Some(p.snapshot_id),
                p.seen_at,
                &p.tls,
                policy,
            )
        })
        .collect()
}

/// Rows of one snapshot's examined ports, in host then port order.
pub fn of_snapshot(s: &Snapshot, policy: &CertPolicy) -> Vec<CertificateRow> {
    let mut out = Vec::new();
    for h in &s.hosts {
        let ip = h.ip().unwrap_or("");
        for p in &h.ports {
            if let Some(tls) = &p.tls {
                out.push(row(
                    (ip, &p.protocol, p.portid),
                    s.id,
                    s.finished_at,
                    tls,
                    policy,
                ));
            }
        }
    }
    out
}

/// Most urgent first: fewest days left (no date last), then address text and port.
pub fn sort_by_urgency(rows: &mut [CertificateRow]) {
    rows.sort_by(|a, b| {
        (a.days_left.unwrap_or(i64::MAX), &a.ip, a.port).cmp(&(
            b.days_left.unwrap_or(i64::MAX),
            &b.ip,
            b.port,
        ))
    });
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 20] = [
    "ip",
    "protocol",
    "port",
    "status",
    "subject_cn",
    "issuer",
    "sans",
    "not_before",
    "not_after",
    "days_left",
    "self_signed",
    "key_type",
    "key_bits",
    "signature_algorithm",
    "sha256",
    "tls_versions",
    "least_grade",
    "snapshot_id",
    "seen_at",
    "expiring_threshold_days",
];

/// `GET /api/certificates?format=csv`: [`CSV_HEADER`], then one record per row; lists are
/// joined with `; `. Cells are formula-safe (certificate names come from the network).
pub fn csv<W: io::Write>(
    out: &mut W,
    rows: &[CertificateRow],
    policy: &CertPolicy,
) -> io::Result<()> {
    write_record(out, &CSV_HEADER)?;
    let opt = |v: Option<String>| v.unwrap_or_default();
    for r in rows {
        write_record(
            out,
            &[
                r.ip.clone(),
                r.protocol.clone(),
                r.port.to_string(),
                r.status(),
                r.subject_cn.clone(),
                r.issuer.clone(),
                r.sans.join("; "),
                r.not_before.clone(),
                r.not_after.clone(),
                opt(r.days_left.map(|d| d.to_string())),
                r.self_signed.to_string(),
                r.key_type.clone(),
                opt(r.key_bits.map(|b| b.to_string())),
                r.signature_algorithm.clone(),
                r.sha256.clone(),
                r.tls_versions.join("; "),
                opt(r.least_grade.map(|g| g.to_string())),
                opt(r.snapshot_id.map(|i| i.to_string())),
                r.seen_at.to_string(),
                policy.expiring_within.to_string(),
            ],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CertInfo;

    fn tls(not_after: &str, versions: &[&str], grade: Grade) -> TlsInfo {
        TlsInfo {
            cert: Some(CertInfo {
                subject_cn: "=cmd|' /C calc'!A0".into(),
                not_after: not_after.into(),
                ..CertInfo::default()
            }),
            versions: versions.iter().map(|v| v.to_string()).collect(),
            least_grade: Some(grade),
        }
    }

    #[test]
    fn rows_say_expired_expiring_or_weak_and_csv_is_formula_safe() {
        let policy = CertPolicy {
            now: "2026-11-20T00:00:00Z".parse().unwrap(),
            expiring_within: 30,
            min_grade: Grade::C,
        };
        let at = policy.now;
        let r = |t: &TlsInfo| row(("127.0.0.1", "tcp", 443), Some(1), at, t, &policy);
        let soon = r(&tls("2026-11-25T12:00:00Z", &["TLSv1.3"], Grade::A));
        assert_eq!(soon.days_left, Some(5));
        assert_eq!(soon.status(), "expiring");
        let gone = r(&tls("2026-11-19T00:00:00Z", &["TLSv1.2"], Grade::A));
        assert_eq!(
            (gone.days_left, gone.status().as_str()),
            (Some(-1), "expired")
        );
        let weak = r(&tls("2030-01-01T00:00:00", &["TLSv1.1"], Grade::A));
        assert_eq!(weak.status(), "weak");
        let graded = r(&tls("2030-01-01T00:00:00", &["TLSv1.2"], Grade::D));
        assert!(graded.weak);
        let fine = r(&tls("2030-01-01T00:00:00", &["TLSv1.2"], Grade::C));
        assert_eq!((fine.status().as_str(), fine.flagged()), ("ok", false));

        let mut out = Vec::new();
        csv(&mut out, &[soon], &policy).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("ip,protocol,port,status,"), "{text}");
        assert!(text.contains("\"'=cmd|' /C calc'!A0\""), "{text}");
    }
}

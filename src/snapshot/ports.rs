//! Which (protocol, port) a run scanned, and whether it ran version detection: the port half of
//! a snapshot's coverage. Only ports both sides scanned are compared, and services only where
//! both ran `-sV`, so a different `--ports` or an XML file of another scan never reads as
//! closures.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::ScanInfo;

/// The ports a run scanned: per protocol (`tcp`, `udp`, `sctp`), sorted disjoint inclusive
/// ranges. Written as nmap writes a port list, protocols apart: `tcp:1-3,22;udp:53`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortCoverage {
    pub ports: BTreeMap<String, Vec<(u16, u16)>>,
    /// Whether nmap ran version detection (`-sV` or `-A`), so services can be compared.
    pub version_detection: bool,
}

/// Whether nmap's arguments ask for version detection.
pub fn runs_version_detection<'a>(args: impl IntoIterator<Item = &'a str>) -> bool {
    args.into_iter().any(|a| a == "-sV" || a == "-A")
}

impl PortCoverage {
    /// From nmap's `<scaninfo>` elements (one per scan technique); `None` when there is none
    /// (a ping scan, or an XML file that does not say).
    pub fn from_scaninfo(infos: &[ScanInfo], version_detection: bool) -> Option<PortCoverage> {
        if infos.is_empty() {
            return None;
        }
        let mut cov = PortCoverage {
            version_detection,
            ..PortCoverage::default()
        };
        for info in infos {
            let list = cov.ports.entry(info.protocol.clone()).or_default();
            list.extend(parse_ranges(&info.services).unwrap_or_default());
        }
        cov.normalise();
        Some(cov)
    }

    /// Unions another run's coverage into this one (chunks of one run).
    pub fn merge(&mut self, other: &PortCoverage) {
        for (proto, ranges) in &other.ports {
            self.ports.entry(proto.clone()).or_default().extend(ranges);
        }
        self.version_detection |= other.version_detection;
        self.normalise();
    }

    fn normalise(&mut self) {
        for list in self.ports.values_mut() {
            list.sort_unstable();
            let mut merged: Vec<(u16, u16)> = Vec::with_capacity(list.len());
            for &(lo, hi) in list.iter() {
                match merged.last_mut() {
                    Some(last) if u32::from(lo) <= u32::from(last.1) + 1 => {
                        last.1 = last.1.max(hi);
                    }
                    _ => merged.push((lo, hi)),
                }
            }
            *list = merged;
        }
        self.ports.retain(|_, l| !l.is_empty());
    }

    pub fn contains(&self, protocol: &str, port: u16) -> bool {
        self.ports.get(protocol).is_some_and(|list| {
            let i = list.partition_point(|r| r.0 <= port);
            i.checked_sub(1).is_some_and(|i| list[i].1 >= port)
        })
    }

    /// What both scanned; version detection only when both ran it.
    pub fn intersect(&self, other: &PortCoverage) -> PortCoverage {
        let mut out = PortCoverage {
            version_detection: self.version_detection && other.version_detection,
            ..PortCoverage::default()
        };
        for (proto, a) in &self.ports {
            let Some(b) = other.ports.get(proto) else {
                continue;
            };
            let (mut i, mut j) = (0, 0);
            let mut list = Vec::new();
            while i < a.len() && j < b.len() {
                let lo = a[i].0.max(b[j].0);
                let hi = a[i].1.min(b[j].1);
                if lo <= hi {
                    list.push((lo, hi));
                }
                if a[i].1 < b[j].1 { i += 1 } else { j += 1 }
            }
            out.ports.insert(proto.clone(), list);
        }
        out.normalise();
        out
    }

    /// What this one scanned and `other` did not.
    pub fn minus(&self, other: &PortCoverage) -> PortCoverage {
        let mut out = PortCoverage::default();
        for (proto, a) in &self.ports {
            let b = other.ports.get(proto).map_or(&[][..], Vec::as_slice);
            let mut list = Vec::new();
            for &(lo, hi) in a {
                let mut start = u32::from(lo);
                for &(blo, bhi) in b {
                    if u32::from(bhi) < start || blo > hi {
                        continue;
                    }
                    if u32::from(blo) > start {
                        list.push((start as u16, blo - 1));
                    }
                    start = u32::from(bhi) + 1;
                }
                if start <= u32::from(hi) {
                    list.push((start as u16, hi));
                }
            }
            out.ports.insert(proto.clone(), list);
        }
        out.normalise();
        out
    }

    pub fn is_empty(&self) -> bool {
        self.ports.values().all(Vec::is_empty)
    }

    /// Number of (protocol, port) pairs.
    pub fn count(&self) -> u64 {
        self.ports
            .values()
            .flatten()
            .map(|&(lo, hi)| u64::from(hi - lo) + 1)
            .sum()
    }

    /// The inverse of the `Display` text (`tcp:1-3,22;udp:53`); `None` when malformed.
    pub fn parse_ports(text: &str, version_detection: bool) -> Option<PortCoverage> {
        let mut cov = PortCoverage {
            version_detection,
            ..PortCoverage::default()
        };
        for part in text.split(';').filter(|p| !p.is_empty()) {
            let (proto, list) = part.split_once(':')?;
            cov.ports
                .entry(proto.to_string())
                .or_default()
                .extend(parse_ranges(list)?);
        }
        cov.normalise();
        Some(cov)
    }
}

/// nmap's port list (`1,3-4,6`); `None` when malformed.
fn parse_ranges(text: &str) -> Option<Vec<(u16, u16)>> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (lo, hi) = match item.split_once('-') {
            Some((lo, hi)) => (lo.parse().ok()?, hi.parse().ok()?),
            None => {
                let p = item.parse().ok()?;
                (p, p)
            }
        };
        if lo > hi {
            return None;
        }
        out.push((lo, hi));
    }
    Some(out)
}

impl fmt::Display for PortCoverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (proto, list) in &self.ports {
            if !first {
                f.write_str(";")?;
            }
            first = false;
            write!(f, "{proto}:")?;
            for (i, &(lo, hi)) in list.iter().enumerate() {
                let sep = if i == 0 { "" } else { "," };
                if lo == hi {
                    write!(f, "{sep}{lo}")?;
                } else {
                    write!(f, "{sep}{lo}-{hi}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cov(text: &str) -> PortCoverage {
        PortCoverage::parse_ports(text, false).unwrap()
    }

    #[test]
    fn scaninfo_and_text_round_trip() {
        let info = ScanInfo {
            scan_type: "connect".into(),
            protocol: "tcp".into(),
            numservices: 5,
            services: "22,1-3,4,8000-8001".into(),
        };
        let c = PortCoverage::from_scaninfo(&[info], true).unwrap();
        assert_eq!(c.to_string(), "tcp:1-4,22,8000-8001");
        assert!(c.version_detection);
        assert_eq!(cov(&c.to_string()).ports, c.ports);
        assert!(c.contains("tcp", 4) && c.contains("tcp", 22) && !c.contains("tcp", 5));
        assert!(!c.contains("udp", 22));
        assert_eq!(c.count(), 7);
        assert!(PortCoverage::from_scaninfo(&[], false).is_none());
        assert!(PortCoverage::parse_ports("tcp:5-1", false).is_none());
        assert!(PortCoverage::parse_ports("tcp", false).is_none());
    }

    #[test]
    fn intersect_and_minus() {
        let a = cov("tcp:1-100,200;udp:53");
        let b = cov("tcp:50-60,90-250");
        assert_eq!(a.intersect(&b).to_string(), "tcp:50-60,90-100,200");
        assert_eq!(a.minus(&b).to_string(), "tcp:1-49,61-89;udp:53");
        assert_eq!(b.minus(&a).to_string(), "tcp:101-199,201-250");
        assert!(a.minus(&a).is_empty());
        assert!(cov("tcp:65535").minus(&cov("tcp:1-65535")).is_empty());
        let mut m = cov("tcp:1-2");
        m.merge(&cov("tcp:3;udp:7"));
        assert_eq!(m.to_string(), "tcp:1-3;udp:7");
    }

    #[test]
    fn version_detection_flags() {
        assert!(runs_version_detection(["-sT", "-sV"]));
        assert!(runs_version_detection(["-A"]));
        assert!(!runs_version_detection(["-sT", "--version-light"]));
    }
}

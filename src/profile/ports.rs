//! Port selections (`22,80,8000-8100`): parsed strictly, kept sorted and merged.

use std::fmt;

/// Longest accepted port selection text.
pub const MAX_PORT_SPEC_LEN: usize = 8192;

/// A set of ports, protocol-free (the profile decides TCP or UDP), sorted and merged, so equal
/// sets have equal text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortSpec {
    /// Inclusive, sorted, neither overlapping nor adjacent.
    ranges: Vec<(u16, u16)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortSpecError {
    #[error("port selection is empty")]
    Empty,
    #[error("port selection is {len} characters long; the limit is {limit}")]
    TooLong { len: usize, limit: usize },
    #[error(
        "port selection starts with `-`, which nmap would read as an option \
         (open-ended ranges are not accepted; write 1-1024)"
    )]
    LooksLikeOption,
    #[error(
        "protocol prefixes (T:, U:) are not accepted: the profile decides TCP or UDP, \
         the selection applies to each"
    )]
    ProtocolPrefix,
    #[error(
        "{ch:?} at position {position}: a port selection holds only digits, `,` and `-` \
         (like 22,80,8000-8100)"
    )]
    InvalidCharacter { ch: char, position: usize },
    #[error("item {item} of the port selection is empty (`,,` or a trailing comma)")]
    EmptyItem { item: usize },
    #[error("`{text}` is not a port or range: {reason}")]
    InvalidPort { text: String, reason: &'static str },
    #[error("range {start}-{end} is reversed; write {end}-{start}")]
    ReversedRange { start: u16, end: u16 },
    #[error("port selection has {count} ports; the limit is {limit}")]
    TooManyPorts { count: u32, limit: u32 },
}

impl PortSpecError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            PortSpecError::TooManyPorts { .. } => "too_many_ports",
            _ => "invalid_ports",
        }
    }
}

impl PortSpec {
    /// Parses `22,80,1000-2000`. `max_ports` caps the number of distinct ports (duplicates and
    /// overlaps count once).
    pub fn parse(s: &str, max_ports: Option<u32>) -> Result<PortSpec, PortSpecError> {
        if s.is_empty() {
            return Err(PortSpecError::Empty);
        }
        if s.len() > MAX_PORT_SPEC_LEN {
            return Err(PortSpecError::TooLong {
                len: s.len(),
                limit: MAX_PORT_SPEC_LEN,
            });
        }
        if s.starts_with('-') {
            return Err(PortSpecError::LooksLikeOption);
        }
        if s.contains(':') {
            return Err(PortSpecError::ProtocolPrefix);
        }
        if let Some((index, ch)) = s
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_digit() || *c == ',' || *c == '-'))
        {
            return Err(PortSpecError::InvalidCharacter {
                ch,
                position: index + 1,
            });
        }
        let mut ranges = Vec::new();
        for (index, item) in s.split(',').enumerate() {
            if item.is_empty() {
                return Err(PortSpecError::EmptyItem { item: index + 1 });
            }
            ranges.push(parse_item(item)?);
        }
        let spec = PortSpec::from_ranges(ranges);
        if let Some(limit) = max_ports {
            let count = spec.count();
            if count > limit {
                return Err(PortSpecError::TooManyPorts { count, limit });
            }
        }
        Ok(spec)
    }

    fn from_ranges(mut ranges: Vec<(u16, u16)>) -> PortSpec {
        ranges.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
        for (start, end) in ranges {
            match merged.last_mut() {
                Some(last) if u32::from(start) <= u32::from(last.1) + 1 => {
                    last.1 = last.1.max(end);
                }
                _ => merged.push((start, end)),
            }
        }
        PortSpec { ranges: merged }
    }

    /// Number of distinct ports.
    pub fn count(&self) -> u32 {
        self.ranges
            .iter()
            .map(|(start, end)| u32::from(*end) - u32::from(*start) + 1)
            .sum()
    }

    pub fn contains(&self, port: u16) -> bool {
        let index = self.ranges.partition_point(|(_, end)| *end < port);
        self.ranges
            .get(index)
            .is_some_and(|(start, _)| *start <= port)
    }

    /// Inclusive ranges, sorted and merged.
    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.ranges
    }

    /// The canonical text, as nmap's `-p` takes it.
    pub fn to_nmap_arg(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (start, end)) in self.ranges.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            if start == end {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}-{end}")?;
            }
        }
        Ok(())
    }
}

fn parse_item(item: &str) -> Result<(u16, u16), PortSpecError> {
    let invalid = |reason| PortSpecError::InvalidPort {
        text: item.chars().take(24).collect(),
        reason,
    };
    match item.split_once('-') {
        None => {
            let port = parse_port(item).map_err(invalid)?;
            Ok((port, port))
        }
        Some((start, end)) => {
            if start.is_empty() || end.is_empty() {
                return Err(invalid("open-ended ranges are not accepted; write 1-1024"));
            }
            if end.contains('-') {
                return Err(invalid("a range has one `-`"));
            }
            let (start, end) = (
                parse_port(start).map_err(invalid)?,
                parse_port(end).map_err(invalid)?,
            );
            if start > end {
                return Err(PortSpecError::ReversedRange { start, end });
            }
            Ok((start, end))
        }
    }
}

fn parse_port(s: &str) -> Result<u16, &'static str> {
    match s.parse::<u32>() {
        Ok(0) => Err("port 0 cannot be scanned; ports run from 1 to 65535"),
        Ok(port) if port <= 65535 => Ok(port as u16),
        _ => Err("ports run from 1 to 65535"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> PortSpec {
        PortSpec::parse(s, None).unwrap()
    }

    #[test]
    fn canonical_form_is_sorted_and_merged() {
        assert_eq!(spec("22").to_nmap_arg(), "22");
        assert_eq!(spec("80,22,8000-8100").to_nmap_arg(), "22,80,8000-8100");
        assert_eq!(spec("1-10,5-20,21,23").to_nmap_arg(), "1-21,23");
        assert_eq!(spec("22,22,22").to_nmap_arg(), "22");
        assert_eq!(spec("443-443").to_nmap_arg(), "443");
        assert_eq!(spec("1-65535").to_nmap_arg(), "1-65535");
        assert_eq!(spec("65535,1").to_nmap_arg(), "1,65535");
        assert_eq!(spec("080").to_nmap_arg(), "80");
        assert_eq!(spec("3,1,2").ranges(), &[(1, 3)]);
    }

    #[test]
    fn count_and_contains() {
        let s = spec("22,80,1000-2000");
        assert_eq!(s.count(), 1003);
        for port in [22, 80, 1000, 1500, 2000] {
            assert!(s.contains(port), "{port}");
        }
        for port in [0, 1, 21, 23, 79, 81, 999, 2001, 65535] {
            assert!(!s.contains(port), "{port}");
        }
        assert_eq!(spec("1-65535").count(), 65535);
        assert!(spec("1-65535").contains(65535));
        assert_eq!(spec("5-10,8-12").count(), 8);
    }

    #[test]
    fn cap_counts_distinct_ports() {
        assert!(PortSpec::parse("1-1000", Some(1000)).is_ok());
        assert!(PortSpec::parse("1-1000,500-600", Some(1000)).is_ok());
        let err = PortSpec::parse("1-1001", Some(1000)).unwrap_err();
        assert_eq!(
            err,
            PortSpecError::TooManyPorts {
                count: 1001,
                limit: 1000
            }
        );
        assert_eq!(err.code(), "too_many_ports");
        assert!(PortSpec::parse("1-65535", None).is_ok());
    }

    #[test]
    fn hostile_and_malformed_selections_are_refused() {
        use PortSpecError as E;
        let long = "1,".repeat(5000);
        type Check = fn(&E) -> bool;
        let cases: Vec<(&str, Check)> = vec![
            ("", |e| matches!(e, E::Empty)),
            (&long, |e| matches!(e, E::TooLong { .. })),
            ("-", |e| matches!(e, E::LooksLikeOption)),
            ("-p-", |e| matches!(e, E::LooksLikeOption)),
            ("-100", |e| matches!(e, E::LooksLikeOption)),
            ("--script=x", |e| matches!(e, E::LooksLikeOption)),
            ("T:22", |e| matches!(e, E::ProtocolPrefix)),
            ("U:53,T:22", |e| matches!(e, E::ProtocolPrefix)),
            ("22 80", |e| {
                matches!(e, E::InvalidCharacter { ch: ' ', .. })
            }),
            ("22, 80", |e| matches!(e, E::InvalidCharacter { .. })),
            ("ssh", |e| matches!(e, E::InvalidCharacter { ch: 's', .. })),
            ("22;id", |e| {
                matches!(e, E::InvalidCharacter { ch: ';', .. })
            }),
            ("22\n-oX", |e| matches!(e, E::InvalidCharacter { .. })),
            ("22\0", |e| matches!(e, E::InvalidCharacter { .. })),
            ("[1-100]", |e| matches!(e, E::InvalidCharacter { .. })),
            ("1-100*", |e| matches!(e, E::InvalidCharacter { .. })),
            ("２２", |e| matches!(e, E::InvalidCharacter { .. })),
            ("+22", |e| matches!(e, E::InvalidCharacter { .. })),
            ("22,,80", |e| matches!(e, E::EmptyItem { item: 2 })),
            ("22,", |e| matches!(e, E::EmptyItem { item: 2 })),
            ("0", |e| matches!(e, E::InvalidPort { .. })),
            ("0-10", |e| matches!(e, E::InvalidPort { .. })),
            ("65536", |e| matches!(e, E::InvalidPort { .. })),
            ("99999999999999999999", |e| {
                matches!(e, E::InvalidPort { .. })
            }),
            ("22,-80", |e| matches!(e, E::InvalidPort { .. })),
            ("1000-", |e| matches!(e, E::InvalidPort { .. })),
            ("1-2-3", |e| matches!(e, E::InvalidPort { .. })),
            ("100-1", |e| {
                matches!(e, E::ReversedRange { start: 100, end: 1 })
            }),
        ];
        for (input, expected) in cases {
            match PortSpec::parse(input, Some(1000)) {
                Ok(spec) => panic!("{input:?} accepted as {spec}"),
                Err(err) => {
                    assert!(expected(&err), "{input:?}: {err:?}");
                    assert!(!err.to_string().is_empty());
                }
            }
        }
    }

    #[test]
    fn messages_name_the_problem() {
        let message = |s: &str| PortSpec::parse(s, None).unwrap_err().to_string();
        assert_eq!(
            message("0"),
            "`0` is not a port or range: port 0 cannot be scanned; ports run from 1 to 65535"
        );
        assert_eq!(message("100-1"), "range 100-1 is reversed; write 1-100");
        assert!(message("22,x").contains("'x' at position 4"));
    }
}

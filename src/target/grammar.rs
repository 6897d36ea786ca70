//! The target grammar: one atom (an address, hostname, CIDR block or dash range).
//!
//! Checks run from the cheapest and most telling to the most specific, so that a hostile value
//! gets the reason that matters (`-oX` is "looks like an option", not "invalid hostname").
//! A CIDR block written with host bits set (`127.0.0.1/29`) is refused rather than normalised:
//! the writer may have meant the host or the block, and the error suggests the block.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::{MAX_TARGET_LEN, Target, TargetError};

pub(super) fn parse(s: &str) -> Result<Target, TargetError> {
    check_characters(s)?;
    if s.contains('/') {
        return parse_cidr(s);
    }
    if let Some(range) = parse_range(s)? {
        return Ok(range);
    }
    if s.contains(':') {
        return parse_ipv6(s);
    }
    if let Ok(ip) = s.parse::<Ipv4Addr>() {
        return Ok(Target::Ip(IpAddr::V4(ip)));
    }
    if looks_numeric(s) {
        return Err(TargetError::InvalidAddress {
            reason: format!(
                "`{s}` is neither a dotted-quad IPv4 address (four decimal numbers 0-255, \
                 no leading zeros) nor a hostname"
            ),
        });
    }
    parse_hostname(s)
}

/// The character allowlist: ASCII letters, digits, `.`, `:`, `-` and `/`. Everything else is
/// refused with the reason it is dangerous or unsupported.
fn check_characters(s: &str) -> Result<(), TargetError> {
    if s.is_empty() {
        return Err(TargetError::Empty);
    }
    if s.len() > MAX_TARGET_LEN {
        return Err(TargetError::TooLong {
            len: s.len(),
            limit: MAX_TARGET_LEN,
        });
    }
    if s.starts_with('-') {
        return Err(TargetError::LooksLikeOption);
    }
    for (index, ch) in s.chars().enumerate() {
        let position = index + 1;
        if ch == ' ' || ch == '\t' {
            return Err(TargetError::Whitespace { position });
        }
        if ch.is_control() {
            return Err(TargetError::ControlCharacter { position });
        }
        if !ch.is_ascii() {
            return Err(TargetError::NonAscii { position });
        }
        if ch.is_ascii_alphanumeric() || matches!(ch, '.' | ':' | '-' | '/') {
            continue;
        }
        let reason = match ch {
            '%' => "IPv6 zone ids (`%eth0`) and percent-encoding are not accepted",
            '*' => "nmap wildcards are not accepted; use a CIDR block or a dash range",
            ',' => "`,` separates a list; lists belong in a targets file, not in one target",
            '@' => "`@` is not part of an address or hostname",
            '_' => "hostnames may hold only letters, digits and hyphens",
            ';' | '|' | '&' | '$' | '`' | '<' | '>' | '(' | ')' | '\'' | '"' | '\\' | '?' | '['
            | ']' | '{' | '}' | '!' | '~' => "shell metacharacters are not accepted",
            _ => "only letters, digits, `.`, `:`, `-` and `/` (in CIDR) are accepted",
        };
        return Err(TargetError::InvalidCharacter {
            ch,
            position,
            reason,
        });
    }
    Ok(())
}

fn parse_cidr(s: &str) -> Result<Target, TargetError> {
    let invalid = |reason: String| Err(TargetError::InvalidCidr { reason });
    let Some((addr, prefix)) = s.split_once('/') else {
        return invalid("missing `/`".into());
    };
    if addr.is_empty() {
        return invalid("`/` is only accepted between an IP address and a prefix length".into());
    }
    if prefix.contains('/') {
        return invalid("more than one `/`".into());
    }
    let Ok(ip) = addr.parse::<IpAddr>() else {
        return invalid(format!(
            "`{addr}` is not an IP address (a block is written like 127.0.0.0/29)"
        ));
    };
    if unmap(ip) != ip {
        return invalid(format!(
            "`{addr}` is an IPv4-mapped IPv6 address; write the IPv4 block ({}/N) instead",
            unmap(ip)
        ));
    }
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return invalid(format!("prefix length must be a number from 0 to {max}"));
    }
    let len: u8 = prefix.parse().unwrap_or(u8::MAX);
    let Ok(net) = IpNet::new(ip, len) else {
        return invalid(format!("prefix /{prefix} is out of range (0 to {max})"));
    };
    if net.network() != ip {
        return invalid(format!(
            "host bits are set in {s}; did you mean {}?",
            net.trunc()
        ));
    }
    Ok(Target::Network(net))
}

/// `127.0.0.1-20` (last octet), `127.0.0.1-127.0.0.20` or `::1-::5` (full). Returns `None` when
/// `s` is no range at all (a hostname with a hyphen).
fn parse_range(s: &str) -> Result<Option<Target>, TargetError> {
    let invalid = |reason: String| Err(TargetError::InvalidRange { reason });
    let Some((left, right)) = s.split_once('-') else {
        return Ok(None);
    };
    let Ok(start) = left.parse::<IpAddr>() else {
        if s.bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        {
            return invalid(
                "nmap octet ranges like 127.0-1.0.1 are not supported; use a last-octet range \
                 (127.0.0.1-20), a full range (127.0.0.1-127.0.0.20) or a CIDR block"
                    .into(),
            );
        }
        return Ok(None);
    };
    if unmap(start) != start {
        return invalid("an IPv4-mapped IPv6 range: write the IPv4 range instead".into());
    }
    if right.is_empty() {
        return invalid("the range has no end".into());
    }
    if right.contains('-') {
        return invalid("more than one `-`".into());
    }
    let end = if right.contains(['.', ':']) {
        right
            .parse::<IpAddr>()
            .map_err(|_| TargetError::InvalidRange {
                reason: format!("`{right}` is not an IP address"),
            })?
    } else {
        let IpAddr::V4(v4) = start else {
            return invalid("an IPv6 range must give the full end address (::1-::5)".into());
        };
        let octet = parse_octet(right).ok_or_else(|| TargetError::InvalidRange {
            reason: format!("`{right}` is not a last octet (0 to 255, no leading zeros)"),
        })?;
        let [a, b, c, _] = v4.octets();
        IpAddr::V4(Ipv4Addr::new(a, b, c, octet))
    };
    if start.is_ipv4() != end.is_ipv4() {
        return invalid("start and end must be the same address family".into());
    }
    if start > end {
        return invalid(format!("start {start} is after end {end}"));
    }
    Ok(Some(Target::Range { start, end }))
}

fn parse_octet(s: &str) -> Option<u8> {
    let digits_ok = !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

fn parse_ipv6(s: &str) -> Result<Target, TargetError> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(Target::Ip(unmap(ip)));
    }
    let reason = match s.rsplit_once(':') {
        Some((host, port))
            if !host.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            "a port is not part of a target; ask for ports separately".to_string()
        }
        _ => format!("`{s}` is not a valid IPv6 address"),
    };
    Err(TargetError::InvalidAddress { reason })
}

/// An IPv4-mapped IPv6 address (`::ffff:127.0.0.22`) is the IPv4 address it maps: scanned as
/// such, never handed to nmap as IPv6 (where it reaches nothing and reads as "host down").
pub fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// True for names the C resolver would read as a numeric address (`1.2.3`, `2130706433`,
/// `0x7f.1`, `127.000.0.1`): those are address spellings, not hostnames. A real top-level
/// label is never all digits.
fn looks_numeric(s: &str) -> bool {
    let name = s.strip_suffix('.').unwrap_or(s);
    let all_digits = |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit());
    let hex = |l: &str| {
        l.strip_prefix("0x")
            .or_else(|| l.strip_prefix("0X"))
            .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    let last_numeric = name.rsplit('.').next().is_some_and(all_digits);
    last_numeric || name.split('.').all(|l| all_digits(l) || hex(l))
}

fn parse_hostname(s: &str) -> Result<Target, TargetError> {
    let invalid = |reason: String| Err(TargetError::InvalidHostname { reason });
    let name = s.strip_suffix('.').unwrap_or(s);
    if name.len() > 253 {
        return invalid(format!("{} characters long; the limit is 253", name.len()));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return invalid("empty label (a leading dot or `..`)".into());
        }
        if label.len() > 63 {
            return invalid(format!(
                "a label is {} characters long; the limit is 63",
                label.len()
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return invalid(format!("label `{label}` starts or ends with a hyphen"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return invalid(format!(
                "label `{label}` holds characters other than letters, digits and hyphens"
            ));
        }
    }
    Ok(Target::Hostname(s.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn addresses() {
        assert_eq!(parse("127.0.0.1"), Ok(Target::Ip(ip("127.0.0.1"))));
        assert_eq!(parse("::1"), Ok(Target::Ip(ip("::1"))));
        assert_eq!(parse("FD00::1"), Ok(Target::Ip(ip("fd00::1"))));
        // IPv4-mapped: the IPv4 address it maps, never IPv6 for nmap.
        assert_eq!(parse("::ffff:127.0.0.1"), Ok(Target::Ip(ip("127.0.0.1"))));
        assert!(parse("::ffff:127.0.0.0/120").is_err());
        assert!(parse("::ffff:127.0.0.1-::ffff:127.0.0.5").is_err());
    }

    #[test]
    fn hostnames() {
        for ok in [
            "localhost",
            "localhost.",
            "a",
            "a-b.example",
            "xn--bcher-kva.example",
            "1a.example",
            "host1",
        ] {
            assert_eq!(parse(ok), Ok(Target::Hostname(ok.into())), "{ok}");
        }
        let longest = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61),
        ]
        .join(".");
        assert_eq!(longest.len(), 253);
        assert!(parse(&longest).is_ok());
        assert!(parse(&format!("{longest}.")).is_ok());
        assert!(matches!(
            parse(&format!("{longest}e")),
            Err(TargetError::InvalidHostname { .. })
        ));
        assert!(parse(&format!("{}.example", "a".repeat(63))).is_ok());
    }

    #[test]
    fn cidr_blocks() {
        assert_eq!(
            parse("127.0.0.0/29"),
            Ok(Target::Network("127.0.0.0/29".parse().unwrap()))
        );
        assert!(parse("127.0.0.1/32").is_ok());
        assert!(parse("0.0.0.0/0").is_ok());
        assert!(parse("fd00::/120").is_ok());
        assert!(parse("::1/128").is_ok());
        let err = parse("127.0.0.1/29").unwrap_err();
        assert!(
            err.to_string().contains("did you mean 127.0.0.0/29?"),
            "{err}"
        );
        for bad in [
            "127.0.0.0/33",
            "::/129",
            "127.0.0.0/",
            "127.0.0.0/08x",
            "127.0.0.0/1000",
            "127.0.0.0/8/8",
            "localhost/24",
            "/24",
        ] {
            assert!(
                matches!(parse(bad), Err(TargetError::InvalidCidr { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn ranges() {
        let range = |a: &str, b: &str| {
            Ok(Target::Range {
                start: ip(a),
                end: ip(b),
            })
        };
        assert_eq!(parse("127.0.0.1-20"), range("127.0.0.1", "127.0.0.20"));
        assert_eq!(parse("127.0.0.1-1"), range("127.0.0.1", "127.0.0.1"));
        assert_eq!(
            parse("127.0.0.250-127.0.1.3"),
            range("127.0.0.250", "127.0.1.3")
        );
        assert_eq!(parse("::1-::a"), range("::1", "::a"));
        for bad in [
            "127.0.0.5-1",
            "127.0.0.1-",
            "127.0.0.1-256",
            "127.0.0.1-020",
            "127.0.0.1-::1",
            "::1-5",
            "127.0.0.1-2-3",
            "127.0.0.9-127.0.0.1",
            "127.0-1.0.1",
            "1-2",
            "127.0.0.1-x",
        ] {
            assert!(
                matches!(parse(bad), Err(TargetError::InvalidRange { .. })),
                "{bad}: {:?}",
                parse(bad)
            );
        }
    }

    #[test]
    fn numeric_spellings_are_not_hostnames() {
        for bad in [
            "1.2.3",
            "2130706433",
            "0x7f000001",
            "0x7f.0x1",
            "127.000.0.1",
            "0127.0.0.1",
            "256.1.1.1",
            "1.2.3.4.5",
            "127.0.0.1.",
        ] {
            assert!(
                matches!(parse(bad), Err(TargetError::InvalidAddress { .. })),
                "{bad}: {:?}",
                parse(bad)
            );
        }
        let err = parse("127.0.0.1:80").unwrap_err();
        assert!(err.to_string().contains("port"), "{err}");
    }
}

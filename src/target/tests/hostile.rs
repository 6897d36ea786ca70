//! Hostile input, table-driven: each value must be refused with the expected reason.

use crate::target::{Target, TargetError, parse_api_target};

/// Which `TargetError` variant a refusal must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Empty,
    TooLong,
    Option,
    Whitespace,
    Control,
    NonAscii,
    Char,
    Address,
    Hostname,
    Cidr,
    Range,
}

fn kind(err: &TargetError) -> Option<Kind> {
    Some(match err {
        TargetError::Empty => Kind::Empty,
        TargetError::TooLong { .. } => Kind::TooLong,
        TargetError::LooksLikeOption => Kind::Option,
        TargetError::Whitespace { .. } => Kind::Whitespace,
        TargetError::ControlCharacter { .. } => Kind::Control,
        TargetError::NonAscii { .. } => Kind::NonAscii,
        TargetError::InvalidCharacter { .. } => Kind::Char,
        TargetError::InvalidAddress { .. } => Kind::Address,
        TargetError::InvalidHostname { .. } => Kind::Hostname,
        TargetError::InvalidCidr { .. } => Kind::Cidr,
        TargetError::InvalidRange { .. } => Kind::Range,
        _ => return None,
    })
}

#[test]
fn hostile_inputs_are_refused_with_a_precise_reason() {
    use Kind::*;
    let ten_kb = "a".repeat(10 * 1024);
    let long_label = format!("{}.example", "a".repeat(64));
    let cases: Vec<(&str, Kind)> = vec![
        // nmap options
        ("-oN/tmp/x", Option),
        ("--script=http-title", Option),
        ("-iL /etc/passwd", Option),
        ("-iL", Option),
        ("-", Option),
        ("--", Option),
        ("-sS", Option),
        ("-6", Option),
        ("--resume=x", Option),
        // whitespace: an option smuggled after a target
        ("127.0.0.1 -p 1", Whitespace),
        ("127.0.0.1\t-oX", Whitespace),
        ("localhost ", Whitespace),
        // control characters, NUL, line breaks
        ("\0", Control),
        ("127.0.0.1\0", Control),
        ("127.0.0.1\n-oX", Control),
        ("127.0.0.1\r", Control),
        ("\u{1b}[31mlocalhost", Control),
        ("localhost\u{7f}", Control),
        ("localhost\u{85}", Control),
        // shell metacharacters
        ("127.0.0.1;id", Char),
        ("$(id)", Char),
        ("`id`", Char),
        ("127.0.0.1|nc", Char),
        ("127.0.0.1&&id", Char),
        ("127.0.0.1>out", Char),
        ("<127.0.0.1", Char),
        ("it's", Char),
        ("\"127.0.0.1\"", Char),
        ("127.0.0.1\\", Char),
        ("127.0.0.?", Char),
        ("{a}", Char),
        ("!127.0.0.1", Char),
        ("~root", Char),
        ("${IFS}", Char),
        // nmap-specific target syntax and other punctuation
        ("127.0.0.*", Char),
        ("127.0.0.[1-5]", Char),
        ("user@127.0.0.1", Char),
        ("127.0.0.1,-oX", Char),
        ("host_name", Char),
        ("localhost%00", Char),
        ("::1%lo", Char),
        ("fe80::1%eth0", Char),
        ("[::1]", Char),
        ("127.0.0.1#x", Char),
        ("a+b", Char),
        ("a=b", Char),
        ("127.0-1.0.1", Range),
        ("1-2", Range),
        // non-ASCII: homoglyphs, IDN not in punycode, invisible and bidi characters
        ("lоcalhost", NonAscii),
        ("ｌocalhost", NonAscii),
        ("127.0.0.１", NonAscii),
        ("bücher.example", NonAscii),
        ("localhost\u{202e}", NonAscii),
        ("local\u{200b}host", NonAscii),
        ("127.0.0.1\u{a0}", NonAscii),
        // length
        (&ten_kb, TooLong),
        ("", Empty),
        (&long_label, Hostname),
        // slashes outside CIDR, bad blocks
        ("/etc/passwd", Cidr),
        ("../../etc", Cidr),
        ("127.0.0.1/33", Cidr),
        ("::/129", Cidr),
        ("127.0.0.1/8", Cidr),
        ("127.0.0.0/", Cidr),
        ("localhost/24", Cidr),
        ("http://localhost", Cidr),
        // ranges
        ("127.0.0.5-1", Range),
        ("127.0.0.1-", Range),
        ("127.0.0.1-256", Range),
        ("127.0.0.1-::1", Range),
        ("::5-::1", Range),
        // addresses that are not what they look like
        ("1.2.3", Address),
        ("2130706433", Address),
        ("0x7f.0.0.1", Address),
        ("0x7f000001", Address),
        ("127.000.0.1", Address),
        ("256.0.0.1", Address),
        ("127.0.0.1:80", Address),
        ("::1::2", Address),
        ("localhost:22", Address),
        // hostnames
        ("host-.example", Hostname),
        ("a..b", Hostname),
        (".localhost", Hostname),
        ("a.-b", Hostname),
    ];
    assert!(cases.len() >= 40);
    let mut failures = Vec::new();
    for (input, expected) in &cases {
        match Target::parse(input) {
            Ok(target) => failures.push(format!("{input:?} accepted as {target:?}")),
            Err(err) if kind(&err) != Some(*expected) => {
                failures.push(format!("{input:?}: expected {expected:?}, got {err:?}"));
            }
            Err(err) => {
                // The API path refuses the same way, and the message is never empty.
                assert!(!err.to_string().is_empty());
                assert_eq!(err.code(), "invalid_target", "{input:?}");
                let api = parse_api_target(input);
                assert!(api.is_err(), "{input:?} accepted by the API");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn refusal_reasons_are_specific() {
    let reason = |s: &str| Target::parse(s).unwrap_err().to_string();
    assert!(reason("::1%lo").contains("zone id"));
    assert!(reason("127.0.0.*").contains("wildcard"));
    assert!(reason("127.0.0.1;id").contains("shell metacharacter"));
    assert!(reason("127.0.0.1,-oX").contains("list"));
    assert!(reason("-oX").contains("option"));
    assert!(reason("lоcalhost").contains("punycode"));
    assert!(reason("127.0-1.0.1").contains("octet range"));
    assert!(reason("127.0.0.5-1").contains("after end"));
    assert!(reason("127.0.0.1/33").contains("out of range"));
    assert!(reason(&"a".repeat(300)).contains("limit is 254"));
}

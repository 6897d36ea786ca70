use super::*;

#[test]
fn display_is_canonical_and_parses_back() {
    for text in [
        "127.0.0.1",
        "::1",
        "localhost",
        "localhost.",
        "127.0.0.0/29",
        "fd00::/120",
        "127.0.0.1-127.0.0.20",
        "::1-::5",
    ] {
        let target = Target::parse(text).unwrap();
        assert_eq!(target.to_string(), text);
        assert_eq!(Target::parse(&target.to_string()).unwrap(), target);
    }
    assert_eq!(
        Target::parse("127.0.0.1-20").unwrap().to_string(),
        "127.0.0.1-127.0.0.20"
    );
    assert_eq!(Target::parse("0:0::1").unwrap().to_string(), "::1");
    assert_eq!(Target::parse("LocalHost").unwrap().to_string(), "localhost");
}

#[test]
fn address_counts() {
    let count = |s: &str| Target::parse(s).unwrap().address_count();
    assert_eq!(count("127.0.0.1"), Some(1));
    assert_eq!(count("localhost"), None);
    assert_eq!(count("127.0.0.0/29"), Some(8));
    assert_eq!(count("127.0.0.0/8"), Some(1 << 24));
    assert_eq!(count("0.0.0.0/0"), Some(1 << 32));
    assert_eq!(count("::/0"), Some(u128::MAX));
    assert_eq!(count("::/1"), Some(1 << 127));
    assert_eq!(count("fd00::/120"), Some(256));
    assert_eq!(count("127.0.0.1-20"), Some(20));
    assert_eq!(count("127.0.0.7-7"), Some(1));
}

#[test]
fn api_accepts_single_hosts_only() {
    assert_eq!(
        parse_api_target("127.0.0.1").unwrap(),
        Target::Ip("127.0.0.1".parse().unwrap())
    );
    assert_eq!(
        parse_api_target("localhost").unwrap(),
        Target::Hostname("localhost".into())
    );
    for batch_only in ["127.0.0.0/29", "127.0.0.1-5", "127.0.0.1,127.0.0.2"] {
        let err = parse_api_target(batch_only).unwrap_err();
        assert!(matches!(err, TargetError::NotAllowedInApi { .. }), "{err}");
        assert!(err.to_string().contains("batch only"), "{err}");
        assert_eq!(err.code(), "target_batch_only");
    }
    // A hostile list item is reported as invalid, not as "batch only".
    let err = parse_api_target("127.0.0.1,-oX").unwrap_err();
    assert_eq!(err, TargetError::LooksLikeOption);
}

#[test]
fn codes() {
    assert_eq!(TargetError::Empty.code(), "invalid_target");
    assert_eq!(
        TargetError::Unresolved { host: "x".into() }.code(),
        "unresolved"
    );
    assert_eq!(
        TargetError::TooManyHosts { count: 9, limit: 1 }.code(),
        "too_many_hosts"
    );
    assert_eq!(
        TargetError::NotAllowed {
            address: "127.0.0.1".parse().unwrap(),
            reason: String::new()
        }
        .code(),
        "target_not_allowed"
    );
}

mod hostile;

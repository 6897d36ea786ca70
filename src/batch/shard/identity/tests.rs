use std::collections::HashMap;

use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

#[test]
fn shard_spec_is_k_of_n() {
    assert_eq!(
        "2/4".parse::<ShardSpec>().unwrap(),
        ShardSpec { index: 2, count: 4 }
    );
    for bad in ["4/4", "0/0", "1", "-1/4", "a/b", "0/1001", "1/2/3", ""] {
        assert!(bad.parse::<ShardSpec>().is_err(), "{bad}");
    }
}

#[test]
fn run_ids_are_job_names() {
    assert!("daily-scan-29412345".parse::<RunId>().is_ok());
    assert!("2026-12-05_night.1".parse::<RunId>().is_ok());
    for bad in ["", "-x", "a b", "a/b", "a;rm", &"x".repeat(129), "ünï"] {
        assert!(bad.parse::<RunId>().is_err(), "{bad:?}");
    }
}

#[test]
fn flags_or_the_environment_all_three_or_none() {
    let none = env(&[]);
    assert_eq!(from_args(None, None, &none).unwrap(), None);
    let (spec, id) = from_args(Some("1/3"), Some("r1"), &none).unwrap().unwrap();
    assert_eq!((spec.to_string(), id.as_str()), ("1/3".into(), "r1"));

    let k8s = env(&[
        ("JOB_COMPLETION_INDEX", "3"),
        ("SCANNER_SHARDS", "4"),
        ("SCANNER_RUN_ID", "scan-123"),
    ]);
    let (spec, id) = from_args(None, None, &k8s).unwrap().unwrap();
    assert_eq!(
        (spec, id.as_str()),
        (ShardSpec { index: 3, count: 4 }, "scan-123")
    );
    // Flags win over the environment.
    let (spec, _) = from_args(Some("0/2"), None, &k8s).unwrap().unwrap();
    assert_eq!(spec, ShardSpec { index: 0, count: 2 });

    for partial in [
        env(&[("JOB_COMPLETION_INDEX", "0")]),
        env(&[("SCANNER_SHARDS", "4"), ("SCANNER_RUN_ID", "r")]),
        env(&[("JOB_COMPLETION_INDEX", "0"), ("SCANNER_SHARDS", "4")]),
        env(&[("SCANNER_RUN_ID", "r")]),
    ] {
        let e = from_args(None, None, &partial).unwrap_err();
        assert!(matches!(e, ShardError::Incomplete { .. }), "{e}");
    }
    assert!(from_args(Some("0/2"), None, &none).is_err());
    assert!(from_args(None, Some("r"), &none).is_err());
    assert!(matches!(
        from_args(Some("5/2"), Some("r"), &none),
        Err(ShardError::Spec(_))
    ));
}

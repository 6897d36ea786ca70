use serde_json::{Value, json};

use super::*;

/// The example of docs/ARCHITECTURE.md, "Delta semantics".
fn architecture_example() -> Value {
    json!({"from": {"snapshot": 3, "started_at": "2026-11-20T02:00:00Z", "profile": "default"},
     "to":   {"snapshot": 4, "started_at": "2026-11-21T02:00:00Z", "profile": "default"},
     "status": "critical", "incomplete": {"not_compared": 1, "targets": 4},
     "score": {"overall": 55, "band": "Monitor",
               "entries": [{"entry": "127.0.0.0/29", "score": 55, "band": "Monitor"}]},
     "summary": {"new_hosts": 1, "gone_hosts": 0, "ports_opened": 2, "ports_closed": 1,
                 "services_changed": 1, "not_compared": 1, "unconfirmed": 0},
     "changes": [{"kind": "port_opened", "severity": "critical", "ip": "127.0.0.3",
                  "protocol": "tcp", "port": 3389, "before": null,
                  "after": {"state": "open", "service": "ms-wbt-server", "product": "", "version": ""}}],
     "not_compared": [{"target": "127.0.0.9", "reason": "timeout"}],
     "unconfirmed": []})
}

/// The same keys at every level (arrays: compared element by element, up to the shorter).
fn same_shape(path: &str, got: &Value, want: &Value) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let gk: Vec<_> = g.keys().collect();
            let wk: Vec<_> = w.keys().collect();
            assert_eq!(gk, wk, "keys of {path}");
            for (k, v) in w {
                same_shape(&format!("{path}.{k}"), &g[k], v);
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                same_shape(&format!("{path}[{i}]"), g, w);
            }
        }
        (Value::Null, Value::Null) | (Value::Null, _) | (_, Value::Null) => {}
        (g, w) => assert_eq!(
            std::mem::discriminant(g),
            std::mem::discriminant(w),
            "type of {path}: {g} vs {w}"
        ),
    }
}

/// A run reproducing the example: on 127.0.0.0/29, .3 appears with RDP open (new host, 3389
/// opened), .1 keeps SSH, opens 8080, closes 443 and upgrades its web server; 127.0.0.9 timed
/// out. Score: 100 - 30 (3389) - 15 (22) = 55.
fn example_runs() -> (Snapshot, Snapshot) {
    let mut web = open(80);
    web.service.product = "nginx".into();
    let mut upgraded = web.clone();
    upgraded.service.version = "1.25".into();
    let mut rdp = open(3389);
    rdp.service.name = "ms-wbt-server".into();
    let mut a = snap(
        "default",
        vec![done("127.0.0.0/29"), done("127.0.0.9")],
        vec![up("127.0.0.1", vec![open(22), web, open(443)])],
    );
    a.id = Some(3);
    let mut b = snap(
        "default",
        vec![
            done("127.0.0.0/29"),
            target(
                "127.0.0.9",
                "127.0.0.9",
                TargetStatus::Timeout,
                &["127.0.0.9/32"],
            ),
        ],
        vec![
            up("127.0.0.1", vec![open(22), upgraded, open(8080)]),
            up("127.0.0.3", vec![rdp]),
        ],
    );
    b.id = Some(4);
    b.started_at = "2026-11-21T02:00:00Z".parse().unwrap();
    (a, b)
}

#[test]
fn delta_json_matches_the_architecture_example() {
    let (a, b) = example_runs();
    let delta = compare(Some(&a), &b, &DeltaConfig::default());
    let got = serde_json::to_value(&delta).unwrap();
    let want = architecture_example();
    same_shape("delta", &got, &want);
    // Everything but the (abridged) change list is reproduced exactly, except that the timed
    // out target's entry is listed too, without a score.
    for key in ["from", "to", "status", "summary", "not_compared"] {
        assert_eq!(got[key], want[key], "{key}");
    }
    for key in ["overall", "band"] {
        assert_eq!(got["score"][key], want["score"][key], "score.{key}");
    }
    assert_eq!(got["score"]["entries"][0], want["score"]["entries"][0]);
    assert_eq!(
        got["score"]["entries"][1],
        json!({"entry": "127.0.0.9", "score": null, "band": null})
    );
    let rdp = got["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["port"] == 3389)
        .unwrap();
    assert_eq!(rdp, &want["changes"][0]);
    assert_eq!(serde_json::from_value::<Delta>(got).unwrap(), delta);
}

#[test]
fn host_changes_have_no_port_fields_and_file_is_optional() {
    let (a, b) = example_runs();
    let mut delta = compare(Some(&a), &b, &DeltaConfig::default());
    let got = serde_json::to_value(&delta).unwrap();
    let new_host = got["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "new_host")
        .unwrap();
    assert_eq!(
        new_host,
        &json!({"kind": "new_host", "severity": "medium", "ip": "127.0.0.3"})
    );

    delta.from.as_mut().unwrap().snapshot = None;
    delta.from.as_mut().unwrap().file = Some("old.xml".into());
    let got = serde_json::to_value(&delta).unwrap();
    assert_eq!(got["from"]["snapshot"], Value::Null);
    assert_eq!(got["from"]["file"], "old.xml");
    assert!(got["to"].get("file").is_none());
    assert_eq!(serde_json::from_value::<Delta>(got).unwrap(), delta);

    let baseline = serde_json::to_value(compare(None, &b, &DeltaConfig::default())).unwrap();
    assert_eq!(baseline["from"], Value::Null);
    assert_eq!(baseline["status"], "stable");
}

#[test]
fn as_str_is_the_json_spelling() {
    let json = |v: Value| v.as_str().unwrap().to_string();
    for kind in [
        ChangeKind::NewHost,
        ChangeKind::HostGone,
        ChangeKind::PortOpened,
        ChangeKind::PortClosed,
        ChangeKind::ServiceChanged,
    ] {
        assert_eq!(kind.as_str(), json(serde_json::to_value(kind).unwrap()));
    }
    for status in [
        DeltaStatus::Critical,
        DeltaStatus::Changes,
        DeltaStatus::Stable,
    ] {
        assert_eq!(status.as_str(), json(serde_json::to_value(status).unwrap()));
    }
    use NotComparedReason::*;
    for reason in [
        Failed,
        Timeout,
        Unresolved,
        PreviousFailed,
        PreviousTimeout,
        PreviousUnresolved,
        TargetAdded,
        TargetRemoved,
        AddressesChanged,
    ] {
        assert_eq!(reason.as_str(), json(serde_json::to_value(reason).unwrap()));
        assert!(!reason.explain().is_empty());
    }
}

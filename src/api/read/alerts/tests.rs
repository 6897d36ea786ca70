//! Alert listing and actions through the pipeline: states, conflicts, notes, token scopes
//! and the cross-site guard.

use crate::api::read::tests::{HOSTILE, READER, WRITER, call, get, raise, setup};
use crate::model::Severity;

fn ids(v: &serde_json::Value) -> Vec<i64> {
    v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn list_filters_pages_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22]], |_| {});
    let a = raise(dir.path(), "192.0.2.1", 3389, Severity::Critical);
    let b = raise(dir.path(), "192.0.2.1", 22, Severity::High);
    let c = raise(dir.path(), "192.0.2.2", 8080, Severity::Low);
    assert_eq!(ids(&get(&s, "/api/alerts").json()), [c, b, a]);
    assert_eq!(ids(&get(&s, "/api/alerts?severity=high").json()), [b]);
    assert_eq!(
        ids(&get(&s, "/api/alerts?min_severity=high").json()),
        [b, a]
    );
    let page = get(&s, "/api/alerts?limit=2").json();
    assert_eq!(
        (ids(&page), page["next_before"].as_i64()),
        (vec![c, b], Some(b))
    );
    let rest = get(&s, &format!("/api/alerts?limit=2&before={b}")).json();
    assert_eq!((ids(&rest), rest["next_before"].as_i64()), (vec![a], None));
    let csv = get(&s, "/api/alerts?format=csv&severity=critical").text;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,kind,severity,status,ip,protocol,port,message"));
    assert!(lines[1].starts_with(&format!(
        "{a},port_opened,critical,open,192.0.2.1,tcp,3389,"
    )));
    assert_eq!(lines.len(), 2);
}

#[test]
fn ack_and_ignore_follow_the_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22]], |_| {});
    let id = raise(dir.path(), "192.0.2.1", 3389, Severity::Critical);
    let r = call(&s, "POST", &format!("/api/alerts/{id}/ack"), &[]);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["status"], "actioned");
    let again = call(&s, "POST", &format!("/api/alerts/{id}/ack"), &[]);
    assert_eq!(
        (again.status, again.code().as_str()),
        (409, "alert_transition")
    );
    assert_eq!(
        get(&s, "/api/alerts?status=actioned").json()["alerts"][0]["id"],
        id
    );
    let r = call(&s, "POST", &format!("/api/alerts/{id}/ignore"), &[]);
    assert_eq!(r.json()["status"], "ignored");
    assert_eq!(
        call(&s, "POST", &format!("/api/alerts/{id}/ignore"), &[]).status,
        409
    );
    for url in ["/api/alerts/999/ack", "/api/alerts/x/ignore"] {
        let r = call(&s, "POST", url, &[]);
        assert_eq!(
            (r.status, r.code().as_str()),
            (404, "alert_not_found"),
            "{url}"
        );
    }
    assert_eq!(get(&s, &format!("/api/alerts/{id}/ack")).status, 405);
}

#[test]
fn a_note_travels_with_the_action_and_bad_bodies_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22]], |_| {});
    let id = raise(dir.path(), "192.0.2.1", 3389, Severity::Critical);
    let post = |body: &str| {
        let request = rouille::Request::fake_http(
            "POST",
            format!("/api/alerts/{id}/ack"),
            vec![
                ("Content-Type".into(), "application/json".into()),
                ("Content-Length".into(), body.len().to_string()),
            ],
            body.as_bytes().to_vec(),
        );
        let mut response = crate::api::pipeline::handle(&s, &request);
        let (mut reader, _) = std::mem::replace(&mut response.data, rouille::ResponseBody::empty())
            .into_reader_and_size();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut reader, &mut text).unwrap();
        (
            response.status_code,
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        )
    };
    let (status, v) = post(r#"{"note": 5}"#);
    assert_eq!((status, v["error"]["field"].as_str()), (400, Some("note")));
    let (status, v) = post(r#"{"comment": "x"}"#);
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (400, Some("unknown_field"))
    );
    let long = format!(r#"{{"note": "{}"}}"#, "x".repeat(1001));
    let (status, v) = post(&long);
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (400, Some("note_too_long"))
    );
    let (status, v) = post(&format!(r#"{{"note": "firewalled {HOSTILE}"}}"#));
    assert_eq!(status, 200);
    assert_eq!(v["note"], format!("firewalled {HOSTILE}"));
    assert_eq!(v["status"], "actioned");
}

#[test]
fn read_tokens_read_but_only_write_tokens_act() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22]], |c| {
        c.api.tokens = vec![WRITER.into()];
        c.api.read_tokens = vec![READER.into()];
    });
    let id = raise(dir.path(), "192.0.2.1", 3389, Severity::Critical);
    let reader = format!("Bearer {READER}");
    let writer = format!("Bearer {WRITER}");
    let ack = format!("/api/alerts/{id}/ack");
    for url in ["/api/snapshots", "/api/alerts", "/api/stats/trends", "/"] {
        assert_eq!(get(&s, url).status, 401, "{url}");
        assert_eq!(
            call(&s, "GET", url, &[("Authorization", &reader)]).status,
            200,
            "{url}"
        );
    }
    // A browser gets a Basic challenge on the page, API clients a Bearer one.
    assert_eq!(
        get(&s, "/")
            .header("WWW-Authenticate")
            .unwrap()
            .split(' ')
            .next(),
        Some("Basic")
    );
    assert_eq!(
        get(&s, "/api/alerts").header("WWW-Authenticate"),
        Some("Bearer")
    );
    // "u:reader-token-0123456789" as Basic credentials.
    let basic = "Basic dTpyZWFkZXItdG9rZW4tMDEyMzQ1Njc4OQ==";
    assert_eq!(
        call(&s, "GET", "/", &[("Authorization", basic)]).status,
        200
    );

    assert_eq!(call(&s, "POST", &ack, &[]).status, 401);
    let r = call(&s, "POST", &ack, &[("Authorization", &reader)]);
    assert_eq!((r.status, r.code().as_str()), (403, "insufficient_scope"));
    let r = call(&s, "POST", "/api/scan", &[("Authorization", &reader)]);
    assert_eq!((r.status, r.code().as_str()), (403, "insufficient_scope"));
    let open = call(
        &s,
        "GET",
        "/api/alerts?status=open",
        &[("Authorization", &reader)],
    );
    assert_eq!(open.json()["alerts"][0]["id"], id, "unchanged");
    let r = call(&s, "POST", &ack, &[("Authorization", &writer)]);
    assert_eq!(
        (r.status, r.json()["status"].as_str()),
        (200, Some("actioned"))
    );
}

#[test]
fn cross_site_posts_are_refused_same_origin_ones_pass() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22]], |_| {});
    let id = raise(dir.path(), "192.0.2.1", 3389, Severity::Critical);
    let url = format!("/api/alerts/{id}/ignore");
    for headers in [
        &[("Sec-Fetch-Site", "cross-site")][..],
        &[("Sec-Fetch-Site", "same-site")][..],
        &[
            ("Origin", "http://evil.example"),
            ("Host", "127.0.0.1:5000"),
        ][..],
        &[("Origin", "null"), ("Host", "127.0.0.1:5000")][..],
    ] {
        let r = call(&s, "POST", &url, headers);
        assert_eq!(
            (r.status, r.code().as_str()),
            (403, "cross_site_request"),
            "{headers:?}"
        );
    }
    let same = [
        ("Origin", "http://127.0.0.1:5000"),
        ("Host", "127.0.0.1:5000"),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    assert_eq!(call(&s, "POST", &url, &same).json()["status"], "ignored");
}

/// POST `body` as JSON to `url` with `headers`.
fn post_json(
    s: &crate::api::state::State,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> crate::api::read::tests::Reply {
    let mut all = vec![("Content-Type", "application/json"), ("Content-Length", "")];
    let length = body.len().to_string();
    all[1].1 = &length;
    all.extend_from_slice(headers);
    crate::api::read::tests::call_with_body(s, "POST", url, &all, body.as_bytes())
}

#[test]
fn unignore_reopens_an_ignored_alert_only() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22]], |_| {});
    let id = raise(dir.path(), "192.0.2.1", 3389, Severity::Critical);
    let url = format!("/api/alerts/{id}/unignore");
    let open = call(&s, "POST", &url, &[]);
    assert_eq!(
        (open.status, open.code().as_str()),
        (409, "alert_transition")
    );
    assert_eq!(
        call(&s, "POST", &format!("/api/alerts/{id}/ignore"), &[]).status,
        200
    );
    let r = call(&s, "POST", &url, &[]);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["status"], "open");
    assert_eq!(
        call(&s, "POST", "/api/alerts/999/unignore", &[]).status,
        404
    );
}

#[test]
fn bulk_ack_changes_what_it_can_and_says_why_not_for_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22]], |_| {});
    let a = raise(dir.path(), "192.0.2.1", 3389, Severity::Critical);
    let b = raise(dir.path(), "192.0.2.1", 22, Severity::High);
    let c = raise(dir.path(), "192.0.2.2", 8080, Severity::Low);
    assert_eq!(
        call(&s, "POST", &format!("/api/alerts/{c}/ignore"), &[]).status,
        200
    );
    let body = format!("{{\"ids\": [{a}, {b}, {a}, {c}, 999], \"note\": \"patched\"}}");
    let r = post_json(&s, "/api/alerts/ack", &[], &body);
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    let changed: Vec<i64> = v["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    assert_eq!(changed, [a, b], "repeats dropped");
    assert!(
        v["changed"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["note"] == "patched" && x["status"] == "actioned")
    );
    let failed: Vec<(i64, String)> = v["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["id"].as_i64().unwrap(),
                x["error"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            (c, "invalid_transition".to_string()),
            (999, "not_found".to_string())
        ]
    );
    assert_eq!(ids(&get(&s, "/api/alerts?status=actioned").json()), [b, a]);
    for bad in [
        "{}",
        "{\"ids\": []}",
        "{\"ids\": [0]}",
        "{\"ids\": [\"1\"]}",
        "{\"ids\": 1}",
        "{\"ids\": [1], \"note\": 5}",
        "{\"ids\": [1], \"extra\": true}",
        "[1, 2]",
    ] {
        let r = post_json(&s, "/api/alerts/ack", &[], bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
    let too_many = format!(
        "{{\"ids\": [{}]}}",
        (1..=1001)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    assert_eq!(post_json(&s, "/api/alerts/ack", &[], &too_many).status, 400);
}

#[test]
fn bulk_ack_and_unignore_need_a_write_token_and_refuse_cross_site() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22]], |c| {
        c.api.tokens = vec![WRITER.into()];
        c.api.read_tokens = vec![READER.into()];
    });
    let id = raise(dir.path(), "192.0.2.1", 3389, Severity::Critical);
    let body = format!("{{\"ids\": [{id}]}}");
    let reader = format!("Bearer {READER}");
    let writer = format!("Bearer {WRITER}");
    let r = post_json(&s, "/api/alerts/ack", &[], &body);
    assert_eq!(r.status, 401);
    let r = post_json(&s, "/api/alerts/ack", &[("Authorization", &reader)], &body);
    assert_eq!((r.status, r.code().as_str()), (403, "insufficient_scope"));
    let r = call(
        &s,
        "POST",
        &format!("/api/alerts/{id}/unignore"),
        &[("Authorization", &reader)],
    );
    assert_eq!(r.status, 403);
    let r = post_json(
        &s,
        "/api/alerts/ack",
        &[("Authorization", &writer), ("Sec-Fetch-Site", "cross-site")],
        &body,
    );
    assert_eq!(r.status, 403);
    let r = post_json(&s, "/api/alerts/ack", &[("Authorization", &writer)], &body);
    assert_eq!(r.status, 200, "{}", r.text);
    let _ = HOSTILE;
}

#[test]
fn bulk_ignore_ignores_open_and_actioned_alerts_with_the_note() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[&[22]], |_| {});
    let a = raise(dir.path(), "192.0.2.1", 3389, Severity::Critical);
    let b = raise(dir.path(), "192.0.2.1", 22, Severity::High);
    assert_eq!(
        call(&s, "POST", &format!("/api/alerts/{b}/ack"), &[]).status,
        200
    );
    let body = format!("{{\"ids\": [{a}, {b}, 999], \"note\": \"accepted risk\"}}");
    let r = post_json(&s, "/api/alerts/ignore", &[], &body);
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["changed"].as_array().unwrap().len(), 2, "{v}");
    assert!(
        v["changed"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["status"] == "ignored" && x["note"] == "accepted risk")
    );
    assert_eq!(v["failed"][0]["id"], 999);
    let again = post_json(
        &s,
        "/api/alerts/ignore",
        &[],
        &format!("{{\"ids\": [{a}]}}"),
    );
    assert_eq!(again.json()["failed"][0]["error"], "invalid_transition");
    assert_eq!(
        post_json(&s, "/api/alerts/ignore", &[], "{\"ids\": []}").status,
        400
    );
}

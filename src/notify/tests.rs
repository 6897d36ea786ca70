//! Payload shapes, filters, and the outbox's delivery against a loopback receiver run by the
//! test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use super::*;
use crate::config::{ExpectConfig, WebhookFormat};
use crate::delta::{self, DeltaConfig};
use crate::model::{AlertKind, AlertStatus};
use crate::store::{AlertChanges, NewAlert, Store};
use crate::testdata::{self, temp_store};

/// What the receiver does with one request.
#[derive(Clone, Copy)]
enum Answer {
    Status(u16),
    /// Read the request, never answer (for a while).
    Hang,
}

#[derive(Debug, Clone)]
struct Request {
    head: String,
    body: String,
}

/// A one-thread HTTP receiver on 127.0.0.1:0 answering with `script` in order (the last
/// answer repeats).
fn receiver(script: Vec<Answer>) -> (String, Arc<Mutex<Vec<Request>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap_or(());
            log.lock().unwrap().push(Request {
                head,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            match script[i.min(script.len() - 1)] {
                Answer::Status(code) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {code} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                    );
                }
                Answer::Hang => std::thread::sleep(Duration::from_secs(3)),
            }
        }
    });
    (
        format!("http://{addr}/hooks/s3cr3t-path?key=s3cr3t-query"),
        seen,
    )
}

fn alert(id: i64, kind: AlertKind, severity: Severity, port: Option<u16>) -> Alert {
    let t: Timestamp = "2026-11-20T02:00:00Z".parse().unwrap();
    Alert {
        id,
        kind,
        severity,
        ip: "192.0.2.7".into(),
        protocol: port.map(|_| "tcp".into()),
        port,
        message: format!("message {id}"),
        status: AlertStatus::Open,
        first_snapshot: 3,
        last_snapshot: 3,
        created_at: t,
        updated_at: t,
        note: None,
    }
}

fn alerts() -> Vec<Alert> {
    vec![
        alert(1, AlertKind::UnexpectedPort, Severity::Critical, Some(3389)),
        alert(2, AlertKind::NewHost, Severity::Medium, None),
        alert(3, AlertKind::HostGone, Severity::Info, None),
    ]
}

fn run() -> RunSummary {
    let t: Timestamp = "2026-11-20T02:00:00Z".parse().unwrap();
    RunSummary {
        snapshot: 3,
        started_at: t,
        finished_at: t,
        profile: "default".into(),
        status: "complete".into(),
        targets_total: 1,
        targets_failed: 0,
        hosts_up: 2,
        open_ports: 3,
        delta_status: "critical".into(),
        score: Some(55),
        alerts_raised: 3,
        alerts_resolved: 0,
    }
}

/// A scan of 192.0.2.0/29 (entry `office`) where 192.0.2.7 has RDP open with a hostile banner.
fn scanned() -> crate::snapshot::Snapshot {
    let t: Timestamp = "2026-11-20T02:00:00Z".parse().unwrap();
    let mut rdp = testdata::service_port("tcp", 3389, "open", "ms-wbt-server", "xrdp");
    rdp.service.version = "<!channel> <https://e.example|Re-login> & co".into();
    let mut s = testdata::snapshot(
        "default",
        t,
        vec![testdata::target(
            "office",
            "192.0.2.0/29",
            crate::snapshot::TargetStatus::Completed,
            &["192.0.2.0/29"],
        )],
        vec![testdata::up("192.0.2.7", vec![rdp])],
    );
    s.id = Some(3);
    s
}

fn expecting_ssh() -> DeltaConfig {
    let config = Config {
        expect: vec![ExpectConfig {
            targets: vec!["office".into()],
            ports: vec!["22/tcp".into()],
        }],
        ..Config::default()
    };
    DeltaConfig::from_config(&config)
}

fn hook(url: &str) -> WebhookConfig {
    WebhookConfig {
        url: url.into(),
        timeout: 2,
        ..WebhookConfig::default()
    }
}

const FAST: Backoff = Backoff {
    attempts: 3,
    first_delay: Duration::from_millis(20),
};

#[test]
fn filters_by_severity_and_kind() {
    let list = alerts();
    let mut h = hook("http://127.0.0.1/");
    let ids = |h: &WebhookConfig| select(h, &list).iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(ids(&h), [1, 2, 3]);
    h.min_severity = Severity::Medium;
    assert_eq!(ids(&h), [1, 2]);
    h.kinds = vec![AlertKind::NewHost, AlertKind::HostGone];
    assert_eq!(ids(&h), [2]);
}

#[test]
fn endpoints_keep_only_scheme_host_and_port() {
    assert_eq!(
        endpoint("https://hooks.example/services/T0/B0/s3cr3t"),
        "https://hooks.example:443"
    );
    assert_eq!(
        endpoint("http://u:pw@127.0.0.1:8080/x?token=s3cr3t"),
        "http://127.0.0.1:8080"
    );
    assert_eq!(endpoint("not a url"), "(invalid URL)");
    assert_eq!(Backoff::default().delay_after(1), Duration::from_secs(1));
    assert_eq!(Backoff::default().delay_after(2), Duration::from_secs(2));
}

#[test]
fn slack_escape_covers_its_three_characters_only() {
    assert_eq!(
        crate::report::text::slack("<!channel> <https://e.example|Re-login> & \"x\""),
        "&lt;!channel&gt; &lt;https://e.example|Re-login&gt; &amp; \"x\""
    );
    assert_eq!(crate::report::text::slack("&amp;"), "&amp;amp;");
    assert_eq!(crate::report::text::slack("plain"), "plain");
}

#[test]
fn notices_carry_service_entry_expectation_and_actions() {
    let list = alerts();
    let refs: Vec<&Alert> = list.iter().collect();
    let n = payload::notices(&scanned(), &expecting_ssh(), &refs, "alert.raised");
    let rdp = &n[0];
    let service = rdp.service.as_ref().unwrap();
    assert_eq!(
        (service.name.as_str(), service.product.as_str()),
        ("ms-wbt-server", "xrdp")
    );
    assert_eq!(rdp.entry.as_deref(), Some("office"));
    assert_eq!(
        rdp.expected,
        Some(false),
        "only 22/tcp is expected on office"
    );
    assert!(rdp.recommended_actions[0].contains("[[expect]]"));
    assert_eq!(n[1].service, None, "host alerts have no service");
    assert_eq!(n[1].expected, None);
    // Without an expectation the flag is absent, not false.
    let plain = payload::notices(&scanned(), &DeltaConfig::default(), &refs, "alert.raised");
    assert_eq!(plain[0].expected, None);
    for kind in AlertKind::ALL {
        assert!(!payload::recommended_actions(kind).is_empty(), "{kind}");
    }
}

#[test]
fn payload_shapes() {
    let list = alerts();
    let refs: Vec<&Alert> = list.iter().collect();
    let all = payload::notices(&scanned(), &expecting_ssh(), &refs, "alert.raised");
    let j = payload::json(&run(), &all, Some("https://scanner.example/"));
    assert_eq!(j["event_type"], "alerts.raised");
    assert_eq!(j["web_url"], "https://scanner.example/");
    assert_eq!(j["run"]["snapshot"], 3);
    assert_eq!(j["run"]["score"], 55);
    let a = &j["alerts"][0];
    assert_eq!(a["kind"], "unexpected_port");
    assert_eq!(a["port"], 3389);
    assert_eq!(a["event_type"], "alert.raised");
    assert_eq!(a["service"]["product"], "xrdp");
    assert_eq!(a["expected"], false);
    assert_eq!(a["entry"], "office");
    assert!(!a["recommended_actions"].as_array().unwrap().is_empty());
    assert_eq!(j["alerts"][1]["port"], serde_json::Value::Null);

    let s = payload::slack(&run(), &all, Some("https://scanner.example/"));
    let text = s["text"].as_str().unwrap();
    assert!(
        text.contains("3 new alerts (1 critical, 1 medium, 1 info)"),
        "{text}"
    );
    assert!(
        text.ends_with("<https://scanner.example/|dashboard>"),
        "{text}"
    );
    let att = s["attachments"].as_array().unwrap();
    assert_eq!(att.len(), 3);
    assert_eq!(att[0]["color"], "#b00020");
    assert_eq!(att[1]["color"], "#f2c744");
    assert_eq!(att[0]["text"], "message 1");
    assert!(att[0]["footer"].as_str().unwrap().contains("3389/tcp"));
    let fields = serde_json::to_string(&att[0]["fields"]).unwrap();
    assert!(fields.contains("\"title\":\"Service\""), "{fields}");
    assert!(
        fields.contains("&lt;!channel&gt; &lt;https://e.example|Re-login&gt; &amp; co"),
        "the banner is escaped: {fields}"
    );
    assert!(!fields.contains("<!channel>"), "{fields}");
    assert!(fields.contains("\"value\":\"office\""), "{fields}");

    let many: Vec<Alert> = (0..60)
        .map(|i| alert(i, AlertKind::PortOpened, Severity::Low, Some(1000)))
        .collect();
    let refs: Vec<&Alert> = many.iter().collect();
    let notices = payload::notices(&scanned(), &DeltaConfig::default(), &refs, "alert.raised");
    let s = payload::slack(&run(), &notices, None);
    assert_eq!(s["attachments"].as_array().unwrap().len(), 50);
    assert!(s["text"].as_str().unwrap().contains("first 50"));
}

#[test]
fn the_mail_has_both_parts_with_scan_text_escaped() {
    let list = alerts();
    let refs: Vec<&Alert> = list.iter().collect();
    let raised = payload::notices(&scanned(), &expecting_ssh(), &refs[..1], "alert.raised");
    let resolved = payload::notices(&scanned(), &expecting_ssh(), &refs[1..2], "alert.resolved");
    let mail = email::render(&run(), &raised, &resolved, Some("https://scanner.example/"));
    assert_eq!(
        mail.subject,
        "[daily_scan] CRITICAL: 1 new alert, 1 resolved (snapshot 3, default)"
    );
    assert!(mail.text.contains("192.0.2.7 3389/tcp"), "{}", mail.text);
    assert!(
        mail.text.contains("service: ms-wbt-server xrdp <!channel>"),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("Dashboard: https://scanner.example/"));
    assert!(mail.html.contains("&lt;!channel&gt;"), "{}", mail.html);
    assert!(!mail.html.contains("<!channel>"));
    assert!(mail.html.contains("<a href=\"https://scanner.example/\">"));
    assert!(!mail.html.contains("<img"), "no remote images");
    assert!(mail.html.contains("Resolved alerts"));
}

/// Every recorded attempt, oldest first.
fn oldest_first(store: &Store) -> Vec<crate::store::Delivery> {
    let mut list = store.list_deliveries(100).unwrap();
    list.reverse();
    list
}

/// Config with these webhooks.
fn config(hooks: Vec<WebhookConfig>) -> Config {
    Config {
        webhook: hooks,
        ..Config::default()
    }
}

/// Raises the three test alerts in snapshot 3 and writes what `config` is owed.
fn raise(store: &mut Store, config: &Config) {
    let snapshot = scanned();
    let dc = DeltaConfig::default();
    let d = delta::compare(None, &snapshot, &dc);
    let raise: Vec<NewAlert> = alerts()
        .into_iter()
        .map(|a| NewAlert {
            kind: a.kind,
            severity: a.severity,
            ip: a.ip,
            protocol: a.protocol,
            port: a.port,
            message: a.message,
            snapshot: 3,
        })
        .collect();
    store
        .sync_alerts_and_enqueue(
            3,
            |_| AlertChanges {
                raise,
                ..AlertChanges::default()
            },
            |sync| enqueue(config, &snapshot, &d, &dc, sync),
        )
        .unwrap();
}

#[test]
fn retries_until_delivered_with_token_and_headers() {
    let (url, seen) = receiver(vec![
        Answer::Status(500),
        Answer::Status(503),
        Answer::Status(200),
    ]);
    let mut h = hook(&url);
    h.format = WebhookFormat::Slack;
    h.name = "slack".into();
    h.token_env = Some("HOOK_TOKEN".into());
    h.headers.insert("X-Team".into(), "secops".into());
    let env = |k: &str| (k == "HOOK_TOKEN").then(|| "tok-s3cr3t-123".to_string());
    let config = config(vec![h]);
    let (_dir, mut store) = temp_store();
    raise(&mut store, &config);
    let results = flush(&mut store, &config, &env, FAST);
    assert_eq!(results[0].outcome, Some(DeliveryOutcome::Delivered));
    let records = oldest_first(&store);
    let brief: Vec<_> = records
        .iter()
        .map(|r| (r.attempt.attempt, r.attempt.status_code, r.attempt.outcome))
        .collect();
    assert_eq!(
        brief,
        [
            (1, Some(500), DeliveryOutcome::Retrying),
            (2, Some(503), DeliveryOutcome::Retrying),
            (3, Some(200), DeliveryOutcome::Delivered)
        ]
    );
    assert_eq!(records[0].attempt.webhook, "slack");
    assert!(records[0].attempt.endpoint.starts_with("http://127.0.0.1:"));
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 3);
    let head = requests[2].head.to_ascii_lowercase();
    assert!(
        head.starts_with("post /hooks/s3cr3t-path?key=s3cr3t-query "),
        "{head}"
    );
    assert!(
        head.contains("authorization: bearer tok-s3cr3t-123"),
        "{head}"
    );
    assert!(head.contains("x-team: secops"), "{head}");
    let body: serde_json::Value = serde_json::from_str(&requests[2].body).unwrap();
    assert_eq!(body["attachments"].as_array().unwrap().len(), 3);
    let stored = format!("{records:?}{:?}", store.list_outbox(10).unwrap());
    assert!(!stored.contains("s3cr3t"), "{stored}");
    // Delivered once: a second flush sends nothing.
    assert!(flush(&mut store, &config, &env, FAST).is_empty());
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[test]
fn a_failed_notification_stays_pending_until_a_later_flush_delivers_it() {
    let (url, seen) = receiver(vec![
        Answer::Status(503),
        Answer::Status(503),
        Answer::Status(503),
        Answer::Status(200),
    ]);
    let mut h = hook(&url);
    h.name = "siem".into();
    let config = config(vec![h]);
    let (_dir, mut store) = temp_store();
    raise(&mut store, &config);
    let first = flush(&mut store, &config, &|_| None, FAST);
    assert_eq!(first[0].outcome, Some(DeliveryOutcome::Failed));
    let pending = store.pending_outbox().unwrap();
    assert_eq!((pending.len(), pending[0].attempts), (1, 3));
    assert_eq!(pending[0].last_error.as_deref(), Some("HTTP 503"));
    let second = flush(&mut store, &config, &|_| None, FAST);
    assert_eq!(second[0].outcome, Some(DeliveryOutcome::Delivered));
    assert_eq!(second[0].snapshot_id, 3);
    assert!(store.pending_outbox().unwrap().is_empty());
    let last = &store.list_deliveries(1).unwrap()[0].attempt;
    assert_eq!(
        (last.attempt, last.outcome),
        (4, DeliveryOutcome::Delivered)
    );
    let bodies: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.body.clone())
        .collect();
    assert_eq!(bodies.len(), 4);
    assert!(
        bodies.iter().all(|b| *b == bodies[0]),
        "the same document each time"
    );
    assert!(flush(&mut store, &config, &|_| None, FAST).is_empty());
}

#[test]
fn an_old_pending_notification_expires_instead_of_being_sent() {
    let (url, seen) = receiver(vec![Answer::Status(200)]);
    let mut config = config(vec![hook(&url)]);
    config.notify.max_age = "1s".into();
    let (_dir, mut store) = temp_store();
    raise(&mut store, &config);
    std::thread::sleep(Duration::from_millis(1100));
    assert!(flush(&mut store, &config, &|_| None, FAST).is_empty());
    assert!(seen.lock().unwrap().is_empty());
    assert_eq!(store.list_outbox(1).unwrap()[0].status, "expired");
}

#[test]
fn a_client_error_is_final_and_an_unset_token_sends_nothing() {
    let (url, seen) = receiver(vec![Answer::Status(404)]);
    let mut with_token = hook(&url);
    with_token.name = "needs-token".into();
    with_token.token_env = Some("UNSET_TOKEN".into());
    let mut filtered = hook(&url);
    filtered.name = "critical-new-hosts".into();
    filtered.min_severity = Severity::Critical;
    filtered.kinds = vec![AlertKind::NewHost];
    let plain = hook(&url);
    let config = config(vec![with_token, filtered, plain]);
    let (_dir, mut store) = temp_store();
    raise(&mut store, &config);
    let results = flush(&mut store, &config, &|_| None, FAST);
    assert_eq!(
        results.len(),
        2,
        "nothing passed the filtered webhook's filter"
    );
    assert_eq!(results[0].outcome, Some(DeliveryOutcome::Failed));
    assert_eq!(results[1].outcome, Some(DeliveryOutcome::Failed));
    let records = oldest_first(&store);
    assert_eq!(records.len(), 2);
    assert!(
        records[0]
            .attempt
            .error
            .as_deref()
            .unwrap()
            .contains("UNSET_TOKEN")
    );
    assert_eq!(
        (records[1].attempt.attempt, records[1].attempt.status_code),
        (1, Some(404))
    );
    assert_eq!(seen.lock().unwrap().len(), 1, "only the plain webhook sent");
}

#[test]
fn a_hanging_receiver_is_abandoned_after_the_timeout() {
    let (url, _seen) = receiver(vec![Answer::Hang]);
    let mut h = hook(&url);
    h.timeout = 1;
    let config = config(vec![h]);
    let (_dir, mut store) = temp_store();
    raise(&mut store, &config);
    let backoff = Backoff {
        attempts: 2,
        first_delay: Duration::from_millis(10),
    };
    let out = flush(&mut store, &config, &|_| None, backoff);
    assert_eq!(out[0].outcome, Some(DeliveryOutcome::Failed));
    let records = store.list_deliveries(10).unwrap();
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(r.attempt.status_code, None);
        assert_eq!(r.attempt.error.as_deref(), Some("no answer within 1 s"));
    }
}

#[test]
fn connection_errors_do_not_leak_the_url() {
    // A port nothing listens on: bind, note it, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut h = hook(&format!("http://127.0.0.1:{port}/s3cr3t"));
    h.token_env = Some("T".into());
    let config = config(vec![h]);
    let (_dir, mut store) = temp_store();
    raise(&mut store, &config);
    let backoff = Backoff {
        attempts: 1,
        first_delay: Duration::ZERO,
    };
    flush(&mut store, &config, &|_| Some("tok-s3cr3t".into()), backoff);
    let records = store.list_deliveries(10).unwrap();
    assert_eq!(records[0].attempt.outcome, DeliveryOutcome::Failed);
    let text = format!("{records:?}");
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(records[0].attempt.error.is_some());
}

#[test]
fn test_sends_are_marked_and_name_their_destination() {
    let (url, seen) = receiver(vec![Answer::Status(204)]);
    let mut h = hook(&url);
    h.name = "siem".into();
    let config = config(vec![h]);
    let results = send_test(&config, Some("siem"), &|_| None).unwrap();
    assert_eq!(results[0].outcome, Ok(204));
    let body: serde_json::Value = serde_json::from_str(&seen.lock().unwrap()[0].body).unwrap();
    assert_eq!(
        (body["event_type"].as_str(), body["test"].as_bool()),
        (Some("test"), Some(true))
    );
    let err = send_test(&config, Some("nope"), &|_| None).unwrap_err();
    assert!(err.contains("\"nope\""), "{err}");
}

#[test]
fn a_notification_for_a_removed_destination_is_reported_not_sent() {
    let (url, seen) = receiver(vec![Answer::Status(200)]);
    let mut h = hook(&url);
    h.name = "old".into();
    let (_dir, mut store) = temp_store();
    raise(&mut store, &config(vec![h]));
    let results = flush(&mut store, &Config::default(), &|_| None, FAST);
    assert_eq!(results.len(), 1);
    assert_eq!(
        (results[0].webhook.as_str(), results[0].outcome),
        ("old", None)
    );
    assert!(seen.lock().unwrap().is_empty());
    assert_eq!(
        store.pending_outbox().unwrap().len(),
        1,
        "still pending until it expires"
    );
}

//! Payload shapes, filters, and delivery against a loopback receiver run by the test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::*;
use crate::model::Severity;
use crate::model::{AlertKind, AlertStatus};

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
fn payload_shapes() {
    let list = alerts();
    let all: Vec<&Alert> = list.iter().collect();
    let j = payload::json(&run(), &all);
    assert_eq!(j["run"]["snapshot"], 3);
    assert_eq!(j["run"]["score"], 55);
    assert_eq!(j["alerts"][0]["kind"], "unexpected_port");
    assert_eq!(j["alerts"][0]["port"], 3389);
    assert_eq!(j["alerts"][1]["port"], serde_json::Value::Null);

    let s = payload::slack(&run(), &all);
    let text = s["text"].as_str().unwrap();
    assert!(
        text.contains("3 new alerts (1 critical, 1 medium, 1 info)"),
        "{text}"
    );
    let att = s["attachments"].as_array().unwrap();
    assert_eq!(att.len(), 3);
    assert_eq!(att[0]["color"], "#b00020");
    assert_eq!(att[1]["color"], "#f2c744");
    assert_eq!(att[0]["text"], "message 1");
    assert!(att[0]["footer"].as_str().unwrap().contains("3389/tcp"));

    let many: Vec<Alert> = (0..60)
        .map(|i| alert(i, AlertKind::PortOpened, Severity::Low, Some(1000)))
        .collect();
    let refs: Vec<&Alert> = many.iter().collect();
    let s = payload::slack(&run(), &refs);
    assert_eq!(s["attachments"].as_array().unwrap().len(), 50);
    assert!(s["text"].as_str().unwrap().contains("first 50"));
}

fn collect(
    hooks: &[WebhookConfig],
    env: &dyn Fn(&str) -> Option<String>,
) -> (Vec<WebhookResult>, Vec<DeliveryAttempt>) {
    let mut records = Vec::new();
    let list = alerts();
    let results = notify_all(hooks, &run(), &list, env, FAST, &mut |d| records.push(d));
    (results, records)
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
    let (results, records) = collect(&[h], &env);
    assert_eq!(results[0].outcome, Some(DeliveryOutcome::Delivered));
    let brief: Vec<_> = records
        .iter()
        .map(|r| (r.attempt, r.status_code, r.outcome))
        .collect();
    assert_eq!(
        brief,
        [
            (1, Some(500), DeliveryOutcome::Retrying),
            (2, Some(503), DeliveryOutcome::Retrying),
            (3, Some(200), DeliveryOutcome::Delivered)
        ]
    );
    assert_eq!(records[0].webhook, "slack");
    assert!(records[0].endpoint.starts_with("http://127.0.0.1:"));
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
    let stored = format!("{records:?}");
    assert!(!stored.contains("s3cr3t"), "{stored}");
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
    let (results, records) = collect(&[with_token, filtered, plain], &|_| None);
    assert_eq!(results[0].outcome, Some(DeliveryOutcome::Failed));
    assert_eq!(results[1].outcome, None, "nothing passed its filter");
    assert_eq!(results[2].outcome, Some(DeliveryOutcome::Failed));
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].attempt, 0);
    assert!(records[0].error.as_deref().unwrap().contains("UNSET_TOKEN"));
    assert_eq!((records[1].attempt, records[1].status_code), (1, Some(404)));
    assert_eq!(seen.lock().unwrap().len(), 1, "only the plain webhook sent");
}

#[test]
fn a_hanging_receiver_is_abandoned_after_the_timeout() {
    let (url, _seen) = receiver(vec![Answer::Hang]);
    let mut h = hook(&url);
    h.timeout = 1;
    let list = alerts();
    let selected: Vec<&Alert> = list.iter().collect();
    let mut records = Vec::new();
    let backoff = Backoff {
        attempts: 2,
        first_delay: Duration::from_millis(10),
    };
    let out = deliver(&h, "hang", None, &run(), &selected, backoff, &mut |d| {
        records.push(d)
    });
    assert_eq!(out, DeliveryOutcome::Failed);
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(r.status_code, None);
        assert_eq!(r.error.as_deref(), Some("no answer within 1 s"));
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
    let h = hook(&format!("http://127.0.0.1:{port}/s3cr3t"));
    let list = alerts();
    let selected: Vec<&Alert> = list.iter().collect();
    let mut records = Vec::new();
    let backoff = Backoff {
        attempts: 1,
        first_delay: Duration::ZERO,
    };
    deliver(
        &h,
        "down",
        Some("tok-s3cr3t"),
        &run(),
        &selected,
        backoff,
        &mut |d| records.push(d),
    );
    assert_eq!(records[0].outcome, DeliveryOutcome::Failed);
    let text = format!("{records:?}");
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(records[0].error.is_some());
}

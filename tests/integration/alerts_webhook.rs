//! Webhook delivery through the real binary: retries, a hanging receiver, the Slack payload,
//! and the token and URL never reaching output, reports or the database.

use std::net::Ipv4Addr;
use std::path::Path;

use crate::alerts_env::{Answer, Receiver, deliveries, webhook};
use crate::batch_env::{Install, Service, describe, snapshot_count, stderr, stdout};

fn install(tables: &str) -> Install {
    Install::new("18031-18032", "", &format!("profile = \"quick\"\n{tables}"))
}

/// `attempt status_code outcome` of each recorded delivery, oldest first.
fn attempts(install: &Install) -> Vec<String> {
    deliveries(install)
        .iter()
        .map(|d| {
            format!(
                "{} {} {}",
                d["attempt"],
                d["status_code"],
                d["outcome"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_failing_receiver_gets_the_alerts_on_the_third_attempt() {
    let ip = Ipv4Addr::new(127, 0, 24, 1);
    let hook = Receiver::start(&[
        Answer::Status(500),
        Answer::Status(502),
        Answer::Status(200),
    ]);
    let install = install(&webhook(&hook.url, "name = \"siem\""));
    install.targets(&["127.0.24.1"]);
    install.scan(&[], &[], 0);
    let _rdp = Service::start(ip, 18031, None);
    let run = install.scan(&[], &[], 0);
    assert!(
        run.text().contains("webhook siem: 1 alert delivered"),
        "{}",
        run.text()
    );
    assert_eq!(
        attempts(&install),
        ["1 500 retrying", "2 502 retrying", "3 200 delivered"]
    );
    let d = &deliveries(&install)[0];
    assert_eq!(d["webhook"], "siem");
    assert_eq!(d["snapshot_id"], 2);
    assert_eq!(d["alerts"], 1);
    let endpoint = d["endpoint"].as_str().unwrap();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    let got = hook.received();
    assert_eq!(got.len(), 3);
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "the same document each time"
    );
    assert_eq!(got[2].json()["alerts"][0]["kind"], "port_opened");
    let text = String::from_utf8_lossy(&install.run(&["alerts", "deliveries"]).stdout).into_owned();
    assert!(
        text.contains("siem") && text.contains("delivered"),
        "{text}"
    );
}

#[test]
fn a_hanging_receiver_is_abandoned_and_the_run_still_succeeds() {
    let ip = Ipv4Addr::new(127, 0, 25, 1);
    let hook = Receiver::start(&[Answer::Hang]);
    let install = install(&webhook(&hook.url, "name = \"slow\"\ntimeout = 1"));
    install.targets(&["127.0.25.1"]);
    let _svc = Service::start(ip, 18031, None);
    install.scan(&[], &[], 0);
    let _other = Service::start(ip, 18032, None);
    let run = install.scan(&["--fail-on", "critical"], &[], 0);
    assert!(
        run.text().contains("webhook slow: 1 alert FAILED"),
        "{}",
        run.text()
    );
    assert_eq!(snapshot_count(&install.db()), 2, "the snapshot is saved");
    let recorded = deliveries(&install);
    assert_eq!(recorded.len(), 3);
    for (n, d) in recorded.iter().enumerate() {
        assert_eq!(d["attempt"], n + 1);
        assert_eq!(d["status_code"], serde_json::Value::Null);
        assert_eq!(d["error"], "no answer within 1 s");
    }
    assert_eq!(recorded[2]["outcome"], "failed");
    assert!(stderr(&run.out).contains("webhook slow: attempt 3 of 3 failed"));
}

/// Every file under `dir` (reports, database, WAL), as bytes.
pub fn files(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
}

pub fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn slack_messages_are_colored_and_secrets_stay_out_of_logs_reports_and_database() {
    let ip = Ipv4Addr::new(127, 0, 26, 1);
    let token = "tok-9f8e7d6c5b4a-secret";
    let hook = Receiver::start(&[Answer::Status(200)]);
    let install = Install::new(
        "18031-18032",
        "",
        &format!(
            "profile = \"quick\"\n\n[[expect]]\ntargets = [\"127.0.26.1\"]\nports = []\n{}",
            webhook(
                &hook.url,
                "format = \"slack\"\ntoken_env = \"ALERT_TEST_TOKEN\"\nheaders = { \"X-Source\" = \"test\" }"
            )
        ),
    );
    install.targets(&["127.0.26.1"]);
    let _a = Service::start(ip, 18031, None);
    let _b = Service::start(ip, 18032, None);
    let run = install.scan(
        &[],
        &[("ALERT_TEST_TOKEN", token), ("RUST_LOG", "trace")],
        0,
    );

    let got = hook.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].header("authorization").as_deref(),
        Some(&*format!("Bearer {token}"))
    );
    assert_eq!(got[0].header("x-source").as_deref(), Some("test"));
    assert_eq!(
        got[0].header("content-type").as_deref(),
        Some("application/json")
    );
    let msg = got[0].json();
    let text = msg["text"].as_str().unwrap();
    assert!(text.contains("2 new alerts (2 high)"), "{text}");
    let attachments = msg["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 2);
    for a in attachments {
        assert_eq!(a["color"], "#e8590c", "high is orange");
        assert!(a["title"].as_str().unwrap().starts_with("unexpected_port"));
        assert!(a["text"].as_str().unwrap().contains("127.0.26.1"));
    }

    let mut everything = vec![
        ("stdout".to_string(), run.out.stdout.clone()),
        ("stderr".to_string(), run.out.stderr.clone()),
    ];
    files(install.dir.path(), &mut everything);
    for args in [
        &["alerts", "deliveries"][..],
        &["alerts", "--format", "json"][..],
    ] {
        let out = install.run(args);
        everything.push((format!("{args:?}"), out.stdout));
    }
    let log = &everything[1].1;
    assert!(
        contains(log, "TRACE") || contains(log, "DEBUG"),
        "logging at trace, where most would leak: {}",
        String::from_utf8_lossy(log)
    );
    for (name, bytes) in &everything {
        if name.ends_with("config.toml") {
            continue;
        }
        assert!(!contains(bytes, token), "the token leaked into {name}");
        assert!(
            !contains(bytes, "s3cr3t-hook-path"),
            "the URL leaked into {name}"
        );
    }
    assert!(
        stdout(&run.out).contains("webhook webhook[0]: 2 alerts delivered"),
        "{}",
        describe(&run.out)
    );
}

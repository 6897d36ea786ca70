//! Email and the outbox through the real binary: a real SMTP server (aiosmtpd) on loopback,
//! STARTTLS with a test CA, AUTH with a password that must appear nowhere, a wrong CA that
//! fails the send but not the run, redelivery by a later run and by `notify retry`, and
//! `notify test`. Addresses 127.0.27.0/24 and 127.0.28.0/24.

use std::net::Ipv4Addr;

use crate::alerts_env::{Answer, Receiver, deliveries, webhook};
use crate::alerts_webhook::{contains, files};
use crate::batch_env::{Install, Service, describe, stderr, stdout};
use crate::smtp_env::{Smtp, email, free_port, make_ca, make_certs};

const PASSWORD: &str = "pw-9d8c7b6a-s3cr3t";

#[test]
fn a_critical_alert_is_mailed_once_over_starttls_and_the_password_stays_out() {
    let ip = Ipv4Addr::new(127, 0, 27, 1);
    let tmp = tempfile::tempdir().unwrap();
    let certs = make_certs(tmp.path());
    let smtp = Smtp::start(tmp.path(), Some(&certs), Some(("scanner", PASSWORD)));
    let install = Install::new(
        "18041-18042,3389",
        "public_url = \"https://scanner.example.org\"",
        &format!(
            "profile = \"quick\"\n{}",
            email(
                "ops",
                smtp.port,
                &format!(
                    "tls = \"starttls\"\nusername = \"scanner\"\npassword_env = \"SMTP_PASSWORD\"\n\
                     ca_file = \"{}\"\nmin_severity = \"high\"",
                    certs.ca.display()
                )
            )
        ),
    );
    install.targets(&["127.0.27.1"]);
    let env = [("SMTP_PASSWORD", PASSWORD), ("RUST_LOG", "trace")];
    let first = install.scan(&[], &env, 0);
    assert!(smtp.messages().is_empty(), "nothing high or worse yet");
    let _rdp = Service::start(ip, 3389, None);
    let run = install.scan(&[], &env, 0);
    assert!(
        run.text().contains("email ops: 1 alert delivered"),
        "{}",
        describe(&run.out)
    );
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "one mail per run");
    let mail = &mails[0];
    let subject = mail["subject"].as_str().unwrap();
    assert!(
        subject.starts_with("[daily_scan] CRITICAL: 1 new alert, 0 resolved (snapshot 2"),
        "{subject}"
    );
    assert_eq!(mail["content_type"], "multipart/alternative");
    assert_eq!(mail["to"], "secops@example.org");
    let (text, html) = (
        mail["text"].as_str().unwrap(),
        mail["html"].as_str().unwrap(),
    );
    for part in [text, html] {
        assert!(part.contains("127.0.27.1 3389/tcp"), "{part}");
        // RDP is risky: risky_port_open, not also port_opened.
        assert!(part.contains("risky_port_open"), "{part}");
        assert!(part.contains("https://scanner.example.org/"), "{part}");
    }
    assert!(text.contains("to do: "), "{text}");
    assert!(!html.contains("<img"), "no remote images: {html}");

    let mut everything = vec![
        ("stdout".to_string(), run.out.stdout.clone()),
        ("stderr".to_string(), run.out.stderr.clone()),
        ("first stderr".to_string(), first.out.stderr.clone()),
        (
            "mail".to_string(),
            mail["raw"].as_str().unwrap().as_bytes().to_vec(),
        ),
    ];
    files(install.dir.path(), &mut everything);
    for args in [
        &["alerts", "deliveries"][..],
        &["alerts", "--format", "json"][..],
    ] {
        everything.push((format!("{args:?}"), install.run(args).stdout));
    }
    assert!(contains(&everything[1].1, "TRACE") || contains(&everything[1].1, "DEBUG"));
    for (name, bytes) in &everything {
        assert!(
            !contains(bytes, PASSWORD),
            "the password leaked into {name}"
        );
    }
    let d = deliveries(&install);
    let last = d.last().unwrap();
    assert_eq!(
        (
            last["webhook"].as_str(),
            last["format"].as_str(),
            last["outcome"].as_str()
        ),
        (Some("ops"), Some("email"), Some("delivered"))
    );
    assert_eq!(last["endpoint"], format!("smtp://127.0.0.1:{}", smtp.port));

    // A run with nothing new sends nothing more.
    install.scan(&[], &env, 0);
    assert_eq!(smtp.messages().len(), 1);
}

#[test]
fn a_wrong_ca_fails_the_send_clearly_the_run_succeeds_and_notify_retry_delivers_once() {
    let ip = Ipv4Addr::new(127, 0, 27, 2);
    let tmp = tempfile::tempdir().unwrap();
    let certs = make_certs(tmp.path());
    let (wrong_ca, _) = make_ca(tmp.path(), "other");
    let smtp = Smtp::start(tmp.path(), Some(&certs), None);
    let config = |ca: &std::path::Path| {
        format!(
            "profile = \"quick\"\n{}",
            email("ops", smtp.port, &format!("ca_file = \"{}\"", ca.display()))
        )
    };
    let install = Install::new("18041-18042", "", &config(&wrong_ca));
    install.targets(&["127.0.27.2"]);
    install.scan(&[], &[], 0);
    let _svc = Service::start(ip, 18041, None);
    let run = install.scan(&[], &[], 0);
    let err = stderr(&run.out);
    assert!(
        err.contains("email ops: attempt 3 of 3 failed") && err.contains("certificate"),
        "{err}"
    );
    assert!(
        run.text().contains("email ops: 1 alert FAILED"),
        "{}",
        run.text()
    );
    assert!(smtp.messages().is_empty());

    // The CA fixed: the pending mail goes out once, then nothing is pending.
    let fixed = install.path("config.toml");
    let text = std::fs::read_to_string(&fixed).unwrap();
    std::fs::write(
        &fixed,
        text.replace(
            &wrong_ca.display().to_string(),
            &certs.ca.display().to_string(),
        ),
    )
    .unwrap();
    let retry = install.run(&["notify", "retry"]);
    assert_eq!(retry.status.code(), Some(0), "{}", describe(&retry));
    assert!(
        stdout(&retry).contains("email ops: snapshot 2, 1 alert delivered"),
        "{}",
        describe(&retry)
    );
    assert_eq!(smtp.messages().len(), 1);
    let again = install.run(&["notify", "retry"]);
    assert_eq!(stdout(&again), "nothing pending\n", "{}", describe(&again));
    install.scan(&[], &[], 0);
    assert_eq!(smtp.messages().len(), 1, "never sent twice");
}

#[test]
fn a_webhook_down_for_one_run_gets_its_alert_from_the_next_run_once() {
    let ip = Ipv4Addr::new(127, 0, 28, 1);
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/services/T0/B0/s3cr3t-hook-path");
    let install = Install::new(
        "18041-18042",
        "",
        &format!("profile = \"quick\"\n{}", webhook(&url, "name = \"siem\"")),
    );
    install.targets(&["127.0.28.1"]);
    install.scan(&[], &[], 0);
    let _svc = Service::start(ip, 18041, None);
    let down = install.scan(&[], &[], 0);
    assert!(
        down.text().contains("webhook siem: 1 alert FAILED"),
        "{}",
        down.text()
    );

    let hook = Receiver::start_on(port, &[Answer::Status(200)]);
    let up = install.scan(&[], &[], 0);
    assert!(
        up.text().contains("webhook siem: 1 alert delivered"),
        "{}",
        describe(&up.out)
    );
    let got = hook.received();
    assert_eq!(got.len(), 1, "delivered once");
    let doc = got[0].json();
    assert_eq!(doc["run"]["snapshot"], 2, "the run that raised it");
    assert_eq!(doc["alerts"][0]["port"], 18041);
    assert_eq!(doc["alerts"][0]["entry"], "127.0.28.1");
    let retry = install.run(&["notify", "retry"]);
    assert_eq!(stdout(&retry), "nothing pending\n", "{}", describe(&retry));
    install.scan(&[], &[], 0);
    assert_eq!(hook.received().len(), 1, "never sent twice");
    let outcomes: Vec<String> = deliveries(&install)
        .iter()
        .map(|d| format!("{} {}", d["attempt"], d["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        ["1 retrying", "2 retrying", "3 failed", "4 delivered"]
    );
}

#[test]
fn notify_test_reaches_a_webhook_and_an_email_and_names_an_unknown_one() {
    let tmp = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(tmp.path(), None, None);
    let hook = Receiver::start(&[Answer::Status(200)]);
    let install = Install::new(
        "18041",
        "",
        &format!(
            "{}{}",
            webhook(&hook.url, "name = \"siem\""),
            email("relay", smtp.port, "tls = \"none\"")
        ),
    );
    let all = install.run(&["notify", "test"]);
    assert_eq!(all.status.code(), Some(0), "{}", describe(&all));
    let text = stdout(&all);
    assert!(text.contains("webhook siem (http://127.0.0.1:"), "{text}");
    assert!(text.contains("email relay (smtp://127.0.0.1:"), "{text}");
    assert_eq!(text.matches("test message delivered").count(), 2, "{text}");
    assert_eq!(hook.received()[0].json()["event_type"], "test");
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["subject"], "[daily_scan] TEST message");
    assert!(mails[0]["text"].as_str().unwrap().contains("relay"));

    let one = install.run(&["notify", "test", "siem"]);
    assert_eq!(one.status.code(), Some(0), "{}", describe(&one));
    assert_eq!(hook.received().len(), 2);
    assert_eq!(smtp.messages().len(), 1, "only the named destination");

    let unknown = install.run(&["notify", "test", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no [[webhook]] or [[email]] is named \"nope\""));
    drop(smtp);
    let down = install.run(&["notify", "test", "relay"]);
    assert_eq!(down.status.code(), Some(1), "{}", describe(&down));
    assert!(stdout(&down).contains("email relay"), "{}", describe(&down));
    assert!(stdout(&down).contains("FAILED"), "{}", describe(&down));
}

#[test]
fn slack_text_from_a_hostile_banner_is_escaped() {
    let ip = Ipv4Addr::new(127, 0, 28, 2);
    let hook = Receiver::start(&[Answer::Status(200)]);
    let install = Install::new(
        "18043",
        "",
        &format!(
            "profile = \"default\"\n{}",
            webhook(&hook.url, "name = \"chat\"\nformat = \"slack\"")
        ),
    );
    install.targets(&["127.0.28.2"]);
    install.scan(&[], &[], 0);
    // nmap's vsftpd match puts the text between "vsFTPd" and "ready" in the version.
    let _ftp = Service::start(
        ip,
        18043,
        Some(b"220 vsFTPd 3.0.3 <!channel> <https://e.example|Re-login> & co ready...\r\n"),
    );
    let run = install.scan(&[], &[], 0);
    assert!(
        run.text().contains("webhook chat: 1 alert delivered"),
        "{}",
        describe(&run.out)
    );
    let got = hook.received();
    assert_eq!(got.len(), 1);
    let msg = got[0].json();
    let attachment = &msg["attachments"][0];
    let fields = attachment["fields"].as_array().unwrap();
    let service = fields
        .iter()
        .find(|f| f["title"] == "Service")
        .unwrap_or_else(|| panic!("no Service field: {attachment}"));
    let shown = service["value"].as_str().unwrap();
    assert!(
        shown.contains("vsftpd 3.0.3 &lt;!channel&gt; &lt;https://e.example|Re-login&gt; &amp; co"),
        "{shown}"
    );
    // No Slack control sequence anywhere in what Slack renders.
    let rendered = format!("{}{}", msg["text"], attachment);
    assert!(
        !rendered.contains('<') && !rendered.contains('>'),
        "{rendered}"
    );
}

#[test]
fn smtps_with_tls_from_the_first_byte_delivers_a_test_mail() {
    let tmp = tempfile::tempdir().unwrap();
    let certs = make_certs(tmp.path());
    let smtp = Smtp::start_smtps(tmp.path(), &certs);
    let install = Install::new(
        "18041",
        "",
        &email(
            "smtps",
            smtp.port,
            &format!("tls = \"tls\"\nca_file = \"{}\"", certs.ca.display()),
        ),
    );
    let out = install.run(&["notify", "test", "smtps"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["subject"], "[daily_scan] TEST message");
}

//! Email: one mail per run that raised or resolved alerts the `[[email]]` entry's filter
//! keeps, with a plain-text and an HTML part (no remote images, no scripts), sent with
//! `lettre`'s blocking SMTP transport over rustls.
//!
//! The password comes from the `password_env` variable at send time: it is never stored in
//! the outbox, logged, or put in an error.

use std::fmt::Write as _;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use serde::{Deserialize, Serialize};

use super::Attempt;
use super::payload::{AlertNotice, RunSummary, place, severity_counts};
use crate::config::{EmailConfig, EmailTls};
use crate::model::Severity;
use crate::report::html::escape;

/// A mail as the outbox keeps it (recipients and credentials come from the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailBody {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The run's mail: `raised` and `resolved` already filtered for the entry.
pub fn render(
    run: &RunSummary,
    raised: &[AlertNotice],
    resolved: &[AlertNotice],
    web_url: Option<&str>,
) -> MailBody {
    let worst = raised
        .iter()
        .chain(resolved)
        .map(|n| n.alert.severity)
        .max()
        .unwrap_or(Severity::Info);
    let subject = format!(
        "[daily_scan] {}: {} new alert{}, {} resolved (snapshot {}, {})",
        worst.as_str().to_uppercase(),
        raised.len(),
        if raised.len() == 1 { "" } else { "s" },
        resolved.len(),
        run.snapshot,
        clean_line(&run.profile),
    );
    // The profile is the only scan-given text here: cleaned for the text part, escaped for HTML.
    let summary = format!(
        "daily_scan run {} (profile {{profile}}, {}) finished {}: {} hosts up, {} open ports, score {}.",
        run.snapshot,
        run.status,
        run.finished_at,
        run.hosts_up,
        run.open_ports,
        run.score.map_or("n/a".to_string(), |s| s.to_string()),
    );
    let mut text = summary.replace("{profile}", &clean_line(&run.profile)) + "\n";
    let mut html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><p>{}</p>",
        escape(&summary).replace("{profile}", &escape(&run.profile))
    );
    for (title, list) in [("New alerts", raised), ("Resolved alerts", resolved)] {
        if list.is_empty() {
            continue;
        }
        let counts = severity_counts(list.iter().map(|n| &n.alert));
        let _ = write!(text, "\n{title} ({counts}):\n");
        let _ = write!(html, "<h2>{title} ({})</h2><ul>", escape(&counts));
        for n in list {
            append_alert(&mut text, &mut html, n);
        }
        html.push_str("</ul>");
    }
    if let Some(url) = web_url {
        let _ = write!(text, "\nDashboard: {url}\n");
        let _ = write!(
            html,
            "<p><a href=\"{0}\">Open the dashboard</a> ({0})</p>",
            escape(url)
        );
    }
    text.push_str("\n-- \ndaily_scan (acknowledge with `daily_scan alerts ack ID`)\n");
    html.push_str("<p style=\"color:#666\">daily_scan &middot; acknowledge with <code>daily_scan alerts ack ID</code></p></body></html>");
    MailBody {
        subject,
        text,
        html,
    }
}

/// `s` on one line without control characters (scan text must not break a header or a line).
fn clean_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn append_alert(text: &mut String, html: &mut String, n: &AlertNotice) {
    let a = &n.alert;
    let service = n
        .service
        .as_ref()
        .map(|s| s.describe())
        .filter(|s| !s.is_empty());
    let _ = writeln!(
        text,
        "- #{} [{}] {} {}: {}",
        a.id,
        a.severity,
        a.kind,
        clean_line(&place(a)),
        clean_line(&a.message)
    );
    let _ = write!(
        html,
        "<li><b>#{} [{}] {}</b> {}: {}",
        a.id,
        a.severity,
        a.kind,
        escape(&place(a)),
        escape(&a.message)
    );
    if let Some(service) = &service {
        let _ = writeln!(text, "  service: {}", clean_line(service));
        let _ = write!(html, "<br>service: {}", escape(service));
    }
    if let Some(entry) = &n.entry {
        let _ = writeln!(text, "  entry: {}", clean_line(entry));
        let _ = write!(html, "<br>entry: {}", escape(entry));
    }
    if n.event_type == "alert.raised" {
        for action in &n.recommended_actions {
            let _ = writeln!(text, "  to do: {action}");
            let _ = write!(html, "<br>to do: {}", escape(action));
        }
    }
    html.push_str("</li>");
}

/// The clearly marked test mail of `daily_scan notify test`.
pub fn test_mail(name: &str) -> MailBody {
    MailBody {
        subject: "[daily_scan] TEST message".to_string(),
        text: format!(
            "This is a TEST message from daily_scan to the email destination {}.\nNo alert was raised.\n",
            clean_line(name)
        ),
        html: format!(
            "<!DOCTYPE html><html><body><p><b>TEST message</b> from daily_scan to the email destination {}.</p><p>No alert was raised.</p></body></html>",
            escape(name)
        ),
    }
}

/// An SMTP or message error in words that hold no password.
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let _ = write!(text, ": {s}");
        source = s.source();
    }
    text
}

/// The transport for `cfg` (TLS mode, extra CA, credentials, timeout).
fn transport(cfg: &EmailConfig, password: Option<String>) -> Result<SmtpTransport, String> {
    let host = cfg.smtp_host.trim();
    let mut builder = SmtpTransport::builder_dangerous(host)
        .port(cfg.smtp_port)
        .timeout(Some(Duration::from_secs(cfg.timeout)));
    if cfg.tls != EmailTls::None {
        let mut params = TlsParameters::builder(host.to_string());
        if let Some(path) = &cfg.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read ca_file {}: {e}", path.display()))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| format!("ca_file {}: not a PEM certificate: {e}", path.display()))?;
            params = params.add_root_certificate(cert);
        }
        let params = params
            .build_rustls()
            .map_err(|e| format!("TLS setup: {e}"))?;
        builder = builder.tls(match cfg.tls {
            EmailTls::Starttls => Tls::Required(params),
            _ => Tls::Wrapper(params),
        });
    }
    if let (Some(user), Some(password)) = (&cfg.username, password) {
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

/// The message for `cfg` with `body`.
fn message(cfg: &EmailConfig, body: &MailBody) -> Result<Message, String> {
    let from: Mailbox = cfg.from.trim().parse().map_err(|e| format!("from: {e}"))?;
    let mut builder = Message::builder()
        .from(from)
        .subject(clean_line(&body.subject))
        .user_agent(concat!("daily_scan/", env!("CARGO_PKG_VERSION")).to_string());
    for to in &cfg.to {
        builder = builder.to(to.trim().parse().map_err(|e| format!("to: {e}"))?);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            body.text.clone(),
            body.html.clone(),
        ))
        .map_err(|e| format!("cannot build the mail: {e}"))
}

/// One attempt to send `body` through `cfg`'s server. `password` is the `password_env`
/// value (already looked up).
pub(super) fn send_once(cfg: &EmailConfig, password: Option<String>, body: &MailBody) -> Attempt {
    let secret = password.clone().unwrap_or_default();
    let scrub = |text: String| super::webhook::scrub(text, &[secret.as_str()]);
    let message = match message(cfg, body) {
        Ok(m) => m,
        Err(e) => return Attempt::Final(None, scrub(e)),
    };
    let transport = match transport(cfg, password) {
        Ok(t) => t,
        Err(e) => return Attempt::Final(None, scrub(e)),
    };
    match transport.send(&message) {
        Ok(resp) => Attempt::Delivered(resp.code().into()),
        Err(e) if e.is_permanent() => Attempt::Final(
            e.status().map(u16::from),
            scrub(format!("SMTP: {}", describe(&e))),
        ),
        Err(e) => Attempt::Transient(
            e.status().map(u16::from),
            scrub(format!("SMTP: {}", describe(&e))),
        ),
    }
}

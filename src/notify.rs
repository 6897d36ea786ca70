//! Webhooks: after a run's snapshot and alerts are committed, the alerts it newly raised are
//! sent to each `[[webhook]]` whose filter keeps any of them.
//!
//! Each webhook gets one request per run (JSON or Slack, see [`payload`]), with a per-attempt
//! timeout (`timeout`, 10 s by default) and up to [`ATTEMPTS`] attempts with exponential
//! backoff (1 s, then 2 s). Transport errors, timeouts, 408, 429 and 5xx are retried; any
//! other answer is final. Redirects are not followed (a token must not travel to another
//! host). Every attempt is handed to the caller to record.
//!
//! Secrets: the URL (a Slack URL is a credential) and the bearer token are never logged,
//! recorded or put in an error; a webhook is named by its `name` and `scheme://host:port`.
//! Nothing here can fail the run: the worst outcome is a recorded failed delivery.

pub mod payload;

use std::time::Duration;

use jiff::Timestamp;
use log::{info, warn};

use crate::config::{WebhookConfig, WebhookFormat};
use crate::report;
use crate::store::{Alert, DeliveryAttempt, DeliveryOutcome};
pub use payload::RunSummary;

/// Attempts per webhook and run.
pub const ATTEMPTS: u32 = 3;

/// How retries are spaced: `first_delay`, then doubled each time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub attempts: u32,
    pub first_delay: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            attempts: ATTEMPTS,
            first_delay: Duration::from_secs(1),
        }
    }
}

impl Backoff {
    /// The pause after failed attempt `attempt` (1-based).
    pub fn delay_after(&self, attempt: u32) -> Duration {
        self.first_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
    }
}

/// The alerts a webhook wants: at least its `min_severity`, of its `kinds` (all when empty).
pub fn select<'a>(hook: &WebhookConfig, alerts: &'a [Alert]) -> Vec<&'a Alert> {
    alerts
        .iter()
        .filter(|a| a.severity >= hook.min_severity)
        .filter(|a| hook.kinds.is_empty() || hook.kinds.contains(&a.kind))
        .collect()
}

/// `scheme://host:port` of `url`: what logs and the database say instead of the URL.
pub fn endpoint(url: &str) -> String {
    match url.trim().parse::<ureq::http::Uri>() {
        Ok(uri) => {
            let scheme = uri.scheme_str().unwrap_or("http");
            let host = uri.host().unwrap_or("?");
            let port = uri
                .port_u16()
                .unwrap_or(if scheme == "https" { 443 } else { 80 });
            format!("{scheme}://{host}:{port}")
        }
        Err(_) => "(invalid URL)".to_string(),
    }
}

/// The request body for `hook`'s format.
pub fn body(hook: &WebhookConfig, run: &RunSummary, alerts: &[&Alert]) -> Vec<u8> {
    let value = match hook.format {
        WebhookFormat::Json => payload::json(run, alerts),
        WebhookFormat::Slack => payload::slack(run, alerts),
    };
    serde_json::to_vec(&value).unwrap_or_default()
}

/// What one attempt came to.
enum Attempt {
    Delivered(u16),
    /// Worth another attempt.
    Transient(Option<u16>, String),
    /// Another attempt would get the same answer.
    Final(Option<u16>, String),
}

/// A transport error in words that hold neither the URL nor the token.
fn describe(e: &ureq::Error, timeout: Duration) -> String {
    use ureq::Error as E;
    match e {
        E::Timeout(_) => format!("no answer within {} s", timeout.as_secs()),
        E::HostNotFound => "host not found".to_string(),
        E::ConnectionFailed => "connection failed".to_string(),
        E::Io(io) => format!("i/o error: {io}"),
        E::Tls(msg) => format!("TLS error: {msg}"),
        E::Rustls(err) => format!("TLS error: {err}"),
        E::Protocol(_) => "the answer was not valid HTTP".to_string(),
        E::TooManyRedirects | E::RedirectFailed => "redirect refused".to_string(),
        _ => "request failed".to_string(),
    }
}

/// Removes `secrets` from `text` (belt and braces over [`describe`]).
fn scrub(mut text: String, secrets: &[&str]) -> String {
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        text = text.replace(s, "[redacted]");
    }
    text
}

fn attempt_once(
    agent: &ureq::Agent,
    hook: &WebhookConfig,
    token: Option<&str>,
    body: &[u8],
) -> Attempt {
    let mut req = agent
        .post(hook.url.trim())
        .header("Content-Type", "application/json")
        .header(
            "User-Agent",
            concat!("daily_scan/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in &hook.headers {
        req = req.header(name.as_str(), value.as_str());
    }
    if let Some(token) = token {
        req = req.header("Authorization", format!("Bearer {token}"));
    }
    match req.send(body) {
        Ok(resp) => {
            let code = resp.status().as_u16();
            match code {
                200..=299 => Attempt::Delivered(code),
                408 | 429 | 500..=599 => Attempt::Transient(Some(code), format!("HTTP {code}")),
                _ => Attempt::Final(Some(code), format!("HTTP {code}")),
            }
        }
        Err(e) => {
            let timeout = Duration::from_secs(hook.timeout);
            let text = scrub(
                describe(&e, timeout),
                &[hook.url.trim(), token.unwrap_or("")],
            );
            match e {
                ureq::Error::BadUri(_) | ureq::Error::Http(_) => Attempt::Final(None, text),
                _ => Attempt::Transient(None, text),
            }
        }
    }
}

/// Sends `alerts` (already selected for `hook`) and reports every attempt to `record`.
/// Returns the last attempt's outcome.
#[allow(clippy::too_many_arguments)]
pub fn deliver(
    hook: &WebhookConfig,
    label: &str,
    token: Option<&str>,
    run: &RunSummary,
    alerts: &[&Alert],
    backoff: Backoff,
    record: &mut dyn FnMut(DeliveryAttempt),
) -> DeliveryOutcome {
    let timeout = Duration::from_secs(hook.timeout);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let body = body(hook, run, alerts);
    let attempts = backoff.attempts.max(1);
    let count = u32::try_from(alerts.len()).unwrap_or(u32::MAX);
    for n in 1..=attempts {
        let attempted_at = Timestamp::now();
        let (outcome, status_code, error) = match attempt_once(&agent, hook, token, &body) {
            Attempt::Delivered(code) => (DeliveryOutcome::Delivered, Some(code), None),
            Attempt::Transient(code, e) if n < attempts => {
                (DeliveryOutcome::Retrying, code, Some(e))
            }
            Attempt::Transient(code, e) | Attempt::Final(code, e) => {
                (DeliveryOutcome::Failed, code, Some(e))
            }
        };
        match (&outcome, &error) {
            (DeliveryOutcome::Delivered, _) => info!(
                "webhook {label}: delivered {count} alerts (attempt {n}, HTTP {})",
                status_code.unwrap_or_default()
            ),
            (_, Some(e)) => warn!("webhook {label}: attempt {n} of {attempts} failed: {e}"),
            (_, None) => {}
        }
        record(DeliveryAttempt {
            snapshot_id: run.snapshot,
            webhook: label.to_string(),
            endpoint: endpoint(&hook.url),
            format: hook.format.as_str().to_string(),
            alerts: count,
            attempt: n,
            attempted_at,
            status_code,
            outcome,
            error,
        });
        if outcome != DeliveryOutcome::Retrying {
            return outcome;
        }
        std::thread::sleep(backoff.delay_after(n));
    }
    DeliveryOutcome::Failed
}

/// One webhook's result for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResult {
    pub webhook: String,
    pub alerts: usize,
    /// `None` when its filter kept no alert (nothing was sent).
    pub outcome: Option<DeliveryOutcome>,
}

impl report::alerts::WebhookLine for WebhookResult {
    fn webhook(&self) -> &str {
        &self.webhook
    }

    fn alerts(&self) -> usize {
        self.alerts
    }

    fn outcome(&self) -> Option<DeliveryOutcome> {
        self.outcome
    }
}

/// Sends the run's new `alerts` to every webhook. `env` reads token variables. A webhook whose
/// token variable is unset is recorded as failed without sending (rather than sending without
/// the credential).
pub fn notify_all(
    hooks: &[WebhookConfig],
    run: &RunSummary,
    alerts: &[Alert],
    env: &dyn Fn(&str) -> Option<String>,
    backoff: Backoff,
    record: &mut dyn FnMut(DeliveryAttempt),
) -> Vec<WebhookResult> {
    let mut out = Vec::new();
    for (i, hook) in hooks.iter().enumerate() {
        let label = hook.label(i);
        let selected = select(hook, alerts);
        if selected.is_empty() {
            out.push(WebhookResult {
                webhook: label,
                alerts: 0,
                outcome: None,
            });
            continue;
        }
        let token = match &hook.token_env {
            None => None,
            Some(var) => match env(var).filter(|t| !t.trim().is_empty()) {
                Some(t) => Some(t.trim().to_string()),
                None => {
                    let error = format!("environment variable {var} (token_env) is not set");
                    warn!("webhook {label}: not sent: {error}");
                    record(DeliveryAttempt {
                        snapshot_id: run.snapshot,
                        webhook: label.clone(),
                        endpoint: endpoint(&hook.url),
                        format: hook.format.as_str().to_string(),
                        alerts: u32::try_from(selected.len()).unwrap_or(u32::MAX),
                        attempt: 0,
                        attempted_at: Timestamp::now(),
                        status_code: None,
                        outcome: DeliveryOutcome::Failed,
                        error: Some(error),
                    });
                    out.push(WebhookResult {
                        webhook: label,
                        alerts: selected.len(),
                        outcome: Some(DeliveryOutcome::Failed),
                    });
                    continue;
                }
            },
        };
        let outcome = deliver(
            hook,
            &label,
            token.as_deref(),
            run,
            &selected,
            backoff,
            record,
        );
        out.push(WebhookResult {
            webhook: label,
            alerts: selected.len(),
            outcome: Some(outcome),
        });
    }
    out
}

#[cfg(test)]
mod tests;

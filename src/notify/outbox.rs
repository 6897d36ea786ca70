//! The outbox's two halves: [`enqueue`] renders what a run owes each destination (called
//! inside the run's alert transaction), [`flush`] sends what is pending and expires what is
//! too old. [`send_test`] sends a marked test message straight to destinations.

use jiff::{SignedDuration, Timestamp};
use log::{info, warn};
use serde_json::json;

use super::email::{self, MailBody};
use super::payload::{self, RunSummary};
use super::{Attempt, Backoff, Destination, WebhookResult, destinations, keeps, webhook};
use crate::config::{Config, WebhookFormat};
use crate::delta::{Delta, DeltaConfig};
use crate::snapshot::Snapshot;
use crate::store::{AlertSync, DeliveryAttempt, DeliveryOutcome, NewOutbox, Store};

/// `public_url` with one trailing slash: the dashboard.
fn web_url(config: &Config) -> Option<String> {
    config
        .public_url
        .as_deref()
        .map(|u| format!("{}/", u.trim().trim_end_matches('/')))
}

/// What run `snapshot` owes each destination after `sync`: a webhook document when the
/// webhook's filter keeps a raised alert, a mail when the email's filter keeps a raised or
/// resolved one.
pub fn enqueue(
    config: &Config,
    snapshot: &Snapshot,
    delta: &Delta,
    delta_config: &DeltaConfig,
    sync: &AlertSync,
) -> Vec<NewOutbox> {
    let run = RunSummary::of(snapshot, delta, sync);
    let url = web_url(config);
    let snapshot_id = snapshot.id.unwrap_or_default();
    let mut out = Vec::new();
    for (label, dest) in destinations(config) {
        let (min, kinds) = match dest {
            Destination::Webhook(h) => (h.min_severity, &h.kinds),
            Destination::Email(e) => (e.min_severity, &e.kinds),
        };
        fn pick<'a>(
            list: &'a [crate::store::Alert],
            min: crate::model::Severity,
            kinds: &[crate::model::AlertKind],
        ) -> Vec<&'a crate::store::Alert> {
            list.iter().filter(|a| keeps(min, kinds, a)).collect()
        }
        let raised = payload::notices(
            snapshot,
            delta_config,
            &pick(&sync.raised, min, kinds),
            "alert.raised",
        );
        let (count, body) = match dest {
            Destination::Webhook(h) => {
                if raised.is_empty() {
                    continue;
                }
                let value = match h.format {
                    WebhookFormat::Json => payload::json(&run, &raised, url.as_deref()),
                    WebhookFormat::Slack => payload::slack(&run, &raised, url.as_deref()),
                };
                (raised.len(), value.to_string())
            }
            Destination::Email(_) => {
                let resolved = payload::notices(
                    snapshot,
                    delta_config,
                    &pick(&sync.resolved, min, kinds),
                    "alert.resolved",
                );
                if raised.is_empty() && resolved.is_empty() {
                    continue;
                }
                let mail = email::render(&run, &raised, &resolved, url.as_deref());
                let body = serde_json::to_string(&mail).unwrap_or_default();
                (raised.len() + resolved.len(), body)
            }
        };
        out.push(NewOutbox {
            snapshot_id,
            destination: label,
            channel: dest.channel().to_string(),
            format: dest.format().to_string(),
            alerts: u32::try_from(count).unwrap_or(u32::MAX),
            body,
        });
    }
    out
}

/// One try at `body` through `dest`; secrets are looked up with `env` each time.
fn send_once(
    dest: Destination<'_>,
    body: &str,
    env: &dyn Fn(&str) -> Option<String>,
    agent: &mut Option<ureq::Agent>,
) -> Attempt {
    let secret = |var: &Option<String>, key: &str| -> Result<Option<String>, String> {
        match var {
            None => Ok(None),
            Some(var) => env(var)
                .filter(|t| !t.trim().is_empty())
                .map(|t| Some(t.trim().to_string()))
                .ok_or_else(|| format!("environment variable {var} ({key}) is not set")),
        }
    };
    match dest {
        Destination::Webhook(h) => {
            let token = match secret(&h.token_env, "token_env") {
                Ok(t) => t,
                Err(e) => return Attempt::Final(None, e),
            };
            let agent = agent.get_or_insert_with(|| webhook::agent(h));
            webhook::send_once(agent, h, token.as_deref(), body.as_bytes())
        }
        Destination::Email(e) => {
            let password = match secret(&e.password_env, "password_env") {
                Ok(p) => p,
                Err(err) => return Attempt::Final(None, err),
            };
            match serde_json::from_str::<MailBody>(body) {
                Ok(mail) => email::send_once(e, password, &mail),
                Err(err) => Attempt::Final(None, format!("the stored mail is unreadable: {err}")),
            }
        }
    }
}

/// How a series of attempts ended.
pub struct Sent {
    pub outcome: DeliveryOutcome,
    pub attempts: u32,
    pub error: Option<String>,
}

/// Up to `backoff.attempts` tries, each handed to `record` as (number, outcome, status,
/// error).
fn attempts(
    backoff: Backoff,
    mut once: impl FnMut() -> Attempt,
    record: &mut dyn FnMut(u32, DeliveryOutcome, Option<u16>, Option<String>),
) -> Sent {
    let total = backoff.attempts.max(1);
    for n in 1..=total {
        let (outcome, code, error) = match once() {
            Attempt::Delivered(code) => (DeliveryOutcome::Delivered, Some(code), None),
            Attempt::Transient(code, e) if n < total => (DeliveryOutcome::Retrying, code, Some(e)),
            Attempt::Transient(code, e) | Attempt::Final(code, e) => {
                (DeliveryOutcome::Failed, code, Some(e))
            }
        };
        record(n, outcome, code, error.clone());
        if outcome != DeliveryOutcome::Retrying {
            return Sent {
                outcome,
                attempts: n,
                error,
            };
        }
        std::thread::sleep(backoff.delay_after(n));
    }
    Sent {
        outcome: DeliveryOutcome::Failed,
        attempts: total,
        error: None,
    }
}

/// Expires pending notifications older than `[notify] max_age`, then sends every other
/// pending one, recording each attempt. Store errors are logged, never raised: a run that
/// cannot notify still succeeds (its notifications stay pending). Holds the store's outbox
/// lock throughout, so two runs sharing a PostgreSQL database never send one row twice.
pub fn flush(
    store: &mut Store,
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
    backoff: Backoff,
) -> Vec<WebhookResult> {
    store
        .with_outbox_lock(|store| flush_locked(store, config, env, backoff))
        .unwrap_or_else(|e| {
            warn!("outbox: cannot take the outbox lock: {e}; notifications stay pending");
            Vec::new()
        })
}

fn flush_locked(
    store: &mut Store,
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
    backoff: Backoff,
) -> Vec<WebhookResult> {
    let cutoff = Timestamp::now() - SignedDuration::from_secs(config.notify.max_age_secs());
    match store.expire_outbox(cutoff) {
        Ok(expired) => {
            for e in expired {
                warn!(
                    "{} {}: notification of snapshot {} expired undelivered after {} attempts (older than notify.max_age {})",
                    e.channel, e.destination, e.snapshot_id, e.attempts, config.notify.max_age
                );
            }
        }
        Err(e) => warn!("outbox: cannot expire old notifications: {e}"),
    }
    let pending = match store.pending_outbox() {
        Ok(p) => p,
        Err(e) => {
            warn!("outbox: cannot read pending notifications: {e}");
            return Vec::new();
        }
    };
    let all = destinations(config);
    let mut results = Vec::new();
    for item in pending {
        let Some((_, dest)) = all.iter().find(|(label, _)| *label == item.destination) else {
            warn!(
                "{} {}: not configured any more; notification of snapshot {} stays pending until it expires",
                item.channel, item.destination, item.snapshot_id
            );
            results.push(WebhookResult {
                webhook: item.destination.clone(),
                channel: item.channel.clone(),
                snapshot_id: item.snapshot_id,
                alerts: usize::try_from(item.alerts).unwrap_or(usize::MAX),
                outcome: None,
            });
            continue;
        };
        let mut agent = None;
        let mut record =
            |n: u32, outcome: DeliveryOutcome, code: Option<u16>, error: Option<String>| {
                match (&outcome, &error) {
                    (DeliveryOutcome::Delivered, _) => info!(
                        "{} {}: delivered {} of snapshot {} (attempt {n})",
                        item.channel,
                        item.destination,
                        crate::report::text::count(u64::from(item.alerts), "alert"),
                        item.snapshot_id
                    ),
                    (_, Some(e)) => warn!(
                        "{} {}: attempt {n} of {} failed: {e}",
                        item.channel, item.destination, backoff.attempts
                    ),
                    (_, None) => {}
                }
                let attempt = DeliveryAttempt {
                    snapshot_id: item.snapshot_id,
                    webhook: item.destination.clone(),
                    endpoint: dest.endpoint(),
                    format: dest.format().to_string(),
                    alerts: item.alerts,
                    attempt: item.attempts + n,
                    attempted_at: Timestamp::now(),
                    status_code: code,
                    outcome,
                    error,
                    outbox_id: Some(item.id),
                };
                if let Err(e) = store.record_delivery(&attempt) {
                    warn!("{}: cannot record the delivery: {e}", item.destination);
                }
            };
        let sent = attempts(
            backoff,
            || send_once(*dest, &item.body, env, &mut agent),
            &mut record,
        );
        let delivered = sent.outcome == DeliveryOutcome::Delivered;
        if let Err(e) =
            store.finish_outbox_attempts(item.id, sent.attempts, delivered, sent.error.as_deref())
        {
            warn!("{}: cannot update the outbox: {e}", item.destination);
        }
        results.push(WebhookResult {
            webhook: item.destination.clone(),
            channel: item.channel.clone(),
            snapshot_id: item.snapshot_id,
            alerts: usize::try_from(item.alerts).unwrap_or(usize::MAX),
            outcome: Some(sent.outcome),
        });
    }
    results
}

/// One destination's answer to a test message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    pub destination: String,
    pub channel: &'static str,
    pub endpoint: String,
    /// `Ok(status)` when accepted, else why not.
    pub outcome: Result<u16, String>,
}

/// Sends a clearly marked test message (one attempt) to the destination named `name`, or to
/// every destination. `Err` names the unknown destination.
pub fn send_test(
    config: &Config,
    name: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<TestResult>, String> {
    let chosen: Vec<_> = destinations(config)
        .into_iter()
        .filter(|(label, _)| name.is_none_or(|n| n == label))
        .collect();
    if chosen.is_empty() {
        return Err(match name {
            Some(n) => format!("no [[webhook]] or [[email]] is named {n:?}"),
            None => "no [[webhook]] or [[email]] is configured".to_string(),
        });
    }
    let url = web_url(config);
    Ok(chosen
        .into_iter()
        .map(|(label, dest)| {
            let body = match dest {
                Destination::Webhook(h) => match h.format {
                    WebhookFormat::Json => json!({
                        "source": "daily_scan",
                        "version": env!("CARGO_PKG_VERSION"),
                        "event_type": "test",
                        "test": true,
                        "message": format!("TEST message from daily_scan to webhook {label}"),
                        "alerts": [],
                        "web_url": url,
                    })
                    .to_string(),
                    WebhookFormat::Slack => json!({
                        "text": format!("daily_scan: TEST message to webhook {} (no alert was raised)", crate::report::text::slack(&label)),
                    })
                    .to_string(),
                },
                Destination::Email(_) => {
                    serde_json::to_string(&email::test_mail(&label)).unwrap_or_default()
                }
            };
            let mut agent = None;
            let outcome = match send_once(dest, &body, env, &mut agent) {
                Attempt::Delivered(code) => Ok(code),
                Attempt::Transient(_, e) | Attempt::Final(_, e) => Err(e),
            };
            TestResult {
                destination: label,
                channel: dest.channel(),
                endpoint: dest.endpoint(),
                outcome,
            }
        })
        .collect())
}

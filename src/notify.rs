//! Notifications: what a run owes the `[[webhook]]` and `[[email]]` destinations, kept in the
//! store's outbox until it arrives.
//!
//! A run writes its notifications in the same transaction as its alerts ([`enqueue`]: one
//! webhook document per webhook whose filter keeps a new alert, one mail per email entry
//! whose filter keeps a new or resolved alert), then [`flush`]es the outbox: each pending
//! notification (this run's and any earlier run's that never arrived) gets up to
//! [`ATTEMPTS`] attempts with exponential backoff (1 s, then 2 s). One that still failed
//! stays pending for the next run or `daily_scan notify retry`; one older than
//! `[notify] max_age` is marked expired instead. Every attempt is recorded in `deliveries`.
//!
//! Secrets: webhook URLs (a Slack URL is a credential), bearer tokens and SMTP passwords are
//! read from the configuration and the environment when sending; they are never stored,
//! logged or put in an error. A destination is named by its `name` and `scheme://host:port`.
//! Nothing here can fail the run: the worst outcome is a pending notification.

pub mod email;
pub mod outbox;
pub mod payload;
mod webhook;

use std::time::Duration;

use crate::config::{Config, EmailConfig, WebhookConfig};
use crate::model::{AlertKind, Severity};
use crate::report;
use crate::store::{Alert, DeliveryOutcome};
pub use outbox::{TestResult, enqueue, flush, send_test};
pub use payload::RunSummary;
pub use webhook::endpoint;

/// Attempts per notification and flush.
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

/// What one attempt came to.
pub(crate) enum Attempt {
    /// Accepted, with the HTTP or SMTP status.
    Delivered(u16),
    /// Worth another attempt.
    Transient(Option<u16>, String),
    /// Another attempt would get the same answer.
    Final(Option<u16>, String),
}

/// A configured destination.
#[derive(Debug, Clone, Copy)]
pub enum Destination<'a> {
    Webhook(&'a WebhookConfig),
    Email(&'a EmailConfig),
}

impl Destination<'_> {
    /// `webhook` or `email`.
    pub fn channel(&self) -> &'static str {
        match self {
            Destination::Webhook(_) => "webhook",
            Destination::Email(_) => "email",
        }
    }

    /// `scheme://host:port`, never more.
    pub fn endpoint(&self) -> String {
        match self {
            Destination::Webhook(h) => endpoint(&h.url),
            Destination::Email(e) => e.endpoint(),
        }
    }

    /// `json`, `slack` or `email`.
    pub fn format(&self) -> &'static str {
        match self {
            Destination::Webhook(h) => h.format.as_str(),
            Destination::Email(_) => "email",
        }
    }
}

/// Every destination with its label, webhooks first, in configuration order.
pub fn destinations(config: &Config) -> Vec<(String, Destination<'_>)> {
    let hooks = config
        .webhook
        .iter()
        .enumerate()
        .map(|(i, h)| (h.label(i), Destination::Webhook(h)));
    let mails = config
        .email
        .iter()
        .enumerate()
        .map(|(i, e)| (e.label(i), Destination::Email(e)));
    hooks.chain(mails).collect()
}

/// Whether a destination filter (`min_severity`, `kinds`, empty = all) keeps `alert`.
pub fn keeps(min_severity: Severity, kinds: &[AlertKind], alert: &Alert) -> bool {
    alert.severity >= min_severity && (kinds.is_empty() || kinds.contains(&alert.kind))
}

/// The alerts a webhook wants: at least its `min_severity`, of its `kinds` (all when empty).
pub fn select<'a>(hook: &WebhookConfig, alerts: &'a [Alert]) -> Vec<&'a Alert> {
    alerts
        .iter()
        .filter(|a| keeps(hook.min_severity, &hook.kinds, a))
        .collect()
}

/// One notification's result in a flush.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResult {
    /// The destination's label.
    pub webhook: String,
    /// `webhook` or `email`.
    pub channel: String,
    /// The run it was made for.
    pub snapshot_id: i64,
    pub alerts: usize,
    /// `None` when nothing was sent.
    pub outcome: Option<DeliveryOutcome>,
}

impl report::alerts::WebhookLine for WebhookResult {
    fn channel(&self) -> &str {
        &self.channel
    }

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

#[cfg(test)]
mod tests;

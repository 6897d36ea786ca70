//! `daily_scan notify test [NAME]` and `daily_scan notify retry`.

use std::io::Write;

use super::{CommandError, Outcome, emit};
use crate::batch;
use crate::config::Config;
use crate::notify::{self, Backoff};
use crate::report::text::clean;
use crate::store::DeliveryOutcome;

#[derive(Debug, Clone)]
pub enum NotifyCommand {
    /// Send a marked test message to the destination with this name, or to all of them.
    Test { name: Option<String> },
    /// Send the outbox's pending notifications now (and expire the too old ones).
    Retry,
}

pub fn notify(
    config: &Config,
    command: &NotifyCommand,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    let env = |key: &str| std::env::var(key).ok();
    let mut failed = false;
    let mut text = String::new();
    match command {
        NotifyCommand::Test { name } => {
            let results =
                notify::send_test(config, name.as_deref(), &env).map_err(CommandError::Usage)?;
            for r in results {
                let what = match &r.outcome {
                    Ok(code) => format!("test message delivered ({code})"),
                    Err(e) => {
                        failed = true;
                        format!("FAILED: {}", clean(e))
                    }
                };
                text.push_str(&format!(
                    "{} {} ({}): {what}\n",
                    r.channel,
                    clean(&r.destination),
                    r.endpoint
                ));
            }
        }
        NotifyCommand::Retry => {
            let (mut store, _lock) = batch::open_for_writing(config, None)?;
            let results = notify::flush(&mut store, config, &env, Backoff::default());
            if results.is_empty() {
                text.push_str("nothing pending\n");
            }
            for r in results {
                let delivered = r.outcome == Some(DeliveryOutcome::Delivered);
                failed |= !delivered;
                let what = match r.outcome {
                    Some(DeliveryOutcome::Delivered) => "delivered",
                    Some(_) => "FAILED (still pending; see daily_scan alerts deliveries)",
                    None => {
                        "NOT SENT: no such destination in the configuration any more (pending until notify.max_age)"
                    }
                };
                text.push_str(&format!(
                    "{} {}: snapshot {}, {} {what}\n",
                    r.channel,
                    clean(&r.webhook),
                    r.snapshot_id,
                    crate::report::text::count(r.alerts as u64, "alert"),
                ));
            }
        }
    }
    emit(out, text.as_bytes())?;
    Ok(if failed {
        Outcome::NotDelivered
    } else {
        Outcome::Done
    })
}

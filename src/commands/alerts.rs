//! `daily_scan alerts`: list alerts, act on one (ack, ignore, unignore), list deliveries.

use std::io::Write;

use super::{CommandError, Outcome, TableFormat, csv_text, emit, json_text, read_store_if_any};
use crate::alerts::lifecycle;
use crate::config::{Config, Database};
use crate::model::{AlertStatus, Severity};
use crate::report;
use crate::store::{Alert, AlertFilter, Store, StoreError};

/// What `alerts` was asked to do.
#[derive(Debug, Clone)]
pub enum AlertsCommand {
    /// Alerts, newest first.
    List {
        status: Option<AlertStatus>,
        min_severity: Option<Severity>,
        limit: usize,
        format: TableFormat,
    },
    /// open -> actioned.
    Ack { id: i64, note: Option<String> },
    /// open or actioned -> ignored.
    Ignore { id: i64, note: Option<String> },
    /// ignored -> open.
    Unignore { id: i64 },
    /// Webhook delivery attempts, newest first.
    Deliveries { limit: usize, format: TableFormat },
}

pub fn alerts(
    config: &Config,
    command: &AlertsCommand,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    let text = match command {
        AlertsCommand::List {
            status,
            min_severity,
            limit,
            format,
        } => {
            let list = match read_store_if_any(config)? {
                Some(store) => store.list_alerts(&AlertFilter {
                    status: *status,
                    min_severity: *min_severity,
                    limit: Some(*limit),
                    ..AlertFilter::default()
                })?,
                None => Vec::new(),
            };
            match format {
                TableFormat::Text if list.is_empty() => {
                    no_alerts(*status, *min_severity).into_bytes()
                }
                _ => alerts_text(&list, *format)?,
            }
        }
        AlertsCommand::Ack { id, note } => {
            let alert = operator_store(config)?.change_alert_status(
                *id,
                &lifecycle::ACK,
                note.as_deref(),
            )?;
            alerts_text(&[alert], TableFormat::Text)?
        }
        AlertsCommand::Ignore { id, note } => {
            let alert = operator_store(config)?.change_alert_status(
                *id,
                &lifecycle::IGNORE,
                note.as_deref(),
            )?;
            alerts_text(&[alert], TableFormat::Text)?
        }
        AlertsCommand::Unignore { id } => {
            let alert =
                operator_store(config)?.change_alert_status(*id, &lifecycle::UNIGNORE, None)?;
            alerts_text(&[alert], TableFormat::Text)?
        }
        AlertsCommand::Deliveries { limit, format } => {
            let list = match read_store_if_any(config)? {
                Some(store) => store.list_deliveries(*limit)?,
                None => Vec::new(),
            };
            match format {
                TableFormat::Text => report::deliveries::table(&list).into_bytes(),
                TableFormat::Json => json_text(&list)?,
                TableFormat::Csv => csv_text(|w| report::deliveries::csv(w, &list))?,
            }
        }
    };
    emit(out, &text)?;
    Ok(Outcome::Done)
}

/// What an empty list says: none at all yet, or none with that status.
fn no_alerts(status: Option<AlertStatus>, min_severity: Option<Severity>) -> String {
    match (status, min_severity) {
        (None, None) => "No alerts yet: runs raise them when something changes.\n".to_string(),
        _ => "No alert matches.\n".to_string(),
    }
}

/// The database for an operator's action. No writer lock: a transition is one statement, and
/// acknowledging an alert must work while a long run holds the lock.
fn operator_store(config: &Config) -> Result<Store, CommandError> {
    let db = config.database();
    if let Database::Sqlite(path) = &db
        && !path.is_file()
    {
        return Err(StoreError::Missing { path: path.clone() }.into());
    }
    Ok(Store::connect(&db)?)
}

fn alerts_text(list: &[Alert], format: TableFormat) -> Result<Vec<u8>, CommandError> {
    Ok(match format {
        TableFormat::Text => report::alerts::table(list).into_bytes(),
        TableFormat::Json => json_text(list)?,
        TableFormat::Csv => csv_text(|w| report::alerts::csv(w, list))?,
    })
}

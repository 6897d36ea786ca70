//! `daily_scan alerts`: list alerts, act on one (ack, ignore, unignore), list deliveries.

use security_scanner::alerts::lifecycle;
use security_scanner::config::Config;
use security_scanner::model::{AlertStatus, Severity};
use security_scanner::report;
use security_scanner::store::{Alert, AlertFilter, Store, StoreError};

use super::cli::{AlertsAction, TableFormat};
use super::{Failure, Outcome, io, print, read_store};

pub(super) fn alerts(
    config: &Config,
    action: Option<AlertsAction>,
    status: Option<AlertStatus>,
    min_severity: Option<Severity>,
    limit: usize,
    format: TableFormat,
) -> Result<Outcome, Failure> {
    match action {
        None => {
            let store = read_store(config)?;
            let list = store.list_alerts(&AlertFilter {
                status,
                min_severity,
                limit: Some(limit),
                ..AlertFilter::default()
            })?;
            show_alerts(&list, format)
        }
        Some(AlertsAction::Ack { id, note }) => {
            let alert = operator_store(config)?.change_alert_status(
                id,
                &lifecycle::ACK,
                note.as_deref(),
            )?;
            show_alerts(&[alert], TableFormat::Text)
        }
        Some(AlertsAction::Ignore { id, note }) => {
            let alert = operator_store(config)?.change_alert_status(
                id,
                &lifecycle::IGNORE,
                note.as_deref(),
            )?;
            show_alerts(&[alert], TableFormat::Text)
        }
        Some(AlertsAction::Unignore { id }) => {
            let alert =
                operator_store(config)?.change_alert_status(id, &lifecycle::UNIGNORE, None)?;
            show_alerts(&[alert], TableFormat::Text)
        }
        Some(AlertsAction::Deliveries { limit, format }) => {
            let list = read_store(config)?.list_deliveries(limit)?;
            let mut buf = Vec::new();
            match format {
                TableFormat::Text => buf = report::deliveries::table(&list).into_bytes(),
                TableFormat::Json => json_lines(&mut buf, &list)?,
                TableFormat::Csv => {
                    report::deliveries::csv(&mut buf, &list).map_err(io("rendering CSV"))?
                }
            }
            print(&String::from_utf8_lossy(&buf))?;
            Ok(Outcome::Done)
        }
    }
}

/// The database for an operator's action. No writer lock: a transition is one statement, and
/// acknowledging an alert must work while a long run holds the lock.
fn operator_store(config: &Config) -> Result<Store, Failure> {
    let path = config.database_path();
    if !path.is_file() {
        return Err(StoreError::Missing { path }.into());
    }
    Ok(Store::open(&path)?)
}

fn json_lines<T: serde::Serialize>(buf: &mut Vec<u8>, value: &T) -> Result<(), Failure> {
    serde_json::to_writer_pretty(&mut *buf, value).map_err(|e| io("rendering JSON")(e.into()))?;
    buf.push(b'\n');
    Ok(())
}

fn show_alerts(list: &[Alert], format: TableFormat) -> Result<Outcome, Failure> {
    let mut buf = Vec::new();
    match format {
        TableFormat::Text => buf = report::alerts::table(list).into_bytes(),
        TableFormat::Json => json_lines(&mut buf, &list)?,
        TableFormat::Csv => report::alerts::csv(&mut buf, list).map_err(io("rendering CSV"))?,
    }
    print(&String::from_utf8_lossy(&buf))?;
    Ok(Outcome::Done)
}

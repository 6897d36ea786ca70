//! `daily_scan migrate-store --to DATABASE`: copies every snapshot, alert, outbox row and
//! delivery of the configured database into another (SQLite to PostgreSQL, or back), then
//! prints and compares the row counts of both sides. The target must be empty; the copy is one
//! transaction there, so a failed copy leaves it empty.

use std::io::Write;
use std::path::PathBuf;

use super::{CommandError, Outcome, emit};
use crate::config::{Config, Database};
use crate::report::table;
use crate::store::{MigrateError, Store};

#[derive(Debug, Clone)]
pub struct MigrateStoreCommand {
    /// The target: a SQLite file path or a `postgres://` URL.
    pub to: PathBuf,
}

pub fn migrate_store(
    config: &Config,
    command: &MigrateStoreCommand,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    let to = Database::parse(&command.to).map_err(|e| CommandError::Usage(format!("--to: {e}")))?;
    let from = config.database();
    if to == from {
        return Err(CommandError::Usage(
            "--to names the configured database itself".into(),
        ));
    }
    let source = Store::connect_read_only(&from)?;
    let mut target = Store::connect(&to)?;
    let copied = source.copy_into(&mut target).map_err(|e| match e {
        MigrateError::Store(e) => CommandError::Store(e),
        other => CommandError::Usage(other.to_string()),
    })?;
    let rows: Vec<Vec<String>> = copied
        .iter()
        .map(|c| {
            vec![
                c.table.to_string(),
                c.source.to_string(),
                c.target.to_string(),
            ]
        })
        .collect();
    let mut text = format!("copied {} -> {}\n", source.name(), target.name());
    text.push_str(&table::render(
        &["table", "source", "target"],
        &rows,
        &[1, 2],
    ));
    text.push_str("counts match\n");
    emit(out, text.as_bytes())?;
    Ok(Outcome::Done)
}

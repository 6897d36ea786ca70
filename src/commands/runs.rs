//! `daily_scan runs`: sharded runs and where each shard stands (done, failed, running,
//! missing), newest first.

use std::io::Write;

use super::{CommandError, Outcome, TableFormat, csv_text, emit, json_text};
use crate::config::{Config, Database};
use crate::report::{runs as runs_table, table};
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct RunsCommand {
    pub limit: u32,
    pub format: TableFormat,
}

pub fn runs(
    config: &Config,
    command: &RunsCommand,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    let list = match config.database() {
        // Sharded runs exist only on PostgreSQL; a SQLite database has none.
        Database::Sqlite(_) => Vec::new(),
        db @ Database::Postgres(_) => Store::connect(&db)?.shard_runs(None, command.limit)?,
    };
    let text = match command.format {
        TableFormat::Text if list.is_empty() => {
            b"No sharded runs (daily_scan --shard K/N --run-id ID starts one).\n".to_vec()
        }
        TableFormat::Text => {
            let rows: Vec<Vec<String>> = list.iter().map(runs_table::row).collect();
            table::render(&runs_table::HEADER, &rows, &[2, 3, 4, 5, 6]).into_bytes()
        }
        TableFormat::Json => json_text(&list)?,
        TableFormat::Csv => csv_text(|w| runs_table::csv(w, &list))?,
    };
    emit(out, &text)?;
    Ok(Outcome::Done)
}

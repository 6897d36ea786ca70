//! Moving a store between backends (`daily_scan migrate-store`): every snapshot, alert,
//! outbox row and delivery, ids kept, written in one transaction on the target, then counted
//! on both sides.

use super::backend::COPIED_TABLES;
use super::{Store, StoreError};

/// One table's rows on each side after a copy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CopiedTable {
    pub table: &'static str,
    pub source: i64,
    pub target: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{target} already holds {rows} rows in {table}: migrate-store copies into an empty store only"
    )]
    NotEmpty {
        target: String,
        table: &'static str,
        rows: i64,
    },
    #[error("after the copy, {table} holds {target} rows in the target but {from} in the source")]
    Mismatch {
        table: &'static str,
        from: i64,
        target: i64,
    },
}

impl Store {
    /// Copies everything in `self` into `target`, which must be empty (and migrated to this
    /// binary's schema: open it with [`Store::connect`]). Returns the counts of both sides,
    /// table by table; a difference is an error.
    pub fn copy_into(&self, target: &mut Store) -> Result<Vec<CopiedTable>, MigrateError> {
        for table in COPIED_TABLES {
            let rows = target.db.count_rows(table)?;
            if rows > 0 {
                return Err(MigrateError::NotEmpty {
                    target: target.name().to_string(),
                    table,
                    rows,
                });
            }
        }
        let mut tables = Vec::with_capacity(COPIED_TABLES.len());
        for table in COPIED_TABLES {
            tables.push((*table, self.db.export_rows(table)?));
        }
        target.db.import_rows(&tables)?;
        COPIED_TABLES
            .iter()
            .map(|table| {
                let copied = CopiedTable {
                    table,
                    source: self.db.count_rows(table)?,
                    target: target.db.count_rows(table)?,
                };
                if copied.source != copied.target {
                    return Err(MigrateError::Mismatch {
                        table,
                        from: copied.source,
                        target: copied.target,
                    });
                }
                Ok(copied)
            })
            .collect()
    }
}

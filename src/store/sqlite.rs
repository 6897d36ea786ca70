//! The SQLite backend: one file, WAL mode so `api_server` reads while `daily_scan` writes, a
//! 5 s busy timeout, and foreign keys on. Every SQLite statement of the store is in this
//! module and its children (`schema`, `snapshots`, `alerts`, `copy`).

mod alerts;
mod copy;
mod deltas;
mod hosts;
mod outbox;
pub(in crate::store) mod schema;
mod snapshots;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::StoreError;
use super::backend::{AlertTx, Backend};
use super::certificates::RawPortTls;
use super::deliveries::{DeliveryAttempt, DeliveryFilter, RawDelivery};
use super::deltas::{DeltaOf, DeltaRow};
use super::hosts::HostRange;
use super::outbox::{OutboxRows, RawOutbox};
use super::{BUSY_TIMEOUT, alerts::AlertQuery, alerts::RawAlert};
use super::{
    NewAlert,
    rows::{Detail, EachHost, HeadRow, SnapshotRows},
};
use crate::model::AlertStatus;
use crate::snapshot::Snapshot;
use schema::Migration;
pub use schema::SCHEMA_VERSION;

pub(super) struct Sqlite {
    conn: Connection,
    name: String,
}

impl Sqlite {
    pub fn open(path: &Path) -> Result<Sqlite, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            return Err(StoreError::MissingDirectory {
                path: path.to_path_buf(),
                dir: dir.to_path_buf(),
            });
        }
        let name = path.display().to_string();
        let sql = |source| sql_error(&name, source);
        let mut conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        // journal_mode answers with a row, so it is queried rather than set with pragma_update.
        let _mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))
            .map_err(sql)?;
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(sql)?;
        match schema::migrate(&mut conn).map_err(sql)? {
            Migration::Current => {}
            Migration::TooNew(found) => {
                return Err(StoreError::TooNew {
                    db: name,
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
        }
        Ok(Sqlite { conn, name })
    }

    pub fn open_read_only(path: &Path) -> Result<Sqlite, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Missing {
                path: PathBuf::from(path),
            });
        }
        let name = path.display().to_string();
        let sql = |source| sql_error(&name, source);
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        conn.execute_batch("PRAGMA query_only = ON;").map_err(sql)?;
        let found = schema::version(&conn).map_err(sql)?;
        let supported = SCHEMA_VERSION;
        if found > supported {
            return Err(StoreError::TooNew {
                db: name,
                found,
                supported,
            });
        }
        if found < supported {
            return Err(StoreError::TooOld {
                db: name,
                found,
                supported,
            });
        }
        Ok(Sqlite { conn, name })
    }

    fn sql(&self, source: rusqlite::Error) -> StoreError {
        sql_error(&self.name, source)
    }
}

impl Backend for Sqlite {
    fn name(&self) -> &str {
        &self.name
    }

    fn save_snapshot(
        &mut self,
        s: &Snapshot,
        delta: Option<DeltaOf<'_>>,
    ) -> Result<i64, StoreError> {
        snapshots::save(&mut self.conn, s, delta).map_err(|e| sql_error(&self.name, e))
    }

    fn delta_row(&self, id: i64) -> Result<Option<DeltaRow>, StoreError> {
        deltas::row(&self.conn, id).map_err(|e| self.sql(e))
    }

    fn delta_json(&self, id: i64) -> Result<Option<String>, StoreError> {
        deltas::text(&self.conn, id, deltas::Text::Delta).map_err(|e| self.sql(e))
    }

    fn delta_entries(&self, id: i64) -> Result<Option<String>, StoreError> {
        deltas::text(&self.conn, id, deltas::Text::Entries).map_err(|e| self.sql(e))
    }

    fn for_each_host(
        &self,
        id: i64,
        range: HostRange,
        each: EachHost<'_>,
    ) -> Result<bool, StoreError> {
        hosts::walk(&self.conn, id, range, each)
            .map_err(|e| e.into_store(&self.name, |e| self.sql(e)))
    }

    fn up_hosts_open_ports(&self, id: i64) -> Result<Vec<(String, i64)>, StoreError> {
        hosts::up_open_ports(&self.conn, id).map_err(|e| self.sql(e))
    }

    fn load_snapshot(&self, id: i64, detail: Detail) -> Result<Option<SnapshotRows>, StoreError> {
        snapshots::load(&self.conn, id, detail).map_err(|e| self.sql(e))
    }

    fn previous_snapshot_id(&self, id: i64) -> Result<Option<Option<i64>>, StoreError> {
        snapshots::previous(&self.conn, id).map_err(|e| self.sql(e))
    }

    fn latest_snapshot_id(&self, profile: Option<&str>) -> Result<Option<i64>, StoreError> {
        snapshots::latest(&self.conn, profile).map_err(|e| self.sql(e))
    }

    fn latest_of_technique(
        &self,
        technique: &str,
        started_at: &str,
    ) -> Result<Option<i64>, StoreError> {
        snapshots::latest_of_technique(&self.conn, technique, started_at).map_err(|e| self.sql(e))
    }

    fn latest_per_profile(&self) -> Result<Vec<i64>, StoreError> {
        snapshots::latest_per_profile(&self.conn).map_err(|e| self.sql(e))
    }

    fn list_snapshots(
        &self,
        limit: i64,
        before: Option<(&str, i64)>,
    ) -> Result<Vec<(i64, HeadRow)>, StoreError> {
        snapshots::list(&self.conn, limit, before).map_err(|e| self.sql(e))
    }

    fn snapshot_summary(&self, id: i64) -> Result<Option<(i64, HeadRow)>, StoreError> {
        snapshots::summary(&self.conn, id).map_err(|e| self.sql(e))
    }

    fn delete_older_than(&mut self, cutoff: &str) -> Result<Vec<(i64, String)>, StoreError> {
        snapshots::delete_older_than(&self.conn, cutoff).map_err(|e| self.sql(e))
    }

    fn keep_latest(&mut self, n: i64) -> Result<Vec<(i64, String)>, StoreError> {
        snapshots::keep_latest(&self.conn, n).map_err(|e| self.sql(e))
    }

    fn vacuum(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("VACUUM").map_err(|e| self.sql(e))
    }

    fn list_alerts(&self, query: &AlertQuery) -> Result<Vec<RawAlert>, StoreError> {
        alerts::list(&self.conn, query).map_err(|e| self.sql(e))
    }

    fn alerts_raised_by(&self, snapshot: i64) -> Result<Vec<RawAlert>, StoreError> {
        alerts::raised_by(&self.conn, snapshot).map_err(|e| self.sql(e))
    }

    fn alerts_resolved_after(
        &self,
        last_seen: i64,
        since: &str,
    ) -> Result<Vec<RawAlert>, StoreError> {
        alerts::resolved_after(&self.conn, last_seen, since).map_err(|e| self.sql(e))
    }

    fn alert(&self, id: i64) -> Result<Option<RawAlert>, StoreError> {
        alerts::one(&self.conn, id).map_err(|e| self.sql(e))
    }

    fn insert_alert(&mut self, new: &NewAlert, now: &str) -> Result<i64, StoreError> {
        alerts::insert_open(&self.conn, new, now).map_err(|e| self.sql(e))
    }

    fn change_alert_status(
        &mut self,
        id: i64,
        from: &[AlertStatus],
        to: AlertStatus,
        now: &str,
        note: Option<&str>,
    ) -> Result<usize, StoreError> {
        alerts::change_status(&self.conn, id, from, to, now, note).map_err(|e| self.sql(e))
    }

    fn alert_sync(&mut self) -> Result<Box<dyn AlertTx + '_>, StoreError> {
        let name = &self.name;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sql_error(name, e))?;
        Ok(Box::new(alerts::SyncTx { tx, name }))
    }

    fn record_delivery(&mut self, d: &DeliveryAttempt) -> Result<i64, StoreError> {
        alerts::record_delivery(&self.conn, d).map_err(|e| self.sql(e))
    }

    fn list_deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<RawDelivery>, StoreError> {
        alerts::list_deliveries(&self.conn, filter).map_err(|e| self.sql(e))
    }

    fn outbox(&self, which: OutboxRows) -> Result<Vec<RawOutbox>, StoreError> {
        outbox::rows(&self.conn, which).map_err(|e| self.sql(e))
    }

    fn expire_outbox(&mut self, cutoff: &str) -> Result<Vec<RawOutbox>, StoreError> {
        outbox::expire(&mut self.conn, cutoff).map_err(|e| sql_error(&self.name, e))
    }

    fn finish_outbox(
        &mut self,
        id: i64,
        attempts: i64,
        delivered: bool,
        error: Option<&str>,
        now: &str,
    ) -> Result<(), StoreError> {
        outbox::finish(&self.conn, id, attempts, delivered, error, now).map_err(|e| self.sql(e))
    }

    fn lock_outbox(&mut self, _take: bool) -> Result<(), StoreError> {
        // Senders already hold the writer lock file.
        Ok(())
    }

    fn latest_port_tls(&self, before: i64) -> Result<Vec<RawPortTls>, StoreError> {
        outbox::latest_port_tls(&self.conn, before).map_err(|e| self.sql(e))
    }

    fn export_rows(&self, table: &str) -> Result<Vec<serde_json::Value>, StoreError> {
        copy::export(&self.conn, table).map_err(|e| self.sql(e))
    }

    fn import_rows(&mut self, tables: &[(&str, Vec<serde_json::Value>)]) -> Result<(), StoreError> {
        copy::import(&mut self.conn, tables).map_err(|e| sql_error(&self.name, e))
    }

    fn count_rows(&self, table: &str) -> Result<i64, StoreError> {
        copy::count(&self.conn, table).map_err(|e| self.sql(e))
    }

    #[cfg(test)]
    fn test_execute(&self, sql: &str) -> Result<(), StoreError> {
        self.conn.execute_batch(sql).map_err(|e| self.sql(e))
    }

    #[cfg(test)]
    fn test_query(&self, sql: &str) -> Result<i64, StoreError> {
        self.conn
            .query_row(sql, [], |r| r.get(0))
            .map_err(|e| self.sql(e))
    }
}

pub(super) fn sql_error(name: &str, source: rusqlite::Error) -> StoreError {
    let db = name.to_string();
    match source.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy { db },
        Some(ErrorCode::DiskFull) => StoreError::Full { db },
        Some(ErrorCode::NotADatabase) => StoreError::NotADatabase { db },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { db },
        // A full disk often surfaces as an I/O error (growing the WAL index, for one).
        Some(ErrorCode::SystemIoFailure) => StoreError::Io { db, source },
        _ => StoreError::Sqlite { db, source },
    }
}

//! SQLite storage of snapshots and alerts.
//!
//! One file, WAL mode so `api_server` reads while `daily_scan` writes, a 5 s busy timeout, and
//! foreign keys on. A snapshot is written in one transaction: a reader never sees half of one.
//!
//! Everything in [`crate::model::Host`] round-trips, scripts and OS matches included (as JSON
//! text): storing them costs little and keeps `report [ID]` as rich as the run that made it.

mod alert_sync;
mod alerts;
mod certificates;
mod deliveries;
mod deltas;
mod hosts;
mod latest;
mod outbox;
mod rows;
mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};
use serde::Serialize;

use crate::model::{AlertAction, AlertStatus};
use crate::snapshot::{Snapshot, SnapshotStatus};
pub use alert_sync::{AlertChanges, AlertSync, UnresolvedAlert};
pub use alerts::{Alert, AlertFilter, MAX_NOTE_CHARS, NewAlert, StatusChange};
pub use certificates::PortTls;
pub use deliveries::{Delivery, DeliveryAttempt, DeliveryFilter, DeliveryOutcome};
pub use deltas::DeltaRow;
pub use hosts::HostRange;
pub use outbox::{NewOutbox, OutboxItem};
use schema::Migration;
pub use schema::SCHEMA_VERSION;

/// How long a statement waits for another process's lock before [`StoreError::Busy`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: directory {dir} does not exist")]
    MissingDirectory { path: PathBuf, dir: PathBuf },
    #[error("database {path} does not exist (a daily_scan run or import creates it)")]
    Missing { path: PathBuf },
    #[error(
        "database {path} has schema version {found}, newer than this program's {supported}: \
         upgrade the program"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "database {path} has schema version {found}, older than this program's {supported}: \
         run daily_scan once to migrate it"
    )]
    TooOld {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "database {path} is locked by another process (waited {}s); try again",
        BUSY_TIMEOUT.as_secs()
    )]
    Busy { path: PathBuf },
    #[error(
        "{path} is not an SQLite database (wrong file, or damaged): point `database` / --db at \
         the scans.db daily_scan writes, or move this file away"
    )]
    NotADatabase { path: PathBuf },
    #[error("database {path}: the disk is full; free space on it and run again")]
    Full { path: PathBuf },
    #[error(
        "database {path} is read-only: the program needs write access to the file and its \
         directory"
    )]
    ReadOnly { path: PathBuf },
    #[error(
        "database {path}: disk I/O error ({source}); check that its disk has free space and \
         that the file and its directory are writable"
    )]
    Io {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("snapshot {0} not found")]
    NotFound(i64),
    #[error("alert {0} not found")]
    AlertNotFound(i64),
    #[error("alert {id} is {status}: {action} is not possible")]
    AlertTransition {
        id: i64,
        action: AlertAction,
        status: AlertStatus,
    },
    #[error("note is longer than {max} characters")]
    NoteTooLong { max: usize },
    #[error("database {path} holds an invalid value: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

/// A snapshot retention deleted: its id and start time (which name its report folder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deleted {
    pub id: i64,
    pub started_at: Timestamp,
}

/// One line of `daily_scan history` / the read API's snapshot list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotSummary {
    pub id: i64,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub profile: String,
    pub status: SnapshotStatus,
    pub hosts_up: u64,
    pub open_ports: u64,
    pub targets_total: u64,
    pub targets_failed: u64,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it to this binary's
    /// schema. The parent directory must exist: a typo in `--db` should not create a tree.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            return Err(StoreError::MissingDirectory {
                path: path.to_path_buf(),
                dir: dir.to_path_buf(),
            });
        }
        let sql = |source| sql_error(path, source);
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
                    path: path.to_path_buf(),
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
        }
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing database for reading only (the read API): never creates or migrates,
    /// and refuses a schema other than this binary's.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Missing {
                path: path.to_path_buf(),
            });
        }
        let sql = |source| sql_error(path, source);
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        conn.execute_batch("PRAGMA query_only = ON;").map_err(sql)?;
        let found = schema::version(&conn).map_err(sql)?;
        let (path, supported) = (path.to_path_buf(), SCHEMA_VERSION);
        if found > supported {
            return Err(StoreError::TooNew {
                path,
                found,
                supported,
            });
        }
        if found < supported {
            return Err(StoreError::TooOld {
                path,
                found,
                supported,
            });
        }
        Ok(Store { conn, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Saves `s` as a new snapshot (ignoring `s.id`) in one transaction and returns its id.
    pub fn save_snapshot(&mut self, s: &Snapshot) -> Result<i64, StoreError> {
        rows::save(&mut self.conn, s).map_err(|e| self.error(e))
    }

    pub fn load_snapshot(&self, id: i64) -> Result<Snapshot, StoreError> {
        rows::load(&self.conn, id, rows::Detail::Full).map_err(|e| self.error(e))
    }

    /// Snapshot `id` without its hosts (`hosts` is empty): its head and targets, for a reader
    /// that walks the hosts apart ([`Store::for_each_host`]).
    pub fn load_snapshot_head(&self, id: i64) -> Result<Snapshot, StoreError> {
        rows::load(&self.conn, id, rows::Detail::Head).map_err(|e| self.error(e))
    }

    /// Loads snapshot `id` with only what a comparison or a score reads: host state,
    /// addresses and names, and per port its protocol, number, state, service, product and
    /// version (no scripts, OS matches, CPEs, reasons or extra info). Several times faster
    /// than [`Store::load_snapshot`] on large snapshots; `delta::compare` gives the same
    /// result on either.
    pub fn load_snapshot_for_comparison(&self, id: i64) -> Result<Snapshot, StoreError> {
        rows::load(&self.conn, id, rows::Detail::Comparison).map_err(|e| self.error(e))
    }

    /// The latest snapshot of the same technique (profile without its `+ports=` override) that
    /// started before snapshot `id` (the delta's `from`). Ordered by start time, then id, so an
    /// imported old file sorts where it ran.
    pub fn previous_snapshot_id(&self, id: i64) -> Result<Option<i64>, StoreError> {
        let exists: Option<i64> = self
            .conn
            .query_row("SELECT id FROM snapshots WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(|e| self.sql(e))?;
        if exists.is_none() {
            return Err(StoreError::NotFound(id));
        }
        self.conn
            .query_row(
                "SELECT p.id FROM snapshots AS s JOIN snapshots AS p
                   ON p.technique = s.technique AND (p.started_at, p.id) < (s.started_at, s.id)
                 WHERE s.id = ?1
                 ORDER BY p.started_at DESC, p.id DESC LIMIT 1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))
    }

    /// The latest stored snapshot of `technique` that started at or before `started_at`: what
    /// a run not yet saved will be compared with.
    pub fn latest_of_technique(
        &self,
        technique: &str,
        started_at: jiff::Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                "SELECT id FROM snapshots WHERE technique = ?1 AND started_at <= ?2
                 ORDER BY started_at DESC, id DESC LIMIT 1",
                rusqlite::params![technique, rows::time_text(started_at)],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))
    }

    /// The most recent snapshot, of `profile` when given.
    pub fn latest_snapshot_id(&self, profile: Option<&str>) -> Result<Option<i64>, StoreError> {
        let query = match profile {
            Some(p) => self.conn.query_row(
                "SELECT id FROM snapshots WHERE profile = ?1
                 ORDER BY started_at DESC, id DESC LIMIT 1",
                [p],
                |r| r.get(0),
            ),
            None => self.conn.query_row(
                "SELECT id FROM snapshots ORDER BY started_at DESC, id DESC LIMIT 1",
                [],
                |r| r.get(0),
            ),
        };
        query.optional().map_err(|e| self.sql(e))
    }

    /// Up to `limit` snapshots, newest first; with `before`, only those older than that
    /// snapshot (a cursor for paging).
    pub fn list_snapshots(
        &self,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Vec<SnapshotSummary>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let cursor = match before {
            None => None,
            Some(id) => Some(
                self.conn
                    .query_row(
                        "SELECT started_at FROM snapshots WHERE id = ?1",
                        [id],
                        |r| r.get::<_, String>(0).map(|t| (t, id)),
                    )
                    .optional()
                    .map_err(|e| self.sql(e))?
                    .ok_or(StoreError::NotFound(id))?,
            ),
        };
        let (cursor_time, cursor_id) = cursor.unzip();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, started_at, finished_at, profile, status, hosts_up, open_ports,
                        targets_total, targets_failed
                   FROM snapshots
                  WHERE ?1 IS NULL OR (started_at, id) < (?1, ?2)
                  ORDER BY started_at DESC, id DESC LIMIT ?3",
            )
            .map_err(|e| self.sql(e))?;
        let raw = stmt
            .query_map(params![cursor_time, cursor_id, limit], summary_row)
            .map_err(|e| self.sql(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.sql(e))?;
        raw.into_iter().map(|raw| self.summary_of(raw)).collect()
    }

    /// The listing line of one snapshot (`history` and the report start from a given id).
    pub fn snapshot_summary(&self, id: i64) -> Result<SnapshotSummary, StoreError> {
        let raw = self
            .conn
            .query_row(
                "SELECT id, started_at, finished_at, profile, status, hosts_up, open_ports,
                        targets_total, targets_failed
                   FROM snapshots WHERE id = ?1",
                [id],
                summary_row,
            )
            .optional()
            .map_err(|e| self.sql(e))?
            .ok_or(StoreError::NotFound(id))?;
        self.summary_of(raw)
    }

    fn summary_of(&self, raw: RawSummary) -> Result<SnapshotSummary, StoreError> {
        let count = |c: i64| u64::try_from(c).unwrap_or(0);
        let status = &raw.status;
        Ok(SnapshotSummary {
            id: raw.id,
            started_at: self.timestamp(&raw.started_at)?,
            finished_at: self.timestamp(&raw.finished_at)?,
            status: SnapshotStatus::parse(status)
                .ok_or_else(|| self.corrupt(format!("snapshot status {status:?}")))?,
            profile: raw.profile,
            hosts_up: count(raw.hosts_up),
            open_ports: count(raw.open_ports),
            targets_total: count(raw.targets_total),
            targets_failed: count(raw.targets_failed),
        })
    }

    /// Retention: deletes snapshots that started before `cutoff`, except the latest of each
    /// profile (the next run's baseline). Returns the deleted snapshots.
    pub fn delete_older_than(&mut self, cutoff: Timestamp) -> Result<Vec<Deleted>, StoreError> {
        self.delete_returning(
            "DELETE FROM snapshots WHERE started_at < ?1 AND id NOT IN (
                 SELECT (SELECT l.id FROM snapshots AS l WHERE l.profile = p.profile
                          ORDER BY l.started_at DESC, l.id DESC LIMIT 1)
                   FROM (SELECT DISTINCT profile FROM snapshots) AS p)
             RETURNING id, started_at",
            rows::time_text(cutoff),
        )
    }

    /// Retention: keeps the `n` most recent snapshots of each profile, deletes the rest.
    /// Returns the deleted snapshots.
    pub fn keep_latest(&mut self, n: usize) -> Result<Vec<Deleted>, StoreError> {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        self.delete_returning(
            "DELETE FROM snapshots WHERE id IN (
                 SELECT id FROM (
                     SELECT id, row_number() OVER (
                         PARTITION BY profile ORDER BY started_at DESC, id DESC) AS rank
                       FROM snapshots)
                  WHERE rank > ?1)
             RETURNING id, started_at",
            n,
        )
    }

    fn delete_returning(
        &mut self,
        sql: &str,
        value: impl rusqlite::ToSql,
    ) -> Result<Vec<Deleted>, StoreError> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.sql(e))?;
        let raw = stmt
            .query_map([value], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.sql(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.sql(e))?;
        drop(stmt);
        raw.into_iter()
            .map(|(id, at)| {
                Ok(Deleted {
                    id,
                    started_at: rows::parse_time(&at).map_err(|e| self.error(e))?,
                })
            })
            .collect()
    }

    /// Returns freed pages to the file system (after retention deleted much).
    pub fn vacuum(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("VACUUM").map_err(|e| self.sql(e))
    }

    fn sql(&self, source: rusqlite::Error) -> StoreError {
        sql_error(&self.path, source)
    }

    fn error(&self, e: rows::RowError) -> StoreError {
        row_error(&self.path, e)
    }

    fn corrupt(&self, detail: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            detail,
        }
    }

    fn timestamp(&self, text: &str) -> Result<Timestamp, StoreError> {
        rows::parse_time(text).map_err(|e| self.error(e))
    }
}

/// The columns of a [`SnapshotSummary`], as read (see [`summary_row`]).
struct RawSummary {
    id: i64,
    started_at: String,
    finished_at: String,
    profile: String,
    status: String,
    hosts_up: i64,
    open_ports: i64,
    targets_total: i64,
    targets_failed: i64,
}

fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawSummary> {
    Ok(RawSummary {
        id: r.get(0)?,
        started_at: r.get(1)?,
        finished_at: r.get(2)?,
        profile: r.get(3)?,
        status: r.get(4)?,
        hosts_up: r.get(5)?,
        open_ports: r.get(6)?,
        targets_total: r.get(7)?,
        targets_failed: r.get(8)?,
    })
}

fn row_error(path: &Path, e: rows::RowError) -> StoreError {
    match e {
        rows::RowError::Sql(source) => sql_error(path, source),
        rows::RowError::NotFound(id) => StoreError::NotFound(id),
        rows::RowError::Corrupt(detail) => StoreError::Corrupt {
            path: path.to_path_buf(),
            detail,
        },
    }
}

fn sql_error(path: &Path, source: rusqlite::Error) -> StoreError {
    let path = path.to_path_buf();
    match source.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy { path },
        Some(ErrorCode::DiskFull) => StoreError::Full { path },
        Some(ErrorCode::NotADatabase) => StoreError::NotADatabase { path },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path },
        // A full disk often surfaces as an I/O error (growing the WAL index, for one).
        Some(ErrorCode::SystemIoFailure) => StoreError::Io { path, source },
        _ => StoreError::Sqlite { path, source },
    }
}

#[cfg(test)]
mod tests;

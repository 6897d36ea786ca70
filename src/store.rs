//! Storage of snapshots, alerts and deliveries: one contract ([`Store`]), two backends.
//!
//! `database` names a SQLite file (the embedded default: WAL mode so `api_server` reads while
//! `daily_scan` writes) or a PostgreSQL server (`postgres://...`, for several scanners and
//! `api_server` replicas on one database). [`Store`] is the only type callers see; it hands
//! each call to a [`backend::Backend`], whose SQL lives in `store/sqlite/` or
//! `store/postgres/` and nowhere else. What a column holds and how it is encoded is shared
//! (`rows`), so both backends read back the same snapshot. A snapshot is written in one
//! transaction on either: a reader never sees half of one.
//!
//! Everything in [`crate::model::Host`] round-trips, scripts and OS matches included (as JSON
//! text): storing them costs little and keeps `report [ID]` as rich as the run that made it.

mod alert_sync;
mod alerts;
mod backend;
mod certificates;
mod deliveries;
mod deltas;
mod hosts;
mod migrate;
mod outbox;
mod postgres;
mod rows;
mod shards;
mod sqlite;

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use crate::config::Database;
use crate::model::{AlertAction, AlertStatus};
use crate::snapshot::{Snapshot, SnapshotStatus};
pub use alert_sync::{AlertChanges, AlertSync, UnresolvedAlert};
pub use alerts::{Alert, AlertFilter, MAX_NOTE_CHARS, NewAlert, StatusChange};
use backend::Backend;
pub use certificates::PortTls;
pub use deliveries::{Delivery, DeliveryAttempt, DeliveryFilter, DeliveryOutcome};
pub use deltas::{DeltaOf, DeltaRow, NewDelta};
pub use hosts::HostRange;
pub use migrate::{CopiedTable, MigrateError};
pub use outbox::{NewOutbox, OutboxItem};
pub use postgres::{PgPool, PgWriterLock, SCHEMA_VERSION_POSTGRES};
use rows::{Detail, HeadRow, parse_time, time_text};
pub use shards::{PartCommit, Registration, ShardPart, ShardRun, ShardState};
pub use sqlite::SCHEMA_VERSION;

/// How long a statement waits for another process's lock before [`StoreError::Busy`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: directory {dir} does not exist")]
    MissingDirectory { path: PathBuf, dir: PathBuf },
    #[error("database {path} does not exist (a daily_scan run or import creates it)")]
    Missing { path: PathBuf },
    #[error(
        "database {db} has schema version {found}, newer than this program's {supported}: \
         upgrade the program"
    )]
    TooNew {
        db: String,
        found: i64,
        supported: i64,
    },
    #[error(
        "database {db} has schema version {found}, older than this program's {supported}: \
         run daily_scan once to migrate it"
    )]
    TooOld {
        db: String,
        found: i64,
        supported: i64,
    },
    #[error(
        "database {db} is locked by another process (waited {}s); try again",
        BUSY_TIMEOUT.as_secs()
    )]
    Busy { db: String },
    #[error(
        "{db} is not an SQLite database (wrong file, or damaged): point `database` / --db at \
         the scans.db daily_scan writes, or move this file away"
    )]
    NotADatabase { db: String },
    #[error("database {db}: the disk is full; free space on it and run again")]
    Full { db: String },
    #[error(
        "database {db} is read-only: the program needs write access to the file and its \
         directory"
    )]
    ReadOnly { db: String },
    #[error(
        "database {db}: disk I/O error ({source}); check that its disk has free space and \
         that the file and its directory are writable"
    )]
    Io {
        db: String,
        #[source]
        source: rusqlite::Error,
    },
    /// The database server cannot be used at all: unreachable, refused the login, no such
    /// database, no TLS where the URL requires it. One line naming the host, never the
    /// password.
    #[error("database server {host} is unavailable: {reason}")]
    Unavailable { host: String, reason: String },
    #[error(
        "sharded runs need a PostgreSQL database (database = \"postgres://...\" or \
         SCANNER_DATABASE): their shards run on several machines and meet there; {db} is SQLite"
    )]
    ShardsNeedPostgres { db: String },
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
    #[error("database {db} holds an invalid value: {detail}")]
    Corrupt { db: String, detail: String },
    #[error("database {db}: {source}")]
    Sqlite {
        db: String,
        #[source]
        source: rusqlite::Error,
    },
    /// `detail` is the server's message when it gave one (the client's `Display` says only
    /// "db error").
    #[error("database {db}: {detail}")]
    Postgres {
        db: String,
        detail: String,
        #[source]
        source: ::postgres::Error,
    },
}

impl StoreError {
    /// Whether the database itself is unusable (HTTP 503 `database_unavailable`), rather than
    /// one request or one value being wrong.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable { .. }
                | StoreError::TooNew { .. }
                | StoreError::TooOld { .. }
                | StoreError::MissingDirectory { .. }
                | StoreError::NotADatabase { .. }
        )
    }
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

/// The store: one open database of either backend. Reads take `&self`, writes `&mut self`.
pub struct Store {
    db: Box<dyn Backend>,
}

impl Store {
    /// Opens (creating if needed) the SQLite file at `path` and migrates it to this binary's
    /// schema. The parent directory must exist: a typo in `--db` should not create a tree.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            db: Box::new(sqlite::Sqlite::open(path)?),
        })
    }

    /// Opens an existing SQLite file for reading only (the read API): never creates or
    /// migrates, and refuses a schema other than this binary's.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            db: Box::new(sqlite::Sqlite::open_read_only(path)?),
        })
    }

    /// Opens `db` for writing: a SQLite file as [`Store::open`]; a PostgreSQL database is
    /// connected to and migrated.
    pub fn connect(db: &Database) -> Result<Store, StoreError> {
        match db {
            Database::Sqlite(path) => Store::open(path),
            Database::Postgres(url) => Ok(Store {
                db: Box::new(postgres::Postgres::connect(url)?),
            }),
        }
    }

    /// Opens `db` for reading: a SQLite file as [`Store::open_read_only`]; a PostgreSQL
    /// database is connected to and must be at this binary's schema (never migrated here).
    pub fn connect_read_only(db: &Database) -> Result<Store, StoreError> {
        match db {
            Database::Sqlite(path) => Store::open_read_only(path),
            Database::Postgres(url) => Ok(Store {
                db: Box::new(postgres::Postgres::connect_read_only(url)?),
            }),
        }
    }

    /// A store over a connection of `pool` (api_server's PostgreSQL requests); the connection
    /// goes back to the pool when the store is dropped.
    pub fn from_pool(pool: &PgPool) -> Result<Store, StoreError> {
        Ok(Store {
            db: Box::new(pool.get()?),
        })
    }

    /// The database as messages name it: the file path, or `postgres://user@host:port/db`
    /// (never the password).
    pub fn name(&self) -> &str {
        self.db.name()
    }

    /// Saves `s` as a new snapshot (ignoring `s.id`) in one transaction and returns its id.
    pub fn save_snapshot(&mut self, s: &Snapshot) -> Result<i64, StoreError> {
        self.db.save_snapshot(s, None)
    }

    pub fn load_snapshot(&self, id: i64) -> Result<Snapshot, StoreError> {
        self.load(id, Detail::Full)
    }

    /// Snapshot `id` without its hosts (`hosts` is empty): its head and targets, for a reader
    /// that walks the hosts apart ([`Store::for_each_host`]).
    pub fn load_snapshot_head(&self, id: i64) -> Result<Snapshot, StoreError> {
        self.load(id, Detail::Head)
    }

    /// Loads snapshot `id` with only what a comparison or a score reads: host state,
    /// addresses and names, and per port its protocol, number, state, service, product and
    /// version (no scripts, OS matches, CPEs, reasons or extra info). Several times faster
    /// than [`Store::load_snapshot`] on large snapshots; `delta::compare` gives the same
    /// result on either.
    pub fn load_snapshot_for_comparison(&self, id: i64) -> Result<Snapshot, StoreError> {
        self.load(id, Detail::Comparison)
    }

    fn load(&self, id: i64, detail: Detail) -> Result<Snapshot, StoreError> {
        let rows = self
            .db
            .load_snapshot(id, detail)?
            .ok_or(StoreError::NotFound(id))?;
        rows.into_snapshot(id, detail).map_err(|d| self.corrupt(d))
    }

    /// The latest snapshot of the same technique (profile without its `+ports=` override) that
    /// started before snapshot `id` (the delta's `from`). Ordered by start time, then id, so an
    /// imported old file sorts where it ran.
    pub fn previous_snapshot_id(&self, id: i64) -> Result<Option<i64>, StoreError> {
        self.db
            .previous_snapshot_id(id)?
            .ok_or(StoreError::NotFound(id))
    }

    /// The latest stored snapshot of `technique` that started at or before `started_at`: what
    /// a run not yet saved will be compared with.
    pub fn latest_of_technique(
        &self,
        technique: &str,
        started_at: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        self.db
            .latest_of_technique(technique, &time_text(started_at))
    }

    /// The most recent snapshot, of `profile` when given.
    pub fn latest_snapshot_id(&self, profile: Option<&str>) -> Result<Option<i64>, StoreError> {
        self.db.latest_snapshot_id(profile)
    }

    /// The id of the latest snapshot of each profile, newest first (what the dashboard
    /// starts from).
    pub fn latest_per_profile(&self) -> Result<Vec<i64>, StoreError> {
        self.db.latest_per_profile()
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
            Some(id) => Some((
                self.db
                    .snapshot_summary(id)?
                    .ok_or(StoreError::NotFound(id))?
                    .1
                    .started_at,
                id,
            )),
        };
        self.db
            .list_snapshots(limit, cursor.as_ref().map(|(t, id)| (t.as_str(), *id)))?
            .into_iter()
            .map(|raw| self.summary_of(raw))
            .collect()
    }

    /// The listing line of one snapshot (`history` and the report start from a given id).
    pub fn snapshot_summary(&self, id: i64) -> Result<SnapshotSummary, StoreError> {
        let raw = self
            .db
            .snapshot_summary(id)?
            .ok_or(StoreError::NotFound(id))?;
        self.summary_of(raw)
    }

    fn summary_of(&self, (id, head): (i64, HeadRow)) -> Result<SnapshotSummary, StoreError> {
        let count = |c: i64| u64::try_from(c).unwrap_or(0);
        let status = &head.status;
        Ok(SnapshotSummary {
            id,
            started_at: self.timestamp(&head.started_at)?,
            finished_at: self.timestamp(&head.finished_at)?,
            status: SnapshotStatus::parse(status)
                .ok_or_else(|| self.corrupt(format!("snapshot status {status:?}")))?,
            profile: head.profile,
            hosts_up: count(head.hosts_up),
            open_ports: count(head.open_ports),
            targets_total: count(head.targets_total),
            targets_failed: count(head.targets_failed),
        })
    }

    /// Retention: deletes snapshots that started before `cutoff`, except the latest of each
    /// profile (the next run's baseline). Returns the deleted snapshots.
    pub fn delete_older_than(&mut self, cutoff: Timestamp) -> Result<Vec<Deleted>, StoreError> {
        let rows = self.db.delete_older_than(&time_text(cutoff))?;
        self.deleted(rows)
    }

    /// Retention: keeps the `n` most recent snapshots of each profile, deletes the rest.
    /// Returns the deleted snapshots.
    pub fn keep_latest(&mut self, n: usize) -> Result<Vec<Deleted>, StoreError> {
        let rows = self.db.keep_latest(i64::try_from(n).unwrap_or(i64::MAX))?;
        self.deleted(rows)
    }

    fn deleted(&self, rows: Vec<(i64, String)>) -> Result<Vec<Deleted>, StoreError> {
        rows.into_iter()
            .map(|(id, at)| {
                Ok(Deleted {
                    id,
                    started_at: self.timestamp(&at)?,
                })
            })
            .collect()
    }

    /// Returns freed space to the file system (after retention deleted much).
    pub fn vacuum(&mut self) -> Result<(), StoreError> {
        self.db.vacuum()
    }

    /// Tests: runs `sql` on the connection (see [`Backend::test_execute`]).
    #[cfg(test)]
    pub(crate) fn test_execute(&self, sql: &str) {
        self.db.test_execute(sql).unwrap();
    }

    /// Tests: an integer `sql` selects.
    #[cfg(test)]
    pub(crate) fn test_query(&self, sql: &str) -> i64 {
        self.db.test_query(sql).unwrap()
    }

    /// Tests: whether this store is the PostgreSQL one.
    #[cfg(test)]
    pub(crate) fn is_postgres(&self) -> bool {
        self.name().starts_with("postgres://")
    }

    fn corrupt(&self, detail: String) -> StoreError {
        StoreError::Corrupt {
            db: self.name().to_string(),
            detail,
        }
    }

    fn timestamp(&self, text: &str) -> Result<Timestamp, StoreError> {
        parse_time(text).map_err(|d| self.corrupt(d))
    }
}

#[cfg(test)]
mod tests;

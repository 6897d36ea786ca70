//! The PostgreSQL backend: the synchronous `postgres` client, snapshots bulk-loaded with
//! binary COPY, TLS per the URL, a small bounded pool for api_server, and advisory locks where
//! SQLite has its lock file. Every PostgreSQL statement of the store is in this module and its
//! children (`schema`, `snapshots`, `alerts`, `copy`, `lock`).

mod alerts;
mod connect;
mod copy;
mod deltas;
mod hosts;
mod listing;
mod lock;
mod outbox;
mod pool;
pub(in crate::store) mod schema;
mod shards;
mod snapshots;

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};

use postgres::Client;
use postgres::error::SqlState;

use super::alerts::{AlertQuery, RawAlert};
use super::backend::{AlertTx, Backend};
use super::certificates::RawPortTls;
use super::deliveries::{DeliveryAttempt, DeliveryFilter, RawDelivery};
use super::deltas::{DeltaOf, DeltaRow};
use super::hosts::HostRange;
use super::outbox::{OutboxRows, RawOutbox};
use super::rows::{Detail, EachHost, HeadRow, SnapshotRows};
use super::shards::{PartCommit, RawShardPart, RawShardRun, Registration};
use super::{NewAlert, StoreError};
use crate::config::PostgresUrl;
use crate::model::AlertStatus;
use crate::snapshot::Snapshot;
pub use lock::PgWriterLock;
pub use pool::PgPool;
use schema::Migration;
pub use schema::SCHEMA_VERSION as SCHEMA_VERSION_POSTGRES;

/// A connection of its own, or one lent by the pool (returned when dropped).
enum Conn {
    Own(Client),
    Pooled(pool::Pooled),
}

impl Deref for Conn {
    type Target = Client;
    fn deref(&self) -> &Client {
        match self {
            Conn::Own(c) => c,
            Conn::Pooled(c) => c,
        }
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Client {
        match self {
            Conn::Own(c) => c,
            Conn::Pooled(c) => c,
        }
    }
}

/// How errors name the database: `postgres://user@host:port/db` and `host:port`.
#[derive(Clone)]
pub(super) struct Names {
    name: String,
    host: String,
}

impl Names {
    fn of(url: &PostgresUrl) -> Names {
        Names {
            name: url.to_string(),
            host: url.host(),
        }
    }

    /// A lost or refused connection is [`StoreError::Unavailable`]; a lock or serialization
    /// conflict [`StoreError::Busy`]; anything else names the database.
    pub(super) fn error(&self, e: postgres::Error) -> StoreError {
        let unavailable = match e.code() {
            Some(code) => {
                code.code().starts_with("08")
                    || [
                        SqlState::ADMIN_SHUTDOWN,
                        SqlState::CRASH_SHUTDOWN,
                        SqlState::CANNOT_CONNECT_NOW,
                        SqlState::INVALID_CATALOG_NAME,
                        SqlState::INVALID_PASSWORD,
                        SqlState::INVALID_AUTHORIZATION_SPECIFICATION,
                    ]
                    .contains(code)
            }
            None => {
                e.is_closed()
                    || std::error::Error::source(&e)
                        .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some())
            }
        };
        if unavailable {
            return StoreError::Unavailable {
                host: self.host.clone(),
                reason: connect::reason(&e),
            };
        }
        if matches!(
            e.code(),
            Some(&SqlState::T_R_SERIALIZATION_FAILURE | &SqlState::T_R_DEADLOCK_DETECTED)
                | Some(&SqlState::LOCK_NOT_AVAILABLE)
        ) {
            return StoreError::Busy {
                db: self.name.clone(),
            };
        }
        StoreError::Postgres {
            db: self.name.clone(),
            detail: connect::reason(&e),
            source: e,
        }
    }
}

pub(super) struct Postgres {
    /// Reads take `&self` in the store's contract; the client needs `&mut` for every query.
    conn: RefCell<Conn>,
    names: Names,
}

impl Postgres {
    /// Connects and migrates to this binary's schema.
    pub fn connect(url: &PostgresUrl) -> Result<Postgres, StoreError> {
        let names = Names::of(url);
        let mut client = connect::connect(url)?;
        match schema::migrate(&mut client).map_err(|e| names.error(e))? {
            Migration::Current => {}
            Migration::TooNew(found) => {
                return Err(StoreError::TooNew {
                    db: names.name,
                    found,
                    supported: SCHEMA_VERSION_POSTGRES,
                });
            }
        }
        Ok(Postgres {
            conn: RefCell::new(Conn::Own(client)),
            names,
        })
    }

    /// Connects for reading: the schema must be this binary's (never migrated here), and the
    /// session refuses writes.
    pub fn connect_read_only(url: &PostgresUrl) -> Result<Postgres, StoreError> {
        let names = Names::of(url);
        let mut client = connect::connect(url)?;
        check_version(&mut client, &names)?;
        client
            .batch_execute("SET default_transaction_read_only = on")
            .map_err(|e| names.error(e))?;
        Ok(Postgres {
            conn: RefCell::new(Conn::Own(client)),
            names,
        })
    }

    /// Runs `f` on the connection, mapping its error.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.borrow_mut();
        f(&mut conn).map_err(|e| self.names.error(e))
    }
}

/// Refuses a schema other than this binary's.
fn check_version(client: &mut Client, names: &Names) -> Result<(), StoreError> {
    let found = schema::version(client).map_err(|e| names.error(e))?;
    let supported = SCHEMA_VERSION_POSTGRES;
    let db = names.name.clone();
    if found > supported {
        return Err(StoreError::TooNew {
            db,
            found,
            supported,
        });
    }
    if found < supported {
        return Err(StoreError::TooOld {
            db,
            found,
            supported,
        });
    }
    Ok(())
}

impl Backend for Postgres {
    fn name(&self) -> &str {
        &self.names.name
    }

    fn save_snapshot(
        &mut self,
        s: &Snapshot,
        delta: Option<DeltaOf<'_>>,
    ) -> Result<i64, StoreError> {
        self.with(|c| snapshots::save(c, s, delta))
    }

    fn delta_row(&self, id: i64) -> Result<Option<DeltaRow>, StoreError> {
        self.with(|c| deltas::row(c, id))
    }

    fn delta_json(&self, id: i64) -> Result<Option<String>, StoreError> {
        self.with(|c| deltas::text(c, id, false))
    }

    fn delta_entries(&self, id: i64) -> Result<Option<String>, StoreError> {
        self.with(|c| deltas::text(c, id, true))
    }

    fn for_each_host(
        &self,
        id: i64,
        range: HostRange,
        each: EachHost<'_>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.borrow_mut();
        hosts::walk(&mut conn, id, range, each)
            .map_err(|e| e.into_store(&self.names.name, |e| self.names.error(e)))
    }

    fn up_hosts_open_ports(&self, id: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.with(|c| hosts::up_open_ports(c, id))
    }

    fn load_snapshot(&self, id: i64, detail: Detail) -> Result<Option<SnapshotRows>, StoreError> {
        self.with(|c| snapshots::load(c, id, detail))
    }

    fn previous_snapshot_id(&self, id: i64) -> Result<Option<Option<i64>>, StoreError> {
        self.with(|c| listing::previous(c, id))
    }

    fn latest_snapshot_id(&self, profile: Option<&str>) -> Result<Option<i64>, StoreError> {
        self.with(|c| listing::latest(c, profile))
    }

    fn latest_of_technique(
        &self,
        technique: &str,
        started_at: &str,
    ) -> Result<Option<i64>, StoreError> {
        self.with(|c| listing::latest_of_technique(c, technique, started_at))
    }

    fn latest_per_profile(&self) -> Result<Vec<i64>, StoreError> {
        self.with(listing::latest_per_profile)
    }

    fn list_snapshots(
        &self,
        limit: i64,
        before: Option<(&str, i64)>,
    ) -> Result<Vec<(i64, HeadRow)>, StoreError> {
        self.with(|c| listing::list(c, limit, before))
    }

    fn snapshot_summary(&self, id: i64) -> Result<Option<(i64, HeadRow)>, StoreError> {
        self.with(|c| listing::summary(c, id))
    }

    fn delete_older_than(&mut self, cutoff: &str) -> Result<Vec<(i64, String)>, StoreError> {
        self.with(|c| listing::delete_older_than(c, cutoff))
    }

    fn keep_latest(&mut self, n: i64) -> Result<Vec<(i64, String)>, StoreError> {
        self.with(|c| listing::keep_latest(c, n))
    }

    fn vacuum(&mut self) -> Result<(), StoreError> {
        // Plain VACUUM (not FULL): frees dead rows for reuse without locking readers out.
        self.with(|c| c.batch_execute("VACUUM (ANALYZE) snapshots, snapshot_targets, hosts, ports"))
    }

    fn list_alerts(&self, query: &AlertQuery) -> Result<Vec<RawAlert>, StoreError> {
        self.with(|c| alerts::list(c, query))
    }

    fn alerts_raised_by(&self, snapshot: i64) -> Result<Vec<RawAlert>, StoreError> {
        self.with(|c| alerts::raised_by(c, snapshot))
    }

    fn alerts_resolved_after(
        &self,
        last_seen: i64,
        since: &str,
    ) -> Result<Vec<RawAlert>, StoreError> {
        self.with(|c| alerts::resolved_after(c, last_seen, since))
    }

    fn alert(&self, id: i64) -> Result<Option<RawAlert>, StoreError> {
        self.with(|c| alerts::one(c, id))
    }

    fn insert_alert(&mut self, new: &NewAlert, now: &str) -> Result<i64, StoreError> {
        self.with(|c| alerts::insert_open(c, new, now))
    }

    fn change_alert_status(
        &mut self,
        id: i64,
        from: &[AlertStatus],
        to: AlertStatus,
        now: &str,
        note: Option<&str>,
    ) -> Result<usize, StoreError> {
        self.with(|c| alerts::change_status(c, id, from, to, now, note))
    }

    fn alert_sync(&mut self) -> Result<Box<dyn AlertTx + '_>, StoreError> {
        let names = self.names.clone();
        let conn = self.conn.get_mut();
        alerts::SyncTx::begin(conn, names).map(|tx| Box::new(tx) as Box<dyn AlertTx + '_>)
    }

    fn register_shard(
        &mut self,
        run: &RawShardRun,
        plan: &str,
        shard: i64,
    ) -> Result<Registration, StoreError> {
        self.with(|c| shards::register(c, run, plan, shard))
    }

    fn commit_shard_part(
        &mut self,
        run_id: &str,
        shard: i64,
        part: Option<&str>,
        failed: bool,
        error: Option<&str>,
        now: &str,
    ) -> Result<PartCommit, StoreError> {
        self.with(|c| shards::commit_part(c, run_id, shard, part, failed, error, now))
    }

    fn shard_runs(
        &self,
        run_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(RawShardRun, Vec<RawShardPart>)>, StoreError> {
        self.with(|c| shards::runs(c, run_id, limit))
    }

    fn shard_run_plan(&self, run_id: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| shards::plan(c, run_id))
    }

    fn shard_parts(&self, run_id: &str) -> Result<Vec<(i64, String)>, StoreError> {
        self.with(|c| shards::parts(c, run_id))
    }

    fn save_finalized(
        &mut self,
        run_id: &str,
        s: &Snapshot,
        delta: Option<DeltaOf<'_>>,
        now: &str,
    ) -> Result<Option<i64>, StoreError> {
        self.with(|c| shards::save_finalized(c, run_id, s, delta, now))
    }

    fn unfinalized_shard_runs(&self, before: &str) -> Result<Vec<String>, StoreError> {
        self.with(|c| shards::unfinalized(c, before))
    }

    fn record_delivery(&mut self, d: &DeliveryAttempt) -> Result<i64, StoreError> {
        self.with(|c| alerts::record_delivery(c, d))
    }

    fn list_deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<RawDelivery>, StoreError> {
        self.with(|c| alerts::list_deliveries(c, filter))
    }

    fn outbox(&self, which: OutboxRows) -> Result<Vec<RawOutbox>, StoreError> {
        self.with(|c| outbox::rows(c, which))
    }

    fn expire_outbox(&mut self, cutoff: &str) -> Result<Vec<RawOutbox>, StoreError> {
        self.with(|c| outbox::expire(c, cutoff))
    }

    fn finish_outbox(
        &mut self,
        id: i64,
        attempts: i64,
        delivered: bool,
        error: Option<&str>,
        now: &str,
    ) -> Result<(), StoreError> {
        self.with(|c| outbox::finish(c, id, attempts, delivered, error, now))
    }

    fn lock_outbox(&mut self, take: bool) -> Result<(), StoreError> {
        let sql = if take {
            "SELECT pg_advisory_lock($1, $2)"
        } else {
            "SELECT pg_advisory_unlock($1, $2)"
        };
        self.with(|c| {
            c.query_one(sql, &[&schema::LOCK_CLASS, &schema::LOCK_OUTBOX])
                .map(drop)
        })
    }

    fn latest_port_tls(&self, before: i64) -> Result<Vec<RawPortTls>, StoreError> {
        self.with(|c| outbox::latest_port_tls(c, before))
    }

    fn export_rows(&self, table: &str) -> Result<Vec<serde_json::Value>, StoreError> {
        self.with(|c| copy::export(c, table))
    }

    fn import_rows(&mut self, tables: &[(&str, Vec<serde_json::Value>)]) -> Result<(), StoreError> {
        self.with(|c| copy::import(c, tables))
    }

    fn count_rows(&self, table: &str) -> Result<i64, StoreError> {
        self.with(|c| copy::count(c, table))
    }

    #[cfg(test)]
    fn test_execute(&self, sql: &str) -> Result<(), StoreError> {
        self.with(|c| c.batch_execute(sql))
    }

    #[cfg(test)]
    fn test_query(&self, sql: &str) -> Result<i64, StoreError> {
        self.with(|c| c.query_one(sql, &[]).map(|r| r.get(0)))
    }
}

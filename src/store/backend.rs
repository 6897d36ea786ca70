//! The contract each backend fulfils: rows in and out, in the shared row structs, with its
//! own SQL. [`super::Store`] turns rows into domain values and holds every rule; a backend
//! holds none. Errors come back as [`StoreError`] already naming the database.

use super::StoreError;
use super::alerts::{AlertQuery, RawAlert};
use super::certificates::RawPortTls;
use super::deliveries::{DeliveryAttempt, DeliveryFilter, RawDelivery};
use super::deltas::{DeltaOf, DeltaRow};
use super::hosts::HostRange;
use super::outbox::{NewOutbox, OutboxRows, RawOutbox};
use super::rows::{Detail, EachHost, HeadRow, SnapshotRows};
use super::shards::{PartCommit, RawShardPart, RawShardRun, Registration};
use crate::model::AlertStatus;
use crate::snapshot::Snapshot;
use crate::store::NewAlert;

pub(super) trait Backend: Send {
    /// The database as messages name it (never a password).
    fn name(&self) -> &str;

    /// Saves `s` in one transaction (a run's snapshot, or an import); returns its new id.
    /// `delta`, given the id, makes the `snapshot_deltas` row written in that transaction.
    fn save_snapshot(
        &mut self,
        s: &Snapshot,
        delta: Option<DeltaOf<'_>>,
    ) -> Result<i64, StoreError>;
    /// Snapshot `id`'s `snapshot_deltas` row without the delta text, if any.
    fn delta_row(&self, id: i64) -> Result<Option<DeltaRow>, StoreError>;
    /// Snapshot `id`'s stored `delta.json` text, if any.
    fn delta_json(&self, id: i64) -> Result<Option<String>, StoreError>;
    /// Snapshot `id`'s stored per-entry counts (JSON), if any (NULL in rows stored before
    /// SQLite V8).
    fn delta_entries(&self, id: i64) -> Result<Option<String>, StoreError>;
    /// Walks the hosts of snapshot `id` in `range` with every column, in one read
    /// transaction, through [`super::rows::merge_hosts`]; `false` when the snapshot does not
    /// exist.
    fn for_each_host(
        &self,
        id: i64,
        range: HostRange,
        each: EachHost<'_>,
    ) -> Result<bool, StoreError>;
    /// Every up host of snapshot `id`, in order: its `ip` column and how many of its ports
    /// are open.
    fn up_hosts_open_ports(&self, id: i64) -> Result<Vec<(String, i64)>, StoreError>;
    /// Snapshot `id`'s rows (`None` when it does not exist); `detail` says which columns.
    fn load_snapshot(&self, id: i64, detail: Detail) -> Result<Option<SnapshotRows>, StoreError>;
    /// `None` when `id` does not exist, else the latest snapshot of the same technique that
    /// started before it, ordered by (started_at, id).
    fn previous_snapshot_id(&self, id: i64) -> Result<Option<Option<i64>>, StoreError>;
    fn latest_snapshot_id(&self, profile: Option<&str>) -> Result<Option<i64>, StoreError>;
    /// The latest snapshot of `technique` started at or before `started_at` (stored text).
    fn latest_of_technique(
        &self,
        technique: &str,
        started_at: &str,
    ) -> Result<Option<i64>, StoreError>;
    /// The latest snapshot of each profile, newest first.
    fn latest_per_profile(&self) -> Result<Vec<i64>, StoreError>;
    /// Up to `limit` snapshot heads, newest first, older than `before` (started_at, id).
    fn list_snapshots(
        &self,
        limit: i64,
        before: Option<(&str, i64)>,
    ) -> Result<Vec<(i64, HeadRow)>, StoreError>;
    fn snapshot_summary(&self, id: i64) -> Result<Option<(i64, HeadRow)>, StoreError>;
    /// Deletes snapshots started before `cutoff` (stored time text) except each profile's
    /// latest; returns the deleted (id, started_at text).
    fn delete_older_than(&mut self, cutoff: &str) -> Result<Vec<(i64, String)>, StoreError>;
    /// Keeps the `n` latest snapshots of each profile; returns the deleted (id, started_at
    /// text).
    fn keep_latest(&mut self, n: i64) -> Result<Vec<(i64, String)>, StoreError>;
    /// Gives freed space back after a large delete.
    fn vacuum(&mut self) -> Result<(), StoreError>;

    /// The alerts `query` keeps, newest (highest id) first.
    fn list_alerts(&self, query: &AlertQuery) -> Result<Vec<RawAlert>, StoreError>;
    /// Alerts whose `first_snapshot` is `snapshot`, by id.
    fn alerts_raised_by(&self, snapshot: i64) -> Result<Vec<RawAlert>, StoreError>;
    /// Resolved alerts whose `last_snapshot` is `last_seen`, updated at or after `since`
    /// (stored time text), by id.
    fn alerts_resolved_after(
        &self,
        last_seen: i64,
        since: &str,
    ) -> Result<Vec<RawAlert>, StoreError>;
    fn alert(&self, id: i64) -> Result<Option<RawAlert>, StoreError>;
    /// Inserts `new` as open at `now`; returns its id.
    fn insert_alert(&mut self, new: &NewAlert, now: &str) -> Result<i64, StoreError>;
    /// Sets alert `id` to `to` if its status is one of `from`, in one statement; keeps the
    /// note when `note` is `None`. Returns the rows changed (0 or 1).
    fn change_alert_status(
        &mut self,
        id: i64,
        from: &[AlertStatus],
        to: AlertStatus,
        now: &str,
        note: Option<&str>,
    ) -> Result<usize, StoreError>;
    /// Starts the one transaction of a run's alert sync, no other writer between its read
    /// and its writes.
    fn alert_sync(&mut self) -> Result<Box<dyn AlertTx + '_>, StoreError>;

    fn record_delivery(&mut self, d: &DeliveryAttempt) -> Result<i64, StoreError>;
    /// The deliveries `filter` keeps, newest first.
    fn list_deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<RawDelivery>, StoreError>;

    /// Outbox rows, oldest first.
    fn outbox(&self, which: OutboxRows) -> Result<Vec<RawOutbox>, StoreError>;
    /// Marks pending rows created before `cutoff` expired and returns them (as they were),
    /// in one transaction.
    fn expire_outbox(&mut self, cutoff: &str) -> Result<Vec<RawOutbox>, StoreError>;
    /// Adds `attempts` to a pending row; `delivered` makes it delivered at `now`.
    fn finish_outbox(
        &mut self,
        id: i64,
        attempts: i64,
        delivered: bool,
        error: Option<&str>,
        now: &str,
    ) -> Result<(), StoreError>;

    /// Takes (`true`, waiting for it) or releases the lock outbox senders hold.
    fn lock_outbox(&mut self, take: bool) -> Result<(), StoreError>;

    /// Per (ip, protocol, port) examined by a TLS pass in a snapshot with an id below
    /// `before`: the row of the latest such snapshot, ordered by ip, protocol, port.
    fn latest_port_tls(&self, before: i64) -> Result<Vec<RawPortTls>, StoreError>;

    /// Copies: every row of `table` (one of [`COPIED_TABLES`]) as JSON objects keyed by
    /// column, in id order: what `migrate-store` moves between backends.
    fn export_rows(&self, table: &str) -> Result<Vec<serde_json::Value>, StoreError>;
    /// Writes rows exported by another backend, ids kept, in one transaction; the database
    /// must hold no snapshot, alert or delivery yet.
    fn import_rows(&mut self, tables: &[(&str, Vec<serde_json::Value>)]) -> Result<(), StoreError>;
    /// How many rows `table` holds.
    fn count_rows(&self, table: &str) -> Result<i64, StoreError>;

    /// Sharded runs (PostgreSQL only: the default refuses). See `store::shards` and
    /// `postgres/shards.rs` for what each does.
    fn register_shard(
        &mut self,
        _run: &RawShardRun,
        _plan: &str,
        _shard: i64,
    ) -> Result<Registration, StoreError> {
        Err(self.shards_refused())
    }
    fn commit_shard_part(
        &mut self,
        _run_id: &str,
        _shard: i64,
        _part: Option<&str>,
        _failed: bool,
        _error: Option<&str>,
        _now: &str,
    ) -> Result<PartCommit, StoreError> {
        Err(self.shards_refused())
    }
    fn shard_runs(
        &self,
        _run_id: Option<&str>,
        _limit: i64,
    ) -> Result<Vec<(RawShardRun, Vec<RawShardPart>)>, StoreError> {
        Ok(Vec::new())
    }
    fn shard_run_plan(&self, _run_id: &str) -> Result<Option<String>, StoreError> {
        Err(self.shards_refused())
    }
    fn shard_parts(&self, _run_id: &str) -> Result<Vec<(i64, String)>, StoreError> {
        Err(self.shards_refused())
    }
    fn save_finalized(
        &mut self,
        _run_id: &str,
        _s: &Snapshot,
        _delta: Option<DeltaOf<'_>>,
        _now: &str,
    ) -> Result<Option<i64>, StoreError> {
        Err(self.shards_refused())
    }
    fn unfinalized_shard_runs(&self, _before: &str) -> Result<Vec<String>, StoreError> {
        Ok(Vec::new())
    }
    fn shards_refused(&self) -> StoreError {
        StoreError::ShardsNeedPostgres {
            db: self.name().to_string(),
        }
    }

    /// Tests: runs `sql` (statements, no result) on the connection, to inject a fault or
    /// change what only a test may change.
    #[cfg(test)]
    fn test_execute(&self, sql: &str) -> Result<(), StoreError>;
    /// Tests: the first column of the first row of `sql`, as an integer.
    #[cfg(test)]
    fn test_query(&self, sql: &str) -> Result<i64, StoreError>;
}

/// The tables `migrate-store` copies, parents first.
pub(super) const COPIED_TABLES: &[&str] = &[
    "snapshots",
    "snapshot_targets",
    "hosts",
    "ports",
    "alerts",
    "outbox",
    "deliveries",
    "snapshot_deltas",
];

/// One open alert-sync transaction. Dropped without [`AlertTx::commit`], it rolls back.
pub(super) trait AlertTx {
    /// Every unresolved alert, by id, with the profile of its last snapshot.
    fn unresolved(&mut self) -> Result<Vec<(RawAlert, Option<String>)>, StoreError>;
    /// Sets `last_snapshot` and `updated_at` of `ids` whose `last_snapshot` is older.
    fn refresh(&mut self, ids: &[i64], snapshot: i64, now: &str) -> Result<(), StoreError>;
    fn resolve(&mut self, ids: &[i64], now: &str) -> Result<(), StoreError>;
    /// Inserts `new` as open alerts in order; returns their ids in the same order.
    fn raise(&mut self, new: &[NewAlert], now: &str) -> Result<Vec<i64>, StoreError>;
    /// Writes `items` to the outbox as pending, created at `now`.
    fn enqueue(&mut self, items: &[NewOutbox], now: &str) -> Result<(), StoreError>;
    fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

//! SQLite: alert rows, the alert-sync transaction, delivery rows.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::sql_error;
use crate::model::AlertStatus;
use crate::store::alerts::{AlertQuery, RawAlert};
use crate::store::backend::AlertTx;
use crate::store::deliveries::{DeliveryAttempt, DeliveryFilter, RawDelivery};
use crate::store::outbox::NewOutbox;
use crate::store::{NewAlert, StoreError};

/// The columns of [`RawAlert`], in its order.
const COLUMNS: &str = "id, kind, severity, ip, protocol, port, message, status, \
                       first_snapshot, last_snapshot, created_at, updated_at, note";

/// Inserts a [`NewAlert`] as open: `?1`-`?7` its fields, `?8` the time.
const INSERT: &str = "
    INSERT INTO alerts (kind, severity, ip, protocol, port, message, status,
                        first_snapshot, last_snapshot, created_at, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?7, ?8, ?8)";

/// Reads [`COLUMNS`] from the start of `r`.
fn raw_alert(r: &Row<'_>) -> rusqlite::Result<RawAlert> {
    Ok(RawAlert {
        id: r.get(0)?,
        kind: r.get(1)?,
        severity: r.get(2)?,
        ip: r.get(3)?,
        protocol: r.get(4)?,
        port: r.get(5)?,
        message: r.get(6)?,
        status: r.get(7)?,
        first_snapshot: r.get(8)?,
        last_snapshot: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        note: r.get(12)?,
    })
}

pub(super) fn list(conn: &Connection, q: &AlertQuery) -> rusqlite::Result<Vec<RawAlert>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM alerts
          WHERE (?1 IS NULL OR status = ?1)
            AND (?2 IS NULL OR severity = ?2)
            AND (?3 IS NULL OR instr(',' || ?3 || ',', ',' || severity || ',') > 0)
            AND (?4 IS NULL OR id < ?4)
            AND (?5 IS NULL OR instr(',' || ?5 || ',', ',' || kind || ',') > 0)
            AND (?6 IS NULL
                 OR instr(lower(message || ' ' || ip || ' ' || coalesce(note, '')), ?6) > 0)
            AND (?7 IS NULL OR created_at >= ?7)
            AND (?8 IS NULL OR created_at < ?8)
            AND (?9 IS NULL OR ip = ?9)
          ORDER BY id DESC LIMIT ?10"
    );
    let allowed = q.allowed.as_ref().map(|a| a.join(","));
    let kinds = q.kinds.as_ref().map(|k| k.join(","));
    conn.prepare_cached(&sql)?
        .query_map(
            params![
                q.status,
                q.severity,
                allowed,
                q.before_id,
                kinds,
                q.text,
                q.since,
                q.until,
                q.exact_ip,
                q.limit
            ],
            raw_alert,
        )?
        .collect()
}

/// Alerts meeting `condition` (on `values`), by id.
fn alerts_where(
    conn: &Connection,
    condition: &str,
    values: impl rusqlite::Params,
) -> rusqlite::Result<Vec<RawAlert>> {
    let sql = format!("SELECT {COLUMNS} FROM alerts WHERE {condition} ORDER BY id");
    conn.prepare_cached(&sql)?
        .query_map(values, raw_alert)?
        .collect()
}

pub(super) fn raised_by(conn: &Connection, snapshot: i64) -> rusqlite::Result<Vec<RawAlert>> {
    alerts_where(conn, "first_snapshot = ?1", params![snapshot])
}

pub(super) fn resolved_after(
    conn: &Connection,
    last_seen: i64,
    since: &str,
) -> rusqlite::Result<Vec<RawAlert>> {
    alerts_where(
        conn,
        "status = 'resolved' AND last_snapshot = ?1 AND updated_at >= ?2",
        params![last_seen, since],
    )
}

pub(super) fn one(conn: &Connection, id: i64) -> rusqlite::Result<Option<RawAlert>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM alerts WHERE id = ?1"),
        [id],
        raw_alert,
    )
    .optional()
}

pub(super) fn insert_open(conn: &Connection, new: &NewAlert, now: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached(INSERT)?.execute(params![
        new.kind.as_str(),
        new.severity.as_str(),
        new.ip,
        new.protocol,
        new.port,
        new.message,
        new.snapshot,
        now
    ])?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn change_status(
    conn: &Connection,
    id: i64,
    from: &[AlertStatus],
    to: AlertStatus,
    now: &str,
    note: Option<&str>,
) -> rusqlite::Result<usize> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    conn.execute(
        "UPDATE alerts SET status = ?2, updated_at = ?3, note = coalesce(?4, note)
          WHERE id = ?1 AND instr(',' || ?5 || ',', ',' || status || ',') > 0",
        params![id, to.as_str(), now, note, from.join(",")],
    )
}

/// The alert columns in `raw_alert`'s order, then the profile of the alert's last snapshot.
const SELECT_UNRESOLVED: &str = "
    SELECT a.id, a.kind, a.severity, a.ip, a.protocol, a.port, a.message, a.status,
           a.first_snapshot, a.last_snapshot, a.created_at, a.updated_at, a.note, s.profile
      FROM alerts AS a LEFT JOIN snapshots AS s ON s.id = a.last_snapshot
     WHERE a.status <> 'resolved' ORDER BY a.id";
// Refreshes and resolutions are one statement each over a JSON array of ids: a run that sees
// 200,000 alerts again does not pay 200,000 statements.
const REFRESH: &str = "UPDATE alerts SET last_snapshot = ?2, updated_at = ?3
                        WHERE id IN (SELECT value FROM json_each(?1)) AND last_snapshot < ?2";
const RESOLVE: &str = "UPDATE alerts SET status = 'resolved', updated_at = ?2
                        WHERE id IN (SELECT value FROM json_each(?1))";

/// A run's alert sync: an `IMMEDIATE` transaction, so no other writer enters between its read
/// and its writes.
pub(super) struct SyncTx<'c> {
    pub tx: Transaction<'c>,
    pub name: &'c str,
}

fn ids_json(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

impl SyncTx<'_> {
    fn sql(&self, e: rusqlite::Error) -> StoreError {
        sql_error(self.name, e)
    }
}

impl AlertTx for SyncTx<'_> {
    fn unresolved(&mut self) -> Result<Vec<(RawAlert, Option<String>)>, StoreError> {
        self.tx
            .prepare_cached(SELECT_UNRESOLVED)
            .and_then(|mut stmt| {
                stmt.query_map([], |r| Ok((raw_alert(r)?, r.get(13)?)))?
                    .collect()
            })
            .map_err(|e| self.sql(e))
    }

    fn refresh(&mut self, ids: &[i64], snapshot: i64, now: &str) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(REFRESH)
            .and_then(|mut st| st.execute(params![ids_json(ids), snapshot, now]))
            .map(drop)
            .map_err(|e| self.sql(e))
    }

    fn resolve(&mut self, ids: &[i64], now: &str) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(RESOLVE)
            .and_then(|mut st| st.execute(params![ids_json(ids), now]))
            .map(drop)
            .map_err(|e| self.sql(e))
    }

    fn raise(&mut self, new: &[NewAlert], now: &str) -> Result<Vec<i64>, StoreError> {
        new.iter()
            .map(|n| insert_open(&self.tx, n, now).map_err(|e| self.sql(e)))
            .collect()
    }

    fn enqueue(&mut self, items: &[NewOutbox], now: &str) -> Result<(), StoreError> {
        super::outbox::insert_all(&self.tx, items, now).map_err(|e| self.sql(e))
    }

    fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let name = self.name;
        self.tx.commit().map_err(|e| sql_error(name, e))
    }
}

pub(super) fn record_delivery(conn: &Connection, d: &DeliveryAttempt) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO deliveries (snapshot_id, webhook, endpoint, format, alerts, attempt,
                                 attempted_at, status_code, outcome, error, outbox_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            d.snapshot_id,
            d.webhook,
            d.endpoint,
            d.format,
            d.alerts,
            d.attempt,
            crate::store::rows::time_text(d.attempted_at),
            d.status_code,
            d.outcome.as_str(),
            d.error,
            d.outbox_id
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn list_deliveries(
    conn: &Connection,
    filter: &DeliveryFilter,
) -> rusqlite::Result<Vec<RawDelivery>> {
    let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
    conn.prepare_cached(
        "SELECT id, snapshot_id, webhook, endpoint, format, alerts, attempt,
                attempted_at, status_code, outcome, error, outbox_id
           FROM deliveries
          WHERE (?2 IS NULL OR id < ?2) AND (?3 IS NULL OR webhook = ?3)
            AND (?4 IS NULL OR outcome = ?4)
          ORDER BY id DESC LIMIT ?1",
    )?
    .query_map(
        params![
            limit,
            filter.before_id,
            filter.destination,
            filter.outcome.map(|o| o.as_str())
        ],
        |r| {
            Ok(RawDelivery {
                id: r.get(0)?,
                snapshot_id: r.get(1)?,
                webhook: r.get(2)?,
                endpoint: r.get(3)?,
                format: r.get(4)?,
                alerts: r.get(5)?,
                attempt: r.get(6)?,
                attempted_at: r.get(7)?,
                status_code: r.get(8)?,
                outcome: r.get(9)?,
                error: r.get(10)?,
                outbox_id: r.get(11)?,
            })
        },
    )?
    .collect()
}

//! PostgreSQL: alert rows, the alert-sync transaction, delivery rows.

use postgres::{Client, Row, Transaction};

use super::Names;
use super::schema::{LOCK_ALERTS, LOCK_CLASS};
use crate::model::AlertStatus;
use crate::store::alerts::{AlertQuery, RawAlert};
use crate::store::backend::AlertTx;
use crate::store::deliveries::{DeliveryAttempt, DeliveryFilter, RawDelivery};
use crate::store::outbox::NewOutbox;
use crate::store::rows::time_text;
use crate::store::{NewAlert, StoreError};

/// The columns of [`RawAlert`], in its order.
const COLUMNS: &str = "id, kind, severity, ip, protocol, port, message, status, \
                       first_snapshot, last_snapshot, created_at, updated_at, note";

fn raw_alert(r: &Row) -> Result<RawAlert, postgres::Error> {
    Ok(RawAlert {
        id: r.try_get(0)?,
        kind: r.try_get(1)?,
        severity: r.try_get(2)?,
        ip: r.try_get(3)?,
        protocol: r.try_get(4)?,
        port: r.try_get(5)?,
        message: r.try_get(6)?,
        status: r.try_get(7)?,
        first_snapshot: r.try_get(8)?,
        last_snapshot: r.try_get(9)?,
        created_at: r.try_get(10)?,
        updated_at: r.try_get(11)?,
        note: r.try_get(12)?,
    })
}

pub(super) fn list(client: &mut Client, q: &AlertQuery) -> Result<Vec<RawAlert>, postgres::Error> {
    let allowed: Option<Vec<String>> = q
        .allowed
        .as_ref()
        .map(|a| a.iter().map(|s| s.to_string()).collect());
    let kinds: Option<Vec<String>> = q
        .kinds
        .as_ref()
        .map(|k| k.iter().map(|s| s.to_string()).collect());
    // Times compare as text in byte order (COLLATE "C"), as SQLite compares them.
    client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM alerts
                  WHERE ($1::text IS NULL OR status = $1)
                    AND ($2::text IS NULL OR severity = $2)
                    AND ($3::text[] IS NULL OR severity = ANY($3))
                    AND ($4::bigint IS NULL OR id < $4)
                    AND ($6::text[] IS NULL OR kind = ANY($6))
                    AND ($7::text IS NULL
                         OR strpos(lower(message || ' ' || ip || ' ' || coalesce(note, '')), $7) > 0)
                    AND ($8::text IS NULL OR created_at COLLATE \"C\" >= $8)
                    AND ($9::text IS NULL OR created_at COLLATE \"C\" < $9)
                    AND ($10::text IS NULL OR ip = $10)
                  ORDER BY id DESC LIMIT $5"
            ),
            &[
                &q.status,
                &q.severity,
                &allowed,
                &q.before_id,
                &q.limit,
                &kinds,
                &q.text,
                &q.since,
                &q.until,
                &q.exact_ip,
            ],
        )?
        .iter()
        .map(raw_alert)
        .collect()
}

pub(super) fn raised_by(
    client: &mut Client,
    snapshot: i64,
) -> Result<Vec<RawAlert>, postgres::Error> {
    client
        .query(
            &format!("SELECT {COLUMNS} FROM alerts WHERE first_snapshot = $1 ORDER BY id"),
            &[&snapshot],
        )?
        .iter()
        .map(raw_alert)
        .collect()
}

pub(super) fn resolved_after(
    client: &mut Client,
    last_seen: i64,
    since: &str,
) -> Result<Vec<RawAlert>, postgres::Error> {
    client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM alerts
                  WHERE status = 'resolved' AND last_snapshot = $1
                    AND updated_at COLLATE \"C\" >= $2
                  ORDER BY id"
            ),
            &[&last_seen, &since],
        )?
        .iter()
        .map(raw_alert)
        .collect()
}

pub(super) fn one(client: &mut Client, id: i64) -> Result<Option<RawAlert>, postgres::Error> {
    client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM alerts WHERE id = $1"),
            &[&id],
        )?
        .map(|r| raw_alert(&r))
        .transpose()
}

/// Inserts [`NewAlert`]s as open from parallel arrays, one statement for any number; the ids
/// come back in input order.
const RAISE: &str = "
    INSERT INTO alerts (kind, severity, ip, protocol, port, message, status,
                        first_snapshot, last_snapshot, created_at, updated_at)
    SELECT kind, severity, ip, protocol, port, message, 'open', snap, snap, $7, $7
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[],
                  $8::bigint[])
           WITH ORDINALITY AS n (kind, severity, ip, protocol, port, message, snap, ord)
     ORDER BY ord
    RETURNING id";

fn raise(
    client: &mut impl postgres::GenericClient,
    new: &[NewAlert],
    now: &str,
) -> Result<Vec<i64>, postgres::Error> {
    let kinds: Vec<&str> = new.iter().map(|n| n.kind.as_str()).collect();
    let severities: Vec<&str> = new.iter().map(|n| n.severity.as_str()).collect();
    let ips: Vec<&str> = new.iter().map(|n| n.ip.as_str()).collect();
    let protocols: Vec<Option<&str>> = new.iter().map(|n| n.protocol.as_deref()).collect();
    let ports: Vec<Option<i64>> = new.iter().map(|n| n.port.map(i64::from)).collect();
    let messages: Vec<&str> = new.iter().map(|n| n.message.as_str()).collect();
    let snapshots: Vec<i64> = new.iter().map(|n| n.snapshot).collect();
    let mut ids: Vec<i64> = client
        .query(
            RAISE,
            &[
                &kinds,
                &severities,
                &ips,
                &protocols,
                &ports,
                &messages,
                &now,
                &snapshots,
            ],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    // Identity values are handed out in insertion order, which is `ord` order.
    ids.sort_unstable();
    Ok(ids)
}

pub(super) fn insert_open(
    client: &mut Client,
    new: &NewAlert,
    now: &str,
) -> Result<i64, postgres::Error> {
    Ok(raise(client, std::slice::from_ref(new), now)?
        .first()
        .copied()
        .unwrap_or_default())
}

pub(super) fn change_status(
    client: &mut Client,
    id: i64,
    from: &[AlertStatus],
    to: AlertStatus,
    now: &str,
    note: Option<&str>,
) -> Result<usize, postgres::Error> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let n = client.execute(
        "UPDATE alerts SET status = $2, updated_at = $3, note = coalesce($4, note)
          WHERE id = $1 AND status = ANY($5)",
        &[&id, &to.as_str(), &now, &note, &from],
    )?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// A run's alert sync: one transaction holding the alerts advisory lock, so two runs' syncs
/// (and an operator's ack inside neither) never interleave a read and its writes.
pub(super) struct SyncTx<'c> {
    tx: Transaction<'c>,
    names: Names,
}

impl<'c> SyncTx<'c> {
    pub(super) fn begin(client: &'c mut Client, names: Names) -> Result<SyncTx<'c>, StoreError> {
        let mut tx = client.transaction().map_err(|e| names.error(e))?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, $2)",
            &[&LOCK_CLASS, &LOCK_ALERTS],
        )
        .map_err(|e| names.error(e))?;
        Ok(SyncTx { tx, names })
    }
}

impl AlertTx for SyncTx<'_> {
    fn unresolved(&mut self) -> Result<Vec<(RawAlert, Option<String>)>, StoreError> {
        let rows = self
            .tx
            .query(
                "SELECT a.id, a.kind, a.severity, a.ip, a.protocol, a.port, a.message, a.status,
                        a.first_snapshot, a.last_snapshot, a.created_at, a.updated_at, a.note,
                        s.profile
                   FROM alerts AS a LEFT JOIN snapshots AS s ON s.id = a.last_snapshot
                  WHERE a.status <> 'resolved' ORDER BY a.id",
                &[],
            )
            .map_err(|e| self.names.error(e))?;
        rows.iter()
            .map(|r| Ok((raw_alert(r)?, r.try_get(13)?)))
            .collect::<Result<_, postgres::Error>>()
            .map_err(|e| self.names.error(e))
    }

    fn refresh(&mut self, ids: &[i64], snapshot: i64, now: &str) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE alerts SET last_snapshot = $2, updated_at = $3
                  WHERE id = ANY($1) AND last_snapshot < $2",
                &[&ids, &snapshot, &now],
            )
            .map(drop)
            .map_err(|e| self.names.error(e))
    }

    fn resolve(&mut self, ids: &[i64], now: &str) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE alerts SET status = 'resolved', updated_at = $2 WHERE id = ANY($1)",
                &[&ids, &now],
            )
            .map(drop)
            .map_err(|e| self.names.error(e))
    }

    fn raise(&mut self, new: &[NewAlert], now: &str) -> Result<Vec<i64>, StoreError> {
        raise(&mut self.tx, new, now).map_err(|e| self.names.error(e))
    }

    fn enqueue(&mut self, items: &[NewOutbox], now: &str) -> Result<(), StoreError> {
        super::outbox::insert_all(&mut self.tx, items, now).map_err(|e| self.names.error(e))
    }

    fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let names = self.names;
        self.tx.commit().map_err(|e| names.error(e))
    }
}

pub(super) fn record_delivery(
    client: &mut Client,
    d: &DeliveryAttempt,
) -> Result<i64, postgres::Error> {
    Ok(client
        .query_one(
            "INSERT INTO deliveries (snapshot_id, webhook, endpoint, format, alerts, attempt,
                                     attempted_at, status_code, outcome, error, outbox_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            &[
                &d.snapshot_id,
                &d.webhook,
                &d.endpoint,
                &d.format,
                &i64::from(d.alerts),
                &i64::from(d.attempt),
                &time_text(d.attempted_at),
                &d.status_code.map(i64::from),
                &d.outcome.as_str(),
                &d.error,
                &d.outbox_id,
            ],
        )?
        .get(0))
}

pub(super) fn list_deliveries(
    client: &mut Client,
    filter: &DeliveryFilter,
) -> Result<Vec<RawDelivery>, postgres::Error> {
    let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
    client
        .query(
            "SELECT id, snapshot_id, webhook, endpoint, format, alerts, attempt,
                    attempted_at, status_code, outcome, error, outbox_id
               FROM deliveries
              WHERE ($2::bigint IS NULL OR id < $2) AND ($3::text IS NULL OR webhook = $3)
                AND ($4::text IS NULL OR outcome = $4)
              ORDER BY id DESC LIMIT $1",
            &[
                &limit,
                &filter.before_id,
                &filter.destination,
                &filter.outcome.map(|o| o.as_str()),
            ],
        )?
        .iter()
        .map(|r| {
            Ok(RawDelivery {
                id: r.try_get(0)?,
                snapshot_id: r.try_get(1)?,
                webhook: r.try_get(2)?,
                endpoint: r.try_get(3)?,
                format: r.try_get(4)?,
                alerts: r.try_get(5)?,
                attempt: r.try_get(6)?,
                attempted_at: r.try_get(7)?,
                status_code: r.try_get(8)?,
                outcome: r.try_get(9)?,
                error: r.try_get(10)?,
                outbox_id: r.try_get(11)?,
            })
        })
        .collect()
}

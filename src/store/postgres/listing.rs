//! PostgreSQL: which snapshot comes before which, listings, retention.

use postgres::Client;

use super::snapshots::{HEAD, head};
use crate::store::rows::HeadRow;

pub(super) fn previous(
    client: &mut Client,
    id: i64,
) -> Result<Option<Option<i64>>, postgres::Error> {
    if client
        .query_opt("SELECT id FROM snapshots WHERE id = $1", &[&id])?
        .is_none()
    {
        return Ok(None);
    }
    let row = client.query_opt(
        "SELECT p.id FROM snapshots AS s JOIN snapshots AS p
           ON p.technique = s.technique AND (p.started_at, p.id) < (s.started_at, s.id)
         WHERE s.id = $1
         ORDER BY p.started_at DESC, p.id DESC LIMIT 1",
        &[&id],
    )?;
    Ok(Some(row.map(|r| r.get(0))))
}

pub(super) fn latest(
    client: &mut Client,
    profile: Option<&str>,
) -> Result<Option<i64>, postgres::Error> {
    let row = match profile {
        Some(p) => client.query_opt(
            "SELECT id FROM snapshots WHERE profile = $1
              ORDER BY started_at DESC, id DESC LIMIT 1",
            &[&p],
        )?,
        None => client.query_opt(
            "SELECT id FROM snapshots ORDER BY started_at DESC, id DESC LIMIT 1",
            &[],
        )?,
    };
    Ok(row.map(|r| r.get(0)))
}

pub(super) fn latest_of_technique(
    client: &mut Client,
    technique: &str,
    started_at: &str,
) -> Result<Option<i64>, postgres::Error> {
    Ok(client
        .query_opt(
            "SELECT id FROM snapshots WHERE technique = $1 AND started_at <= $2
              ORDER BY started_at DESC, id DESC LIMIT 1",
            &[&technique, &started_at],
        )?
        .map(|r| r.get(0)))
}

pub(super) fn latest_per_profile(client: &mut Client) -> Result<Vec<i64>, postgres::Error> {
    Ok(client
        .query(
            "SELECT id FROM (
                 SELECT DISTINCT ON (profile) id, started_at FROM snapshots
                  ORDER BY profile, started_at DESC, id DESC) AS l
              ORDER BY started_at DESC, id DESC",
            &[],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

pub(super) fn list(
    client: &mut Client,
    limit: i64,
    before: Option<(&str, i64)>,
) -> Result<Vec<(i64, HeadRow)>, postgres::Error> {
    let rows = match before {
        None => client.query(
            &format!("SELECT id, {HEAD} FROM snapshots ORDER BY started_at DESC, id DESC LIMIT $1"),
            &[&limit],
        )?,
        Some((time, id)) => client.query(
            &format!(
                "SELECT id, {HEAD} FROM snapshots WHERE (started_at, id) < ($2, $3)
                  ORDER BY started_at DESC, id DESC LIMIT $1"
            ),
            &[&limit, &time, &id],
        )?,
    };
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, head(r, 1)?)))
        .collect()
}

pub(super) fn summary(
    client: &mut Client,
    id: i64,
) -> Result<Option<(i64, HeadRow)>, postgres::Error> {
    client
        .query_opt(
            &format!("SELECT id, {HEAD} FROM snapshots WHERE id = $1"),
            &[&id],
        )?
        .map(|r| Ok((r.try_get(0)?, head(&r, 1)?)))
        .transpose()
}

/// Retention's deleted rows: (id, started_at text).
fn deleted(rows: Vec<postgres::Row>) -> Result<Vec<(i64, String)>, postgres::Error> {
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Also deletes the bookkeeping of finalized sharded runs that started before `cutoff` (their
/// parts with them); a run never finalized stays, to be seen and finalized.
pub(super) fn delete_older_than(
    client: &mut Client,
    cutoff: &str,
) -> Result<Vec<(i64, String)>, postgres::Error> {
    let mut tx = client.transaction()?;
    let rows = tx.query(
        "DELETE FROM snapshots WHERE started_at < $1 AND id NOT IN (
             SELECT DISTINCT ON (profile) id FROM snapshots
              ORDER BY profile, started_at DESC, id DESC)
         RETURNING id, started_at",
        &[&cutoff],
    )?;
    tx.execute(
        "DELETE FROM shard_runs WHERE finalized_at IS NOT NULL AND created_at < $1",
        &[&cutoff],
    )?;
    tx.commit()?;
    deleted(rows)
}

pub(super) fn keep_latest(
    client: &mut Client,
    n: i64,
) -> Result<Vec<(i64, String)>, postgres::Error> {
    deleted(client.query(
        "DELETE FROM snapshots WHERE id IN (
             SELECT id FROM (
                 SELECT id, row_number() OVER (
                     PARTITION BY profile ORDER BY started_at DESC, id DESC) AS rank
                   FROM snapshots) AS ranked
              WHERE rank > $1)
         RETURNING id, started_at",
        &[&n],
    )?)
}

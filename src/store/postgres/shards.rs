//! PostgreSQL: sharded runs. A run's row is locked (`FOR UPDATE`) by every write that
//! depends on its state, so "the shard that commits last sees every part" and "a run is
//! finalized once" hold whatever the timing of the shards.

use postgres::{Client, Row, Transaction};

use super::snapshots;
use crate::snapshot::Snapshot;
use crate::store::deltas::DeltaOf;
use crate::store::shards::{PartCommit, RawShardPart, RawShardRun, Registration};

/// Registers shard `shard` of `run_id` as running (one more attempt); the first shard of a
/// run records the run with its plan. A run recorded with another shard count, profile or
/// plan is a [`Registration::Mismatch`], and nothing is written.
pub(super) fn register(
    client: &mut Client,
    run: &RawShardRun,
    plan: &str,
    shard: i64,
) -> Result<Registration, postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute(
        "INSERT INTO shard_runs (run_id, shards, profile, plan, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run_id) DO NOTHING",
        &[
            &run.run_id,
            &run.shards,
            &run.profile,
            &plan,
            &run.created_at,
        ],
    )?;
    let row = tx.query_one(
        "SELECT shards, profile, plan = $2, finalized_at IS NOT NULL, snapshot_id
         FROM shard_runs WHERE run_id = $1 FOR UPDATE",
        &[&run.run_id, &plan],
    )?;
    let (shards, profile, same_plan): (i64, String, bool) = (row.get(0), row.get(1), row.get(2));
    let (finalized, snapshot): (bool, Option<i64>) = (row.get(3), row.get(4));
    let mismatch = if shards != run.shards {
        Some(format!("{shards} shards, not {}", run.shards))
    } else if profile != run.profile {
        Some(format!("profile {profile}, not {}", run.profile))
    } else if !same_plan {
        Some("another plan (other targets, addresses or chunk size)".to_string())
    } else {
        None
    };
    if let Some(detail) = mismatch {
        return Ok(Registration::Mismatch(detail));
    }
    if finalized {
        return Ok(Registration::Finalized(snapshot));
    }
    tx.execute(
        "INSERT INTO shard_parts (run_id, shard, state, attempts, started_at)
         VALUES ($1, $2, 'running', 1, $3)
         ON CONFLICT (run_id, shard) DO UPDATE
             SET state = 'running', attempts = shard_parts.attempts + 1,
                 started_at = EXCLUDED.started_at, finished_at = NULL, error = NULL",
        &[&run.run_id, &shard, &run.created_at],
    )?;
    tx.commit()?;
    Ok(Registration::Running)
}

/// Stores shard `shard`'s part (or, with `part = None`, its failure), replacing an earlier
/// attempt's, and says how many parts the run now has. `failed`: the part says every chunk
/// failed (stored all the same: its targets are known to have failed). Nothing is stored once
/// the run is finalized. A failure without a part never replaces a part an earlier attempt
/// stored.
pub(super) fn commit_part(
    client: &mut Client,
    run_id: &str,
    shard: i64,
    part: Option<&str>,
    failed: bool,
    error: Option<&str>,
    now: &str,
) -> Result<PartCommit, postgres::Error> {
    let mut tx = client.transaction()?;
    let row = tx.query_opt(
        "SELECT shards, finalized_at IS NOT NULL, snapshot_id FROM shard_runs
         WHERE run_id = $1 FOR UPDATE",
        &[&run_id],
    )?;
    let Some(row) = row else {
        return Ok(PartCommit::default());
    };
    let (shards, finalized): (i64, bool) = (row.get(0), row.get(1));
    let finalized = finalized.then(|| row.get::<_, Option<i64>>(2));
    if finalized.is_none() {
        match part {
            Some(part) => tx.execute(
                "UPDATE shard_parts SET state = $6, finished_at = $3, error = $4, part = $5
                 WHERE run_id = $1 AND shard = $2",
                &[
                    &run_id,
                    &shard,
                    &now,
                    &error,
                    &part,
                    &if failed { "failed" } else { "done" },
                ],
            )?,
            None => tx.execute(
                "UPDATE shard_parts
                 SET state = CASE WHEN part IS NULL THEN 'failed' ELSE 'done' END,
                     finished_at = $3, error = $4
                 WHERE run_id = $1 AND shard = $2",
                &[&run_id, &shard, &now, &error],
            )?,
        };
    }
    let done: i64 = tx
        .query_one(
            "SELECT count(*) FROM shard_parts WHERE run_id = $1 AND part IS NOT NULL",
            &[&run_id],
        )?
        .get(0);
    tx.commit()?;
    Ok(PartCommit {
        known: true,
        shards,
        done,
        finalized,
    })
}

fn raw_run(row: &Row) -> RawShardRun {
    RawShardRun {
        run_id: row.get(0),
        shards: row.get(1),
        profile: row.get(2),
        created_at: row.get(3),
        snapshot_id: row.get(4),
        finalized_at: row.get(5),
    }
}

const RUN_COLUMNS: &str = "run_id, shards, profile, created_at, snapshot_id, finalized_at";

/// Runs, newest first (`run_id` alone when given), with their parts' heads by shard.
pub(super) fn runs(
    client: &mut Client,
    run_id: Option<&str>,
    limit: i64,
) -> Result<Vec<(RawShardRun, Vec<RawShardPart>)>, postgres::Error> {
    let rows = client.query(
        &format!(
            "SELECT {RUN_COLUMNS} FROM shard_runs WHERE ($1::text IS NULL OR run_id = $1)
             ORDER BY created_at DESC, run_id DESC LIMIT $2"
        ),
        &[&run_id, &limit],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let run = raw_run(row);
        let parts = client
            .query(
                "SELECT shard, state, attempts, started_at, finished_at, error,
                        part IS NOT NULL
                 FROM shard_parts WHERE run_id = $1 ORDER BY shard",
                &[&run.run_id],
            )?
            .iter()
            .map(|r| RawShardPart {
                shard: r.get(0),
                state: r.get(1),
                attempts: r.get(2),
                started_at: r.get(3),
                finished_at: r.get(4),
                error: r.get(5),
                stored: r.get(6),
            })
            .collect();
        out.push((run, parts));
    }
    Ok(out)
}

/// The plan a run was registered with.
pub(super) fn plan(client: &mut Client, run_id: &str) -> Result<Option<String>, postgres::Error> {
    Ok(client
        .query_opt("SELECT plan FROM shard_runs WHERE run_id = $1", &[&run_id])?
        .map(|r| r.get(0)))
}

/// The stored parts of a run, by shard.
pub(super) fn parts(
    client: &mut Client,
    run_id: &str,
) -> Result<Vec<(i64, String)>, postgres::Error> {
    Ok(client
        .query(
            "SELECT shard, part FROM shard_parts WHERE run_id = $1 AND part IS NOT NULL
             ORDER BY shard",
            &[&run_id],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// Saves the finalized snapshot and marks the run finalized in one transaction, unless it
/// already is (`None`, nothing written). The parts' text is emptied (the snapshot holds it),
/// not set NULL: NULL means "never stored".
pub(super) fn save_finalized(
    client: &mut Client,
    run_id: &str,
    s: &Snapshot,
    delta: Option<DeltaOf<'_>>,
    now: &str,
) -> Result<Option<i64>, postgres::Error> {
    let mut tx = client.transaction()?;
    let finalized: Option<Option<i64>> = tx
        .query_opt(
            "SELECT snapshot_id FROM shard_runs WHERE run_id = $1 AND finalized_at IS NULL
             FOR UPDATE",
            &[&run_id],
        )?
        .map(|r| r.get(0));
    if finalized.is_none() {
        return Ok(None);
    }
    let id = snapshots::save_in(&mut tx, s, delta)?;
    finish(&mut tx, run_id, id, now)?;
    tx.commit()?;
    Ok(Some(id))
}

fn finish(
    tx: &mut Transaction<'_>,
    run_id: &str,
    id: i64,
    now: &str,
) -> Result<(), postgres::Error> {
    tx.execute(
        "UPDATE shard_runs SET snapshot_id = $2, finalized_at = $3 WHERE run_id = $1",
        &[&run_id, &id, &now],
    )?;
    tx.execute(
        "UPDATE shard_parts SET part = '' WHERE run_id = $1 AND part IS NOT NULL",
        &[&run_id],
    )?;
    Ok(())
}

/// Runs not finalized whose first shard registered before `before` (stored time text),
/// oldest first.
pub(super) fn unfinalized(
    client: &mut Client,
    before: &str,
) -> Result<Vec<String>, postgres::Error> {
    Ok(client
        .query(
            "SELECT run_id FROM shard_runs WHERE finalized_at IS NULL AND created_at < $1
             ORDER BY created_at, run_id",
            &[&before],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

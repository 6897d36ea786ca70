//! One writer per profile on PostgreSQL, where SQLite has its lock file.
//!
//! A run holds a session advisory lock on its profile for its whole length (scan, save,
//! compare, alerts, retention), so two runs of one profile never interleave their snapshots
//! (each comparing against a baseline the other is about to replace); runs of different
//! profiles proceed side by side. `import` and `prune` touch every profile and take the
//! database-wide key exclusively, which runs hold shared. The lock lives on a connection of
//! its own: when the process ends, even by `kill -9`, the server drops the connection and the
//! lock with it. Like the lock file, a second writer does not wait.

use postgres::Client;

use super::schema::LOCK_CLASS;
use super::{Names, connect};
use crate::config::PostgresUrl;
use crate::store::StoreError;

/// Second key of the database-wide writer lock; per-profile keys use their own class.
const LOCK_WRITERS: i32 = 3;
const LOCK_PROFILE_CLASS: i32 = LOCK_CLASS + 1;

/// Held for as long as the value lives.
pub struct PgWriterLock {
    _client: Box<Client>,
}

impl PgWriterLock {
    /// Takes the writer lock for a run of `profile`, or for every profile (`None`: import,
    /// prune). `Ok(None)` when another writer holds it; never blocks.
    pub fn try_acquire(
        url: &PostgresUrl,
        profile: Option<&str>,
    ) -> Result<Option<PgWriterLock>, StoreError> {
        let names = Names::of(url);
        let mut client = connect::connect(url)?;
        let got: bool = match profile {
            None => client
                .query_one(
                    "SELECT pg_try_advisory_lock($1, $2)",
                    &[&LOCK_CLASS, &LOCK_WRITERS],
                )
                .map_err(|e| names.error(e))?
                .get(0),
            Some(profile) => client
                .query_one(
                    "SELECT pg_try_advisory_lock_shared($1, $2)
                        AND pg_try_advisory_lock($3, hashtext($4))",
                    &[&LOCK_CLASS, &LOCK_WRITERS, &LOCK_PROFILE_CLASS, &profile],
                )
                .map_err(|e| names.error(e))?
                .get(0),
        };
        // On a refusal the connection is dropped, releasing a half-taken pair.
        Ok(got.then(|| PgWriterLock {
            _client: Box::new(client),
        }))
    }
}

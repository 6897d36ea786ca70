//! What the dashboard starts from: the latest snapshot of every profile.

use super::{Store, StoreError};

impl Store {
    /// The id of the latest snapshot of each profile, newest first.
    pub fn latest_per_profile(&self) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT l.id FROM snapshots AS l
                  WHERE l.id = (SELECT s.id FROM snapshots AS s WHERE s.profile = l.profile
                                 ORDER BY s.started_at DESC, s.id DESC LIMIT 1)
                  ORDER BY l.started_at DESC, l.id DESC",
            )
            .map_err(|e| self.sql(e))?;
        stmt.query_map([], |r| r.get(0))
            .map_err(|e| self.sql(e))?
            .collect::<Result<Vec<i64>, _>>()
            .map_err(|e| self.sql(e))
    }
}

//! The read side over the database `daily_scan` writes: snapshots, deltas, trends, alerts
//! (with the operator's actions on them) and the dashboard.
//!
//! Every read opens the database read-only ([`crate::store::Store::open_read_only`]): in WAL mode a
//! reader never waits for a running batch, and sees either all of a snapshot or none of it.
//! Deltas and scores are those stored when the run committed while they hold for this server's
//! severity table, else recomputed from the stored hosts as `daily_scan report` does, so both
//! always agree ([`crate::history`] decides).

pub mod alerts;
pub mod alerts_page;
pub mod certificates;
pub mod dashboard;
pub mod deliveries;
pub mod delta;
pub mod entries;
pub mod export;
pub mod query;
pub mod runs;
pub mod snapshots;
pub mod trends;

#[cfg(test)]
pub(crate) mod tests;

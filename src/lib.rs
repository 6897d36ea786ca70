//! security-scanner: nmap-driven scanning for people who watch their own networks.
//!
//! Two programs share this library: `api_server` (one HTTP request, one scan, one JSON answer)
//! and `daily_scan` (cron batch runs stored as SQLite snapshots, reported as a delta). Data flows
//! one way: `target` and `profile` build a safe nmap argument vector, `nmap` runs and parses it
//! into the `model`, and the edges (`api`, `store`, `report`) consume the model.
//! See `docs/ARCHITECTURE.md` for the contracts.

pub mod alerts;
pub mod api;
pub mod atomic_file;
pub mod batch;
pub mod commands;
pub mod config;
pub mod delta;
pub mod diff;
pub mod history;
pub mod logging;
pub mod model;
pub mod nmap;
pub mod notify;
pub mod profile;
pub mod report;
pub mod scan;
pub mod snapshot;
pub mod store;
pub mod target;
#[cfg(test)]
pub(crate) mod testdata;

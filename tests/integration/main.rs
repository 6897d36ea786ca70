//! End-to-end tests: one binary, themed modules.

mod alerts_env;
mod alerts_lifecycle;
mod alerts_webhook;
mod api_access;
mod api_errors;
mod api_hostile;
mod api_lifecycle;
mod api_limits;
mod api_scan;
mod batch_cli;
mod batch_crash;
mod batch_delta;
mod batch_diff;
mod batch_env;
mod batch_faults;
mod batch_report;
mod ops_deploy;
mod ops_docs;
mod ops_metrics;
mod parse_cmd;
mod runner;
mod support;
mod web_api;
mod web_browser;

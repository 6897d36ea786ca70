//! End-to-end tests: one binary, themed modules.

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
mod faults_kill;
mod faults_nmap;
mod faults_store;
mod parse_cmd;
mod runner;
mod support;

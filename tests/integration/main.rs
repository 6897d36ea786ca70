//! End-to-end tests: one binary, themed modules.

mod api_access;
mod api_errors;
mod api_hostile;
mod api_lifecycle;
mod api_limits;
mod api_scan;
mod parse_cmd;
mod runner;
mod support;

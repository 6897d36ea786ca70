//! End-to-end tests: one binary, themed modules.

mod batch_delta;
mod batch_env;
mod parse_cmd;
mod runner;
mod support;
mod batch_faults;
mod batch_crash;

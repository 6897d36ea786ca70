//! End-to-end tests: one binary, themed modules.

mod parse_cmd;
mod runner;
mod support;

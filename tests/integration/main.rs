//! End-to-end tests: one binary, themed modules.

mod runner;
mod support;

//! End-to-end tests: one binary, themed modules.

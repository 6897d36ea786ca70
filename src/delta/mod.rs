//! Comparing two snapshots (in progress).

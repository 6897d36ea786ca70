//! Targets (to be written).

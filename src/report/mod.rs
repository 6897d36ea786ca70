//! Rendering scans and deltas for people and tools: CSV here; JSON through serde on the model.

pub mod csv;
pub mod parsed;

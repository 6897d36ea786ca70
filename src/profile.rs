//! Profiles (to be written).

//! Dependency tracking.

//! `blueprint`: the library generated code and services depend on.

#[cfg(feature = "db")]
pub mod db;

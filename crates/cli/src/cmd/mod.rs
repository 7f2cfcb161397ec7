//! One module per `dev` subcommand.

pub mod db;
pub mod diff;
pub mod docs;
pub mod r#gen;
pub mod lint;
pub mod mock;
pub mod spec;
pub mod verify;

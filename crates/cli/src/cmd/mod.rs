//! One module per `dev` subcommand.

pub mod db;
pub mod diff;
pub mod r#gen;
pub mod lint;
pub mod mock;
pub mod spec;
pub mod token;
pub mod verify;

//! One module per `dev` subcommand.

pub mod db;
pub mod r#gen;
pub mod lint;
pub mod spec;

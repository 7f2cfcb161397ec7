//! One module per `dev` subcommand.

pub mod db;
pub mod spec;

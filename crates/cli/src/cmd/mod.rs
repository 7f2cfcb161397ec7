//! One module per `dev` subcommand.

pub mod lint;
pub mod spec;

//! One module per `dev` subcommand.

pub mod diff;
pub mod spec;

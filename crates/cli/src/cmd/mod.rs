//! One module per `dev` subcommand.

pub mod mock;
pub mod spec;

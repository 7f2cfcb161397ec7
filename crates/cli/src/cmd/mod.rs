//! One module per `dev` subcommand.

pub mod spec;

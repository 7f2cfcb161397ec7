//! One module per `dev` subcommand.

pub mod r#gen;
pub mod spec;

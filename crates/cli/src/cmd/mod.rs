//! One module per `dev` subcommand.

pub mod r#gen;
pub mod mock;
pub mod spec;

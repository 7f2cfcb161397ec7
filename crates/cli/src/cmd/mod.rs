//! One module per `dev` subcommand.

pub mod db;
pub mod deploy;
pub mod deps;
pub mod diff;
pub mod docs;
pub mod env;
pub mod r#gen;
pub mod graph;
pub mod init;
pub mod lint;
pub mod mock;
pub mod new;
pub mod plan;
pub mod release;
pub mod spec;
pub mod status;
pub mod stream;
pub mod token;
pub mod up;
pub mod verify;
pub mod webhook;

//! `dev`: the one command line for every Blueprint developer task.
//!
//! Wiring only: each subcommand parses its flags, calls the library crates and
//! prints. Exit codes everywhere: 0 success, 1 findings (invalid spec, lint
//! findings, breaking change...), 2 usage or I/O error.

use std::process::ExitCode;

use clap::Parser;

mod cmd;
mod report;

#[derive(Debug, Parser)]
#[command(
    name = "dev",
    version,
    about = "Blueprint: schema-first microservices in Rust",
    long_about = "Blueprint: schema-first microservices in Rust.\n\n\
        The spec (apibuilder api.json) is the single source of truth; `dev` lints it, \
        generates code from it and checks services against it.\n\n\
        Exit codes: 0 success, 1 findings (invalid spec, lint findings, breaking change), \
        2 usage or I/O error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Check specs against the design rules (`--list-rules` lists them).
    Lint(cmd::lint::LintArgs),
    /// Inspect a spec: load, normalise, validate and print it.
    #[command(subcommand)]
    Spec(cmd::spec::SpecCommand),
    /// The service's database: up, create, migrate, status, reset, shell.
    #[command(subcommand)]
    Db(cmd::db::DbCommand),
    /// Generate code from specs: Rust models, server, client, mock (and more).
    Gen(cmd::r#gen::GenArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Lint(args) => cmd::lint::run(args),
        Command::Spec(c) => cmd::spec::run(c),
        Command::Db(c) => cmd::db::run(c),
        Command::Gen(args) => cmd::r#gen::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

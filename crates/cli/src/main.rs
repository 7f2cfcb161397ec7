//! `dev`: the one command line for every Blueprint developer task.
//!
//! Wiring only: each subcommand parses its flags, calls the library crates and
//! prints: what it produces (a service's JSON, a diff, a report, a database URL) on
//! stdout; diagnostics, warnings and progress on stderr. Exit codes everywhere: 0
//! success, 1 findings (invalid spec, lint findings, breaking change...), 2 usage or
//! I/O error.

use std::process::ExitCode;

use clap::Parser;

mod args;
mod changes;
mod cmd;
mod git;
mod keys;
mod logs;
mod probe;
mod report;
mod scaffold;
mod services;
mod supervise;
mod workspace;

#[derive(Debug, Parser)]
#[command(
    name = "dev",
    version,
    about = "Blueprint: schema-first microservices in Rust",
    long_about = "Blueprint: schema-first microservices in Rust.\n\n\
        The spec (apibuilder api.json) is the single source of truth; `dev` lints it, \
        generates code from it and checks services against it.\n\n\
        Output: what a command produces on stdout; diagnostics, warnings and progress \
        on stderr.\n\n\
        Exit codes: 0 success, 1 findings (invalid spec, lint findings, breaking change), \
        2 usage or I/O error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Create a workspace: blueprint.toml, Cargo workspace, .gitignore, README, CI.
    Init(cmd::init::InitArgs),
    /// Add a service: its spec, binary and generated package, ready for `dev up`.
    New(cmd::new::NewArgs),
    /// Check specs against the design rules (`--list-rules` lists them).
    Lint(cmd::lint::LintArgs),
    /// Inspect a spec: load, normalise, validate and print it.
    #[command(subcommand)]
    Spec(cmd::spec::SpecCommand),
    /// Breaking changes between two versions of a spec (files, or a git revision).
    Diff(cmd::diff::DiffArgs),
    /// The service's database: up, create, migrate, status, reset, shell.
    #[command(subcommand)]
    Db(cmd::db::DbCommand),
    /// Event streams: `ls`, `tail` and `publish` on the workspace's streams; `failures`
    /// lists (and retries) what a service's consumers failed to apply; `replay`
    /// publishes a journaled table's records again.
    #[command(subcommand)]
    Stream(cmd::stream::StreamCommand),
    /// Generate code from specs: Rust models, server, client, mock (and more).
    Gen(cmd::r#gen::GenArgs),
    /// Serve a spec as an HTTP mock: valid synthesised responses, requests validated.
    Mock(cmd::mock::MockArgs),
    /// Call a running service and check every answer against its spec.
    Verify(cmd::verify::VerifyArgs),
    /// The services, the streams they own and consume, who calls whom.
    Graph(cmd::graph::GraphArgs),
    /// What changed since a revision and the deploy phases for it.
    Plan(cmd::plan::PlanArgs),
    /// Tag every service that changed with its next semantic version.
    Release(cmd::release::ReleaseArgs),
    /// Deployment: Dockerfiles, Kubernetes manifests, CI/CD workflows.
    #[command(subcommand)]
    Deploy(cmd::deploy::DeployCommand),
    /// Dependencies against the registry; `upgrade` raises them in small batches.
    Deps(cmd::deps::DepsArgs),
    /// Write the workspace's documentation site: static HTML, with the service graph.
    Docs(cmd::docs::DocsArgs),
    /// Mint a JWT for development (signed with the workspace's dev key pair).
    Token(cmd::token::TokenArgs),
    /// Run every service of the workspace (build, migrate, start, supervise) until Ctrl-C.
    Up(cmd::up::UpArgs),
    /// Per service: running, healthy, and running what the working tree holds.
    Status(cmd::status::StatusArgs),
    /// Environments: the workspace as of a git revision, running beside `dev up`.
    #[command(subcommand)]
    Env(cmd::env::EnvCommand),
    /// Webhooks: `listen` receives and prints them, verifying their signatures.
    #[command(subcommand)]
    Webhook(cmd::webhook::WebhookCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init(args) => cmd::init::run(args),
        Command::New(args) => cmd::new::run(args),
        Command::Lint(args) => cmd::lint::run(args),
        Command::Spec(c) => cmd::spec::run(c),
        Command::Diff(a) => cmd::diff::run(a),
        Command::Db(c) => cmd::db::run(c),
        Command::Stream(c) => cmd::stream::run(c),
        Command::Gen(args) => cmd::r#gen::run(&args),
        Command::Mock(args) => cmd::mock::run(args),
        Command::Verify(args) => cmd::verify::run(args),
        Command::Graph(args) => cmd::graph::run(args),
        Command::Plan(args) => cmd::plan::run(args),
        Command::Release(args) => cmd::release::run(args),
        Command::Deploy(c) => cmd::deploy::run(c),
        Command::Deps(args) => cmd::deps::run(args),
        Command::Docs(args) => cmd::docs::run(args),
        Command::Token(args) => cmd::token::run(args),
        Command::Up(args) => cmd::up::run(args),
        Command::Status(args) => cmd::status::run(args),
        Command::Env(c) => cmd::env::run(c),
        Command::Webhook(c) => cmd::webhook::run(c),
    };
    match result {
        Ok(code) => code,
        // A closed stdout (`dev lint | head`) is the reader's choice, not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

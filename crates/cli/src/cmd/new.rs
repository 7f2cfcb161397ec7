//! `dev new service NAME`: add a service to the workspace, shaped like the one `dev
//! init` makes — its spec, binary and `[[gen.target]]` + `[services.<key>] port`
//! (the next free port) in `blueprint.toml` — then generate its code and, when the
//! workspace has them, refresh the deployment manifests.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::scaffold::{self, Service};
use crate::workspace;

#[derive(Debug, clap::Subcommand)]
pub enum NewCommand {
    /// Add a service: services/<key>/{spec,src}, generated services/<key>/api,
    /// its gen target and port in blueprint.toml.
    Service(NewServiceArgs),
}

#[derive(Debug, clap::Args)]
pub struct NewServiceArgs {
    /// The service's key (lower-case letters, digits, `-`): `orders`.
    pub key: String,
    /// Its model (snake_case; default: the key made singular: `order`).
    #[arg(long)]
    pub model: Option<String>,
    /// Its development port (default: the next after `[services.*] port`).
    #[arg(long)]
    pub port: Option<u16>,
    /// The blueprint.toml to add it to (default: found from the current folder upward).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

pub fn run(command: NewCommand) -> anyhow::Result<ExitCode> {
    let NewCommand::Service(args) = command;
    let config = workspace::config(args.config.as_deref())?;
    let port = match args.port {
        Some(port) => port,
        None => scaffold::next_port(&config)?,
    };
    let service = Service::new(&args.key, args.model.as_deref(), port)?;
    let root = config.root.clone();
    let path = config
        .path
        .clone()
        .unwrap_or_else(|| root.join(blueprint_spec::config::FILE_NAME));
    scaffold::write_new(&root, &service.files())?;
    crate::cmd::init::append(&path, &service.config())?;
    eprintln!(
        "created services/{} (port {}); its code is generated next",
        service.key, service.port
    );
    crate::cmd::init::generate(&path)
}

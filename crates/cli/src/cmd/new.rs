//! `dev new KEY` (or `dev new service KEY`): add a service to the workspace, following the service contract —
//! `services/<key>/spec/<key>.json`, the binary (`Cargo.toml`, `build.rs`,
//! `src/main.rs`, `src/api.rs`), a `[[gen.target]]` and `[services.<key>] port` (the
//! next free one) in `blueprint.toml` — then generate its package `services/<key>/api`
//! and, when the workspace has CI workflows, refresh the deployment manifests.
//!
//! Safe to run again: nothing is written when the key is taken (a gen target, a
//! `[services.<key>]` section or any of its files exists).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use blueprint_spec::config::Config;

use crate::scaffold::{self, Service};
use crate::workspace;

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The service's key, which is its spec's name and application key (lower-case
    /// letters, digits, single `-`): `orders`, `order-items`. Also spelled
    /// `dev new service KEY`.
    #[arg(value_name = "KEY", num_args = 1..=2, required = true)]
    pub key: Vec<String>,
    /// Its model (snake_case; default: the key's last word made singular: `order`).
    #[arg(long)]
    pub model: Option<String>,
    /// Its development port (default: the next after every `[services.*] port`).
    #[arg(long)]
    pub port: Option<u16>,
    /// The blueprint.toml to add it to (default: found from the current folder upward).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

pub fn run(args: NewArgs) -> anyhow::Result<ExitCode> {
    let config = workspace::config(args.config.as_deref())?;
    let port = match args.port {
        Some(port) => {
            if let Some(owner) = scaffold::port_owner(&config, port)? {
                bail!("port {port} is `{owner}`'s ([services.{owner}] port); choose another");
            }
            port
        }
        None => scaffold::next_port(&config)?,
    };
    let key = match args.key.as_slice() {
        [key] => key,
        [kind, key] if kind == "service" => key,
        _ => bail!("`dev new` adds a service: `dev new KEY` or `dev new service KEY`"),
    };
    let service = Service::new(key, args.model.as_deref(), port)?;
    add(&config, &service)?;
    eprintln!(
        "created services/{} (port {}); generating its code",
        service.key, service.port
    );
    let path = config
        .path
        .clone()
        .unwrap_or_else(|| config.root.join(blueprint_spec::config::FILE_NAME));
    let manifests = config.root.join(".github/workflows/pr.yml").is_file();
    let code = crate::cmd::init::generate(&path, manifests)?;
    if code == ExitCode::SUCCESS {
        eprintln!(
            "next: dev up (port {port}), then dev verify --service {key}\n\
             (change the spec, then `dev gen`; the code is services/{key}/src/api.rs)",
            key = service.key,
            port = service.port,
        );
    }
    Ok(code)
}

/// Write `service`'s files and its `blueprint.toml` entries into the workspace of
/// `config`, or nothing when any of them is there already.
pub(crate) fn add(config: &Config, service: &Service) -> anyhow::Result<()> {
    let path = config
        .path
        .clone()
        .unwrap_or_else(|| config.root.join(blueprint_spec::config::FILE_NAME));
    if let Some(taken) = scaffold::taken(config, service)? {
        bail!(
            "service `{}` exists already: {taken} in {}; nothing written",
            service.key,
            path.display()
        );
    }
    let files = service.files();
    scaffold::write_new(&config.root, &files)?;
    scaffold::rustfmt(&config.root, &files);
    scaffold::append(&path, &service.config())
}

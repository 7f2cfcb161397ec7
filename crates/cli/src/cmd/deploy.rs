//! `dev deploy manifests`: Dockerfiles, Kubernetes manifests and GitHub Actions
//! workflows for the workspace's services, from the specs and `[deploy]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use blueprint_arch::cargo::Manifest;
use blueprint_arch::manifests::{self, Inputs, ServiceBuild};

use crate::workspace::{self, Loaded};

#[derive(Debug, clap::Subcommand)]
pub enum DeployCommand {
    /// Write the deployment manifests (Dockerfiles, Kubernetes, GitHub workflows).
    Manifests(ManifestsArgs),
}

#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct ManifestsArgs {
    /// Write under this folder instead of the workspace root.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write nothing; exit 1 if a manifest is missing or different, listing them.
    #[arg(long)]
    pub check: bool,
    /// Replace files that exist and were not written by this command.
    #[arg(long)]
    pub force: bool,
    /// The blueprint.toml to read (default: found from the current folder upward).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

const AFTER_HELP: &str = "\
Writes, relative to the workspace root (or --out):
  services/<key>/Dockerfile          multi-stage: cargo build in [deploy] builder_image,
                                     run in runtime_image as a non-root user
  .dockerignore
  deploy/k8s/<key>/deployment.yaml   probes on GET /_internal_/healthcheck, resources,
                                     PORT, DATABASE_URL (Secret <key>-database, key url),
                                     BLUEPRINT_STREAMS_URL and BLUEPRINT_JWT_PUBLIC_KEY
                                     (ConfigMap blueprint); with a database, an init
                                     container runs `<binary> migrate` first
  deploy/k8s/<key>/service.yaml, kustomization.yaml
  .github/workflows/pr.yml           pull request: fmt, clippy, dev lint, dev gen --check,
                                     dev diff --against the base branch, tests
  .github/workflows/main.yml         push to the release branch: tests, dev release
  .github/workflows/deploy.yml       release tag: build images, deploy in dev plan phase
                                     order through [[deploy.environments]], approvals first
  .github/workflows/deps.yml         weekly: dev deps upgrade, as a pull request

The service binary is the first [[bin]] (else the package) of services/<key>/Cargo.toml
(else `<key>`). [deploy] keys: registry, builder_image, runtime_image, user, uid,
port, dev (how workflows run dev), branch, environments.";

pub fn run(command: DeployCommand) -> anyhow::Result<ExitCode> {
    match command {
        DeployCommand::Manifests(args) => manifests_cmd(args),
    }
}

fn builds(loaded: &Loaded) -> anyhow::Result<Vec<ServiceBuild>> {
    let root = &loaded.config.root;
    loaded
        .workspace
        .services
        .iter()
        .map(|s| {
            let path = root.join(s.folder()).join("Cargo.toml");
            let manifest = match std::fs::read_to_string(&path) {
                Ok(text) => Manifest::parse(&workspace::relative(root, &path), &text)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Manifest::default(),
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read {}", path.display()));
                }
            };
            Ok(ServiceBuild {
                name: s.name.clone(),
                key: s.key.clone(),
                package: manifest.package.clone().unwrap_or_else(|| s.key.clone()),
                binary: manifest.binary().unwrap_or(&s.key).to_string(),
                database: s.database,
                streams: !s.streams.is_empty() || !s.consumes.is_empty(),
            })
        })
        .collect()
}

fn manifests_cmd(args: ManifestsArgs) -> anyhow::Result<ExitCode> {
    let config = workspace::config(args.config.as_deref())?;
    let Some(loaded) = workspace::load(config)? else {
        return Ok(ExitCode::from(1));
    };
    let inputs = Inputs {
        graph: &loaded.graph,
        builds: builds(&loaded)?,
        deploy: &loaded.deploy,
        specs: loaded
            .workspace
            .services
            .iter()
            .map(|s| s.spec.clone())
            .collect(),
    };
    let files = manifests::render(&inputs);
    let out = args.out.unwrap_or_else(|| loaded.config.root.clone());
    let mut stale = Vec::new();
    let mut foreign = Vec::new();
    for f in &files {
        let path = out.join(&f.path);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(f.contents.as_str()) {
            continue;
        }
        if args.check {
            stale.push(f.path.clone());
            continue;
        }
        if let Some(text) = &current
            && !manifests::is_generated(text)
            && !args.force
        {
            foreign.push(f.path.clone());
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&path, &f.contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if !foreign.is_empty() {
        bail!(
            "not replacing files this command did not write (use --force): {}",
            foreign.join(", ")
        );
    }
    if args.check {
        if stale.is_empty() {
            println!("deployment manifests are up to date");
            return Ok(ExitCode::SUCCESS);
        }
        println!("stale deployment manifests (run `dev deploy manifests`):");
        for p in stale {
            println!("  {p}");
        }
        return Ok(ExitCode::from(1));
    }
    println!("wrote {} files under {}", files.len(), out.display());
    Ok(ExitCode::SUCCESS)
}

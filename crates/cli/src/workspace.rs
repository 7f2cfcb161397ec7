//! The workspace a command runs in: the folder of the `blueprint.toml` found from the
//! current folder upward, else the current folder. Every default path the CLI uses
//! (`.dev/`, the development database, migrations) is relative to its root, so a
//! command run from a subfolder finds the same files. The architecture commands
//! (`dev graph`, `plan`, `release`, `deploy`) see it [`load`]ed: every spec of
//! `[workspace] specs`, the services' `Cargo.toml`s and the graph.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use blueprint_arch::cargo::{Manifest, Tables};
use blueprint_arch::{DeployConfig, Graph, ServiceInput};
use blueprint_spec::Spec;
use blueprint_spec::config::Config;

#[derive(Debug)]
pub struct Workspace {
    pub config: Config,
}

impl Workspace {
    pub fn discover() -> Result<Workspace> {
        let cwd = std::env::current_dir().context("cannot read the current folder")?;
        Ok(Workspace {
            config: Config::discover(&cwd)?,
        })
    }

    /// The folder of `blueprint.toml` (absolute).
    pub fn root(&self) -> &Path {
        &self.config.root
    }

    /// `.dev/`: development state (the SQLite database, the local PostgreSQL
    /// cluster and the URL of the database `dev db up` started).
    pub fn dev_dir(&self) -> PathBuf {
        self.root().join(".dev")
    }

    /// A path from the configuration or a default: relative to the root.
    pub fn path(&self, path: impl AsRef<Path>) -> PathBuf {
        self.root().join(path)
    }

    /// The workspace's specs (`[workspace] specs`), for commands that default to all.
    pub fn specs(&self) -> Result<Vec<PathBuf>> {
        let files = self.config.workspace_specs()?;
        if files.is_empty() {
            anyhow::bail!(
                "no specs: `[workspace] specs` in {} matches no file; pass spec files as arguments",
                self.config.path.as_deref().map_or_else(
                    || "blueprint.toml (none found)".into(),
                    |p| p.display().to_string()
                )
            );
        }
        Ok(files)
    }

    /// A database URL from the configuration: a relative SQLite file is relative
    /// to the root, like every path there.
    pub fn database_url(&self, url: &str) -> String {
        match url.strip_prefix("sqlite:") {
            Some(file) if !file.starts_with('/') && !file.starts_with(':') => {
                format!("sqlite:{}", self.path(file).display())
            }
            _ => url.to_owned(),
        }
    }
}

/// A loaded workspace.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    /// One per spec, in the order of `workspace.services`.
    pub specs: Vec<LoadedSpec>,
    pub workspace: blueprint_arch::Workspace,
    pub graph: Graph,
    pub deploy: DeployConfig,
}

#[derive(Debug)]
pub struct LoadedSpec {
    /// Absolute.
    pub path: PathBuf,
    pub spec: Spec,
    /// The `Cargo.toml`s under the service's code folder, relative to the root.
    pub manifests: Vec<(String, Manifest)>,
}

impl Loaded {
    /// The loaded spec of a service.
    pub fn spec(&self, name: &str) -> Option<&LoadedSpec> {
        self.specs.iter().find(|s| s.spec.service.name == name)
    }
}

/// `--config`, else `blueprint.toml` found from the current folder upward.
pub fn config(path: Option<&Path>) -> Result<Config> {
    let config = match path {
        Some(p) => Config::load(p)?,
        None => Config::discover(&std::env::current_dir()?)?,
    };
    if config.path.is_none() {
        anyhow::bail!("no blueprint.toml found in this folder or above it");
    }
    Ok(config)
}

/// Load every spec of the workspace. An invalid spec is reported on stderr and
/// gives `None` (the caller exits 1).
pub fn load(config: Config) -> Result<Option<Loaded>> {
    let clients = crate::cmd::r#gen::client_packages(&config)?;
    let mut specs = Vec::new();
    let mut invalid = false;
    for path in config.workspace_specs()? {
        let path = std::fs::canonicalize(&path).unwrap_or(path);
        let spec = match blueprint_spec::load(&path) {
            Ok(spec) => spec,
            Err(e) if e.is_io() || e.is_config() => return Err(e.into()),
            Err(e) => {
                eprintln!("{e}");
                invalid = true;
                continue;
            }
        };
        let folder = config.root.join("services").join(&spec.service.application);
        let manifests = manifests_under(&config.root, &folder)?;
        specs.push(LoadedSpec {
            path,
            spec,
            manifests,
        });
    }
    if invalid {
        return Ok(None);
    }
    let inputs: Vec<ServiceInput<'_>> = specs
        .iter()
        .map(|s| ServiceInput {
            spec_path: relative(&config.root, &s.path),
            spec: &s.spec,
            dependencies: s
                .manifests
                .iter()
                .flat_map(|(_, m)| m.dependencies(Tables::Runtime))
                .collect(),
            client_packages: clients
                .iter()
                .filter(|(spec, _)| *spec == s.path)
                .map(|(_, c)| c.clone())
                .collect::<BTreeSet<String>>(),
        })
        .collect();
    let workspace = blueprint_arch::Workspace::new(&inputs)?;
    let graph = Graph::build(&workspace);
    specs.sort_by_key(|s| {
        workspace
            .services
            .iter()
            .position(|w| w.name == s.spec.service.name)
    });
    let deploy: DeployConfig = config.section("deploy")?;
    deploy.validate().with_context(|| {
        config
            .path
            .clone()
            .unwrap_or_default()
            .display()
            .to_string()
    })?;
    Ok(Some(Loaded {
        config,
        specs,
        workspace,
        graph,
        deploy,
    }))
}

/// `path` relative to `root`, `/`-separated (as given when outside it).
pub fn relative(root: &Path, path: &Path) -> String {
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    path.strip_prefix(&root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Every `Cargo.toml` under `folder` (build output folders skipped), parsed.
pub fn manifests_under(root: &Path, folder: &Path) -> Result<Vec<(String, Manifest)>> {
    let mut out = Vec::new();
    if !folder.is_dir() {
        return Ok(out);
    }
    let pattern = format!(
        "{}/**/Cargo.toml",
        glob::Pattern::escape(&folder.to_string_lossy())
    );
    let entries = glob::glob(&pattern).context("invalid service folder path")?;
    for entry in entries {
        let path = entry?;
        let inside = path.strip_prefix(folder).unwrap_or(&path);
        if inside.components().any(|c| c.as_os_str() == "target") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let rel = relative(root, &path);
        out.push((rel.clone(), Manifest::parse(&rel, &text)?));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

//! The workspace a command runs in: the folder of the `blueprint.toml` found from the
//! current folder upward, else the current folder. Every default path the CLI uses
//! (`.dev/`, the development database, migrations) is relative to its root, so a
//! command run from a subfolder finds the same files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
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

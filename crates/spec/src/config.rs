//! `blueprint.toml`: the workspace configuration, found from a spec's folder upward
//! (like `Cargo.toml`).
//!
//! This crate reads only what loading needs (`[registry]`). Every other section
//! (`[lint]`, `[gen]`, `[diff]`, ...) belongs to the crate that uses it, which gets it
//! typed through [`Config::section`]; unknown keys there are that crate's to reject.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const FILE_NAME: &str = "blueprint.toml";

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The `blueprint.toml` this came from; `None` for the built-in default.
    pub path: Option<PathBuf>,
    /// Folder of `blueprint.toml` (the workspace root); paths in it are relative to it.
    pub root: PathBuf,
    pub registry: Registry,
    table: toml::Table,
}

/// Where apibuilder import URIs resolve offline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registry {
    /// Folders searched for `<application key>.json`, absolute.
    pub paths: Vec<PathBuf>,
    /// Organisation key -> namespace prefix (`apicollective` -> `io.apibuilder`).
    pub organizations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistry {
    #[serde(default)]
    paths: Vec<PathBuf>,
    #[serde(default)]
    organizations: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Find `blueprint.toml` in `start` or its ancestors; the default config when none.
    pub fn discover(start: &Path) -> Result<Config, ConfigError> {
        let start = if start.is_file() {
            start.parent().unwrap_or(Path::new("."))
        } else {
            start
        };
        let abs = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
        for dir in abs.ancestors() {
            let candidate = dir.join(FILE_NAME);
            if candidate.is_file() {
                return Config::load(&candidate);
            }
        }
        Ok(Config {
            root: abs,
            ..Config::default()
        })
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let root = path
            .parent()
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
            .unwrap_or_default();
        let registry = match table.get("registry") {
            None => Registry::default(),
            Some(v) => {
                let raw: RawRegistry = v
                    .clone()
                    .try_into()
                    .map_err(|e: toml::de::Error| invalid(format!("[registry]: {e}")))?;
                Registry {
                    paths: raw.paths.iter().map(|p| root.join(p)).collect(),
                    organizations: raw.organizations,
                }
            }
        };
        Ok(Config {
            path: Some(path.to_path_buf()),
            root,
            registry,
            table,
        })
    }

    /// A section deserialised into the caller's type; `T::default()` when absent.
    pub fn section<T>(&self, name: &str) -> Result<T, ConfigError>
    where
        T: serde::de::DeserializeOwned + Default,
    {
        match self.table.get(name) {
            None => Ok(T::default()),
            Some(v) => v
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    path: self.path.clone().unwrap_or_else(|| FILE_NAME.into()),
                    message: format!("[{name}]: {e}"),
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_registry_relative_to_file() {
        let cfg = Config::parse(
            Path::new("/ws/blueprint.toml"),
            "[registry]\npaths = [\".\", \"registry\"]\n[registry.organizations]\nflow = \"io.flow\"\n",
        )
        .expect("valid config");
        assert_eq!(
            cfg.registry.paths,
            vec![PathBuf::from("/ws/."), PathBuf::from("/ws/registry")]
        );
        assert_eq!(cfg.registry.organizations["flow"], "io.flow");
    }

    #[test]
    fn unknown_registry_key_is_an_error() {
        let err = Config::parse(Path::new("b.toml"), "[registry]\npath = []\n");
        assert!(matches!(err, Err(ConfigError::Invalid { .. })));
    }

    #[test]
    fn sections_default_when_absent() {
        #[derive(Debug, Default, serde::Deserialize)]
        struct Lint {
            #[serde(default)]
            ignore: Vec<String>,
        }
        let cfg = Config::parse(Path::new("b.toml"), "[lint]\nignore = [\"x\"]\n").expect("ok");
        assert_eq!(cfg.section::<Lint>("lint").expect("ok").ignore, vec!["x"]);
        assert!(cfg.section::<Lint>("nope").expect("ok").ignore.is_empty());
    }
}

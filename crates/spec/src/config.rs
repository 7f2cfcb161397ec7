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

/// Where a workspace's specs are when `[workspace] specs` does not say.
pub const DEFAULT_SPEC_GLOBS: &[&str] = &["services/*/spec/*.json"];

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

    /// The workspace's spec files: the globs of `[workspace] specs` (default
    /// [`DEFAULT_SPEC_GLOBS`]), relative to the root, matched, deduplicated, sorted.
    pub fn workspace_specs(&self) -> Result<Vec<PathBuf>, ConfigError> {
        let origin = || self.path.clone().unwrap_or_else(|| FILE_NAME.into());
        let invalid = |message: String| ConfigError::Invalid {
            path: origin(),
            message,
        };
        let patterns: Vec<String> = match self.table.get("workspace").map(|w| w.get("specs")) {
            None | Some(None) => DEFAULT_SPEC_GLOBS.iter().map(|s| s.to_string()).collect(),
            Some(Some(v)) => v.clone().try_into().map_err(|e: toml::de::Error| {
                invalid(format!("[workspace] specs: expected a list of globs: {e}"))
            })?,
        };
        let root = self.root.to_str().ok_or_else(|| {
            invalid(format!(
                "workspace root {} is not UTF-8",
                self.root.display()
            ))
        })?;
        let mut specs = std::collections::BTreeSet::new();
        for pattern in &patterns {
            // The root is a literal path: escape it so `[` in a folder name is not a glob.
            let full = format!("{}/{pattern}", glob::Pattern::escape(root));
            let matches = glob::glob(&full).map_err(|e| {
                invalid(format!(
                    "[workspace] specs: invalid glob `{pattern}`: {}",
                    e.msg
                ))
            })?;
            for entry in matches {
                let path = entry.map_err(|e| ConfigError::Io {
                    path: e.path().to_path_buf(),
                    source: e.into(),
                })?;
                if path.is_file() {
                    specs.insert(path);
                }
            }
        }
        Ok(specs.into_iter().collect())
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
    fn workspace_specs_match_globs_sorted() {
        let dir = std::env::temp_dir().join(format!("blueprint-ws-{}", std::process::id()));
        for file in [
            "services/b/spec/b.json",
            "services/a/spec/a.json",
            "other/x.json",
        ] {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
            std::fs::write(&path, "{}").expect("write");
        }
        let default = Config::parse(&dir.join(FILE_NAME), "").expect("ok");
        assert_eq!(
            default.workspace_specs().expect("ok"),
            vec![
                dir.join("services/a/spec/a.json"),
                dir.join("services/b/spec/b.json")
            ]
        );
        let custom = Config::parse(
            &dir.join(FILE_NAME),
            "[workspace]\nspecs = [\"other/*.json\", \"services/a/**/*.json\"]\n",
        )
        .expect("ok");
        assert_eq!(
            custom.workspace_specs().expect("ok"),
            vec![dir.join("other/x.json"), dir.join("services/a/spec/a.json")]
        );
        let bad = Config::parse(&dir.join(FILE_NAME), "[workspace]\nspecs = \"x\"\n").expect("ok");
        assert!(matches!(
            bad.workspace_specs(),
            Err(ConfigError::Invalid { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
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

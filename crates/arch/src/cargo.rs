//! What the architecture needs from Cargo's files, read from their text:
//! a manifest's package and dependencies, and `Cargo.lock`'s resolved graph.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct CargoError {
    pub file: String,
    pub message: String,
}

impl CargoError {
    fn new(file: &str, message: impl std::fmt::Display) -> CargoError {
        CargoError {
            file: file.to_string(),
            message: message.to_string(),
        }
    }
}

/// The dependency tables of a manifest that run with the code (`dependencies` and
/// `target.<cfg>.dependencies`), or all of them (`dev-` and `build-` too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tables {
    Runtime,
    All,
}

/// One dependency declaration in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// The table's path: `["dependencies"]` (or `dev-`, `build-`),
    /// `["target", "<cfg>", "dependencies"]`, or `["workspace", "dependencies"]`.
    pub table: Vec<String>,
    /// The key in the table (the name code uses).
    pub key: String,
    /// The package: `package = "..."` when renamed, else the key.
    pub package: String,
    /// The version requirement written here, when any.
    pub requirement: Option<String>,
    /// `workspace = true`: the requirement is the workspace's.
    pub inherited: bool,
    /// A `path` or `git` dependency: not from a registry.
    pub local: bool,
    /// `registry = "..."`: a registry other than crates.io.
    pub registry: Option<String>,
}

impl Declaration {
    pub fn kind(&self) -> &'static str {
        match self.table.last().map(String::as_str).unwrap_or("") {
            "dev-dependencies" => "dev",
            "build-dependencies" => "build",
            _ => "normal",
        }
    }

    /// Whether this is an entry of `[workspace.dependencies]`.
    pub fn is_workspace_entry(&self) -> bool {
        self.table.first().is_some_and(|t| t == "workspace")
    }
}

/// A manifest's package name, binaries and dependency declarations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    pub package: Option<String>,
    /// `[[bin]]` names (empty: the package's default binary, if it has `src/main.rs`).
    pub bins: Vec<String>,
    pub declarations: Vec<Declaration>,
}

impl Manifest {
    pub fn parse(file: &str, text: &str) -> Result<Manifest, CargoError> {
        let doc: toml::Table = toml::from_str(text).map_err(|e| CargoError::new(file, e))?;
        let package = doc
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .map(String::from);
        let bins = doc
            .get("bin")
            .and_then(|b| b.as_array())
            .map(|bins| {
                bins.iter()
                    .filter_map(|b| b.get("name")?.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let mut declarations = Vec::new();
        for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
            if let Some(t) = doc.get(table) {
                collect_table(t, &[table], &mut declarations);
            }
        }
        if let Some(targets) = doc.get("target").and_then(|t| t.as_table()) {
            for (cfg, body) in targets {
                for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
                    if let Some(t) = body.get(table) {
                        collect_table(t, &["target", cfg, table], &mut declarations);
                    }
                }
            }
        }
        if let Some(t) = doc.get("workspace").and_then(|w| w.get("dependencies")) {
            collect_table(t, &["workspace", "dependencies"], &mut declarations);
        }
        Ok(Manifest {
            package,
            bins,
            declarations,
        })
    }

    /// Packages depended on through `tables`, by package name.
    pub fn dependencies(&self, tables: Tables) -> BTreeSet<String> {
        self.declarations
            .iter()
            .filter(|d| !d.is_workspace_entry())
            .filter(|d| tables == Tables::All || d.kind() == "normal")
            .map(|d| d.package.clone())
            .collect()
    }

    /// The binary a service image runs: the first `[[bin]]`, else the package.
    pub fn binary(&self) -> Option<&str> {
        self.bins
            .first()
            .map(String::as_str)
            .or(self.package.as_deref())
    }
}

fn collect_table(table: &toml::Value, path: &[&str], out: &mut Vec<Declaration>) {
    let Some(table) = table.as_table() else {
        return;
    };
    for (key, spec) in table {
        let mut d = Declaration {
            table: path.iter().map(|p| p.to_string()).collect(),
            key: key.clone(),
            package: key.clone(),
            requirement: None,
            inherited: false,
            local: false,
            registry: None,
        };
        match spec {
            toml::Value::String(req) => d.requirement = Some(req.clone()),
            toml::Value::Table(t) => {
                d.requirement = t.get("version").and_then(|v| v.as_str()).map(String::from);
                if let Some(p) = t.get("package").and_then(|v| v.as_str()) {
                    d.package = p.to_string();
                }
                d.inherited = t.get("workspace").and_then(|v| v.as_bool()) == Some(true);
                d.local = t.contains_key("path") || t.contains_key("git");
                d.registry = t.get("registry").and_then(|v| v.as_str()).map(String::from);
            }
            _ => continue,
        }
        out.push(d);
    }
}

/// One package of `Cargo.lock`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LockedPackage {
    pub name: String,
    pub version: String,
    /// `None` for workspace (path) packages.
    pub source: Option<String>,
    /// `name`, `name version` or `name version (source)`.
    #[serde(default)]
    pub dependencies: Vec<String>,
}

impl LockedPackage {
    pub fn is_registry(&self) -> bool {
        self.source
            .as_deref()
            .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"))
    }
}

/// `Cargo.lock`: the resolved dependency graph.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lockfile {
    pub packages: Vec<LockedPackage>,
}

#[derive(Deserialize)]
struct RawLock {
    #[serde(default, rename = "package")]
    packages: Vec<LockedPackage>,
}

impl Lockfile {
    pub fn parse(file: &str, text: &str) -> Result<Lockfile, CargoError> {
        let raw: RawLock = toml::from_str(text).map_err(|e| CargoError::new(file, e))?;
        Ok(Lockfile {
            packages: raw.packages,
        })
    }

    /// The workspace (path) package named `name`.
    pub fn workspace_package(&self, name: &str) -> Option<&LockedPackage> {
        self.packages
            .iter()
            .find(|p| p.name == name && p.source.is_none())
    }

    /// The package a dependency entry (`name`, `name version`, `name version (source)`)
    /// of a locked package refers to.
    pub fn resolve(&self, entry: &str) -> Option<&LockedPackage> {
        let mut parts = entry.splitn(3, ' ');
        let name = parts.next()?;
        let version = parts.next();
        let source = parts
            .next()
            .map(|s| s.trim_start_matches('(').trim_end_matches(')'));
        self.packages.iter().find(|p| {
            p.name == name
                && version.is_none_or(|v| p.version == v)
                && source.is_none_or(|s| p.source.as_deref() == Some(s))
        })
    }

    /// Every package reachable from the workspace packages `roots`, roots included.
    pub fn closure<'a>(&'a self, roots: &[&str]) -> BTreeSet<&'a LockedPackage> {
        let mut seen: BTreeSet<&LockedPackage> = BTreeSet::new();
        let mut stack: Vec<&LockedPackage> = roots
            .iter()
            .filter_map(|r| self.workspace_package(r))
            .collect();
        while let Some(p) = stack.pop() {
            if seen.insert(p) {
                stack.extend(p.dependencies.iter().filter_map(|d| self.resolve(d)));
            }
        }
        seen
    }

    /// Names with more than one version, each with its versions sorted.
    pub fn duplicates(&self) -> BTreeMap<String, Vec<String>> {
        let mut versions: BTreeMap<String, BTreeSet<semver_key::Key>> = BTreeMap::new();
        for p in &self.packages {
            versions
                .entry(p.name.clone())
                .or_default()
                .insert(semver_key::Key::new(&p.version));
        }
        versions
            .into_iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|(n, v)| (n, v.into_iter().map(|k| k.text).collect()))
            .collect()
    }
}

impl PartialOrd for LockedPackage {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for LockedPackage {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.name, &self.version, &self.source).cmp(&(&other.name, &other.version, &other.source))
    }
}

/// Versions ordered as semver where they parse, as text otherwise.
mod semver_key {
    #[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
    pub struct Key {
        parsed: Option<semver::Version>,
        pub text: String,
    }

    impl Key {
        pub fn new(text: &str) -> Key {
            Key {
                parsed: text.parse().ok(),
                text: text.to_string(),
            }
        }
    }
}

/// What a service's packages depend on that differs between two lock files:
/// registry packages added, removed or moved (`name old -> new`), and the
/// workspace crates among `changed_crates` (crates whose files changed).
pub fn changed_dependencies(
    old: &Lockfile,
    new: &Lockfile,
    roots: &[&str],
    changed_crates: &BTreeSet<String>,
) -> Vec<String> {
    let registry = |lock: &Lockfile| -> BTreeMap<String, BTreeSet<String>> {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for p in lock.closure(roots).into_iter().filter(|p| p.is_registry()) {
            m.entry(p.name.clone())
                .or_default()
                .insert(p.version.clone());
        }
        m
    };
    let (before, after) = (registry(old), registry(new));
    let mut out = Vec::new();
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for name in names {
        let (b, a) = (before.get(name), after.get(name));
        if b == a {
            continue;
        }
        let list = |v: Option<&BTreeSet<String>>| {
            v.map_or_else(
                || "none".to_string(),
                |v| v.iter().cloned().collect::<Vec<_>>().join(", "),
            )
        };
        out.push(format!("{name} {} -> {}", list(b), list(a)));
    }
    let roots_set: BTreeSet<&str> = roots.iter().copied().collect();
    for p in new.closure(roots) {
        if p.source.is_none()
            && !roots_set.contains(p.name.as_str())
            && changed_crates.contains(&p.name)
        {
            out.push(p.name.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "users"
version = "0.1.0"
dependencies = ["blueprint", "serde", "users-api"]

[[package]]
name = "users-api"
version = "0.1.0"
dependencies = ["blueprint"]

[[package]]
name = "blueprint"
version = "0.1.0"
dependencies = ["serde", "syn 1.0.109"]

[[package]]
name = "serde"
version = "1.0.200"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "syn"
version = "1.0.109"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "syn"
version = "2.0.100"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;

    #[test]
    fn manifests_list_declarations_by_package() {
        let m = Manifest::parse(
            "Cargo.toml",
            r#"
[package]
name = "users"

[[bin]]
name = "users-server"

[dependencies]
serde = "1"
api = { package = "users-api", path = "api" }
tokio.workspace = true

[dev-dependencies]
insta = "1"

[target.'cfg(unix)'.dependencies]
libc = { version = "0.2" }
"#,
        )
        .expect("valid");
        assert_eq!(m.package.as_deref(), Some("users"));
        assert_eq!(m.binary(), Some("users-server"));
        let runtime: Vec<String> = m.dependencies(Tables::Runtime).into_iter().collect();
        assert_eq!(runtime, ["libc", "serde", "tokio", "users-api"]);
        assert!(m.dependencies(Tables::All).contains("insta"));
        let tokio = m
            .declarations
            .iter()
            .find(|d| d.key == "tokio")
            .expect("tokio");
        assert!(tokio.inherited);
        assert!(Manifest::parse("x", "[dependencies\n").is_err());
    }

    #[test]
    fn lock_closure_and_changes() {
        let new = Lockfile::parse("Cargo.lock", LOCK).expect("valid");
        let names: Vec<String> = new
            .closure(&["users"])
            .into_iter()
            .map(|p| format!("{} {}", p.name, p.version))
            .collect();
        assert_eq!(
            names,
            [
                "blueprint 0.1.0",
                "serde 1.0.200",
                "syn 1.0.109",
                "users 0.1.0",
                "users-api 0.1.0"
            ]
        );
        assert_eq!(
            new.duplicates().get("syn"),
            Some(&vec!["1.0.109".to_string(), "2.0.100".to_string()])
        );
        let old =
            Lockfile::parse("Cargo.lock", &LOCK.replace("1.0.200", "1.0.199")).expect("valid");
        let changed: BTreeSet<String> = ["blueprint".to_string()].into();
        assert_eq!(
            changed_dependencies(&old, &new, &["users"], &changed),
            ["serde 1.0.199 -> 1.0.200", "blueprint"]
        );
        assert!(changed_dependencies(&new, &new, &["users"], &BTreeSet::new()).is_empty());
    }
}

//! What changed in a service since a git revision: its contract (the spec then
//! and now, judged by `blueprint-diff` with `[diff]`, as `dev diff` does), the
//! files of its code folder, and the packages it depends on (`Cargo.lock` then and
//! now, and workspace crates whose files changed). Shared by `dev plan` and
//! `dev release`.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Context;
use blueprint_arch::cargo::{Lockfile, changed_dependencies};
use blueprint_arch::plan::{Change, Contract};
use blueprint_diff::{DiffConfig, DiffSection};

use crate::git::{self, AtRevision, Repo};
use crate::workspace::Loaded;

pub struct History<'a> {
    loaded: &'a Loaded,
    repo: Repo,
    diff: DiffConfig,
    lock: Option<Lockfile>,
    /// Compare with `HEAD` (true) or with the working tree.
    committed: bool,
}

impl<'a> History<'a> {
    pub fn new(loaded: &'a Loaded, committed: bool) -> anyhow::Result<History<'a>> {
        let root = &loaded.config.root;
        let repo = Repo::open(root)?;
        let section: DiffSection = loaded.config.section("diff")?;
        let diff = DiffConfig::from_section(&section)?;
        let lock_path = root.join("Cargo.lock");
        let lock = match std::fs::read_to_string(&lock_path) {
            Ok(text) => Some(Lockfile::parse("Cargo.lock", &text)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", lock_path.display()));
            }
        };
        Ok(History {
            loaded,
            repo,
            diff,
            lock,
            committed,
        })
    }

    pub fn repo(&self) -> &Repo {
        &self.repo
    }

    /// What changed in `service` since `rev`.
    pub fn since(&self, service: &str, rev: &str) -> anyhow::Result<Change> {
        self.repo.verify(rev)?;
        let spec = self
            .loaded
            .spec(service)
            .with_context(|| format!("no service `{service}`"))?;
        let svc = self
            .loaded
            .workspace
            .service(service)
            .with_context(|| format!("no service `{service}`"))?;
        let mut change = Change::unchanged(service);
        match git::load_at_revision(&spec.path, rev)? {
            AtRevision::Missing => change.contract = Contract::New,
            AtRevision::Invalid(e) => {
                anyhow::bail!("{} as of {rev}: {e}", svc.spec);
            }
            AtRevision::Loaded(old) => {
                let report = blueprint_diff::diff(&old, &spec.spec, &self.diff);
                change = change.with_report(&report);
            }
        }
        let changed = self.repo.changed_files(rev, self.committed)?;
        let folder = format!("{}/", svc.folder());
        change.files = changed
            .iter()
            .filter(|f| f.starts_with(&folder))
            .cloned()
            .collect();
        if let Some(lock) = &self.lock {
            let old = match self.repo.show(rev, "Cargo.lock")? {
                Some(text) => Lockfile::parse(&format!("{rev}:Cargo.lock"), &text)?,
                None => Lockfile::default(),
            };
            let roots: Vec<&str> = spec
                .manifests
                .iter()
                .filter_map(|(_, m)| m.package.as_deref())
                .collect();
            let crates = owning_packages(&self.loaded.config.root, &changed);
            change.packages = changed_dependencies(&old, lock, &roots, &crates);
        }
        Ok(change)
    }
}

/// The packages whose folders hold `files`: the nearest `Cargo.toml` with a
/// `[package]` above each file, within `root`.
fn owning_packages(root: &Path, files: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for file in files {
        let mut dir = root.join(file);
        while dir.pop() && dir.starts_with(root) {
            let manifest = dir.join("Cargo.toml");
            let Ok(text) = std::fs::read_to_string(&manifest) else {
                continue;
            };
            if let Ok(m) = blueprint_arch::cargo::Manifest::parse("Cargo.toml", &text)
                && let Some(name) = m.package
            {
                out.insert(name);
                break;
            }
        }
    }
    out
}

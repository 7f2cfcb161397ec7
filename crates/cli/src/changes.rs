//! What changed in a service since a git revision: its contract (the spec then
//! and now, judged by `blueprint-diff` with `[diff]`, as `dev diff` does; the
//! spec then is loaded from the whole workspace as of the revision, so its imports
//! are as they were too), the
//! files of its code folder, and the packages it depends on (`Cargo.lock` then and
//! now, and workspace crates whose files changed). Shared by `dev plan` and
//! `dev release`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::rc::Rc;

use anyhow::Context;
use blueprint_arch::cargo::{Lockfile, changed_dependencies};
use blueprint_arch::plan::{Change, Contract};
use blueprint_diff::{DiffConfig, DiffSection};

use blueprint_spec::config::Config;

use crate::git::{Repo, Snapshot};
use crate::workspace::{self, Loaded};

pub struct History<'a> {
    loaded: &'a Loaded,
    repo: Repo,
    diff: DiffConfig,
    lock: Option<Lockfile>,
    /// Compare with `HEAD` (true) or with the working tree.
    committed: bool,
    /// The workspace as of each revision asked about (`None`: it had no
    /// `blueprint.toml` then).
    past: RefCell<BTreeMap<String, Rc<Past>>>,
}

/// The workspace as of a revision.
struct Past {
    _snapshot: Snapshot,
    workspace: Option<Loaded>,
    lock: Lockfile,
}

impl<'a> History<'a> {
    pub fn new(loaded: &'a Loaded, committed: bool) -> anyhow::Result<History<'a>> {
        let root = &loaded.config.root;
        let repo = Repo::open(root)?;
        let section: DiffSection = loaded.config.section("diff")?;
        let diff = DiffConfig::from_section(&section)?;
        let lock = read_lock(root, "Cargo.lock")?;
        Ok(History {
            loaded,
            repo,
            diff,
            lock,
            committed,
            past: RefCell::default(),
        })
    }

    pub fn repo(&self) -> &Repo {
        &self.repo
    }

    fn past(&self, rev: &str) -> anyhow::Result<Rc<Past>> {
        if let Some(p) = self.past.borrow().get(rev) {
            return Ok(p.clone());
        }
        let snapshot = self.repo.snapshot(rev)?;
        let config_path = snapshot.root.join(blueprint_spec::config::FILE_NAME);
        let workspace = if config_path.is_file() {
            let config = Config::load(&config_path)?;
            let loaded = workspace::load(config)?
                .with_context(|| format!("the workspace as of {rev} has invalid specs"))?;
            Some(loaded)
        } else {
            None
        };
        let lock = read_lock(&snapshot.root, &format!("{rev}:Cargo.lock"))?.unwrap_or_default();
        let past = Rc::new(Past {
            _snapshot: snapshot,
            workspace,
            lock,
        });
        self.past.borrow_mut().insert(rev.to_string(), past.clone());
        Ok(past)
    }

    /// What changed in `service` since `rev`.
    pub fn since(&self, service: &str, rev: &str) -> anyhow::Result<Change> {
        let spec = self
            .loaded
            .spec(service)
            .with_context(|| format!("no service `{service}`"))?;
        let svc = self
            .loaded
            .workspace
            .service(service)
            .with_context(|| format!("no service `{service}`"))?;
        let past = self.past(rev)?;
        let mut change = Change::unchanged(service);
        match past.workspace.as_ref().and_then(|w| w.spec(service)) {
            None => change.contract = Contract::New,
            Some(old) => {
                let report = blueprint_diff::diff(&old.spec, &spec.spec, &self.diff);
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
            let roots: Vec<&str> = spec
                .manifests
                .iter()
                .filter_map(|(_, m)| m.package.as_deref())
                .collect();
            let crates = owning_packages(&self.loaded.config.root, &changed);
            change.packages = changed_dependencies(&past.lock, lock, &roots, &crates);
        }
        Ok(change)
    }
}

fn read_lock(root: &Path, label: &str) -> anyhow::Result<Option<Lockfile>> {
    let path = root.join("Cargo.lock");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(Lockfile::parse(label, &text)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
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

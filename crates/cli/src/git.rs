//! Git, through the `git` command line: specs and files as committed in a
//! revision, what changed since one, release tags. Every command that looks at
//! history (`dev diff --against`, `dev plan --since`, `dev release`) goes through here.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use blueprint_spec::config::Config;
use blueprint_spec::{LoadError, LoadOptions, SourceMap, Spec};

/// Run git in `dir`; its stdout, or an error with its stderr.
pub fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .context("cannot run git")?;
    if !output.status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    String::from_utf8(output.stdout).context("git printed non-UTF-8 output")
}

/// The repository holding a folder, and where that folder is in it.
#[derive(Debug, Clone)]
pub struct Repo {
    /// The repository's top folder.
    pub top: PathBuf,
    /// The folder this was opened at, relative to `top` (`""` at the top),
    /// `/`-separated, with a trailing `/` unless empty.
    prefix: String,
}

impl Repo {
    /// The repository containing `dir` (a folder).
    pub fn open(dir: &Path) -> anyhow::Result<Repo> {
        let abs =
            std::fs::canonicalize(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        let top = PathBuf::from(
            git(&abs, &["rev-parse", "--show-toplevel"])
                .with_context(|| format!("{} is not in a git repository", dir.display()))?
                .trim_end(),
        );
        let top = std::fs::canonicalize(&top).unwrap_or(top);
        let rel = abs.strip_prefix(&top).with_context(|| {
            format!(
                "{} is outside the repository {}",
                abs.display(),
                top.display()
            )
        })?;
        let mut prefix = rel.to_string_lossy().replace('\\', "/");
        if !prefix.is_empty() {
            prefix.push('/');
        }
        Ok(Repo { top, prefix })
    }

    pub fn git(&self, args: &[&str]) -> anyhow::Result<String> {
        git(&self.top, args)
    }

    /// Fail unless `rev` names a commit.
    pub fn verify(&self, rev: &str) -> anyhow::Result<()> {
        self.git(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ])
        .map(drop)
        .with_context(|| format!("unknown git revision `{rev}`"))
    }

    /// The text of `path` (relative to the opened folder) in `rev`; `None` when
    /// the revision does not have it.
    pub fn show(&self, rev: &str, path: &str) -> anyhow::Result<Option<String>> {
        let object = format!("{rev}:{}{path}", self.prefix);
        if self.git(&["cat-file", "-e", &object]).is_err() {
            return Ok(None);
        }
        self.git(&["show", &object]).map(Some)
    }

    /// Files changed since `rev`, relative to the opened folder (files outside it
    /// are left out): up to `HEAD` when `committed`, else up to the working tree,
    /// untracked files included.
    pub fn changed_files(&self, rev: &str, committed: bool) -> anyhow::Result<Vec<String>> {
        let mut args = vec!["diff", "--name-only", "--no-renames", rev];
        if committed {
            args.push("HEAD");
        }
        let mut files: Vec<String> = self.git(&args)?.lines().map(String::from).collect();
        if !committed {
            files.extend(
                self.git(&["ls-files", "--others", "--exclude-standard", "--full-name"])?
                    .lines()
                    .map(String::from),
            );
        }
        let mut out: Vec<String> = files
            .into_iter()
            .filter_map(|f| f.strip_prefix(&self.prefix).map(String::from))
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Whether the working tree has no changes to tracked files and no untracked files.
    pub fn is_clean(&self) -> anyhow::Result<bool> {
        Ok(self.git(&["status", "--porcelain"])?.trim().is_empty())
    }

    /// Tags matching `pattern` whose commit is `HEAD` or an ancestor of it.
    pub fn merged_tags(&self, pattern: &str) -> anyhow::Result<Vec<String>> {
        Ok(self
            .git(&["tag", "--list", "--merged", "HEAD", pattern])?
            .lines()
            .map(String::from)
            .collect())
    }

    /// The files of `rev` written to a temporary folder (the index and the working
    /// tree are left alone). The snapshot's path is the opened folder's as of `rev`.
    pub fn snapshot(&self, rev: &str) -> anyhow::Result<Snapshot> {
        self.verify(rev)?;
        let dir = tempfile::Builder::new()
            .prefix("blueprint-rev-")
            .tempdir()
            .context("cannot create a temporary folder")?;
        let index = dir.path().join("index");
        let tree = dir.path().join("tree");
        let with_index = |args: &[&str]| -> anyhow::Result<()> {
            let output = Command::new("git")
                .arg("-C")
                .arg(&self.top)
                .args(args)
                .env("GIT_INDEX_FILE", &index)
                .output()
                .context("cannot run git")?;
            if !output.status.success() {
                bail!(
                    "git {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&output.stderr).trim()
                );
            }
            Ok(())
        };
        with_index(&["read-tree", rev])?;
        let prefix = format!("{}/", tree.to_string_lossy());
        with_index(&["checkout-index", "--all", "--prefix", &prefix])?;
        let root = tree.join(&self.prefix);
        Ok(Snapshot { _dir: dir, root })
    }

    /// An annotated tag on `HEAD`.
    pub fn tag(&self, name: &str, message: &str) -> anyhow::Result<()> {
        self.git(&["tag", "--annotate", name, "--message", message])
            .map(drop)
    }
}

/// The files of a revision in a temporary folder, removed on drop.
#[derive(Debug)]
pub struct Snapshot {
    _dir: tempfile::TempDir,
    /// The folder the repository was opened at, as of the revision.
    pub root: PathBuf,
}

/// A spec as committed in a revision.
pub enum AtRevision {
    Loaded(Box<Spec>),
    /// In the revision but invalid there (its diagnostics point at `<rev>:<path>`).
    Invalid(LoadError),
    /// Not in the revision: a new spec.
    Missing,
}

/// The spec at `path` as committed in `rev`. Loaded under its working-tree path so
/// relative imports resolve from the working tree; shown as `<rev>:<path>`.
pub fn load_at_revision(path: &Path, rev: &str) -> anyhow::Result<AtRevision> {
    let abs =
        std::fs::canonicalize(path).with_context(|| format!("cannot read {}", path.display()))?;
    let dir = abs.parent().unwrap_or(Path::new("/"));
    let repo = Repo::open(dir)?;
    repo.verify(rev)?;
    let name = abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(text) = repo.show(rev, &name)? else {
        return Ok(AtRevision::Missing);
    };
    let object = format!("{rev}:{}{name}", repo.prefix);
    let config = Config::discover(&abs)?;
    let label = abs.to_string_lossy();
    match blueprint_spec::load_str(&label, &text, &LoadOptions { config }) {
        Ok(mut spec) => {
            spec.sources = relabel(&spec.sources, &abs, &object);
            Ok(AtRevision::Loaded(Box::new(spec)))
        }
        Err(mut e) => {
            e.sources = relabel(&e.sources, &abs, &object);
            Ok(AtRevision::Invalid(e))
        }
    }
}

/// The same sources with `from` shown as `to` (file ids keep their order).
fn relabel(sources: &SourceMap, from: &Path, to: &str) -> SourceMap {
    let mut out = SourceMap::new();
    for (_, f) in sources.files() {
        let path = if f.path == from {
            PathBuf::from(to)
        } else {
            f.path.clone()
        };
        out.add(path, f.text.clone());
    }
    out
}

/// `HEAD`'s commit in the repository holding `dir`, with `-dirty` when tracked
/// files differ from it: what a service built there reports as its `git_commit`
/// (the same rule as `blueprint_build::git_commit`). `None` outside git.
pub fn head_commit(dir: &Path) -> Option<String> {
    let head = git(dir, &["rev-parse", "HEAD"]).ok()?;
    let dirty = !git(dir, &["status", "--porcelain", "--untracked-files=no"])
        .ok()?
        .trim()
        .is_empty();
    Some(format!(
        "{}{}",
        head.trim(),
        if dirty { "-dirty" } else { "" }
    ))
}

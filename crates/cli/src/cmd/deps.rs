//! `dev deps`: each workspace crate's direct dependencies against the registry
//! index; `dev deps upgrade`: raise them in small batches, keeping the batches that
//! build and pass the tests.
//!
//! Versions come from the index cargo itself uses: `cargo update --dry-run`
//! refreshes cargo's cache of it (through cargo's own configuration: proxies,
//! mirrors, source replacement), and the cache is read with `tame-index`.
//! `--offline` reads the cache as it is.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use blueprint_arch::cargo::{Lockfile, Manifest};
use blueprint_arch::deps::{self, Index, IndexVersion, Member, Outcome, Report};
use serde::Deserialize;

#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct DepsArgs {
    #[command(subcommand)]
    pub command: Option<DepsCommand>,
    #[arg(long, value_enum, default_value_t, global = true)]
    pub format: DepsFormat,
    /// Read cargo's cached index as it is, without refreshing it.
    #[arg(long, global = true)]
    pub offline: bool,
    /// The workspace's Cargo.toml (default: found from the current folder upward).
    #[arg(long, global = true)]
    pub manifest_path: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum DepsCommand {
    /// Raise dependencies to their latest versions in small batches; keep each batch
    /// that builds and passes the tests, undo the others; write a summary.
    Upgrade(UpgradeArgs),
}

#[derive(Debug, clap::Args)]
pub struct UpgradeArgs {
    /// Print the batches, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the summary (Markdown) here.
    #[arg(long)]
    pub summary: Option<PathBuf>,
    /// The check each batch must pass (run with `sh -c` in the workspace root).
    #[arg(
        long,
        default_value = "cargo build --workspace --all-targets && cargo test --workspace"
    )]
    pub check: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DepsFormat {
    #[default]
    Text,
    Json,
}

const AFTER_HELP: &str = "\
--format json (dev deps):
  crates[]      name, manifest, service (the <key> of services/<key>/, or null),
                dependencies[]: name, kind (normal | dev | build), requirement,
                declared_in (the manifest holding the requirement: the root's for
                `workspace = true`), current (in Cargo.lock), latest_compatible (the
                newest the requirement accepts), latest (the newest release), status
                (up-to-date | compatible: cargo update takes it | incompatible: needs a
                new requirement | unknown: not in the index)
  duplicates[]  name, versions: packages locked at several versions
  lagging[]     crate, service, dependency, version, workspace: a crate holding an
                older version than another workspace crate does

dev deps upgrade: batch 1 takes every compatible update (cargo update); then one
batch per dependency needing a new requirement, edited where it is declared. Each
batch runs --check; a failing batch is undone and reported. --format json:
{batches: [{title, lockfile_only, moves, edits: [{manifest, key, from, to}],
outcome: {kept, log}}], manual: [{name, requirement, latest, declared_in}]}.";

pub fn run(args: DepsArgs) -> anyhow::Result<ExitCode> {
    let ws = CargoWorkspace::load(args.manifest_path.as_deref())?;
    if !args.offline {
        refresh_index(&ws.root)?;
    }
    let index = read_index(&ws)?;
    let report = ws.report(&index);
    match args.command {
        None => {
            let mut out = std::io::stdout().lock();
            match args.format {
                DepsFormat::Text => write!(out, "{}", deps::text(&report))?,
                DepsFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(DepsCommand::Upgrade(up)) => upgrade(&ws, &report, &up, args.format, args.offline),
    }
}

/// The Cargo workspace: its root, lock file and members' manifests.
struct CargoWorkspace {
    root: PathBuf,
    root_manifest: Manifest,
    lock: Lockfile,
    members: Vec<Member>,
}

#[derive(Deserialize)]
struct Metadata {
    workspace_root: PathBuf,
    packages: Vec<MetadataPackage>,
}

#[derive(Deserialize)]
struct MetadataPackage {
    name: String,
    manifest_path: PathBuf,
}

impl CargoWorkspace {
    fn load(manifest_path: Option<&Path>) -> anyhow::Result<CargoWorkspace> {
        let mut cmd = Command::new(cargo());
        cmd.args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ]);
        if let Some(p) = manifest_path {
            cmd.arg("--manifest-path").arg(p);
        }
        let out = cmd.output().context("cannot run cargo")?;
        if !out.status.success() {
            bail!(
                "cargo metadata: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let meta: Metadata = serde_json::from_slice(&out.stdout)
            .context("cargo metadata printed unexpected JSON")?;
        let root = meta.workspace_root;
        let read = |p: &Path| {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
        };
        let root_manifest = Manifest::parse("Cargo.toml", &read(&root.join("Cargo.toml"))?)?;
        let lock_path = root.join("Cargo.lock");
        let lock = if lock_path.is_file() {
            Lockfile::parse("Cargo.lock", &read(&lock_path)?)?
        } else {
            Lockfile::default()
        };
        let mut members = Vec::new();
        for p in meta.packages {
            let rel = crate::workspace::relative(&root, &p.manifest_path);
            members.push(Member {
                name: p.name,
                manifest: Manifest::parse(&rel, &read(&p.manifest_path)?)?,
                manifest_path: rel,
            });
        }
        Ok(CargoWorkspace {
            root,
            root_manifest,
            lock,
            members,
        })
    }

    fn report(&self, index: &Index) -> Report {
        deps::report(
            &self.members,
            ("Cargo.toml", &self.root_manifest),
            &self.lock,
            index,
        )
    }

    /// Every crates.io package named as a direct dependency.
    fn registry_packages(&self) -> std::collections::BTreeSet<String> {
        self.members
            .iter()
            .map(|m| &m.manifest)
            .chain(std::iter::once(&self.root_manifest))
            .flat_map(|m| &m.declarations)
            .filter(|d| !d.local && !d.inherited && d.registry.is_none())
            .map(|d| d.package.clone())
            .collect()
    }
}

/// The cargo that runs `dev` under `cargo run`, else the one on `PATH`.
fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Let cargo fetch the index entries of every dependency into its cache.
fn refresh_index(root: &Path) -> anyhow::Result<()> {
    let out = Command::new(cargo())
        .args(["update", "--dry-run"])
        .current_dir(root)
        .output()
        .context("cannot run cargo")?;
    if !out.status.success() {
        bail!(
            "cannot refresh the registry index (`cargo update --dry-run`: {}); \
             use --offline to read cargo's cached index as it is",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Versions of the workspace's registry dependencies from cargo's index cache (or
/// the local registry crates.io is replaced with).
fn read_index(ws: &CargoWorkspace) -> anyhow::Result<Index> {
    use tame_index::index::{ComboIndexCache, FileLock, IndexLocation, IndexUrl};
    let config_root = tame_index::PathBuf::from_path_buf(ws.root.clone()).ok();
    let url = IndexUrl::crates_io(config_root, None, None)
        .context("cannot locate the crates.io index cargo uses")?;
    let cache = ComboIndexCache::new(IndexLocation::new(url))
        .context("cannot open the crates.io index cargo uses")?;
    let lock = FileLock::unlocked();
    let mut index = Index::new();
    for name in ws.registry_packages() {
        let Ok(krate_name) = tame_index::KrateName::try_from(name.as_str()) else {
            continue;
        };
        let Some(entry) = cache
            .cached_krate(krate_name, &lock)
            .with_context(|| format!("reading the index entry of {name}"))?
        else {
            continue;
        };
        let krate = entry
            .deserialize()
            .with_context(|| format!("reading the index entry of {name}"))?;
        let versions = krate
            .versions
            .iter()
            .filter_map(|v| {
                Some(IndexVersion {
                    version: v.version.parse().ok()?,
                    yanked: v.yanked,
                })
            })
            .collect();
        index.insert(name, versions);
    }
    Ok(index)
}

fn upgrade(
    ws: &CargoWorkspace,
    report: &Report,
    args: &UpgradeArgs,
    format: DepsFormat,
    offline: bool,
) -> anyhow::Result<ExitCode> {
    let plan = deps::plan(report);
    if args.dry_run {
        let mut out = std::io::stdout().lock();
        match format {
            DepsFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&plan)?)?,
            DepsFormat::Text => {
                for (i, b) in plan.batches.iter().enumerate() {
                    writeln!(out, "batch {}: {}", i + 1, b.title)?;
                    for m in &b.moves {
                        writeln!(out, "  {m}")?;
                    }
                    for e in &b.edits {
                        writeln!(
                            out,
                            "  {}: {} = {:?} -> {:?}",
                            e.manifest, e.key, e.from, e.to
                        )?;
                    }
                }
                for m in &plan.manual {
                    writeln!(
                        out,
                        "by hand: {} {:?} (latest {}) in {}",
                        m.name, m.requirement, m.latest, m.declared_in
                    )?;
                }
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut outcomes = Vec::new();
    for batch in &plan.batches {
        if batch.lockfile_only && offline {
            eprintln!("skipping `{}`: cargo update needs the network", batch.title);
            continue;
        }
        eprintln!("upgrading: {}", batch.title);
        let outcome = apply_batch(ws, batch, &args.check)?;
        eprintln!(
            "  {}",
            if outcome.kept {
                "kept"
            } else {
                "broke: undone"
            }
        );
        outcomes.push((batch.clone(), outcome));
    }
    let summary = deps::summary_markdown(&outcomes, &plan.manual);
    if let Some(path) = &args.summary {
        std::fs::write(path, &summary)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    match format {
        DepsFormat::Text => write!(out, "{summary}")?,
        DepsFormat::Json => {
            let batches: Vec<serde_json::Value> = outcomes
                .iter()
                .map(|(b, o)| {
                    let mut v = serde_json::to_value(b).unwrap_or_default();
                    v["outcome"] = serde_json::to_value(o).unwrap_or_default();
                    v
                })
                .collect();
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "batches": batches,
                    "manual": plan.manual,
                }))?
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Apply one batch and run the check; undo it when the check fails.
fn apply_batch(ws: &CargoWorkspace, batch: &deps::Batch, check: &str) -> anyhow::Result<Outcome> {
    let mut touched: Vec<PathBuf> = vec![ws.root.join("Cargo.lock")];
    touched.extend(batch.edits.iter().map(|e| ws.root.join(&e.manifest)));
    touched.sort();
    touched.dedup();
    let backup: Vec<(PathBuf, Option<String>)> = touched
        .iter()
        .map(|p| (p.clone(), std::fs::read_to_string(p).ok()))
        .collect();
    let restore = || -> anyhow::Result<()> {
        for (path, text) in &backup {
            match text {
                Some(t) => std::fs::write(path, t)
                    .with_context(|| format!("cannot restore {}", path.display()))?,
                None => {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        Ok(())
    };
    let result = (|| -> anyhow::Result<Outcome> {
        if batch.lockfile_only {
            let out = Command::new(cargo())
                .arg("update")
                .current_dir(&ws.root)
                .output()
                .context("cannot run cargo")?;
            if !out.status.success() {
                return Ok(failed(&out));
            }
        }
        for e in &batch.edits {
            let path = ws.root.join(&e.manifest);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let edited = deps::set_requirement(&e.manifest, &text, &e.table, &e.key, &e.to)?;
            std::fs::write(&path, edited)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        let out = Command::new("sh")
            .args(["-c", check])
            .current_dir(&ws.root)
            .output()
            .context("cannot run the check")?;
        Ok(if out.status.success() {
            Outcome {
                kept: true,
                log: String::new(),
            }
        } else {
            failed(&out)
        })
    })();
    match result {
        Ok(o) if o.kept => Ok(o),
        Ok(o) => {
            restore()?;
            Ok(o)
        }
        Err(e) => {
            restore()?;
            Err(e)
        }
    }
}

/// A failed command's outcome: the last lines of what it printed.
fn failed(out: &std::process::Output) -> Outcome {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    let mut log = lines[lines.len().saturating_sub(30)..].join("\n");
    if !log.is_empty() {
        log.push('\n');
    }
    log.push_str(&format!("({})", out.status));
    Outcome { kept: false, log }
}

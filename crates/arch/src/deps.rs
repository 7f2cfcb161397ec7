//! Dependency tracking and upgrades.
//!
//! [`report`]: for each workspace crate, each direct registry dependency with the
//! version `Cargo.lock` holds, the newest version its requirement accepts and the
//! newest there is (from the registry index); names locked at several versions;
//! crates that hold an older version of a dependency than other crates of the
//! workspace. [`plan`]: the upgrade in small batches — first every compatible
//! update (`Cargo.lock` only), then one batch per dependency whose newest version
//! needs a new requirement, each edited where it is declared ([`set_requirement`],
//! keeping the manifest's layout).

use std::collections::{BTreeMap, BTreeSet};

use semver::{Version, VersionReq};
use serde::Serialize;

use crate::cargo::{CargoError, Declaration, Lockfile, Manifest};

/// One version of a crate in the registry index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexVersion {
    pub version: Version,
    pub yanked: bool,
}

/// Versions by crate name; a name absent from the map is unknown to the index.
pub type Index = BTreeMap<String, Vec<IndexVersion>>;

/// A workspace crate.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    /// Its manifest, relative to the workspace root.
    pub manifest_path: String,
    pub manifest: Manifest,
}

impl Member {
    /// The service whose code folder holds it (`services/<key>/...`).
    pub fn service(&self) -> Option<&str> {
        let rest = self.manifest_path.strip_prefix("services/")?;
        rest.split_once('/').map(|(key, _)| key)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    UpToDate,
    /// A newer version fits the requirement: `cargo update` takes it.
    Compatible,
    /// The newest version needs a new requirement.
    Incompatible,
    /// Not in the index (another registry, or not fetched).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    /// The package.
    pub name: String,
    /// `normal`, `dev` or `build`.
    pub kind: &'static str,
    pub requirement: String,
    /// The manifest the requirement is written in (the root's for `workspace = true`).
    pub declared_in: String,
    /// The requirement's table there, dotted.
    #[serde(skip)]
    pub table: Vec<String>,
    /// The key in that table.
    #[serde(skip)]
    pub key: String,
    /// The version in `Cargo.lock`.
    pub current: Option<String>,
    /// The newest version the requirement accepts.
    pub latest_compatible: Option<String>,
    /// The newest version (pre-releases and yanked versions left out).
    pub latest: Option<String>,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrateDeps {
    pub name: String,
    pub manifest: String,
    pub service: Option<String>,
    pub dependencies: Vec<Dependency>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Duplicate {
    pub name: String,
    pub versions: Vec<String>,
}

/// A crate holding an older version of a dependency than another crate of the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lag {
    #[serde(rename = "crate")]
    pub crate_name: String,
    pub service: Option<String>,
    pub dependency: String,
    pub version: String,
    /// The newest version another workspace crate holds.
    pub workspace: String,
}

/// `dev deps --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub crates: Vec<CrateDeps>,
    pub duplicates: Vec<Duplicate>,
    pub lagging: Vec<Lag>,
}

/// The report for `members`; `root` is the workspace manifest (path, parsed), where
/// inherited requirements are written.
pub fn report(
    members: &[Member],
    root: (&str, &Manifest),
    lock: &Lockfile,
    index: &Index,
) -> Report {
    let mut crates = Vec::new();
    for m in members {
        let mut deps = Vec::new();
        for d in &m.manifest.declarations {
            if d.is_workspace_entry() || d.local || d.registry.is_some() {
                continue;
            }
            let (declared_in, origin): (&str, &Declaration) = if d.inherited {
                match root
                    .1
                    .declarations
                    .iter()
                    .find(|w| w.is_workspace_entry() && w.key == d.key)
                {
                    Some(w) if !w.local && w.registry.is_none() => (root.0, w),
                    _ => continue,
                }
            } else {
                (m.manifest_path.as_str(), d)
            };
            let Some(requirement) = origin.requirement.clone() else {
                continue;
            };
            deps.push(dependency(
                &m.name,
                &origin.package,
                d.kind(),
                requirement,
                declared_in,
                origin,
                lock,
                index,
            ));
        }
        deps.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        deps.dedup_by(|a, b| {
            a.kind == b.kind && a.name == b.name && a.requirement == b.requirement
        });
        crates.push(CrateDeps {
            name: m.name.clone(),
            manifest: m.manifest_path.clone(),
            service: m.service().map(String::from),
            dependencies: deps,
        });
    }
    crates.sort_by(|a, b| a.name.cmp(&b.name));
    let duplicates = lock
        .duplicates()
        .into_iter()
        .map(|(name, versions)| Duplicate { name, versions })
        .collect();
    let lagging = lagging(&crates);
    Report {
        crates,
        duplicates,
        lagging,
    }
}

#[allow(clippy::too_many_arguments)]
fn dependency(
    member: &str,
    package: &str,
    kind: &'static str,
    requirement: String,
    declared_in: &str,
    origin: &Declaration,
    lock: &Lockfile,
    index: &Index,
) -> Dependency {
    let req = VersionReq::parse(&requirement).ok();
    let current = lock.workspace_package(member).and_then(|p| {
        let candidates: Vec<&str> = p
            .dependencies
            .iter()
            .filter_map(|e| lock.resolve(e))
            .filter(|l| l.name == package)
            .map(|l| l.version.as_str())
            .collect();
        candidates
            .iter()
            .find(|v| {
                req.as_ref()
                    .zip(Version::parse(v).ok())
                    .is_some_and(|(r, v)| r.matches(&v))
            })
            .or(candidates.first())
            .map(|v| v.to_string())
    });
    let versions = index.get(package);
    let released = |v: &&IndexVersion| !v.yanked && v.version.pre.is_empty();
    let latest = versions.and_then(|vs| vs.iter().filter(released).map(|v| &v.version).max());
    let latest_compatible = versions.and_then(|vs| {
        vs.iter()
            .filter(released)
            .map(|v| &v.version)
            .filter(|v| req.as_ref().is_some_and(|r| r.matches(v)))
            .max()
    });
    let current_version = current.as_deref().and_then(|c| Version::parse(c).ok());
    let status = match (latest, &req) {
        (None, _) | (_, None) => Status::Unknown,
        (Some(l), Some(r)) if !r.matches(l) => Status::Incompatible,
        _ => match (&current_version, latest_compatible) {
            (Some(c), Some(lc)) if c < lc => Status::Compatible,
            (None, _) => Status::Unknown,
            _ => Status::UpToDate,
        },
    };
    Dependency {
        name: package.to_string(),
        kind,
        requirement,
        declared_in: declared_in.to_string(),
        table: origin.table.clone(),
        key: origin.key.clone(),
        current,
        latest_compatible: latest_compatible.map(Version::to_string),
        latest: latest.map(Version::to_string),
        status,
    }
}

fn lagging(crates: &[CrateDeps]) -> Vec<Lag> {
    let mut newest: BTreeMap<&str, Version> = BTreeMap::new();
    for c in crates {
        for d in &c.dependencies {
            if let Some(v) = d.current.as_deref().and_then(|v| Version::parse(v).ok()) {
                let e = newest.entry(&d.name).or_insert_with(|| v.clone());
                if v > *e {
                    *e = v;
                }
            }
        }
    }
    let mut out = Vec::new();
    for c in crates {
        let mut seen = BTreeSet::new();
        for d in &c.dependencies {
            let Some(v) = d.current.as_deref().and_then(|v| Version::parse(v).ok()) else {
                continue;
            };
            if let Some(top) = newest.get(d.name.as_str())
                && v < *top
                && seen.insert(&d.name)
            {
                out.push(Lag {
                    crate_name: c.name.clone(),
                    service: c.service.clone(),
                    dependency: d.name.clone(),
                    version: v.to_string(),
                    workspace: top.to_string(),
                });
            }
        }
    }
    out
}

/// A new requirement written into a manifest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Edit {
    pub manifest: String,
    #[serde(skip)]
    pub table: Vec<String>,
    pub key: String,
    pub from: String,
    pub to: String,
}

/// One step of an upgrade: applied, built and tested together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Batch {
    pub title: String,
    /// Compatible updates: `Cargo.lock` only (`cargo update`), no edit.
    pub lockfile_only: bool,
    /// What moves: `name current -> target`.
    pub moves: Vec<String>,
    pub edits: Vec<Edit>,
}

/// Dependencies that need a hand: their requirement is not one we can rewrite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manual {
    pub name: String,
    pub requirement: String,
    pub latest: String,
    pub declared_in: String,
}

/// The upgrade: batches in order, and what must be upgraded by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpgradePlan {
    pub batches: Vec<Batch>,
    pub manual: Vec<Manual>,
}

pub fn plan(report: &Report) -> UpgradePlan {
    let mut compatible = BTreeSet::new();
    let mut majors: BTreeMap<String, (BTreeSet<Edit>, BTreeSet<String>)> = BTreeMap::new();
    let mut manual = BTreeSet::new();
    for d in report.crates.iter().flat_map(|c| &c.dependencies) {
        if matches!(d.status, Status::Compatible | Status::Incompatible)
            && let (Some(c), Some(l)) = (&d.current, &d.latest_compatible)
            && c != l
        {
            compatible.insert(format!("{} {c} -> {l}", d.name));
        }
        match d.status {
            Status::Incompatible => {
                let Some(latest) = d.latest.as_deref().and_then(|l| Version::parse(l).ok()) else {
                    continue;
                };
                match bump_requirement(&d.requirement, &latest) {
                    Some(to) => {
                        let entry = majors.entry(d.name.clone()).or_default();
                        entry.0.insert(Edit {
                            manifest: d.declared_in.clone(),
                            table: d.table.clone(),
                            key: d.key.clone(),
                            from: d.requirement.clone(),
                            to,
                        });
                        entry.1.insert(format!(
                            "{} {} -> {latest}",
                            d.name,
                            d.current.as_deref().unwrap_or(&d.requirement)
                        ));
                    }
                    None => {
                        manual.insert((
                            d.name.clone(),
                            d.requirement.clone(),
                            latest.to_string(),
                            d.declared_in.clone(),
                        ));
                    }
                }
            }
            Status::Compatible | Status::UpToDate | Status::Unknown => {}
        }
    }
    let mut batches = Vec::new();
    if !compatible.is_empty() {
        batches.push(Batch {
            title: format!("{} compatible update(s)", compatible.len()),
            lockfile_only: true,
            moves: compatible.into_iter().collect(),
            edits: Vec::new(),
        });
    }
    for (name, (edits, moves)) in majors {
        let edits: Vec<Edit> = edits.into_iter().collect();
        let to = edits.first().map(|e| e.to.clone()).unwrap_or_default();
        batches.push(Batch {
            title: format!("{name} {to}"),
            lockfile_only: false,
            moves: moves.into_iter().collect(),
            edits,
        });
    }
    UpgradePlan {
        batches,
        manual: manual
            .into_iter()
            .map(|(name, requirement, latest, declared_in)| Manual {
                name,
                requirement,
                latest,
                declared_in,
            })
            .collect(),
    }
}

/// The requirement `req` rewritten to accept `latest`, in the same style: the
/// same operator and as many version components (`"1"` → `"2"`, `"0.4"` →
/// `"0.5"`, `"~1.2.3"` → `"~2.0.1"`). `None` for requirements of several
/// comparators or other operators.
pub fn bump_requirement(req: &str, latest: &Version) -> Option<String> {
    let req = req.trim();
    if req.contains(',') || req.contains('*') {
        return None;
    }
    let (op, rest) = match req.chars().next()? {
        '^' | '~' | '=' => req.split_at(1),
        c if c.is_ascii_digit() => ("", req),
        _ => return None,
    };
    let rest = rest.trim();
    let parts = rest.split('-').next()?.split('.').count();
    let text = match (op, parts) {
        ("=", _) | (_, 3) => latest.to_string(),
        (_, 2) => format!("{}.{}", latest.major, latest.minor),
        (_, 1) if latest.major == 0 => format!("0.{}", latest.minor),
        (_, 1) => latest.major.to_string(),
        _ => return None,
    };
    let new = format!("{op}{text}");
    VersionReq::parse(&new)
        .ok()
        .filter(|r| r.matches(latest))
        .map(|_| new)
}

/// `manifest` with the requirement of `key` in `table` set to `requirement`,
/// everything else (layout, comments, other keys) kept.
pub fn set_requirement(
    file: &str,
    manifest: &str,
    table: &[String],
    key: &str,
    requirement: &str,
) -> Result<String, CargoError> {
    let err = |message: String| CargoError {
        file: file.to_string(),
        message,
    };
    let mut doc: toml_edit::DocumentMut = manifest.parse().map_err(|e| err(format!("{e}")))?;
    let mut item: &mut toml_edit::Item = doc.as_item_mut();
    for part in table {
        item = item
            .get_mut(part.as_str())
            .ok_or_else(|| err(format!("no [{}] table", table.join("."))))?;
    }
    let entry = item
        .get_mut(key)
        .ok_or_else(|| err(format!("no `{key}` in [{}]", table.join("."))))?;
    if let Some(value) = entry.as_value_mut()
        && value.is_str()
    {
        let decor = value.decor().clone();
        *value = toml_edit::Value::from(requirement);
        *value.decor_mut() = decor;
    } else if let Some(t) = entry.as_table_like_mut() {
        match t.get_mut("version").and_then(|v| v.as_value_mut()) {
            Some(v) => {
                let decor = v.decor().clone();
                *v = toml_edit::Value::from(requirement);
                *v.decor_mut() = decor;
            }
            None => {
                return Err(err(format!(
                    "`{key}` in [{}] has no version",
                    table.join(".")
                )));
            }
        }
    } else {
        return Err(err(format!(
            "`{key}` in [{}] is neither a version nor a table",
            table.join(".")
        )));
    }
    Ok(doc.to_string())
}

/// The upgrade summary as Markdown (the weekly pull request's description).
pub fn summary_markdown(outcomes: &[(Batch, Outcome)], manual: &[Manual]) -> String {
    use std::fmt::Write as _;
    let mut s = String::from("# Dependency upgrade\n\n");
    let moved: Vec<_> = outcomes.iter().filter(|(_, o)| o.kept).collect();
    let broke: Vec<_> = outcomes.iter().filter(|(_, o)| !o.kept).collect();
    if outcomes.is_empty() {
        s.push_str("Everything is up to date.\n");
    }
    if !moved.is_empty() {
        let _ = writeln!(s, "## Moved ({} batch(es))\n", moved.len());
        for (b, _) in &moved {
            let _ = writeln!(s, "- **{}**", b.title);
            for m in &b.moves {
                let _ = writeln!(s, "  - {m}");
            }
        }
        s.push('\n');
    }
    if !broke.is_empty() {
        let _ = writeln!(
            s,
            "## Broke: left as they were ({} batch(es))\n",
            broke.len()
        );
        for (b, o) in &broke {
            let _ = writeln!(s, "- **{}**", b.title);
            for m in &b.moves {
                let _ = writeln!(s, "  - {m}");
            }
            let _ = writeln!(s, "\n  ```text");
            for line in o.log.lines() {
                let _ = writeln!(s, "  {line}");
            }
            let _ = writeln!(s, "  ```");
        }
        s.push('\n');
    }
    if !manual.is_empty() {
        let _ = writeln!(s, "## To upgrade by hand\n");
        for m in manual {
            let _ = writeln!(
                s,
                "- {} `{}` (latest {}) in {}",
                m.name, m.requirement, m.latest, m.declared_in
            );
        }
    }
    s
}

/// How a batch went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Built and passed the tests: kept.
    pub kept: bool,
    /// The end of the failing command's output.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub log: String,
}

/// Human-readable report.
pub fn text(report: &Report) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    for c in &report.crates {
        let behind: Vec<&Dependency> = c
            .dependencies
            .iter()
            .filter(|d| matches!(d.status, Status::Compatible | Status::Incompatible))
            .collect();
        let service = c
            .service
            .as_deref()
            .map(|s| format!(" (service {s})"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "{}{service}: {} dependencies, {} behind",
            c.name,
            c.dependencies.len(),
            behind.len()
        );
        for d in behind {
            let _ = writeln!(
                s,
                "  {:<24} {:<10} {} -> {} (latest {}){}",
                d.name,
                d.requirement,
                d.current.as_deref().unwrap_or("?"),
                d.latest_compatible.as_deref().unwrap_or("?"),
                d.latest.as_deref().unwrap_or("?"),
                if d.status == Status::Incompatible {
                    ", needs a new requirement"
                } else {
                    ""
                }
            );
        }
    }
    if !report.duplicates.is_empty() {
        let _ = writeln!(s, "\nlocked at several versions:");
        for d in &report.duplicates {
            let _ = writeln!(s, "  {} {}", d.name, d.versions.join(", "));
        }
    }
    if !report.lagging.is_empty() {
        let _ = writeln!(s, "\nbehind the rest of the workspace:");
        for l in &report.lagging {
            let _ = writeln!(
                s,
                "  {} holds {} {} (workspace: {})",
                l.crate_name, l.dependency, l.version, l.workspace
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("version")
    }

    #[test]
    fn requirements_keep_their_style() {
        let cases = [
            ("1", "2.3.4", Some("2")),
            ("0.4", "0.5.2", Some("0.5")),
            ("0", "1.0.0", Some("1")),
            ("0.1", "0.2.0", Some("0.2")),
            ("1.2.3", "2.0.1", Some("2.0.1")),
            ("^1.2", "2.1.0", Some("^2.1")),
            ("~1.2.3", "2.0.1", Some("~2.0.1")),
            ("=1.2.3", "2.0.1", Some("=2.0.1")),
            (">=1, <2", "2.0.0", None),
            ("*", "2.0.0", None),
            (">1", "2.0.0", None),
        ];
        for (req, latest, expected) in cases {
            assert_eq!(
                bump_requirement(req, &v(latest)).as_deref(),
                expected,
                "{req} for {latest}"
            );
        }
    }

    #[test]
    fn set_requirement_keeps_the_layout() {
        let text = "[package]\nname = \"x\"\n\n[dependencies]\n# serialisation\nserde = \"1\" # keep me\nsyn = { version = \"1\", features = [\"full\"] }\n\n[target.'cfg(unix)'.dependencies.libc]\nversion = \"0.1\"\n";
        let deps = vec!["dependencies".to_string()];
        let once = set_requirement("Cargo.toml", text, &deps, "serde", "2").expect("edit");
        assert_eq!(once, text.replace("serde = \"1\"", "serde = \"2\""));
        let twice = set_requirement("Cargo.toml", &once, &deps, "syn", "2").expect("edit");
        assert!(twice.contains("syn = { version = \"2\", features = [\"full\"] }"));
        let target: Vec<String> = ["target", "cfg(unix)", "dependencies"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let third = set_requirement("Cargo.toml", &twice, &target, "libc", "0.2").expect("edit");
        assert!(third.contains("[target.'cfg(unix)'.dependencies.libc]\nversion = \"0.2\""));
        assert!(set_requirement("Cargo.toml", text, &deps, "nope", "1").is_err());
    }
}

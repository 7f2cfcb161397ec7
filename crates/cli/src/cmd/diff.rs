//! `dev diff`: breaking changes between two versions of a spec.
//!
//! `dev diff OLD NEW` compares two files; `dev diff --against git:<rev> [SPEC...]`
//! compares each spec (default: every workspace spec, `[workspace] specs`, as
//! `dev lint` checks) with its committed version (read with `git show`; its imports
//! resolve from the working tree). Exit 1 when a breaking change is neither allowed
//! in `[diff] allow` nor covered by a major-version namespace bump.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use blueprint_diff::{Allowed, Category, Change, ChangeKind, DiffConfig, DiffSection, Report};
use blueprint_spec::config::Config;
use blueprint_spec::{LoadError, Span, Spec};

use crate::git::{self, AtRevision};
use crate::report;
use crate::workspace::Workspace;

#[derive(Debug, clap::Args)]
#[command(after_long_help = after_help())]
pub struct DiffArgs {
    /// `OLD NEW` spec files; with `--against`, the specs to compare with their
    /// committed versions (default: every workspace spec).
    #[arg(value_name = "SPEC")]
    pub specs: Vec<PathBuf>,
    /// Compare with a git revision of the workspace: `git:<rev>` (`git:main`, `git:HEAD~1`).
    #[arg(long, value_name = "git:REV")]
    pub against: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: DiffFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DiffFormat {
    /// Grouped breaking / non-breaking, with file:line:col of each change.
    #[default]
    Human,
    /// One JSON document with every comparison and change.
    Json,
    /// GitHub Actions annotations: blocking changes as errors, allowed ones as
    /// warnings, non-breaking ones as notices.
    Github,
}

fn after_help() -> String {
    let mut s = String::from(
        "Allowing breaking changes on purpose, in blueprint.toml:\n\n  [diff]\n  allow = [\n    \
         \"field-removed:models.user.fields.nickname\",  # <id>:<path glob>\n    \
         \"resources.internal_job.**\",                  # any change under a path\n  ]\n\n\
         In paths `*` matches within one segment and `**` across segments. A namespace moved \
         to a higher major version (io.acme.users.v0 -> io.acme.users.v1) allows every \
         breaking change (they are still reported).\n\n\
         Change ids (changes inside event models, reached from a `*_event` stream union, \
         are prefixed `event-`):\n",
    );
    for c in Category::ALL {
        let _ = writeln!(s, "  {:<36}{}", c.as_str(), c.description());
    }
    s
}

/// One old/new pair and what changed.
struct Comparison {
    old: Spec,
    new: Spec,
    report: Report,
}

pub fn run(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let mut comparisons = Vec::new();
    let mut new_specs = Vec::new();
    match &args.against {
        None => {
            let [old_path, new_path] = args.specs.as_slice() else {
                bail!(
                    "expected `dev diff OLD NEW` or `dev diff --against git:<rev> SPEC...` \
                     (got {} spec path(s))",
                    args.specs.len()
                );
            };
            let config = diff_config(new_path)?;
            let Some(old) = load_or_report(old_path, args.format)? else {
                return Ok(ExitCode::from(1));
            };
            let Some(new) = load_or_report(new_path, args.format)? else {
                return Ok(ExitCode::from(1));
            };
            let report = blueprint_diff::diff(&old, &new, &config);
            comparisons.push(Comparison { old, new, report });
        }
        Some(against) => {
            let rev = against.strip_prefix("git:").with_context(|| {
                format!("--against {against}: expected `git:<rev>`, e.g. `git:main`")
            })?;
            let specs = if args.specs.is_empty() {
                Workspace::discover()?.specs()?
            } else {
                args.specs.clone()
            };
            for path in &specs {
                let config = diff_config(path)?;
                let Some(new) = load_or_report(path, args.format)? else {
                    return Ok(ExitCode::from(1));
                };
                let old = match git::load_at_revision(path, rev)? {
                    AtRevision::Loaded(spec) => *spec,
                    AtRevision::Invalid(e) => {
                        print_load_error(&e, args.format)?;
                        return Ok(ExitCode::from(1));
                    }
                    AtRevision::Missing => {
                        new_specs.push(format!("{} (not in {rev})", path.display()));
                        continue;
                    }
                };
                let report = blueprint_diff::diff(&old, &new, &config);
                comparisons.push(Comparison { old, new, report });
            }
        }
    }
    let blocked = comparisons.iter().any(|c| c.report.is_blocked());
    let mut out = std::io::stdout().lock();
    match args.format {
        DiffFormat::Human => write!(out, "{}", human(&comparisons, &new_specs))?,
        DiffFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json(&comparisons, &new_specs, blocked))?
        )?,
        DiffFormat::Github => write!(out, "{}", github(&comparisons))?,
    }
    Ok(if blocked {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `[diff]` of the `blueprint.toml` governing `spec`.
fn diff_config(spec: &Path) -> anyhow::Result<DiffConfig> {
    let config = Config::discover(spec)?;
    let section: DiffSection = config.section("diff")?;
    Ok(DiffConfig::from_section(&section)?)
}

/// Load a spec (its warnings printed); an invalid one prints its diagnostics and
/// gives `None`.
fn load_or_report(path: &Path, format: DiffFormat) -> anyhow::Result<Option<Spec>> {
    match blueprint_spec::load(path) {
        Ok(spec) => {
            report::print_warnings(&spec, diagnostics_format(format))?;
            Ok(Some(spec))
        }
        Err(e) if e.is_io() => Err(e.into()),
        Err(e) => {
            print_load_error(&e, format)?;
            Ok(None)
        }
    }
}

/// Diagnostics go to stderr; stdout carries only the diff.
fn print_load_error(e: &LoadError, format: DiffFormat) -> anyhow::Result<()> {
    report::print_diagnostics(e.diagnostics.iter(), &e.sources, diagnostics_format(format))?;
    Ok(())
}

fn diagnostics_format(format: DiffFormat) -> report::Format {
    match format {
        DiffFormat::Human => report::Format::Human,
        DiffFormat::Json => report::Format::Json,
        DiffFormat::Github => report::Format::Github,
    }
}

// ---------------------------------------------------------------------------
// Output

#[derive(Debug, Clone, serde::Serialize)]
struct Location {
    file: String,
    line: usize,
    col: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

fn locate(spec: &Spec, span: Option<Span>) -> Option<Location> {
    let (path, line, col) = spec.sources.locate(span?)?;
    Some(Location {
        file: path.display().to_string(),
        line,
        col,
    })
}

fn root_file(spec: &Spec) -> String {
    spec.sources.files().next().map_or_else(
        || spec.service.name.clone(),
        |(_, f)| f.path.display().to_string(),
    )
}

/// Which changes a section of the human report lists.
type ChangeFilter = fn(&Change) -> bool;

fn human(comparisons: &[Comparison], new_specs: &[String]) -> String {
    let mut s = String::new();
    for spec in new_specs {
        let _ = writeln!(s, "{spec}: new spec, nothing to compare\n");
    }
    for c in comparisons {
        let r = &c.report;
        let count = |f: &dyn Fn(&Change) -> bool| r.changes.iter().filter(|c| f(c)).count();
        let blocking = count(&|c| c.is_blocking());
        let allowed = count(&|c| c.is_breaking() && !c.is_blocking());
        let non_breaking = count(&|c| !c.is_breaking());
        let _ = writeln!(s, "{} -> {}", root_file(&c.old), root_file(&c.new));
        if r.changes.is_empty() {
            let _ = writeln!(s, "no changes\n");
            continue;
        }
        if let Some((from, to)) = &r.major_version_bump {
            let _ = writeln!(
                s,
                "major version bump {from} -> {to}: breaking changes are allowed"
            );
        }
        let groups: [(&str, ChangeFilter); 3] = [
            ("Breaking", |c| c.is_blocking()),
            ("Breaking, allowed", |c| c.is_breaking() && !c.is_blocking()),
            ("Non-breaking", |c| !c.is_breaking()),
        ];
        for (title, keep) in groups {
            let changes: Vec<&Change> = r.changes.iter().filter(|c| keep(c)).collect();
            if changes.is_empty() {
                continue;
            }
            let _ = writeln!(s, "\n{title} ({}):", changes.len());
            for change in changes {
                let new = locate(&c.new, change.new_span);
                let old = locate(&c.old, change.old_span);
                let at = match (&new, &old) {
                    (Some(n), Some(o)) => format!("{n} (was {o})"),
                    (Some(n), None) => n.to_string(),
                    (None, Some(o)) => format!("{o} (old)"),
                    (None, None) => "-".to_string(),
                };
                let _ = writeln!(s, "  [{}] {}", change.id(), change.path);
                let _ = writeln!(s, "    {at}");
                let _ = writeln!(s, "    {}", change.message);
                match &change.allowed {
                    Some(Allowed::Rule { rule }) => {
                        let _ = writeln!(s, "    allowed by `{rule}`");
                    }
                    Some(Allowed::MajorVersion { .. }) => {
                        let _ = writeln!(s, "    allowed by the major version bump");
                    }
                    None => {}
                }
            }
        }
        let verdict = if blocking > 0 { "error" } else { "ok" };
        let _ = writeln!(
            s,
            "\n{verdict}: {blocking} breaking change(s) blocking, {allowed} allowed, {non_breaking} non-breaking\n"
        );
    }
    s
}

fn json(comparisons: &[Comparison], new_specs: &[String], blocked: bool) -> serde_json::Value {
    let list: Vec<serde_json::Value> = comparisons
        .iter()
        .map(|c| {
            let changes: Vec<serde_json::Value> = c
                .report
                .changes
                .iter()
                .map(|ch| {
                    serde_json::json!({
                        "kind": ch.kind,
                        "id": ch.id(),
                        "scope": ch.scope,
                        "category": ch.category,
                        "path": ch.path,
                        "message": ch.message,
                        "blocking": ch.is_blocking(),
                        "allowed": ch.allowed,
                        "old": locate(&c.old, ch.old_span),
                        "new": locate(&c.new, ch.new_span),
                    })
                })
                .collect();
            serde_json::json!({
                "old": root_file(&c.old),
                "new": root_file(&c.new),
                "blocked": c.report.is_blocked(),
                "major_version_bump": c.report.major_version_bump,
                "summary": {
                    "breaking": c.report.breaking().count(),
                    "blocking": c.report.blocking().count(),
                    "non_breaking": c.report.non_breaking().count(),
                },
                "changes": changes,
            })
        })
        .collect();
    serde_json::json!({
        "blocked": blocked,
        "comparisons": list,
        "new_specs": new_specs,
    })
}

fn github(comparisons: &[Comparison]) -> String {
    let mut s = String::new();
    for c in comparisons {
        for change in &c.report.changes {
            let level = match (change.kind, change.is_blocking()) {
                (ChangeKind::Breaking, true) => "error",
                (ChangeKind::Breaking, false) => "warning",
                (ChangeKind::NonBreaking, _) => "notice",
            };
            // Annotations point into the checkout: the new file, or an old one on disk.
            let at = locate(&c.new, change.new_span).or_else(|| {
                locate(&c.old, change.old_span).filter(|l| Path::new(&l.file).exists())
            });
            let mut props = Vec::new();
            if let Some(l) = at {
                props.push(format!("file={}", report::escape_property(&l.file)));
                props.push(format!("line={}", l.line));
                props.push(format!("col={}", l.col));
            }
            let title = match change.kind {
                ChangeKind::Breaking => format!("breaking change {}", change.id()),
                ChangeKind::NonBreaking => format!("change {}", change.id()),
            };
            props.push(format!("title={}", report::escape_property(&title)));
            let message = format!("{}: {}", change.path, change.message);
            let _ = writeln!(
                s,
                "::{level} {}::{}",
                props.join(","),
                report::escape_data(&message)
            );
        }
    }
    s
}

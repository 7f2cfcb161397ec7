//! `dev lint`: load specs and run the design rules over them.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use blueprint_lint::{LintConfig, lint, rules};
use blueprint_spec::config::Config;
use blueprint_spec::{Diagnostic, LoadOptions, Severity, SourceMap, load_with};

use crate::report::{Format, print_diagnostics, write_json_document};
use crate::workspace::Workspace;

/// Code the loader gives a spec file it cannot read.
const IO_ERROR_CODE: &str = "spec/io";

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Spec files to lint [default: the workspace's specs, `[workspace] specs` in
    /// blueprint.toml, `services/*/spec/*.json` when unset].
    pub files: Vec<PathBuf>,
    /// Format of the findings (printed on stderr) and of `--list-rules` (stdout).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Exit 1 when there is a finding of this severity or worse (the spec loader's
    /// warnings are shown but never fail the run).
    #[arg(long, value_enum, default_value_t = Deny::Warnings)]
    pub deny: Deny,
    /// Use this blueprint.toml instead of the one found above each spec.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Print every rule (id, category, severity, rationale) and exit.
    #[arg(long)]
    pub list_rules: bool,
}

/// The least severe finding that fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Deny {
    /// Warnings and errors fail.
    Warnings,
    /// Only errors fail; warnings are printed.
    Errors,
}

impl Deny {
    fn fails(self, severity: Severity) -> bool {
        match self {
            Deny::Warnings => true,
            Deny::Errors => severity == Severity::Error,
        }
    }
}

/// What one spec produced: its diagnostics and the sources they point into.
struct Outcome {
    sources: SourceMap,
    /// The loader's warnings of a valid spec first, then the lint findings (or
    /// the load errors of an invalid spec).
    diagnostics: Vec<Diagnostic>,
    /// How many of `diagnostics` are the loader's warnings: shown, counted, but
    /// never failing the run (the spec is valid; `--deny` is about findings).
    load_warnings: usize,
}

impl Outcome {
    fn findings(&self) -> &[Diagnostic] {
        &self.diagnostics[self.load_warnings..]
    }
}

pub fn run(args: LintArgs) -> anyhow::Result<ExitCode> {
    if args.list_rules {
        list_rules(args.format)?;
        return Ok(ExitCode::SUCCESS);
    }
    let explicit = match &args.config {
        // Absolute, so the workspace root (its folder) is never an empty path.
        Some(path) => Some(Config::load(&std::path::absolute(path)?)?),
        None => None,
    };
    let files = if args.files.is_empty() {
        workspace_files(explicit.as_ref())?
    } else {
        args.files.clone()
    };

    let mut lint_configs: HashMap<Option<PathBuf>, LintConfig> = HashMap::new();
    let mut outcomes = Vec::new();
    let mut unreadable = false;
    for file in &files {
        let config = match &explicit {
            Some(c) => c.clone(),
            None => Config::discover(file)?,
        };
        let lint_config = match lint_configs.get(&config.path) {
            Some(c) => c.clone(),
            None => {
                let c = LintConfig::from_config(&config)?;
                lint_configs.insert(config.path.clone(), c.clone());
                c
            }
        };
        let outcome = match load_with(file, &LoadOptions { config }) {
            Ok(spec) => {
                let mut diagnostics = spec.warnings.clone();
                diagnostics.extend(lint(&spec, &lint_config));
                Outcome {
                    sources: spec.sources,
                    diagnostics,
                    load_warnings: spec.warnings.len(),
                }
            }
            Err(e) => {
                unreadable |= e.diagnostics.iter().any(|d| d.code == IO_ERROR_CODE);
                Outcome {
                    sources: e.sources,
                    diagnostics: e.diagnostics.into_iter().collect(),
                    load_warnings: 0,
                }
            }
        };
        outcomes.push(outcome);
    }

    print(&outcomes, args.format)?;
    let count = |s: Severity| {
        outcomes
            .iter()
            .flat_map(|o| &o.diagnostics)
            .filter(|d| d.severity == s)
            .count()
    };
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    if args.format == Format::Human {
        eprintln!(
            "{errors} error{}, {warnings} warning{} in {} spec{}",
            plural(errors),
            plural(warnings),
            files.len(),
            plural(files.len())
        );
    }
    let failed = outcomes
        .iter()
        .flat_map(Outcome::findings)
        .any(|d| args.deny.fails(d.severity));
    Ok(match (unreadable, failed) {
        (true, _) => ExitCode::from(2),
        (false, true) => ExitCode::from(1),
        (false, false) => ExitCode::SUCCESS,
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The specs of the workspace around the current directory (or of `explicit`).
fn workspace_files(explicit: Option<&Config>) -> anyhow::Result<Vec<PathBuf>> {
    let workspace = match explicit {
        Some(c) => Workspace { config: c.clone() },
        None => Workspace::discover()?,
    };
    workspace.specs()
}

/// Findings go to stderr, as every diagnostic does.
fn print(outcomes: &[Outcome], format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        // One document for the whole run, whatever the number of specs.
        let list: Vec<_> = outcomes
            .iter()
            .flat_map(|o| o.diagnostics.iter().map(|d| d.to_json(&o.sources)))
            .collect();
        write_json_document(&mut std::io::stderr().lock(), list)?;
        return Ok(());
    }
    for o in outcomes {
        print_diagnostics(&o.diagnostics, &o.sources, format).context("writing diagnostics")?;
    }
    Ok(())
}

fn list_rules(format: Format) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if format == Format::Json {
        let list: Vec<_> = rules()
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "category": r.category,
                    "severity": r.severity,
                    "rationale": r.rationale,
                    "aliases": r.aliases,
                })
            })
            .collect();
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "rules": list }))?
        )?;
        return Ok(());
    }
    let width = rules().iter().map(|r| r.id.len()).max().unwrap_or(0);
    for r in rules() {
        writeln!(
            out,
            "{:width$}  {:8}  {:7}  {}",
            r.id,
            r.category.as_str(),
            r.severity.to_string(),
            r.rationale
        )?;
    }
    Ok(())
}

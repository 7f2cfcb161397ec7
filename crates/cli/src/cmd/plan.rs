//! `dev plan`: what to deploy, in which order, through which approvals.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use blueprint_arch::plan::{self, Scope};

use crate::changes::History;
use crate::workspace;

#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct PlanArgs {
    /// Plan what changed since this git revision (a tag, a branch, a commit),
    /// compared with the working tree. Without it, every service is planned.
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: PlanFormat,
    /// The blueprint.toml to read (default: found from the current folder upward).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PlanFormat {
    #[default]
    Text,
    Json,
}

const AFTER_HELP: &str = "\
A service has changed when its spec (compared as `dev diff` does, `[diff] allow`
respected), a file under services/<key>/, or a package it depends on (a registry
version in Cargo.lock, or a workspace crate whose files changed) changed. The
services that depend on a changed contract (compatible, breaking or new; not
descriptions only) are planned too.

Phases follow `dev graph`: a service is deployed after the producers of the
streams it consumes and the services it calls; services of one cycle share a
phase. A service with a database migrates it before its new code runs.
Environments come from blueprint.toml, in promotion order:

  [[deploy.environments]]
  name = \"staging\"
  [[deploy.environments]]
  name = \"production\"
  approval = true

Exit 1 when a breaking change is not allowed, or services call each other in a cycle.

--format json:
  since         the revision, or null (every service)
  changed       [names] that changed themselves
  dependents    [names] planned because they depend on a changed contract
  phases        [[names], ...] in deploy order, names sorted
  services[]    name, phase (1-based), migrate (bool: it owns a database),
                reasons[]: {kind: \"all\" | \"new\" | \"spec\" (contract:
                \"documentation\" | \"additive\" | \"breaking\" | \"blocked\") | \"code\"
                (files) | \"dependencies\" (packages) | \"depends-on\" (service)}
  environments  [{name, approval}] in promotion order: each runs every phase,
                after a person approves when approval is true
  blocked[]     service, changes: breaking changes nothing allows
  errors        [text]
  ok            whether the plan can run";

pub fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let config = workspace::config(args.config.as_deref())?;
    let Some(loaded) = workspace::load(config)? else {
        return Ok(ExitCode::from(1));
    };
    let plan = match &args.since {
        None => plan::plan(&loaded.graph, Scope::All, &loaded.deploy),
        Some(rev) => {
            let history = History::new(&loaded, false)?;
            let changes = loaded
                .workspace
                .services
                .iter()
                .map(|s| history.since(&s.name, rev))
                .collect::<anyhow::Result<Vec<_>>>()?;
            plan::plan(
                &loaded.graph,
                Scope::Since {
                    rev,
                    changes: &changes,
                },
                &loaded.deploy,
            )
        }
    };
    let out = match args.format {
        PlanFormat::Text => plan::text(&plan),
        PlanFormat::Json => format!("{}\n", serde_json::to_string_pretty(&plan)?),
    };
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(if plan.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

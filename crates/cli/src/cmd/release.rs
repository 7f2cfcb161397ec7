//! `dev release`: tag each service whose code or contract changed since its last
//! release, with the next semantic version. Run by CI on the release branch.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use blueprint_arch::plan::{Change, Contract};
use blueprint_arch::release::{self, Decision, Release};

use crate::changes::History;
use crate::workspace;

#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct ReleaseArgs {
    /// Decide and print, create no tag.
    #[arg(long)]
    pub dry_run: bool,
    /// Push the new tags to this remote (one atomic push).
    #[arg(long, value_name = "REMOTE", num_args = 0..=1, default_missing_value = "origin")]
    pub push: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: ReleaseFormat,
    /// The blueprint.toml to read (default: found from the current folder upward).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReleaseFormat {
    #[default]
    Text,
    Json,
}

const AFTER_HELP: &str = "\
Per service, from what changed since its newest tag <key>-v<version> reachable from
HEAD (as `dev plan --since` sees changes):
  breaking contract change  major, only when allowed ([diff] allow or a namespace
                            moved to a new major version); otherwise nothing is tagged
                            and the exit code is 1
  compatible change         minor (added or relaxed: operations, optional fields...)
  anything else             patch (code, dependencies, descriptions)
  nothing                   no release
The first release is 0.1.0, or N.0.0 for a namespace ending in .vN (N >= 1).
Tags are annotated, on HEAD; the working tree must be clean.

--format json: {releases: [{service, key, decision: \"release\" | \"unchanged\" |
\"refused\", previous, version, bump: \"first\" | \"patch\" | \"minor\" | \"major\",
changes (refused), tag, change: {contract, files, packages, blocking}}], tags: [created],
ok}";

pub fn run(args: ReleaseArgs) -> anyhow::Result<ExitCode> {
    let config = workspace::config(args.config.as_deref())?;
    let Some(loaded) = workspace::load(config)? else {
        return Ok(ExitCode::from(1));
    };
    let history = History::new(&loaded, true)?;
    let repo = history.repo();
    if !args.dry_run && !repo.is_clean()? {
        bail!("the working tree has changes: commit them first (tags name a commit)");
    }
    let mut releases = Vec::new();
    for svc in &loaded.workspace.services {
        let tags = repo.merged_tags(&format!("{}-v*", svc.key))?;
        let previous = release::latest(&svc.key, tags.iter().map(String::as_str));
        let change = match &previous {
            Some(v) => history.since(&svc.name, &release::tag(&svc.key, v))?,
            None => Change {
                contract: Contract::New,
                ..Change::unchanged(&svc.name)
            },
        };
        let decision = release::decide(
            previous.as_ref(),
            &change,
            release::namespace_major(&svc.namespace),
        );
        releases.push(Release::new(&svc.name, &svc.key, decision, change));
    }
    let refused = releases
        .iter()
        .any(|r| matches!(r.decision, Decision::Refused { .. }));
    let mut created = Vec::new();
    if !refused && !args.dry_run {
        for r in &releases {
            if let Some(tag) = &r.tag {
                repo.tag(tag, &r.message())?;
                created.push(tag.clone());
            }
        }
        if let Some(remote) = &args.push
            && !created.is_empty()
        {
            let mut push = vec!["push", "--atomic", remote.as_str()];
            let refs: Vec<String> = created.iter().map(|t| format!("refs/tags/{t}")).collect();
            push.extend(refs.iter().map(String::as_str));
            repo.git(&push)?;
        }
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        ReleaseFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "releases": releases,
                "tags": created,
                "ok": !refused,
            }))?
        )?,
        ReleaseFormat::Text => write!(out, "{}", text(&releases, &created, args.dry_run))?,
    }
    Ok(if refused {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn text(releases: &[Release], created: &[String], dry_run: bool) -> String {
    let mut s = String::new();
    for r in releases {
        match &r.decision {
            Decision::Unchanged { version } => {
                let _ = writeln!(s, "{}: unchanged since {version}", r.service);
            }
            Decision::Release {
                previous, version, ..
            } => {
                let from = previous.as_deref().unwrap_or("nothing");
                let _ = writeln!(s, "{}: {from} -> {version}", r.service);
            }
            Decision::Refused { changes, .. } => {
                let _ = writeln!(
                    s,
                    "{}: refused, breaking changes nothing allows:",
                    r.service
                );
                for c in changes {
                    let _ = writeln!(s, "  {c}");
                }
            }
        }
    }
    if releases
        .iter()
        .any(|r| matches!(r.decision, Decision::Refused { .. }))
    {
        let _ = writeln!(
            s,
            "\nerror: nothing tagged; allow the change in [diff] allow, or move the namespace to a new major version"
        );
    } else if dry_run {
        let _ = writeln!(s, "\ndry run: nothing tagged");
    } else if created.is_empty() {
        let _ = writeln!(s, "\nnothing to release");
    } else {
        let _ = writeln!(s, "\ntagged {}", created.join(", "));
    }
    s
}

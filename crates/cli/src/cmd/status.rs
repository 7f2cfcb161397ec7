//! `dev status`: per service, whether it runs, whether it is healthy, and whether
//! what runs is what the repository holds.
//!
//! The services are those `dev up` runs (a spec of `[workspace] specs` with
//! `services/<key>/Cargo.toml`). Each is looked for at the URL a running `dev up`
//! recorded in `.dev/up.json`, else on its configured port; it is asked its
//! healthcheck and version with a short timeout. Its `state` compares the version
//! answer with the working tree: `spec_hash` with the spec's `Spec::source_hash`,
//! `git_commit` with `HEAD` (and `-dirty` with uncommitted changes). Its key
//! metrics come from `/_internal_/metrics`; a service that delivers streams to
//! subscribers (the delivery service) lists them, with their figures, on
//! `/_internal_/subscriptions`.

use std::process::ExitCode;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::cmd::env;
use crate::git::Repo;
use crate::probe::{self, Health, Metrics, Subscription, Version};
use crate::services::{self, RunFile, Service};
use crate::workspace::{self, Workspace};

const JSON_HELP: &str = "\
Exit code: 0 when every service is healthy and up to date, else 1 (2: usage or I/O error).

JSON (`--format json`), services sorted by name:
  {\"env\": \"default\" | NAME (`--env`),
   \"rev\": null (the working tree) | the revision an environment is compared with,
   \"commit\": \"<HEAD>[-dirty]\" | the revision's commit | null,
   \"services\": [{
     \"name\": the spec's name, \"key\": its application key,
     \"url\": \"http://127.0.0.1:<port>\" | null (not running and no configured port),
     \"health\": \"healthy\" | \"unhealthy\" | \"down\",
     \"state\": \"up to date\" | \"stale\" | \"down\" (vs the working tree, or `rev`),
     \"reasons\": [why it is stale or unhealthy, in words],
     \"spec_hash\": the working tree's (or `rev`'s) spec hash,
     \"running\": {\"name\", \"version\", \"spec_hash\", \"git_commit\"} | null (its version answer),
     \"metrics\": null | {\"requests\", \"server_errors\", \"latency_p50\", \"latency_p99\" (seconds | null),
                   \"queue_depth\" (journal records not yet published),
                   \"published\": {<stream>: {\"events\", \"today\", \"failures\"}},
                   \"consumed\": {<stream>: {\"lag\", \"applied\", \"applied_today\", \"failed\", \"parked\"}}}
                  (counts since the process started; `today` since UTC midnight),
     \"supervisor\": null | {\"pid\", \"state\": \"starting\" | \"running\" | \"restarting\" | \"failed\" | \"stopping\",
                      \"restarts\", \"last_exit\"} (what a running `dev up` knows; for an
                      environment its recorded pid, \"running\" or \"exited\"),
     \"subscriptions\": null (the service lists none) | [{\"id\", \"agency_id\", \"stream\",
                      \"mode\": \"push\" | \"pull\", \"status\": \"creating\" | \"active\" | \"paused\" | \"disabled\",
                      \"delivered\", \"pending\", \"failing\", \"leased\", \"dead\" (messages),
                      \"lag\" (events not taken in yet)}] (from /_internal_/subscriptions)}]}";

#[derive(Debug, clap::Args)]
#[command(after_long_help = JSON_HELP)]
pub struct StatusArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
    pub format: StatusFormat,
    /// Check a `dev env` environment instead of `dev up`'s (`default`).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// With --env: the revision to compare with (default: the one it was created
    /// from, resolved again).
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    /// A table.
    Text,
    /// One JSON document (see `--help`).
    Json,
}

/// Whether what runs is what the working tree holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum State {
    #[serde(rename = "up to date")]
    UpToDate,
    #[serde(rename = "stale")]
    Stale,
    #[serde(rename = "down")]
    Down,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::UpToDate => "up to date",
            State::Stale => "stale",
            State::Down => "down",
        }
    }
}

#[derive(Debug, Serialize)]
struct Report {
    env: String,
    rev: Option<String>,
    commit: Option<String>,
    services: Vec<ServiceStatus>,
}

#[derive(Debug, Serialize)]
struct ServiceStatus {
    name: String,
    key: String,
    url: Option<String>,
    health: Health,
    state: State,
    reasons: Vec<String>,
    spec_hash: String,
    running: Option<Version>,
    metrics: Option<Metrics>,
    supervisor: Option<Supervisor>,
    subscriptions: Option<Vec<Subscription>>,
}

#[derive(Debug, Serialize)]
struct Supervisor {
    pid: Option<u32>,
    state: &'static str,
    restarts: u32,
    last_exit: Option<String>,
}

pub fn run(args: StatusArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(status(args))
}

/// What to check: the services of an environment, where they run and what they
/// should be running.
struct Target {
    env: String,
    /// The revision compared with (`None`: the working tree).
    rev: Option<String>,
    /// Its commit (`-dirty` for a working tree with changes).
    commit: Option<String>,
    /// What `commit` is called in reasons: `HEAD`, or the revision.
    commit_label: String,
    /// What the spec hashes are of: `the working tree`, or `<rev>`.
    source_label: String,
    services: Vec<Checked>,
}

struct Checked {
    name: String,
    key: String,
    url: Option<String>,
    /// The spec hash it should be running.
    spec_hash: String,
    supervisor: Option<Supervisor>,
}

/// `dev up`'s environment, against the working tree.
fn default_target(workspace: &Workspace) -> Result<Option<Target>> {
    let Some(loaded) = workspace::load(workspace.config.clone())? else {
        return Ok(None);
    };
    // The run file of a `dev up` that still runs.
    let run = RunFile::read(&workspace.dev_dir()).filter(|f| crate::supervise::alive(f.pid));
    let services = services::services(&loaded)?
        .into_iter()
        .filter(|s| s.code.is_some())
        .map(|service| {
            let recorded = run.as_ref().and_then(|f| f.service(&service.name));
            Checked {
                url: recorded
                    .map(|r| r.url.clone())
                    .or_else(|| service.port.map(services::local_url)),
                supervisor: recorded.map(|r| Supervisor {
                    pid: r.pid,
                    state: r.state.as_str(),
                    restarts: r.restarts,
                    last_exit: r.last_exit.clone(),
                }),
                name: service.name,
                key: service.key,
                spec_hash: service.spec_hash,
            }
        })
        .collect();
    Ok(Some(Target {
        env: env::DEFAULT.into(),
        rev: None,
        commit: crate::git::head_commit(workspace.root()),
        commit_label: "HEAD".into(),
        source_label: "the working tree".into(),
        services,
    }))
}

/// A `dev env` environment, against a revision: by default the one it was created
/// from, resolved again (an environment of `main` is stale once `main` moves).
fn env_target(workspace: &Workspace, name: &str, rev: Option<&str>) -> Result<Option<Target>> {
    let (_, file) = env::open(workspace, name)?;
    let rev = rev.unwrap_or(&file.rev).to_owned();
    let repo = Repo::open(workspace.root())?;
    let commit = repo.commit(&rev)?;
    let snapshot = repo.snapshot(&commit)?;
    let config = workspace::config(Some(&snapshot.root.join("blueprint.toml")))
        .with_context(|| format!("{rev} has no blueprint.toml"))?;
    let Some(loaded) = workspace::load(config)? else {
        return Ok(None);
    };
    let hashes: Vec<Service> = services::services(&loaded)?;
    let services = file
        .services
        .iter()
        .map(|s| Checked {
            name: s.name.clone(),
            key: s.key.clone(),
            url: Some(s.url.clone()),
            spec_hash: hashes
                .iter()
                .find(|h| h.name == s.name)
                .map(|h| h.spec_hash.clone())
                .unwrap_or_default(),
            supervisor: Some(Supervisor {
                pid: Some(s.pid),
                state: if crate::supervise::running(s.pid) {
                    "running"
                } else {
                    "exited"
                },
                restarts: 0,
                last_exit: None,
            }),
        })
        .collect();
    Ok(Some(Target {
        env: name.to_owned(),
        source_label: rev.clone(),
        commit_label: rev.clone(),
        rev: Some(rev),
        commit: Some(commit),
        services,
    }))
}

async fn status(args: StatusArgs) -> Result<ExitCode> {
    let workspace = Workspace {
        config: workspace::config(None)?,
    };
    let target = match args.env.as_deref() {
        None | Some(env::DEFAULT) => {
            if args.rev.is_some() {
                anyhow::bail!("--rev compares a `dev env` environment (with --env NAME)");
            }
            default_target(&workspace)?
        }
        Some(name) => env_target(&workspace, name, args.rev.as_deref())?,
    };
    let Some(mut target) = target else {
        return Ok(ExitCode::from(1));
    };
    if let (Some(rev), Some(commit)) = (&target.rev, &target.commit) {
        eprintln!(
            "environment {}, compared with {rev} ({})",
            target.env,
            commit.chars().take(12).collect::<String>()
        );
    }
    target.services.sort_by(|a, b| a.name.cmp(&b.name));
    let client = probe::client();

    let checks = target.services.iter().map(|service| {
        let url = service.url.clone();
        let client = &client;
        async move {
            let Some(url) = url else {
                return ((Health::Down, None), None, None, None);
            };
            tokio::join!(
                probe::health(client, &url),
                probe::version(client, &url),
                probe::metrics(client, &url),
                probe::subscriptions(client, &url)
            )
        }
    });
    let answers = futures_util::future::join_all(checks).await;

    let mut report = Report {
        env: target.env.clone(),
        rev: target.rev.clone(),
        commit: target.commit.clone(),
        services: Vec::new(),
    };
    let against = Against {
        commit: target.commit.as_deref(),
        commit_label: &target.commit_label,
        source_label: &target.source_label,
    };
    for (service, ((health, unhealthy), version, metrics, subscriptions)) in
        target.services.into_iter().zip(answers)
    {
        let (state, mut reasons) = judge(health, version.as_ref(), &service.spec_hash, &against);
        if let Some(body) = unhealthy {
            reasons.insert(0, format!("healthcheck: {body}"));
        }
        report.services.push(ServiceStatus {
            name: service.name,
            key: service.key,
            url: service.url,
            health,
            state,
            reasons,
            spec_hash: service.spec_hash,
            running: version,
            metrics,
            supervisor: service.supervisor,
            subscriptions,
        });
    }
    let ok = report
        .services
        .iter()
        .all(|s| s.health == Health::Healthy && s.state == State::UpToDate);
    match args.format {
        StatusFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        StatusFormat::Text => {
            for line in text(&report) {
                println!("{line}");
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn text(report: &Report) -> Vec<String> {
    let header = [
        "service",
        "url",
        "health",
        "state",
        "restarts",
        "requests",
        "p99",
        "events today",
        "lag",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for s in &report.services {
        let row = [
            s.name.clone(),
            s.url.clone().unwrap_or_else(|| "-".into()),
            s.health.as_str().to_owned(),
            s.state.as_str().to_owned(),
            s.supervisor.as_ref().map_or_else(
                || "-".to_owned(),
                |sup| match sup.state {
                    "running" | "starting" => sup.restarts.to_string(),
                    other => format!("{} ({other})", sup.restarts),
                },
            ),
        ];
        let figures = match &s.metrics {
            None => ["-", "-", "-", "-"].map(String::from),
            Some(m) => [
                if m.server_errors > 0 {
                    format!("{} ({} 5xx)", m.requests, m.server_errors)
                } else {
                    m.requests.to_string()
                },
                m.latency_p99
                    .map_or_else(|| "-".to_owned(), |p99| format!("{:.1}ms", p99 * 1000.0)),
                m.published_today().to_string(),
                m.lag().to_string(),
            ],
        };
        rows.push(row.into_iter().chain(figures).collect::<Vec<String>>());
    }
    let mut lines = crate::report::table(&rows);
    for s in &report.services {
        for reason in &s.reasons {
            lines.push(format!("  {}: {reason}", s.name));
        }
    }
    for s in &report.services {
        match s.subscriptions.as_deref() {
            None => {}
            Some([]) => lines.push(format!("\n{}: no subscriptions", s.name)),
            Some(subscriptions) => {
                lines.push(format!("\n{} subscriptions:", s.name));
                let rows = probe::subscription_rows(subscriptions, true);
                lines.extend(
                    crate::report::table(&rows)
                        .into_iter()
                        .map(|l| format!("  {l}")),
                );
            }
        }
    }
    lines
}

/// What a service is compared with.
struct Against<'a> {
    /// `<commit>[-dirty]`.
    commit: Option<&'a str>,
    /// What the commit is called in reasons (`HEAD`, a revision).
    commit_label: &'a str,
    /// Where the spec hash comes from (`the working tree`, a revision).
    source_label: &'a str,
}

/// Whether a service runs what the working tree (or a revision) holds, and why not.
fn judge(
    health: Health,
    running: Option<&Version>,
    spec_hash: &str,
    against: &Against<'_>,
) -> (State, Vec<String>) {
    if health == Health::Down {
        return (State::Down, Vec::new());
    }
    let Some(running) = running else {
        return (
            State::Stale,
            vec!["no readable answer on /_internal_/version".into()],
        );
    };
    let mut reasons = Vec::new();
    match running.spec_hash.as_deref() {
        Some(hash) if hash == spec_hash => {}
        Some(hash) => reasons.push(format!(
            "spec changed: it runs spec {hash}, {} has {spec_hash}",
            against.source_label
        )),
        None => reasons.push("its version answer has no spec_hash".into()),
    }
    if let (Some(built), Some(head)) = (running.git_commit.as_deref(), against.commit)
        && let Some(reason) = compare_commits(built, head, against.commit_label)
    {
        reasons.push(reason);
    }
    let state = if reasons.is_empty() {
        State::UpToDate
    } else {
        State::Stale
    };
    (state, reasons)
}

/// Why a binary built from `built` is not what `head` holds (both
/// `<commit>[-dirty]`; either commit may be abbreviated).
fn compare_commits(built: &str, head: &str, label: &str) -> Option<String> {
    let split = |c: &str| {
        let c = c.trim();
        match c.strip_suffix("-dirty") {
            Some(base) => (base.to_owned(), true),
            None => (c.to_owned(), false),
        }
    };
    let (built_base, built_dirty) = split(built);
    let (head_base, head_dirty) = split(head);
    let short = |c: &str| c.chars().take(12).collect::<String>();
    let same = !built_base.is_empty()
        && !head_base.is_empty()
        && (built_base.starts_with(&head_base) || head_base.starts_with(&built_base));
    if !same {
        return Some(format!(
            "built from commit {}, {label} is {}",
            short(&built_base),
            short(&head_base)
        ));
    }
    match (built_dirty, head_dirty) {
        (true, false) => Some(format!(
            "built from uncommitted changes on {}; the working tree is clean",
            short(&head_base)
        )),
        (false, true) => Some(format!(
            "built from commit {}; the working tree has changed since",
            short(&built_base)
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(commit: Option<&str>) -> Against<'_> {
        Against {
            commit,
            commit_label: "HEAD",
            source_label: "the working tree",
        }
    }

    fn version(spec_hash: &str, commit: Option<&str>) -> Version {
        Version {
            spec_hash: Some(spec_hash.into()),
            git_commit: commit.map(String::from),
            ..Version::default()
        }
    }

    /// The table, reasons and a delivering service's subscriptions.
    #[test]
    fn text_with_subscriptions() {
        let service = |name: &str, subscriptions| ServiceStatus {
            name: name.into(),
            key: name.into(),
            url: Some("http://127.0.0.1:7103".into()),
            health: Health::Healthy,
            state: State::UpToDate,
            reasons: Vec::new(),
            spec_hash: "aa".into(),
            running: None,
            metrics: Some(Metrics {
                requests: 12,
                latency_p99: Some(0.0042),
                ..Metrics::default()
            }),
            supervisor: None,
            subscriptions,
        };
        let subscription = |id: &str, mode: &str, status: &str, figures: [u64; 6]| Subscription {
            id: id.into(),
            agency_id: "8e1d2c3b-4a59-4687-a9b8-c7d6e5f40312".into(),
            stream: "io.blueprint.users.v0.user_event.json".into(),
            mode: mode.into(),
            status: status.into(),
            delivered: figures[0],
            pending: figures[1],
            failing: figures[2],
            leased: figures[3],
            dead: figures[4],
            lag: figures[5],
        };
        let report = Report {
            env: env::DEFAULT.into(),
            rev: None,
            commit: None,
            services: vec![
                service(
                    "delivery",
                    Some(vec![
                        subscription("sub_1", "push", "active", [41, 2, 1, 0, 3, 0]),
                        subscription("sub_2", "pull", "paused", [7, 5, 0, 2, 0, 12]),
                    ]),
                ),
                service("events", None),
                service("other-delivery", Some(Vec::new())),
            ],
        };
        insta::assert_snapshot!(text(&report).join("\n"));
    }

    #[test]
    fn down_when_nothing_answers() {
        assert_eq!(
            judge(Health::Down, None, "aa", &head(None)),
            (State::Down, vec![])
        );
    }

    #[test]
    fn up_to_date_when_spec_and_commit_match() {
        let v = version("aa", Some("0123456789abcdef"));
        let (state, reasons) = judge(
            Health::Healthy,
            Some(&v),
            "aa",
            &head(Some("0123456789abcdef")),
        );
        assert_eq!((state, reasons.len()), (State::UpToDate, 0));
        // Unhealthy is about health; what runs may still be current.
        let (state, _) = judge(Health::Unhealthy, Some(&v), "aa", &head(Some("0123456")));
        assert_eq!(state, State::UpToDate);
        // Outside git, or a binary that does not know its commit: the spec decides.
        let v = version("aa", None);
        assert_eq!(
            judge(Health::Healthy, Some(&v), "aa", &head(Some("0123"))).0,
            State::UpToDate
        );
    }

    #[test]
    fn stale_when_the_spec_or_the_commit_differs() {
        let v = version("aa", Some("0123456789"));
        let (state, reasons) = judge(Health::Healthy, Some(&v), "bb", &head(Some("0123456789")));
        assert_eq!(state, State::Stale);
        assert_eq!(
            reasons,
            ["spec changed: it runs spec aa, the working tree has bb"]
        );
        let (state, reasons) = judge(Health::Healthy, Some(&v), "aa", &head(Some("fedcba9876")));
        assert_eq!(state, State::Stale);
        assert_eq!(
            reasons,
            ["built from commit 0123456789, HEAD is fedcba9876"]
        );
        assert_eq!(
            judge(Health::Healthy, None, "aa", &head(None)).0,
            State::Stale,
            "a service without a version answer cannot be shown current"
        );
    }

    #[test]
    fn uncommitted_changes() {
        assert_eq!(compare_commits("abc-dirty", "abc-dirty", "HEAD"), None);
        assert!(
            compare_commits("abc", "abc-dirty", "HEAD")
                .is_some_and(|r| r.contains("changed since"))
        );
        assert!(
            compare_commits("abc-dirty", "abc", "HEAD").is_some_and(|r| r.contains("uncommitted"))
        );
        assert!(compare_commits("abc-dirty", "abd-dirty", "HEAD").is_some());
    }
}

//! `dev status`: per service, whether it runs, whether it is healthy, and whether
//! what runs is what the repository holds.
//!
//! The services are those `dev up` runs (a spec of `[workspace] specs` with
//! `services/<key>/Cargo.toml`). Each is looked for at the URL a running `dev up`
//! recorded in `.dev/up.json`, else on its configured port; it is asked its
//! healthcheck and version with a short timeout. Its `state` compares the version
//! answer with the working tree: `spec_hash` with the spec's `Spec::source_hash`,
//! `git_commit` with `HEAD` (and `-dirty` with uncommitted changes). Its key
//! metrics come from `/_internal_/metrics`.

use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use crate::probe::{self, Health, Metrics, Version};
use crate::services::{self, RunFile, Service};
use crate::workspace::{self, Workspace};

const JSON_HELP: &str = "\
Exit code: 0 when every service is healthy and up to date, else 1 (2: usage or I/O error).

JSON (`--format json`), services sorted by name:
  {\"commit\": \"<HEAD>[-dirty]\" | null,
   \"services\": [{
     \"name\": the spec's name, \"key\": its application key,
     \"url\": \"http://127.0.0.1:<port>\" | null (not running and no configured port),
     \"health\": \"healthy\" | \"unhealthy\" | \"down\",
     \"state\": \"up to date\" | \"stale\" | \"down\",
     \"reasons\": [why it is stale or unhealthy, in words],
     \"spec_hash\": the working tree's spec hash,
     \"running\": {\"name\", \"version\", \"spec_hash\", \"git_commit\"} | null (its version answer),
     \"metrics\": null | {\"requests\", \"server_errors\", \"latency_p50\", \"latency_p99\" (seconds | null),
                   \"queue_depth\" (journal records not yet published),
                   \"published\": {<stream>: {\"events\", \"today\", \"failures\"}},
                   \"consumed\": {<stream>: {\"lag\", \"applied\", \"applied_today\", \"failed\", \"parked\"}}}
                  (counts since the process started; `today` since UTC midnight),
     \"supervisor\": null | {\"pid\", \"state\": \"starting\" | \"running\" | \"restarting\" | \"failed\" | \"stopping\",
                      \"restarts\", \"last_exit\"} (what a running `dev up` knows)}]}";

#[derive(Debug, clap::Args)]
#[command(after_long_help = JSON_HELP)]
pub struct StatusArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
    pub format: StatusFormat,
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

async fn status(args: StatusArgs) -> Result<ExitCode> {
    let workspace = Workspace {
        config: workspace::config(None)?,
    };
    let Some(loaded) = workspace::load(workspace.config.clone())? else {
        return Ok(ExitCode::from(1));
    };
    let mut all: Vec<Service> = services::services(&loaded)?
        .into_iter()
        .filter(|s| s.code.is_some())
        .collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    // The run file of a `dev up` that still runs.
    let run = RunFile::read(&workspace.dev_dir()).filter(|f| crate::supervise::alive(f.pid));
    let commit = crate::git::head_commit(workspace.root());
    let client = probe::client();

    let checks = all.iter().map(|service| {
        let recorded = run.as_ref().and_then(|f| f.service(&service.name));
        let url = recorded
            .map(|r| r.url.clone())
            .or_else(|| service.port.map(services::local_url));
        let client = &client;
        async move {
            let Some(url) = url else {
                return (None, (Health::Down, None), None, None);
            };
            let (health, version, metrics) = tokio::join!(
                probe::health(client, &url),
                probe::version(client, &url),
                probe::metrics(client, &url)
            );
            (Some(url), health, version, metrics)
        }
    });
    let answers = futures_util::future::join_all(checks).await;

    let mut report = Report {
        commit: commit.clone(),
        services: Vec::new(),
    };
    for (service, (url, (health, unhealthy), version, metrics)) in all.iter().zip(answers) {
        let (state, mut reasons) = judge(
            health,
            version.as_ref(),
            &service.spec_hash,
            commit.as_deref(),
        );
        if let Some(body) = unhealthy {
            reasons.insert(0, format!("healthcheck: {body}"));
        }
        let supervisor = run
            .as_ref()
            .and_then(|f| f.service(&service.name))
            .map(|r| Supervisor {
                pid: r.pid,
                state: r.state.as_str(),
                restarts: r.restarts,
                last_exit: r.last_exit.clone(),
            });
        report.services.push(ServiceStatus {
            name: service.name.clone(),
            key: service.key.clone(),
            url,
            health,
            state,
            reasons,
            spec_hash: service.spec_hash.clone(),
            running: version,
            metrics,
            supervisor,
        });
    }
    let ok = report
        .services
        .iter()
        .all(|s| s.health == Health::Healthy && s.state == State::UpToDate);
    match args.format {
        StatusFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        StatusFormat::Text => print_text(&report),
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_text(report: &Report) {
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
    for line in crate::report::table(&rows) {
        println!("{line}");
    }
    for s in &report.services {
        for reason in &s.reasons {
            println!("  {}: {reason}", s.name);
        }
    }
}

/// Whether a service runs what the working tree holds, and why not.
fn judge(
    health: Health,
    running: Option<&Version>,
    spec_hash: &str,
    head: Option<&str>,
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
            "spec changed: it runs spec {hash}, the working tree has {spec_hash}"
        )),
        None => reasons.push("its version answer has no spec_hash".into()),
    }
    if let (Some(built), Some(head)) = (running.git_commit.as_deref(), head)
        && let Some(reason) = compare_commits(built, head)
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
fn compare_commits(built: &str, head: &str) -> Option<String> {
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
            "built from commit {}, HEAD is {}",
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

    fn version(spec_hash: &str, commit: Option<&str>) -> Version {
        Version {
            spec_hash: Some(spec_hash.into()),
            git_commit: commit.map(String::from),
            ..Version::default()
        }
    }

    #[test]
    fn down_when_nothing_answers() {
        assert_eq!(judge(Health::Down, None, "aa", None), (State::Down, vec![]));
    }

    #[test]
    fn up_to_date_when_spec_and_commit_match() {
        let v = version("aa", Some("0123456789abcdef"));
        let (state, reasons) = judge(Health::Healthy, Some(&v), "aa", Some("0123456789abcdef"));
        assert_eq!((state, reasons.len()), (State::UpToDate, 0));
        // Unhealthy is about health; what runs may still be current.
        let (state, _) = judge(Health::Unhealthy, Some(&v), "aa", Some("0123456"));
        assert_eq!(state, State::UpToDate);
        // Outside git, or a binary that does not know its commit: the spec decides.
        let v = version("aa", None);
        assert_eq!(
            judge(Health::Healthy, Some(&v), "aa", Some("0123")).0,
            State::UpToDate
        );
    }

    #[test]
    fn stale_when_the_spec_or_the_commit_differs() {
        let v = version("aa", Some("0123456789"));
        let (state, reasons) = judge(Health::Healthy, Some(&v), "bb", Some("0123456789"));
        assert_eq!(state, State::Stale);
        assert_eq!(
            reasons,
            ["spec changed: it runs spec aa, the working tree has bb"]
        );
        let (state, reasons) = judge(Health::Healthy, Some(&v), "aa", Some("fedcba9876"));
        assert_eq!(state, State::Stale);
        assert_eq!(
            reasons,
            ["built from commit 0123456789, HEAD is fedcba9876"]
        );
        assert_eq!(
            judge(Health::Healthy, None, "aa", None).0,
            State::Stale,
            "a service without a version answer cannot be shown current"
        );
    }

    #[test]
    fn uncommitted_changes() {
        assert_eq!(compare_commits("abc-dirty", "abc-dirty"), None);
        assert!(compare_commits("abc", "abc-dirty").is_some_and(|r| r.contains("changed since")));
        assert!(compare_commits("abc-dirty", "abc").is_some_and(|r| r.contains("uncommitted")));
        assert!(compare_commits("abc-dirty", "abd-dirty").is_some());
    }
}

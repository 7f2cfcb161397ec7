//! `dev env`: named environments on this machine, beside `dev up`'s.
//!
//! `dev env create NAME --rev REV` runs the workspace as of a git revision in the
//! background, isolated from `dev up` (the environment named `default`) and from
//! every other environment. Everything it has lives in `.dev/env/NAME/`:
//!
//! | path | what |
//! |---|---|
//! | `src/` | a detached `git worktree` of the revision (so services built there know their commit) |
//! | `target/` | its own cargo target folder (two checkouts of one workspace must not share one: cargo would take one's artifacts as fresh for the other) |
//! | `<key>.sqlite`, `streams.sqlite` | its databases and its stream log (its own stream namespace: a log nobody else opens) |
//! | `logs/<key>.log` | each service's stdout and stderr (`migrate` included) |
//! | `env.json` | what runs ([`EnvFile`]): revision, commit, per service pid, port, URL |
//!
//! Every service gets a free loopback port (configured ports belong to `dev up`).
//!
//! Processes: no supervisor stays behind. `create` starts each service as the
//! leader of a process group of its own, detached (stdin closed, output to its
//! log), records the pids, waits for the healthchecks and exits; the services
//! outlive it. Chosen over a background supervisor process because there is then
//! nothing that can die and leave services unaccounted for: the pid file is the
//! whole state, and `rm` needs nothing but it. The price: a crashed service is
//! not restarted (`ls` shows it down; `rm` then `create` again). `rm` stops every
//! process of each recorded group (SIGTERM, SIGKILL after `--grace`), the service's
//! children included; a group's id is not reused while it has members, so a
//! group whose leader is gone is still ours to stop, and a leader pid that now
//! runs another program is left alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use blueprint::db::Db;
use blueprint::db::migrate::{self, Migrations};
use rustix::process::Signal;
use serde::{Deserialize, Serialize};

use crate::cmd::up;
use crate::git::Repo;
use crate::probe::{self, Health, Version};
use crate::services::{self, RunFile, Service};
use crate::supervise::{self, ProcessGroup, Program};
use crate::workspace::{self, Workspace};
use crate::{keys, report};

/// The name of `dev up`'s environment.
pub const DEFAULT: &str = "default";

const LS_HELP: &str = "\
JSON (`--format json`): environments by name, `default` (a running `dev up`) first:
  {\"environments\": [{
     \"name\": \"default\" | NAME,
     \"rev\": the revision it was created from (\"working tree\" for default),
     \"commit\": the commit it runs (default: HEAD, `-dirty` with changes) | null,
     \"started_at\": RFC 3339 | null,
     \"folder\": \".dev\" | \".dev/env/NAME\",
     \"services\": [{\"name\", \"key\", \"url\", \"pid\" | null,
                   \"health\": \"healthy\" | \"unhealthy\" | \"down\"}],
     \"up\": services answering their healthcheck, \"down\": the others}]}";

const DIFF_HELP: &str = "\
Compares what runs in two environments (`default` is `dev up`'s), per service of either:
  version and spec hash (the running service's version answer; the checkout's spec hash
  when it is down), commit, config (`[services.<key>]` of the environment's
  blueprint.toml, the database and streams backends), migrations applied (read from its
  database). Ports and file paths always differ between environments and are shown,
  never counted as differences. Exit code 0 whether or not they differ.

JSON (`--format json`):
  {\"a\": {\"name\", \"rev\", \"commit\"}, \"b\": {...},
   \"services\": [{
     \"name\", \"key\",
     \"a\": null (not in that environment) | {
        \"url\", \"health\", \"version\", \"spec_hash\", \"git_commit\",
        \"config\": {\"service\": {<[services.<key>] table>}, \"database\": \"sqlite\" | \"postgres\",
                   \"streams\": \"sqlite\" | \"nats\" | \"memory\"},
        \"env\": {\"PORT\", \"DATABASE_URL\", \"BLUEPRINT_STREAMS_URL\"},
        \"migrations\": [applied migration names] | null (no database, or unreadable: see \"migrations_error\")},
     \"b\": same,
     \"differs\": [\"version\" | \"spec_hash\" | \"git_commit\" | \"config\" | \"migrations\" | \"presence\"]}]}";

#[derive(Debug, clap::Subcommand)]
pub enum EnvCommand {
    /// Run the workspace as of a git revision, in the background, isolated in `.dev/env/NAME`.
    Create(CreateArgs),
    /// The environments: revision, commit, services up or down, URLs.
    #[command(after_long_help = LS_HELP)]
    Ls(FormatArgs),
    /// Stop an environment's processes (SIGTERM, then SIGKILL) and remove its folder.
    Rm(RmArgs),
    /// Per service, what differs between two environments (`default`: dev up's).
    #[command(after_long_help = DIFF_HELP)]
    Diff(DiffArgs),
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Its name (letters, digits, `-`, `_`): `.dev/env/NAME`.
    pub name: String,
    /// The git revision to build and run.
    #[arg(long, default_value = "HEAD")]
    pub rev: String,
    /// Run only these services (spec names or keys, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "SERVICE,...")]
    pub only: Vec<String>,
    /// How long the services may take to pass their healthchecks, per layer.
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = crate::args::parse_duration)]
    pub timeout: Duration,
}

#[derive(Debug, clap::Args)]
pub struct RmArgs {
    /// The environment (`dev env ls` lists them).
    pub name: String,
    /// How long its services may take to stop after SIGTERM before they are killed.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::args::parse_duration)]
    pub grace: Duration,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// An environment, or `default` (`dev up`'s).
    pub a: String,
    /// Another.
    pub b: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct FormatArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table.
    Text,
    /// One JSON document (see `--help`).
    Json,
}

/// `.dev/env/NAME/env.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvFile {
    pub name: String,
    /// As given to `--rev`.
    pub rev: String,
    /// What it named then.
    pub commit: String,
    /// RFC 3339.
    pub started_at: String,
    /// The workspace root in the checkout (`src/`, or a folder of it).
    pub root: PathBuf,
    pub streams_url: String,
    pub services: Vec<EnvService>,
}

/// One service of an environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvService {
    pub name: String,
    pub key: String,
    /// Its process, the leader of its process group.
    pub pid: u32,
    pub port: u16,
    pub url: String,
    pub database_url: String,
    pub executable: PathBuf,
    pub log: PathBuf,
}

impl EnvFile {
    fn path(dir: &Path) -> PathBuf {
        dir.join("env.json")
    }

    pub fn read(dir: &Path) -> Result<EnvFile> {
        let path = EnvFile::path(dir);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("cannot read {}", path.display()))
    }

    fn write(&self, dir: &Path) -> Result<()> {
        let path = EnvFile::path(dir);
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(&tmp, text + "\n")
            .and_then(|()| std::fs::rename(&tmp, &path))
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// `.dev/env/NAME`.
pub fn env_dir(workspace: &Workspace, name: &str) -> PathBuf {
    workspace.dev_dir().join("env").join(name)
}

/// An existing environment's folder and file.
pub fn open(workspace: &Workspace, name: &str) -> Result<(PathBuf, EnvFile)> {
    let dir = env_dir(workspace, name);
    if !dir.is_dir() {
        bail!(
            "no environment `{name}` in this workspace ({} is missing; `dev env ls` lists them)",
            workspace::relative(workspace.root(), &dir)
        );
    }
    let file = EnvFile::read(&dir)?;
    Ok((dir, file))
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !name.starts_with('-');
    if !ok {
        bail!("environment name `{name}`: use letters, digits, `-` and `_` (at most 64)");
    }
    if name == DEFAULT {
        bail!("`default` is the environment of `dev up`; choose another name");
    }
    Ok(())
}

pub fn run(command: EnvCommand) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let workspace = Workspace {
        config: workspace::config(None)?,
    };
    runtime.block_on(async {
        match command {
            EnvCommand::Create(args) => create(&workspace, args).await,
            EnvCommand::Ls(args) => ls(&workspace, args.format).await,
            EnvCommand::Rm(args) => rm(&workspace, &args.name, args.grace).await,
            EnvCommand::Diff(args) => diff(&workspace, &args).await,
        }
    })
}

// ---------------------------------------------------------------------------
// create

async fn create(workspace: &Workspace, args: CreateArgs) -> Result<ExitCode> {
    // First, so that Ctrl-C during the build stops what was started.
    let mut signals = up::Signals::install()?;
    check_name(&args.name)?;
    let dir = env_dir(workspace, &args.name);
    if dir.exists() {
        bail!(
            "environment `{}` exists ({}); `dev env rm {}` first",
            args.name,
            workspace::relative(workspace.root(), &dir),
            args.name
        );
    }
    let repo = Repo::open(workspace.root())?;
    let commit = repo.commit(&args.rev)?;
    let src = dir.join("src");
    let checked_out = std::fs::create_dir_all(dir.join("logs"))
        .with_context(|| format!("cannot create {}", dir.display()))
        .and_then(|()| {
            repo.git(&[
                "worktree",
                "add",
                "--detach",
                &src.to_string_lossy(),
                &commit,
            ])
            .context("cannot check the revision out")
        });
    if let Err(e) = checked_out {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e);
    }
    let root = src.join(repo.prefix());
    // The checkout's own `.dev/`, for what a service writes under its workspace
    // root itself (everything `dev env` chooses is passed as absolute paths).
    std::fs::create_dir_all(root.join(".dev"))
        .with_context(|| format!("cannot create {}", root.join(".dev").display()))?;
    eprintln!(
        "environment {}: {} ({}) checked out in {}",
        args.name,
        args.rev,
        &commit[..12.min(commit.len())],
        workspace::relative(workspace.root(), &src)
    );

    let mut started = Started::default();
    let result = tokio::select! {
        r = start(workspace, &args, &dir, &root, &commit, &mut started) => r,
        name = signals.recv() => Err(anyhow::anyhow!("{name}: stopped before every service was healthy")),
    };
    match result {
        Ok(file) => {
            started.release();
            print_created(workspace, &dir, &file);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            started.stop(Duration::from_secs(5)).await;
            eprintln!("error: {e:#}");
            eprintln!(
                "its logs are in {}; `dev env rm {}` removes it",
                workspace::relative(workspace.root(), &dir.join("logs")),
                args.name
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// What `create` started so far: stopped if it fails, released once recorded.
#[derive(Default)]
struct Started {
    children: Vec<(std::process::Child, ProcessGroup)>,
}

impl Started {
    fn release(self) {
        for (_, group) in self.children {
            group.release();
        }
    }

    async fn stop(self, grace: Duration) {
        let pids: Vec<u32> = self.children.iter().map(|(c, _)| c.id()).collect();
        stop_groups(&pids, grace).await;
        // Dropping the groups SIGKILLs whatever is left.
    }
}

async fn start(
    workspace: &Workspace,
    args: &CreateArgs,
    dir: &Path,
    root: &Path,
    commit: &str,
    started: &mut Started,
) -> Result<EnvFile> {
    let config = workspace::config(Some(&root.join("blueprint.toml")))
        .with_context(|| format!("{} has no blueprint.toml", args.rev))?;
    let Some(loaded) = workspace::load(config)? else {
        bail!("a spec of {} is invalid (above)", args.rev);
    };
    let chosen = up::choose(services::services(&loaded)?, &args.only)?;
    let target = dir.join("target");
    eprintln!(
        "building {} in {}",
        chosen
            .iter()
            .map(|s| s.key.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        workspace::relative(workspace.root(), &target)
    );
    let executables = up::build(root, &chosen, Some(&target)).await?;
    let streams_url = format!("sqlite:{}", dir.join("streams.sqlite").display());
    let public_key = if chosen.iter().any(|s| s.auth) {
        // The workspace's keys: tokens from `dev token` work in every environment.
        Some(keys::resolve(workspace)?.public)
    } else {
        None
    };
    let mut file = EnvFile {
        name: args.name.clone(),
        rev: args.rev.clone(),
        commit: commit.to_owned(),
        started_at: blueprint::chrono::Utc::now()
            .to_rfc3339_opts(blueprint::chrono::SecondsFormat::Secs, true),
        root: root.to_path_buf(),
        streams_url: streams_url.clone(),
        services: Vec::new(),
    };
    let client = probe::client();
    let mut layers: BTreeMap<usize, Vec<&Service>> = BTreeMap::new();
    for service in &chosen {
        layers.entry(service.layer).or_default().push(service);
    }
    for layer in layers.values() {
        let first = file.services.len();
        for service in layer {
            let port = blueprint_natsserver::free_port()?;
            let database_url = format!(
                "sqlite:{}",
                dir.join(format!("{}.sqlite", service.key)).display()
            );
            let mut env = vec![
                ("PORT".to_owned(), port.to_string()),
                ("DATABASE_URL".to_owned(), database_url.clone()),
                (blueprint::stream::URL_ENV.to_owned(), streams_url.clone()),
            ];
            if let (true, Some(key)) = (service.auth, &public_key) {
                env.push((
                    blueprint::auth::PUBLIC_KEY_ENV.to_owned(),
                    key.display().to_string(),
                ));
            }
            let program = Program {
                program: executables[&service.key].clone(),
                args: Vec::new(),
                env,
                cwd: root.to_path_buf(),
            };
            let log = dir.join("logs").join(format!("{}.log", service.key));
            if service.database {
                migrate_into(&program, &log).await?;
            }
            let (child, group) = supervise::spawn_detached(&program, &log)
                .with_context(|| format!("cannot start {}", program.program.display()))?;
            file.services.push(EnvService {
                name: service.name.clone(),
                key: service.key.clone(),
                pid: child.id(),
                port,
                url: services::local_url(port),
                database_url,
                executable: supervise::executable(child.id()).unwrap_or(program.program),
                log,
            });
            started.children.push((child, group));
            // Recorded at once, so that `rm` finds whatever has started.
            file.write(dir)?;
        }
        wait_healthy(&client, &file.services[first..], started, args.timeout).await?;
    }
    Ok(file)
}

/// `<bin> migrate`, its output appended to the service's log.
async fn migrate_into(program: &Program, log: &Path) -> Result<()> {
    let mut migrate = program.clone();
    migrate.args = vec!["migrate".into()];
    // `_group` is SIGKILLed on the way out (a failure, a timeout, Ctrl-C):
    // nothing a migration started stays.
    let (mut child, _group) = supervise::spawn_detached(&migrate, log)
        .with_context(|| format!("cannot run {}", migrate.program.display()))?;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if let Some(status) = child.try_wait()? {
            if status.success() {
                return Ok(());
            }
            bail!(
                "`{} migrate` failed ({status}):\n{}",
                migrate.program.display(),
                tail(log)
            );
        }
        if Instant::now() >= deadline {
            bail!(
                "`{} migrate` did not finish within 300s",
                migrate.program.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Wait until `services` answer their healthcheck; fail when one exits.
async fn wait_healthy(
    client: &reqwest::Client,
    services: &[EnvService],
    started: &mut Started,
    timeout: Duration,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let mut pending: Vec<&EnvService> = services.iter().collect();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for s in pending {
            if let Some((child, _)) = started.children.iter_mut().find(|(c, _)| c.id() == s.pid)
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "{} exited ({status}) before its healthcheck passed:\n{}",
                    s.key,
                    tail(&s.log)
                );
            }
            if probe::health(client, &s.url).await.0 != Health::Healthy {
                still.push(s);
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            let keys: Vec<&str> = pending.iter().map(|s| s.key.as_str()).collect();
            bail!(
                "not healthy after {}s: {}",
                timeout.as_secs(),
                keys.join(", ")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// The last lines of a log, indented.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn print_created(workspace: &Workspace, dir: &Path, file: &EnvFile) {
    let mut rows = vec![["service", "url", "pid", "log"].map(String::from)];
    for s in &file.services {
        rows.push([
            s.key.clone(),
            s.url.clone(),
            s.pid.to_string(),
            workspace::relative(workspace.root(), &s.log),
        ]);
    }
    for line in report::table(&rows) {
        println!("{line}");
    }
    println!();
    println!("streams:   {}", file.streams_url);
    println!(
        "databases: {}",
        workspace::relative(workspace.root(), &dir.join("<key>.sqlite"))
    );
    println!(
        "`dev status --env {0}` checks it; `dev env rm {0}` stops and removes it.",
        file.name
    );
}

// ---------------------------------------------------------------------------
// rm

async fn rm(workspace: &Workspace, name: &str, grace: Duration) -> Result<ExitCode> {
    if name == DEFAULT {
        bail!("`default` is `dev up`'s environment: stop it with Ctrl-C in its terminal");
    }
    check_name(name)?;
    let dir = env_dir(workspace, name);
    if !dir.is_dir() {
        bail!("no environment `{name}` (`dev env ls` lists them)");
    }
    let stopped = match EnvFile::read(&dir) {
        Ok(file) => {
            let pids: Vec<u32> = file
                .services
                .iter()
                .filter(|s| ours(s.pid, &s.executable))
                .map(|s| s.pid)
                .collect();
            stop_groups(&pids, grace).await
        }
        Err(e) => {
            eprintln!("warning: {e:#}; removing the folder only");
            0
        }
    };
    let repo = Repo::open(workspace.root())?;
    let src = dir.join("src");
    if src.exists()
        && let Err(e) = repo.git(&["worktree", "remove", "--force", &src.to_string_lossy()])
    {
        eprintln!("warning: {e:#}");
    }
    std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    let _ = repo.git(&["worktree", "prune"]);
    eprintln!("environment {name} removed ({stopped} processes stopped)");
    Ok(ExitCode::SUCCESS)
}

/// Whether the group `pid` led is still ours to stop: its leader runs the
/// recorded program, or the leader is gone and others of its group still run.
fn ours(pid: u32, executable: &Path) -> bool {
    if supervise::running(pid) {
        supervise::executable(pid).is_some_and(|exe| {
            exe == executable || std::fs::canonicalize(executable).is_ok_and(|p| p == exe)
        })
    } else {
        !supervise::group_members(pid).is_empty()
    }
}

/// SIGTERM the groups led by `pids`, wait up to `grace` for every member to
/// exit, SIGKILL what is left; how many processes there were.
async fn stop_groups(pids: &[u32], grace: Duration) -> usize {
    let members = |pids: &[u32]| -> Vec<u32> {
        pids.iter()
            .flat_map(|&p| supervise::group_members(p))
            .collect()
    };
    let before = members(pids).len();
    for &pid in pids {
        supervise::signal_group(pid, Signal::TERM);
    }
    let deadline = Instant::now() + grace;
    while !members(pids).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = members(pids);
        if left.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            eprintln!("warning: still running after SIGKILL: {left:?}");
            break;
        }
        for &pid in pids {
            supervise::signal_group(pid, Signal::KILL);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    before
}

// ---------------------------------------------------------------------------
// ls

#[derive(Debug, Serialize)]
struct Listed {
    name: String,
    rev: String,
    commit: Option<String>,
    started_at: Option<String>,
    folder: String,
    services: Vec<ListedService>,
    up: usize,
    down: usize,
}

#[derive(Debug, Serialize)]
struct ListedService {
    name: String,
    key: String,
    url: String,
    pid: Option<u32>,
    health: Health,
}

/// A running `dev up`'s run file.
fn default_run(workspace: &Workspace) -> Option<RunFile> {
    RunFile::read(&workspace.dev_dir()).filter(|f| supervise::alive(f.pid))
}

/// The names of the environments in `.dev/env`, sorted.
fn names(workspace: &Workspace) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(workspace.dev_dir().join("env"))
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            e.path()
                .is_dir()
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect();
    out.sort();
    out
}

async fn ls(workspace: &Workspace, format: Format) -> Result<ExitCode> {
    let client = probe::client();
    let mut listed = Vec::new();
    if let Some(run) = default_run(workspace) {
        let services = run
            .services
            .iter()
            .map(|s| (s.name.clone(), s.key.clone(), s.url.clone(), s.pid))
            .collect();
        listed.push(Listed {
            name: DEFAULT.into(),
            rev: "working tree".into(),
            commit: crate::git::head_commit(workspace.root()),
            started_at: None,
            folder: ".dev".into(),
            services: probe_all(&client, services).await,
            up: 0,
            down: 0,
        });
    }
    for name in names(workspace) {
        let dir = env_dir(workspace, &name);
        let folder = workspace::relative(workspace.root(), &dir);
        let (rev, commit, started_at, services) = match EnvFile::read(&dir) {
            Ok(f) => (
                f.rev,
                Some(f.commit),
                Some(f.started_at),
                f.services
                    .iter()
                    .map(|s| (s.name.clone(), s.key.clone(), s.url.clone(), Some(s.pid)))
                    .collect(),
            ),
            Err(_) => ("?".into(), None, None, Vec::new()),
        };
        listed.push(Listed {
            name,
            rev,
            commit,
            started_at,
            folder,
            services: probe_all(&client, services).await,
            up: 0,
            down: 0,
        });
    }
    for l in &mut listed {
        l.up = l
            .services
            .iter()
            .filter(|s| s.health == Health::Healthy)
            .count();
        l.down = l.services.len() - l.up;
    }
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "environments": listed }))?
        ),
        Format::Text => {
            let mut rows = vec![["env", "rev", "commit", "services", "urls"].map(String::from)];
            for l in &listed {
                let urls: Vec<String> = l
                    .services
                    .iter()
                    .map(|s| format!("{}={}", s.key, s.url))
                    .collect();
                rows.push([
                    l.name.clone(),
                    l.rev.clone(),
                    l.commit
                        .as_deref()
                        .map_or_else(|| "-".to_owned(), |c| c.chars().take(12).collect()),
                    format!("{}/{} up", l.up, l.services.len()),
                    urls.join(" "),
                ]);
            }
            for line in report::table(&rows) {
                println!("{line}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn probe_all(
    client: &reqwest::Client,
    services: Vec<(String, String, String, Option<u32>)>,
) -> Vec<ListedService> {
    let checks = services
        .into_iter()
        .map(|(name, key, url, pid)| async move {
            let health = probe::health(client, &url).await.0;
            ListedService {
                name,
                key,
                url,
                pid,
                health,
            }
        });
    futures_util::future::join_all(checks).await
}

// ---------------------------------------------------------------------------
// diff

/// One side of a diff.
#[derive(Debug, Serialize)]
struct Side {
    name: String,
    rev: String,
    commit: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct Seen {
    url: Option<String>,
    health: Health,
    version: Option<String>,
    spec_hash: Option<String>,
    git_commit: Option<String>,
    config: serde_json::Value,
    env: BTreeMap<String, String>,
    migrations: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    migrations_error: Option<String>,
}

#[derive(Debug, Serialize)]
struct Compared {
    name: String,
    key: String,
    a: Option<Seen>,
    b: Option<Seen>,
    differs: Vec<&'static str>,
}

/// What to look at in an environment: its services where they run, and the
/// config of its checkout.
struct View {
    side: Side,
    config: blueprint_spec::config::Config,
    streams_url: Option<String>,
    /// By spec name.
    services: BTreeMap<String, Placed>,
}

/// A service of an environment (its checkout's spec hash included) and where it
/// runs (as far as anything says).
struct Placed {
    service: Service,
    url: Option<String>,
    database_url: Option<String>,
}

fn view(workspace: &Workspace, name: &str) -> Result<Option<View>> {
    if name == DEFAULT {
        let Some(loaded) = workspace::load(workspace.config.clone())? else {
            return Ok(None);
        };
        let run = default_run(workspace);
        let mut services = BTreeMap::new();
        for s in services::services(&loaded)? {
            if s.code.is_none() {
                continue;
            }
            let recorded = run.as_ref().and_then(|f| f.service(&s.name));
            let url = recorded
                .map(|r| r.url.clone())
                .or_else(|| s.port.map(services::local_url));
            let database = recorded.map(|r| r.database_url.clone()).or_else(|| {
                let file = workspace.dev_dir().join(format!("{}.sqlite", s.key));
                file.exists().then(|| format!("sqlite:{}", file.display()))
            });
            services.insert(
                s.name.clone(),
                Placed {
                    service: s,
                    url,
                    database_url: database,
                },
            );
        }
        return Ok(Some(View {
            side: Side {
                name: DEFAULT.into(),
                rev: "working tree".into(),
                commit: crate::git::head_commit(workspace.root()),
            },
            config: loaded.config,
            streams_url: run.map(|r| r.streams_url),
            services,
        }));
    }
    let (_, file) = open(workspace, name)?;
    let config = workspace::config(Some(&file.root.join("blueprint.toml")))?;
    let Some(loaded) = workspace::load(config)? else {
        return Ok(None);
    };
    let all = services::services(&loaded)?;
    let mut services = BTreeMap::new();
    for recorded in &file.services {
        if let Some(s) = all.iter().find(|s| s.name == recorded.name) {
            services.insert(
                s.name.clone(),
                Placed {
                    service: s.clone(),
                    url: Some(recorded.url.clone()),
                    database_url: Some(recorded.database_url.clone()),
                },
            );
        }
    }
    Ok(Some(View {
        side: Side {
            name: file.name,
            rev: file.rev,
            commit: Some(file.commit),
        },
        config: loaded.config,
        streams_url: Some(file.streams_url),
        services,
    }))
}

async fn diff(workspace: &Workspace, args: &DiffArgs) -> Result<ExitCode> {
    let (Some(a), Some(b)) = (view(workspace, &args.a)?, view(workspace, &args.b)?) else {
        return Ok(ExitCode::from(1));
    };
    let client = probe::client();
    let mut names: Vec<&String> = a.services.keys().chain(b.services.keys()).collect();
    names.sort();
    names.dedup();
    let mut compared = Vec::new();
    for name in names {
        let seen_a = match a.services.get(name) {
            Some(s) => Some(seen(&client, &a, s).await?),
            None => None,
        };
        let seen_b = match b.services.get(name) {
            Some(s) => Some(seen(&client, &b, s).await?),
            None => None,
        };
        let key = a
            .services
            .get(name)
            .or_else(|| b.services.get(name))
            .map(|p| p.service.key.clone())
            .unwrap_or_default();
        let differs = match (&seen_a, &seen_b) {
            (Some(x), Some(y)) => differences(x, y),
            _ => vec!["presence"],
        };
        compared.push(Compared {
            name: name.clone(),
            key,
            a: seen_a,
            b: seen_b,
            differs,
        });
    }
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "a": a.side,
                "b": b.side,
                "services": compared,
            }))?
        ),
        Format::Text => print_diff(&a.side, &b.side, &compared),
    }
    Ok(ExitCode::SUCCESS)
}

fn differences(a: &Seen, b: &Seen) -> Vec<&'static str> {
    let mut out = Vec::new();
    if a.version != b.version {
        out.push("version");
    }
    if a.spec_hash != b.spec_hash {
        out.push("spec_hash");
    }
    if a.git_commit != b.git_commit {
        out.push("git_commit");
    }
    if a.config != b.config {
        out.push("config");
    }
    if a.migrations != b.migrations {
        out.push("migrations");
    }
    out
}

/// One service of one environment, as it runs (its checkout when it is down).
async fn seen(client: &reqwest::Client, view: &View, placed: &Placed) -> Result<Seen> {
    let Placed {
        service,
        url,
        database_url,
    } = placed;
    let (health, running) = match url {
        Some(url) => (
            probe::health(client, url).await.0,
            probe::version(client, url).await,
        ),
        None => (Health::Down, None),
    };
    let running = running.unwrap_or_else(Version::default);
    let sections: BTreeMap<String, serde_json::Value> = view.config.section("services")?;
    let kind = |url: Option<&str>| {
        url.and_then(|u| u.split(':').next())
            .map(|scheme| match scheme {
                "postgresql" => "postgres".to_owned(),
                other => other.to_owned(),
            })
    };
    let config = serde_json::json!({
        "service": sections.get(&service.key).cloned().unwrap_or_else(|| serde_json::json!({})),
        "database": if service.database { kind(database_url.as_deref()) } else { None },
        "streams": kind(view.streams_url.as_deref()),
    });
    let mut env = BTreeMap::new();
    if let Some(url) = url {
        env.insert(
            "PORT".to_owned(),
            url.rsplit(':').next().unwrap_or_default().to_owned(),
        );
    }
    if let Some(db) = database_url {
        env.insert("DATABASE_URL".to_owned(), db.clone());
    }
    if let Some(streams) = &view.streams_url {
        env.insert(blueprint::stream::URL_ENV.to_owned(), streams.clone());
    }
    let (migrations, migrations_error) = match (service.database, database_url) {
        (true, Some(db)) => match applied(db).await {
            Ok(names) => (Some(names), None),
            Err(e) => (None, Some(format!("{e:#}"))),
        },
        _ => (None, None),
    };
    Ok(Seen {
        url: url.clone(),
        health,
        version: running.version,
        spec_hash: running
            .spec_hash
            .or_else(|| Some(service.spec_hash.clone())),
        git_commit: running.git_commit,
        config,
        env,
        migrations,
        migrations_error,
    })
}

/// The migrations applied to a database (names, in order).
async fn applied(url: &str) -> Result<Vec<String>> {
    if let Some(path) = url.strip_prefix("sqlite:")
        && !Path::new(path.trim_start_matches("//")).exists()
    {
        bail!("no database at {path}");
    }
    let db = tokio::time::timeout(Duration::from_secs(5), Db::connect(url))
        .await
        .context("the database did not answer within 5s")??;
    // Against no migration files, every applied one is reported as such.
    let status = migrate::status(&db, &Migrations::new(Vec::new())).await;
    db.close().await;
    Ok(status?.into_iter().map(|s| s.name).collect())
}

fn print_diff(a: &Side, b: &Side, compared: &[Compared]) {
    let describe = |s: &Side| {
        format!(
            "{}: {} ({})",
            s.name,
            s.rev,
            s.commit
                .as_deref()
                .map_or_else(|| "no commit".to_owned(), |c| c.chars().take(12).collect())
        )
    };
    println!("a = {}", describe(a));
    println!("b = {}", describe(b));
    println!();
    let mut rows = vec![["service", "what", "a", "b"].map(String::from)];
    let show = |v: Option<&str>| v.unwrap_or("-").to_owned();
    for c in compared {
        if c.differs.is_empty() {
            rows.push([c.name.clone(), "same".into(), String::new(), String::new()]);
            continue;
        }
        for (i, what) in c.differs.iter().enumerate() {
            let pick = |s: &Option<Seen>| -> String {
                let Some(s) = s else {
                    return "(not there)".into();
                };
                match *what {
                    "version" => show(s.version.as_deref()),
                    "spec_hash" => show(s.spec_hash.as_deref()),
                    "git_commit" => show(s.git_commit.as_deref()),
                    "config" => s.config.to_string(),
                    "migrations" => s
                        .migrations
                        .as_ref()
                        .map_or_else(|| "-".to_owned(), |m| m.join(",")),
                    _ => "(there)".into(),
                }
            };
            rows.push([
                if i == 0 {
                    c.name.clone()
                } else {
                    String::new()
                },
                what.replace('_', " "),
                pick(&c.a),
                pick(&c.b),
            ]);
        }
    }
    for line in report::table(&rows) {
        println!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["old", "pr-12", "v1_2", "A"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "default", "-x", "a/b", "..", "a b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn applied_migrations_are_read_from_the_database() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite:{}", dir.path().join("a.sqlite").display());
        assert!(
            applied(&url).await.is_err(),
            "a missing database is not created"
        );
        assert!(!dir.path().join("a.sqlite").exists());
        let db = Db::connect(&url).await.expect("connect");
        let files = ["0001_initial.sql", "0002_more.sql"].map(|name| migrate::Migration {
            name: name.into(),
            sql: format!("CREATE TABLE t{} (id INTEGER);", name.len()),
        });
        migrate::migrate(&db, &Migrations::new(files[..1].to_vec()))
            .await
            .expect("migrate");
        assert_eq!(applied(&url).await.expect("applied"), ["0001_initial.sql"]);
        migrate::migrate(&db, &Migrations::new(files.to_vec()))
            .await
            .expect("migrate");
        db.close().await;
        assert_eq!(
            applied(&url).await.expect("applied"),
            ["0001_initial.sql", "0002_more.sql"]
        );
    }
}

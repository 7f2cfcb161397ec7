//! `dev up`: run every service of the workspace, on embedded defaults.
//!
//! In order: build every service's binary (one `cargo build -p ... -p ...`), start
//! what the services run on (`--postgres`, `--nats`), `<bin> migrate` each service
//! with a database, then start the services layer by layer in the graph's
//! dependency order (producers and callees first), each layer's healthchecks
//! passing before the next starts; print one table; then supervise: logs
//! multiplexed with a `<key> |` prefix, a crashed service restarted with backoff
//! (given up after `--max-crashes` quick crashes in a row). Ctrl-C, SIGTERM or
//! SIGHUP stop everything, dependents first (SIGTERM, SIGKILL after `--grace`), and
//! `dev up` exits 0; a second signal kills at once. See [`crate::supervise`] for
//! why no process outlives it.
//!
//! What runs is recorded in `.dev/up.json` for `dev status`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use blueprint::stream::{StreamsSection, StreamsUrl, URL_ENV as STREAMS_URL_ENV};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cmd::db;
use crate::logs::{Logs, Prefix};
use crate::probe::{self, Health};
use crate::services::{self, RunFile, RunServer, RunService, Service, Supervision};
use crate::supervise::{self, AfterCrash, Child, Policy, ProcessGroup, Program};
use crate::workspace::{self, Workspace};
use crate::{keys, report};

#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Run only these services (spec names or keys, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "SERVICE,...")]
    pub only: Vec<String>,
    /// Run on a local PostgreSQL cluster in `.dev/postgres` (one database per service),
    /// started and stopped by `dev up` (unless it already ran).
    #[arg(long)]
    pub postgres: bool,
    /// Run the streams on a local `nats-server -js` in `.dev/nats`, started and stopped
    /// by `dev up`.
    #[arg(long)]
    pub nats: bool,
    /// How long a service may take to stop after SIGTERM before it is killed.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::args::parse_duration)]
    pub grace: Duration,
    /// Give up on a service after this many crashes in a row, each within a minute
    /// of its start.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_crashes: u32,
    /// The wait before restarting a crashed service, doubled after each crash in a
    /// row (at most 30s).
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = crate::args::parse_duration)]
    pub backoff: Duration,
    /// How long the services may take to build their healthchecks passing, per layer.
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = crate::args::parse_duration)]
    pub timeout: Duration,
}

/// `<bin> migrate` must finish within this.
const MIGRATE_TIMEOUT: Duration = Duration::from_secs(300);
/// How often a starting service's healthcheck is asked.
const HEALTH_POLL: Duration = Duration::from_millis(100);

pub fn run(args: UpArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(up(args))
}

async fn up(args: UpArgs) -> Result<ExitCode> {
    // First, so that a signal during the build is ours to handle.
    let mut signals = Signals::install()?;
    let workspace = Workspace {
        config: workspace::config(None)?,
    };
    let Some(loaded) = workspace::load(workspace.config.clone())? else {
        return Ok(ExitCode::from(1));
    };
    let chosen = choose(services::services(&loaded)?, &args.only)?;
    let dev_dir = workspace.dev_dir();
    std::fs::create_dir_all(&dev_dir)
        .with_context(|| format!("cannot create {}", dev_dir.display()))?;
    recover(&dev_dir)?;

    let policy = Policy {
        grace: args.grace,
        max_crashes: args.max_crashes,
        backoff: args.backoff,
        ..Policy::default()
    };
    let keys: Vec<&str> = chosen.iter().map(|s| s.key.as_str()).collect();
    let (logs, writer) = Logs::start(&keys);
    let mut session = Session {
        root: workspace.root().to_path_buf(),
        dev_dir,
        policy,
        logs,
        record: Record::default(),
        units: Vec::new(),
        nats: None,
        postgres_started: false,
    };
    let started = tokio::select! {
        r = session.start(&workspace, &loaded.config, &chosen, &args) => r,
        s = signals.recv() => Err(Stop::Signal(s)),
    };
    let code = match started {
        Ok(()) => {
            let stop = tokio::select! {
                s = signals.recv() => Stop::Signal(s),
                () = session.all_given_up() => Stop::AllFailed,
            };
            if let Stop::Signal(name) = stop {
                session.logs.plain(format!("{name}: stopping...")).await;
            }
            session.stop_all(&mut signals).await;
            match stop {
                Stop::AllFailed => {
                    eprintln!("error: every service crashed too often; stopped");
                    ExitCode::from(1)
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Err(Stop::Signal(name)) => {
            eprintln!("{name}: stopping...");
            session.stop_all(&mut signals).await;
            ExitCode::SUCCESS
        }
        Err(Stop::Failed(e)) => {
            session.stop_all(&mut signals).await;
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
        Err(Stop::AllFailed) => unreachable!("only after start"),
    };
    drop(session);
    // Flush the last lines.
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    Ok(code)
}

/// Why `dev up` stops.
#[derive(Debug)]
enum Stop {
    /// SIGINT, SIGTERM, SIGHUP (its name).
    Signal(&'static str),
    /// Starting failed.
    Failed(anyhow::Error),
    /// Every service was given up on.
    AllFailed,
}

impl From<anyhow::Error> for Stop {
    fn from(e: anyhow::Error) -> Stop {
        Stop::Failed(e)
    }
}

/// The signals that stop `dev up`: Ctrl-C, `kill`, the terminal closing.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.hangup.recv() => "SIGHUP",
        }
    }
}

/// The services to run: those with code, or those `--only` names.
fn choose(all: Vec<Service>, only: &[String]) -> Result<Vec<Service>> {
    for name in only {
        if !all.iter().any(|s| s.name == *name || s.key == *name) {
            let known: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
            bail!(
                "--only: no service `{name}` in this workspace (services: {})",
                known.join(", ")
            );
        }
    }
    let mut chosen = Vec::new();
    for s in all {
        let named = only.iter().any(|n| *n == s.name || *n == s.key);
        if !only.is_empty() && !named {
            continue;
        }
        if s.code.is_none() {
            if named {
                bail!(
                    "{} has no code to run: services/{}/Cargo.toml is missing",
                    s.name,
                    s.key
                );
            }
            eprintln!(
                "note: {} has no code (services/{}/Cargo.toml): not started",
                s.name, s.key
            );
            continue;
        }
        chosen.push(s);
    }
    if chosen.is_empty() {
        bail!(
            "no service to run: no spec of `[workspace] specs` has its code in services/<key>/Cargo.toml"
        );
    }
    Ok(chosen)
}

/// Refuse to run beside another `dev up` of this workspace; stop what one that
/// was killed left running.
fn recover(dev_dir: &Path) -> Result<()> {
    let Some(file) = RunFile::read(dev_dir) else {
        return Ok(());
    };
    let is_dev = |pid: u32| {
        supervise::executable(pid)
            .and_then(|e| {
                e.file_name()
                    .map(|n| n.to_string_lossy().starts_with("dev"))
            })
            .unwrap_or(false)
    };
    if file.pid != std::process::id() && supervise::alive(file.pid) && is_dev(file.pid) {
        bail!(
            "dev up already runs in this workspace (pid {}); stop it first (Ctrl-C in its terminal, or kill {})",
            file.pid,
            file.pid
        );
    }
    let leftovers: Vec<(u32, &Path)> = file
        .services
        .iter()
        .filter_map(|s| Some((s.pid?, s.executable.as_path())))
        .chain(file.servers.iter().map(|s| (s.pid, s.executable.as_path())))
        .filter(|&(pid, program)| supervise::kill_leftover(pid, program))
        .collect();
    if !leftovers.is_empty() {
        eprintln!(
            "stopped {} processes a killed dev up had left running",
            leftovers.len()
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while leftovers.iter().any(|&(pid, _)| supervise::alive(pid)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let _ = std::fs::remove_file(services::run_file_path(dev_dir));
    Ok(())
}

/// The run file, shared by the supervisors and written on every change.
#[derive(Debug, Clone, Default)]
struct Record {
    file: Arc<Mutex<RunFile>>,
    dev_dir: Arc<PathBuf>,
}

impl Record {
    fn new(file: RunFile, dev_dir: &Path) -> Record {
        Record {
            file: Arc::new(Mutex::new(file)),
            dev_dir: Arc::new(dev_dir.to_path_buf()),
        }
    }

    fn update(&self, f: impl FnOnce(&mut RunFile)) {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut file);
        if let Err(e) = file.write(&self.dev_dir) {
            eprintln!("warning: {e:#}");
        }
    }

    fn service(&self, key: &str, f: impl FnOnce(&mut RunService)) {
        self.update(|file| {
            if let Some(s) = file.service_mut(key) {
                f(s);
            }
        });
    }

    fn state(&self, key: &str) -> Option<Supervision> {
        let file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.services.iter().find(|s| s.key == key).map(|s| s.state)
    }
}

/// Everything `dev up` started, stopped by [`Session::stop_all`] (and, should that
/// not run, killed when dropped: supervisors own their children, and the nats
/// server's group is SIGKILLed on drop).
struct Session {
    root: PathBuf,
    dev_dir: PathBuf,
    policy: Policy,
    logs: Logs,
    record: Record,
    units: Vec<Unit>,
    nats: Option<Child>,
    /// Whether `dev up` started `.dev/postgres` (and so stops it).
    postgres_started: bool,
}

/// One supervised service.
struct Unit {
    service: Service,
    url: String,
    /// Set to stop it.
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Session {
    async fn start(
        &mut self,
        workspace: &Workspace,
        config: &blueprint_spec::config::Config,
        chosen: &[Service],
        args: &UpArgs,
    ) -> Result<(), Stop> {
        let executables = build(&self.root, chosen).await?;
        let streams_url = if args.nats {
            self.start_nats().await?
        } else {
            let section: StreamsSection = config.section("streams").map_err(anyhow::Error::from)?;
            let env = std::env::var(STREAMS_URL_ENV).ok();
            StreamsUrl::resolve(env.as_deref(), section.url.as_deref(), &self.root)
                .map_err(anyhow::Error::from)?
                .to_string()
        };
        let postgres_port = if args.postgres {
            let dev_dir = self.dev_dir.clone();
            let (port, started) =
                tokio::task::spawn_blocking(move || db::local_postgres_start(&dev_dir))
                    .await
                    .map_err(anyhow::Error::from)??;
            self.postgres_started = started;
            Some(port)
        } else {
            None
        };
        let public_key = if chosen.iter().any(|s| s.auth) {
            Some(keys::resolve(workspace)?.public)
        } else {
            None
        };
        let ports = ports(chosen)?;

        let mut file = RunFile {
            pid: std::process::id(),
            streams_url: streams_url.clone(),
            services: Vec::new(),
            servers: Vec::new(),
        };
        if let Some(nats) = &self.nats {
            file.servers.push(RunServer {
                name: "nats-server".into(),
                pid: nats.pid(),
                executable: supervise::executable(nats.pid()).unwrap_or_default(),
                url: streams_url.clone(),
            });
        }
        let mut programs = Vec::new();
        for (index, service) in chosen.iter().enumerate() {
            let port = ports[&service.key];
            let database_url = match postgres_port {
                Some(pg) => format!("postgres://postgres@127.0.0.1:{pg}/{}", service.key),
                None => format!(
                    "sqlite:{}",
                    self.dev_dir
                        .join(format!("{}.sqlite", service.key))
                        .display()
                ),
            };
            let mut env = vec![
                ("PORT".to_owned(), port.to_string()),
                ("DATABASE_URL".to_owned(), database_url.clone()),
                (STREAMS_URL_ENV.to_owned(), streams_url.clone()),
            ];
            if let (true, Some(key)) = (service.auth, &public_key) {
                env.push((
                    blueprint::auth::PUBLIC_KEY_ENV.to_owned(),
                    key.display().to_string(),
                ));
            }
            let executable = executables[&service.key].clone();
            let url = services::local_url(port);
            file.services.push(RunService {
                name: service.name.clone(),
                key: service.key.clone(),
                pid: None,
                port,
                url: url.clone(),
                database_url: database_url.clone(),
                executable: executable.clone(),
                state: Supervision::Starting,
                restarts: 0,
                last_exit: None,
            });
            let program = Program {
                program: executable,
                args: Vec::new(),
                env,
                cwd: self.root.clone(),
            };
            programs.push((index, service, url, database_url, program));
        }
        self.record = Record::new(file, &self.dev_dir);
        self.record.update(|_| {});

        for (index, service, _, database_url, program) in &programs {
            let prefix = self.logs.prefix(&service.key, *index);
            if postgres_port.is_some() {
                db::create(database_url).await?;
            }
            if service.database {
                self.migrate(program, &prefix).await?;
            }
        }

        let mut layers: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, (_, service, ..)) in programs.iter().enumerate() {
            layers.entry(service.layer).or_default().push(i);
        }
        for members in layers.values() {
            let first = self.units.len();
            for &i in members {
                let (index, service, url, _, program) = &programs[i];
                self.launch((*service).clone(), url.clone(), *index, program.clone());
            }
            self.wait_healthy(first, args.timeout).await?;
        }
        self.print_table(&streams_url, postgres_port).await;
        Ok(())
    }

    /// Start the local nats-server (`.dev/nats`, its port kept in `.dev/nats/port`); its URL.
    async fn start_nats(&mut self) -> Result<String> {
        let binary = blueprint_natsserver::find_binary().with_context(|| {
            format!(
                "--nats: nats-server is not installed (apt-get install nats-server, or set {})",
                blueprint_natsserver::BIN_ENV
            )
        })?;
        let dir = self.dev_dir.join("nats");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let port_file = dir.join("port");
        let recorded = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|p| p.trim().parse::<u16>().ok())
            .filter(|&p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok());
        let port = match recorded {
            Some(port) => port,
            None => blueprint_natsserver::free_port()?,
        };
        std::fs::write(&port_file, format!("{port}\n"))
            .with_context(|| format!("cannot write {}", port_file.display()))?;
        let server = blueprint_natsserver::Server::new(binary, &dir, port);
        let command = server.command();
        let program = Program {
            program: command.get_program().into(),
            args: command
                .get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            env: Vec::new(),
            cwd: self.root.clone(),
        };
        let mut child = supervise::spawn(&program, None)
            .with_context(|| format!("cannot run {}", program.program.display()))?;
        let deadline = Instant::now() + blueprint_natsserver::START_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait() {
                bail!(
                    "nats-server exited with {status}; its log:\n{}",
                    server.log()
                );
            }
            if server.accepts_clients() {
                break;
            }
            if Instant::now() >= deadline {
                bail!(
                    "nats-server did not accept clients on port {port}; its log:\n{}",
                    server.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eprintln!(
            "nats-server started in {} on port {port}",
            workspace::relative(&self.root, &dir)
        );
        self.nats = Some(child);
        Ok(server.url())
    }

    /// `<bin> migrate`, its output in the service's log.
    async fn migrate(&self, program: &Program, prefix: &Prefix) -> Result<()> {
        let mut migrate = program.clone();
        migrate.args = vec!["migrate".into()];
        let mut child = supervise::spawn(&migrate, Some((&self.logs, prefix)))
            .with_context(|| format!("cannot run {}", migrate.program.display()))?;
        match tokio::time::timeout(MIGRATE_TIMEOUT, child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => bail!(
                "`{} migrate` failed ({status}); see its output above",
                migrate.program.display()
            ),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => {
                child.stop(self.policy.grace).await;
                bail!(
                    "`{} migrate` did not finish within {}s",
                    migrate.program.display(),
                    MIGRATE_TIMEOUT.as_secs()
                )
            }
        }
    }

    /// Start supervising a service.
    fn launch(&mut self, service: Service, url: String, index: usize, program: Program) {
        let prefix = self.logs.prefix(&service.key, index);
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(supervise_service(
            service.key.clone(),
            program,
            prefix,
            self.logs.clone(),
            self.record.clone(),
            self.policy,
            stopped,
        ));
        self.units.push(Unit {
            service,
            url,
            stop,
            task: Some(task),
        });
    }

    /// Wait until the units from `first` on answer their healthcheck.
    async fn wait_healthy(&self, first: usize, timeout: Duration) -> Result<()> {
        let client = probe::client();
        let deadline = Instant::now() + timeout;
        let mut pending: Vec<&Unit> = self.units[first..].iter().collect();
        let mut last: BTreeMap<&str, String> = BTreeMap::new();
        while !pending.is_empty() {
            let mut still = Vec::new();
            for unit in pending {
                let key = unit.service.key.as_str();
                if self.record.state(key) == Some(Supervision::Failed) {
                    bail!(
                        "{key} crashed {} times in a row before its healthcheck passed; see its log above",
                        self.policy.max_crashes
                    );
                }
                match probe::health(&client, &unit.url).await {
                    (Health::Healthy, _) => {
                        self.record.service(key, |s| {
                            if s.state == Supervision::Starting {
                                s.state = Supervision::Running;
                            }
                        });
                    }
                    (health, body) => {
                        last.insert(key, body.unwrap_or_else(|| health.as_str().to_owned()));
                        still.push(unit);
                    }
                }
            }
            pending = still;
            if pending.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                let waiting: Vec<String> = pending
                    .iter()
                    .map(|u| {
                        let key = u.service.key.as_str();
                        format!("{key} ({})", last.get(key).map_or("no answer", |s| s))
                    })
                    .collect();
                bail!(
                    "not healthy after {}s: {}",
                    timeout.as_secs(),
                    waiting.join(", ")
                );
            }
            tokio::time::sleep(HEALTH_POLL).await;
        }
        Ok(())
    }

    /// The table of what runs, once everything is healthy.
    async fn print_table(&self, streams_url: &str, postgres_port: Option<u16>) {
        let client = probe::client();
        let mut rows = vec![[
            "service".to_owned(),
            "url".to_owned(),
            "health".to_owned(),
            "streams".to_owned(),
        ]];
        let mut notes = Vec::new();
        for unit in &self.units {
            let (health, _) = probe::health(&client, &unit.url).await;
            if let Some(version) = probe::version(&client, &unit.url).await {
                notes.extend(
                    version
                        .notes
                        .iter()
                        .map(|n| format!("{}: {n}", unit.service.key)),
                );
            }
            let streams = stream_lines(&unit.service);
            for (i, line) in streams.iter().enumerate() {
                rows.push(if i == 0 {
                    [
                        unit.service.key.clone(),
                        unit.url.clone(),
                        health.as_str().to_owned(),
                        line.clone(),
                    ]
                } else {
                    [String::new(), String::new(), String::new(), line.clone()]
                });
            }
        }
        let mut out = vec![String::new()];
        out.extend(report::table(&rows));
        out.push(String::new());
        out.push(format!("streams:   {streams_url}"));
        out.push(match postgres_port {
            Some(port) => format!(
                "databases: postgres://postgres@127.0.0.1:{port}/<key> ({})",
                workspace::relative(&self.root, &self.dev_dir.join("postgres"))
            ),
            None => format!(
                "databases: {}",
                workspace::relative(&self.root, &self.dev_dir.join("<key>.sqlite"))
            ),
        });
        for note in notes {
            out.push(format!("note:      {note}"));
        }
        out.push("Ctrl-C stops every service; `dev status` checks them.".into());
        out.push(String::new());
        for line in out {
            self.logs.plain(line).await;
        }
    }

    /// Resolves once every service has been given up on.
    async fn all_given_up(&self) {
        loop {
            let failed = self
                .units
                .iter()
                .all(|u| self.record.state(&u.service.key) == Some(Supervision::Failed));
            if failed {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Stop the services (dependents first, each layer at once), then the servers
    /// `dev up` started; a second signal kills what is left at once.
    async fn stop_all(&mut self, signals: &mut Signals) {
        let graceful = async {
            let mut layers: BTreeMap<usize, Vec<&mut Unit>> = BTreeMap::new();
            for unit in &mut self.units {
                layers.entry(unit.service.layer).or_default().push(unit);
            }
            for (_, units) in layers.into_iter().rev() {
                for unit in &units {
                    let _ = unit.stop.send(true);
                }
                for unit in units {
                    if let Some(task) = unit.task.take() {
                        let _ = task.await;
                    }
                }
            }
            if let Some(nats) = self.nats.take() {
                nats.stop(self.policy.grace).await;
            }
        };
        let forced = tokio::select! {
            () = graceful => false,
            name = signals.recv() => {
                eprintln!("{name} again: killing every process at once");
                true
            }
        };
        if forced {
            for unit in &mut self.units {
                if let Some(task) = unit.task.take() {
                    task.abort();
                    let _ = task.await;
                }
            }
            // Dropping the child SIGKILLs its group.
            self.nats = None;
        }
        if self.postgres_started {
            let dev_dir = self.dev_dir.clone();
            let stopped =
                tokio::task::spawn_blocking(move || db::local_postgres_stop(&dev_dir)).await;
            match stopped {
                Ok(Ok(())) => eprintln!("PostgreSQL stopped"),
                Ok(Err(e)) => eprintln!("warning: cannot stop PostgreSQL: {e:#}"),
                Err(e) => eprintln!("warning: cannot stop PostgreSQL: {e}"),
            }
            self.postgres_started = false;
        }
        let _ = std::fs::remove_file(services::run_file_path(&self.dev_dir));
    }
}

/// The streams column of a service: one line per stream it owns or consumes.
fn stream_lines(service: &Service) -> Vec<String> {
    let lines: Vec<String> = service
        .streams
        .iter()
        .map(|s| format!("owns {s}"))
        .chain(service.consumes.iter().map(|s| format!("consumes {s}")))
        .collect();
    if lines.is_empty() {
        vec!["-".into()]
    } else {
        lines
    }
}

/// Every service's port: `[services.<key>] port`, else a free loopback one.
fn ports(services: &[Service]) -> Result<BTreeMap<String, u16>> {
    let mut taken: BTreeMap<u16, &str> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for s in services {
        let port = match s.port {
            Some(port) => {
                if let Some(other) = taken.insert(port, &s.key) {
                    bail!("{other} and {} are both configured on port {port}", s.key);
                }
                if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
                    bail!(
                        "port {port} of {} (`[services.{}] port`) is taken: another program listens there",
                        s.key,
                        s.key
                    );
                }
                port
            }
            None => blueprint_natsserver::free_port()?,
        };
        out.insert(s.key.clone(), port);
    }
    Ok(out)
}

/// Build every service's binary with one cargo invocation; each key's executable.
///
/// Cargo runs in its own process group, killed if `dev up` is stopped meanwhile;
/// its diagnostics go to stderr, its JSON messages name the executables (so the
/// target folder, `CARGO_TARGET_DIR` included, is cargo's business).
async fn build(root: &Path, services: &[Service]) -> Result<BTreeMap<String, PathBuf>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = tokio::process::Command::new(cargo);
    command
        .args(["build", "--message-format=json-render-diagnostics"])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .kill_on_drop(true);
    for s in services {
        if let Some(code) = &s.code {
            command.args(["-p", &code.package]);
        }
    }
    let mut child = command.spawn().context("cannot run cargo")?;
    let _group = child.id().map(ProcessGroup::led_by);
    let mut artifacts: Vec<(PathBuf, String, PathBuf)> = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        let mut lines = BufReader::new(stdout).lines();
        while let Some(line) = lines.next_line().await? {
            let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if message["reason"] != "compiler-artifact" {
                continue;
            }
            let (Some(manifest), Some(name), Some(executable)) = (
                message["manifest_path"].as_str(),
                message["target"]["name"].as_str(),
                message["executable"].as_str(),
            ) else {
                continue;
            };
            artifacts.push((
                canonical(Path::new(manifest)),
                name.to_owned(),
                executable.into(),
            ));
        }
    }
    let status = child.wait().await?;
    if !status.success() {
        bail!("cargo build failed ({status})");
    }
    let mut out = BTreeMap::new();
    for s in services {
        let Some(code) = &s.code else { continue };
        let manifest = canonical(&code.manifest);
        let executable = artifacts
            .iter()
            .find(|(m, name, _)| *m == manifest && *name == code.binary)
            .map(|(.., e)| e.clone())
            .with_context(|| {
                format!(
                    "cargo built no binary `{}` for package {} ({})",
                    code.binary,
                    code.package,
                    code.manifest.display()
                )
            })?;
        out.insert(s.key.clone(), executable);
    }
    Ok(out)
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Run a service until told to stop: restart it after a crash with backoff, give
/// up after too many quick crashes in a row.
async fn supervise_service(
    key: String,
    program: Program,
    prefix: Prefix,
    logs: Logs,
    record: Record,
    policy: Policy,
    mut stop: watch::Receiver<bool>,
) {
    let mut crashes = 0;
    loop {
        let mut child = match supervise::spawn(&program, Some((&logs, &prefix))) {
            Ok(child) => child,
            Err(e) => {
                logs.note(
                    &prefix,
                    &format!("cannot start {}: {e}", program.program.display()),
                )
                .await;
                record.service(&key, |s| s.state = Supervision::Failed);
                return;
            }
        };
        let pid = child.pid();
        record.service(&key, |s| {
            s.pid = Some(pid);
            if s.state != Supervision::Starting {
                s.state = Supervision::Running;
            }
        });
        let started = Instant::now();
        tokio::select! {
            status = child.wait() => {
                let ran = started.elapsed();
                let how = status.map_or_else(|e| format!("lost ({e})"), |s| s.to_string());
                match policy.after_crash(ran, crashes) {
                    AfterCrash::Restart { after, crashes: n } => {
                        crashes = n;
                        logs.note(&prefix, &format!(
                            "exited ({how}) after {}; restarting in {} (crash {n} in a row; gives up at {})",
                            seconds(ran), seconds(after), policy.max_crashes
                        )).await;
                        record.service(&key, |s| {
                            s.pid = None;
                            if s.state != Supervision::Starting {
                                s.state = Supervision::Restarting;
                            }
                            s.restarts += 1;
                            s.last_exit = Some(how.clone());
                        });
                        tokio::select! {
                            () = tokio::time::sleep(after) => {}
                            _ = stop.changed() => return,
                        }
                    }
                    AfterCrash::GiveUp { crashes } => {
                        logs.note(&prefix, &format!(
                            "exited ({how}) after {}; gave up after {crashes} crashes in a row",
                            seconds(ran)
                        )).await;
                        record.service(&key, |s| {
                            s.pid = None;
                            s.state = Supervision::Failed;
                            s.last_exit = Some(how.clone());
                        });
                        return;
                    }
                }
            }
            _ = stop.changed() => {
                record.service(&key, |s| s.state = Supervision::Stopping);
                let status = child.stop(policy.grace).await;
                let how = status.map_or_else(|| "killed".to_owned(), |s| s.to_string());
                logs.note(&prefix, &format!("stopped ({how})")).await;
                record.service(&key, |s| s.pid = None);
                return;
            }
        }
    }
}

/// `1.5s`, `250ms`.
fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

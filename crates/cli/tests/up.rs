//! `dev up` and `dev status` on a scratch workspace of two services built from the
//! fixture in `tests/up/fixture.rs` (standard library only, so `dev up`'s cargo
//! build takes seconds): `alpha` owns a stream, has a database and listens on a
//! configured port; `beta` consumes alpha's stream, on a port `dev up` picks.
//!
//! Everything runs on loopback; every wait is bounded; processes a test starts are
//! stopped when it ends, pass or fail.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use blueprint_testkit::free_port;
use blueprint_testkit::watched::{Signal, Watched};
use rustix::process::Pid;
use serde_json::Value;

/// Generous: the first wait includes cargo building the fixture.
const START: Duration = Duration::from_secs(300);
const SHORT: Duration = Duration::from_secs(30);

const ALPHA_SPEC: &str = r#"{
  "name": "alpha",
  "namespace": "test.alpha.v0",
  "unions": {
    "thing_event": {
      "discriminator": "discriminator",
      "types": [{ "type": "thing_upserted" }]
    }
  },
  "models": {
    "thing": {
      "fields": [{ "name": "id", "type": "string" }],
      "attributes": [{ "name": "db", "value": {} }]
    },
    "thing_upserted": {
      "fields": [
        { "name": "event_id", "type": "string" },
        { "name": "timestamp", "type": "date-time-iso8601" },
        { "name": "thing", "type": "thing" }
      ]
    }
  },
  "resources": {
    "thing": { "operations": [{ "method": "GET", "path": "/:id" }] }
  }
}
"#;

const BETA_SPEC: &str = r#"{
  "name": "beta",
  "namespace": "test.beta.v0",
  "imports": [{ "uri": "../../alpha/spec/alpha.json" }],
  "attributes": [
    {
      "name": "consumes",
      "value": { "streams": [{ "type": "test.alpha.v0.unions.thing_event" }] }
    }
  ],
  "models": {
    "note": { "fields": [{ "name": "id", "type": "string" }] }
  },
  "resources": {
    "note": { "operations": [{ "method": "GET", "path": "/:id" }] }
  }
}
"#;

struct Scratch {
    dir: tempfile::TempDir,
    alpha_port: u16,
}

impl Scratch {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn alpha_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.alpha_port)
    }

    fn up_json(&self) -> Option<Value> {
        let text = std::fs::read_to_string(self.root().join(".dev/up.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// A service's entry in `.dev/up.json`.
    fn recorded(&self, key: &str) -> Value {
        let file = self.up_json().expect(".dev/up.json");
        file["services"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["key"] == key))
            .cloned()
            .unwrap_or_else(|| panic!("{key} not in {file}"))
    }

    fn grandchild(&self, key: &str) -> u32 {
        std::fs::read_to_string(self.root().join(format!(".dev/{key}.grandchild")))
            .expect("grandchild pid")
            .trim()
            .parse()
            .expect("a pid")
    }

    fn dev(&self, args: &[&str]) -> Output {
        dev_command(self.root(), args).output().expect("dev runs")
    }

    fn status(&self) -> (i32, Value) {
        let out = self.dev(&["status", "--format", "json"]);
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "dev status printed no JSON ({e}): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), json)
    }
}

/// The two-service workspace; `alpha` on a configured free port.
fn scratch() -> Scratch {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let alpha_port = free_port();
    write(
        &root.join("blueprint.toml"),
        &format!(
            "[workspace]\nspecs = [\"services/*/spec/*.json\"]\n\n[services.alpha]\nport = {alpha_port}\n"
        ),
    );
    write(
        &root.join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\nmembers = [\"services/*\"]\n",
    );
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/up/fixture.rs");
    for (key, spec, notes) in [
        (
            "alpha",
            ALPHA_SPEC,
            "\"webhook targets on loopback allowed\"",
        ),
        ("beta", BETA_SPEC, ""),
    ] {
        let service = root.join("services").join(key);
        write(&service.join(format!("spec/{key}.json")), spec);
        write(
            &service.join("Cargo.toml"),
            &format!(
                "[package]\nname = \"{key}-service\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[[bin]]\nname = \"{key}\"\npath = \"src/main.rs\"\n"
            ),
        );
        std::fs::create_dir_all(service.join("src")).expect("mkdir");
        std::fs::copy(&fixture, service.join("src/main.rs")).expect("copy the fixture");
        write_identity(root, key, notes);
    }
    Scratch { dir, alpha_port }
}

/// What the fixture reports on its version route: the spec's name and hash, as a
/// generated package compiles them in.
fn write_identity(root: &Path, key: &str, notes: &str) {
    let spec = blueprint_spec::load(&root.join(format!("services/{key}/spec/{key}.json")))
        .expect("the spec loads");
    write(
        &root.join(format!("services/{key}/src/identity.rs")),
        &format!(
            "pub const NAME: &str = {:?};\npub const SPEC_HASH: &str = {:?};\npub const NOTES: &[&str] = &[{notes}];\n",
            spec.service.name,
            spec.source_hash()
        ),
    );
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// `dev ARGS` in `dir`, building into the scratch workspace's own target folder.
fn dev_command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dev"));
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("BLUEPRINT_STREAMS_URL")
        .env_remove("BLUEPRINT_JWT_PUBLIC_KEY")
        .env_remove("DATABASE_URL");
    c
}

/// `dev up ARGS` in the scratch workspace, its output lines collected, stopped on drop.
fn start_up(scratch: &Scratch, args: &[&str]) -> Watched {
    Watched::spawn(
        "dev up",
        dev_command(scratch.root(), &[&["up"], args].concat()),
    )
}

/// `GET path` on `url`: status code and body (`None` when nothing answers).
fn get(url: &str, path: &str) -> Option<(u16, String)> {
    let host = url.strip_prefix("http://")?;
    let mut stream = TcpStream::connect(host).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.split_whitespace().nth(1)?.parse().ok()?;
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

/// Whether process `pid` is gone (a zombie waiting for init counts as gone).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

fn wait_gone(pids: &[u32]) {
    let deadline = Instant::now() + SHORT;
    while !pids.iter().all(|&p| gone(p)) {
        assert!(Instant::now() < deadline, "still running: {pids:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn pid(value: &Value) -> u32 {
    value["pid"]
        .as_u64()
        .and_then(|p| u32::try_from(p).ok())
        .unwrap_or_else(|| panic!("no pid in {value}"))
}

fn service<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["services"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("{name} not in {status}"))
}

#[test]
fn up_runs_restarts_and_stops_every_process() {
    let ws = scratch();

    // Before: nothing runs. alpha has a configured URL, beta none yet.
    let (code, before) = ws.status();
    assert_eq!(code, 1, "{before}");
    let names: Vec<&str> = before["services"]
        .as_array()
        .expect("services")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["alpha", "beta"], "sorted by name");
    let alpha = service(&before, "alpha");
    assert_eq!(alpha["url"], ws.alpha_url().as_str());
    assert_eq!(
        (&alpha["health"], &alpha["state"]),
        (&"down".into(), &"down".into())
    );
    assert_eq!(service(&before, "beta")["url"], Value::Null);

    let mut up = start_up(
        &ws,
        &["--grace", "2s", "--backoff", "100ms", "--max-crashes", "3"],
    );
    up.wait_for("the table", START, |l| l.starts_with("streams:"));
    let out = up.output();
    let row = |key: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{key} ")) && !l.contains(" | "))
            .unwrap_or_else(|| panic!("no table row for {key}:\n{out}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        row("alpha"),
        [
            "alpha",
            &ws.alpha_url(),
            "healthy",
            "owns",
            "test.alpha.v0.thing_event.json"
        ]
    );
    let beta = row("beta");
    assert_eq!(
        (beta[2], beta[3], beta[4]),
        ("healthy", "consumes", "test.alpha.v0.thing_event.json")
    );
    assert!(
        out.contains("note:      alpha: webhook targets on loopback allowed"),
        "{out}"
    );
    // Migrations ran first; logs are prefixed with the key, padded to one width.
    assert!(out.contains("alpha | migrated sqlite:"), "{out}");
    assert!(out.contains("beta  | migrated sqlite:"), "{out}");
    up.wait_for("alpha's log line", SHORT, |l| {
        l.starts_with("alpha | listening on http://127.0.0.1:")
    });

    // The contract's environment.
    let (_, env) = get(&ws.alpha_url(), "/env").expect("alpha answers");
    let dev_dir = ws.root().join(".dev");
    assert!(
        env.contains(&format!(
            "DATABASE_URL=sqlite:{}",
            dev_dir.join("alpha.sqlite").display()
        )),
        "{env}"
    );
    assert!(
        env.contains(&format!(
            "BLUEPRINT_STREAMS_URL=sqlite:{}",
            dev_dir.join("streams.sqlite").display()
        )),
        "{env}"
    );
    assert!(env.contains(&format!("PORT={}", ws.alpha_port)), "{env}");

    // During: healthy and up to date.
    let (code, during) = ws.status();
    assert_eq!(code, 0, "{during}");
    for name in ["alpha", "beta"] {
        let s = service(&during, name);
        assert_eq!(
            (&s["health"], &s["state"]),
            (&"healthy".into(), &"up to date".into()),
            "{s}"
        );
        assert_eq!(s["supervisor"]["restarts"], 0);
    }
    assert!(service(&during, "beta")["url"].as_str().is_some());
    // Key metrics, read from the fixture's /_internal_/metrics.
    assert_eq!(service(&during, "alpha")["metrics"]["requests"], 7);
    let table = ws.dev(&["status"]);
    assert_eq!(table.status.code(), Some(0));
    let table = String::from_utf8_lossy(&table.stdout);
    let header = table.lines().next().unwrap_or_default();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        [
            "service", "url", "health", "state", "restarts", "requests", "p99", "events", "today",
            "lag"
        ],
        "{table}"
    );
    let alpha_row = table
        .lines()
        .find(|l| l.starts_with("alpha "))
        .unwrap_or_default();
    assert!(alpha_row.contains("healthy  up to date"), "{table}");

    // A crash is restarted after the backoff, in a new process group.
    let first = pid(&ws.recorded("alpha"));
    let first_grandchild = ws.grandchild("alpha");
    let _ = get(&ws.alpha_url(), "/crash");
    let crashed = up.wait_for("the crash report", SHORT, |l| {
        l.starts_with("alpha | [dev up] exited (exit status: 3)")
    });
    assert!(
        crashed.contains("restarting in 100ms (crash 1 in a row; gives up at 3)"),
        "{crashed}"
    );
    wait_gone(&[first, first_grandchild]);
    let deadline = Instant::now() + SHORT;
    loop {
        let recorded = ws.recorded("alpha");
        if recorded["state"] == "running"
            && recorded["pid"]
                .as_u64()
                .is_some_and(|p| p != u64::from(first))
            && get(&ws.alpha_url(), "/_internal_/healthcheck").is_some_and(|(s, _)| s == 200)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "alpha was not restarted:\n{}",
            up.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, restarted) = ws.status();
    assert_eq!(service(&restarted, "alpha")["supervisor"]["restarts"], 1);
    assert_eq!(
        service(&restarted, "alpha")["supervisor"]["last_exit"],
        "exit status: 3"
    );

    // A spec edited after the start: what runs is stale.
    let beta_spec = ws.root().join("services/beta/spec/beta.json");
    let edited = BETA_SPEC.replacen('{', "{\n  \"description\": \"Edited.\",", 1);
    write(&beta_spec, &edited);
    let (code, stale) = ws.status();
    assert_eq!(code, 1, "{stale}");
    let beta = service(&stale, "beta");
    assert_eq!(
        (&beta["health"], &beta["state"]),
        (&"healthy".into(), &"stale".into())
    );
    assert!(
        beta["reasons"][0]
            .as_str()
            .is_some_and(|r| r.starts_with("spec changed")),
        "{beta}"
    );
    assert_eq!(service(&stale, "alpha")["state"], "up to date");

    // A service that keeps crashing at once is given up on; the others go on.
    write(&ws.root().join("services/alpha/crash-on-start"), "");
    let _ = get(&ws.alpha_url(), "/crash");
    up.wait_for("giving up", SHORT, |l| {
        l.starts_with("alpha | [dev up]") && l.contains("gave up after 3 crashes in a row")
    });
    let (_, failed) = ws.status();
    let alpha = service(&failed, "alpha");
    assert_eq!(alpha["health"], "down");
    assert_eq!(alpha["supervisor"]["state"], "failed");
    assert_eq!(service(&failed, "beta")["health"], "healthy");

    // SIGTERM: every process stops, dev up exits 0 and removes its run file.
    let beta_pid = pid(&ws.recorded("beta"));
    let beta_grandchild = ws.grandchild("beta");
    up.signal(Signal::TERM);
    let status = up.wait_exit(SHORT);
    assert_eq!(status.code(), Some(0), "{}", up.output());
    wait_gone(&[beta_pid, beta_grandchild, ws.grandchild("alpha")]);
    assert!(
        up.output().contains("beta  | [dev up] stopped"),
        "{}",
        up.output()
    );
    assert!(ws.up_json().is_none(), "the run file is removed");
}

#[test]
fn a_killed_dev_up_is_cleaned_up_by_the_next_and_sighup_stops_it() {
    let ws = scratch();
    let mut first = start_up(&ws, &["--grace", "1s"]);
    first.wait_for("the table", START, |l| l.starts_with("streams:"));
    let left: Vec<u32> = vec![
        pid(&ws.recorded("alpha")),
        pid(&ws.recorded("beta")),
        ws.grandchild("alpha"),
        ws.grandchild("beta"),
    ];
    // SIGKILL cannot be handled: the services outlive it.
    first.signal(Signal::KILL);
    first.wait_exit(SHORT);
    assert!(
        left.iter().all(|&p| !gone(p)),
        "the services outlive a SIGKILLed dev up"
    );

    let mut second = start_up(&ws, &["--grace", "1s"]);
    second.wait_for("the cleanup", START, |l| {
        l == "stopped 2 processes a killed dev up had left running"
    });
    wait_gone(&left);
    second.wait_for("the table", START, |l| l.starts_with("streams:"));

    // A second dev up of the same workspace is refused while one runs.
    let refused = ws.dev(&["up"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("dev up already runs in this workspace"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // The terminal closing (SIGHUP) stops everything too.
    let running = [pid(&ws.recorded("alpha")), pid(&ws.recorded("beta"))];
    second.signal(Signal::HUP);
    assert_eq!(
        second.wait_exit(SHORT).code(),
        Some(0),
        "{}",
        second.output()
    );
    wait_gone(&running);
}

/// Whether the installed PostgreSQL and nats-server are there; missing ones skip
/// the test locally and fail it under `CI=true`.
fn servers_installed() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let pg = blueprint_pgcluster::bin_dir().is_ok();
    let nats = blueprint_natsserver::find_binary().is_some();
    assert!(
        !ci || (pg && nats),
        "CI must have PostgreSQL and nats-server installed"
    );
    if !(pg && nats) {
        eprintln!("note: PostgreSQL or nats-server is not installed; skipping");
    }
    pg && nats
}

#[test]
fn up_on_postgres_and_nats_starts_and_stops_both() {
    if !servers_installed() {
        return;
    }
    let ws = scratch();
    // As root the cluster runs as `postgres`, which must reach `.dev/postgres`.
    let mut perms = std::fs::metadata(ws.root()).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(ws.root(), perms).expect("chmod");

    let mut up = start_up(&ws, &["--postgres", "--nats", "--grace", "2s"]);
    let streams = up.wait_for("the table", START, |l| l.starts_with("streams:"));
    let nats_url = streams.split_whitespace().nth(1).expect("a URL").to_owned();
    assert!(nats_url.starts_with("nats://127.0.0.1:"), "{streams}");
    let nats_port: u16 = nats_url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");

    let (_, env) = get(&ws.alpha_url(), "/env").expect("alpha answers");
    assert!(
        env.contains(&format!("BLUEPRINT_STREAMS_URL={nats_url}")),
        "{env}"
    );
    let database = env
        .lines()
        .find_map(|l| l.strip_prefix("DATABASE_URL="))
        .expect("DATABASE_URL")
        .to_owned();
    assert!(
        database.starts_with("postgres://postgres@127.0.0.1:") && database.ends_with("/alpha"),
        "{database}"
    );
    // dev up created each service's database.
    for key in ["alpha", "beta"] {
        let url = database.replace("/alpha", &format!("/{key}"));
        let out = blueprint_pgcluster::psql()
            .args([url.as_str(), "-c", "SELECT 1"])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "{key}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let nats_pid = pid(&ws.up_json().expect("run file")["servers"][0]);
    assert!(TcpStream::connect(("127.0.0.1", nats_port)).is_ok());

    up.signal(Signal::TERM);
    assert_eq!(
        up.wait_exit(Duration::from_secs(60)).code(),
        Some(0),
        "{}",
        up.output()
    );
    wait_gone(&[nats_pid]);
    let pg_port = database
        .trim_start_matches("postgres://postgres@127.0.0.1:")
        .split('/')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .expect("port");
    assert!(
        TcpStream::connect(("127.0.0.1", pg_port)).is_err(),
        "PostgreSQL was stopped"
    );
    assert!(ws.root().join(".dev/postgres/data/PG_VERSION").is_file());
    assert!(ws.root().join(".dev/nats/jetstream").is_dir());
}

/// `git ARGS` in `dir`; its stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// `dev ARGS --format json`, which must exit with `code`.
fn dev_json(ws: &Scratch, args: &[&str], code: i32) -> Value {
    let out = ws.dev(&[args, &["--format", "json"]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(code),
        "dev {args:?}:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("dev {args:?}: no JSON ({e}):\n{text}"))
}

/// Kills an environment's process groups when a failing test unwinds (without
/// relying on `dev env rm`), so that nothing outlives the test.
struct EnvGuard(Vec<u32>);

impl Drop for EnvGuard {
    fn drop(&mut self) {
        for &pid in &self.0 {
            if let Some(group) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
                let _ = rustix::process::kill_process_group(group, Signal::KILL);
            }
        }
    }
}

fn spec_hash(root: &Path, key: &str) -> String {
    blueprint_spec::load(&root.join(format!("services/{key}/spec/{key}.json")))
        .expect("the spec loads")
        .source_hash()
}

/// An environment of the previous commit runs beside `dev up`'s, isolated (ports,
/// databases, stream log, logs); `dev env ls`, `diff` and `status --env` see
/// both; `dev env rm` leaves no process and no checkout behind.
#[test]
fn an_environment_of_an_older_revision_runs_beside_dev_up() {
    let began = Instant::now();
    let ws = scratch();
    let root = ws.root();
    write(&root.join(".gitignore"), "/.dev/\n/target/\n/Cargo.lock\n");
    git(root, &["init", "--quiet", "--initial-branch=main"]);
    git(root, &["add", "--all"]);
    git(root, &["commit", "--quiet", "--message", "alpha and beta"]);
    let old_hash = spec_hash(root, "alpha");
    let alpha_spec = root.join("services/alpha/spec/alpha.json");
    write(
        &alpha_spec,
        &ALPHA_SPEC.replacen('{', "{\n  \"description\": \"Things.\",", 1),
    );
    write_identity(root, "alpha", "");
    git(
        root,
        &["commit", "--quiet", "--all", "--message", "alpha: describe"],
    );
    let new_hash = spec_hash(root, "alpha");
    assert_ne!(old_hash, new_hash);
    let previous = git(root, &["rev-parse", "HEAD~1"]);

    let mut up = start_up(&ws, &["--grace", "2s"]);
    up.wait_for("the table", START, |l| l.starts_with("streams:"));

    let created = ws.dev(&["env", "create", "old", "--rev", "HEAD~1"]);
    assert!(
        created.status.success(),
        "{}{}",
        String::from_utf8_lossy(&created.stdout),
        String::from_utf8_lossy(&created.stderr)
    );
    let dir = root.join(".dev/env/old");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("env.json")).expect("env.json"))
            .expect("JSON");
    assert_eq!(
        (&file["rev"], &file["commit"]),
        (&"HEAD~1".into(), &previous.as_str().into())
    );
    let old = |key: &str| {
        file["services"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["key"] == key))
            .cloned()
            .unwrap_or_else(|| panic!("{key} not in {file}"))
    };
    let _guard = EnvGuard(vec![pid(&old("alpha")), pid(&old("beta"))]);
    let old_alpha = old("alpha")["url"].as_str().expect("url").to_owned();
    assert_ne!(old_alpha, ws.alpha_url(), "a port of its own");

    // Isolated: its own databases and stream log; the revision's spec runs.
    let (_, env) = get(&old_alpha, "/env").expect("old alpha answers");
    for expected in [
        format!("DATABASE_URL=sqlite:{}", dir.join("alpha.sqlite").display()),
        format!(
            "BLUEPRINT_STREAMS_URL=sqlite:{}",
            dir.join("streams.sqlite").display()
        ),
    ] {
        assert!(env.contains(&expected), "{env}");
    }
    let (_, version) = get(&old_alpha, "/_internal_/version").expect("version");
    assert!(version.contains(&old_hash), "{version}");
    let (_, version) = get(&ws.alpha_url(), "/_internal_/version").expect("version");
    assert!(version.contains(&new_hash), "{version}");
    assert!(dir.join("logs/alpha.log").is_file());

    let listed = dev_json(&ws, &["env", "ls"], 0);
    let envs = listed["environments"].as_array().expect("environments");
    let names: Vec<&str> = envs.iter().filter_map(|e| e["name"].as_str()).collect();
    assert_eq!(names, ["default", "old"], "{listed}");
    assert!(
        envs.iter().all(|e| e["up"] == 2 && e["down"] == 0),
        "{listed}"
    );

    // The diff names the spec that differs, and only that one.
    let diff = dev_json(&ws, &["env", "diff", "default", "old"], 0);
    let compared = |name: &str| {
        diff["services"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("{name} not in {diff}"))
    };
    let alpha = compared("alpha");
    assert_eq!(
        alpha["differs"],
        serde_json::json!(["spec_hash"]),
        "{alpha}"
    );
    assert_eq!(
        (&alpha["a"]["spec_hash"], &alpha["b"]["spec_hash"]),
        (&new_hash.as_str().into(), &old_hash.as_str().into())
    );
    assert_eq!(compared("beta")["differs"], serde_json::json!([]), "{diff}");
    let text = ws.dev(&["env", "diff", "default", "old"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("alpha") && l.contains("spec hash") && l.contains(&old_hash)),
        "{text}"
    );

    // Both run what their revision holds...
    let status = dev_json(&ws, &["status", "--env", "old"], 0);
    assert_eq!(status["commit"], previous.as_str());
    for name in ["alpha", "beta"] {
        assert_eq!(service(&status, name)["state"], "up to date", "{status}");
    }
    dev_json(&ws, &["status"], 0);
    // ...until it moves on: a spec changed since they started is stale.
    write(
        &alpha_spec,
        &ALPHA_SPEC.replacen('{', "{\n  \"description\": \"Things, again.\",", 1),
    );
    let status = dev_json(&ws, &["status"], 1);
    assert_eq!(service(&status, "alpha")["state"], "stale", "{status}");
    assert_eq!(service(&status, "beta")["state"], "up to date", "{status}");
    git(
        root,
        &["commit", "--quiet", "--all", "--message", "alpha: again"],
    );
    let status = dev_json(&ws, &["status", "--env", "old"], 1);
    let alpha = service(&status, "alpha");
    assert_eq!(alpha["state"], "stale", "{status}");
    assert!(
        alpha["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains(&format!("HEAD~1 has {new_hash}"))),
        "{alpha}"
    );

    // rm: every process of the environment stops, its children included.
    let grandchild = |key: &str| -> u32 {
        std::fs::read_to_string(dir.join(format!("src/.dev/{key}.grandchild")))
            .expect("grandchild pid")
            .trim()
            .parse()
            .expect("a pid")
    };
    let pids = [
        pid(&old("alpha")),
        pid(&old("beta")),
        grandchild("alpha"),
        grandchild("beta"),
    ];
    assert!(pids.iter().all(|&p| !gone(p)));
    let removed = ws.dev(&["env", "rm", "old", "--grace", "1s"]);
    assert!(
        removed.status.success(),
        "{}",
        String::from_utf8_lossy(&removed.stderr)
    );
    wait_gone(&pids);
    assert!(!dir.exists());
    assert_eq!(
        git(root, &["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
    // The default environment was left alone.
    assert_eq!(
        get(&ws.alpha_url(), "/_internal_/healthcheck").map(|(s, _)| s),
        Some(200)
    );
    let listed = dev_json(&ws, &["env", "ls"], 0);
    assert_eq!(
        listed["environments"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    up.signal(Signal::TERM);
    assert_eq!(up.wait_exit(SHORT).code(), Some(0), "{}", up.output());

    // A revision whose service crashes at start: create fails, says why, and
    // stops what it started; the folder stays for its logs until rm.
    write(&root.join("services/alpha/crash-on-start"), "");
    git(root, &["add", "--all"]);
    git(root, &["commit", "--quiet", "--message", "alpha: crash"]);
    let failed = ws.dev(&["env", "create", "crashy", "--only", "alpha"]);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("alpha exited (exit status: 3) before its healthcheck passed")
            && stderr.contains("crashing on start, as asked"),
        "{stderr}"
    );
    let dir = root.join(".dev/env/crashy");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("env.json")).expect("env.json"))
            .expect("JSON");
    let _guard = EnvGuard(vec![pid(&file["services"][0])]);
    wait_gone(&[pid(&file["services"][0])]);
    let refused = ws.dev(&["env", "create", "crashy"]);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("`dev env rm crashy` first"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(ws.dev(&["env", "rm", "crashy"]).status.success());
    assert!(!dir.exists());
    eprintln!("took {:.1}s", began.elapsed().as_secs_f64());
}

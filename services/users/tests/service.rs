//! The real `users` binary, started as `dev up` and production start it: on
//! SQLite with the `sqlite:` streams log (the embedded defaults, from a workspace
//! folder), and on PostgreSQL with NATS JetStream (configuration only). Each run
//! is checked by `dev verify`'s checks, the standard endpoints, and shutdown.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use blueprint_testkit::{ServiceProcess, TestNats, TestPostgres};
use serde_json::Value;

/// Variables the service reads, cleared so the test's environment cannot leak in.
const SERVICE_ENV: &[&str] = &[
    "PORT",
    "BLUEPRINT_BIND",
    "DATABASE_URL",
    "BLUEPRINT_STREAMS_URL",
    "BLUEPRINT_JWT_PUBLIC_KEY",
    "GIT_COMMIT",
    "RUST_LOG",
];

/// A workspace folder for one run: a `blueprint.toml`, `.dev/` made by the service.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("blueprint.toml"),
        "[services.users]\nport = 7101\n",
    )
    .expect("blueprint.toml");
    dir
}

/// `users ARGS` run from `cwd` with `env` (and nothing else the service reads).
fn users(cwd: &Path, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_users"));
    command.current_dir(cwd);
    for name in SERVICE_ENV {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command
}

fn migrate(cwd: &Path, env: &[(&str, &str)]) {
    let out = users(cwd, env)
        .arg("migrate")
        .output()
        .expect("users migrate");
    assert!(
        out.status.success(),
        "users migrate failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn spec_path() -> PathBuf {
    blueprint_testkit::workspace_root().join("services/users/spec/users.json")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

async fn get_json(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// What every run checks: `dev verify` passes, the healthcheck and version answer.
async fn check_running(service: &ServiceProcess) {
    let spec = blueprint_spec::load(&spec_path()).expect("users spec");
    let report = blueprint_verify::verify(&spec, &blueprint_verify::Options::new(service.url()))
        .await
        .expect("verify");
    let failures: Vec<String> = report
        .failures()
        .map(|(op, check)| {
            format!(
                "{} {}: {} -> {:?}: {}",
                op.method, op.path, check.request, check.status, check.detail
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "dev verify failed:\n{}\nservice output:\n{}",
        failures.join("\n"),
        service.output()
    );
    assert!(report.checks().count() > 10, "verify checked too little");

    let (status, health) = get_json(&format!("{}/_internal_/healthcheck", service.url())).await;
    assert_eq!(
        (status, health),
        (200, serde_json::json!({"status": "healthy"}))
    );

    let (status, version) = get_json(&format!("{}/_internal_/version", service.url())).await;
    assert_eq!(status, 200);
    assert_eq!(version["name"], "users");
    assert_eq!(version["spec_hash"], spec.source_hash().as_str());
    assert_eq!(version["spec_hash"], users_api::SERVICE.spec_hash);
    let commit = version["git_commit"].as_str().unwrap_or_default();
    let hex = commit.strip_suffix("-dirty").unwrap_or(commit);
    assert!(
        hex.len() == 40 && hex.chars().all(|c| c.is_ascii_hexdigit()),
        "git_commit is the build's commit: {version}"
    );
}

#[test]
fn sqlite_and_the_sqlite_log_by_default() {
    let ws = workspace();
    migrate(ws.path(), &[]);
    let mut service = ServiceProcess::start(users(ws.path(), &[])).expect("users starts");
    assert!(
        service.output().contains("listening on http://127.0.0.1:"),
        "{}",
        service.output()
    );
    assert!(
        ws.path().join(".dev/users.sqlite").is_file(),
        "the default database"
    );
    runtime().block_on(check_running(&service));
    let status = service.terminate(Duration::from_secs(30)).expect("stops");
    assert!(status.success(), "exit 0 on SIGTERM: {status}");
}

#[test]
fn postgres_and_jetstream_by_configuration_only() {
    let pg = match TestPostgres::start() {
        Ok(pg) => pg,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("note: no PostgreSQL ({e}); skipping");
            return;
        }
        Err(e) => panic!("PostgreSQL: {e}"),
    };
    let Some(nats) = TestNats::start() else {
        return;
    };
    let database = pg.database("users_service").expect("database");
    let env = [
        ("DATABASE_URL", database.as_str()),
        ("BLUEPRINT_STREAMS_URL", nats.url()),
    ];
    // Outside any workspace: the environment is the whole configuration.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    migrate(elsewhere.path(), &env);
    let mut service = ServiceProcess::start(users(elsewhere.path(), &env)).expect("users starts");
    runtime().block_on(check_running(&service));
    let status = service.terminate(Duration::from_secs(30)).expect("stops");
    assert!(status.success(), "exit 0 on SIGTERM: {status}");
}

#[test]
fn refuses_to_start_while_migrations_are_pending() {
    let ws = workspace();
    let out = users(ws.path(), &[]).output().expect("users");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pending migrations (0001_initial.sql): run `users migrate` first"),
        "{stderr}"
    );
}

#[test]
fn outside_a_workspace_the_database_must_be_configured() {
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let out = users(elsewhere.path(), &[]).output().expect("users");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DATABASE_URL is not set"), "{stderr}");
}

/// SIGTERM while a request waits on the database: the request is answered, then
/// the process exits 0.
#[test]
fn sigterm_lets_requests_in_flight_finish() {
    let ws = workspace();
    migrate(ws.path(), &[]);
    let mut service = ServiceProcess::start(users(ws.path(), &[])).expect("users starts");
    let url = format!("sqlite:{}", ws.path().join(".dev/users.sqlite").display());
    runtime().block_on(async {
        // Hold SQLite's write lock: the service's insert waits for it.
        let db = blueprint::db::Db::connect(&url).await.expect("database");
        let mut lock = db.begin().await.expect("begin");
        lock.conn()
            .execute_script("CREATE TABLE hold_the_write_lock (x INTEGER)")
            .await
            .expect("write lock");
        let post = tokio::spawn({
            let url = format!("{}/users", service.url());
            async move {
                reqwest::Client::new()
                    .post(url)
                    .json(&serde_json::json!({"email": "late@example.com", "name": {}}))
                    .send()
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        service.signal_terminate().expect("SIGTERM");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !post.is_finished(),
            "the request is still waiting on the lock"
        );
        lock.rollback().await.expect("release");
        let response = post.await.expect("task").expect("answered");
        assert_eq!(response.status().as_u16(), 201);
    });
    let status = service.wait(Duration::from_secs(30)).expect("exits");
    assert!(status.success(), "exit 0: {status}\n{}", service.output());
}

//! The real `events` binary for the tests, started as `dev up` and production
//! start it (`events migrate`, then `events`): on SQLite with the `sqlite:`
//! streams log, or on PostgreSQL with NATS JetStream. Tokens are signed by the
//! shared auth test keys (`blueprint_testkit::auth_cases`).

#![allow(dead_code)] // each test file uses a part

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use blueprint::db::Db;
use blueprint::stream::Streams;
use blueprint::uuid::Uuid;
use blueprint_testkit::auth_cases::{self, DEFAULT_KEYS, Recipe};
use blueprint_testkit::{ServiceProcess, TestNats, TestPostgres};
use serde_json::{Map, Value, json};

/// The users stream the service consumes.
pub const USERS_STREAM: &str = "io.blueprint.users.v0.user_event.json";

/// Variables the services read, cleared so the test's environment cannot leak in.
pub const SERVICE_ENV: &[&str] = &[
    "PORT",
    "BLUEPRINT_BIND",
    "DATABASE_URL",
    "BLUEPRINT_STREAMS_URL",
    "BLUEPRINT_JWT_PUBLIC_KEY",
    "GIT_COMMIT",
    "RUST_LOG",
];

/// Where the service keeps its data: a database and a streams backend (and the
/// servers behind them, stopped on drop).
pub struct Backend {
    pub name: &'static str,
    pub database_url: String,
    pub streams_url: String,
    dir: tempfile::TempDir,
    servers: Option<(TestPostgres, TestNats)>,
}

impl Backend {
    /// A SQLite file and the `sqlite:` log, in a folder of their own.
    pub fn sqlite() -> Backend {
        let dir = tempfile::tempdir().unwrap();
        Backend {
            name: "sqlite",
            database_url: format!("sqlite:{}", dir.path().join("events.sqlite").display()),
            streams_url: format!("sqlite:{}", dir.path().join("streams.sqlite").display()),
            dir,
            servers: None,
        }
    }

    /// A database on a throwaway PostgreSQL and a throwaway nats-server's
    /// JetStream; `None` when they are not installed (a failure under `CI`).
    pub fn postgres() -> Option<Backend> {
        let pg = match TestPostgres::start() {
            Ok(pg) => pg,
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!("note: no PostgreSQL ({e}); skipping");
                return None;
            }
            Err(e) => panic!("PostgreSQL: {e}"),
        };
        let nats = TestNats::start()?;
        Some(Backend {
            name: "postgres",
            database_url: pg.database("events").unwrap(),
            streams_url: nats.url().to_owned(),
            dir: tempfile::tempdir().unwrap(),
            servers: Some((pg, nats)),
        })
    }

    /// Another service's database on this backend: a SQLite file beside the
    /// events one, or another database on the same PostgreSQL.
    pub fn other_database(&self, name: &str) -> String {
        match &self.servers {
            Some((pg, _)) => pg.database(name).unwrap(),
            None => format!(
                "sqlite:{}",
                self.folder().join(format!("{name}.sqlite")).display()
            ),
        }
    }

    pub fn folder(&self) -> &Path {
        self.dir.path()
    }

    /// The service's database, opened by the test.
    pub async fn db(&self) -> Db {
        Db::connect(&self.database_url).await.unwrap()
    }

    /// The streams backend, opened by the test.
    pub async fn streams(&self) -> Streams {
        Streams::connect(&self.streams_url).await.unwrap()
    }

    /// `events ARGS` on this backend trusting `keys` (a file of the auth test
    /// keys; `None`: no public key configured), and nothing else the service reads.
    pub fn command(&self, keys: Option<&str>) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_events"));
        command.current_dir(self.folder());
        for name in SERVICE_ENV {
            command.env_remove(name);
        }
        command
            .env("DATABASE_URL", &self.database_url)
            .env("BLUEPRINT_STREAMS_URL", &self.streams_url);
        if let Some(keys) = keys {
            command.env("BLUEPRINT_JWT_PUBLIC_KEY", auth_cases::key_path(keys));
        }
        command
    }

    /// `events migrate`, then `events`, trusting the test key set; waits for the
    /// healthcheck.
    pub fn start(&self) -> ServiceProcess {
        self.start_with_keys(Some(DEFAULT_KEYS))
    }

    /// As [`Backend::start`], trusting `keys`.
    pub fn start_with_keys(&self, keys: Option<&str>) -> ServiceProcess {
        self.start_command(|| self.command(keys))
    }

    /// As [`Backend::start`], trusting the public key (or JWKS) file `public`.
    pub fn start_trusting(&self, public: &Path) -> ServiceProcess {
        self.start_command(|| {
            let mut command = self.command(None);
            command.env("BLUEPRINT_JWT_PUBLIC_KEY", public);
            command
        })
    }

    /// `events migrate`, then `events`, each made by `command`.
    fn start_command(&self, command: impl Fn() -> Command) -> ServiceProcess {
        let out = command().arg("migrate").output().unwrap();
        assert!(
            out.status.success(),
            "events migrate: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ServiceProcess::start(command()).unwrap_or_else(|e| panic!("events: {e}"))
    }
}

/// A token of `user` in `agency`, valid for an hour, signed by the test Ed25519
/// key the service trusts; with the role `role`, if any.
pub fn token(user: Uuid, agency: Uuid, role: Option<&str>) -> String {
    let mut claims = Map::new();
    claims.insert("u-id".into(), json!(user));
    claims.insert("a-id".into(), json!(agency));
    if let Some(role) = role {
        claims.insert("r".into(), json!(role));
    }
    Recipe::signed("ed25519", claims).token(auth_cases::now_ms())
}

/// An answer: status, `WWW-Authenticate`, the body as JSON (`Null` when empty or
/// not JSON) and as text.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub challenge: Option<String>,
    pub body: Value,
    pub text: String,
}

/// HTTP calls to the service, as one caller.
#[derive(Debug, Clone)]
pub struct Client {
    pub base: String,
    /// The whole `Authorization` header, if any.
    pub authorization: Option<String>,
    http: reqwest::Client,
}

impl Client {
    /// A caller presenting `token` (none: no `Authorization` header).
    pub fn new(service: &ServiceProcess, token: Option<String>) -> Client {
        Client::with_authorization(service, token.map(|t| format!("Bearer {t}")))
    }

    pub fn with_authorization(service: &ServiceProcess, authorization: Option<String>) -> Client {
        Client {
            base: service.url(),
            authorization,
            http: reqwest::Client::new(),
        }
    }

    /// A caller of `agency` with a fresh user id.
    pub fn of_agency(service: &ServiceProcess, agency: Uuid) -> Client {
        Client::new(service, Some(token(Uuid::new_v4(), agency, None)))
    }

    pub async fn send(&self, method: &str, path: &str, body: Option<&str>) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(authorization) = &self.authorization {
            request = request.header("authorization", authorization);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        Answer {
            status,
            challenge,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None).await
    }

    pub async fn post(&self, body: &Value) -> Answer {
        self.send("POST", "/events", Some(&body.to_string())).await
    }

    /// Record an event; the event answered.
    pub async fn record(&self, body: Value) -> Value {
        let answer = self.post(&body).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body
    }

    /// Every page of `GET path` (which has its own query, or none), `limit`
    /// events a page, following the cursor; the events and the number of pages.
    pub async fn all_pages(&self, path: &str, limit: usize) -> (Vec<Value>, usize) {
        let separator = if path.contains('?') { '&' } else { '?' };
        let first = format!("{path}{separator}limit={limit}");
        let mut events = Vec::new();
        let mut url = first.clone();
        let mut pages = 0;
        loop {
            let answer = self.get(&url).await;
            assert_eq!(answer.status, 200, "{url}: {}", answer.text);
            pages += 1;
            let page = answer.body["events"].as_array().unwrap();
            assert!(page.len() <= limit, "a page holds at most `limit` events");
            events.extend(page.iter().cloned());
            match answer.body["next_cursor"].as_str() {
                Some(next) => url = format!("{first}&cursor={}", encode(next)),
                None => return (events, pages),
            }
        }
    }
}

/// `value` percent-encoded for a query string.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The ids of `events`, in order.
pub fn ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Poll `done` every 20 ms until it holds; fails after `limit`.
pub async fn until<F, Fut>(what: &str, limit: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A runtime for one test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The spec file.
pub fn spec_path() -> PathBuf {
    blueprint_testkit::workspace_root().join("services/events/spec/events.json")
}

//! Every write to the real `users` binary is published on `user_event`: one event
//! per change, in order, with the journal's deterministic ids. On SQLite with the
//! `sqlite:` streams log (the embedded defaults), and on PostgreSQL with NATS
//! JetStream.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use blueprint::stream::{StartAt, StreamEvent, Streams};
use blueprint_testkit::{ServiceProcess, TestNats, TestPostgres};
use serde_json::{Value, json};
use users_api::models::{UserDeleted, UserEvent, UserUpserted};

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

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// `METHOD path` with an optional JSON body: the status and the JSON answer (null
/// when there is none).
async fn call(
    service: &ServiceProcess,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", service.url()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("answered");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("a JSON body")
    };
    (status, value)
}

/// Writes over HTTP, then the stream holds exactly their events, in order.
async fn writes_are_published(service: &ServiceProcess, streams_url: &str) {
    let (status, ada) = call(
        service,
        "POST",
        "/users",
        Some(json!({"email": "ada@example.com", "name": {"first": "Ada"}})),
    )
    .await;
    assert_eq!(status, 201, "{ada}");
    let (status, bob) = call(
        service,
        "POST",
        "/users",
        Some(json!({"email": "bob@example.com", "name": {"first": "Bob"}})),
    )
    .await;
    assert_eq!(status, 201, "{bob}");
    let ada_id = ada["id"].as_str().expect("an id");
    let bob_id = bob["id"].as_str().expect("an id");
    let renamed = json!({"email": "ada@example.com", "name": {"first": "Ada", "last": "Lovelace"}});
    let (status, _) = call(
        service,
        "PUT",
        &format!("/users/{ada_id}"),
        Some(renamed.clone()),
    )
    .await;
    assert_eq!(status, 200);
    // The same content again: nothing changes, nothing is published.
    let (status, _) = call(service, "PUT", &format!("/users/{ada_id}"), Some(renamed)).await;
    assert_eq!(status, 200);
    let (status, _) = call(service, "DELETE", &format!("/users/{bob_id}"), None).await;
    assert_eq!(status, 204);

    let streams = Streams::connect(streams_url).await.expect("streams");
    let stream = UserEvent::stream().name;
    let mut reader = streams
        .reader(&stream, StartAt::Earliest)
        .await
        .expect("reader");
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while events.len() < 4 && Instant::now() < deadline {
        if let Some(message) = reader.next(Duration::from_millis(500)).await.expect("read") {
            events.push(message.event);
        }
    }
    // Nothing more comes (the unchanged PUT published nothing).
    let extra = reader
        .next(Duration::from_millis(1500))
        .await
        .expect("read");
    assert!(extra.is_none(), "an event too many: {extra:?}");
    assert_eq!(
        events.len(),
        4,
        "the writes' events, in time:\n{}",
        service.output()
    );

    let decoded: Vec<UserEvent> = events
        .iter()
        .map(|e| serde_json::from_slice(&e.payload).expect("a user_event"))
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "user_upserted",
            "user_upserted",
            "user_upserted",
            "user_deleted"
        ]
    );
    let upserted = |i: usize| match &decoded[i] {
        UserEvent::UserUpserted(UserUpserted { event_id, user, .. }) => (event_id, user),
        other => panic!("event {i} is not an upsert: {other:?}"),
    };
    let (_, user) = upserted(0);
    assert_eq!(
        (user.id.as_str(), user.name.last.as_deref()),
        (ada_id, None)
    );
    let (_, user) = upserted(1);
    assert_eq!(user.id, bob_id);
    let (_, user) = upserted(2);
    assert_eq!(
        (user.id.as_str(), user.name.last.as_deref()),
        (ada_id, Some("Lovelace"))
    );
    let UserEvent::UserDeleted(UserDeleted { id, .. }) = &decoded[3] else {
        panic!("the last event is the delete: {:?}", decoded[3]);
    };
    assert_eq!(id, bob_id);
    // The envelope's id is the body's (the stream dedupes by it), one per change.
    for (event, body) in events.iter().zip(&decoded) {
        let body_id = match body {
            UserEvent::UserUpserted(e) => &e.event_id,
            UserEvent::UserDeleted(e) => &e.event_id,
            other => panic!("{other:?}"),
        };
        assert_eq!(&event.id, body_id);
    }
    let mut ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 4, "distinct event ids");

    // The healthcheck asks the publisher too; the metrics count what it sent.
    let (status, health) = call(service, "GET", "/_internal_/healthcheck", None).await;
    assert_eq!((status, health), (200, json!({"status": "healthy"})));
    let metrics = reqwest::get(format!("{}/_internal_/metrics", service.url()))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let published = format!("blueprint_events_published_total{{stream=\"{stream}\"}} 4");
    assert!(metrics.contains(&published), "{published} in:\n{metrics}");
}

#[test]
fn sqlite_writes_are_published_on_the_sqlite_log() {
    let ws = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        ws.path().join("blueprint.toml"),
        "[services.users]\nport = 7101\n",
    )
    .expect("blueprint.toml");
    migrate(ws.path(), &[]);
    let mut service = ServiceProcess::start(users(ws.path(), &[])).expect("users starts");
    // The embedded default: the workspace's shared log.
    let log = format!("sqlite:{}", ws.path().join(".dev/streams.sqlite").display());
    runtime().block_on(writes_are_published(&service, &log));
    let status = service.terminate(Duration::from_secs(30)).expect("stops");
    assert!(status.success(), "exit 0 on SIGTERM: {status}");
}

#[test]
fn postgres_writes_are_published_on_jetstream() {
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
    let database = pg.database("users_events").expect("database");
    let env = [
        ("DATABASE_URL", database.as_str()),
        ("BLUEPRINT_STREAMS_URL", nats.url()),
    ];
    let elsewhere = tempfile::tempdir().expect("temp dir");
    migrate(elsewhere.path(), &env);
    let mut service = ServiceProcess::start(users(elsewhere.path(), &env)).expect("users starts");
    runtime().block_on(writes_are_published(&service, nats.url()));
    let status = service.terminate(Duration::from_secs(30)).expect("stops");
    assert!(status.success(), "exit 0 on SIGTERM: {status}");
}

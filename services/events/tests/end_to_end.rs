//! The real `users` and `events` binaries side by side on one streams backend:
//! a user created through the users API is published on `user_event`, records
//! events here under its token, is deleted through the users API, and the events
//! service anonymises its events (the personal data erased, the events kept).
//! How long that took from the DELETE's answer is printed: a figure, not an
//! assertion (the machine is shared); only a generous bound is asserted.
//! On SQLite with the `sqlite:` log, and on PostgreSQL with NATS JetStream.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use blueprint::stream::StartAt;
use blueprint::uuid::Uuid;
use blueprint_testkit::ServiceProcess;
use events_api::models::io_blueprint_users_v0::{UserEvent, UserUpserted};
use serde_json::{Value, json};
use support::{Backend, Client, SERVICE_ENV, USERS_STREAM, runtime, token, until};

/// The generous bound on every wait (the requirement is a second; the figure is
/// printed).
const WAIT: Duration = Duration::from_secs(30);

#[test]
fn on_sqlite_and_the_sqlite_log() {
    run(&Backend::sqlite());
}

#[test]
fn on_postgres_and_jetstream() {
    if let Some(backend) = Backend::postgres() {
        run(&backend);
    }
}

/// `users ARGS` on `backend`'s streams with the database `database_url`, and
/// nothing else the service reads.
fn users(binary: &Path, backend: &Backend, database_url: &str) -> Command {
    let mut command = Command::new(binary);
    command.current_dir(backend.folder());
    for name in SERVICE_ENV {
        command.env_remove(name);
    }
    command
        .env("DATABASE_URL", database_url)
        .env("BLUEPRINT_STREAMS_URL", &backend.streams_url);
    command
}

/// `users migrate`, then `users`; waits for the healthcheck.
fn start_users(backend: &Backend) -> ServiceProcess {
    let binary = blueprint_testkit::cargo_bin("users-service", "users");
    let database_url = backend.other_database("users");
    let out = users(&binary, backend, &database_url)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "users migrate: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    ServiceProcess::start(users(&binary, backend, &database_url))
        .unwrap_or_else(|e| panic!("users: {e}"))
}

fn personal(kind: &str) -> Value {
    json!({
        "type": kind,
        "data": {"page": "/home"},
        "ip_address": "192.0.2.1",
        "user_agent": "Mozilla/5.0",
    })
}

fn run(backend: &Backend) {
    let rt = runtime();
    // The users service first: its publisher creates the stream events consumes.
    let users = start_users(backend);
    let events = backend.start();
    let http = reqwest::Client::new();
    let agency = Uuid::new_v4();
    let admin = Client::new(&events, Some(token(Uuid::new_v4(), agency, Some("admin"))));

    rt.block_on(async {
        // 1. A user, created through the users API.
        let created = http
            .post(format!("{}/users", users.url()))
            .json(&json!({"email": "ada@example.com", "name": {"first": "Ada"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let user: Value = created.json().await.unwrap();
        let user_id = user["id"].as_str().unwrap().to_owned();

        // 2. Its `user_upserted` on `user_event`, as the events service reads it.
        let streams = backend.streams().await;
        let mut reader = streams
            .reader(USERS_STREAM, StartAt::Earliest)
            .await
            .unwrap();
        let message = reader
            .next(WAIT)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no user_upserted within {WAIT:?}:\n{}", users.output()));
        assert_eq!(message.event.event_type, "user_upserted");
        let UserEvent::UserUpserted(UserUpserted {
            user: published, ..
        }) = serde_json::from_slice(&message.event.payload).unwrap()
        else {
            panic!("not a user_upserted: {:?}", message.event);
        };
        assert_eq!(published.id, user_id);

        // 3. Events of that user, under a token naming it as tokens do: the
        // uuid behind the users service's `usr-` + 32 hex digits.
        let token_user = Uuid::parse_str(user_id.strip_prefix("usr-").unwrap()).unwrap();
        let as_user = Client::new(&events, Some(token(token_user, agency, None)));
        for kind in ["login", "view", "logout"] {
            as_user.record(personal(kind)).await;
        }
        let of_user = format!("/events?user_id={token_user}");
        let (before, _) = admin.all_pages(&of_user, 100).await;
        assert_eq!(before.len(), 3);
        assert!(before.iter().all(|e| e["ip_address"] == "192.0.2.1"));

        // 4. The user, deleted through the users API.
        let deleted = http
            .delete(format!("{}/users/{user_id}", users.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 204);
        let answered = Instant::now();

        // 5. Its events, anonymised.
        let erased = |events: &[Value]| {
            events.iter().all(|e| {
                e.get("ip_address").is_none_or(Value::is_null)
                    && e.get("user_agent").is_none_or(Value::is_null)
            })
        };
        until("the deleted user's events are anonymised", WAIT, || async {
            erased(&admin.all_pages(&of_user, 100).await.0)
        })
        .await;
        let latency = answered.elapsed();
        println!(
            "{}: DELETE answered -> events anonymised in {:.0} ms",
            backend.name,
            latency.as_secs_f64() * 1000.0
        );
        let (after, _) = admin.all_pages(&of_user, 100).await;
        assert_eq!(after.len(), before.len(), "the events are kept");
        for (was, is) in before.iter().zip(&after) {
            for field in ["id", "agency_id", "user_id", "type", "occurred_at", "data"] {
                assert_eq!(was[field], is[field], "{field} is kept");
            }
        }
    });
    drop(events);
    drop(users);
}

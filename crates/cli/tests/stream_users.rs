//! `dev stream tail` on the real users service: a tail started `--from latest`
//! prints the `user_upserted` event of a user created over HTTP. Both run in one
//! scratch workspace on the embedded defaults (SQLite database, the shared
//! `sqlite:.dev/streams.sqlite` log), so the tail finds the log as the service
//! does. How long the event took from the POST to the tail's output is printed
//! (a figure, not an assertion: the machine is shared).
//!
//! The `users` binary is built with cargo, as `dev up` builds services.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use blueprint_testkit::ServiceProcess;
use serde_json::{Value, json};

const STREAM: &str = "io.blueprint.users.v0.user_event.json";

/// Variables the service and `dev` read, cleared so the test's environment cannot leak in.
const ENV: &[&str] = &[
    "PORT",
    "BLUEPRINT_BIND",
    "DATABASE_URL",
    "BLUEPRINT_STREAMS_URL",
    "BLUEPRINT_JWT_PUBLIC_KEY",
    "RUST_LOG",
];

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn clean(command: &mut Command) -> &mut Command {
    for name in ENV {
        command.env_remove(name);
    }
    command
}

/// Kills the tail if the test fails before it exits.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn tail_prints_a_user_written_through_the_service() {
    let users = blueprint_testkit::cargo_bin("users-service", "users");
    let ws = tempfile::Builder::new()
        .prefix("dev-stream-users-")
        .tempdir()
        .unwrap();
    let root = ws.path();
    std::fs::copy(
        repository().join("services/users/spec/users.json"),
        root.join("users.json"),
    )
    .unwrap();
    std::fs::write(
        root.join("blueprint.toml"),
        "[workspace]\nspecs = [\"users.json\"]\n",
    )
    .unwrap();

    let migrated = clean(Command::new(&users).arg("migrate").current_dir(root))
        .output()
        .unwrap();
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let mut command = Command::new(&users);
    clean(command.current_dir(root));
    // The publisher creates the stream before the service listens.
    let service = ServiceProcess::start(command).expect("users starts");

    let mut tail = Killed(
        clean(&mut Command::new(env!("CARGO_BIN_EXE_dev")))
            .args([
                "stream",
                "tail",
                "user_event",
                "--from",
                "latest",
                "--limit",
                "1",
                "--timeout",
                "30",
                "--format",
                "json",
            ])
            .current_dir(root)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut err = BufReader::new(tail.0.stderr.take().unwrap());
    let mut following = String::new();
    err.read_line(&mut following).unwrap();
    assert!(
        following.starts_with(&format!("following {STREAM} from latest")),
        "{following}"
    );
    // The tail's output, each line with the moment it came.
    let stdout = BufReader::new(tail.0.stdout.take().unwrap());
    let (lines, printed) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            if lines.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sent = Instant::now();
    let (status, user) = runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(format!("{}/users", service.url()))
            .json(&json!({"email": "grace@example.com", "name": {"first": "Grace"}}))
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json::<Value>().await.unwrap(),
        )
    });
    let answered = Instant::now();
    assert_eq!(status, 201, "{user}");

    let (at, line) = printed
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| {
            panic!(
                "the tail printed nothing; the service:\n{}",
                service.output()
            )
        });
    let event: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event["stream"], STREAM);
    assert_eq!(event["type"], "user_upserted");
    assert_eq!(event["payload"]["user"], user, "{line}");
    assert_eq!(event["payload"]["event_id"], event["id"]);
    println!(
        "dev stream tail printed the user_upserted event {:.1} ms after the POST was sent ({:.1} ms after it was answered)",
        (at - sent).as_secs_f64() * 1e3,
        at.saturating_duration_since(answered).as_secs_f64() * 1e3
    );
    let exit = tail.0.wait().unwrap();
    assert!(exit.success(), "the tail exits 0 after --limit 1: {exit}");
}

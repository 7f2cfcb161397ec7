//! `dev stream failures` on SQLite: the inbox of a consuming service (the `search`
//! fixture's migrations, applied by `dev db migrate`), listed and retried.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use blueprint::db::Db;

fn dev(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(args)
        .current_dir(cwd)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run dev")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

const STREAM: &str = "io.blueprint.catalog.v0.product_event.json";

#[tokio::test]
async fn failures_are_listed_and_retried() {
    let dir = scratch("dev-stream-failures");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../codegen/tests/fixtures/search.json");
    let generated = dev(
        &dir,
        &[
            "gen",
            "--spec",
            &spec.to_string_lossy(),
            "--out",
            "api",
            "--generators",
            "sql-sqlite",
        ],
    );
    assert!(generated.status.success(), "{}", text(&generated));
    let migrate = dev(
        &dir,
        &[
            "db",
            "migrate",
            "--service",
            "search",
            "--migrations",
            "api/migrations",
        ],
    );
    assert!(migrate.status.success(), "{}", text(&migrate));

    // What the driver leaves: one event parked, one waiting for a retry, one applied.
    let db = Db::connect(&format!(
        "sqlite:{}",
        dir.join(".dev/search.sqlite").display()
    ))
    .await
    .unwrap();
    db.execute_script(&format!(
        r#"INSERT INTO "_blueprint_inbox"
             ("event_id", "stream", "sequence", "event_type", "event_timestamp", "payload",
              "status", "attempts", "last_error", "next_attempt_at")
           VALUES
             ('e1', '{STREAM}', 1, 'product_upserted', '2026-01-01T00:00:00.000Z', X'7B7D',
              'parked', 8, 'poisoned', '2026-01-01T00:10:00.000Z'),
             ('e2', '{STREAM}', 2, 'product_upserted', '2026-01-01T00:00:00.000Z', X'7B7D',
              'pending', 2, 'timed out', '2999-01-01T00:00:00.000Z'),
             ('e3', '{STREAM}', 3, 'product_deleted', '2026-01-01T00:00:00.000Z', X'7B7D',
              'applied', 1, NULL, '2026-01-01T00:00:00.000Z');"#
    ))
    .await
    .unwrap();

    let list = dev(&dir, &["stream", "failures", "--service", "search"]);
    assert!(list.status.success(), "{}", text(&list));
    let out = String::from_utf8_lossy(&list.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("EVENT"), "{out}");
    assert!(
        lines[1].starts_with("e1") && lines[1].contains("parked") && lines[1].ends_with("poisoned"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("e2") && lines[2].contains("retry at 2999-01-01"),
        "{out}"
    );
    assert!(
        text(&list).contains("2 failed events (1 parked)"),
        "{}",
        text(&list)
    );

    let json = dev(
        &dir,
        &[
            "stream",
            "failures",
            "--service",
            "search",
            "--format",
            "json",
        ],
    );
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value[0]["event_id"], "e1");
    assert_eq!(value[0]["status"], "parked");
    assert_eq!(value[0]["attempts"], 8);
    assert_eq!(value[0]["payload"], "{}");
    assert_eq!(value[1]["status"], "retrying");

    let retry = dev(
        &dir,
        &["stream", "failures", "--service", "search", "--retry", "e1"],
    );
    assert!(retry.status.success(), "{}", text(&retry));
    let unknown = dev(
        &dir,
        &["stream", "failures", "--service", "search", "--retry", "e3"],
    );
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));
    assert!(
        text(&unknown).contains("no failed event `e3`"),
        "{}",
        text(&unknown)
    );
    let after = dev(
        &dir,
        &[
            "stream",
            "failures",
            "--service",
            "search",
            "--format",
            "json",
        ],
    );
    let value: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    assert_eq!(value[0]["status"], "retrying");
    assert_eq!(value[0]["attempts"], 0);

    let all = dev(
        &dir,
        &[
            "stream",
            "failures",
            "--service",
            "search",
            "--retry-all",
            "--stream",
            STREAM,
        ],
    );
    assert!(
        text(&all).contains("2 events will be tried again now"),
        "{}",
        text(&all)
    );
    db.close().await;
}

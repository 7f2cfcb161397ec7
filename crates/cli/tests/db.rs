//! `dev db` on SQLite end to end: `dev gen` writes migrations, `dev db` applies
//! them, reports status, refuses an edited migration, resets.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dev(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(args)
        .current_dir(cwd)
        // The default database, not one from the environment.
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

#[test]
fn generate_migrate_status_edit_reset() {
    let dir = scratch("dev-db");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../codegen/tests/db/users.json");
    let spec = spec.to_string_lossy();
    let out = dev(
        &dir,
        &[
            "gen",
            "--spec",
            &spec,
            "--out",
            "api",
            "--generators",
            "sql-postgres,sql-sqlite",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(dir.join("api/migrations/sqlite/0001_initial.sql").is_file());
    assert!(
        dir.join("api/migrations/postgres/0001_initial.sql")
            .is_file()
    );

    let db = ["--service", "users", "--migrations", "api/migrations"];
    let run = |cmd: &str, extra: &[&str]| {
        let mut args = vec!["db", cmd];
        args.extend(db);
        args.extend(extra);
        dev(&dir, &args)
    };
    let status = run("status", &[]);
    assert_eq!(status.status.code(), Some(1), "pending: {}", text(&status));
    assert!(text(&status).contains("0001_initial.sql"));
    assert!(text(&status).contains("pending"));

    let migrate = run("migrate", &[]);
    assert!(migrate.status.success(), "{}", text(&migrate));
    assert!(text(&migrate).contains("applied 0001_initial.sql"));
    assert!(dir.join(".dev/users.sqlite").is_file());
    let status = run("status", &[]);
    assert!(status.status.success(), "{}", text(&status));

    // An applied migration edited: refused, with the file named.
    let file = dir.join("api/migrations/sqlite/0001_initial.sql");
    let mut sql = std::fs::read_to_string(&file).unwrap();
    sql.push_str("\n-- edited\n");
    std::fs::write(&file, sql).unwrap();
    let migrate = run("migrate", &[]);
    assert_eq!(migrate.status.code(), Some(2));
    assert!(
        text(&migrate).contains("0001_initial.sql was edited"),
        "{}",
        text(&migrate)
    );

    // A replay re-queues the journal (empty here: nothing was written); an unknown
    // table is an error.
    let replay = |extra: &[&str]| {
        let mut args = vec!["stream", "replay", "--service", "users"];
        args.extend(extra);
        dev(&dir, &args)
    };
    let out = replay(&["--table", "users"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("re-queued 0 journal records of `users`"),
        "{}",
        text(&out)
    );
    let out = replay(&["--table", "users", "--since", "2024-05-01T10:00:00Z"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = replay(&["--table", "nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("not a journaled table"),
        "{}",
        text(&out)
    );
    let out = replay(&["--table", "users", "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("RFC 3339"), "{}", text(&out));

    // Reset needs confirmation, then drops and re-applies (the edited file included).
    let reset = run("reset", &[]);
    assert_eq!(reset.status.code(), Some(2));
    assert!(text(&reset).contains("--yes"));
    let reset = run("reset", &["--yes"]);
    assert!(reset.status.success(), "{}", text(&reset));
    assert!(run("status", &[]).status.success());
}

#[test]
fn default_paths_are_relative_to_the_workspace_root() {
    // A workspace whose blueprint.toml names the migrations; `dev db` run from the
    // root and from a subfolder must use the one database at the root's `.dev/`.
    let dir = scratch("dev-db-subfolder");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../codegen/tests/db/users.json");
    let out = dev(
        &dir,
        &[
            "gen",
            "--spec",
            &spec.to_string_lossy(),
            "--out",
            "api",
            "--generators",
            "sql-postgres,sql-sqlite",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    std::fs::write(
        dir.join("blueprint.toml"),
        "[db]\nservice = \"users\"\nmigrations = \"api/migrations\"\n",
    )
    .unwrap();
    let sub = dir.join("services/users/src");
    std::fs::create_dir_all(&sub).unwrap();

    let migrate = dev(&dir, &["db", "migrate"]);
    assert!(migrate.status.success(), "{}", text(&migrate));
    let status = dev(&sub, &["db", "status"]);
    assert!(
        status.status.success(),
        "applied at the root: {}",
        text(&status)
    );
    assert!(
        text(&status).contains("0001_initial.sql"),
        "{}",
        text(&status)
    );
    assert!(dir.join(".dev/users.sqlite").is_file());
    let stray: Vec<PathBuf> = [dir.join("services"), dir.join("services/users"), sub]
        .into_iter()
        .map(|d| d.join(".dev"))
        .filter(|d| d.exists())
        .collect();
    assert!(stray.is_empty(), "a second .dev: {stray:?}");
}

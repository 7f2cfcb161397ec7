//! `dev release` on scratch git repositories (`tests/release/`).
//!
//! `base/` is a workspace; each `cases/<case>/` lists in `tags` the release tags
//! already on the base commit, and may hold a `change/` folder committed on top.
//! Snapshots hold the exit code, `dev release --format json`, and the tags after.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const IDENTITY: [(&str, &str); 4] = [
    ("GIT_AUTHOR_NAME", "t"),
    ("GIT_AUTHOR_EMAIL", "t@example.com"),
    ("GIT_COMMITTER_NAME", "t"),
    ("GIT_COMMITTER_EMAIL", "t@example.com"),
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/release")
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("readable") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .envs(IDENTITY)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn dev(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(args)
        .envs(IDENTITY)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("dev runs")
}

/// The base workspace committed, `tags` on it, `change/` committed on top.
fn repo(case: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    copy_tree(&dir().join("base"), root);
    git(root, &["init", "--quiet", "--initial-branch=main"]);
    git(root, &["add", "--all"]);
    git(root, &["commit", "--quiet", "--message", "base"]);
    let tags = std::fs::read_to_string(case.join("tags")).expect("tags file");
    for tag in tags.lines().filter(|l| !l.trim().is_empty()) {
        git(root, &["tag", "--annotate", tag, "--message", tag]);
    }
    if case.join("change").is_dir() {
        copy_tree(&case.join("change"), root);
        git(root, &["add", "--all"]);
        git(root, &["commit", "--quiet", "--message", "change"]);
    }
    tmp
}

#[test]
fn releases_tag_what_changed() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir().join("cases"))
        .expect("cases")
        .map(|e| e.expect("entry").path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 5);
    for case in cases {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let tmp = repo(&case);
        let out = dev(tmp.path(), &["release", "--format", "json"]);
        let code = out.status.code().unwrap_or(-1);
        assert!(
            code == 0 || code == 1,
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tags = git(tmp.path(), &["tag", "--list", "-n1", "--sort=refname"]);
        insta::assert_snapshot!(
            name,
            format!(
                "exit {code}\n{}\ntags:\n{tags}",
                String::from_utf8_lossy(&out.stdout)
            )
        );
    }
}

#[test]
fn release_needs_a_clean_tree_and_a_dry_run_tags_nothing() {
    let tmp = repo(&dir().join("cases/patch"));
    std::fs::write(tmp.path().join("services/users/src/main.rs"), "// dirty\n").expect("write");
    let dirty = dev(tmp.path(), &["release"]);
    assert_eq!(dirty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&dirty.stderr).contains("commit them first"));
    git(tmp.path(), &["checkout", "--", "."]);
    let before = git(tmp.path(), &["tag", "--list"]);
    let dry = dev(tmp.path(), &["release", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0));
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(text.contains("users: 0.1.0 -> 0.1.1"), "{text}");
    assert!(text.contains("mail: unchanged since 1.0.0"), "{text}");
    assert_eq!(git(tmp.path(), &["tag", "--list"]), before);
    // Released and pushed: the remote has the tag; a second run finds nothing new.
    let remote = tempfile::tempdir().expect("tempdir");
    git(remote.path(), &["init", "--quiet", "--bare"]);
    git(
        tmp.path(),
        &["remote", "add", "origin", &remote.path().to_string_lossy()],
    );
    assert_eq!(
        dev(tmp.path(), &["release", "--push"]).status.code(),
        Some(0)
    );
    let pushed = git(remote.path(), &["tag", "--list"]);
    assert_eq!(pushed, "users-v0.1.1\n");
    let again = dev(tmp.path(), &["release"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to release"));
}

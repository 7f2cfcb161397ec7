//! `dev deps` on a scratch Cargo workspace (`tests/deps/workspace/`) whose
//! crates.io is replaced, in `.cargo/config.toml`, by a local registry holding the
//! fixture index: the same path cargo's own source replacement takes, no network.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/deps/workspace")
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

fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(&fixture(), tmp.path());
    std::fs::create_dir_all(tmp.path().join(".cargo")).expect("mkdir");
    std::fs::write(
        tmp.path().join(".cargo/config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"fixture\"\n\n[source.fixture]\nlocal-registry = \"{}\"\n",
            tmp.path().join("registry").display()
        ),
    )
    .expect("write config");
    tmp
}

fn dev(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("dev runs")
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn report_and_upgrade_plan() {
    let tmp = workspace();
    insta::assert_snapshot!(
        "deps_report",
        ok(&dev(tmp.path(), &["deps", "--offline", "--format", "json"]))
    );
    insta::assert_snapshot!(
        "deps_report_text",
        ok(&dev(tmp.path(), &["deps", "--offline"]))
    );
    insta::assert_snapshot!(
        "deps_upgrade_plan",
        ok(&dev(
            tmp.path(),
            &[
                "deps",
                "upgrade",
                "--offline",
                "--dry-run",
                "--format",
                "json"
            ]
        ))
    );
}

#[test]
fn upgrade_keeps_batches_that_pass_and_undoes_the_others() {
    let tmp = workspace();
    let users = tmp.path().join("services/users/Cargo.toml");
    let before = std::fs::read_to_string(&users).expect("read");
    // The check stands in for build + tests: heck 0.5 "breaks" the users service.
    let check = "! grep -q 'heck = \"0.5\"' services/users/Cargo.toml";
    let summary = tmp.path().join("summary.md");
    ok(&dev(
        tmp.path(),
        &[
            "deps",
            "upgrade",
            "--offline",
            "--check",
            check,
            "--summary",
            &summary.to_string_lossy(),
        ],
    ));
    let after = std::fs::read_to_string(&users).expect("read");
    assert_eq!(
        after,
        before.replace("insta = \"1\"", "insta = \"2\""),
        "insta's batch is kept, heck's undone, the rest of the file untouched"
    );
    insta::assert_snapshot!(
        "deps_upgrade_summary",
        std::fs::read_to_string(&summary).expect("summary")
    );
}

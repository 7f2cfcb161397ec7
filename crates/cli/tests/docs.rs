//! `dev docs`: the workspace's site written where asked, replaced on a second run,
//! a folder it did not write refused, an invalid spec reported.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn dev(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run dev")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn writes_the_workspace_site_and_replaces_its_own() {
    let out = scratch("docs-site");
    let out_arg = out.to_str().expect("utf-8 path");
    let first = dev(&["docs", "--out", out_arg]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert!(out.join("index.html").is_file());
    assert!(out.join("users/index.html").is_file());
    assert!(out.join("users/asyncapi.json").is_file());

    // A page of a service that is gone does not survive the next run.
    std::fs::create_dir_all(out.join("gone")).expect("mkdir");
    std::fs::write(out.join("gone/index.html"), "old").expect("write");
    let second = dev(&["docs", "--out", out_arg]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert!(!out.join("gone").exists());
    assert!(out.join("users/index.html").is_file());
}

#[test]
fn refuses_a_folder_it_did_not_write() {
    let out = scratch("docs-foreign");
    std::fs::create_dir_all(&out).expect("mkdir");
    std::fs::write(out.join("notes.txt"), "mine").expect("write");
    let run = dev(&["docs", "--out", out.to_str().expect("utf-8 path")]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(text(&run).contains("was not written by `dev docs`"));
    assert!(out.join("notes.txt").is_file(), "nothing was removed");
}

#[test]
fn an_invalid_spec_is_reported_and_nothing_written() {
    let dir = scratch("docs-invalid");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let spec = dir.join("bad.json");
    std::fs::write(
        &spec,
        r#"{"name": "bad", "models": {"a": {"fields": [{"name": "x", "type": "nope"}]}}}"#,
    )
    .expect("write");
    let out = dir.join("site");
    let run = dev(&[
        "docs",
        spec.to_str().expect("utf-8 path"),
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(text(&run).contains("nope"), "{}", text(&run));
    assert!(!out.exists());
}

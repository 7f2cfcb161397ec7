//! `dev graph` and `dev plan` over a folder of workspaces (`tests/workspaces/<case>/`).
//!
//! Each case is copied into a fresh git repository and committed. When it has a
//! `change/` folder, its files are then copied over the working tree (uncommitted)
//! and the plan is `dev plan --since HEAD`; otherwise `dev plan` plans every
//! service. Snapshots hold the exit code and the JSON of each command.

use std::path::{Path, PathBuf};
use std::process::Command;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/workspaces")
}

fn copy_tree(from: &Path, to: &Path, skip: &str) {
    for entry in std::fs::read_dir(from).expect("readable") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if name == skip {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target, "");
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn dev(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("dev runs");
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "dev {args:?} failed ({code}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("exit {code}\n{}", String::from_utf8_lossy(&out.stdout))
}

/// A scratch git repository holding the case, with `change/` applied if any.
fn checkout(case: &Path) -> (tempfile::TempDir, bool) {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(case, tmp.path(), "change");
    git(tmp.path(), &["init", "--quiet", "--initial-branch=main"]);
    git(tmp.path(), &["add", "--all"]);
    git(tmp.path(), &["commit", "--quiet", "--message", "base"]);
    let change = case.join("change");
    let changed = change.is_dir();
    if changed {
        copy_tree(&change, tmp.path(), "");
    }
    (tmp, changed)
}

#[test]
fn graph_and_plan_snapshots() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("cases")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 6, "expected the workspace cases");
    for case in cases {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let (tmp, changed) = checkout(&case);
        let graph = dev(tmp.path(), &["graph", "--format", "json"]);
        insta::assert_snapshot!(format!("{name}__graph"), graph);
        let plan = if changed {
            dev(tmp.path(), &["plan", "--since", "HEAD", "--format", "json"])
        } else {
            dev(tmp.path(), &["plan", "--format", "json"])
        };
        insta::assert_snapshot!(format!("{name}__plan"), plan);
        // Every other format renders the same graph.
        for format in ["text", "dot", "mermaid", "svg"] {
            let out = dev(tmp.path(), &["graph", "--format", format]);
            let services: Vec<serde_json::Value> = serde_json::from_str::<serde_json::Value>(
                graph.split_once('\n').expect("exit line").1,
            )
            .expect("json")["services"]
                .as_array()
                .expect("services")
                .clone();
            for s in services {
                let n = s["name"].as_str().expect("name");
                assert!(
                    out.contains(n),
                    "{name}: --format {format} lacks {n}:\n{out}"
                );
            }
        }
    }
}

#[test]
fn text_outputs_read_well() {
    let (tmp, _) = checkout(&cases_dir().join("shop"));
    insta::assert_snapshot!("shop__graph_text", dev(tmp.path(), &["graph"]));
    insta::assert_snapshot!(
        "shop__plan_text",
        dev(tmp.path(), &["plan", "--since", "HEAD"])
    );
    insta::assert_snapshot!(
        "shop__graph_dot",
        dev(tmp.path(), &["graph", "--format", "dot"])
    );
    insta::assert_snapshot!(
        "shop__graph_mermaid",
        dev(tmp.path(), &["graph", "--format", "mermaid"])
    );
    let svg = dev(tmp.path(), &["graph", "--format", "svg"]);
    assert!(
        svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    assert_eq!(
        svg,
        dev(tmp.path(), &["graph", "--format", "svg"]),
        "the SVG is deterministic"
    );
}

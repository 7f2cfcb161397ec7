//! `dev lint` end to end: exit codes, formats, config, workspace discovery.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CLEAN: &str = r#"{
  "name": "users",
  "models": {
    "user": {"fields": [{"name": "id", "type": "string"}, {"name": "created_at", "type": "date-time-iso8601"}]}
  },
  "resources": {
    "user": {
      "operations": [
        {"method": "GET", "path": "/:id", "responses": {"200": {"type": "user"}, "404": {"type": "unit"}}}
      ]
    }
  }
}"#;

/// `created_at: string` breaks `field-common-types` (a warning).
fn with_warning() -> String {
    CLEAN.replace(r#""type": "date-time-iso8601""#, r#""type": "string""#)
}

/// A scratch workspace: `blueprint.toml` plus `services/users/spec/users.json`.
struct Workspace(PathBuf);

impl Workspace {
    fn new(name: &str, toml: &str, spec: &str) -> Workspace {
        let root = std::env::temp_dir().join(format!("dev-lint-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let spec_dir = root.join("services/users/spec");
        std::fs::create_dir_all(&spec_dir).expect("mkdir");
        std::fs::write(root.join("blueprint.toml"), toml).expect("write toml");
        std::fs::write(spec_dir.join("users.json"), spec).expect("write spec");
        Workspace(root)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    fn dev(&self, args: &[&str]) -> Output {
        dev_in(&self.0, args)
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dev_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dev"))
        .arg("lint")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("dev runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Findings are diagnostics: on stderr, whatever the format; stdout stays empty.
fn findings(o: &Output) -> String {
    assert_eq!(stdout(o), "", "findings go to stderr");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn clean_workspace_exits_0() {
    let ws = Workspace::new("clean", "", CLEAN);
    let out = ws.dev(&["--format", "short"]);
    assert_eq!(out.status.code(), Some(0), "{}", findings(&out));
    assert_eq!(findings(&out), "");
}

#[test]
fn findings_exit_1_unless_only_errors_are_denied() {
    let ws = Workspace::new("warn", "", &with_warning());
    let out = ws.dev(&["--format", "short"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        findings(&out).trim(),
        "warning[field-common-types] services/users/spec/users.json:4:90: field `user.created_at` has type `string`, expected `date-time-iso8601`"
            .replace("services/users/spec/users.json", &ws.path("services/users/spec/users.json").display().to_string())
    );
    let out = ws.dev(&["--format", "short", "--deny", "errors"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn the_loaders_warnings_are_shown_but_do_not_fail() {
    // A key repeated with the same value: the spec loads, with a warning.
    let spec = CLEAN.replace(
        r#"{"name": "id", "type": "string"}"#,
        r#"{"name": "id", "type": "string", "required": true, "required": true}"#,
    );
    let ws = Workspace::new("load-warning", "", &spec);
    let out = ws.dev(&["--format", "short"]);
    assert_eq!(out.status.code(), Some(0), "{}", findings(&out));
    assert!(
        findings(&out).contains("warning[spec/duplicate-key]"),
        "{}",
        findings(&out)
    );
}

#[test]
fn config_selects_rules_and_rejects_unknown_ones() {
    let ws = Workspace::new(
        "config",
        "[lint]\nexcept = [\"field-common-types\"]\n",
        &with_warning(),
    );
    assert_eq!(ws.dev(&[]).status.code(), Some(0));

    std::fs::write(ws.path("other.toml"), "[lint]\nuse = [\"standrd\"]\n").expect("write");
    let out = ws.dev(&["--config", "other.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown rule or category `standrd`"), "{err}");
}

#[test]
fn explicit_files_json_format() {
    let ws = Workspace::new("json", "", &with_warning());
    let out = ws.dev(&["services/users/spec/users.json", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(&findings(&out)).expect("json output");
    let list = doc["diagnostics"].as_array().expect("diagnostics list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["code"], "field-common-types");
    assert_eq!(list[0]["line"], 4);
}

#[test]
fn invalid_spec_exits_1_missing_file_exits_2() {
    let ws = Workspace::new(
        "invalid",
        "",
        r#"{"name": "users", "models": {"user": {"fields": [{"name": "id", "type": "nope"}]}}}"#,
    );
    let out = ws.dev(&["--format", "short"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(findings(&out).contains("error[spec/"), "{}", findings(&out));

    let out = ws.dev(&["nope.json"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn list_rules_in_json() {
    let out = dev_in(Path::new("."), &["--list-rules", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let ids: Vec<&str> = doc["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    let expected: Vec<&str> = blueprint_lint::rules().iter().map(|r| r.id).collect();
    assert_eq!(ids, expected);
}

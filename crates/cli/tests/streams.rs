//! Every command keeps its streams apart: what it produces on stdout,
//! diagnostics (errors, warnings, findings) on stderr, in every format. So
//! `dev spec show --json api.json | jq` never reads a diagnostic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A spec with an error (an unknown type) and one with only a warning (a key
/// repeated with the same value).
const INVALID: &str =
    r#"{"name": "bad", "models": {"a": {"fields": [{"name": "x", "type": "nope"}]}}}"#;
const WARNING: &str = r#"{"name": "warn", "models": {"a": {"fields": [{"name": "x", "type": "string", "required": false, "required": false}]}}}"#;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-streams-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("invalid.json"), INVALID).expect("write spec");
    std::fs::write(dir.join("warning.json"), WARNING).expect("write spec");
    dir
}

fn dev(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("dev runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn an_invalid_spec_leaves_stdout_empty_in_every_command_and_format() {
    let dir = scratch("invalid");
    let runs: &[&[&str]] = &[
        &["spec", "show", "--json", "invalid.json"],
        &["spec", "show", "--json", "--format", "json", "invalid.json"],
        &["spec", "show", "--format", "short", "invalid.json"],
        &["lint", "invalid.json"],
        &["lint", "invalid.json", "--format", "json"],
        &["lint", "invalid.json", "--format", "github"],
        &["gen", "--spec", "invalid.json", "--out", "out"],
        &["mock", "invalid.json", "--port", "0"],
        &["verify", "invalid.json", "--url", "http://127.0.0.1:9"],
        &[
            "verify",
            "invalid.json",
            "--url",
            "http://127.0.0.1:9",
            "--format",
            "json",
        ],
        &["diff", "invalid.json", "invalid.json"],
        &["diff", "invalid.json", "invalid.json", "--format", "json"],
    ];
    for args in runs {
        let out = dev(&dir, args);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stdout, "", "{args:?}: stdout must hold no diagnostic");
        assert!(stderr.contains("spec/unknown-type"), "{args:?}: {stderr}");
        if args.contains(&"json") {
            let doc: serde_json::Value =
                serde_json::from_str(&stderr).expect("one JSON document on stderr");
            assert_eq!(
                doc["diagnostics"][0]["code"], "spec/unknown-type",
                "{args:?}"
            );
        }
    }
}

#[test]
fn warnings_go_to_stderr_next_to_the_data() {
    let dir = scratch("warning");
    let out = dev(&dir, &["spec", "show", "--json", "warning.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let service: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("only the service's JSON on stdout");
    assert_eq!(service["name"], "warn");
    assert_eq!(service["models"][0]["fields"][0]["required"], false);
    assert!(text(&out.stderr).contains("spec/duplicate-key"));

    let out = dev(
        &dir,
        &["spec", "show", "--json", "--format", "json", "warning.json"],
    );
    assert_eq!(out.status.code(), Some(0));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("the service on stdout");
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stderr).expect("the warnings as JSON on stderr");
    assert_eq!(doc["diagnostics"][0]["code"], "spec/duplicate-key");

    let out = dev(&dir, &["spec", "show", "warning.json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("warn 0.0.1-dev"));
    assert!(!text(&out.stdout).contains("duplicate"));
    assert!(text(&out.stderr).contains("spec/duplicate-key"));

    let out = dev(&dir, &["lint", "warning.json", "--format", "short"]);
    assert_eq!(text(&out.stdout), "");
    assert!(text(&out.stderr).contains("warning[spec/duplicate-key]"));

    let out = dev(
        &dir,
        &[
            "gen",
            "--spec",
            "warning.json",
            "--out",
            "out",
            "--generators",
            "openapi",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "",
        "gen writes files and reports on stderr"
    );
    assert!(text(&out.stderr).contains("spec/duplicate-key"));
    assert!(text(&out.stderr).contains("written"));
}

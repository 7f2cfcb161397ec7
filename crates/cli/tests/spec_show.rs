//! `dev spec show`: output and exit codes (0 valid, 1 invalid, 2 I/O error).

use std::path::PathBuf;
use std::process::Command;

fn dev() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dev"))
}

fn spec_tests(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../spec/tests")
        .join(dir)
}

#[test]
fn valid_spec_prints_service_json_and_exits_0() {
    let out = dev()
        .args(["spec", "show", "--json"])
        .arg(spec_tests("valid").join("normalisation.json"))
        .output()
        .expect("run dev");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(json["name"], "normalisation");
    assert_eq!(json["resources"][0]["path"], "/categories");
    assert!(json["blueprint"].is_object());
}

#[test]
fn valid_spec_without_json_prints_a_summary() {
    let out = dev()
        .args(["spec", "show"])
        .arg(spec_tests("valid").join("normalisation.json"))
        .output()
        .expect("run dev");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("normalisation 0.0.1-dev (io.apibuilder.normalisation.v0)"),
        "{text}"
    );
}

#[test]
fn invalid_spec_prints_diagnostics_and_exits_1() {
    let out = dev()
        .args(["spec", "show", "--format", "short"])
        .arg(spec_tests("invalid").join("unknown-type--field.json"))
        .output()
        .expect("run dev");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "diagnostics go to stderr");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("error[spec/unknown-type]"), "{text}");
    assert!(text.contains("unknown-type--field.json:16:19"), "{text}");
}

#[test]
fn invalid_spec_json_format_is_a_json_document() {
    let out = dev()
        .args(["spec", "show", "--format", "json"])
        .arg(spec_tests("invalid").join("enum-no-values.json"))
        .output()
        .expect("run dev");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "diagnostics go to stderr");
    let json: serde_json::Value = serde_json::from_slice(&out.stderr).expect("JSON on stderr");
    assert_eq!(json["diagnostics"][0]["code"], "spec/enum-no-values");
}

#[test]
fn missing_file_exits_2() {
    let out = dev()
        .args(["spec", "show", "/definitely/not/here.json"])
        .output()
        .expect("run dev");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn broken_blueprint_toml_exits_2() {
    let dir = std::env::temp_dir().join(format!("blueprint-cli-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("blueprint.toml"), "[registry]\npath = 1\n").expect("write");
    std::fs::write(dir.join("a.json"), r#"{"name": "a"}"#).expect("write");
    let out = dev()
        .args(["spec", "show"])
        .arg(dir.join("a.json"))
        .output()
        .expect("run dev");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[registry]"));
}

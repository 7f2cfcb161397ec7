//! `dev verify` end to end, against `dev mock` of the users example.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn users_spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services/users/spec/users.json")
}

/// `dev mock` on a free port, and the URL it prints.
fn start_mock(spec: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(["mock", "--port", "0"])
        .arg(spec)
        .stdout(Stdio::piped())
        .spawn()
        .expect("dev mock starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("dev mock prints its address");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    (child, url)
}

#[test]
fn verify_passes_against_the_mock_and_reports_json() {
    let spec = users_spec();
    let (mut mock, url) = start_mock(&spec);
    let human = Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(["verify", "--url", &url])
        .arg(&spec)
        .env("BLUEPRINT_TOKEN", "test-token")
        .output()
        .expect("dev verify runs");
    let json = Command::new(env!("CARGO_BIN_EXE_dev"))
        .args([
            "verify",
            "--format",
            "json",
            "-H",
            "Authorization: Bearer x",
            "--url",
            &url,
        ])
        .arg(&spec)
        .output()
        .expect("dev verify runs");
    let _ = mock.kill();
    let _ = mock.wait();

    let text = String::from_utf8_lossy(&human.stdout);
    assert_eq!(human.status.code(), Some(0), "{text}");
    assert!(
        text.contains("POST /users") && text.contains("0 failed"),
        "{text}"
    );

    assert_eq!(json.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("valid JSON");
    assert_eq!(doc["service"], "users");
    assert!(
        doc["operations"]
            .as_array()
            .is_some_and(|ops| !ops.is_empty())
    );
}

#[test]
fn nothing_listening_fails_and_bad_flags_are_usage_errors() {
    let spec = users_spec();
    let down = Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(["verify", "--url", "http://127.0.0.1:9", "--timeout", "2"])
        .arg(&spec)
        .output()
        .expect("dev verify runs");
    assert_eq!(down.status.code(), Some(1));
    let shown = String::from_utf8_lossy(&down.stdout);
    assert_eq!(
        shown.matches("connection refused").count(),
        1,
        "said once: {shown}"
    );

    let bad_header = Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(["verify", "--url", "http://127.0.0.1:9", "-H", "no colon"])
        .arg(&spec)
        .output()
        .expect("dev verify runs");
    assert_eq!(bad_header.status.code(), Some(2));
}

#[test]
fn a_service_is_found_by_key_and_an_unknown_one_is_named() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let unknown = Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(["verify", "--service", "nope"])
        .current_dir(&root)
        .output()
        .expect("dev verify runs");
    let said = String::from_utf8_lossy(&unknown.stderr);
    assert_ne!(unknown.status.code(), Some(0), "{said}");
    assert!(
        said.contains("no service `nope`") && said.contains("users"),
        "{said}"
    );

    // Neither a spec nor a service: a usage error.
    let neither = Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(["verify", "--url", "http://127.0.0.1:9"])
        .output()
        .expect("dev verify runs");
    assert_eq!(neither.status.code(), Some(2));

    // A service and a spec: a usage error too.
    let both = Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(["verify", "--service", "users"])
        .arg(users_spec())
        .output()
        .expect("dev verify runs");
    assert_eq!(both.status.code(), Some(2));
}

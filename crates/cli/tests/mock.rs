//! `dev mock` end to end: start the binary on a free loopback port, talk HTTP/1.1 to
//! it over a real socket, stop it with Ctrl-C (SIGINT) and check it exits cleanly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const DEV: &str = env!("CARGO_BIN_EXE_dev");

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mock/tests/fixtures/shop.json")
}

/// Kills the server if the test fails half-way.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One request with `Connection: close`; the status line's code and the body.
fn request(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let (status, _, body) = exchange(addr, method, path, &[], body);
    (status, body)
}

/// One request with `extra` headers: the status, the response head and the body.
fn exchange(
    addr: &str,
    method: &str,
    path: &str,
    extra: &[String],
    body: Option<&str>,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to the mock");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let body = body.unwrap_or("");
    let extra: String = extra.iter().map(|h| format!("{h}\r\n")).collect();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the answer");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {response:?}"));
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (status, head.to_ascii_lowercase(), body.to_string())
}

#[test]
fn serves_the_spec_on_loopback_and_stops_on_ctrl_c() {
    let child = Command::new(DEV)
        .args(["mock", "--port", "0", "--host", "127.0.0.1"])
        .arg(fixture())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dev mock");
    let mut server = Server(child);
    let stdout = server.0.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let banner = lines.next().expect("a banner line").expect("utf-8");
    let addr = banner
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {banner:?}"))
        .to_string();
    assert!(banner.contains("11 operations"), "{banner}");

    // The spec declares its own healthcheck: it answers, not the built-in one.
    let (status, body) = request(&addr, "GET", "/_internal_/healthcheck", None);
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"status":"ok","checked":["string"]}"#)
    );
    let (status, body) = request(
        &addr,
        "GET",
        "/users/3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f",
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""email":"user@example.com""#), "{body}");
    let (status, body) = request(&addr, "POST", "/users", Some("{}"));
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("validation_failed"), "{body}");
    let (status, _) = request(&addr, "POST", "/users", Some("{"));
    assert_eq!(status, 400);
    let (status, _) = request(&addr, "GET", "/nope", None);
    assert_eq!(status, 404);

    // Over the wire, as hyper serves it: HEAD carries the GET's length; a request
    // head past the router's limits (below hyper's own) is answered in JSON.
    let user = "/users/3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f";
    let (_, get_head, get_body) = exchange(&addr, "GET", user, &[], None);
    let (status, head, body) = exchange(&addr, "HEAD", user, &[], None);
    assert_eq!((status, body.as_str()), (200, ""));
    let length = format!("content-length: {}", get_body.len());
    assert!(
        get_head.contains(&length) && head.contains(&length),
        "{head}"
    );
    let long = format!("/users?q={}", "x".repeat(9000));
    let (status, _, body) = exchange(&addr, "GET", &long, &[], None);
    assert_eq!(status, 414);
    assert!(body.contains(r#""code":"uri_too_long""#), "{body}");
    let many: Vec<String> = (0..80).map(|i| format!("x-header-{i}: {i}")).collect();
    let (status, _, body) = exchange(&addr, "GET", "/users?q=a", &many, None);
    assert_eq!(status, 431);
    assert!(body.contains(r#""code":"headers_too_large""#), "{body}");

    // Ctrl-C: a graceful stop, exit status 0.
    let pid = server.0.id().to_string();
    let sent = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("run kill");
    assert!(sent.success());
    let status = server.0.wait().expect("wait for dev mock");
    assert!(status.success(), "dev mock exited with {status}");
    // stdout holds only the address line; the rest is progress, on stderr.
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.is_empty(), "{rest:?}");
    let mut progress = String::new();
    server
        .0
        .stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut progress)
        .expect("read stderr");
    assert!(progress.contains("mock stopped"), "{progress}");
}

#[test]
fn an_invalid_spec_is_exit_1_with_diagnostics() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mock-invalid");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let spec = dir.join("bad.json");
    std::fs::write(
        &spec,
        r#"{"name": "bad", "models": {"a": {"fields": [{"name": "x", "type": "nope"}]}}}"#,
    )
    .expect("write spec");
    let out = Command::new(DEV)
        .arg("mock")
        .arg(&spec)
        .output()
        .expect("run dev mock");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "diagnostics go to stderr");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

/// A spec whose operations need a token: the mock checks it with the workspace's
/// key, so a `dev token` of the same workspace is let in and no token is a 401.
#[test]
fn checks_tokens_with_the_workspace_key() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dev-mock-auth");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("blueprint.toml"), "").expect("write blueprint.toml");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../codegen/tests/db/auth.json");
    let child = Command::new(DEV)
        .args(["mock", "--port", "0", "--host", "127.0.0.1"])
        .arg(&spec)
        .current_dir(&dir)
        .env_remove("BLUEPRINT_JWT_PUBLIC_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dev mock");
    let mut server = Server(child);
    let stdout = server.0.stdout.take().expect("piped stdout");
    let banner = BufReader::new(stdout)
        .lines()
        .next()
        .expect("a banner line")
        .expect("utf-8");
    let addr = banner
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {banner:?}"))
        .to_string();

    let (status, head, body) = exchange(&addr, "GET", "/events", &[], None);
    assert_eq!(status, 401, "{body}");
    assert!(head.contains("www-authenticate: bearer"), "{head}");
    assert!(body.contains(r#""code":"unauthorized""#), "{body}");

    let token = |role: &[&str]| {
        let out = Command::new(DEV)
            .args(["token", "--user", "3f0c4a5e-6a2b-4c55-9d7e-0a1b2c3d4e5f"])
            .args(["--agency", "8e1d2c3b-4a59-4687-a9b8-c7d6e5f40312"])
            .args(role)
            .current_dir(&dir)
            .env_remove("BLUEPRINT_JWT_PUBLIC_KEY")
            .output()
            .expect("run dev token");
        assert!(out.status.success());
        format!(
            "Authorization: Bearer {}",
            String::from_utf8_lossy(&out.stdout).trim()
        )
    };
    let (status, _, body) = exchange(&addr, "GET", "/events", &[token(&[])], None);
    assert_eq!(status, 200, "{body}");
    let event = "/events/3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f";
    let (status, _, body) = exchange(&addr, "DELETE", event, &[token(&[])], None);
    assert_eq!(status, 403, "the role is missing: {body}");
    let (status, _, body) = exchange(&addr, "DELETE", event, &[token(&["--role", "admin"])], None);
    assert!(matches!(status, 204 | 404), "{status} {body}");
    let garbage = "Authorization: Bearer x.y.z".to_string();
    let (status, _, _) = exchange(&addr, "GET", "/events", &[garbage], None);
    assert_eq!(status, 401);
}

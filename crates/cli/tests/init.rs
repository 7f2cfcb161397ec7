//! `dev init` and `dev new` end to end: a new workspace, a service `shop` added to it,
//! built with cargo against this checkout's runtime, started with `dev up`, then its
//! healthcheck, a create/get round trip and `dev verify`. Also what the two commands
//! refuse: a second `dev init`, a taken key, a key that is not a spec key.
//!
//! Build cost: the scratch workspace lives at a fixed path under this build's
//! `CARGO_TARGET_TMPDIR` and builds into this build's target folder, with this
//! checkout's `Cargo.lock` (the versions Blueprint is tested with; offline). Crates
//! compiled with the same features as the outer build are reused; those the service
//! needs with other features (tokio, axum, sqlx, the runtime) are compiled once and
//! stay fresh for later runs.
//!
//! Everything runs on loopback; every wait is bounded; `dev up` (and with it the
//! service) is stopped when the test ends, pass or fail.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output};
use std::time::{Duration, Instant};

use blueprint_testkit::free_port;
use blueprint_testkit::service::get_status;
use blueprint_testkit::watched::{Signal, Watched};
use serde_json::{Value, json};

/// Cargo building the service: the first run compiles the runtime's dependency tree
/// with the service's features.
const BUILD: Duration = Duration::from_secs(1200);
const SHORT: Duration = Duration::from_secs(60);

/// This checkout (the runtime `dev init` points a new workspace at).
fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The target folder this test was built into (`CARGO_TARGET_TMPDIR` is its `tmp/`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target folder")
        .to_path_buf()
}

/// `dev ARGS` in `dir`, its cargo builds sharing this build's target folder, offline.
fn dev(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dev"));
    c.args(args).current_dir(dir);
    isolate(&mut c);
    c
}

/// The environment of a command run in the scratch workspace: the contract's variables
/// unset (the defaults under `.dev/` apply), cargo offline on the shared target folder.
fn isolate(c: &mut Command) {
    c.env("NO_COLOR", "1")
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        .env_remove("PORT")
        .env_remove("BLUEPRINT_STREAMS_URL")
        .env_remove("BLUEPRINT_JWT_PUBLIC_KEY")
        .env_remove("DATABASE_URL");
}

fn run(mut command: Command) -> Output {
    let output = command.output().expect("the command runs");
    eprintln!(
        "$ {:?}\n{}{}",
        command,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn succeeds(command: Command) -> Output {
    let output = run(command);
    assert!(output.status.success(), "failed: {:?}", output.status);
    output
}

/// Fails (exit 2, an error) with a message containing `expected`.
fn refuses(command: Command, expected: &str) {
    let output = run(command);
    assert_eq!(output.status.code(), Some(2), "expected a refusal");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(expected), "{expected:?} not in {stderr}");
}

fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn init_new_build_up_verify() {
    let started = Instant::now();
    // A fixed folder, so cargo sees the same packages run after run (not one more
    // set of artifacts per run).
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dev-init");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch).expect("remove the previous scratch folder");
    }
    std::fs::create_dir_all(&scratch).expect("scratch folder");
    let root = scratch.join("acme");

    // dev init: the workspace, nothing else.
    succeeds(dev(&scratch, &["init", "acme"]));
    for file in ["blueprint.toml", "Cargo.toml", "README.md", ".gitignore"] {
        assert!(root.join(file).is_file(), "{file}");
    }
    assert!(read(root.join(".gitignore")).lines().any(|l| l == "/.dev/"));
    let cargo = read(root.join("Cargo.toml"));
    assert!(
        cargo.contains("blueprint = { path = \"") && cargo.contains("crates/runtime\""),
        "the runtime by path:\n{cargo}"
    );
    assert!(!root.join("services").exists(), "no service yet");
    refuses(
        dev(&scratch, &["init", "acme"]),
        "is a Blueprint workspace already",
    );

    // dev new: refused keys first, then shop.
    refuses(dev(&root, &["new", "Shop"]), "its spec key would be `shop`");
    refuses(dev(&root, &["new", "shop_1"]), "expected a spec key");
    refuses(dev(&root, &["new", "build"]), "cargo reserves it");
    let port = free_port();
    refuses(
        dev(&root, &["new", "model", "shop"]),
        "`dev new` adds a service",
    );
    succeeds(dev(
        &root,
        &["new", "service", "shop", "--port", &port.to_string()],
    ));
    for file in [
        "services/shop/spec/shop.json",
        "services/shop/Cargo.toml",
        "services/shop/src/main.rs",
        "services/shop/src/api.rs",
        "services/shop/api/Cargo.toml",
        "services/shop/api/src/server.rs",
        "services/shop/api/src/dao.rs",
    ] {
        assert!(root.join(file).is_file(), "{file}");
    }
    let config = read(root.join("blueprint.toml"));
    assert!(
        config.contains(&format!("[services.shop]\nport = {port}\n")),
        "{config}"
    );
    assert!(config.contains("out = \"services/shop/api\""), "{config}");

    // Again: refused, nothing written.
    let main_rs = read(root.join("services/shop/src/main.rs"));
    refuses(
        dev(&root, &["new", "shop"]),
        "service `shop` exists already",
    );
    assert_eq!(read(root.join("blueprint.toml")), config);
    assert_eq!(read(root.join("services/shop/src/main.rs")), main_rs);

    // What is generated is fresh, the spec passes the design rules, and the code is
    // formatted (the new workspace's CI checks all three).
    succeeds(dev(&root, &["gen", "--check"]));
    succeeds(dev(&root, &["lint"]));
    let mut fmt = Command::new(env!("CARGO"));
    fmt.args(["fmt", "--all", "--check"]).current_dir(&root);
    succeeds(fmt);

    // cargo build, on this checkout's dependency versions.
    std::fs::copy(checkout().join("Cargo.lock"), root.join("Cargo.lock")).expect("Cargo.lock");
    let build_started = Instant::now();
    let mut build = Command::new(env!("CARGO"));
    build
        .args(["build", "-p", "shop-service"])
        .current_dir(&root);
    isolate(&mut build);
    let status = wait_bounded(
        build.spawn().expect("cargo build starts"),
        BUILD,
        "cargo build",
    );
    assert!(status.success(), "cargo build -p shop-service: {status:?}");
    let build_time = build_started.elapsed();

    // dev up: migrate, start, wait for the healthcheck.
    let mut up = Watched::spawn("dev up", dev(&root, &["up"]));
    let url = format!("http://127.0.0.1:{port}");
    up.wait_until("a healthy service", SHORT, || {
        get_status(port, "/_internal_/healthcheck") == Some(200)
    });
    let (status, health) = request(&url, "GET", "/_internal_/healthcheck", None);
    assert_eq!((status, health), (200, json!({"status": "healthy"})));

    // A create/get round trip.
    let (status, created) = request(
        &url,
        "POST",
        "/shops",
        Some(json!({"name": "Corner shop", "description": "Bread and milk"})),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("an id").to_owned();
    assert!(id.starts_with("sho-"), "{id}");
    let (status, found) = request(&url, "GET", &format!("/shops/{id}"), None);
    assert_eq!((status, &found), (200, &created));
    let (status, listed) = request(&url, "GET", "/shops?name=Corner%20shop", None);
    assert_eq!((status, listed), (200, json!([created])));
    let (status, invalid) = request(&url, "POST", "/shops", Some(json!({})));
    assert_eq!(status, 422, "{invalid}");

    // The running service against its spec, found by its key: the spec from the
    // workspace, the URL from `dev up`'s run file.
    succeeds(dev(&root, &["verify", "--service", "shop"]));

    // Ctrl-C's signal: everything stops, exit 0.
    up.signal(Signal::TERM);
    let status = up.wait_exit(SHORT);
    assert!(
        status.success(),
        "dev up exits 0: {status:?}\n{}",
        up.output()
    );
    eprintln!(
        "dev init + dev new + build + up + verify: {:.1?} (cargo build {:.1?})",
        started.elapsed(),
        build_time
    );
}

/// Wait for `child` at most `timeout`; kill it after that.
fn wait_bounded(mut child: Child, timeout: Duration, what: &str) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} took more than {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A request with a JSON body (or none); the status and the JSON answer (`null` when
/// the body is empty).
fn request(url: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let host = url.strip_prefix("http://").expect("an http URL");
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read the answer");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    let (_, body) = answer.split_once("\r\n\r\n").expect("headers end");
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"))
    };
    (status, json)
}

//! Independent judges against `dev mock`:
//! - Schemathesis (PyPI), with all its checks, against the mock of every
//!   corpus spec and of the users spec, each described by its OpenAPI export: it finds
//!   nothing but the known findings (`crates/testkit/judges/schemathesis-known.json`);
//!   and against the mock of a spec whose operations need a token, checking tokens as
//!   generated servers do (401 without one, as the export declares);
//! - the users client that openapi-python-client (PyPI) generates from the export
//!   round-trips every operation against the mock, a 422 decoded as the spec's
//!   declared `validation_error` (`users_client.py`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use blueprint::auth::{Claims, DevKeyPair, KeySet, SigningKey, Verifier};
use blueprint::uuid::Uuid;

use blueprint_spec::Spec;
use blueprint_testkit::{judges, python};

/// The mock of `spec` on a free loopback port, served by `runtime` until it is dropped.
fn serve(runtime: &tokio::runtime::Runtime, spec: Spec) -> String {
    serve_with(runtime, spec, blueprint_mock::Options::default())
}

/// [`serve`] with `options`.
fn serve_with(
    runtime: &tokio::runtime::Runtime,
    spec: Spec,
    options: blueprint_mock::Options,
) -> String {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("bound address");
    runtime.spawn(blueprint_mock::serve(
        Arc::new(spec),
        options,
        listener,
        std::future::pending(),
    ));
    format!("http://{addr}")
}

fn users_spec() -> (PathBuf, Spec) {
    let path = blueprint_testkit::workspace_root().join("services/users/spec/users.json");
    let spec = common::try_load(&path).unwrap_or_else(|e| panic!("{e}"));
    (path, spec)
}

/// Write the OpenAPI export of `spec` to `<dir>/<stem>.openapi.json`.
fn export(dir: &Path, stem: &str, spec: &Spec) -> PathBuf {
    std::fs::create_dir_all(dir).expect("create the output folder");
    let file = dir.join(format!("{stem}.openapi.json"));
    std::fs::write(&file, blueprint_codegen::openapi::render(spec)).expect("write the export");
    file
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .expect("utf-8 name")
        .to_string()
}

#[test]
fn schemathesis_finds_nothing_unknown_in_the_mock() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("judges/schemathesis");
    let mut specs = common::corpus();
    specs.push(users_spec());
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let judge = |(path, spec): (PathBuf, Spec)| {
        let stem = stem(&path);
        let openapi = export(&dir, &stem, &spec);
        let url = serve(&runtime, spec);
        let found = judges::schemathesis_findings(&stem, &openapi, &url, &[])?;
        Some(found.into_iter().map(move |f| format!("{stem}: {f}")))
    };
    // Two runs at a time: Schemathesis is single-threaded, the machine has two cores.
    let (odd, even): (Vec<_>, Vec<_>) =
        specs.into_iter().enumerate().partition(|(i, _)| i % 2 == 1);
    let results: Vec<Option<Vec<String>>> = std::thread::scope(|s| {
        let workers: Vec<_> = [odd, even]
            .into_iter()
            .map(|half| {
                s.spawn(|| {
                    half.into_iter()
                        .map(|(_, spec)| judge(spec).map(Iterator::collect::<Vec<_>>))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a judge thread"))
            .collect()
    });
    if results.iter().any(Option::is_none) {
        return; // Not installed (testkit said why; CI fails there instead).
    }
    let unexpected: Vec<String> = results.into_iter().flatten().flatten().collect();
    assert!(
        unexpected.is_empty(),
        "Schemathesis found:\n{}",
        unexpected.join("\n")
    );
}

/// The auth fixture (every operation needs a token, one an `admin` role) served with a
/// verifier; Schemathesis sends an admin's token, and its `ignored_auth` check
/// requests without one (401, declared by the export).
#[test]
fn schemathesis_finds_nothing_unknown_in_the_mock_checking_tokens() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("judges/schemathesis-auth");
    let path = blueprint_testkit::workspace_root().join("crates/codegen/tests/db/auth.json");
    let spec = common::try_load(&path).unwrap_or_else(|e| panic!("{e}"));
    let openapi = export(&dir, "auth", &spec);
    let keys = DevKeyPair::generate().expect("a key pair");
    let verifier = Verifier::new(KeySet::from_pem(&keys.public_pem).expect("the public key"));
    let in_an_hour = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis()
        + 3_600_000;
    let claims = Claims::new(
        Uuid::from_u128(1),
        Uuid::from_u128(2),
        i64::try_from(in_an_hour).expect("a date in range"),
    )
    .with_role("admin");
    let token = SigningKey::from_pem(&keys.private_pem)
        .and_then(|key| key.sign(&claims))
        .expect("a signed token");
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let options = blueprint_mock::Options {
        verifier: Some(Arc::new(verifier)),
        ..blueprint_mock::Options::default()
    };
    let url = serve_with(&runtime, spec, options);
    let header = format!("Authorization: Bearer {token}");
    let Some(found) = judges::schemathesis_findings("auth", &openapi, &url, &["--header", &header])
    else {
        return; // Not installed (testkit said why; CI fails there instead).
    };
    assert!(
        found.is_empty(),
        "Schemathesis found:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_generated_python_client_round_trips_against_the_mock() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("judges/users-client");
    let (_, spec) = users_spec();
    let openapi = export(&dir, "users", &spec);
    let Some(generator) = python::judge("openapi-python-client", "openapi-python-client") else {
        return;
    };
    let client = dir.join("client");
    let _ = std::fs::remove_dir_all(&client);
    let path = format!(
        "{}:{}",
        python::judges_bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    python::run(
        Command::new(generator)
            .args(["generate", "--overwrite", "--path"])
            .arg(&openapi)
            .arg("--output-path")
            .arg(&client)
            .env("PATH", &path),
        "openapi-python-client failed",
    );
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let url = serve(&runtime, spec);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/users_client.py");
    let stdout = python::run(
        Command::new(python::judges_bin().join("python"))
            .arg(script)
            .arg(&client)
            .arg(&url),
        "the users client did not round-trip",
    );
    assert!(
        stdout.contains("every operation round-tripped"),
        "unexpected output:\n{stdout}"
    );
}

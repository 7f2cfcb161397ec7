//! `verify` passes against `dev mock` for every corpus spec and the example services:
//! the mock is the reference implementation of "conforms to its spec". Specs whose
//! operations require a token are served and verified with one.

use std::path::PathBuf;
use std::sync::Arc;

use blueprint::auth::{Claims, DevKeyPair, KeySet, SigningKey, Verifier};
use blueprint::uuid::Uuid;
use blueprint_verify::{Options, verify};

fn specs() -> Vec<PathBuf> {
    let mut specs = blueprint_testkit::corpus_specs();
    let own = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/specs");
    if let Ok(files) = std::fs::read_dir(own) {
        specs.extend(files.flatten().map(|f| f.path()));
    }
    let services = blueprint_testkit::workspace_root().join("services");
    if let Ok(entries) = std::fs::read_dir(&services) {
        for entry in entries.flatten() {
            let spec_dir = entry.path().join("spec");
            if let Ok(files) = std::fs::read_dir(&spec_dir) {
                specs.extend(
                    files
                        .flatten()
                        .map(|f| f.path())
                        .filter(|p| p.extension().is_some_and(|e| e == "json")),
                );
            }
        }
    }
    specs.sort();
    specs
}

/// Whether an operation of the spec requires a token.
fn needs_token(spec: &blueprint_spec::Spec) -> bool {
    spec.service
        .resources
        .iter()
        .flat_map(|r| &r.operations)
        .any(|op| op.auth.as_ref().is_some_and(|a| a.required))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_passes_against_the_mock_for_every_spec() {
    let mut checked = 0;
    let mut verified = 0;
    let mut failures = Vec::new();
    for path in specs() {
        let spec = match blueprint_spec::load(&path) {
            Ok(spec) => Arc::new(spec),
            // Loading is the spec crate's to test.
            Err(_) => continue,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let stopped = async {
            let _ = stopped.await;
        };
        let mut options = Options::new(format!("http://{addr}"));
        // A spec whose operations take a token is served checking tokens, as `dev
        // mock` does in a workspace, and verified with one (and without: 401).
        let server = if needs_token(&spec) {
            let pair = DevKeyPair::generate().expect("key pair");
            let keys = KeySet::from_pem(&pair.public_pem).expect("public key");
            let signing = SigningKey::from_pem(&pair.private_pem).expect("private key");
            let claims = Claims::new(Uuid::from_u128(1), Uuid::from_u128(2), i64::MAX / 2);
            let token = signing.sign(&claims).expect("token");
            options
                .headers
                .push(("Authorization".into(), format!("Bearer {token}")));
            let verifier = Arc::new(Verifier::new(keys));
            tokio::spawn(blueprint_mock::serve_with_auth(
                spec.clone(),
                verifier,
                listener,
                stopped,
            ))
        } else {
            tokio::spawn(blueprint_mock::serve(spec.clone(), listener, stopped))
        };
        let report = verify(&spec, &options).await.expect("options are valid");
        let _ = stop.send(());
        let _ = server.await;
        checked += report.checks().count();
        verified += 1;
        if !report.is_ok() {
            failures.push(format!("{}:\n{}", path.display(), report.to_table()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    if !specs().is_empty() {
        assert!(checked > 0, "no spec was verified");
    }
    eprintln!("{verified} specs, {checked} checks passed against the mock");
}

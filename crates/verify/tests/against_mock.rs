//! `verify` passes against `dev mock` for every corpus spec and the example services:
//! the mock is the reference implementation of "conforms to its spec". A spec whose
//! operations require a token is mocked with the auth layer (a fresh key pair) and
//! verified with a token, as `dev verify --token` runs.

use std::path::PathBuf;
use std::sync::Arc;

use blueprint::auth::{Claims, DevKeyPair, KeySet, SigningKey, Verifier};
use blueprint::uuid::Uuid;
use blueprint_spec::ir::Spec;
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
        let server = match caller_of(&spec) {
            Some((verifier, token)) => {
                options
                    .headers
                    .push(("authorization".into(), format!("Bearer {token}")));
                tokio::spawn(blueprint_mock::serve_with_auth(
                    spec.clone(),
                    verifier,
                    listener,
                    stopped,
                ))
            }
            None => tokio::spawn(blueprint_mock::serve(spec.clone(), listener, stopped)),
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

/// When an operation of `spec` requires a token: the verifier of a fresh key pair,
/// and a token it accepts holding a role the operations ask for (the first one)
/// and every claim they need.
fn caller_of(spec: &Spec) -> Option<(Arc<Verifier>, String)> {
    let rules: Vec<_> = spec
        .service
        .resources
        .iter()
        .flat_map(|r| &r.operations)
        .filter_map(|op| op.auth.as_ref().filter(|a| a.required))
        .collect();
    if rules.is_empty() {
        return None;
    }
    let pair = DevKeyPair::generate().expect("a key pair");
    let verifier = Verifier::new(KeySet::from_pem(&pair.public_pem).expect("its public key"));
    let expires = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis(),
    )
    .expect("ms fit i64")
        + 3_600_000;
    let mut claims = Claims::new(Uuid::new_v4(), Uuid::new_v4(), expires);
    if let Some(role) = rules.iter().flat_map(|a| &a.roles).next() {
        claims = claims.with_role(role);
    }
    for rule in &rules {
        let scoped = rule.scope.iter().map(|s| &s.claim);
        for claim in rule.claims.iter().chain(scoped) {
            if !matches!(claim.as_str(), "u-id" | "a-id") {
                claims
                    .other
                    .insert(claim.clone(), serde_json::json!("claim value"));
            }
        }
    }
    let key = SigningKey::from_pem(&pair.private_pem).expect("its private key");
    let token = key.sign(&claims).expect("signs");
    Some((Arc::new(verifier), token))
}

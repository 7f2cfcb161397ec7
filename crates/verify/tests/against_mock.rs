//! `verify` passes against `dev mock` for every corpus spec and the example services:
//! the mock is the reference implementation of "conforms to its spec".

use std::path::PathBuf;
use std::sync::Arc;

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
        let server = tokio::spawn(blueprint_mock::serve(
            spec.clone(),
            blueprint_mock::Options::default(),
            listener,
            async {
                let _ = stopped.await;
            },
        ));
        let report = verify(&spec, &Options::new(format!("http://{addr}")))
            .await
            .expect("options are valid");
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

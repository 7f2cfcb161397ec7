//! The generated router of every corpus spec (and the fixtures) can be built: axum
//! panics at startup on conflicting routes, so check the routes with the router
//! axum uses (matchit) before any service finds out.

use std::path::{Path, PathBuf};

fn check_routes(spec_path: &Path) -> Result<usize, String> {
    let spec = blueprint_spec::load(spec_path).map_err(|e| format!("does not load: {e:?}"))?;
    let mut router = matchit::Router::new();
    let mut count = 0;
    let routes = blueprint_codegen::server_routes(&spec);
    // The built-in routes join a spec route on the same path (axum merges the
    // methods; a spec's own GET replaces the built-in one).
    let internal: Vec<_> = blueprint_spec::http::BUILTIN_PATHS
        .into_iter()
        .filter(|p| !routes.iter().any(|(path, _)| path == p))
        .map(|p| (p.to_owned(), Vec::new()))
        .collect();
    for (path, methods) in routes.iter().chain(internal.iter()) {
        router
            .insert(path.as_str(), ())
            .map_err(|e| format!("route {path}: {e}"))?;
        let mut seen = methods.clone();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), methods.len(), "{path}: a method routed twice");
        count += 1;
    }
    Ok(count)
}

#[test]
fn generated_routes_never_conflict() {
    let mut specs: Vec<PathBuf> = blueprint_testkit::corpus_specs()
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n != "reference-api-legacy.json")
        })
        .collect();
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    specs.extend(["roundtrip.json", "naming.json"].map(|f| fixtures.join(f)));
    let mut failures = Vec::new();
    for spec in &specs {
        match check_routes(spec) {
            Ok(n) => assert!(n >= 2, "{}: no routes", spec.display()),
            Err(e) if e.starts_with("does not load") => {
                eprintln!("note: skipping {}: {e}", spec.display())
            }
            Err(e) => failures.push(format!("{}: {e}", spec.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

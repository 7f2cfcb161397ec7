//! Helpers shared by the mock's integration tests.

// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response};
use blueprint_spec::Spec;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Load a spec with the `blueprint.toml` found from its folder (the corpus has one
/// for offline imports); Err shows the diagnostics.
pub fn try_load(path: &Path) -> Result<Spec, String> {
    blueprint_spec::load(path).map_err(|e| {
        let shown: Vec<String> = e
            .diagnostics
            .iter()
            .map(|d| d.to_short(&e.sources))
            .collect();
        format!("{} does not load:\n{}", path.display(), shown.join("\n"))
    })
}

/// The corpus specs (legacy aside), every one of which must load.
pub fn corpus() -> Vec<(PathBuf, Spec)> {
    blueprint_testkit::load_corpus(blueprint_spec::load)
}

pub fn fixture(name: &str) -> Spec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    try_load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Send one request through the mock router in-process; the status and the whole body.
pub async fn send(spec: &Arc<Spec>, request: Request<Body>) -> (Response<()>, Vec<u8>) {
    send_with(spec, blueprint_mock::Options::default(), request).await
}

/// [`send`] to the mock with `options`.
pub async fn send_with(
    spec: &Arc<Spec>,
    options: blueprint_mock::Options,
    request: Request<Body>,
) -> (Response<()>, Vec<u8>) {
    let response = blueprint_mock::router_with(spec.clone(), options)
        .oneshot(request)
        .await
        .unwrap_or_else(|e| match e {});
    let (parts, body) = response.into_parts();
    let bytes = body
        .collect()
        .await
        .expect("the mock's body is in memory")
        .to_bytes();
    (Response::from_parts(parts, ()), bytes.to_vec())
}

//! Helpers shared by the mock's integration tests.

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response};
use blueprint_spec::Spec;
use blueprint_spec::config::Config;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Load a spec with the `blueprint.toml` found from its folder (the corpus has one
/// for offline imports); a load error fails the test with its diagnostics.
pub fn load(path: &Path) -> Spec {
    let config = Config::discover(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let options = blueprint_spec::LoadOptions { config };
    match blueprint_spec::load_with(path, &options) {
        Ok(spec) => spec,
        Err(e) => {
            let shown: Vec<String> = e.diagnostics.iter().map(|d| d.to_short(&e.sources)).collect();
            panic!("{} does not load:\n{}", path.display(), shown.join("\n"))
        }
    }
}

pub fn fixture(name: &str) -> Spec {
    load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name))
}

/// Send one request through the mock router in-process; the status and the whole body.
pub async fn send(spec: &Arc<Spec>, request: Request<Body>) -> (Response<()>, Vec<u8>) {
    let response = blueprint_mock::router(spec.clone())
        .oneshot(request)
        .await
        .unwrap_or_else(|e| match e {});
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("the mock's body is in memory").to_bytes();
    (Response::from_parts(parts, ()), bytes.to_vec())
}

/// `%XX`-escape everything but RFC 3986's unreserved characters (for path segments).
pub fn escape_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

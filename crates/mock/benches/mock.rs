//! Mock server cost per request, in-process (no sockets), against a baseline in the
//! same run: the healthcheck, which is routing and a fixed body only. The other rows
//! add path matching, query/body validation and response synthesis.
//!
//! `cargo bench -p blueprint-mock` (a plain `main`, no harness; `BENCH_ITERATIONS`
//! sets the requests per row, default 20 000). Prints µs per request.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

const USER: &str = r#"{"id": "3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f", "email": "ada@example.com",
  "created_at": "2024-01-15T10:30:00Z", "tags": ["a", "b"], "address": {"street": "1 Main St"}}"#;

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shop.json");
    let spec = Arc::new(blueprint_spec::load(&path).unwrap_or_else(|e| panic!("{e}")));
    let router = blueprint_mock::router(spec);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let iterations = std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000u32);

    let cases: [(&str, &str, &str, Option<&str>); 5] = [
        (
            "healthcheck (baseline)",
            "GET",
            "/_internal_/healthcheck",
            None,
        ),
        (
            "GET /users/:id (synthesise a user)",
            "GET",
            "/users/3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f",
            None,
        ),
        (
            "GET /users?q=&id=&id= (query checks, list of users)",
            "GET",
            "/users?q=a&id=3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f&id=3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f",
            None,
        ),
        (
            "POST /users valid body (validate + synthesise)",
            "POST",
            "/users",
            Some(USER),
        ),
        (
            "POST /users {} (422 with 5 violations)",
            "POST",
            "/users",
            Some("{}"),
        ),
    ];
    let mut baseline = None;
    println!("{:<55} {:>10} {:>8}", "request", "µs/req", "x base");
    for (name, method, uri, body) in cases {
        let elapsed = runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..iterations {
                let request = Request::builder()
                    .method(method)
                    .uri(uri)
                    .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
                    .expect("request");
                let response = router
                    .clone()
                    .oneshot(request)
                    .await
                    .unwrap_or_else(|e| match e {});
                let bytes = response
                    .into_body()
                    .collect()
                    .await
                    .expect("body")
                    .to_bytes();
                std::hint::black_box(bytes);
            }
            start.elapsed()
        });
        let per = elapsed.as_secs_f64() * 1e6 / f64::from(iterations);
        let base = *baseline.get_or_insert(per);
        println!("{name:<55} {per:>10.2} {:>8.1}", per / base);
        assert!(elapsed < Duration::from_secs(600), "runaway benchmark");
    }
}

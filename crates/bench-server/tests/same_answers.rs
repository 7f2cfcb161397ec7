//! The benchmark compares like with like only if both implementations answer
//! every benchmarked request (and the usual failures) with the same status and
//! the same JSON: start both binaries and compare.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use blueprint::metrics::read::Scrape;
use blueprint_bench_server::driver::{Endpoint, Implementation, ServerProcess, endpoints, fetch};

fn endpoint(method: &'static str, target: &str, body: Option<&str>, status: u16) -> Endpoint {
    Endpoint {
        label: "extra",
        method,
        target: target.to_owned(),
        body: body.map(str::to_owned),
        status,
    }
}

#[test]
fn generated_and_handwritten_answer_alike() {
    let binary = Path::new(env!("CARGO_BIN_EXE_bench-server"));
    let generated = ServerProcess::start(binary, Implementation::Generated).unwrap();
    let handwritten = ServerProcess::start(binary, Implementation::Handwritten).unwrap();

    let too_many_ids = format!("/users?{}", vec!["id=usr-1"; 101].join("&"));
    let mut cases: Vec<(Endpoint, bool)> = endpoints().into_iter().map(|e| (e, true)).collect();
    cases.extend([
        (endpoint("GET", "/users/nobody", None, 404), true),
        (endpoint("GET", "/nowhere", None, 404), true),
        (
            endpoint(
                "GET",
                "/users?id=usr-1&id[]=usr-2&email=user2%40example.com",
                None,
                200,
            ),
            true,
        ),
        (endpoint("GET", "/users?limit=101", None, 422), true),
        (endpoint("GET", &too_many_ids, None, 422), true),
        (endpoint("GET", "/users?offset=-1", None, 422), true),
        (endpoint("GET", "/users?status=gone", None, 422), true),
        (endpoint("POST", "/users", None, 422), true),
        (endpoint("POST", "/users", Some(r#"{"email":"#), 400), true),
        (
            endpoint(
                "PUT",
                "/users/usr-7",
                Some(r#"{"name":{"last":"L"},"status":"inactive"}"#),
                200,
            ),
            true,
        ),
        (
            endpoint("PUT", "/users/nobody", Some(r#"{"name":{}}"#), 404),
            true,
        ),
        (endpoint("DELETE", "/users/usr-7", None, 204), true),
        (endpoint("DELETE", "/users/nobody", None, 404), true),
        // serde stops at the first problem and words it its own way; the status agrees.
        (
            endpoint("POST", "/users", Some(r#"{"name":5}"#), 422),
            false,
        ),
        (
            endpoint(
                "POST",
                "/users",
                Some(r#"{"name":{},"status":"gone"}"#),
                422,
            ),
            false,
        ),
    ]);

    for (endpoint, same_body) in &cases {
        let ours = fetch(&generated.addr, endpoint).unwrap();
        let theirs = fetch(&handwritten.addr, endpoint).unwrap();
        let what = format!("{} {}", endpoint.method, endpoint.target);
        assert_eq!(
            ours.status, endpoint.status,
            "generated, {what}: {}",
            ours.body
        );
        assert_eq!(
            theirs.status, endpoint.status,
            "hand-written, {what}: {}",
            theirs.body
        );
        if *same_body {
            assert_eq!(ours.body, theirs.body, "{what}");
        }
    }

    // Both counted every answer under the same series.
    let metrics = endpoint("GET", "/_internal_/metrics", None, 200);
    let counts = |addr: &str| {
        let text = fetch(addr, &metrics).unwrap().body;
        let scrape = Scrape::parse(&text).unwrap();
        let mut counts: Vec<String> = scrape
            .named(blueprint::metrics::HTTP_REQUESTS)
            .map(|s| format!("{:?} {}", s.labels, s.value))
            .collect();
        counts.sort();
        counts
    };
    let ours = counts(&generated.addr);
    assert_eq!(ours.len(), 12, "{ours:#?}");
    assert_eq!(ours, counts(&handwritten.addr));
}

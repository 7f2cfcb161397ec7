//! `dev mock` serves the runtime's metrics as a generated server does: requests
//! counted under their route template, unknown paths under one label.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use blueprint::metrics::read::Scrape;
use blueprint::metrics::{HTTP_REQUESTS, METRICS_PATH, UNMATCHED};

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).expect("request")
}

#[tokio::test]
async fn the_mock_counts_requests_by_route_template() {
    let spec = Arc::new(common::fixture("shop.json"));
    let route = blueprint_spec::http::routes(&spec.service)
        .into_iter()
        .map(|r| r.path)
        .find(|p| p.contains('{') && !p.contains("{{"))
        .expect("a route with a parameter");
    // The route with each parameter given a value.
    let path: String = route
        .split('/')
        .map(|seg| if seg.starts_with('{') { "7" } else { seg })
        .collect::<Vec<_>>()
        .join("/");
    common::send(&spec, get(&path)).await;
    common::send(&spec, get(&path)).await;
    common::send(&spec, get("/no/such/path")).await;

    let (response, body) = common::send(&spec, get(METRICS_PATH)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = String::from_utf8(body).expect("utf-8");
    let scrape = Scrape::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let count = |operation: &str| -> f64 {
        scrape
            .named(HTTP_REQUESTS)
            .filter(|s| s.label("operation") == Some(operation))
            .map(|s| s.value)
            .sum()
    };
    assert_eq!(count(&route), 2.0, "{route}:\n{text}");
    assert_eq!(count(UNMATCHED), 1.0, "{text}");
    assert!(!text.contains("/no/such/path"), "{text}");
}

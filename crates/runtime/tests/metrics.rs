//! What `service_router` records and serves on `GET /_internal_/metrics`: the
//! Prometheus text format (checked by the Prometheus Python client's parser too),
//! counts per operation and status, bounded labels, and a spec's own route.
//!
//! The recorder is process-wide, so each test routes its own paths and reads
//! only their series.
#![cfg(feature = "server")]

use std::collections::BTreeMap;
use std::process::Command;

use blueprint::ServiceInfo;
use blueprint::axum::body::Body;
use blueprint::axum::http::{Method, Request, StatusCode};
use blueprint::axum::routing::get;
use blueprint::metrics::read::{Figures, Sample, Scrape};
use blueprint::metrics::{self, METRICS, METRICS_PATH};
use blueprint::server::{Router, ServerConfig, service_router};
use serde_json::Value;
use tower::ServiceExt;

static INFO: ServiceInfo = ServiceInfo {
    name: "metrics",
    key: "metrics",
    version: "0.0.1",
    spec_hash: "000000000000",
    git_commit: None,
    own_routes: &[],
};

async fn call(router: &Router, method: Method, path: &str) -> (StatusCode, Option<String>, String) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .expect("body");
    (
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// The metrics route's text, parsed.
async fn scrape(router: &Router) -> (String, Scrape) {
    let (status, content_type, text) = call(router, Method::GET, METRICS_PATH).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(
        content_type.as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let scrape = Scrape::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (text, scrape)
}

fn requests(scrape: &Scrape, operation: &str, method: &str, status: &str) -> f64 {
    scrape
        .named(metrics::HTTP_REQUESTS)
        .filter(|s| {
            s.label("operation") == Some(operation)
                && s.label("method") == Some(method)
                && s.label("status") == Some(status)
        })
        .map(|s| s.value)
        .sum()
}

#[tokio::test]
async fn counts_requests_by_operation_method_and_status() {
    let routes = Router::new()
        .route(
            "/counted/{id}",
            get(|| async { "one" }).post(|| async { StatusCode::CREATED }),
        )
        .route(
            "/counted/{id}/fails",
            get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        );
    let router = service_router(routes, &INFO, &ServerConfig::default());
    for id in ["1", "2", "3"] {
        call(&router, Method::GET, &format!("/counted/{id}")).await;
    }
    call(&router, Method::POST, "/counted/9").await;
    call(&router, Method::DELETE, "/counted/9").await;
    call(&router, Method::GET, "/counted/9/fails").await;

    let (_, scrape) = scrape(&router).await;
    assert_eq!(requests(&scrape, "/counted/{id}", "GET", "200"), 3.0);
    assert_eq!(requests(&scrape, "/counted/{id}", "POST", "201"), 1.0);
    assert_eq!(requests(&scrape, "/counted/{id}", "DELETE", "405"), 1.0);
    assert_eq!(requests(&scrape, "/counted/{id}/fails", "GET", "500"), 1.0);
    // Every answer is timed, in seconds, under the operation and method.
    let timed = scrape.histogram(metrics::HTTP_DURATION, |s| {
        s.label("operation") == Some("/counted/{id}") && s.label("method") == Some("GET")
    });
    assert_eq!(timed.count(), 3.0);
    let p99 = timed.quantile(0.99).expect("observations");
    assert!(p99 > 0.0 && p99 <= 10.0, "{p99}");

    let figures = Figures::from_scrape(&scrape);
    let counted = &figures.operations["/counted/{id}"];
    assert_eq!(counted.requests, 5);
    assert_eq!(figures.operations["/counted/{id}/fails"].server_errors, 1);
    assert!(figures.requests >= 6);
}

#[tokio::test]
async fn paths_no_route_matches_share_one_label() {
    let router = service_router(Router::new(), &INFO, &ServerConfig::default());
    let (_, before) = scrape(&router).await;
    let unmatched_before = requests(&before, metrics::UNMATCHED, "GET", "404");
    for i in 0..20 {
        call(&router, Method::GET, &format!("/no-such-path-{i}")).await;
    }
    // A method of the caller's own is not a label either.
    let odd = Method::from_bytes(b"BREW").expect("method");
    call(&router, odd, "/no-such-path-brew").await;

    let (text, after) = scrape(&router).await;
    assert_eq!(
        requests(&after, metrics::UNMATCHED, "GET", "404") - unmatched_before,
        20.0
    );
    assert!(requests(&after, metrics::UNMATCHED, "other", "404") >= 1.0);
    assert!(
        !text.contains("no-such-path"),
        "a raw path became a label:\n{text}"
    );
    assert!(
        !text.contains("BREW"),
        "a raw method became a label:\n{text}"
    );
}

#[tokio::test]
async fn renders_help_and_type_for_every_described_metric() {
    record_every_metric("described");
    let router = service_router(Router::new(), &INFO, &ServerConfig::default());
    call(&router, Method::GET, "/_internal_/healthcheck").await;
    let (text, scrape) = scrape(&router).await;
    for metric in METRICS {
        let kind = match metric.kind {
            metrics::Kind::Counter => "counter",
            metrics::Kind::Gauge => "gauge",
            metrics::Kind::Histogram(_) => "histogram",
        };
        assert!(
            text.contains(&format!("# TYPE {} {kind}\n", metric.name)),
            "{} is not a {kind}:\n{text}",
            metric.name
        );
        assert!(
            text.contains(&format!("# HELP {} {}\n", metric.name, metric.help)),
            "{} has no HELP line:\n{text}",
            metric.name
        );
    }
    // Configured buckets: latencies from 100 µs to 10 s, batch sizes 1 to 1000.
    let latency = scrape.histogram(metrics::EVENT_LATENCY, |s| {
        s.label("stream") == Some("described")
    });
    let bounds: Vec<f64> = latency.cumulative.iter().map(|(le, _)| *le).collect();
    assert_eq!(bounds.first(), Some(&0.0001));
    assert_eq!(bounds[bounds.len() - 2], 10.0);
    assert!(bounds.last().is_some_and(|b| b.is_infinite()));
    let batch = scrape.histogram(metrics::CONSUMER_BATCH_SIZE, |s| {
        s.label("stream") == Some("described")
    });
    assert_eq!(batch.cumulative.first().map(|b| b.0), Some(1.0));
    assert_eq!(batch.cumulative[batch.cumulative.len() - 2].0, 1000.0);
}

#[tokio::test]
async fn the_reader_agrees_with_the_prometheus_python_parser() {
    record_every_metric("python \"quoted\" \\ stream");
    let routes = Router::new().route("/agree/{id}", get(|| async { "ok" }));
    let router = service_router(routes, &INFO, &ServerConfig::default());
    call(&router, Method::GET, "/agree/1").await;
    let (text, scrape) = scrape(&router).await;

    let figures = Figures::from_scrape(&scrape);
    let stream = "python \"quoted\" \\ stream";
    assert_eq!(figures.published[stream].events, 7);
    assert_eq!(figures.published[stream].today, 7);
    assert_eq!(figures.published[stream].failures, 1);
    assert_eq!(figures.consumed[stream].lag, 12);
    assert_eq!(figures.consumed[stream].applied, 5);
    assert_eq!(figures.consumed[stream].applied_today, 5);
    assert_eq!(figures.consumed[stream].failed, 2);
    assert_eq!(figures.consumed[stream].parked, 1);
    let latency = figures.consumed[stream].latency.expect("event latency");
    assert!(latency.p50 > 0.1 && latency.p50 <= 0.25, "{latency:?}");
    assert_eq!(figures.queue_depth[stream], 3);

    if !blueprint_testkit::python::module_available("prometheus_client", "prometheus-client") {
        return;
    }
    // Every sample as [name, {labels}, repr(value)], as prometheus_client reads
    // them. The value travels as Python's shortest round-trip decimal and is
    // parsed by Rust's correctly rounded `f64::from_str`, so equal floats
    // compare equal (a JSON number would go through serde_json's faster,
    // not always correctly rounded, float parser).
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append([s.name, s.labels, repr(float(s.value))])
print(json.dumps(out))
"#;
    let output = run_python(script, &text);
    let theirs: Vec<Value> =
        serde_json::from_str::<Vec<(String, BTreeMap<String, String>, String)>>(&output)
            .expect("json")
            .into_iter()
            .map(|(name, labels, value)| {
                let value: f64 = value.parse().expect("a float repr");
                as_json(&Sample {
                    name,
                    labels: labels.into_iter().collect(),
                    value,
                })
            })
            .collect();
    let ours: Vec<Value> = scrape.samples.iter().map(as_json).collect();
    assert_eq!(
        theirs.len(),
        ours.len(),
        "sample counts differ:\n{text}\nprometheus_client: {output}"
    );
    for sample in &ours {
        assert!(
            theirs.contains(sample),
            "prometheus_client did not read {sample}:\n{text}"
        );
    }
}

#[tokio::test]
async fn a_metrics_route_the_spec_declares_wins_over_the_built_in() {
    static OWN: ServiceInfo = ServiceInfo {
        own_routes: &[METRICS_PATH],
        ..INFO
    };
    let routes = Router::new().route(METRICS_PATH, get(|| async { "mine" }));
    let router = service_router(routes, &OWN, &ServerConfig::default());
    let (status, _, body) = call(&router, Method::GET, METRICS_PATH).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "mine"));
}

#[test]
fn the_recorder_is_installed_once() {
    let first = metrics::install().expect("installed");
    let again = metrics::install().expect("installed");
    assert!(std::ptr::eq(first, again));
}

/// Record each of Blueprint's metrics under `stream` (and `table`), as the
/// publisher and the consumers do.
fn record_every_metric(stream: &str) {
    metrics::install().expect("installed");
    let label = stream.to_owned();
    ::metrics::gauge!(metrics::JOURNAL_QUEUE_DEPTH, "table" => label.clone()).set(3.0);
    ::metrics::histogram!(metrics::PUBLISH_LAG, "table" => label.clone()).record(0.004);
    ::metrics::counter!(metrics::EVENTS_PUBLISHED, "stream" => label.clone()).increment(4);
    ::metrics::counter!(metrics::EVENTS_PUBLISHED, "stream" => label.clone()).increment(3);
    ::metrics::counter!(metrics::PUBLISH_FAILURES, "stream" => label.clone()).increment(1);
    ::metrics::gauge!(metrics::CONSUMER_LAG, "stream" => label.clone()).set(12.0);
    let batch = ::metrics::histogram!(metrics::CONSUMER_BATCH_SIZE, "stream" => label.clone());
    batch.record(5.0);
    batch.record(2.0);
    ::metrics::counter!(metrics::CONSUMER_APPLIED, "stream" => label.clone()).increment(5);
    ::metrics::counter!(metrics::CONSUMER_FAILED, "stream" => label.clone()).increment(2);
    ::metrics::counter!(metrics::CONSUMER_PARKED, "stream" => label.clone()).increment(1);
    let latency = ::metrics::histogram!(metrics::EVENT_LATENCY, "stream" => label);
    for seconds in [0.15, 0.2, 0.2, 0.3] {
        latency.record(seconds);
    }
}

fn as_json(sample: &Sample) -> Value {
    let labels: serde_json::Map<String, Value> = sample
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    // Rust's shortest round-trip rendering: equal floats, equal strings.
    serde_json::json!([sample.name, labels, sample.value.to_string()])
}

fn run_python(script: &str, stdin: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("python3");
    assert!(
        output.status.success(),
        "prometheus_client failed to parse:\n{}\n{stdin}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

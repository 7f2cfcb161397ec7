//! Requests per second: a generated server against the same endpoint written by
//! hand with axum's `Json` extractor (serde only, no validation pass), driven by
//! the same in-process client over loopback.
//!
//! `cargo run --release -p blueprint-codegen --example throughput [seconds] [concurrency]`
//!
//! Client and servers share the machine, so absolute numbers are low; the ratio
//! is the figure of interest.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use blueprint::axum::{Json, Router, routing::post};
use blueprint::client::HttpClient;
use blueprint::http::{Method, StatusCode};
use blueprint_codegen_roundtrip::mock::MockRoundtrip;
use blueprint_codegen_roundtrip::models::Shape;
use blueprint_codegen_roundtrip::operations::PostShapesResponse;
use blueprint_codegen_roundtrip::server::router;

const BODY: &str = r#"{"kind": "SQUARE", "side": 2.5}"#;

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { blueprint::axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn drive(base: &str, seconds: u64, concurrency: usize) -> f64 {
    let http = HttpClient::new(base).expect("client");
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let http = http.clone();
            let done = done.clone();
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let answer = http
                        .call(Method::POST, "/shapes")
                        .raw_json(BODY)
                        .send()
                        .await;
                    match answer {
                        Ok(a) if a.status == StatusCode::OK => {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        other => panic!("unexpected answer: {other:?}"),
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    done.load(Ordering::Relaxed) as f64 / seconds as f64
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let seconds = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let concurrency = args.next().and_then(|s| s.parse().ok()).unwrap_or(32);

    let generated = MockRoundtrip::new().on_post_shapes(|req| PostShapesResponse::Ok(req.body));
    let generated = serve(router(generated)).await;
    let hand_written = serve(Router::new().route(
        "/shapes",
        post(|Json(shape): Json<Shape>| async move { Json(shape) }),
    ))
    .await;

    // Warm up both.
    drive(&generated, 1, concurrency).await;
    drive(&hand_written, 1, concurrency).await;
    // Alternate, so drift (other load, frequency scaling) hits both alike.
    let (mut baseline, mut ours) = (0.0, 0.0);
    for _ in 0..2 {
        baseline += drive(&hand_written, seconds, concurrency).await / 2.0;
        ours += drive(&generated, seconds, concurrency).await / 2.0;
    }
    println!("POST /shapes, {concurrency} concurrent clients, 2 x {seconds} s each:");
    println!("  hand-written axum (Json<Shape>)     {baseline:>9.0} req/s");
    println!(
        "  generated (validate + decode)       {ours:>9.0} req/s  ({:.0}% of hand-written)",
        100.0 * ours / baseline
    );
}

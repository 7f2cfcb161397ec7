//! Time per request, generated vs hand-written, through the router in process
//! (no socket, no hyper, no wrk): the work that differs between the two, with
//! less of the noise a shared machine adds to the throughput benchmark.
//!
//! `cargo run --release -p blueprint-bench-server --example in_process`
//!
//! Batches of each endpoint alternate between the two routers (G H, H G, ...);
//! each figure is the fastest batch, which drops the batches other processes
//! interrupted. The ratio is hand-written time / generated time, so it reads
//! like the benchmark's throughput ratio (1.0 = parity, above = generated faster).

use std::time::{Duration, Instant};

use blueprint::axum::Router;
use blueprint_bench_server::driver::{Endpoint, endpoints, in_process_request};
use blueprint_bench_server::{generated, handwritten};
use tower::ServiceExt;

const BATCH: u32 = 2_000;
const ROUNDS: usize = 15;

/// Time for one batch of `endpoint` requests through `app`.
async fn batch(app: &Router, endpoint: &Endpoint) -> Duration {
    let start = Instant::now();
    for _ in 0..BATCH {
        let response = match app.clone().oneshot(in_process_request(endpoint)).await {
            Ok(r) => r,
            Err(e) => match e {},
        };
        let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
    }
    start.elapsed() / BATCH
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let apps = [generated::app(), handwritten::app()];
    println!(
        "{:<32} {:>14} {:>14} {:>7}",
        "time per request (best batch)", "generated", "hand-written", "ratio"
    );
    for endpoint in endpoints() {
        // Warm up: first calls initialize state lazily.
        for app in &apps {
            batch(app, &endpoint).await;
        }
        let mut best = [Duration::MAX; 2];
        for round in 0..ROUNDS {
            for i in [round % 2, 1 - round % 2] {
                best[i] = best[i].min(batch(&apps[i], &endpoint).await);
            }
        }
        println!(
            "{:<32} {:>11.2} µs {:>11.2} µs {:>7.3}",
            endpoint.label,
            best[0].as_secs_f64() * 1e6,
            best[1].as_secs_f64() * 1e6,
            best[1].as_secs_f64() / best[0].as_secs_f64()
        );
    }
}

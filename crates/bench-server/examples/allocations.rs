//! Heap allocations per request, generated vs hand-written: deterministic where
//! throughput on a shared machine is not, and the usual cause of a gap.
//!
//! `cargo run --release -p blueprint-bench-server --example allocations`
//!
//! Each request goes through the router in process (no socket, no hyper), so
//! the figures count the router, extractors, handler and response only.

use blueprint::axum::Router;
use blueprint_bench_server::driver::{Endpoint, endpoints, in_process_request};
use blueprint_bench_server::{generated, handwritten};
use tower::ServiceExt;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

const REQUESTS: u64 = 1_000;

/// Allocations (blocks, bytes) per request of `endpoint` through `app`.
async fn per_request(app: &Router, endpoint: &Endpoint) -> (f64, f64) {
    // Warm up: first calls allocate lazily initialized state.
    for _ in 0..10 {
        let _ = app.clone().oneshot(in_process_request(endpoint)).await;
    }
    let mut blocks = 0;
    let mut bytes = 0;
    for _ in 0..REQUESTS {
        let req = in_process_request(endpoint);
        let app = app.clone();
        let before = dhat::HeapStats::get();
        let response = app.oneshot(req).await;
        let body = match response {
            Ok(r) => axum::body::to_bytes(r.into_body(), usize::MAX).await,
            Err(e) => match e {},
        };
        let after = dhat::HeapStats::get();
        drop(body);
        blocks += after.total_blocks - before.total_blocks;
        bytes += after.total_bytes - before.total_bytes;
    }
    (
        blocks as f64 / REQUESTS as f64,
        bytes as f64 / REQUESTS as f64,
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let apps = [generated::app(), handwritten::app()];
    println!(
        "{:<32} {:>22} {:>22}",
        "allocations per request", "generated (n / bytes)", "hand-written (n / bytes)"
    );
    for endpoint in endpoints() {
        let g = per_request(&apps[0], &endpoint).await;
        let h = per_request(&apps[1], &endpoint).await;
        println!(
            "{:<32} {:>12.1} / {:>7.0} {:>12.1} / {:>7.0}",
            endpoint.label, g.0, g.1, h.0, h.1
        );
    }
}

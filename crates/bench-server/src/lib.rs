//! Throughput of a Blueprint-generated server against the same service written
//! by hand with axum: the `users` service (services/users/spec/users.json).
//!
//! - the `bench-server` binary serves one of them:
//!   `bench-server --impl generated|handwritten [--port PORT]` binds
//!   `127.0.0.1:PORT` (0, the default, picks a free port), prints
//!   `listening on 127.0.0.1:PORT`, and stops on Ctrl-C or SIGTERM;
//! - `benches/vs_axum.rs` starts both as separate processes, loads them with
//!   `wrk` (a third process) over loopback in interleaved rounds, and prints
//!   requests/s, p50/p99 latency and the ratio generated/hand-written per
//!   endpoint (aim: at least 0.95);
//! - `examples/allocations.rs` counts heap allocations per request of each,
//!   in process: deterministic where throughput on a shared machine is not;
//! - `tests/same_answers.rs` checks both answer every benchmarked request (and
//!   the usual failures) with the same status and JSON, so the comparison stays
//!   like for like.
//!
//! ```text
//! apt-get install wrk          # Debian/Ubuntu; the benchmark exits 1 without it
//! cargo bench -p blueprint-bench-server
//! cargo bench -p blueprint-bench-server -- --rounds 4 --duration 2
//! cargo run --release -p blueprint-bench-server --example allocations
//! ```
//!
//! Both implementations serve the same in-memory data ([`data::seed`], 1000
//! users) and do the same work per request; [`handwritten`] lists it. `POST` and
//! `PUT` build and return the user without storing it, so memory and the work of
//! a request stay the same however long the load runs.
//!
//! The generated side is the users service's own committed API package
//! (`users-api`, generated from `services/users/spec/users.json`), so what is
//! measured is exactly what the service ships.

pub mod data;
pub mod driver;
pub mod generated;
pub mod handwritten;
